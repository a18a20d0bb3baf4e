package recur

import (
	"fmt"
	"time"

	"github.com/emersion/go-ical"
)

// shape is the timing of one component: its start, how long each instance
// lasts, the RFC 4791 §9.9 condition that applies, and its recurrence
// properties.
type shape struct {
	comp     *ical.Component
	hasStart bool
	// start is DTSTART, or for a VTODO with DUE and no DTSTART its DUE:
	// the anchor of the recurrence set either way (dueAnchor says which).
	start     dtValue
	dueAnchor bool
	// end is the explicit DTEND (VEVENT, VFREEBUSY) or DUE (VTODO) of the
	// component itself.
	hasEnd bool
	end    dtValue
	// dur is the length of a recurring instance: DURATION, or DTEND/DUE
	// minus DTSTART (nominal days kept apart when both share a zone), or
	// the RFC 5545 default (a DATE lasts one day, a DATE-TIME no time).
	dur  duration
	rule rangeRule
	// VTODO without DTSTART/DUE: COMPLETED and CREATED (always UTC).
	completed, created time.Time
	// VFREEBUSY without DTSTART/DTEND: its FREEBUSY periods.
	busy []period

	rrules  []*ruleSpec
	rdates  []period
	exdates []dtValue
}

func (s *shape) recurs() bool { return len(s.rrules) > 0 || len(s.rdates) > 0 }

// anchored reports whether s has a start its recurrence set can be built
// from: DTSTART, or the DUE of a VTODO without one.
func (s *shape) anchored() bool { return s.hasStart || s.dueAnchor }

func (s *shape) startAbs(viewer *time.Location) time.Time { return s.start.abs(viewer) }

// shapeOf reads the timing properties of c.
func (x *expander) shapeOf(c *ical.Component) (*shape, error) {
	s := &shape{comp: c}
	if p := c.Props.Get(ical.PropDateTimeStart); p != nil {
		v, err := propDT(p, x.zones)
		if err != nil {
			return nil, err
		}
		s.start, s.hasStart = v, true
	}
	endName := ical.PropDateTimeEnd
	if c.Name == ical.CompToDo {
		endName = ical.PropDue
	}
	if p := c.Props.Get(endName); p != nil {
		v, err := propDT(p, x.zones)
		if err != nil {
			return nil, err
		}
		s.end, s.hasEnd = v, true
	}
	var durProp *ical.Prop
	if c.Name != ical.CompFreeBusy { // RFC 4791 §9.9: DURATION is ignored on VFREEBUSY
		durProp = c.Props.Get(ical.PropDuration)
	}
	var dur duration
	if durProp != nil {
		d, err := parseDuration(durProp.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ical.PropDuration, err)
		}
		if d.negative() {
			d = duration{}
		}
		dur = d
	}

	switch c.Name {
	case ical.CompEvent:
		if !s.hasStart {
			return nil, ErrNoStart
		}
		switch {
		case s.hasEnd:
			s.dur = between(s.start, s.end, x.viewer)
		case durProp != nil:
			s.dur = dur
		case s.start.kind == kindDate:
			s.dur = durDays(1)
		}
		s.rule = ruleSpan
	case ical.CompJournal:
		if !s.hasStart {
			return nil, ErrNoStart
		}
		s.hasEnd = false
		if s.start.kind == kindDate {
			s.dur, s.rule = durDays(1), ruleSpan
		} else {
			s.rule = rulePoint
		}
	case ical.CompToDo:
		switch {
		case s.hasStart && durProp != nil:
			s.dur, s.rule, s.hasEnd = dur, ruleTodoDuration, false
		case s.hasStart && s.hasEnd:
			s.dur, s.rule = between(s.start, s.end, x.viewer), ruleTodoDue
		case s.hasStart:
			s.rule = rulePoint
		case s.hasEnd:
			// RFC 5545 §3.6.2 makes DTSTART optional in a VTODO, and
			// §3.8.5.3 anchors a recurrence set on DTSTART without
			// saying what a VTODO with DUE only recurs from. Task
			// apps write such tasks (a due date that repeats); their
			// DUE is the only time they have, so it anchors the set:
			// each instance is due at one of its occurrences, read by
			// the RFC 4791 §9.9 row for a VTODO with DUE only.
			s.rule = ruleTodoDueOnly
			s.start, s.dueAnchor = s.end, true
		default:
			s.completed = utcProp(c, ical.PropCompleted, x.zones)
			s.created = utcProp(c, ical.PropCreated, x.zones)
			switch {
			case !s.completed.IsZero() && !s.created.IsZero():
				s.rule = ruleTodoCreatedCompleted
			case !s.completed.IsZero():
				s.rule = ruleTodoCompleted
			case !s.created.IsZero():
				s.rule = ruleTodoCreated
			default:
				s.rule = ruleAlways
			}
		}
	case ical.CompFreeBusy:
		if s.hasStart && s.hasEnd {
			s.rule = ruleFreeBusy
			s.dur = between(s.start, s.end, x.viewer)
		} else {
			s.hasStart, s.hasEnd = false, false
			for i := range c.Props.Values(ical.PropFreeBusy) {
				ps, err := dtList(&c.Props.Values(ical.PropFreeBusy)[i], x.zones)
				if err != nil {
					return nil, err
				}
				s.busy = append(s.busy, ps...)
			}
			s.rule = ruleSpan
		}
		return s, nil // VFREEBUSY does not recur
	default:
		return nil, ErrNoStart
	}
	if !s.anchored() {
		return s, nil // RRULE and RDATE need DTSTART (or a VTODO's DUE)
	}
	for i := range c.Props.Values(ical.PropRecurrenceRule) {
		r, err := parseRule(&c.Props.Values(ical.PropRecurrenceRule)[i], s.start, x)
		if err != nil {
			return nil, err
		}
		s.rrules = append(s.rrules, r)
	}
	for i := range c.Props.Values(ical.PropRecurrenceDates) {
		ps, err := dtList(&c.Props.Values(ical.PropRecurrenceDates)[i], x.zones)
		if err != nil {
			return nil, err
		}
		s.rdates = append(s.rdates, ps...)
	}
	for i := range c.Props.Values(ical.PropExceptionDates) {
		ps, err := dtList(&c.Props.Values(ical.PropExceptionDates)[i], x.zones)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			s.exdates = append(s.exdates, p.start)
		}
	}
	return s, nil
}

