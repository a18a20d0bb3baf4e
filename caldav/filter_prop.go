package caldav

import (
	"errors"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/internal/recur"
)

// matchPropFilter evaluates a prop-filter against comp (RFC 4791 §9.7.2).
// When the component has several properties of that name, the filter
// matches if one of them passes all its tests.
func (m *matcher) matchPropFilter(pf *PropFilter, comp *ical.Component) (bool, error) {
	props := comp.Props[pf.Name]
	if pf.IsNotDefined {
		return len(props) == 0, nil
	}
	if len(props) == 0 {
		if pf.TimeRange != nil && len(pf.ParamFilters) == 0 {
			// RFC 4791 §9.9: "if DTEND is not present in a VEVENT, but
			// DURATION is, then the test should instead operate on the
			// 'effective' DTEND, i.e., DTSTART+DURATION. Similarly, if DUE
			// is not present in a VTODO, but DTSTART and DURATION are, ...
			// the 'effective' DUE".
			if t, ok := m.effectiveEnd(pf.Name, comp); ok {
				return inRange(t, pf.TimeRange), nil
			}
		}
		return false, nil
	}
	for i := range props {
		p := &props[i]
		ok := true
		if pf.TimeRange != nil {
			t, err := m.propInstant(p)
			ok = err == nil && inRange(t, pf.TimeRange)
		}
		if ok && pf.TextMatch != nil {
			var err error
			ok, err = textMatches(pf.TextMatch, textValue(p))
			if err != nil {
				return false, err
			}
		}
		for j := 0; ok && j < len(pf.ParamFilters); j++ {
			var err error
			ok, err = matchParamFilter(&pf.ParamFilters[j], p)
			if err != nil {
				return false, err
			}
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// effectiveEnd returns DTSTART+DURATION for a VEVENT's missing DTEND or a
// VTODO's missing DUE.
func (m *matcher) effectiveEnd(name string, comp *ical.Component) (time.Time, bool) {
	if !(name == ical.PropDateTimeEnd && comp.Name == ical.CompEvent) && !(name == ical.PropDue && comp.Name == ical.CompToDo) {
		return time.Time{}, false
	}
	sp, dp := comp.Props.Get(ical.PropDateTimeStart), comp.Props.Get(ical.PropDuration)
	if sp == nil || dp == nil {
		return time.Time{}, false
	}
	s, err := m.propInstant(sp)
	if err != nil {
		return time.Time{}, false
	}
	d, err := durationOf(dp.Value)
	if err != nil {
		return time.Time{}, false
	}
	return s.Add(d), true
}

// matchParamFilter evaluates a param-filter against one property (RFC 4791
// §9.7.3). A parameter with several values (MEMBER, DELEGATED-TO) matches a
// text-match when one of its values does; negate-condition negates that.
func matchParamFilter(pa *ParamFilter, p *ical.Prop) (bool, error) {
	values, defined := p.Params[pa.Name]
	if pa.IsNotDefined {
		return !defined, nil
	}
	if !defined {
		return false, nil
	}
	if pa.TextMatch == nil {
		return true, nil
	}
	found, err := pa.TextMatch.matchesAny(values...)
	return found != pa.TextMatch.Negate(), err
}

// textValue returns the value a text-match compares: TEXT values (the default
// type of x-properties too, RFC 5545 §3.8.8.2) with their escapes removed
// (RFC 5545 §3.3.11), other values as written.
func textValue(p *ical.Prop) string {
	t := p.ValueType()
	if t != ical.ValueText && t != ical.ValueDefault {
		return p.Value
	}
	if !strings.Contains(p.Value, `\`) {
		return p.Value
	}
	var b strings.Builder
	b.Grow(len(p.Value))
	for i := 0; i < len(p.Value); i++ {
		c := p.Value[i]
		if c == '\\' && i+1 < len(p.Value) {
			i++
			switch n := p.Value[i]; n {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(n)
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// propInstant reads a DATE or DATE-TIME property value as an instant, with
// the zones recurrence expansion uses (internal/recur): UTC values as they
// are, a TZID as an IANA name, a Windows name or the object's VTIMEZONE
// (RFC 5545 §3.2.19), floating values and dates in m.loc (RFC 4791 §9.9:
// floating times and dates are interpreted in the query's or calendar's time
// zone). A TZID that resolves to nothing (an object stored before TZIDs were
// checked) is read in m.loc too.
func (m *matcher) propInstant(p *ical.Prop) (time.Time, error) {
	var z *recur.Zones // a value without TZID needs none
	if p.Params.Get(ical.ParamTimezoneID) != "" {
		if m.zones == nil {
			m.zones = recur.NewZones(m.cal)
		}
		z = m.zones
	}
	t, err := z.Time(p, m.loc)
	if errors.Is(err, recur.ErrUnknownTZID) {
		floating := *p
		floating.Params = ical.Params{}
		if v := p.Params.Get(ical.ParamValue); v != "" {
			floating.Params.Set(ical.ParamValue, v)
		}
		return z.Time(&floating, m.loc)
	}
	return t, err
}
