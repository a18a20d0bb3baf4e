package caldav

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/internal/recur"
)

// tqWrap builds a calendar object from component lines (LF separated).
func tqWrap(comps ...string) []byte {
	s := "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Davenport//test//EN\n" + strings.Join(comps, "") + "END:VCALENDAR\n"
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// tqFilter decodes a filter written as the children of the VCALENDAR
// comp-filter.
func tqFilter(t testing.TB, inner string) *Filter {
	t.Helper()
	f, err := ParseFilter([]byte(`<C:filter xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp-filter name="VCALENDAR">` + inner + `</C:comp-filter></C:filter>`))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Validate(); err != nil {
		t.Fatalf("Validate(%s): %v", inner, err)
	}
	return f
}

// tqRange is a comp-filter with a time-range; "" leaves a side open.
func tqRange(comp, start, end string) string {
	attrs := ""
	if start != "" {
		attrs += ` start="` + start + `"`
	}
	if end != "" {
		attrs += ` end="` + end + `"`
	}
	return `<C:comp-filter name="` + comp + `"><C:time-range` + attrs + `/></C:comp-filter>`
}

type tqMatchCase struct {
	name   string
	filter string // inside the VCALENDAR comp-filter
	want   bool
}

func tqRunMatch(t *testing.T, body []byte, loc *time.Location, cases []tqMatchCase) {
	t.Helper()
	cal := tqParse(t, body)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tqFilter(t, tc.filter)
			got, err := f.Match(cal, loc, recur.DefaultLimits)
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tc.want {
				t.Errorf("Match(%s) = %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
}

// TestTimeRangeVTODO covers every row of the VTODO table of RFC 4791 §9.9,
// on both sides of each condition.
func TestTimeRangeVTODO(t *testing.T) {
	todo := func(props string) []byte {
		return tqWrap("BEGIN:VTODO\nUID:t@example.com\nDTSTAMP:20060101T000000Z\n" + props + "END:VTODO\n")
	}
	rows := []struct {
		row   string
		props string
		cases []tqMatchCase
	}{
		{"DTSTART+DURATION", "DTSTART:20060110T100000Z\nDURATION:PT2H\n", []tqMatchCase{
			// (start <= DTSTART+DURATION) AND ((end > DTSTART) OR (end >= DTSTART+DURATION))
			{"before", tqRange("VTODO", "20060110T090000Z", "20060110T100000Z"), false},
			{"touching start", tqRange("VTODO", "20060110T090000Z", "20060110T100001Z"), true},
			{"inside", tqRange("VTODO", "20060110T103000Z", "20060110T110000Z"), true},
			{"starting at end", tqRange("VTODO", "20060110T120000Z", "20060110T130000Z"), true},
			{"after", tqRange("VTODO", "20060110T120001Z", "20060110T130000Z"), false},
			{"open start", tqRange("VTODO", "", "20060110T100001Z"), true},
			{"open end", tqRange("VTODO", "20060110T120000Z", ""), true},
		}},
		{"DTSTART+DUE", "DTSTART:20060110T100000Z\nDUE:20060110T120000Z\n", []tqMatchCase{
			// ((start < DUE) OR (start <= DTSTART)) AND ((end > DTSTART) OR (end >= DUE))
			{"before", tqRange("VTODO", "20060110T090000Z", "20060110T100000Z"), false},
			{"touching start", tqRange("VTODO", "20060110T090000Z", "20060110T100001Z"), true},
			{"ending at due", tqRange("VTODO", "20060110T115959Z", "20060110T120000Z"), true},
			{"starting at due", tqRange("VTODO", "20060110T120000Z", "20060110T130000Z"), false},
			{"open end", tqRange("VTODO", "20060110T110000Z", ""), true},
		}},
		{"DTSTART only", "DTSTART:20060110T100000Z\n", []tqMatchCase{
			// (start <= DTSTART) AND (end > DTSTART)
			{"starting at", tqRange("VTODO", "20060110T100000Z", "20060110T100001Z"), true},
			{"ending at", tqRange("VTODO", "20060110T090000Z", "20060110T100000Z"), false},
			{"after", tqRange("VTODO", "20060110T100001Z", "20060110T110000Z"), false},
		}},
		{"DUE only", "DUE:20060110T120000Z\n", []tqMatchCase{
			// (start < DUE) AND (end >= DUE)
			{"ending at due", tqRange("VTODO", "20060110T110000Z", "20060110T120000Z"), true},
			{"ending before due", tqRange("VTODO", "20060110T110000Z", "20060110T115959Z"), false},
			{"starting at due", tqRange("VTODO", "20060110T120000Z", "20060110T130000Z"), false},
			{"open start", tqRange("VTODO", "", "20060111T000000Z"), true},
		}},
		{"COMPLETED+CREATED", "CREATED:20060101T120000Z\nCOMPLETED:20060105T120000Z\n", []tqMatchCase{
			// ((start <= CREATED) OR (start <= COMPLETED)) AND ((end >= CREATED) OR (end >= COMPLETED))
			{"between", tqRange("VTODO", "20060103T000000Z", "20060104T000000Z"), true},
			{"starting at completed", tqRange("VTODO", "20060105T120000Z", "20060105T130000Z"), true},
			{"after completed", tqRange("VTODO", "20060105T120001Z", "20060106T000000Z"), false},
			{"ending at created", tqRange("VTODO", "20051231T000000Z", "20060101T120000Z"), true},
			{"before created", tqRange("VTODO", "20051231T000000Z", "20060101T115959Z"), false},
		}},
		{"COMPLETED only", "COMPLETED:20060105T120000Z\n", []tqMatchCase{
			// (start <= COMPLETED) AND (end >= COMPLETED)
			{"ending at", tqRange("VTODO", "20060105T110000Z", "20060105T120000Z"), true},
			{"starting at", tqRange("VTODO", "20060105T120000Z", "20060105T130000Z"), true},
			{"after", tqRange("VTODO", "20060105T120001Z", "20060105T130000Z"), false},
			{"before", tqRange("VTODO", "20060105T100000Z", "20060105T115959Z"), false},
		}},
		{"CREATED only", "CREATED:20060101T120000Z\n", []tqMatchCase{
			// (end > CREATED)
			{"ending at", tqRange("VTODO", "20051231T000000Z", "20060101T120000Z"), false},
			{"ending after", tqRange("VTODO", "20051231T000000Z", "20060101T120001Z"), true},
			{"years later", tqRange("VTODO", "20300101T000000Z", "20300102T000000Z"), true},
		}},
		{"nothing", "", []tqMatchCase{
			// TRUE
			{"any range", tqRange("VTODO", "19990101T000000Z", "19990102T000000Z"), true},
			{"open end", tqRange("VTODO", "20990101T000000Z", ""), true},
		}},
		{"recurring DTSTART+DUE", "DTSTART:20060102T100000Z\nDUE:20060102T120000Z\nRRULE:FREQ=WEEKLY;COUNT=4\n", []tqMatchCase{
			{"third week", tqRange("VTODO", "20060116T110000Z", "20060116T113000Z"), true},
			{"between weeks", tqRange("VTODO", "20060117T000000Z", "20060122T000000Z"), false},
			{"after the last", tqRange("VTODO", "20060124T000000Z", ""), false},
		}},
	}
	for _, r := range rows {
		t.Run(r.row, func(t *testing.T) {
			tqRunMatch(t, todo(r.props), time.UTC, r.cases)
		})
	}
}

// TestTimeRangeVEVENT covers the VEVENT table of RFC 4791 §9.9.
func TestTimeRangeVEVENT(t *testing.T) {
	ev := func(props string) []byte {
		return tqWrap("BEGIN:VEVENT\nUID:e@example.com\nDTSTAMP:20060101T000000Z\n" + props + "END:VEVENT\n")
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		row   string
		props string
		loc   *time.Location
		cases []tqMatchCase
	}{
		{"DTEND", "DTSTART:20060110T100000Z\nDTEND:20060110T110000Z\n", time.UTC, []tqMatchCase{
			// (start < DTEND AND end > DTSTART)
			{"ending at start", tqRange("VEVENT", "20060110T090000Z", "20060110T100000Z"), false},
			{"starting at end", tqRange("VEVENT", "20060110T110000Z", "20060110T120000Z"), false},
			{"overlapping end", tqRange("VEVENT", "20060110T105959Z", "20060110T120000Z"), true},
			{"open start", tqRange("VEVENT", "", "20060110T100001Z"), true},
		}},
		{"DURATION > 0", "DTSTART:20060110T100000Z\nDURATION:PT1H\n", time.UTC, []tqMatchCase{
			// (start < DTSTART+DURATION AND end > DTSTART)
			{"starting at end", tqRange("VEVENT", "20060110T110000Z", "20060110T120000Z"), false},
			{"overlapping", tqRange("VEVENT", "20060110T105959Z", "20060110T120000Z"), true},
		}},
		{"DURATION = 0", "DTSTART:20060110T100000Z\nDURATION:PT0S\n", time.UTC, []tqMatchCase{
			// (start <= DTSTART AND end > DTSTART)
			{"starting at", tqRange("VEVENT", "20060110T100000Z", "20060110T110000Z"), true},
			{"ending at", tqRange("VEVENT", "20060110T090000Z", "20060110T100000Z"), false},
		}},
		{"DATE-TIME alone", "DTSTART:20060110T100000Z\n", time.UTC, []tqMatchCase{
			{"starting at", tqRange("VEVENT", "20060110T100000Z", "20060110T100001Z"), true},
			{"ending at", tqRange("VEVENT", "20060110T090000Z", "20060110T100000Z"), false},
		}},
		{"DATE alone", "DTSTART;VALUE=DATE:20060110\n", ny, []tqMatchCase{
			// (start < DTSTART+P1D AND end > DTSTART), the date in the
			// query's zone: 2006-01-10T05:00Z to 2006-01-11T05:00Z.
			{"evening before in UTC", tqRange("VEVENT", "20060110T000000Z", "20060110T050000Z"), false},
			{"first minute", tqRange("VEVENT", "20060110T000000Z", "20060110T050100Z"), true},
			{"last minute", tqRange("VEVENT", "20060111T045900Z", "20060112T000000Z"), true},
			{"next day", tqRange("VEVENT", "20060111T050000Z", "20060112T000000Z"), false},
		}},
		{"TZID", "DTSTART;TZID=Europe/Berlin:20060710T100000\nDTEND;TZID=Europe/Berlin:20060710T110000\n", time.UTC, []tqMatchCase{
			// Summer time: 08:00Z to 09:00Z.
			{"in UTC", tqRange("VEVENT", "20060710T083000Z", "20060710T084000Z"), true},
			{"after", tqRange("VEVENT", "20060710T090000Z", "20060710T100000Z"), false},
		}},
		{"floating", "DTSTART:20060110T100000\nDTEND:20060110T110000\n", ny, []tqMatchCase{
			// Floating: 15:00Z to 16:00Z in New York.
			{"UTC reading", tqRange("VEVENT", "20060110T100000Z", "20060110T110000Z"), false},
			{"New York reading", tqRange("VEVENT", "20060110T150000Z", "20060110T153000Z"), true},
		}},
	}
	for _, r := range rows {
		t.Run(r.row, func(t *testing.T) {
			tqRunMatch(t, ev(r.props), r.loc, r.cases)
		})
	}
}

// TestTimeRangeVJOURNALAndVFREEBUSY covers the VJOURNAL and VFREEBUSY tables
// of RFC 4791 §9.9.
func TestTimeRangeVJOURNALAndVFREEBUSY(t *testing.T) {
	journal := func(props string) []byte {
		return tqWrap("BEGIN:VJOURNAL\nUID:j@example.com\nDTSTAMP:20060101T000000Z\n" + props + "END:VJOURNAL\n")
	}
	fb := func(props string) []byte {
		return tqWrap("BEGIN:VFREEBUSY\nUID:f@example.com\nDTSTAMP:20060101T000000Z\n" + props + "END:VFREEBUSY\n")
	}
	rows := []struct {
		row   string
		body  []byte
		cases []tqMatchCase
	}{
		{"VJOURNAL DATE-TIME", journal("DTSTART:20060110T100000Z\n"), []tqMatchCase{
			// (start <= DTSTART) AND (end > DTSTART)
			{"starting at", tqRange("VJOURNAL", "20060110T100000Z", "20060110T100001Z"), true},
			{"ending at", tqRange("VJOURNAL", "20060110T090000Z", "20060110T100000Z"), false},
		}},
		{"VJOURNAL DATE", journal("DTSTART;VALUE=DATE:20060110\n"), []tqMatchCase{
			// (start < DTSTART+P1D) AND (end > DTSTART)
			{"last second", tqRange("VJOURNAL", "20060110T235959Z", "20060111T000000Z"), true},
			{"next day", tqRange("VJOURNAL", "20060111T000000Z", "20060112T000000Z"), false},
		}},
		{"VJOURNAL no DTSTART", journal("SUMMARY:undated\n"), []tqMatchCase{
			// FALSE
			{"any", tqRange("VJOURNAL", "19000101T000000Z", "21000101T000000Z"), false},
			{"without time-range", `<C:comp-filter name="VJOURNAL"/>`, true},
		}},
		{"VFREEBUSY DTSTART+DTEND", fb("DTSTART:20060101T000000Z\nDTEND:20060108T000000Z\n"), []tqMatchCase{
			// (start <= DTEND) AND (end > DTSTART)
			{"starting at DTEND", tqRange("VFREEBUSY", "20060108T000000Z", "20060109T000000Z"), true},
			{"after", tqRange("VFREEBUSY", "20060108T000001Z", "20060109T000000Z"), false},
			{"ending at DTSTART", tqRange("VFREEBUSY", "20051231T000000Z", "20060101T000000Z"), false},
		}},
		{"VFREEBUSY periods", fb("FREEBUSY;FBTYPE=FREE:20060102T100000Z/20060102T120000Z,20060103T100000Z/PT1H\n"), []tqMatchCase{
			// (start < period-end) AND (end > period-start), any FBTYPE
			{"first period", tqRange("VFREEBUSY", "20060102T110000Z", "20060102T113000Z"), true},
			{"second period by duration", tqRange("VFREEBUSY", "20060103T105959Z", "20060103T120000Z"), true},
			{"starting at second end", tqRange("VFREEBUSY", "20060103T110000Z", "20060103T120000Z"), false},
			{"between", tqRange("VFREEBUSY", "20060102T120000Z", "20060103T100000Z"), false},
		}},
		{"VFREEBUSY empty", fb("ORGANIZER:mailto:a@example.com\n"), []tqMatchCase{
			{"any", tqRange("VFREEBUSY", "19000101T000000Z", "21000101T000000Z"), false},
		}},
	}
	for _, r := range rows {
		t.Run(r.row, func(t *testing.T) {
			tqRunMatch(t, r.body, time.UTC, r.cases)
		})
	}
}

// TestTimeRangeVALARM covers alarm triggers (RFC 4791 §9.9, RFC 5545
// §3.8.6.3): relative to start or end, absolute, repeated, and per instance
// of a recurring event.
func TestTimeRangeVALARM(t *testing.T) {
	alarm := func(trigger string) string {
		return "BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:x\n" + trigger + "END:VALARM\n"
	}
	ev := func(props, alarms string) []byte {
		return tqWrap("BEGIN:VEVENT\nUID:a@example.com\nDTSTAMP:20060101T000000Z\nDTSTART:20060110T100000Z\nDTEND:20060110T110000Z\n" + props + alarms + "END:VEVENT\n")
	}
	in := func(start, end string) string {
		return `<C:comp-filter name="VEVENT">` + tqRange("VALARM", start, end) + `</C:comp-filter>`
	}
	rows := []struct {
		row   string
		body  []byte
		cases []tqMatchCase
	}{
		{"relative to start", ev("", alarm("TRIGGER:-PT15M\n")), []tqMatchCase{
			// (start <= trigger-time) AND (end > trigger-time), trigger 09:45Z
			{"starting at trigger", in("20060110T094500Z", "20060110T094501Z"), true},
			{"ending at trigger", in("20060110T090000Z", "20060110T094500Z"), false},
			{"at the event", in("20060110T100000Z", "20060110T110000Z"), false},
		}},
		{"relative to end", ev("", alarm("TRIGGER;RELATED=END:PT5M\n")), []tqMatchCase{
			{"trigger 11:05Z", in("20060110T110500Z", "20060110T110600Z"), true},
			{"at the start", in("20060110T100500Z", "20060110T100600Z"), false},
		}},
		{"absolute", ev("", alarm("TRIGGER;VALUE=DATE-TIME:20060109T080000Z\n")), []tqMatchCase{
			{"day before", in("20060109T000000Z", "20060110T000000Z"), true},
			{"event day", in("20060110T000000Z", "20060111T000000Z"), false},
		}},
		{"repeated", ev("", alarm("TRIGGER:-PT30M\nREPEAT:2\nDURATION:PT10M\n")), []tqMatchCase{
			// 09:30Z, 09:40Z, 09:50Z
			{"last repetition", in("20060110T095000Z", "20060110T095100Z"), true},
			{"between repetitions", in("20060110T094100Z", "20060110T094900Z"), false},
			{"after the last", in("20060110T095001Z", "20060110T100000Z"), false},
		}},
		{"recurring event", ev("RRULE:FREQ=DAILY;COUNT=5\n", alarm("TRIGGER:-PT1H\n")), []tqMatchCase{
			// instances 10:00Z on Jan 10–14, alarms at 09:00Z
			{"fourth alarm", in("20060113T085900Z", "20060113T090100Z"), true},
			{"after the series", in("20060115T085900Z", "20060115T090100Z"), false},
			{"open end", in("20060114T085900Z", ""), true},
			{"with event range", `<C:comp-filter name="VEVENT"><C:time-range start="20060112T000000Z" end="20060113T000000Z"/>` + tqRange("VALARM", "20060112T085900Z", "20060112T090100Z") + `</C:comp-filter>`, true},
			{"event range elsewhere", `<C:comp-filter name="VEVENT"><C:time-range start="20060113T000000Z" end="20060114T000000Z"/>` + tqRange("VALARM", "20060112T085900Z", "20060112T090100Z") + `</C:comp-filter>`, false},
		}},
		{"no alarm", ev("", ""), []tqMatchCase{
			{"any", in("20000101T000000Z", "20300101T000000Z"), false},
			{"is-not-defined", `<C:comp-filter name="VEVENT"><C:comp-filter name="VALARM"><C:is-not-defined/></C:comp-filter></C:comp-filter>`, true},
		}},
	}
	for _, r := range rows {
		t.Run(r.row, func(t *testing.T) {
			tqRunMatch(t, r.body, time.UTC, r.cases)
		})
	}
	t.Run("VTODO related to due", func(t *testing.T) {
		body := tqWrap("BEGIN:VTODO\nUID:t@example.com\nDTSTAMP:20060101T000000Z\nDTSTART:20060110T100000Z\nDUE:20060112T100000Z\n" +
			alarm("TRIGGER;RELATED=END:-PT1H\n") + "END:VTODO\n")
		tqRunMatch(t, body, time.UTC, []tqMatchCase{
			{"hour before due", `<C:comp-filter name="VTODO">` + tqRange("VALARM", "20060112T090000Z", "20060112T090001Z") + `</C:comp-filter>`, true},
			{"hour before start", `<C:comp-filter name="VTODO">` + tqRange("VALARM", "20060110T090000Z", "20060110T090001Z") + `</C:comp-filter>`, false},
		})
	})
}

// tqWeekly is a weekly meeting on Mondays 10:00 Berlin time from
// 2024-01-01, with the 2024-01-15 instance moved to Wednesday 2024-01-17
// 14:00 and renamed, and the 2024-01-22 instance excluded.
var tqWeekly = tqWrap(`BEGIN:VEVENT
UID:weekly@example.com
DTSTAMP:20240101T000000Z
DTSTART;TZID=Europe/Berlin:20240101T100000
DTEND;TZID=Europe/Berlin:20240101T110000
RRULE:FREQ=WEEKLY
EXDATE;TZID=Europe/Berlin:20240122T100000
SUMMARY:Weekly
END:VEVENT
BEGIN:VEVENT
UID:weekly@example.com
DTSTAMP:20240101T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:20240115T100000
DTSTART;TZID=Europe/Berlin:20240117T140000
DTEND;TZID=Europe/Berlin:20240117T150000
SUMMARY:Moved
END:VEVENT
`)

// TestRecurrence checks that time-ranges see instances, overrides replace
// the instances they name, excluded instances are gone, and nested tests
// apply to the component the instance comes from.
func TestRecurrence(t *testing.T) {
	summary := func(text string) string {
		return `<C:prop-filter name="SUMMARY"><C:text-match>` + text + `</C:text-match></C:prop-filter>`
	}
	ranged := func(start, end, inner string) string {
		return `<C:comp-filter name="VEVENT"><C:time-range start="` + start + `" end="` + end + `"/>` + inner + `</C:comp-filter>`
	}
	tqRunMatch(t, tqWeekly, time.UTC, []tqMatchCase{
		{"second instance", tqRange("VEVENT", "20240108T090000Z", "20240108T091000Z"), true},
		{"moved-away slot", tqRange("VEVENT", "20240115T000000Z", "20240116T000000Z"), false},
		{"override moved into range", tqRange("VEVENT", "20240117T130000Z", "20240117T133000Z"), true},
		{"excluded instance", tqRange("VEVENT", "20240122T000000Z", "20240123T000000Z"), false},
		{"instance after the exclusion", tqRange("VEVENT", "20240129T000000Z", "20240130T000000Z"), true},
		{"far future, open end", tqRange("VEVENT", "20990101T000000Z", ""), true},
		{"open start", tqRange("VEVENT", "", "20240101T090001Z"), true},
		{"before the series, open start", tqRange("VEVENT", "", "20240101T090000Z"), false},
		{"override's summary in its range", ranged("20240117T000000Z", "20240118T000000Z", summary("moved")), true},
		{"override's summary elsewhere", ranged("20240108T000000Z", "20240109T000000Z", summary("moved")), false},
		{"master's summary at the moved slot", ranged("20240117T000000Z", "20240118T000000Z", summary("weekly")), false},
		{"override's summary, open end", `<C:comp-filter name="VEVENT"><C:time-range start="20240110T000000Z"/>` + summary("moved") + `</C:comp-filter>`, true},
		{"override's summary, open end after it", `<C:comp-filter name="VEVENT"><C:time-range start="20240201T000000Z"/>` + summary("moved") + `</C:comp-filter>`, false},
		{"no time-range: any component", `<C:comp-filter name="VEVENT">` + summary("moved") + `</C:comp-filter>`, true},
	})
}

// TestOpenRangeDenseRule checks that an open-ended range on a rule that never
// ends is decided near its closed side instead of expanding to the horizon
// (which would exceed the default work limit).
func TestOpenRangeDenseRule(t *testing.T) {
	body := tqWrap("BEGIN:VEVENT\nUID:d@example.com\nDTSTAMP:20240101T000000Z\nDTSTART:20000101T080000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY\nSUMMARY:Standup\nEND:VEVENT\n")
	tqRunMatch(t, body, time.UTC, []tqMatchCase{
		{"open end", tqRange("VEVENT", "20240601T000000Z", ""), true},
		{"open start", tqRange("VEVENT", "", "20240601T000000Z"), true},
		{"open start before the series", tqRange("VEVENT", "", "20000101T080000Z"), false},
		{"open end, summary passes", `<C:comp-filter name="VEVENT"><C:time-range start="20240601T000000Z"/><C:prop-filter name="SUMMARY"><C:text-match>stand</C:text-match></C:prop-filter></C:comp-filter>`, true},
		{"open end, summary fails", `<C:comp-filter name="VEVENT"><C:time-range start="20240601T000000Z"/><C:prop-filter name="SUMMARY"><C:text-match>retro</C:text-match></C:prop-filter></C:comp-filter>`, false},
	})
}

// TestRecurrenceLimits checks that a hostile rule yields an error, not a
// hang or a guess.
func TestRecurrenceLimits(t *testing.T) {
	body := tqWrap("BEGIN:VEVENT\nUID:s@example.com\nDTSTAMP:20240101T000000Z\nDTSTART:20000101T000000Z\nRRULE:FREQ=SECONDLY\nSUMMARY:x\nEND:VEVENT\n")
	cal := tqParse(t, body)
	f := tqFilter(t, tqRange("VEVENT", "20240101T000000Z", "20240102T000000Z"))
	_, err := f.Match(cal, time.UTC, recur.Limits{MaxInstances: 100, MaxWork: 10000})
	if !errors.Is(err, recur.ErrTooManyInstances) {
		t.Fatalf("Match = %v, want recur.ErrTooManyInstances", err)
	}
}

// TestPropAndParamFilters covers prop-filter and param-filter tests of
// RFC 4791 §9.7.2–§9.7.5.
func TestPropAndParamFilters(t *testing.T) {
	body := tqWrap(`BEGIN:VEVENT
UID:p@example.com
DTSTAMP:20060105T120000Z
LAST-MODIFIED:20060106T120000Z
DTSTART:20060110T100000Z
DURATION:PT1H
SUMMARY:Lunch\, then Straße talk
CATEGORIES:WORK,FOOD
ATTENDEE;PARTSTAT=ACCEPTED;CN="Ann":mailto:ann@example.com
ATTENDEE;PARTSTAT=DECLINED;DELEGATED-TO="mailto:x@example.com","mailto:y@example.com":mailto:bob@example.com
X-CUSTOM:Ünïcödé
END:VEVENT
`)
	prop := func(name, inner string) string {
		return `<C:comp-filter name="VEVENT"><C:prop-filter name="` + name + `">` + inner + `</C:prop-filter></C:comp-filter>`
	}
	tm := func(attrs, text string) string { return `<C:text-match` + attrs + `>` + text + `</C:text-match>` }
	tqRunMatch(t, body, time.UTC, []tqMatchCase{
		{"defined", prop("SUMMARY", ""), true},
		{"not defined", prop("LOCATION", "<C:is-not-defined/>"), true},
		{"defined, is-not-defined", prop("SUMMARY", "<C:is-not-defined/>"), false},
		{"missing", prop("LOCATION", ""), false},
		{"lower-case name", `<C:comp-filter name="vevent"><C:prop-filter name="summary"/></C:comp-filter>`, true},
		{"escaped comma unescaped", prop("SUMMARY", tm("", "lunch, then")), true},
		{"default collation folds ASCII", prop("SUMMARY", tm("", "LUNCH")), true},
		{"default collation keeps ß", prop("SUMMARY", tm("", "STRASSE")), false},
		{"octet is exact", prop("SUMMARY", tm(` collation="i;octet"`, "lunch")), false},
		{"negated", prop("SUMMARY", tm(` negate-condition="yes"`, "dinner")), true},
		{"negated, present", prop("SUMMARY", tm(` negate-condition="yes"`, "lunch")), false},
		{"negated on a missing property", prop("LOCATION", tm(` negate-condition="yes"`, "x")), false},
		{"negate no", prop("SUMMARY", tm(` negate-condition="no"`, "talk")), true},
		{"multi-valued text", prop("CATEGORIES", tm("", "food")), true},
		{"second attendee", prop("ATTENDEE", tm("", "bob@")), true},
		{"param on the same property", prop("ATTENDEE", tm("", "bob@")+`<C:param-filter name="PARTSTAT">`+tm("", "accepted")+`</C:param-filter>`), false},
		{"param on the other property", prop("ATTENDEE", tm("", "ann@")+`<C:param-filter name="PARTSTAT">`+tm("", "accepted")+`</C:param-filter>`), true},
		{"param is-not-defined", prop("ATTENDEE", `<C:param-filter name="CN"><C:is-not-defined/></C:param-filter>`), true},
		{"param defined", prop("ORGANIZER", `<C:param-filter name="CN"/>`), false},
		{"quoted param", prop("ATTENDEE", `<C:param-filter name="CN">`+tm(` collation="i;octet"`, "Ann")+`</C:param-filter>`), true},
		{"multi-valued param", prop("ATTENDEE", `<C:param-filter name="DELEGATED-TO">`+tm("", "mailto:y@")+`</C:param-filter>`), true},
		{"multi-valued param negated", prop("ATTENDEE", `<C:param-filter name="DELEGATED-TO">`+tm(` negate-condition="yes"`, "mailto:y@")+`</C:param-filter>`), false},
		{"x-property unicode", prop("X-CUSTOM", tm(` collation="i;unicode-casemap"`, "ÜNÏCÖDÉ")), true},
		{"x-property ascii casemap", prop("X-CUSTOM", tm("", "ÜNÏCÖDÉ")), false},
		{"DTSTAMP time-range", prop("DTSTAMP", `<C:time-range start="20060105T120000Z" end="20060105T120001Z"/>`), true},
		{"DTSTAMP time-range ending at it", prop("DTSTAMP", `<C:time-range start="20060105T000000Z" end="20060105T120000Z"/>`), false},
		{"LAST-MODIFIED open end", prop("LAST-MODIFIED", `<C:time-range start="20060106T000000Z"/>`), true},
		{"effective DTEND", prop("DTEND", `<C:time-range start="20060110T110000Z" end="20060110T110001Z"/>`), true},
		{"effective DTEND elsewhere", prop("DTEND", `<C:time-range start="20060110T100000Z" end="20060110T105959Z"/>`), false},
		{"two prop-filters", `<C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"/><C:prop-filter name="LOCATION"/></C:comp-filter>`, false},
		{"VCALENDAR property", `<C:prop-filter name="VERSION">` + tm("", "2.0") + `</C:prop-filter>`, true},
		{"VTODO is-not-defined", `<C:comp-filter name="VTODO"><C:is-not-defined/></C:comp-filter>`, true},
		{"VEVENT is-not-defined", `<C:comp-filter name="VEVENT"><C:is-not-defined/></C:comp-filter>`, false},
		{"VTIMEZONE", `<C:comp-filter name="VTIMEZONE"/>`, false},
	})
}

// TestFilterValidate checks the preconditions of RFC 4791 §7.8.
func TestFilterValidate(t *testing.T) {
	cases := []struct {
		name string
		xml  string
		cond string // "" for valid
	}{
		{"minimal", `<C:comp-filter name="VCALENDAR"/>`, ""},
		{"no comp-filter", ``, CondValidFilter},
		{"two comp-filters", `<C:comp-filter name="VCALENDAR"/><C:comp-filter name="VCALENDAR"/>`, CondValidFilter},
		{"top is VEVENT", `<C:comp-filter name="VEVENT"/>`, CondValidFilter},
		{"no name", `<C:comp-filter/>`, CondValidFilter},
		{"VEVENT in VEVENT", `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:comp-filter name="VEVENT"/></C:comp-filter></C:comp-filter>`, CondValidFilter},
		{"VALARM at top", `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VALARM"/></C:comp-filter>`, CondValidFilter},
		{"x-component anywhere", `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:comp-filter name="X-THING"/></C:comp-filter></C:comp-filter>`, ""},
		{"time-range in SUMMARY", `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:time-range start="20060101T000000Z"/></C:prop-filter></C:comp-filter></C:comp-filter>`, CondValidFilter},
		{"time-range on VTIMEZONE", `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTIMEZONE"><C:time-range start="20060101T000000Z"/></C:comp-filter></C:comp-filter>`, CondSupportedFilter},
		{"time-range on VCALENDAR", `<C:comp-filter name="VCALENDAR"><C:time-range start="20060101T000000Z"/></C:comp-filter>`, CondSupportedFilter},
		{"end before start", `<C:comp-filter name="VCALENDAR">` + tqRange("VEVENT", "20060102T000000Z", "20060101T000000Z") + `</C:comp-filter>`, CondValidFilter},
		{"end equals start", `<C:comp-filter name="VCALENDAR">` + tqRange("VEVENT", "20060102T000000Z", "20060102T000000Z") + `</C:comp-filter>`, CondValidFilter},
		{"no start nor end", `<C:comp-filter name="VCALENDAR">` + tqRange("VEVENT", "", "") + `</C:comp-filter>`, CondValidFilter},
		{"bad date", `<C:comp-filter name="VCALENDAR">` + tqRange("VEVENT", "2006-01-02", "") + `</C:comp-filter>`, CondValidFilter},
		// RFC 4791 §9.9: "MUST be date with UTC time value".
		{"floating start", `<C:comp-filter name="VCALENDAR">` + tqRange("VEVENT", "20060102T000000", "") + `</C:comp-filter>`, CondValidFilter},
		{"floating end", `<C:comp-filter name="VCALENDAR">` + tqRange("VEVENT", "", "20060102T000000") + `</C:comp-filter>`, CondValidFilter},
		{"lower-case z", `<C:comp-filter name="VCALENDAR">` + tqRange("VEVENT", "20060102T000000z", "") + `</C:comp-filter>`, ""},
		{"two time-ranges", `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20060101T000000Z"/><C:time-range end="20060101T000000Z"/></C:comp-filter></C:comp-filter>`, CondValidFilter},
		{"is-not-defined with more", `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:is-not-defined/><C:prop-filter name="UID"/></C:comp-filter></C:comp-filter>`, CondValidFilter},
		{"text-match and time-range", `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="DTSTART"><C:time-range start="20060101T000000Z"/><C:text-match>x</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>`, CondValidFilter},
		{"unknown collation", `<C:comp-filter name="VCALENDAR"><C:prop-filter name="PRODID"><C:text-match collation="i;ascii-numeric">1</C:text-match></C:prop-filter></C:comp-filter>`, CondSupportedCollation},
		{"unknown collation in param", `<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="ATTENDEE"><C:param-filter name="CN"><C:text-match collation="en;x">a</C:text-match></C:param-filter></C:prop-filter></C:comp-filter></C:comp-filter>`, CondSupportedCollation},
		{"unicode collation", `<C:comp-filter name="VCALENDAR"><C:prop-filter name="PRODID"><C:text-match collation="i;unicode-casemap">x</C:text-match></C:prop-filter></C:comp-filter>`, ""},
		{"bad negate-condition", `<C:comp-filter name="VCALENDAR"><C:prop-filter name="PRODID"><C:text-match negate-condition="true">x</C:text-match></C:prop-filter></C:comp-filter>`, CondValidFilter},
		{"unknown element", `<C:comp-filter name="VCALENDAR"><C:bogus/></C:comp-filter>`, CondValidFilter},
		{"foreign element ignored", `<C:comp-filter name="VCALENDAR"><X:bogus xmlns:X="urn:x"/></C:comp-filter>`, ""},
		{"too deep", strings.Repeat(`<C:comp-filter name="VCALENDAR"><C:comp-filter name="X-A">`, 1) + strings.Repeat(`<C:comp-filter name="X-A">`, 10) + strings.Repeat(`</C:comp-filter>`, 12), CondValidFilter},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFilter([]byte(`<C:filter xmlns:C="urn:ietf:params:xml:ns:caldav">` + tc.xml + `</C:filter>`))
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			err = f.Validate()
			if tc.cond == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Condition != tc.cond {
				t.Fatalf("Validate = %v, want condition %s", err, tc.cond)
			}
		})
	}
	if _, err := ParseFilter([]byte(`<C:filter xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp-filter`)); err == nil {
		t.Error("ParseFilter accepted truncated XML")
	}
}

// TestFilterListOptions checks the SQL narrowing derived from a filter.
func TestFilterListOptions(t *testing.T) {
	ts := func(s string) *time.Time {
		v, err := time.Parse(timeFormatUTC, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	cases := []struct {
		name       string
		inner      string
		comp       string
		start, end *time.Time
	}{
		{"everything", ``, "", nil, nil},
		{"events", `<C:comp-filter name="VEVENT"/>`, "VEVENT", nil, nil},
		{"events in range", tqRange("VEVENT", "20060104T000000Z", "20060105T000000Z"), "VEVENT", ts("20060103T220000Z"), ts("20060105T020000Z")},
		{"events open end", tqRange("VEVENT", "20060104T000000Z", ""), "VEVENT", ts("20060103T220000Z"), nil},
		{"to-dos in range", tqRange("VTODO", "20060104T000000Z", "20060105T000000Z"), "VTODO", ts("20060103T220000Z"), ts("20060105T020000Z")},
		{"free-busy keeps no span", tqRange("VFREEBUSY", "20060104T000000Z", "20060105T000000Z"), "VFREEBUSY", nil, nil},
		{"journals in range", tqRange("VJOURNAL", "20060104T000000Z", "20060105T000000Z"), "VJOURNAL", ts("20060103T220000Z"), ts("20060105T020000Z")},
		{"negated", `<C:comp-filter name="VEVENT"><C:is-not-defined/></C:comp-filter>`, "", nil, nil},
		{"two components", `<C:comp-filter name="VEVENT"/><C:comp-filter name="VTODO"/>`, "", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tqFilter(t, tc.inner).ListOptions()
			if !opts.WithBody || opts.Component != tc.comp {
				t.Errorf("ListOptions = %+v, want component %q with body", opts, tc.comp)
			}
			eq := func(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }
			if !eq(opts.Start, tc.start) || !eq(opts.End, tc.end) {
				t.Errorf("ListOptions range = %v–%v, want %v–%v", opts.Start, opts.End, tc.start, tc.end)
			}
		})
	}
}

// TestMatchDefensive checks Match on inputs Validate would refuse.
func TestMatchDefensive(t *testing.T) {
	cal := tqParse(t, tqWeekly)
	for _, f := range []*Filter{nil, {}, {CompFilters: []CompFilter{{Name: "VCALENDAR"}, {Name: "VCALENDAR"}}}} {
		if ok, err := f.Match(cal, nil, recur.DefaultLimits); ok || err != nil {
			t.Errorf("Match(%+v) = %v, %v", f, ok, err)
		}
	}
	f := &Filter{CompFilters: []CompFilter{{Name: "VTODO", IsNotDefined: true}}}
	if ok, _ := f.Match(cal, nil, recur.DefaultLimits); !ok {
		t.Error("a missing top-level component with is-not-defined should match")
	}
	bad := &Filter{CompFilters: []CompFilter{{Name: "VCALENDAR", PropFilters: []PropFilter{{Name: "PRODID", TextMatch: &TextMatch{Collation: "x;y", Value: "a"}}}}}}
	_, err := bad.Match(cal, nil, recur.DefaultLimits)
	var qe *QueryError
	if !errors.As(err, &qe) || qe.Condition != CondSupportedCollation {
		t.Errorf("unknown collation in Match = %v", err)
	}
	if ok, err := (&Filter{CompFilters: []CompFilter{{Name: "VCALENDAR"}}}).Match(&ical.Calendar{}, nil, recur.DefaultLimits); ok || err != nil {
		t.Errorf("empty calendar = %v, %v", ok, err)
	}
}

// TestFilterByComponent: ByComponent holds only for filters that test the
// component type alone, and for those Match accepts exactly the objects
// whose stored component is the one named (or every object).
func TestFilterByComponent(t *testing.T) {
	vtz := "BEGIN:VTIMEZONE\nTZID:Europe/Berlin\nBEGIN:STANDARD\nDTSTART:19701025T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nEND:STANDARD\nEND:VTIMEZONE\n"
	objects := [][]byte{
		tqWeekly,
		tqWrap(vtz, "BEGIN:VEVENT\nUID:e@x\nDTSTAMP:20240101T000000Z\nDTSTART;TZID=Europe/Berlin:20240101T100000\nEND:VEVENT\n"),
		tqWrap("BEGIN:VTODO\nUID:t@x\nDTSTAMP:20240101T000000Z\nSUMMARY:no dates\nEND:VTODO\n"),
		tqWrap("BEGIN:VJOURNAL\nUID:j@x\nDTSTAMP:20240101T000000Z\nEND:VJOURNAL\n"),
		tqWrap("BEGIN:VFREEBUSY\nUID:f@x\nDTSTAMP:20240101T000000Z\nDTSTART:20240101T000000Z\nDTEND:20240102T000000Z\nEND:VFREEBUSY\n"),
	}
	var parsed []*ParsedObject
	for _, body := range objects {
		p, err := ParseObject(body, "text/calendar", []string{"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY"})
		if err != nil {
			t.Fatalf("ParseObject: %v\n%s", err, body)
		}
		parsed = append(parsed, p)
	}
	cases := []struct {
		name, inner string
		want        bool
	}{
		{"everything", ``, true},
		{"events", `<C:comp-filter name="VEVENT"/>`, true},
		{"to-dos", `<C:comp-filter name="VTODO"/>`, true},
		{"journals", `<C:comp-filter name="VJOURNAL"/>`, true},
		{"free-busy", `<C:comp-filter name="VFREEBUSY"/>`, true},
		{"time zones", `<C:comp-filter name="VTIMEZONE"/>`, false},
		{"events in range", tqRange("VEVENT", "20240101T000000Z", "20240102T000000Z"), false},
		{"negated", `<C:comp-filter name="VEVENT"><C:is-not-defined/></C:comp-filter>`, false},
		{"two components", `<C:comp-filter name="VEVENT"/><C:comp-filter name="VTODO"/>`, false},
		{"property", `<C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"/></C:comp-filter>`, false},
		{"alarm inside", `<C:comp-filter name="VEVENT"><C:comp-filter name="VALARM"/></C:comp-filter>`, false},
		{"calendar property", `<C:prop-filter name="PRODID"/>`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tqFilter(t, tc.inner)
			if got := f.ByComponent(); got != tc.want {
				t.Fatalf("ByComponent = %v, want %v", got, tc.want)
			}
			if !tc.want {
				return
			}
			comp := f.ListOptions().Component
			for _, p := range parsed {
				ok, err := f.Match(p.Cal, nil, recur.DefaultLimits)
				if err != nil {
					t.Fatal(err)
				}
				if want := comp == "" || p.Component == comp; ok != want {
					t.Errorf("Match on a %s = %v, but the narrowing to %q says %v", p.Component, ok, comp, want)
				}
			}
		})
	}
	if (*Filter)(nil).ByComponent() || (&Filter{}).ByComponent() {
		t.Error("ByComponent on an empty filter")
	}
}