// utcProp reads a DATE-TIME property such as COMPLETED or CREATED, zero when
// absent or unusable.
func utcProp(c *ical.Component, name string, z *Zones) time.Time {
	p := c.Props.Get(name)
	if p == nil {
		return time.Time{}
	}
	v, err := propDT(p, z)
	if err != nil {
		return time.Time{}
	}
	return v.abs(time.UTC)
}

// between returns the length from a to b. When both are read in the same
// zone the difference is taken on the calendar fields, whole days kept
// nominal, so that recurring instances keep their wall-clock length across
// DST changes (RFC 5545 §3.3.6); otherwise it is the exact difference.
func between(a, b dtValue, viewer *time.Location) duration {
	sameFrame := a.kind == b.kind && (a.kind != kindZoned || a.loc == b.loc) ||
		a.floating() && b.floating()
	var d duration
	if sameFrame {
		secs := int64(b.wall.Sub(a.wall) / time.Second)
		d = duration{days: int(secs / 86400), secs: secs % 86400}
	} else {
		d = durSeconds(int64(b.abs(viewer).Sub(a.abs(viewer)) / time.Second))
	}
	if d.negative() {
		return duration{}
	}
	return d
}

// endOf returns the end of an instance starting at start (a value in the
// frame of DTSTART) lasting d.
func endOf(start dtValue, d duration, viewer *time.Location) time.Time {
	if d.days == 0 {
		return start.abs(viewer).Add(time.Duration(d.secs) * time.Second)
	}
	e := start
	e.wall = start.wall.AddDate(0, 0, d.days)
	return e.abs(viewer).Add(time.Duration(d.secs) * time.Second)
}

// instance builds the instance that starts at start.
func (s *shape) instance(start dtValue, viewer *time.Location) (Instance, bool) {
	in := Instance{rule: s.rule, Component: s.comp}
	switch {
	case s.hasStart:
		in.Start = start.abs(viewer)
		in.AllDay = start.kind == kindDate
		if s.rule == ruleSpan || s.rule == ruleTodoDuration || s.rule == ruleTodoDue || s.rule == ruleFreeBusy {
			in.End = endOf(start, s.dur, viewer)
		} else {
			in.End = in.Start
		}
	case s.rule == ruleTodoDueOnly:
		// start is the DUE of this instance (the DUE itself when the
		// VTODO does not recur).
		in.Start = start.abs(viewer)
		in.End = in.Start
		in.AllDay = start.kind == kindDate
	case s.rule == ruleTodoCreatedCompleted:
		in.Start, in.End = s.created, s.completed
	case s.rule == ruleTodoCompleted:
		in.Start, in.End = s.completed, s.completed
	case s.rule == ruleTodoCreated:
		in.Start = s.created
	case s.rule == ruleAlways:
	default:
		return Instance{}, false
	}
	return in, true
}

// periodInstance builds the instance of an RDATE PERIOD value.
func (s *shape) periodInstance(p period, viewer *time.Location) (Instance, bool) {
	in, ok := s.instance(p.start, viewer)
	if !ok || !s.hasStart {
		return in, ok
	}
	if p.hasEnd {
		in.End = p.end.abs(viewer)
	} else {
		in.End = endOf(p.start, p.dur, viewer)
	}
	if in.End.Before(in.Start) {
		in.End = in.Start
	}
	if s.rule == rulePoint && in.End.After(in.Start) {
		in.rule = ruleSpan
	}
	return in, true
}

// static returns the instances of a component that does not recur: one, or
// for a VFREEBUSY without DTSTART/DTEND one per FREEBUSY period.
func (s *shape) static(viewer *time.Location) []Instance {
	if s.comp.Name == ical.CompFreeBusy && !s.hasStart {
		var out []Instance
		for _, p := range s.busy {
			in := Instance{Component: s.comp, rule: ruleSpan, Start: p.start.abs(viewer)}
			if p.hasEnd {
				in.End = p.end.abs(viewer)
			} else {
				in.End = endOf(p.start, p.dur, viewer)
			}
			out = append(out, in)
		}
		return out
	}
	if s.hasStart && s.hasEnd && s.comp.Name != ical.CompJournal {
		// A single instance ends exactly at its DTEND/DUE.
		in, ok := s.instance(s.start, viewer)
		if !ok {
			return nil
		}
		if e := s.end.abs(viewer); !e.Before(in.Start) {
			in.End = e
		}
		return []Instance{in}
	}
	in, ok := s.instance(s.start, viewer)
	if !ok {
		return nil
	}
	return []Instance{in}
}
