package caldav

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func addSeeds(f *testing.F) {
	for _, dir := range []string{"recur", "validate"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.ics"))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// FuzzParseObject: validation never panics, and an accepted object can be
// expanded over a year and indexed without panicking or failing with
// anything but ErrTooManyInstances.
func FuzzParseObject(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		po, err := ParseObject(body, "text/calendar; charset=utf-8", []string{"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY"})
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error is not a ValidationError: %v", err)
			}
			// Stored objects passed validation, but expansion must
			// not panic on anything the decoder accepts either.
			if cal, err := decodeCalendar(body); err == nil {
				lim := Limits{MaxInstances: 200, MaxWork: 5_000}
				Instances(cal, time.Time{}, time.Time{}, nil, lim)
				Span(cal, lim)
			}
			return
		}
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		lim := Limits{MaxInstances: 1000, MaxWork: 20_000}
		for _, loc := range []*time.Location{time.UTC, time.FixedZone("x", -11*3600)} {
			ins, err := Instances(po.Cal, start, start.AddDate(1, 0, 0), loc, lim)
			if err != nil && !errors.Is(err, ErrTooManyInstances) {
				t.Fatalf("Instances: %v", err)
			}
			for _, in := range ins {
				if in.Component == nil {
					t.Fatal("instance without component")
				}
				for _, a := range in.Component.Children {
					if _, err := ComponentInstances(po.Cal, a, start, start.AddDate(1, 0, 0), loc, lim); err != nil && !errors.Is(err, ErrTooManyInstances) {
						t.Fatalf("ComponentInstances: %v", err)
					}
				}
			}
		}
		if _, err := FreeBusy(nil, start, start.AddDate(0, 1, 0), nil, lim); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzRule: any RRULE text either fails to parse or expands within the
// budget.
func FuzzRule(f *testing.F) {
	for _, s := range []string{
		"FREQ=DAILY;COUNT=10", "FREQ=SECONDLY", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31", "FREQ=HOURLY;INTERVAL=24;BYHOUR=5",
		"FREQ=MONTHLY;BYDAY=-1FR;BYSETPOS=-1", "FREQ=YEARLY;BYWEEKNO=1,-1;BYDAY=MO", "FREQ=WEEKLY;WKST=SU;BYDAY=TU,TH;INTERVAL=2",
		"FREQ=MINUTELY;INTERVAL=7;BYHOUR=3;BYMINUTE=1,2,3;BYSECOND=59", "freq=yearly;byyearday=-1,366;x-foo=bar;",
	} {
		f.Add(s, int64(1704067200), true)
	}
	f.Fuzz(func(t *testing.T, rule string, startUnix int64, zoned bool) {
		if startUnix < -2208988800 || startUnix > 7258118400 { // 1900..2200
			return
		}
		dt := "DTSTART:" + time.Unix(startUnix, 0).UTC().Format("20060102T150405Z")
		if zoned {
			dt = "DTSTART;TZID=America/New_York:" + time.Unix(startUnix, 0).UTC().Format("20060102T150405")
		}
		body := calText("BEGIN:VEVENT", "UID:f", dt, "RRULE:"+rule, "END:VEVENT")
		cal, err := decodeCalendar([]byte(body))
		if err != nil {
			return
		}
		lim := Limits{MaxInstances: 500, MaxWork: 20_000}
		start := time.Unix(startUnix, 0).AddDate(0, 6, 0)
		if _, err := Instances(cal, start, start.AddDate(1, 0, 0), nil, lim); err != nil && !errors.Is(err, ErrTooManyInstances) {
			t.Fatal(err)
		}
		if _, err := Instances(cal, time.Time{}, time.Time{}, nil, lim); err != nil && !errors.Is(err, ErrTooManyInstances) {
			t.Fatal(err)
		}
		Span(cal, lim)
	})
}
