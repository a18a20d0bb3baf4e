package recur

import (
	"slices"
	"time"
)

// occurrence is one member of a recurrence set before overrides apply: a
// start in the frame of DTSTART (or of its RDATE), and for an RDATE PERIOD
// its own end.
type occurrence struct {
	start  dtValue
	abs    time.Time
	period *period // an RDATE PERIOD, else nil
}

// maxLength is an upper bound of the length of any instance of s, used to
// widen the window of original starts.
func (s *shape) maxLength() time.Duration {
	d := time.Duration(s.dur.days)*25*time.Hour + time.Duration(s.dur.secs)*time.Second
	for _, p := range s.rdates {
		if p.hasEnd {
			d = max(d, p.end.wall.Sub(p.start.wall)+28*time.Hour)
		} else if p.start.wall.Year() > 0 {
			d = max(d, time.Duration(p.dur.days)*25*time.Hour+time.Duration(p.dur.secs)*time.Second)
		}
	}
	return d + 28*time.Hour // zone offsets between frames
}

// occurrences returns the recurrence set of s (RFC 5545 §3.8.5: DTSTART,
// every RRULE, every RDATE, minus every EXDATE), ordered and without
// duplicates, whose starts can matter for a range whose original starts lie
// in [from, stop]; a zero bound is open. Work is charged to x.
func (x *expander) occurrences(s *shape, from, stop time.Time) ([]occurrence, error) {
	var out []occurrence
	// Zone offsets stay within ±14h: compare calendar fields to the
	// instant bounds with that much slack.
	const slack = 15 * time.Hour
	var wallFrom, wallStop time.Time
	if !from.IsZero() {
		wallFrom = from.Add(-slack)
	}
	if !stop.IsZero() {
		wallStop = stop.Add(slack)
	}
	// Occurrences well inside the window are certain to be instances
	// unless an EXDATE or an override removes them: past that many, the
	// answer is too many, whatever the rest of the set holds.
	certain, most := 0, x.lim.MaxInstances+len(s.exdates)+x.overrides
	addWall := func(w time.Time) error {
		v := s.start
		v.wall = w
		out = append(out, occurrence{start: v, abs: v.abs(x.viewer)})
		if (wallFrom.IsZero() || w.After(wallFrom.Add(2*slack))) && (wallStop.IsZero() || w.Before(wallStop.Add(-2*slack))) {
			if certain++; certain > most {
				return ErrTooManyInstances
			}
		}
		return nil
	}
	// RFC 5545 §3.8.5.3: "The "DTSTART" property value SHOULD be
	// synchronized with the recurrence rule, if specified. The recurrence
	// set generated with a "DTSTART" property value not synchronized with
	// the recurrence rule is undefined." The DTSTART is kept as the first
	// instance either way, as the COUNT text ("The "DTSTART" property
	// value always counts as the first occurrence") and common clients do.
	err := addWall(s.start.wall)
	for _, r := range s.rrules {
		if err != nil {
			break
		}
		it := newRuleIter(r, s.start.wall, x)
		if !wallFrom.IsZero() {
			it.skipTo(wallFrom)
		}
		first := true
		for err == nil {
			var w time.Time
			var ok bool
			w, ok, err = it.next(wallStop)
			if err != nil || !ok || (!wallStop.IsZero() && w.After(wallStop)) {
				break
			}
			if first && r.count > 0 && !w.Equal(s.start.wall) {
				// DTSTART counts as the first occurrence.
				it.counted++
				if it.counted >= r.count {
					break
				}
			}
			first = false
			if !w.Equal(s.start.wall) {
				err = addWall(w)
			}
		}
	}
	for _, p := range s.rdates {
		if err != nil {
			break
		}
		if err = x.step(); err != nil {
			break
		}
		o := occurrence{start: p.start, abs: p.start.abs(x.viewer)}
		if p.hasEnd || !p.dur.isZero() {
			o.period = &p
		}
		out = append(out, o)
	}
	slices.SortStableFunc(out, func(a, b occurrence) int { return a.abs.Compare(b.abs) })
	out = slices.CompactFunc(out, func(a, b occurrence) bool { return a.abs.Equal(b.abs) })
	if len(s.exdates) > 0 {
		out = slices.DeleteFunc(out, func(o occurrence) bool { return s.excluded(o.start, o.abs, x.viewer) })
	}
	return out, err
}

// excluded reports whether an EXDATE names the occurrence. RFC 5545
// §3.8.5.1: EXDATE values match instances by their start; a value in another
// zone or in UTC matches the same instant. A DATE EXDATE on a DATE-TIME rule
// (sent by some clients) removes that day's instance.
func (s *shape) excluded(v dtValue, abs time.Time, viewer *time.Location) bool {
	for _, ex := range s.exdates {
		switch {
		case ex.kind == kindDate && v.kind != kindDate:
			y1, m1, d1 := ex.wall.Date()
			y2, m2, d2 := v.wall.Date()
			if y1 == y2 && m1 == m2 && d1 == d2 {
				return true
			}
		case ex.kind != kindDate && v.kind == kindDate:
			if ex.wall.Equal(v.wall) {
				return true
			}
		default:
			if ex.abs(viewer).Equal(abs) || (ex.floating() && v.floating() && ex.wall.Equal(v.wall)) {
				return true
			}
		}
	}
	return false
}
