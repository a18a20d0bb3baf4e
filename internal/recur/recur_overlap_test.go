package recur

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

// TestOverlapsRFC4791 runs the conditions of RFC 4791 §9.9 through
// Instances, one component per case, against ranges around its times.
func TestOverlapsRFC4791(t *testing.T) {
	type rng struct {
		start, end string
		want       bool
	}
	tests := []struct {
		name   string
		comp   []string
		ranges []rng
	}{
		{"VEVENT with DTEND: start < DTEND AND end > DTSTART",
			[]string{"BEGIN:VEVENT", "UID:a", "DTSTART:20240110T100000Z", "DTEND:20240110T110000Z", "END:VEVENT"},
			[]rng{{"20240110T110000Z", "20240110T120000Z", false}, {"20240110T105959Z", "20240110T120000Z", true},
				{"20240110T090000Z", "20240110T100000Z", false}, {"20240110T090000Z", "20240110T100001Z", true}, {"", "", true}}},
		{"VEVENT with zero DURATION: start <= DTSTART AND end > DTSTART",
			[]string{"BEGIN:VEVENT", "UID:a", "DTSTART:20240110T100000Z", "DURATION:PT0S", "END:VEVENT"},
			[]rng{{"20240110T100000Z", "20240110T110000Z", true}, {"20240110T090000Z", "20240110T100000Z", false}, {"20240110T100001Z", "", false}}},
		{"VEVENT on a DATE lasts the day",
			[]string{"BEGIN:VEVENT", "UID:a", "DTSTART;VALUE=DATE:20240110", "END:VEVENT"},
			[]rng{{"20240110T230000Z", "20240111T000000Z", true}, {"20240111T000000Z", "20240112T000000Z", false}}},
		{"VTODO DTSTART+DURATION: start <= DTSTART+DURATION AND (end > DTSTART OR end >= DTSTART+DURATION)",
			[]string{"BEGIN:VTODO", "UID:a", "DTSTART:20240110T100000Z", "DURATION:PT1H", "END:VTODO"},
			[]rng{{"20240110T110000Z", "20240110T120000Z", true}, {"20240110T110001Z", "20240110T120000Z", false},
				{"20240110T090000Z", "20240110T100000Z", false}, {"20240110T090000Z", "20240110T100001Z", true}}},
		{"VTODO DTSTART+DUE: (start < DUE OR start <= DTSTART) AND (end > DTSTART OR end >= DUE)",
			[]string{"BEGIN:VTODO", "UID:a", "DTSTART:20240110T100000Z", "DUE:20240110T110000Z", "END:VTODO"},
			[]rng{{"20240110T110000Z", "20240110T120000Z", false}, {"20240110T105959Z", "20240110T120000Z", true},
				{"20240110T090000Z", "20240110T100000Z", false}}},
		{"VTODO DTSTART only: start <= DTSTART AND end > DTSTART",
			[]string{"BEGIN:VTODO", "UID:a", "DTSTART:20240110T100000Z", "END:VTODO"},
			[]rng{{"20240110T100000Z", "20240110T100001Z", true}, {"20240110T090000Z", "20240110T100000Z", false}}},
		{"VTODO DUE only: start < DUE AND end >= DUE",
			[]string{"BEGIN:VTODO", "UID:a", "DUE:20240110T100000Z", "END:VTODO"},
			[]rng{{"20240110T090000Z", "20240110T100000Z", true}, {"20240110T100000Z", "20240110T110000Z", false}}},
		{"VTODO COMPLETED and CREATED",
			[]string{"BEGIN:VTODO", "UID:a", "CREATED:20240110T100000Z", "COMPLETED:20240112T100000Z", "END:VTODO"},
			[]rng{{"20240111T000000Z", "20240111T010000Z", true}, {"20240112T100000Z", "20240112T110000Z", true},
				{"20240112T100001Z", "20240112T110000Z", false}, {"20240110T090000Z", "20240110T095959Z", false}}},
		{"VTODO COMPLETED only: start <= COMPLETED AND end >= COMPLETED",
			[]string{"BEGIN:VTODO", "UID:a", "COMPLETED:20240112T100000Z", "END:VTODO"},
			[]rng{{"20240112T100000Z", "20240112T110000Z", true}, {"20240112T090000Z", "20240112T100000Z", true}, {"20240112T100001Z", "", false}}},
		{"VTODO CREATED only: end > CREATED",
			[]string{"BEGIN:VTODO", "UID:a", "CREATED:20240110T100000Z", "END:VTODO"},
			[]rng{{"20300101T000000Z", "20300102T000000Z", true}, {"20240101T000000Z", "20240110T100000Z", false}}},
		{"VTODO without dates: TRUE",
			[]string{"BEGIN:VTODO", "UID:a", "END:VTODO"},
			[]rng{{"19700101T000000Z", "19700102T000000Z", true}}},
		{"VJOURNAL DATE-TIME: start <= DTSTART AND end > DTSTART",
			[]string{"BEGIN:VJOURNAL", "UID:a", "DTSTART:20240110T100000Z", "END:VJOURNAL"},
			[]rng{{"20240110T100000Z", "20240110T100001Z", true}, {"20240110T090000Z", "20240110T100000Z", false}}},
		{"VJOURNAL without DTSTART: FALSE",
			[]string{"BEGIN:VJOURNAL", "UID:a", "END:VJOURNAL"},
			[]rng{{"", "", false}}},
		{"VFREEBUSY DTSTART/DTEND: start <= DTEND AND end > DTSTART",
			[]string{"BEGIN:VFREEBUSY", "UID:a", "DTSTART:20240110T100000Z", "DTEND:20240110T110000Z", "END:VFREEBUSY"},
			[]rng{{"20240110T110000Z", "20240110T120000Z", true}, {"20240110T090000Z", "20240110T100000Z", false}}},
		{"VFREEBUSY FREEBUSY periods",
			[]string{"BEGIN:VFREEBUSY", "UID:a", "FREEBUSY:20240110T100000Z/PT1H,20240111T100000Z/20240111T120000Z", "END:VFREEBUSY"},
			[]rng{{"20240111T110000Z", "20240111T113000Z", true}, {"20240110T110000Z", "20240111T100000Z", false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cal, err := decodeCalendar([]byte(calText(tc.comp...)))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tc.ranges {
				ins, err := Instances(cal, utc(r.start), utc(r.end), time.UTC, DefaultLimits)
				if err != nil {
					t.Fatal(err)
				}
				if got := len(ins) > 0; got != r.want {
					t.Errorf("[%s, %s): got %v, want %v", r.start, r.end, got, r.want)
				}
			}
		})
	}
}

// TestDueAnchoredTodo: a VTODO with DUE and RRULE but no DTSTART recurs
// from its DUE; each instance is the RFC 4791 §9.9 "DUE only" point, and
// EXDATE, overrides (RECURRENCE-ID = the original DUE, including
// THISANDFUTURE) and alarms apply to it as to any recurrence set.
func TestDueAnchoredTodo(t *testing.T) {
	cal, err := decodeCalendar([]byte(calText(
		"BEGIN:VTODO", "UID:t", "DUE;TZID=Europe/Berlin:20240301T170000", "RRULE:FREQ=WEEKLY;COUNT=6", "EXDATE;TZID=Europe/Berlin:20240308T170000",
		"SUMMARY:report",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER;RELATED=END:-PT1H", "END:VALARM",
		"END:VTODO",
		"BEGIN:VTODO", "UID:t", "RECURRENCE-ID;TZID=Europe/Berlin:20240315T170000", "DUE;TZID=Europe/Berlin:20240316T120000", "SUMMARY:late", "END:VTODO",
		"BEGIN:VTODO", "UID:t", "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20240329T170000", "DUE;TZID=Europe/Berlin:20240329T180000",
		"SUMMARY:later", "END:VTODO",
	)))
	if err != nil {
		t.Fatal(err)
	}
	ins, err := Instances(cal, time.Time{}, time.Time{}, time.UTC, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range ins {
		got = append(got, describe(in)+" rid "+in.RecurrenceID.Format("0102T1504"))
	}
	// Berlin is UTC+1 until 31 March 2024, UTC+2 after.
	want := []string{
		"20240301T160000Z/20240301T160000Z report rid 0301T1600",
		"20240316T110000Z/20240316T110000Z late rid 0315T1600",
		"20240322T160000Z/20240322T160000Z report rid 0322T1600",
		"20240329T170000Z/20240329T170000Z later rid 0329T1600",
		"20240405T160000Z/20240405T160000Z later rid 0405T1500",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("instances\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for _, r := range []struct {
		start, end string
		want       bool
	}{
		{"20240322T000000Z", "20240322T160000Z", true},  // end >= DUE
		{"20240322T160000Z", "20240323T000000Z", false}, // start < DUE fails
		{"20240308T000000Z", "20240309T000000Z", false}, // excluded
		{"20240315T000000Z", "20240316T000000Z", false}, // moved away
		{"20240412T000000Z", "20240501T000000Z", false}, // after COUNT
	} {
		ins, err := Instances(cal, utc(r.start), utc(r.end), time.UTC, DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if (len(ins) > 0) != r.want {
			t.Errorf("[%s, %s): %d instances, want match %v", r.start, r.end, len(ins), r.want)
		}
	}
	alarm := cal.Children[0].Children[0]
	ins, err = ComponentInstances(cal, alarm, utc("20240322T000000Z"), utc("20240323T000000Z"), nil, DefaultLimits)
	if err != nil || len(ins) != 1 || !ins[0].Start.Equal(utc("20240322T150000Z")) {
		t.Fatalf("alarm an hour before the 22 March DUE: %v %v", ins, err)
	}
}

func TestAlarmInstances(t *testing.T) {
	cal, err := decodeCalendar([]byte(calText(
		"BEGIN:VEVENT", "UID:a", "DTSTART;TZID=Europe/Berlin:20240110T100000", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=3",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "REPEAT:2", "DURATION:PT5M", "END:VALARM",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER;RELATED=END:PT0S", "END:VALARM",
		"END:VEVENT")))
	if err != nil {
		t.Fatal(err)
	}
	alarm, endAlarm := cal.Children[0].Children[0], cal.Children[0].Children[1]
	ins, err := ComponentInstances(cal, alarm, utc("20240111T084000Z"), utc("20240111T085500Z"), nil, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range ins {
		got = append(got, in.Start.Format("0102T1504"))
		if in.Component != alarm || !in.RecurrenceID.Equal(utc("20240111T090000Z")) {
			t.Errorf("instance %+v", in)
		}
	}
	if want := "[0111T0845 0111T0850]"; fmtList(got) != want {
		t.Fatalf("triggers %v, want %s", got, want)
	}
	ins, err = ComponentInstances(cal, endAlarm, time.Time{}, time.Time{}, nil, DefaultLimits)
	if err != nil || len(ins) != 3 || !ins[2].Start.Equal(utc("20240112T100000Z")) {
		t.Fatalf("end alarm: %v %v", ins, err)
	}
	abs, err := decodeCalendar([]byte(calText("BEGIN:VTODO", "UID:t", "DUE:20240110T100000Z",
		"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER;VALUE=DATE-TIME:20240109T080000Z", "END:VALARM", "END:VTODO")))
	if err != nil {
		t.Fatal(err)
	}
	ins, err = ComponentInstances(abs, abs.Children[0].Children[0], utc("20240109T080000Z"), utc("20240109T080001Z"), nil, DefaultLimits)
	if err != nil || len(ins) != 1 {
		t.Fatalf("absolute trigger: %v %v", ins, err)
	}
	_ = ical.CompAlarm
}

func fmtList(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out + "]"
}
