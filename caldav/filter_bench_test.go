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

// BenchmarkTextMatch measures the exact text-match on one event: the
// default i;ascii-casemap and i;unicode-casemap with a non-ASCII term.
func BenchmarkTextMatch(b *testing.B) {
	cal := tqParse(b, tqWrap(`BEGIN:VEVENT
UID:text@example.com
DTSTAMP:20240101T000000Z
DTSTART:20240101T100000Z
SUMMARY:Réunion d'équipe à Zürich — Straße 5
DESCRIPTION:Weekly planning with Zoë Çelik and the ÉQUIPE
END:VEVENT
`))
	for _, tc := range []struct{ name, collation, term string }{
		{"ascii", "", "planning"},
		{"unicode", ` collation="i;unicode-casemap"`, "ZOË ÇELIK"},
	} {
		f := tqFilter(b, `<C:comp-filter name="VEVENT"><C:prop-filter name="DESCRIPTION"><C:text-match`+tc.collation+`>`+tc.term+`</C:text-match></C:prop-filter></C:comp-filter>`)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ok, err := f.Match(cal, time.UTC, recur.DefaultLimits)
				if err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
