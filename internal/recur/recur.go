package recur

import (
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// Limits bound recurrence expansion so that one hostile rule cannot exhaust
// CPU or memory.
type Limits struct {
	// MaxInstances is the most instances one call returns.
	MaxInstances int
	// MaxWork is the most rule iterations one call performs, counting every
	// candidate a rule produces, also those before the requested range.
	MaxWork int
}

// DefaultLimits are the bounds used for queries: a daily event over 30 years
// is about 11 000 iterations, an hourly one over 10 years about 88 000; a
// query range is fast-forwarded to, so only rules with COUNT pay for their
// history. The budget costs at most a few tens of milliseconds.
var DefaultLimits = Limits{MaxInstances: 5000, MaxWork: 100_000}

func (l Limits) orDefault() Limits {
	if l.MaxInstances <= 0 {
		l.MaxInstances = DefaultLimits.MaxInstances
	}
	if l.MaxWork <= 0 {
		l.MaxWork = DefaultLimits.MaxWork
	}
	return l
}

// Instance is one occurrence of a calendar component.
type Instance struct {
	// Start and End are absolute. Floating and all-day values are resolved
	// in the zone passed to Instances. For a VTODO they bound the times the
	// RFC 4791 §9.9 test looks at (see Overlaps).
	Start, End time.Time
	// AllDay is set when DTSTART is a DATE value.
	AllDay bool
	// RecurrenceID identifies the instance within its recurrence set (its
	// original start, absolute); zero for a non-recurring component.
	RecurrenceID time.Time
	// Component is the master or the override that applies to this
	// instance (for a THISANDFUTURE override, the later instances too).
	Component *ical.Component

	rule rangeRule
}

// rangeRule selects the condition of RFC 4791 §9.9 that decides whether an
// instance overlaps a time range [start, end).
type rangeRule uint8

const (
	// ruleSpan: (start < End) AND (end > Start). VEVENT with DTEND or a
	// positive DURATION, all-day VEVENT and VJOURNAL.
	ruleSpan rangeRule = iota
	// rulePoint: (start <= Start) AND (end > Start). A zero-length VEVENT,
	// a VJOURNAL with a DATE-TIME DTSTART, a VTODO with DTSTART only, a
	// VALARM trigger.
	rulePoint
	// ruleTodoDuration: VTODO with DTSTART and DURATION, End = DTSTART +
	// DURATION: (start <= End) AND ((end > Start) OR (end >= End)).
	ruleTodoDuration
	// ruleTodoDue: VTODO with DTSTART and DUE, End = DUE:
	// ((start < End) OR (start <= Start)) AND ((end > Start) OR (end >= End)).
	ruleTodoDue
	// ruleTodoDueOnly: VTODO with DUE only, Start = End = DUE:
	// (start < DUE) AND (end >= DUE).
	ruleTodoDueOnly
	// ruleTodoCreatedCompleted: Start = CREATED, End = COMPLETED:
	// ((start <= CREATED) OR (start <= COMPLETED)) AND
	// ((end >= CREATED) OR (end >= COMPLETED)).
	ruleTodoCreatedCompleted
	// ruleTodoCompleted: Start = End = COMPLETED:
	// (start <= COMPLETED) AND (end >= COMPLETED).
	ruleTodoCompleted
	// ruleTodoCreated: Start = CREATED, End unbounded: (end > CREATED).
	ruleTodoCreated
	// ruleAlways: a VTODO with none of DTSTART, DURATION, DUE, COMPLETED,
	// CREATED overlaps every range.
	ruleAlways
	// ruleFreeBusy: a VFREEBUSY with DTSTART and DTEND:
	// (start <= DTEND) AND (end > DTSTART).
	ruleFreeBusy
)

// Overlaps reports whether the instance overlaps the time range [start, end)
// by the condition RFC 4791 §9.9 gives for its component and the properties
// it has. A zero start or end means that side is open.
func (in Instance) Overlaps(start, end time.Time) bool {
	s, e := in.Start, in.End
	lo := func(cond func() bool) bool { return start.IsZero() || cond() } // conditions on "start"
	hi := func(cond func() bool) bool { return end.IsZero() || cond() }   // conditions on "end"
	switch in.rule {
	case ruleSpan:
		if e.Equal(s) { // a zero-length span is a point
			return lo(func() bool { return !start.After(s) }) && hi(func() bool { return end.After(s) })
		}
		return lo(func() bool { return start.Before(e) }) && hi(func() bool { return end.After(s) })
	case rulePoint:
		return lo(func() bool { return !start.After(s) }) && hi(func() bool { return end.After(s) })
	case ruleTodoDuration:
		return lo(func() bool { return !start.After(e) }) && hi(func() bool { return end.After(s) || !end.Before(e) })
	case ruleTodoDue:
		return lo(func() bool { return start.Before(e) || !start.After(s) }) &&
			hi(func() bool { return end.After(s) || !end.Before(e) })
	case ruleTodoDueOnly:
		return lo(func() bool { return start.Before(e) }) && hi(func() bool { return !end.Before(e) })
	case ruleTodoCreatedCompleted:
		return lo(func() bool { return !start.After(s) || !start.After(e) }) &&
			hi(func() bool { return !end.Before(s) || !end.Before(e) })
	case ruleTodoCompleted:
		return lo(func() bool { return !start.After(s) }) && hi(func() bool { return !end.Before(s) })
	case ruleTodoCreated:
		return hi(func() bool { return end.After(s) })
	case ruleAlways:
		return true
	case ruleFreeBusy:
		return lo(func() bool { return !start.After(e) }) && hi(func() bool { return end.After(s) })
	}
	return false
}

// unbounded reports whether the instance has no end (a VTODO overlapping
// every range, or one with CREATED only).
func (in Instance) unbounded() (start, end bool) {
	switch in.rule {
	case ruleAlways:
		return true, true
	case ruleTodoCreated:
		return false, true
	}
	return false, false
}

// Instances returns the instances of the calendar object's main components
// (the master and its overrides, one UID; VTIMEZONEs are skipped) that
// overlap [start, end) by the rules of RFC 4791 §9.9, ordered by start. A zero
// start or end leaves that side open. Floating and all-day times are
// interpreted in loc (the calendar-timezone, or UTC when nil).
//
// When a limit is hit the error is ErrTooManyInstances and the instances
// found until then are returned with it: genuine matches, though not all of
// them (a caller asking whether anything matches, e.g. a time-range without
// an end against an endless rule, can use them).
func Instances(cal *ical.Calendar, start, end time.Time, loc *time.Location, lim Limits) ([]Instance, error) {
	if cal == nil || cal.Component == nil {
		return nil, nil
	}
	return instances(newExpander(cal, loc, lim), start, end)
}

func instances(x *expander, start, end time.Time) ([]Instance, error) {
	cal := x.cal
	var comps []*ical.Component
	for _, c := range cal.Children {
		switch c.Name {
		case ical.CompEvent, ical.CompToDo, ical.CompJournal, ical.CompFreeBusy:
			comps = append(comps, c)
		}
	}
	return x.expandGroup(comps, start, end)
}

// ComponentInstances returns the instances of one component of cal that
// overlap [start, end). For a VEVENT, VTODO, VJOURNAL or VFREEBUSY that is a
// master, the instances its recurrence set produces that no override
// replaces; for an override, its own instance. For a VALARM (RFC 4791 §9.9,
// RFC 5545 §3.6.6), one instance per trigger time, repetitions included, of
// every instance of the component that holds it; Start = End = the trigger.
func ComponentInstances(cal *ical.Calendar, comp *ical.Component, start, end time.Time, loc *time.Location, lim Limits) ([]Instance, error) {
	if cal == nil || cal.Component == nil || comp == nil {
		return nil, nil
	}
	x := newExpander(cal, loc, lim)
	if comp.Name == ical.CompAlarm {
		return x.alarmInstances(comp, start, end)
	}
	all, err := x.expandGroup(x.groupOf(comp), start, end)
	out := all[:0]
	for _, in := range all {
		if in.Component == comp {
			out = append(out, in)
		}
	}
	return out, err
}

// groupOf returns the components of cal that share comp's type and UID.
func (x *expander) groupOf(comp *ical.Component) []*ical.Component {
	uid := propText(comp, ical.PropUID)
	var group []*ical.Component
	for _, c := range x.cal.Children {
		if c.Name == comp.Name && propText(c, ical.PropUID) == uid {
			group = append(group, c)
		}
	}
	found := false
	for _, c := range group {
		found = found || c == comp
	}
	if !found {
		group = []*ical.Component{comp}
	}
	return group
}

func propText(c *ical.Component, name string) string {
	if p := c.Props.Get(name); p != nil {
		return p.Value
	}
	return ""
}

// expander carries the state of one expansion call: zones, viewer zone,
// limits and the work done so far.
type expander struct {
	cal    *ical.Calendar
	zones  *Zones
	viewer *time.Location
	lim    Limits
	work   int
	// overrides is the number of overrides of the set being expanded.
	overrides int
}

func newExpander(cal *ical.Calendar, loc *time.Location, lim Limits) *expander {
	return newExpanderZones(cal, NewZones(cal), loc, lim)
}

// newExpanderZones shares the zones (and their cache) of an earlier pass
// over the same calendar.
func newExpanderZones(cal *ical.Calendar, z *Zones, loc *time.Location, lim Limits) *expander {
	if loc == nil {
		loc = time.UTC
	}
	return &expander{cal: cal, zones: z, viewer: loc, lim: lim.orDefault()}
}

// step counts one unit of work and fails when the budget is spent.
func (x *expander) step() error { return x.charge(1) }

// charge counts n units of work and fails when the budget is spent.
func (x *expander) charge(n int) error {
	x.work += n
	if x.work > x.lim.MaxWork || n < 0 {
		return ErrTooManyInstances
	}
	return nil
}

// expandGroup expands one master with its overrides, grouped by UID when the
// input mixes several (an unvalidated calendar).
func (x *expander) expandGroup(comps []*ical.Component, start, end time.Time) ([]Instance, error) {
	byUID := map[string][]*ical.Component{}
	var uids []string
	for _, c := range comps {
		uid := propText(c, ical.PropUID)
		if _, ok := byUID[uid]; !ok {
			uids = append(uids, uid)
		}
		byUID[uid] = append(byUID[uid], c)
	}
	var out []Instance
	var err error
	for _, uid := range uids {
		var ins []Instance
		ins, err = x.expandUID(byUID[uid], start, end)
		out = append(out, ins...)
		if err == nil && len(out) > x.lim.MaxInstances {
			err = ErrTooManyInstances
		}
		if err != nil {
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, err
}

// override is a component with a RECURRENCE-ID.
type override struct {
	comp   *ical.Component
	rid    time.Time // absolute
	future bool      // RANGE=THISANDFUTURE
	shape  *shape
}

func (x *expander) expandUID(comps []*ical.Component, start, end time.Time) ([]Instance, error) {
	var master *ical.Component
	var overrides []override
	for _, c := range comps {
		ridProp := c.Props.Get(ical.PropRecurrenceID)
		if ridProp == nil {
			if master == nil {
				master = c
			}
			continue
		}
		rv, err := propDT(ridProp, x.zones)
		if err != nil {
			continue // an unusable RECURRENCE-ID cannot replace anything
		}
		sh, err := x.shapeOf(c)
		if err != nil {
			continue
		}
		overrides = append(overrides, override{
			comp:   c,
			rid:    rv.abs(x.viewer),
			future: strings.EqualFold(ridProp.Params.Get(ical.ParamRange), "THISANDFUTURE"),
			shape:  sh,
		})
	}
	sort.SliceStable(overrides, func(i, j int) bool { return overrides[i].rid.Before(overrides[j].rid) })
	x.overrides = len(overrides)

	var out []Instance
	add := func(in Instance) error {
		in.Start, in.End, in.RecurrenceID = in.Start.UTC(), in.End.UTC(), in.RecurrenceID.UTC()
		if in.Overlaps(start, end) {
			out = append(out, in)
			if len(out) > x.lim.MaxInstances {
				return ErrTooManyInstances
			}
		}
		return nil
	}
	// Each override is an instance of its own (RFC 5545 §3.8.4.4).
	for _, o := range overrides {
		for _, in := range o.shape.static(x.viewer) {
			in.RecurrenceID = o.rid
			if err := add(in); err != nil {
				return out, err
			}
		}
	}
	if master == nil {
		return out, nil
	}
	sh, err := x.shapeOf(master)
	if err != nil {
		return out, nil // a master without usable times has no instances
	}
	if !sh.recurs() {
		for _, in := range sh.static(x.viewer) {
			if err := add(in); err != nil {
				return out, err
			}
		}
		return out, nil
	}
	// Instances that start before start can still reach into the range,
	// and THISANDFUTURE overrides move later instances by the shift of
	// their own start: widen the original-start window to cover both.
	var lead, lag time.Duration
	for _, o := range overrides {
		if o.future && o.shape.anchored() {
			d := o.shape.startAbs(x.viewer).Sub(o.rid)
			lead, lag = max(lead, d), max(lag, -d)
		}
	}
	var from, stop time.Time
	if !start.IsZero() {
		from = start.Add(-lead - sh.maxLength())
	}
	if !end.IsZero() {
		stop = end.Add(lag)
	}
	// On ErrTooManyInstances, occurrences are those found so far: they
	// are still turned into instances for the caller.
	occs, occErr := x.occurrences(sh, from, stop)
	for _, o := range occs {
		rid := o.start.abs(x.viewer)
		if ov := findOverride(overrides, rid); ov != nil {
			continue // replaced by the override, emitted above
		}
		comp, shp, shift := master, sh, time.Duration(0)
		if f := lastFuture(overrides, rid); f != nil {
			comp, shp = f.comp, f.shape
			shift = f.shape.startAbs(x.viewer).Sub(f.rid)
		}
		var in Instance
		var ok bool
		if o.period != nil {
			in, ok = shp.periodInstance(*o.period, x.viewer)
		} else {
			in, ok = shp.instance(o.start, x.viewer)
		}
		if !ok {
			continue
		}
		in.Start, in.End = in.Start.Add(shift), in.End.Add(shift)
		in.RecurrenceID = rid
		in.Component = comp
		if err := add(in); err != nil {
			return out, err
		}
	}
	return out, occErr
}

// findOverride returns the override whose RECURRENCE-ID names the instance
// with the given original start.
func findOverride(overrides []override, rid time.Time) *override {
	for i := range overrides {
		o := &overrides[i]
		if o.rid.Equal(rid) {
			return o
		}
	}
	return nil
}

// lastFuture returns the latest THISANDFUTURE override at or before rid.
func lastFuture(overrides []override, rid time.Time) *override {
	var f *override
	for i := range overrides {
		o := &overrides[i]
		if o.future && !o.rid.After(rid) {
			f = o
		}
	}
	return f
}
