package caldav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/internal/recur"
)

func tqCalendarData(t testing.TB, x string) *CalendarDataRequest {
	t.Helper()
	var r CalendarDataRequest
	if err := xml.Unmarshal([]byte(`<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"`+x+`</C:calendar-data>`), &r); err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("Validate(%s): %v", x, err)
	}
	return &r
}

func tqRender(t testing.TB, r *CalendarDataRequest, body []byte, loc *time.Location) string {
	t.Helper()
	out, err := r.Render(body, loc, recur.DefaultLimits)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return strings.ReplaceAll(string(out), "\r\n", "\n")
}

// tqLF turns the test's CRLF body into LF text for comparisons.
func tqLF(b []byte) string { return strings.ReplaceAll(string(b), "\r\n", "\n") }

// TestRenderVerbatim checks that calendar-data without restrictions is the
// stored body itself, and that untouched parts keep their bytes.
func TestRenderVerbatim(t *testing.T) {
	body := []byte("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:1\nSUMMARY:a long summary that the client folded \n somewhere in the middle\nEND:VEVENT\nEND:VCALENDAR\n")
	for _, x := range []string{`/>`, `>`, ` content-type="text/calendar" version="2.0">`} {
		var r CalendarDataRequest
		if err := xml.Unmarshal([]byte(`<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"`+strings.TrimSuffix(x, "/>")+map[bool]string{true: "/>", false: "</C:calendar-data>"}[strings.HasSuffix(x, "/>")]), &r); err != nil {
			t.Fatal(err)
		}
		out, err := r.Render(body, nil, recur.DefaultLimits)
		if err != nil || &out[0] != &body[0] || len(out) != len(body) {
			t.Errorf("%s: Render did not return the stored body (err %v)", x, err)
		}
	}
	var nilReq *CalendarDataRequest
	if out, err := nilReq.Render(body, nil, recur.DefaultLimits); err != nil || !bytes.Equal(out, body) {
		t.Errorf("nil request: %q, %v", out, err)
	}
	// A restriction keeps the fold and makes line ends CRLF.
	r := tqCalendarData(t, `><C:comp name="VCALENDAR"><C:allprop/><C:comp name="VEVENT"><C:prop name="SUMMARY"/></C:comp></C:comp>`)
	out, err := r.Render(body, nil, recur.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	want := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nSUMMARY:a long summary that the client folded \r\n somewhere in the middle\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if string(out) != want {
		t.Errorf("Render =\n%q\nwant\n%q", out, want)
	}
}

var tqPartialBody = tqWrap(`BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:p@example.com
DTSTAMP:20240101T000000Z
DTSTART;TZID=Europe/Berlin:20240110T100000
DTEND;TZID=Europe/Berlin:20240110T110000
SUMMARY:Planning
ATTENDEE;CN=Ann;PARTSTAT=ACCEPTED:mailto:ann@example.com
DESCRIPTION:secret notes
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT5M
DESCRIPTION:soon
END:VALARM
END:VEVENT
`)

// TestRenderPartial covers comp, allcomp, allprop, prop and novalue (RFC
// 4791 §9.6.1–§9.6.4).
func TestRenderPartial(t *testing.T) {
	cases := []struct {
		name, req, want string
	}{
		{"props only", `<C:comp name="VCALENDAR"><C:prop name="VERSION"/><C:comp name="VEVENT"><C:prop name="UID"/><C:prop name="summary"/></C:comp></C:comp>`,
			"BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:p@example.com\nSUMMARY:Planning\nEND:VEVENT\nEND:VCALENDAR\n"},
		{"novalue", `<C:comp name="VCALENDAR"><C:prop name="VERSION"/><C:comp name="VEVENT"><C:prop name="ATTENDEE" novalue="yes"/><C:prop name="DESCRIPTION" novalue="no"/></C:comp></C:comp>`,
			"BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nATTENDEE;CN=Ann;PARTSTAT=ACCEPTED:\nDESCRIPTION:secret notes\nEND:VEVENT\nEND:VCALENDAR\n"},
		{"allcomp with props", `<C:comp name="VCALENDAR"><C:prop name="VERSION"/><C:allcomp/></C:comp>`,
			"BEGIN:VCALENDAR\nVERSION:2.0\n" + strings.TrimPrefix(tqLF(tqPartialBody), "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Davenport//test//EN\n")},
		{"allprop without comps", `<C:comp name="VCALENDAR"><C:allprop/></C:comp>`,
			"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Davenport//test//EN\nEND:VCALENDAR\n"},
		{"empty comp is whole", `<C:comp name="VCALENDAR"><C:prop name="VERSION"/><C:comp name="VTIMEZONE"/></C:comp>`,
			"BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VTIMEZONE\nTZID:Europe/Berlin\nBEGIN:STANDARD\nDTSTART:19701025T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nEND:STANDARD\nEND:VTIMEZONE\nEND:VCALENDAR\n"},
		{"nested alarm", `<C:comp name="VCALENDAR"><C:comp name="VEVENT"><C:prop name="UID"/><C:comp name="VALARM"><C:prop name="TRIGGER"/></C:comp></C:comp></C:comp>`,
			"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Davenport//test//EN\nBEGIN:VEVENT\nUID:p@example.com\nBEGIN:VALARM\nTRIGGER:-PT5M\nEND:VALARM\nEND:VEVENT\nEND:VCALENDAR\n"},
		{"absent component", `<C:comp name="VCALENDAR"><C:allprop/><C:comp name="VTODO"/></C:comp>`,
			"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Davenport//test//EN\nEND:VCALENDAR\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tqRender(t, tqCalendarData(t, ">"+tc.req), tqPartialBody, nil)
			if got != tc.want {
				t.Errorf("Render =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestRenderExpand covers expand (RFC 4791 §9.6.5) beyond the RFC example:
// all-day and floating sets, EXDATE, overrides, THISANDFUTURE, to-dos.
func TestRenderExpand(t *testing.T) {
	expand := `><C:expand start="20240101T000000Z" end="20240201T000000Z"/>`
	cases := []struct {
		name string
		body []byte
		req  string
		loc  *time.Location
		want string
	}{
		{"weekly with override and exclusion", tqWeekly, `><C:expand start="20240108T000000Z" end="20240123T000000Z"/>`, time.UTC,
			"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Davenport//test//EN\n" +
				"BEGIN:VEVENT\nUID:weekly@example.com\nDTSTAMP:20240101T000000Z\nDTSTART:20240108T090000Z\nRECURRENCE-ID:20240108T090000Z\nDTEND:20240108T100000Z\nSUMMARY:Weekly\nEND:VEVENT\n" +
				"BEGIN:VEVENT\nUID:weekly@example.com\nDTSTAMP:20240101T000000Z\nRECURRENCE-ID:20240115T090000Z\nDTSTART:20240117T130000Z\nDTEND:20240117T140000Z\nSUMMARY:Moved\nEND:VEVENT\n" +
				"END:VCALENDAR\n"},
		{"all-day", tqWrap("BEGIN:VEVENT\nUID:d@example.com\nDTSTART;VALUE=DATE:20240110\nDTEND;VALUE=DATE:20240111\nRRULE:FREQ=YEARLY\nSUMMARY:Birthday\nEND:VEVENT\n"), expand, time.UTC,
			"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Davenport//test//EN\nBEGIN:VEVENT\nUID:d@example.com\nDTSTART;VALUE=DATE:20240110\nRECURRENCE-ID;VALUE=DATE:20240110\nDTEND;VALUE=DATE:20240111\nSUMMARY:Birthday\nEND:VEVENT\nEND:VCALENDAR\n"},
		{"floating stays floating", tqWrap("BEGIN:VEVENT\nUID:f@example.com\nDTSTART:20240102T090000\nDURATION:PT30M\nRRULE:FREQ=WEEKLY;COUNT=2\nEND:VEVENT\n"), expand, time.UTC,
			"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Davenport//test//EN\n" +
				"BEGIN:VEVENT\nUID:f@example.com\nDTSTART:20240102T090000\nRECURRENCE-ID:20240102T090000\nDURATION:PT30M\nEND:VEVENT\n" +
				"BEGIN:VEVENT\nUID:f@example.com\nDTSTART:20240109T090000\nRECURRENCE-ID:20240109T090000\nDURATION:PT30M\nEND:VEVENT\nEND:VCALENDAR\n"},
		{"single event keeps no RECURRENCE-ID", tqWrap("BEGIN:VEVENT\nUID:s@example.com\nDTSTART;TZID=America/New_York:20240105T090000\nDTEND;TZID=America/New_York:20240105T100000\nEND:VEVENT\n"), expand, time.UTC,
			"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Davenport//test//EN\nBEGIN:VEVENT\nUID:s@example.com\nDTSTART:20240105T140000Z\nDTEND:20240105T150000Z\nEND:VEVENT\nEND:VCALENDAR\n"},
		{"outside the range", tqWrap("BEGIN:VEVENT\nUID:o@example.com\nDTSTART:20230105T090000Z\nEND:VEVENT\n"), expand, time.UTC,
			"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Davenport//test//EN\nEND:VCALENDAR\n"},
		{"this and future", tqWrap("BEGIN:VEVENT\nUID:t@example.com\nDTSTART:20240101T100000Z\nRRULE:FREQ=DAILY;COUNT=4\nSUMMARY:Old\nEND:VEVENT\n" +
			"BEGIN:VEVENT\nUID:t@example.com\nRECURRENCE-ID;RANGE=THISANDFUTURE:20240103T100000Z\nDTSTART:20240103T120000Z\nSUMMARY:New\nEND:VEVENT\n"),
			`><C:expand start="20240102T000000Z" end="20240105T000000Z"/>`, time.UTC,
			"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Davenport//test//EN\n" +
				"BEGIN:VEVENT\nUID:t@example.com\nDTSTART:20240102T100000Z\nRECURRENCE-ID:20240102T100000Z\nSUMMARY:Old\nEND:VEVENT\n" +
				"BEGIN:VEVENT\nUID:t@example.com\nRECURRENCE-ID:20240103T100000Z\nDTSTART:20240103T120000Z\nSUMMARY:New\nEND:VEVENT\n" +
				"BEGIN:VEVENT\nUID:t@example.com\nRECURRENCE-ID:20240104T100000Z\nDTSTART:20240104T120000Z\nSUMMARY:New\nEND:VEVENT\nEND:VCALENDAR\n"},
		{"to-do with due", tqWrap("BEGIN:VTODO\nUID:d@example.com\nDTSTART;TZID=Europe/Paris:20240108T090000\nDUE;TZID=Europe/Paris:20240108T170000\nRRULE:FREQ=WEEKLY;COUNT=2\nBEGIN:VALARM\nACTION:DISPLAY\nTRIGGER;RELATED=END:-PT1H\nEND:VALARM\nEND:VTODO\n"), expand, time.UTC,
			"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Davenport//test//EN\n" +
				"BEGIN:VTODO\nUID:d@example.com\nDTSTART:20240108T080000Z\nRECURRENCE-ID:20240108T080000Z\nDUE:20240108T160000Z\nBEGIN:VALARM\nACTION:DISPLAY\nTRIGGER;RELATED=END:-PT1H\nEND:VALARM\nEND:VTODO\n" +
				"BEGIN:VTODO\nUID:d@example.com\nDTSTART:20240115T080000Z\nRECURRENCE-ID:20240115T080000Z\nDUE:20240115T160000Z\nBEGIN:VALARM\nACTION:DISPLAY\nTRIGGER;RELATED=END:-PT1H\nEND:VALARM\nEND:VTODO\nEND:VCALENDAR\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tqRender(t, tqCalendarData(t, tc.req), tc.body, tc.loc)
			if got != tc.want {
				t.Errorf("Render =\n%s\nwant\n%s", got, tc.want)
			}
			for _, bad := range []string{"RRULE", "RDATE", "EXDATE", "EXRULE", "VTIMEZONE", "TZID="} {
				if strings.Contains(got, bad) {
					t.Errorf("expanded output contains %s", bad)
				}
			}
		})
	}
}

// TestRenderLimitRecurrenceSet covers limit-recurrence-set (RFC 4791
// §9.6.6): the master stays, and an override stays when its current or its
// original time overlaps the range.
func TestRenderLimitRecurrenceSet(t *testing.T) {
	body := tqWrap("BEGIN:VEVENT\nUID:l@example.com\nDTSTART:20240101T100000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY\nSUMMARY:Master\nEND:VEVENT\n" +
		"BEGIN:VEVENT\nUID:l@example.com\nRECURRENCE-ID:20240105T100000Z\nDTSTART:20240120T100000Z\nDURATION:PT1H\nSUMMARY:Moved out\nEND:VEVENT\n" +
		"BEGIN:VEVENT\nUID:l@example.com\nRECURRENCE-ID:20240125T100000Z\nDTSTART:20240106T100000Z\nDURATION:PT1H\nSUMMARY:Moved in\nEND:VEVENT\n" +
		"BEGIN:VEVENT\nUID:l@example.com\nRECURRENCE-ID:20240126T100000Z\nDTSTART:20240126T110000Z\nDURATION:PT1H\nSUMMARY:Elsewhere\nEND:VEVENT\n" +
		"BEGIN:VEVENT\nUID:l@example.com\nRECURRENCE-ID;RANGE=THISANDFUTURE:20240115T100000Z\nDTSTART:20240115T120000Z\nDURATION:PT1H\nSUMMARY:From the 15th\nEND:VEVENT\n")
	r := tqCalendarData(t, `><C:limit-recurrence-set start="20240104T000000Z" end="20240108T000000Z"/>`)
	got := tqRender(t, r, body, time.UTC)
	for _, s := range []string{"Master", "Moved out", "Moved in"} {
		if !strings.Contains(got, "SUMMARY:"+s+"\n") {
			t.Errorf("%q missing:\n%s", s, got)
		}
	}
	// The THISANDFUTURE override changes only instances from the 15th on.
	for _, s := range []string{"Elsewhere", "From the 15th"} {
		if strings.Contains(got, s) {
			t.Errorf("override %q kept:\n%s", s, got)
		}
	}
	r = tqCalendarData(t, `><C:limit-recurrence-set start="20240201T000000Z" end="20240202T000000Z"/>`)
	got = tqRender(t, r, body, time.UTC)
	if strings.Count(got, "BEGIN:VEVENT") != 2 || !strings.Contains(got, "Master") || !strings.Contains(got, "From the 15th") {
		t.Errorf("a later range keeps the master and the THISANDFUTURE override only:\n%s", got)
	}
}

// TestRenderLimitFreeBusySet covers limit-freebusy-set (RFC 4791 §9.6.7),
// with a FREEBUSY holding several periods.
func TestRenderLimitFreeBusySet(t *testing.T) {
	body := tqWrap("BEGIN:VFREEBUSY\nUID:f@example.com\nDTSTART:20240101T000000Z\nDTEND:20240110T000000Z\n" +
		"FREEBUSY:20240102T100000Z/20240102T110000Z,20240103T100000Z/PT1H,20240105T100000Z/20240105T110000Z\n" +
		"FREEBUSY;FBTYPE=BUSY-TENTATIVE:20240108T100000Z/20240108T110000Z\nEND:VFREEBUSY\n")
	r := tqCalendarData(t, `><C:limit-freebusy-set start="20240103T000000Z" end="20240106T000000Z"/>`)
	got := tqRender(t, r, body, nil)
	want := "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Davenport//test//EN\nBEGIN:VFREEBUSY\nUID:f@example.com\nDTSTART:20240101T000000Z\nDTEND:20240110T000000Z\n" +
		"FREEBUSY:20240103T100000Z/PT1H,20240105T100000Z/20240105T110000Z\nEND:VFREEBUSY\nEND:VCALENDAR\n"
	if got != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
}

// TestCalendarDataValidate checks the request checks.
func TestCalendarDataValidate(t *testing.T) {
	cases := []struct {
		name, x string
		cond    string
		ok      bool
	}{
		{"plain", `>`, "", true},
		{"charset", ` content-type="text/calendar; charset=utf-8">`, "", true},
		{"json", ` content-type="application/calendar+json">`, CondSupportedCalendarData, false},
		{"version 1.0", ` version="1.0">`, CondSupportedCalendarData, false},
		{"expand and limit", `><C:expand start="20240101T000000Z" end="20240102T000000Z"/><C:limit-recurrence-set start="20240101T000000Z" end="20240102T000000Z"/>`, "", false},
		{"expand without end", `><C:expand start="20240101T000000Z"/>`, "", false},
		{"expand backwards", `><C:expand start="20240102T000000Z" end="20240101T000000Z"/>`, "", false},
		{"bad time", `><C:limit-freebusy-set start="yesterday" end="20240101T000000Z"/>`, "", false},
		{"comp not VCALENDAR", `><C:comp name="VEVENT"/>`, "", false},
		{"allprop and prop", `><C:comp name="VCALENDAR"><C:allprop/><C:prop name="VERSION"/></C:comp>`, "", false},
		{"allcomp and comp", `><C:comp name="VCALENDAR"><C:allcomp/><C:comp name="VEVENT"/></C:comp>`, "", false},
		{"bad novalue", `><C:comp name="VCALENDAR"><C:prop name="VERSION" novalue="maybe"/></C:comp>`, "", false},
		{"two comps", `><C:comp name="VCALENDAR"/><C:comp name="VCALENDAR"/>`, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r CalendarDataRequest
			if err := xml.Unmarshal([]byte(`<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"`+tc.x+`</C:calendar-data>`), &r); err != nil {
				t.Fatal(err)
			}
			err := r.Validate()
			if tc.ok {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Condition != tc.cond {
				t.Fatalf("Validate = %v, want QueryError with condition %q", err, tc.cond)
			}
		})
	}
}

// TestParseRaw checks the content-line reader on edge cases.
func TestParseRaw(t *testing.T) {
	bad := []string{
		"",
		"BEGIN:VCALENDAR\r\n",
		" continuation first\r\n",
		"BEGIN:VCALENDAR\r\nEND:VEVENT\r\n",
		"VERSION:2.0\r\n",
		"BEGIN:VCALENDAR\r\n:novalue\r\nEND:VCALENDAR\r\n",
		strings.Repeat("BEGIN:X\r\n", 20) + strings.Repeat("END:X\r\n", 20),
	}
	for _, b := range bad {
		if _, err := parseRaw([]byte(b)); err == nil {
			t.Errorf("parseRaw(%q) accepted", b)
		}
	}
	root, err := parseRaw([]byte("\xef\xbb\xbfbegin:vcalendar\nversion:2.0\n\nEND:VCALENDAR\ntrailing junk\n"))
	if err != nil || root.name != "VCALENDAR" || len(root.items) != 1 || root.items[0].prop.name != "VERSION" {
		t.Fatalf("parseRaw = %+v, %v", root, err)
	}
	cl, err := parseContentLine(`ATTENDEE;CN="Doe, Jane";ROLE=CHAIR;X-A=1,"2;3":mailto:j@example.com`)
	if err != nil {
		t.Fatal(err)
	}
	if cl.Param("CN") != "Doe, Jane" || len(cl.Params) != 3 || cl.Params[2].Values[1] != "2;3" || cl.Value != "mailto:j@example.com" {
		t.Errorf("parseContentLine = %+v", cl)
	}
	if h := cl.Head("ROLE"); h != `ATTENDEE;CN="Doe, Jane";X-A=1,"2;3"` {
		t.Errorf("head = %s", h)
	}
	for _, l := range []string{`X;A="open:v`, `X;A:v`, `X;A=b"c:v`, `X;A=v`} {
		if _, err := parseContentLine(l); err == nil {
			t.Errorf("parseContentLine(%q) accepted", l)
		}
	}
}
