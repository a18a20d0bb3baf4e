package caldav

import (
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/internal/recur"
)

// Match reports whether the calendar object matches the filter, by the rules
// of RFC 4791 §9.7. Time-range tests follow §9.9 and are recurrence-aware:
// a comp-filter with a time-range matches a recurring component when one of
// its instances overlaps the range, and the filter's other tests then apply
// to the component that instance comes from (the master, or the override
// that replaced it). loc is the time zone for floating and all-day values
// (the query's CALDAV:timezone or the calendar's; nil means UTC). lim bounds
// recurrence expansion; ErrTooManyInstances and other expansion errors are
// returned, and the caller should refuse the query rather than guess.
//
// The filter should have passed Validate; an invalid filter never panics but
// its result is unspecified.
func (f *Filter) Match(cal *ical.Calendar, loc *time.Location, lim recur.Limits) (bool, error) {
	root := f.Root()
	if root == nil || cal == nil || cal.Component == nil {
		return false, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	m := &matcher{cal: cal, loc: loc, lim: lim}
	if !strings.EqualFold(root.Name, cal.Name) {
		return root.IsNotDefined, nil
	}
	if root.IsNotDefined {
		return false, nil
	}
	return m.matchTests(root, cal.Component, nil)
}

// matcher carries the state of one Match call.
type matcher struct {
	cal *ical.Calendar
	loc *time.Location
	lim recur.Limits

	infinite *bool // whether the calendar has a rule without COUNT or UNTIL
	cache    map[window][]recur.Instance
	zones    *recur.Zones // the TZIDs of cal, made on first use
}

// window is a time range used as a cache key; zero sides are open.
type window struct {
	start, end time.Time
	cal        *ical.Calendar
}

// matchTests applies a comp-filter's prop-filters and nested comp-filters to
// comp, one component its name selected. in is the instance being looked at
// when comp is a recurring component (or the parent of a VALARM); nil when
// the component is considered as a whole.
func (m *matcher) matchTests(cf *CompFilter, comp *ical.Component, in *recur.Instance) (bool, error) {
	for i := range cf.PropFilters {
		ok, err := m.matchPropFilter(&cf.PropFilters[i], comp)
		if err != nil || !ok {
			return false, err
		}
	}
	for i := range cf.CompFilters {
		ok, err := m.matchCompFilter(&cf.CompFilters[i], comp, in)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// children returns parent's sub-components of that name.
func children(parent *ical.Component, name string) []*ical.Component {
	var out []*ical.Component
	for _, c := range parent.Children {
		if strings.EqualFold(c.Name, name) {
			out = append(out, c)
		}
	}
	return out
}

// matchCompFilter evaluates a comp-filter in the scope of parent (RFC 4791
// §9.7.1): it matches when one component of its name passes all its tests,
// or, with is-not-defined, when there is none.
func (m *matcher) matchCompFilter(cf *CompFilter, parent *ical.Component, pin *recur.Instance) (bool, error) {
	kids := children(parent, cf.Name)
	if cf.IsNotDefined {
		return len(kids) == 0, nil
	}
	if len(kids) == 0 {
		return false, nil
	}
	top := parent == m.cal.Component
	switch {
	case top && recurrable(cf.Name) && (cf.TimeRange != nil || alarmRange(cf) != nil):
		return m.matchInstances(cf, kids)
	case cf.Name == ical.CompAlarm:
		for _, k := range kids {
			if cf.TimeRange != nil && !m.alarmFires(k, parent, pin, cf.TimeRange) {
				continue
			}
			ok, err := m.matchTests(cf, k, pin)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	for _, k := range kids {
		if cf.TimeRange != nil {
			if cf.Name != ical.CompFreeBusy || !m.freeBusyOverlaps(k, cf.TimeRange) {
				continue
			}
		}
		ok, err := m.matchTests(cf, k, pin)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// matchInstances evaluates a comp-filter on the recurring components of the
// calendar (RFC 4791 §9.7.1: "at least one recurrence instance in the
// targeted calendar component is scheduled to overlap the specified time
// range, and all specified CALDAV:prop-filter and CALDAV:comp-filter child
// XML elements also match the targeted calendar component").
func (m *matcher) matchInstances(cf *CompFilter, kids []*ical.Component) (bool, error) {
	win := cf.TimeRange
	ar := alarmRange(cf)
	if ar == nil {
		// The other tests do not depend on the instance: decide them per
		// component first, then look for an instance of a passing one.
		pass := make(map[*ical.Component]bool)
		var overrides, masters bool
		for _, k := range kids {
			ok, err := m.matchTests(cf, k, nil)
			if err != nil {
				return false, err
			}
			if !ok {
				continue
			}
			pass[k] = true
			if isOverride(k) && !isFutureOverride(k) {
				overrides = true
			} else {
				masters = true
			}
		}
		if overrides {
			// Expanding the overrides alone iterates no rule, so this is
			// cheap even for open ranges.
			found, err := m.scan(m.subCalendar(isOverride), win.Start, win.End, func(in recur.Instance) (bool, error) {
				return pass[in.Component], nil
			})
			if err != nil || found {
				return found, err
			}
		}
		if !masters {
			return false, nil
		}
		return m.scan(m.cal, win.Start, win.End, func(in recur.Instance) (bool, error) {
			return pass[in.Component], nil
		})
	}
	// A nested VALARM time-range depends on the instance: look at the
	// instances whose alarms can fire in the range.
	start, end := ar.Start, ar.End
	if win != nil {
		start, end = win.Start, win.End
	} else {
		before, after := m.alarmReach()
		if !start.IsZero() {
			start = start.Add(-after)
		}
		if !end.IsZero() {
			end = end.Add(before + time.Second)
		}
	}
	found, err := m.scan(m.cal, start, end, func(in recur.Instance) (bool, error) {
		if in.Component == nil || !strings.EqualFold(in.Component.Name, cf.Name) {
			return false, nil
		}
		return m.matchTests(cf, in.Component, &in)
	})
	if err != nil || found || win != nil {
		return found, err
	}
	// Alarms with an absolute trigger fire whatever the instance.
	for _, k := range kids {
		ok, err := m.matchTests(cf, k, nil)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// alarmRange returns the union of the time-ranges of the VALARM comp-filters
// directly inside cf, or nil when there are none. An open side stays open.
func alarmRange(cf *CompFilter) *TimeRange {
	var out *TimeRange
	for i := range cf.CompFilters {
		sub := &cf.CompFilters[i]
		if sub.Name != ical.CompAlarm || sub.TimeRange == nil || sub.IsNotDefined {
			continue
		}
		tr := sub.TimeRange
		if out == nil {
			out = &TimeRange{Start: tr.Start, End: tr.End}
			continue
		}
		if tr.Start.IsZero() || (!out.Start.IsZero() && tr.Start.Before(out.Start)) {
			out.Start = tr.Start
		}
		if tr.End.IsZero() || (!out.End.IsZero() && tr.End.After(out.End)) {
			out.End = tr.End
		}
	}
	return out
}

func isOverride(c *ical.Component) bool {
	return c.Props.Get(ical.PropRecurrenceID) != nil
}

func isFutureOverride(c *ical.Component) bool {
	p := c.Props.Get(ical.PropRecurrenceID)
	return p != nil && strings.EqualFold(p.Params.Get(ical.ParamRange), "THISANDFUTURE")
}

// subCalendar returns a calendar with the same properties and time zones as
// m.cal and, of its other components, those keep selects. The components are
// shared, not copied.
func (m *matcher) subCalendar(keep func(*ical.Component) bool) *ical.Calendar {
	c := &ical.Component{Name: m.cal.Name, Props: m.cal.Props}
	for _, k := range m.cal.Children {
		if k.Name == ical.CompTimezone || keep(k) {
			c.Children = append(c.Children, k)
		}
	}
	return &ical.Calendar{Component: c}
}

// Windows used to look for instances when a range is open on one side and
// the calendar has a rule that never ends: expanding to the far future would
// only run into the work limit, so the search starts near the given side and
// widens.
const (
	firstWindow  = 8 * 24 * time.Hour
	windowGrowth = 4
	// lastWindow is the widest window tried before the search jumps to the
	// horizon (time.Duration cannot hold more than 292 years).
	lastWindow = 100 * 366 * 24 * time.Hour
)

var (
	horizonPast   = time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)
	horizonFuture = time.Date(9999, 12, 30, 0, 0, 0, 0, time.UTC)
)

// scan calls fn for the instances of cal that overlap [start, end) (zero
// sides open) until fn reports true.
func (m *matcher) scan(cal *ical.Calendar, start, end time.Time, fn func(recur.Instance) (bool, error)) (bool, error) {
	try := func(s, e time.Time) (bool, error) {
		ins, err := m.instances(cal, s, e)
		if err != nil {
			return false, err
		}
		for _, in := range ins {
			ok, err := fn(in)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	if (!start.IsZero() && !end.IsZero()) || (start.IsZero() && end.IsZero()) || !m.hasEndlessRule(cal) {
		return try(start, end)
	}
	for w := firstWindow; ; w *= windowGrowth {
		var s, e time.Time
		last := w > lastWindow
		if !start.IsZero() {
			s, e = start, start.Add(w)
			if last || e.After(horizonFuture) {
				e, last = horizonFuture, true
			}
		} else {
			s, e = end.Add(-w), end
			if last || s.Before(horizonPast) {
				s, last = horizonPast, true
			}
		}
		found, err := try(s, e)
		if err != nil || found || last {
			return found, err
		}
	}
}

// instances expands cal over [start, end), caching per window.
func (m *matcher) instances(cal *ical.Calendar, start, end time.Time) ([]recur.Instance, error) {
	key := window{start: start, end: end, cal: cal}
	if ins, ok := m.cache[key]; ok {
		return ins, nil
	}
	ins, err := recur.Instances(cal, start, end, m.loc, m.lim)
	if err != nil {
		return nil, err
	}
	if m.cache == nil {
		m.cache = make(map[window][]recur.Instance)
	}
	m.cache[key] = ins
	return ins, nil
}

// hasEndlessRule reports whether a component of cal recurs by an RRULE
// without COUNT or UNTIL.
func (m *matcher) hasEndlessRule(cal *ical.Calendar) bool {
	if cal == m.cal && m.infinite != nil {
		return *m.infinite
	}
	endless := false
	for _, c := range cal.Children {
		if !recurrable(c.Name) {
			continue
		}
		for _, p := range c.Props.Values(ical.PropRecurrenceRule) {
			v := strings.ToUpper(p.Value)
			if !strings.Contains(v, "COUNT=") && !strings.Contains(v, "UNTIL=") {
				endless = true
			}
		}
	}
	if cal == m.cal {
		m.infinite = &endless
	}
	return endless
}

// inRange reports whether the instant t lies in [start, end), zero sides
// open: the "(start <= t) AND (end > t)" of RFC 4791 §9.9 for properties and
// alarm triggers.
func inRange(t time.Time, tr *TimeRange) bool {
	return (tr.Start.IsZero() || !t.Before(tr.Start)) && (tr.End.IsZero() || tr.End.After(t))
}

// maxRepeat bounds the REPEAT count honoured when testing alarm triggers.
const maxRepeat = 1000

// alarmFires reports whether one of the alarm's trigger times lies in tr
// (RFC 4791 §9.9: "(start <= trigger-time) AND (end > trigger-time)", and an
// alarm that "triggers repeatedly ... is said to overlap a given time range
// if at least one of its triggers overlaps the time range"). A relative
// trigger is taken from the instance in of the component holding the alarm
// (RFC 5545 §3.8.6.3: relative to its start, or with RELATED=END to its end
// or due time); without an instance only absolute triggers can fire.
func (m *matcher) alarmFires(alarm, parent *ical.Component, in *recur.Instance, tr *TimeRange) bool {
	trig := alarm.Props.Get(ical.PropTrigger)
	if trig == nil {
		return false
	}
	var t0 time.Time
	if strings.EqualFold(trig.Params.Get(ical.ParamValue), "DATE-TIME") || !strings.ContainsAny(trig.Value, "Pp") {
		t, err := m.propInstant(trig)
		if err != nil {
			return false
		}
		t0 = t
	} else {
		off, err := durationOf(trig.Value)
		if err != nil || in == nil {
			return false
		}
		if parent.Name == ical.CompToDo && parent.Props.Get(ical.PropDateTimeStart) == nil && parent.Props.Get(ical.PropDue) == nil {
			return false // nothing for a relative trigger to refer to
		}
		anchor := in.Start
		if strings.EqualFold(trig.Params.Get(ical.ParamRelated), "END") {
			anchor = in.End
		}
		t0 = anchor.Add(off)
	}
	repeat, every := 0, time.Duration(0)
	if rp := alarm.Props.Get(ical.PropRepeat); rp != nil {
		if n, err := rp.Int(); err == nil && n > 0 {
			if dp := alarm.Props.Get(ical.PropDuration); dp != nil {
				if d, err := durationOf(dp.Value); err == nil && d > 0 {
					repeat, every = min(n, maxRepeat), d
				}
			}
		}
	}
	for k := 0; k <= repeat; k++ {
		if inRange(t0.Add(time.Duration(k)*every), tr) {
			return true
		}
	}
	return false
}

// alarmReach returns how far before (as a positive duration) and after their
// anchor the calendar's relative alarm triggers can fire, repetitions
// included, plus the longest instance, since an alarm may be related to the
// end.
func (m *matcher) alarmReach() (before, after time.Duration) {
	var walk func(c *ical.Component)
	walk = func(c *ical.Component) {
		for _, k := range c.Children {
			if k.Name == ical.CompAlarm {
				trig := k.Props.Get(ical.PropTrigger)
				if trig == nil {
					continue
				}
				off, err := durationOf(trig.Value)
				if err != nil {
					continue
				}
				span := time.Duration(0)
				if rp := k.Props.Get(ical.PropRepeat); rp != nil {
					if n, err := rp.Int(); err == nil && n > 0 {
						if dp := k.Props.Get(ical.PropDuration); dp != nil {
							if d, err := durationOf(dp.Value); err == nil && d > 0 {
								span = time.Duration(min(n, maxRepeat)) * d
							}
						}
					}
				}
				if off < 0 && -off > before {
					before = -off
				}
				if off+span > after {
					after = off + span
				}
				continue
			}
			walk(k)
		}
	}
	walk(m.cal.Component)
	// An END-related trigger fires relative to the instance end, which can
	// be far after the start that the window test sees.
	var longest time.Duration
	for _, c := range m.cal.Children {
		if !recurrable(c.Name) {
			continue
		}
		if d, ok := m.componentLength(c); ok && d > longest {
			longest = d
		}
	}
	return before + 48*time.Hour, after + longest + 48*time.Hour
}

// componentLength estimates a component's length from DTSTART to DTEND or
// DUE, or its DURATION.
func (m *matcher) componentLength(c *ical.Component) (time.Duration, bool) {
	if dp := c.Props.Get(ical.PropDuration); dp != nil {
		d, err := durationOf(dp.Value)
		return d, err == nil
	}
	sp := c.Props.Get(ical.PropDateTimeStart)
	ep := c.Props.Get(ical.PropDateTimeEnd)
	if ep == nil {
		ep = c.Props.Get(ical.PropDue)
	}
	if sp == nil || ep == nil {
		return 0, false
	}
	s, err1 := m.propInstant(sp)
	e, err2 := m.propInstant(ep)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return min(e.Sub(s), maxDuration), true
}

// freeBusyOverlaps applies RFC 4791 §9.9's VFREEBUSY test: with DTSTART and
// DTEND, "(start <= DTEND) AND (end > DTSTART)"; otherwise each FREEBUSY
// period, whatever its FBTYPE, "(start < freebusy-period-end) AND (end >
// freebusy-period-start)"; with neither, FALSE. DURATION is ignored.
func (m *matcher) freeBusyOverlaps(c *ical.Component, tr *TimeRange) bool {
	sp, ep := c.Props.Get(ical.PropDateTimeStart), c.Props.Get(ical.PropDateTimeEnd)
	if sp != nil && ep != nil {
		s, err1 := m.propInstant(sp)
		e, err2 := m.propInstant(ep)
		if err1 == nil && err2 == nil {
			return (tr.Start.IsZero() || !tr.Start.After(e)) && (tr.End.IsZero() || tr.End.After(s))
		}
	}
	for _, p := range c.Props.Values(ical.PropFreeBusy) {
		for _, v := range strings.Split(p.Value, ",") {
			ps, pe, err := parsePeriod(v)
			if err != nil {
				continue
			}
			if (tr.Start.IsZero() || tr.Start.Before(pe)) && (tr.End.IsZero() || tr.End.After(ps)) {
				return true
			}
		}
	}
	return false
}
