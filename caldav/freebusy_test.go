package caldav

import (
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/internal/recur"
)

func TestFreeBusy(t *testing.T) {
	objs := []string{
		calText("BEGIN:VEVENT", "UID:busy", "DTSTART:20240110T090000Z", "DTEND:20240110T100000Z", "END:VEVENT"),
		// Overlaps and extends the first one: merged.
		calText("BEGIN:VEVENT", "UID:busy2", "DTSTART:20240110T093000Z", "DTEND:20240110T103000Z", "END:VEVENT"),
		calText("BEGIN:VEVENT", "UID:transparent", "DTSTART:20240110T120000Z", "DTEND:20240110T130000Z", "TRANSP:TRANSPARENT", "END:VEVENT"),
		calText("BEGIN:VEVENT", "UID:cancelled", "DTSTART:20240110T140000Z", "DTEND:20240110T150000Z", "STATUS:CANCELLED", "END:VEVENT"),
		calText("BEGIN:VEVENT", "UID:tentative", "DTSTART:20240110T160000Z", "DTEND:20240110T170000Z", "STATUS:TENTATIVE", "END:VEVENT"),
		// A tentative period inside a busy one disappears into it.
		calText("BEGIN:VEVENT", "UID:tentative2", "DTSTART:20240110T094500Z", "DTEND:20240110T095000Z", "STATUS:TENTATIVE", "END:VEVENT"),
		// Recurring, with a cancelled override and an EXDATE: the 11th
		// is cancelled, the 12th excluded, the 13th is busy but clipped.
		calText("BEGIN:VEVENT", "UID:daily", "DTSTART;TZID=Europe/Berlin:20240111T080000", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=5", "EXDATE;TZID=Europe/Berlin:20240112T080000", "END:VEVENT",
			"BEGIN:VEVENT", "UID:daily", "RECURRENCE-ID;TZID=Europe/Berlin:20240111T080000", "DTSTART;TZID=Europe/Berlin:20240111T080000", "DURATION:PT1H", "STATUS:CANCELLED", "END:VEVENT"),
		// Zero-length: no busy time.
		calText("BEGIN:VEVENT", "UID:zero", "DTSTART:20240110T200000Z", "END:VEVENT"),
		calText("BEGIN:VFREEBUSY", "UID:fb", "FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20240110T180000Z/PT1H", "FREEBUSY;FBTYPE=FREE:20240110T190000Z/PT1H", "END:VFREEBUSY"),
		// DTSTART/DTEND bound a published window; its FREEBUSY periods
		// are the busy time.
		calText("BEGIN:VFREEBUSY", "UID:fb2", "DTSTART:20240101T000000Z", "DTEND:20240201T000000Z",
			"FREEBUSY:20240111T120000Z/PT30M,20240111T130000Z/PT30M", "END:VFREEBUSY"),
	}
	var cals []*ical.Calendar
	for _, o := range objs {
		cal, err := decodeCalendar([]byte(o))
		if err != nil {
			t.Fatal(err)
		}
		cals = append(cals, cal)
	}
	b, err := FreeBusy(cals, utc("20240110T000000Z"), utc("20240113T073000Z"), nil, recur.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\r\n") {
		if !strings.HasPrefix(line, "DTSTAMP:") {
			got = append(got, line)
		}
	}
	want := []string{
		"BEGIN:VCALENDAR",
		"VERSION:2.0",
		"PRODID:-//Davenport//CalDAV Server//EN",
		"BEGIN:VFREEBUSY",
		"DTSTART:20240110T000000Z",
		"DTEND:20240113T073000Z",
		"FREEBUSY:20240110T090000Z/20240110T103000Z",
		"FREEBUSY;FBTYPE=BUSY-TENTATIVE:20240110T160000Z/20240110T170000Z",
		"FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20240110T180000Z/20240110T190000Z",
		"FREEBUSY:20240111T120000Z/20240111T123000Z",
		"FREEBUSY:20240111T130000Z/20240111T133000Z",
		"FREEBUSY:20240113T070000Z/20240113T073000Z",
		"END:VFREEBUSY",
		"END:VCALENDAR",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The answer is itself a valid iCalendar object.
	if _, err := ical.NewDecoder(strings.NewReader(string(b))).Decode(); err != nil {
		t.Fatal(err)
	}
}

func TestMergeBusyPrecedence(t *testing.T) {
	ps := []busyPeriod{
		{utc("20240101T100000Z"), utc("20240101T140000Z"), fbBusyTentative},
		{utc("20240101T110000Z"), utc("20240101T120000Z"), fbBusy},
		{utc("20240101T120000Z"), utc("20240101T123000Z"), fbBusy},
		{utc("20240101T150000Z"), utc("20240101T160000Z"), fbBusyTentative},
	}
	var got []string
	for _, p := range mergeBusy(ps) {
		got = append(got, p.fbtype+" "+p.start.Format("1504")+"-"+p.end.Format("1504"))
	}
	want := []string{"BUSY-TENTATIVE 1000-1100", "BUSY 1100-1230", "BUSY-TENTATIVE 1230-1400", "BUSY-TENTATIVE 1500-1600"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
