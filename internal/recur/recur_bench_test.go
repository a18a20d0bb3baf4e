package recur

import (
	"testing"
	"time"
)

// BenchmarkInstancesWeekly: one year of a weekly event in a DST zone, with
// an override and an EXDATE, queried over a month and over a year.
func BenchmarkInstancesWeekly(b *testing.B) {
	cal := loadCal(b, "recur/overrides.ics")
	weekly := loadCal(b, "recur/dst-eu.ics")
	for _, bc := range []struct {
		name       string
		start, end time.Time
	}{
		{"month", utc("20240601T000000Z"), utc("20240701T000000Z")},
		{"year", utc("20240101T000000Z"), utc("20250101T000000Z")},
		{"month-10y-later", utc("20340601T000000Z"), utc("20340701T000000Z")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Instances(weekly, bc.start, bc.end, time.UTC, DefaultLimits); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("overrides", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Instances(cal, utc("20240101T000000Z"), utc("20240301T000000Z"), time.UTC, DefaultLimits); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHostile: the cost of the worst rules over an open range, as when
// indexing, under DefaultLimits.
func BenchmarkHostile(b *testing.B) {
	for _, bc := range []struct{ name, rule string }{
		{"secondly", "FREQ=SECONDLY"},
		{"huge-count", "FREQ=SECONDLY;COUNT=2000000000"},
		{"feb31-yearly", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31"},
		{"feb30-daily", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"},
		{"feb30-secondly", "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=23;BYMINUTE=59;BYSECOND=59"},
		{"never-weekday", "FREQ=DAILY;INTERVAL=7;BYDAY=TU"},
		{"unreachable-hour", "FREQ=HOURLY;INTERVAL=24;BYHOUR=5"},
		{"bysetpos", "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=" + seq(0, 23) + ";BYMINUTE=" + seq(0, 59) + ";BYSECOND=" + seq(0, 59) + ";BYSETPOS=" + seq(1, 366)},
		{"sparse-secondly", "FREQ=SECONDLY;BYHOUR=23;BYMINUTE=59;BYSECOND=59;BYMONTH=12;BYMONTHDAY=31"},
	} {
		cal, err := decodeCalendar([]byte(calText("BEGIN:VEVENT", "UID:h", "DTSTART:20240101T000000Z", "RRULE:"+bc.rule, "END:VEVENT")))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Instances(cal, time.Time{}, time.Time{}, time.UTC, DefaultLimits)
			}
		})
	}
}
