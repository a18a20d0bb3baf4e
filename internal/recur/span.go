package recur

import (
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// floatingSlack widens the span of objects with floating or all-day times:
// they are indexed in UTC, but read in the viewer's zone, whose offset lies
// between -12h and +14h.
const floatingSlack = 14 * time.Hour

// spanPadding makes the span safe for SQL whichever way the range test is
// written: RFC 4791 §9.9 mixes strict and inclusive comparisons (a
// zero-length event at T matches a range starting at T; a VTODO due at T
// matches a range ending at T), and instants have whole seconds.
const spanPadding = time.Second

// spanMaxInstances is the most instances Span expands before it gives up
// the last end.
const spanMaxInstances = 20_000

// Span returns the span of all instances of the calendar object cal, for the
// index a store narrows time-range queries with (first start, last end): every instance that the exact
// RFC 4791 §9.9 test can match against any range lies within [first, last],
// for every viewer zone. nil is unbounded on that side: a recurrence without
// COUNT or UNTIL has no last end, a VTODO without any date matches every
// range, and a set too large to expand within lim falls back to its earliest
// possible start and no end. The bounds are a superset, not exact: floating
// and all-day objects are widened by 14 hours each way, and both sides are
// padded by a second. z holds cal's zones; nil makes them.
func Span(cal *ical.Calendar, z *Zones, lim Limits) (first, last *time.Time) {
	if cal == nil || cal.Component == nil {
		return nil, nil
	}
	if z == nil {
		z = NewZones(cal)
	}
	return span(cal, lim, z)
}

func span(cal *ical.Calendar, lim Limits, z *Zones) (first, last *time.Time) {
	slack := spanPadding
	if hasFloating(cal.Component) {
		slack += floatingSlack
	}
	lo, loOK := lowerBound(cal, z)
	// A VALARM inside a component fires before or after its instances
	// (RFC 5545 §3.8.6.3), and a time-range on the VALARM matches its
	// trigger times: widen the span to reach them.
	lead, lag, absTriggers := alarmReach(cal, z)
	for _, t := range absTriggers {
		if loOK && t.Before(lo) {
			lo = t
		}
	}
	fallback := func() (*time.Time, *time.Time) {
		if !loOK {
			return nil, nil
		}
		f := lo.Add(-slack - lead)
		return &f, nil
	}
	if openEnded(cal) {
		return fallback()
	}
	// The span needs every instance once, at write time: allow more of
	// them than a query would (20 years of a daily event), within the
	// same work budget.
	lim = lim.orDefault()
	lim.MaxInstances = max(lim.MaxInstances, spanMaxInstances)
	ins, err := instances(newExpanderZones(cal, z, time.UTC, lim), time.Time{}, time.Time{})
	if err != nil || len(ins) == 0 {
		// No instance at all (a VJOURNAL without DTSTART, a set whose
		// every instance is excluded) matches no range, but nil is the
		// safe answer: the exact test decides.
		return fallback()
	}
	var f, l time.Time
	lastOpen := false
	for i, in := range ins {
		openStart, openEnd := in.unbounded()
		if openStart {
			return nil, nil
		}
		s, e := in.Start, in.End
		if openEnd {
			e = s
			lastOpen = true
		}
		if e.Before(s) {
			s, e = e, s
		}
		if i == 0 || s.Before(f) {
			f = s
		}
		if i == 0 || e.After(l) {
			l = e
		}
	}
	if lastOpen {
		fs := f.Add(-slack - lead)
		for _, t := range absTriggers {
			if t.Before(fs) {
				fs = t.Add(-slack)
			}
		}
		return &fs, nil
	}
	for _, t := range absTriggers {
		if t.Before(f) {
			f = t
		}
		if t.After(l) {
			l = t
		}
	}
	f, l = f.Add(-slack-lead), l.Add(slack+lag)
	return &f, &l
}

// alarmReach returns how far before (lead) and after (lag) their instance
// the relative triggers of cal's alarms fire, repetitions included, and
// the absolute trigger times.
func alarmReach(cal *ical.Calendar, z *Zones) (lead, lag time.Duration, abs []time.Time) {
	for _, c := range cal.Children {
		for _, a := range c.Children {
			if a.Name != ical.CompAlarm {
				continue
			}
			trig := a.Props.Get(ical.PropTrigger)
			if trig == nil {
				continue
			}
			var rep time.Duration
			if p := a.Props.Get(ical.PropRepeat); p != nil {
				if n, err := p.Int(); err == nil && n > 0 {
					if dp := a.Props.Get(ical.PropDuration); dp != nil {
						if d, err := parseDuration(dp.Value); err == nil && !d.negative() {
							rep = time.Duration(min(n, 1000)) * d.approx()
						}
					}
				}
			}
			if isDateTimeTrigger(trig) {
				if v, err := propDT(trig, z); err == nil {
					t := v.abs(time.UTC)
					abs = append(abs, t, t.Add(rep))
				}
				continue
			}
			d, err := parseDuration(trig.Value)
			if err != nil {
				continue
			}
			off := d.approx()
			// RELATED=END triggers measure from the end, inside the
			// span already; treat them like start-relative ones.
			lead = max(lead, -off)
			lag = max(lag, off+rep)
		}
	}
	return lead, lag, abs
}

// openEnded reports whether a master component recurs without end.
func openEnded(cal *ical.Calendar) bool {
	for _, c := range cal.Children {
		if c.Props.Get(ical.PropRecurrenceID) != nil {
			continue
		}
		for _, p := range c.Props.Values(ical.PropRecurrenceRule) {
			v := strings.ToUpper(p.Value)
			if !strings.Contains(v, "COUNT=") && !strings.Contains(v, "UNTIL=") {
				return true
			}
		}
	}
	return false
}

// lowerBound returns the earliest time any instance of cal can start: the
// earliest DTSTART, DUE, RDATE, COMPLETED or CREATED of its components (read
// in UTC), or false when a component has none of them (it matches every
// range). RRULE instances never precede their DTSTART, and a THISANDFUTURE
// override's later instances never precede the override's own start.
func lowerBound(cal *ical.Calendar, z *Zones) (time.Time, bool) {
	x := newExpanderZones(cal, z, time.UTC, DefaultLimits)
	var lo time.Time
	found := false
	take := func(t time.Time) {
		if !found || t.Before(lo) {
			lo, found = t, true
		}
	}
	for _, c := range cal.Children {
		if !isMain(c.Name) {
			continue
		}
		any := false
		for _, name := range []string{ical.PropDateTimeStart, ical.PropDue, ical.PropCompleted, ical.PropCreated} {
			if p := c.Props.Get(name); p != nil {
				if v, err := propDT(p, x.zones); err == nil {
					take(v.abs(time.UTC))
					any = true
				}
			}
		}
		for i := range c.Props.Values(ical.PropRecurrenceDates) {
			ps, err := dtList(&c.Props.Values(ical.PropRecurrenceDates)[i], x.zones)
			if err != nil {
				continue
			}
			for _, p := range ps {
				take(p.start.abs(time.UTC))
			}
		}
		for i := range c.Props.Values(ical.PropFreeBusy) {
			ps, err := dtList(&c.Props.Values(ical.PropFreeBusy)[i], x.zones)
			if err != nil {
				continue
			}
			for _, p := range ps {
				take(p.start.abs(time.UTC))
				any = true
			}
		}
		if !any && c.Name == ical.CompToDo {
			return time.Time{}, false
		}
	}
	return lo, found
}

func isMain(name string) bool {
	switch name {
	case ical.CompEvent, ical.CompToDo, ical.CompJournal, ical.CompFreeBusy:
		return true
	}
	return false
}

// hasFloating reports whether any date or time value in c (outside
// VTIMEZONE) is floating or a DATE.
func hasFloating(c *ical.Component) bool {
	if c.Name == ical.CompTimezone {
		return false
	}
	for _, name := range []string{ical.PropDateTimeStart, ical.PropDateTimeEnd, ical.PropDue, ical.PropRecurrenceID,
		ical.PropRecurrenceDates, ical.PropExceptionDates, ical.PropTrigger} {
		for _, p := range c.Props.Values(name) {
			if name == ical.PropTrigger && !isDateTimeTrigger(&p) {
				continue
			}
			if p.Params.Get(ical.ParamTimezoneID) != "" {
				continue
			}
			for _, v := range strings.Split(p.Value, ",") {
				v, _, _ = strings.Cut(strings.TrimSpace(v), "/")
				if !strings.HasSuffix(strings.ToUpper(v), "Z") {
					return true
				}
			}
		}
	}
	for _, child := range c.Children {
		if hasFloating(child) {
			return true
		}
	}
	return false
}
