package caldav

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

// calText wraps content lines in a VCALENDAR.
func calText(lines ...string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//tests//EN\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VCALENDAR\r\n"
}

// utc parses a UTC DATE-TIME for a test; "" is the zero time.
func utc(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse("20060102T150405Z", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseObject(t *testing.T) {
	const ct = "text/calendar; charset=utf-8"
	tests := []struct {
		file        string
		contentType string
		allowed     []string
		wantCond    string // "" for success
		wantComp    string
		wantUID     string
	}{
		{file: "ok-event.ics", contentType: ct, wantComp: "VEVENT", wantUID: "ev-1"},
		{file: "ok-event.ics", contentType: "", wantComp: "VEVENT", wantUID: "ev-1"},
		{file: "ok-event.ics", contentType: "TEXT/Calendar; charset=\"UTF-8\"", wantComp: "VEVENT", wantUID: "ev-1"},
		{file: "ok-event.ics", contentType: "text/plain", wantCond: CondSupportedCalendarData},
		{file: "ok-event.ics", contentType: "text/calendar; charset=iso-8859-1", wantCond: CondSupportedCalendarData},
		{file: "ok-event.ics", contentType: "text/calendar; version=1.0", wantCond: CondSupportedCalendarData},
		{file: "ok-event.ics", contentType: "text/vcard", wantCond: CondSupportedCalendarData},
		{file: "ok-event.ics", contentType: ct, allowed: []string{"VTODO"}, wantCond: CondSupportedCalendarComponent},
		{file: "ok-no-prodid.ics", contentType: ct, wantComp: "VEVENT", wantUID: "ev-1"},
		{file: "ok-overrides-only.ics", contentType: ct, wantComp: "VEVENT", wantUID: "r"},
		{file: "ok-todo.ics", contentType: ct, wantComp: "VTODO", wantUID: "t"},
		{file: "ok-todo.ics", contentType: ct, allowed: []string{"VEVENT"}, wantCond: CondSupportedCalendarComponent},
		{file: "ok-todo-due-rrule.ics", contentType: ct, wantComp: "VTODO", wantUID: "t-due"},
		{file: "bad-todo-rrule-no-anchor.ics", contentType: ct, wantCond: CondValidCalendarData},
		{file: "bad-todo-due-rrule.ics", contentType: ct, wantCond: CondValidCalendarData},
		{file: "ok-journal.ics", contentType: ct, wantComp: "VJOURNAL", wantUID: "j"},
		{file: "ok-freebusy.ics", contentType: ct, allowed: []string{"VEVENT", "VTODO", "VJOURNAL"}, wantCond: CondSupportedCalendarComponent},
		// RFC 4791 §5.2.3: no set (nil) accepts every type.
		{file: "ok-freebusy.ics", contentType: ct, wantComp: "VFREEBUSY", wantUID: "fb"},
		{file: "ok-freebusy.ics", contentType: ct, allowed: []string{"VFREEBUSY"}, wantComp: "VFREEBUSY", wantUID: "fb"},
		{file: "ok-iana-without-vtimezone.ics", contentType: ct, wantComp: "VEVENT", wantUID: "tz"},
		{file: "ok-windows-tzid.ics", contentType: ct, wantComp: "VEVENT", wantUID: "tz"},
		{file: "ok-custom-vtimezone.ics", contentType: ct, wantComp: "VEVENT", wantUID: "custom"},
		{file: "ok-x-component.ics", contentType: ct, wantComp: "VEVENT", wantUID: "ev-1"},
		{file: "bad-garbage.ics", contentType: ct, wantCond: CondValidCalendarData},
		{file: "bad-not-utf8.ics", contentType: ct, wantCond: CondValidCalendarData},
		{file: "bad-missing-end.ics", contentType: ct, wantCond: CondValidCalendarData},
		{file: "bad-no-version.ics", contentType: ct, wantCond: CondValidCalendarData},
		{file: "bad-version-1.ics", contentType: ct, wantCond: CondValidCalendarData},
		{file: "bad-method.ics", contentType: ct, wantCond: CondValidCalendarObjectResource},
		{file: "bad-mixed-types.ics", contentType: ct, wantCond: CondValidCalendarObjectResource},
		{file: "bad-two-uids.ics", contentType: ct, wantCond: CondValidCalendarObjectResource},
		{file: "bad-two-masters.ics", contentType: ct, wantCond: CondValidCalendarObjectResource},
		{file: "bad-dup-recurrence-id.ics", contentType: ct, wantCond: CondValidCalendarObjectResource},
		{file: "bad-two-vcalendars.ics", contentType: ct, wantCond: CondValidCalendarObjectResource},
		{file: "bad-no-uid.ics", contentType: ct, wantCond: CondValidCalendarObjectResource},
		{file: "bad-timezone-only.ics", contentType: ct, wantCond: CondValidCalendarObjectResource},
		{file: "bad-vavailability.ics", contentType: ct, allowed: []string{"VEVENT", "VTODO", "VJOURNAL"}, wantCond: CondSupportedCalendarComponent},
		{file: "bad-vavailability.ics", contentType: ct, allowed: []string{"VAVAILABILITY"}, wantComp: "VAVAILABILITY", wantUID: "av"},
		{file: "bad-unknown-tzid.ics", contentType: ct, wantCond: CondValidCalendarData},
		{file: "bad-unknown-tzid-exdate.ics", contentType: ct, wantCond: CondValidCalendarData},
		{file: "bad-rrule.ics", contentType: ct, wantCond: CondValidCalendarData},
		{file: "bad-rrule-count-until.ics", contentType: ct, wantCond: CondValidCalendarData},
		{file: "bad-dtend-and-duration.ics", contentType: ct, wantCond: CondValidCalendarData},
		{file: "bad-todo-due-and-duration.ics", contentType: ct, wantCond: CondValidCalendarData},
		{file: "bad-no-dtstart.ics", contentType: ct, wantCond: CondValidCalendarData},
		{file: "bad-dtstart-value.ics", contentType: ct, wantCond: CondValidCalendarData},
	}
	for _, tc := range tests {
		t.Run(tc.file+" "+tc.contentType+" "+strings.Join(tc.allowed, ","), func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "validate", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			po, err := ParseObject(body, tc.contentType, tc.allowed)
			if tc.wantCond != "" {
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Condition != tc.wantCond {
					t.Fatalf("err = %v, want condition %s", err, tc.wantCond)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if po.Component != tc.wantComp || po.UID != tc.wantUID || po.Cal == nil {
				t.Fatalf("got %s %q, want %s %q", po.Component, po.UID, tc.wantComp, tc.wantUID)
			}
		})
	}
}

func TestParseObjectDeepNesting(t *testing.T) {
	body := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + strings.Repeat("BEGIN:X\r\n", 100000) + strings.Repeat("END:X\r\n", 100000) + "END:VCALENDAR\r\n"
	_, err := ParseObject([]byte(body), "", nil)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Condition != CondValidCalendarData {
		t.Fatalf("err = %v", err)
	}
}

// TestParseObjectKeepsCalendar: the parsed calendar is usable for
// expansion right away.
func TestParseObjectKeepsCalendar(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "internal", "recur", "testdata", "recur", "overrides.ics"))
	if err != nil {
		t.Fatal(err)
	}
	po, err := ParseObject(body, "text/calendar", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(po.Cal.Children) != 3 || po.Cal.Children[0].Name != ical.CompEvent {
		t.Fatalf("calendar: %+v", po.Cal)
	}
}
