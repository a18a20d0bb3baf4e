package caldav

import (
	"time"

	"github.com/emersion/go-ical"
)

// indexObject fills the instance span of po.
func indexObject(po *ParsedObject) {
	first, last := Span(po.Cal, nil)
	po.FirstStart, po.LastEnd = first, last
}

// Span returns the span of all instances of cal for SQL narrowing.
func Span(cal *ical.Calendar, _ *time.Location) (first, last *time.Time) {
	ins, err := Instances(cal, time.Time{}, time.Time{}, time.UTC, DefaultLimits)
	if err != nil || len(ins) == 0 {
		return nil, nil
	}
	f, l := ins[0].Start, ins[0].End
	for _, in := range ins {
		if in.Start.Before(f) {
			f = in.Start
		}
		if in.End.After(l) {
			l = in.End
		}
	}
	return &f, &l
}
