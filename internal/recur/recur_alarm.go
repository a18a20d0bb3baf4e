package recur

import (
	"time"

	"github.com/emersion/go-ical"
)

// alarmInstances implements ComponentInstances for a VALARM: RFC 4791 §9.9,
// "A VALARM component is said to overlap a given time range if the following
// condition holds: (start <= trigger-time) AND (end > trigger-time)", for
// every trigger time, repetitions (REPEAT/DURATION, RFC 5545 §3.6.6)
// included, of every instance of the component that holds the alarm.
func (x *expander) alarmInstances(alarm *ical.Component, start, end time.Time) ([]Instance, error) {
	parent := x.parentOf(alarm)
	if parent == nil {
		return nil, nil
	}
	trig := alarm.Props.Get(ical.PropTrigger)
	if trig == nil {
		return nil, nil
	}
	repeat, every := 0, duration{}
	if p := alarm.Props.Get(ical.PropRepeat); p != nil {
		if n, err := p.Int(); err == nil && n > 0 {
			if dp := alarm.Props.Get(ical.PropDuration); dp != nil {
				if d, err := parseDuration(dp.Value); err == nil && !d.negative() && !d.isZero() {
					repeat, every = min(n, 1000), d
				}
			}
		}
	}
	var absTrigger time.Time
	var rel duration
	relEnd := false
	if isDateTimeTrigger(trig) {
		v, err := propDT(trig, x.zones)
		if err != nil {
			return nil, nil
		}
		absTrigger = v.abs(x.viewer)
	} else {
		d, err := parseDuration(trig.Value)
		if err != nil {
			return nil, nil
		}
		rel = d
		relEnd = trig.Params.Get(ical.ParamRelated) == "END"
	}
	// The parent's instances whose triggers can fall in range: widen the
	// window by the largest offset of a trigger from its instance.
	span := time.Duration(abs64(rel.secs))*time.Second + time.Duration(absInt(rel.days))*25*time.Hour +
		time.Duration(repeat)*(time.Duration(every.days)*25*time.Hour+time.Duration(every.secs)*time.Second)
	var pStart, pEnd time.Time
	if !start.IsZero() {
		pStart = start.Add(-span - 24*time.Hour)
	}
	if !end.IsZero() {
		pEnd = end.Add(span + 24*time.Hour)
	}
	var parents []Instance
	var expandErr error
	if absTrigger.IsZero() {
		var all []Instance
		all, expandErr = x.expandGroup(x.groupOf(parent), pStart, pEnd)
		for _, in := range all {
			if in.Component == parent {
				parents = append(parents, in)
			}
		}
	} else {
		parents = []Instance{{}}
	}
	var out []Instance
	for _, p := range parents {
		t := absTrigger
		if t.IsZero() {
			anchor := p.Start
			if relEnd {
				anchor = p.End
			}
			t = addDuration(anchor, rel, x.viewer)
		}
		for i := 0; i <= repeat; i++ {
			in := Instance{Start: t, End: t, rule: rulePoint, Component: alarm, RecurrenceID: p.RecurrenceID}
			if in.Overlaps(start, end) {
				out = append(out, in)
				if len(out) > x.lim.MaxInstances {
					return out, ErrTooManyInstances
				}
			}
			t = addDuration(t, every, x.viewer)
		}
	}
	return out, expandErr
}

func isDateTimeTrigger(p *ical.Prop) bool {
	v := p.Params.Get(ical.ParamValue)
	return v == "DATE-TIME" || (v == "" && len(p.Value) > 0 && p.Value[0] >= '0' && p.Value[0] <= '9')
}

// addDuration adds d to instant t, nominal days in loc.
func addDuration(t time.Time, d duration, loc *time.Location) time.Time {
	if d.days != 0 {
		t = resolveWall(wallOf(t, loc).AddDate(0, 0, d.days), loc)
	}
	return t.Add(time.Duration(d.secs) * time.Second)
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// parentOf returns the component of cal that holds child.
func (x *expander) parentOf(child *ical.Component) *ical.Component {
	for _, c := range x.cal.Children {
		for _, cc := range c.Children {
			if cc == child {
				return c
			}
		}
	}
	return nil
}
