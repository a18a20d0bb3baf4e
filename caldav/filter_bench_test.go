package caldav

import (
	"testing"
	"time"

	"github.com/davenport-dav/davenport/internal/recur"
)

// BenchmarkFilterMatch measures a time-range query on a weekly recurring
// event with an override and an exclusion, a month a few years into the
// series.
func BenchmarkFilterMatch(b *testing.B) {
	cal := tqParse(b, tqWeekly)
	f := tqFilter(b, `<C:comp-filter name="VEVENT"><C:time-range start="20270301T000000Z" end="20270401T000000Z"/></C:comp-filter>`)
	b.ReportAllocs()
	for b.Loop() {
		ok, err := f.Match(cal, time.UTC, recur.DefaultLimits)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkRenderExpand measures expanding the same event over a month.
func BenchmarkRenderExpand(b *testing.B) {
	r := tqCalendarData(b, `><C:expand start="20270301T000000Z" end="20270401T000000Z"/>`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(tqWeekly, time.UTC, recur.DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}
