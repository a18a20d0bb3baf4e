package recur

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

func loadCal(t testing.TB, name string) *ical.Calendar {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	cal, err := decodeCalendar(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cal
}

// decodeCalendar parses one iCalendar object for a test.
func decodeCalendar(b []byte) (*ical.Calendar, error) {
	return ical.NewDecoder(bytes.NewReader(b)).Decode()
}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

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

// describe renders an instance as "start/end SUMMARY" in UTC, with " allday"
// for DATE instances.
func describe(in Instance) string {
	s := in.Start.UTC().Format("20060102T150405Z") + "/" + in.End.UTC().Format("20060102T150405Z")
	if p := in.Component.Props.Get(ical.PropSummary); p != nil {
		s += " " + p.Value
	}
	if in.AllDay {
		s += " allday"
	}
	return s
}

func TestInstances(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		start, end string // UTC, "" for open
		loc        string // viewer zone, "" for UTC
		want       []string
	}{
		{
			name: "US DST starts: 09:00 New York stays 09:00", file: "recur/dst-us.ics",
			start: "20240301T000000Z", end: "20240320T000000Z",
			want: []string{
				"20240305T140000Z/20240305T150000Z standup",
				"20240312T130000Z/20240312T140000Z standup",
				"20240319T130000Z/20240319T140000Z standup",
			},
		},
		{
			name: "US DST ends; UNTIL in UTC bounds the rule", file: "recur/dst-us.ics",
			start: "20241025T000000Z", end: "20241231T000000Z",
			want: []string{
				"20241029T130000Z/20241029T140000Z standup",
				"20241105T140000Z/20241105T150000Z standup",
				"20241112T140000Z/20241112T150000Z standup",
			},
		},
		{
			name: "EU DST starts", file: "recur/dst-eu.ics",
			start: "20240325T000000Z", end: "20240408T000000Z",
			want: []string{
				"20240329T080000Z/20240329T093000Z weekly",
				"20240405T070000Z/20240405T083000Z weekly",
			},
		},
		{
			name: "EU DST ends", file: "recur/dst-eu.ics",
			start: "20241021T000000Z", end: "20241104T000000Z",
			want: []string{
				"20241025T070000Z/20241025T083000Z weekly",
				"20241101T080000Z/20241101T093000Z weekly",
			},
		},
		{
			name: "EU event between the US and EU changes keeps its UTC time", file: "recur/dst-eu.ics",
			start: "20240311T000000Z", end: "20240325T000000Z",
			want: []string{
				"20240315T080000Z/20240315T093000Z weekly",
				"20240322T080000Z/20240322T093000Z weekly",
			},
		},
		{
			name: "range boundaries: start inclusive of an overlapping instance, end exclusive", file: "recur/dst-eu.ics",
			start: "20240315T093000Z", end: "20240322T080000Z",
			want: nil,
		},
		{
			name: "range starting inside an instance", file: "recur/dst-eu.ics",
			start: "20240315T092959Z", end: "20240315T093000Z",
			want: []string{"20240315T080000Z/20240315T093000Z weekly"},
		},
		{
			name: "nonexistent and repeated local times (RFC 5545 §3.3.5)", file: "recur/dst-gap.ics",
			want: []string{
				"20240309T073000Z/20240309T080000Z gap",
				"20240310T073000Z/20240310T080000Z gap",
				"20241103T053000Z/20241103T060000Z overlap",
			},
		},
		{
			name: "moved, cancelled and excluded instances", file: "recur/overrides.ics",
			want: []string{
				"20240108T090000Z/20240108T100000Z planning",
				"20240116T130000Z/20240116T143000Z moved",
				"20240122T090000Z/20240122T100000Z planning",
				"20240205T090000Z/20240205T100000Z cancelled",
				"20240212T090000Z/20240212T100000Z planning",
			},
		},
		{
			name: "an override moved into the range from outside", file: "recur/overrides.ics",
			start: "20240116T000000Z", end: "20240117T000000Z",
			want: []string{"20240116T130000Z/20240116T143000Z moved"},
		},
		{
			name: "an override moved out of the range", file: "recur/overrides.ics",
			start: "20240115T000000Z", end: "20240116T000000Z",
			want: nil,
		},
		{
			name: "EXDATE lists, several EXDATE lines, EXDATE in UTC", file: "recur/exdate-list.ics",
			want: []string{
				"20240101T140000Z/20240101T141500Z daily",
				"20240103T140000Z/20240103T141500Z daily",
				"20240105T140000Z/20240105T141500Z daily",
				"20240107T140000Z/20240107T141500Z daily",
				"20240109T140000Z/20240109T141500Z daily",
				"20240110T140000Z/20240110T141500Z daily",
			},
		},
		{
			name: "RDATE PERIOD values and RDATE lists", file: "recur/rdate-period.ics",
			want: []string{
				"20240101T100000Z/20240101T110000Z rdates",
				"20240105T100000Z/20240105T123000Z rdates",
				"20240106T100000Z/20240106T103000Z rdates",
				"20240110T150000Z/20240110T160000Z rdates",
			},
		},
		{
			name: "yearly all-day on 29 February skips other years", file: "recur/allday.ics",
			start: "20230101T000000Z", end: "20290101T000000Z",
			want: []string{
				"20240229T000000Z/20240301T000000Z leap-birthday allday",
				"20280229T000000Z/20280301T000000Z leap-birthday allday",
			},
		},
		{
			name: "all-day read in the calendar's zone", file: "recur/allday.ics", loc: "America/Los_Angeles",
			start: "20240101T000000Z", end: "20250101T000000Z",
			want: []string{"20240229T080000Z/20240301T080000Z leap-birthday allday"},
		},
		{
			name: "multi-day all-day across a DST change", file: "recur/allday-multi.ics", loc: "Europe/Berlin",
			want: []string{
				"20240307T230000Z/20240310T230000Z trip allday",
				"20240407T220000Z/20240410T220000Z trip allday",
			},
		},
		{
			name: "all-day EXDATE list and a moved all-day override", file: "recur/allday-exdate.ics", loc: "America/New_York",
			want: []string{
				"20240401T040000Z/20240402T040000Z holiday allday",
				"20240405T040000Z/20240407T040000Z moved holiday allday",
			},
		},
		{
			name: "floating times read in the calendar's zone", file: "recur/floating.ics", loc: "Asia/Tokyo",
			want: []string{
				"20240101T000000Z/20240101T003000Z float",
				"20240102T000000Z/20240102T003000Z float",
				"20240103T000000Z/20240103T003000Z float",
			},
		},
		{
			name: "Windows zone name", file: "recur/windows.ics",
			want: []string{
				"20240325T080000Z/20240325T090000Z outlook",
				"20240401T070000Z/20240401T080000Z outlook",
			},
		},
		{
			name: "custom VTIMEZONE with a non-IANA TZID", file: "recur/custom-tz.ics",
			want: []string{
				"20240322T083000Z/20240322T093000Z custom",
				"20240329T083000Z/20240329T093000Z custom",
				"20240405T073000Z/20240405T083000Z custom",
			},
		},
		{
			name: "custom VTIMEZONE with historic rules and a rule past its last computed year", file: "recur/custom-tz-history.ics",
			want: []string{
				"20060320T140000Z/20060320T150000Z history",
				"20060410T130000Z/20060410T140000Z history",
				"20240320T130000Z/20240320T140000Z history",
				"21500320T130000Z/21500320T140000Z history",
			},
		},
		{
			name: "THISANDFUTURE moves the later instances", file: "recur/thisandfuture.ics",
			want: []string{
				"20240102T100000Z/20240102T110000Z before",
				"20240109T100000Z/20240109T110000Z before",
				"20240116T113000Z/20240116T130000Z after",
				"20240123T113000Z/20240123T130000Z after",
				"20240130T113000Z/20240130T130000Z after",
			},
		},
		{
			name: "THISANDFUTURE instance shifted into the range", file: "recur/thisandfuture.ics",
			start: "20240123T110000Z", end: "20240123T120000Z",
			want: []string{"20240123T113000Z/20240123T130000Z after"},
		},
		{
			name: "several RRULEs; DTSTART counts as the first occurrence", file: "recur/multi-rrule.ics",
			want: []string{
				"20240101T120000Z/20240101T120000Z multi",
				"20240108T120000Z/20240108T120000Z multi",
				"20240115T120000Z/20240115T120000Z multi",
				"20240215T120000Z/20240215T120000Z multi",
			},
		},
		{
			name: "recurring VTODO by DUE (RFC 4791 §9.9)", file: "recur/todo.ics",
			start: "20240102T160000Z", end: "20240102T163000Z",
			want: []string{"20240102T090000Z/20240102T170000Z todo"},
		},
		{
			name: "VTODO range starting at DUE does not match", file: "recur/todo.ics",
			start: "20240102T170000Z", end: "20240102T180000Z",
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cal := loadCal(t, tc.file)
			loc := time.UTC
			if tc.loc != "" {
				loc = mustLoc(t, tc.loc)
			}
			ins, err := Instances(cal, utc(tc.start), utc(tc.end), loc, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, in := range ins {
				got = append(got, describe(in))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// TestWeeklyWallClock: a weekly 09:00 Berlin event stays at 09:00 local
// through both DST changes of a year.
func TestWeeklyWallClock(t *testing.T) {
	cal := loadCal(t, "recur/dst-eu.ics")
	berlin := mustLoc(t, "Europe/Berlin")
	ins, err := Instances(cal, utc("20240301T000000Z"), utc("20241130T000000Z"), time.UTC, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 40 {
		t.Fatalf("got %d instances, want 40", len(ins))
	}
	for _, in := range ins {
		l := in.Start.In(berlin)
		if l.Hour() != 9 || l.Minute() != 0 || l.Weekday() != time.Friday || in.End.Sub(in.Start) != 90*time.Minute {
			t.Errorf("instance %s is %s local", describe(in), l)
		}
		if !in.RecurrenceID.Equal(in.Start) {
			t.Errorf("RECURRENCE-ID %s for %s", in.RecurrenceID, describe(in))
		}
	}
}

func TestComponentInstancesOverride(t *testing.T) {
	cal := loadCal(t, "recur/overrides.ics")
	var moved *ical.Component
	for _, c := range cal.Children {
		if p := c.Props.Get(ical.PropSummary); p != nil && p.Value == "moved" {
			moved = c
		}
	}
	ins, err := ComponentInstances(cal, moved, time.Time{}, time.Time{}, time.UTC, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 1 || describe(ins[0]) != "20240116T130000Z/20240116T143000Z moved" ||
		!ins[0].RecurrenceID.Equal(utc("20240115T090000Z")) {
		t.Fatalf("got %v", ins)
	}
	master := cal.Children[0]
	ins, err = ComponentInstances(cal, master, time.Time{}, time.Time{}, time.UTC, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 3 {
		t.Fatalf("master: got %d instances, want 3", len(ins))
	}
}

// TestOpenEndedPartial: an endless rule against a range without end hits
// the limit, and the instances found so far come back with the error.
func TestOpenEndedPartial(t *testing.T) {
	cal := loadCal(t, "recur/dst-eu.ics")
	ins, err := Instances(cal, utc("20300101T000000Z"), time.Time{}, time.UTC, Limits{MaxInstances: 50, MaxWork: 10_000})
	if !errors.Is(err, ErrTooManyInstances) {
		t.Fatalf("err = %v", err)
	}
	if len(ins) == 0 || describe(ins[0]) != "20300104T080000Z/20300104T093000Z weekly" {
		t.Fatalf("got %d instances, first %v", len(ins), ins)
	}
}

// TestHostileRules: rules that would run forever or produce millions of
// instances stop within the work budget, quickly.
func TestHostileRules(t *testing.T) {
	// openErr: the expected outcome over an open range (as when indexing):
	// "too many", "none" (no instance, no error) or "either" (a rule that
	// never matches and has no end cannot be told apart from a very sparse
	// one without scanning to the year 9999, which the budget forbids).
	// Over a one-day window every rule answers exactly and without error.
	tests := []struct {
		name, rule string
		openErr    string
		inDay      int
	}{
		{"secondly without end", "FREQ=SECONDLY", "too many", -1},
		{"minutely without end", "FREQ=MINUTELY;INTERVAL=1", "too many", 1440},
		{"huge COUNT", "FREQ=SECONDLY;COUNT=2000000000", "too many", -1},
		{"never matches: 31 February", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31", "none", 1},
		{"never matches daily", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "either", 1},
		{"never matches secondly", "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=23;BYMINUTE=59;BYSECOND=59", "either", 1},
		{"unreachable hour (rrule-go loops forever)", "FREQ=HOURLY;INTERVAL=24;BYHOUR=5", "either", 1},
		{"unreachable minute", "FREQ=MINUTELY;INTERVAL=60;BYMINUTE=7", "either", 1},
		{"BYSETPOS abuse", "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=" + seq(0, 23) + ";BYMINUTE=" + seq(0, 59) + ";BYSECOND=" + seq(0, 59) + ";BYSETPOS=" + seq(1, 366) + "," + seq(-366, -1), "too many", -1},
		{"BYSETPOS abuse, count", "FREQ=MONTHLY;BYMONTHDAY=" + seq(1, 31) + ";BYHOUR=" + seq(0, 23) + ";BYMINUTE=" + seq(0, 59) + ";BYSETPOS=" + seq(1, 366) + ";COUNT=100000000", "too many", 366},
		{"sparse secondly", "FREQ=SECONDLY;BYHOUR=23;BYMINUTE=59;BYSECOND=59;BYMONTH=12;BYMONTHDAY=31", "either", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:h\r\nDTSTAMP:20240101T000000Z\r\n" +
				"DTSTART:20240101T000000Z\r\nRRULE:" + tc.rule + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
			cal, err := decodeCalendar([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			begin := time.Now()
			go func() {
				_, err := Instances(cal, time.Time{}, time.Time{}, time.UTC, DefaultLimits)
				done <- err
			}()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second): // a hang guard, not a speed assertion
				t.Fatal("expansion did not stop")
			}
			t.Logf("open range: %v in %v", err, time.Since(begin))
			switch {
			case tc.openErr == "too many" && !errors.Is(err, ErrTooManyInstances),
				tc.openErr == "none" && err != nil,
				tc.openErr == "either" && err != nil && !errors.Is(err, ErrTooManyInstances):
				t.Fatalf("open range: err = %v, want %s", err, tc.openErr)
			}
			ins, err := Instances(cal, utc("20240101T000000Z"), utc("20240102T000000Z"), time.UTC, DefaultLimits)
			if tc.inDay < 0 {
				if !errors.Is(err, ErrTooManyInstances) {
					t.Fatalf("one day: err = %v, want ErrTooManyInstances", err)
				}
				return
			}
			if err != nil || len(ins) != tc.inDay {
				t.Fatalf("one day: %d instances, err %v; want %d", len(ins), err, tc.inDay)
			}
		})
	}
}

func seq(from, to int) string {
	var s []string
	for i := from; i <= to; i++ {
		s = append(s, strconv.Itoa(i))
	}
	return strings.Join(s, ",")
}

// TestRuleDuplicates: duplicated BY values (which rrule-go multiplies into
// its time set) cost nothing.
func TestRuleDuplicates(t *testing.T) {
	list := strings.Repeat("1,", 600) + "1"
	rule := "FREQ=YEARLY;BYHOUR=" + list + ";BYMINUTE=" + list + ";BYSECOND=" + list
	begin := time.Now()
	spec, err := parseRuleText(rule, dtValue{wall: utc("20240101T000000Z"), kind: kindUTC}, NewZones(nil), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.byhour) != 1 || len(spec.byminute) != 1 || len(spec.bysecond) != 1 {
		t.Fatalf("lists not reduced: %v %v %v", spec.byhour, spec.byminute, spec.bysecond)
	}
	if d := time.Since(begin); d > 5*time.Second { // a hang guard
		t.Fatalf("took %v", d)
	}
}
