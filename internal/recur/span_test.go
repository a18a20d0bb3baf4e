package recur

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func calText(lines ...string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//tests//EN\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VCALENDAR\r\n"
}

func fmtSpan(p *time.Time) string {
	if p == nil {
		return "open"
	}
	return p.UTC().Format("20060102T150405Z")
}

func TestSpan(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		first, last string // "open" for nil
	}{
		{
			name:  "single timed event, padded by a second",
			body:  calText("BEGIN:VEVENT", "UID:a", "DTSTART:20240110T100000Z", "DTEND:20240110T110000Z", "END:VEVENT"),
			first: "20240110T095959Z", last: "20240110T110001Z",
		},
		{
			name:  "zero-length event",
			body:  calText("BEGIN:VEVENT", "UID:a", "DTSTART;TZID=Europe/Berlin:20240110T100000", "END:VEVENT"),
			first: "20240110T085959Z", last: "20240110T090001Z",
		},
		{
			name:  "RRULE without COUNT or UNTIL is open-ended",
			body:  calText("BEGIN:VEVENT", "UID:a", "DTSTART:20240110T100000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY", "END:VEVENT"),
			first: "20240110T095959Z", last: "open",
		},
		{
			name:  "COUNT bounds the span at the last instance",
			body:  calText("BEGIN:VEVENT", "UID:a", "DTSTART:20240110T100000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;COUNT=3", "END:VEVENT"),
			first: "20240110T095959Z", last: "20240124T110001Z",
		},
		{
			name:  "UNTIL bounds the span; an EXDATE'd last instance is left out",
			body:  calText("BEGIN:VEVENT", "UID:a", "DTSTART:20240110T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;UNTIL=20240112T100000Z", "EXDATE:20240112T100000Z", "END:VEVENT"),
			first: "20240110T095959Z", last: "20240111T110001Z",
		},
		{
			name:  "VTODO recurring from its DUE (no DTSTART): the span covers every due time",
			body:  calText("BEGIN:VTODO", "UID:t", "DUE:20240110T170000Z", "RRULE:FREQ=WEEKLY;COUNT=3", "END:VTODO"),
			first: "20240110T165959Z", last: "20240124T170001Z",
		},
		{
			name:  "VTODO recurring from its DUE without end",
			body:  calText("BEGIN:VTODO", "UID:t", "DUE:20240110T170000Z", "RRULE:FREQ=DAILY", "END:VTODO"),
			first: "20240110T165959Z", last: "open",
		},
		{
			name:  "RDATE beyond the rule",
			body:  calText("BEGIN:VEVENT", "UID:a", "DTSTART:20240110T100000Z", "RRULE:FREQ=DAILY;COUNT=2", "RDATE;VALUE=PERIOD:20250101T000000Z/P2D", "END:VEVENT"),
			first: "20240110T095959Z", last: "20250103T000001Z",
		},
		{
			name: "override moved before the master's DTSTART",
			body: calText("BEGIN:VEVENT", "UID:a", "DTSTART:20240110T100000Z", "RRULE:FREQ=DAILY;COUNT=2", "END:VEVENT",
				"BEGIN:VEVENT", "UID:a", "RECURRENCE-ID:20240111T100000Z", "DTSTART:20240101T100000Z", "DTEND:20240101T120000Z", "END:VEVENT"),
			first: "20240101T095959Z", last: "20240110T100001Z",
		},
		{
			name: "THISANDFUTURE shifting later instances earlier",
			body: calText("BEGIN:VEVENT", "UID:a", "DTSTART:20240110T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=3", "END:VEVENT",
				"BEGIN:VEVENT", "UID:a", "RECURRENCE-ID;RANGE=THISANDFUTURE:20240111T100000Z", "DTSTART:20240111T060000Z", "DURATION:PT1H", "END:VEVENT"),
			first: "20240110T095959Z", last: "20240112T070001Z",
		},
		{
			name:  "all-day event widened by 14 hours",
			body:  calText("BEGIN:VEVENT", "UID:a", "DTSTART;VALUE=DATE:20240110", "END:VEVENT"),
			first: "20240109T095959Z", last: "20240111T140001Z",
		},
		{
			name:  "floating event widened by 14 hours",
			body:  calText("BEGIN:VEVENT", "UID:a", "DTSTART:20240110T100000", "DTEND:20240110T110000", "END:VEVENT"),
			first: "20240109T195959Z", last: "20240111T010001Z",
		},
		{
			name:  "alarm a day before reaches back",
			body:  calText("BEGIN:VEVENT", "UID:a", "DTSTART:20240110T100000Z", "DTEND:20240110T110000Z", "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-P1D", "END:VALARM", "END:VEVENT"),
			first: "20240109T085959Z", last: "20240110T110001Z",
		},
		{
			name:  "20 years of a daily event still has an end",
			body:  calText("BEGIN:VEVENT", "UID:a", "DTSTART:20240110T100000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=7300", "END:VEVENT"),
			first: "20240110T095959Z", last: "20440104T110001Z",
		},
		{
			name:  "too many instances to expand: earliest start, open end",
			body:  calText("BEGIN:VEVENT", "UID:a", "DTSTART:20240110T100000Z", "RRULE:FREQ=MINUTELY;COUNT=1000000", "END:VEVENT"),
			first: "20240110T095959Z", last: "open",
		},
		{
			name:  "VTODO without dates matches every range",
			body:  calText("BEGIN:VTODO", "UID:a", "SUMMARY:x", "END:VTODO"),
			first: "open", last: "open",
		},
		{
			name:  "VTODO with DUE only",
			body:  calText("BEGIN:VTODO", "UID:a", "DUE:20240110T100000Z", "END:VTODO"),
			first: "20240110T095959Z", last: "20240110T100001Z",
		},
		{
			name:  "VTODO with DTSTART and DURATION",
			body:  calText("BEGIN:VTODO", "UID:a", "DTSTART:20240110T100000Z", "DURATION:P1D", "END:VTODO"),
			first: "20240110T095959Z", last: "20240111T100001Z",
		},
		{
			name:  "VTODO with CREATED only reaches to the end of time",
			body:  calText("BEGIN:VTODO", "UID:a", "CREATED:20240110T100000Z", "END:VTODO"),
			first: "20240110T095959Z", last: "open",
		},
		{
			name:  "VTODO with CREATED and COMPLETED",
			body:  calText("BEGIN:VTODO", "UID:a", "CREATED:20240110T100000Z", "COMPLETED:20240112T100000Z", "END:VTODO"),
			first: "20240110T095959Z", last: "20240112T100001Z",
		},
		{
			name:  "VJOURNAL on a date",
			body:  calText("BEGIN:VJOURNAL", "UID:a", "DTSTART;VALUE=DATE:20240110", "END:VJOURNAL"),
			first: "20240109T095959Z", last: "20240111T140001Z",
		},
		{
			name:  "VJOURNAL without DTSTART matches no range",
			body:  calText("BEGIN:VJOURNAL", "UID:a", "SUMMARY:x", "END:VJOURNAL"),
			first: "open", last: "open",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cal, err := decodeCalendar([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			first, last := Span(cal, nil, DefaultLimits)
			if fmtSpan(first) != tc.first || fmtSpan(last) != tc.last {
				t.Fatalf("span %s .. %s, want %s .. %s", fmtSpan(first), fmtSpan(last), tc.first, tc.last)
			}
		})
	}
}

