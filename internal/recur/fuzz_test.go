package recur

import (
	"errors"
	"testing"
	"time"
)

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
		Span(cal, nil, lim)
	})
}
