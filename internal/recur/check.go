package recur

import (
	"errors"
	"time"

	"github.com/emersion/go-ical"
)

// Check reports the first date, time or recurrence value of the component c
// that expansion cannot use: DTSTART, DTEND, DUE, DURATION, RRULE, RDATE,
// EXDATE (RFC 5545 §3.8.2, §3.8.5), and COMPLETED, CREATED, DTSTAMP and
// LAST-MODIFIED (§3.8.2.1, §3.8.7). The error is one of this package's, or
// wraps one. A component with no start at all passes: it has no instances,
// and whether it may lack one is for the caller to decide. z holds the
// zones of c's calendar.
func Check(c *ical.Component, z *Zones) error {
	x := &expander{zones: z, viewer: time.UTC, lim: DefaultLimits}
	if _, err := x.shapeOf(c); err != nil && !errors.Is(err, ErrNoStart) {
		return err
	}
	for _, name := range []string{ical.PropCompleted, ical.PropCreated, ical.PropDateTimeStamp, ical.PropLastModified} {
		if p := c.Props.Get(name); p != nil {
			if _, err := propDT(p, z); err != nil {
				return err
			}
		}
	}
	return nil
}

// Time returns the instant of a DATE or DATE-TIME property, such as a
// RECURRENCE-ID; floating and DATE values are read in loc (UTC when nil).
// z may be nil when p has no TZID parameter.
func (z *Zones) Time(p *ical.Prop, loc *time.Location) (time.Time, error) {
	v, err := propDT(p, z)
	if err != nil {
		return time.Time{}, err
	}
	if loc == nil {
		loc = time.UTC
	}
	return v.abs(loc), nil
}

// Period is one PERIOD value (RFC 5545 §3.3.9) as two instants.
type Period struct {
	Start, End time.Time
}

// Periods reads a property holding a comma-separated list of PERIOD values,
// such as FREEBUSY (RFC 5545 §3.8.2.6); floating values are read in loc. A
// DATE or DATE-TIME item is a period of no length.
func (z *Zones) Periods(p *ical.Prop, loc *time.Location) ([]Period, error) {
	ps, err := dtList(p, z)
	if err != nil {
		return nil, err
	}
	out := make([]Period, len(ps))
	for i, pr := range ps {
		out[i].Start = pr.start.abs(loc)
		out[i].End = endOf(pr.start, pr.dur, loc)
		if pr.hasEnd {
			out[i].End = pr.end.abs(loc)
		}
	}
	return out, nil
}