// TestSpanIsSuperset: whenever the exact test finds an instance in a range,
// for any viewer zone, the span overlaps that range under the strict SQL
// test (first < end AND last > start).
func TestSpanIsSuperset(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "recur", "*.ics"))
	if err != nil || len(files) == 0 {
		t.Fatal("no test files", err)
	}
	zones := []string{"UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York", "Asia/Kolkata"}
	r := rand.New(rand.NewPCG(7, 7))
	base := time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cal, err := decodeCalendar(b)
		if err != nil {
			t.Fatal(err)
		}
		first, last := Span(cal, nil, DefaultLimits)
		for i := 0; i < 300; i++ {
			start := base.Add(time.Duration(r.Int64N(int64(400*24*time.Hour))) / time.Second * time.Second)
			if i%50 == 0 {
				start = base.AddDate(100+r.IntN(30), 0, 0)
			}
			end := start.Add(time.Duration(1+r.Int64N(int64(3*24*time.Hour))) / time.Second * time.Second)
			loc := mustLoc(t, zones[r.IntN(len(zones))])
			ins, err := Instances(cal, start, end, loc, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if len(ins) == 0 {
				continue
			}
			if (first != nil && !first.Before(end)) || (last != nil && !last.After(start)) {
				t.Fatalf("%s: span %s..%s misses %s in [%s, %s) viewed in %s", f, fmtSpan(first), fmtSpan(last), describe(ins[0]), start, end, loc)
			}
		}
	}
}
