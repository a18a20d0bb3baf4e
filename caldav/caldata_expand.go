package caldav

import (
	"errors"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/internal/recur"
)

// This file implements the recurrence and free-busy restrictions of
// calendar-data (RFC 4791 §9.6.5–§9.6.7) on the raw component tree.

// recurrable reports whether a component of that name carries a recurrence
// set (RFC 5545 §3.8.5).
func recurrable(name string) bool {
	return name == ical.CompEvent || name == ical.CompToDo || name == ical.CompJournal
}

// Layouts of iCalendar DATE and DATE-TIME values (RFC 5545 §3.3.4, §3.3.5).
const (
	layoutDate     = "20060102"
	layoutLocal    = "20060102T150405"
	layoutUTCValue = "20060102T150405Z"
)

// limitFreeBusy keeps, in every VFREEBUSY, only the FREEBUSY periods that
// overlap [start, end) (RFC 4791 §9.6.7: "the server MUST only return the
// FREEBUSY property values of a VFREEBUSY component that intersects a
// specified time range"). A FREEBUSY property left without periods is
// dropped; one whose periods all stay is kept byte for byte. A period that
// cannot be read is kept: the server cannot tell that it is outside.
func limitFreeBusy(root *rawComp, start, end time.Time) {
	for _, it := range root.items {
		if it.comp == nil || it.comp.name != ical.CompFreeBusy {
			continue
		}
		c := it.comp
		items := c.items[:0]
		for _, pit := range c.items {
			if pit.prop == nil || pit.prop.name != ical.PropFreeBusy {
				items = append(items, pit)
				continue
			}
			cl, err := pit.prop.parsed()
			if err != nil {
				items = append(items, pit)
				continue
			}
			periods := strings.Split(cl.Value, ",")
			var kept []string
			for _, p := range periods {
				ps, pe, err := parsePeriod(p)
				if err != nil || (ps.Before(end) && pe.After(start)) {
					kept = append(kept, p)
				}
			}
			switch {
			case len(kept) == len(periods):
				items = append(items, pit)
			case len(kept) > 0:
				items = append(items, rawItem{prop: newProp(cl.Head() + ":" + strings.Join(kept, ","))})
			}
		}
		c.items = items
	}
}

// parsePeriod reads a PERIOD value in UTC, "start/end" or "start/duration"
// (RFC 5545 §3.3.9; FREEBUSY values "MUST be in the UTC time format",
// §3.8.2.6).
func parsePeriod(v string) (start, end time.Time, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(v), "/")
	if !ok {
		return start, end, errors.New("caldav: period without '/'")
	}
	start, err = time.Parse(layoutUTCValue, a)
	if err != nil {
		return start, end, err
	}
	if strings.HasPrefix(b, "P") || strings.HasPrefix(b, "+P") {
		d, err := durationOf(b)
		if err != nil {
			return start, end, err
		}
		return start, start.Add(d), nil
	}
	end, err = time.Parse(layoutUTCValue, b)
	return start, end, err
}

// maxDuration caps parsed durations, so arithmetic on them cannot overflow.
const maxDuration = 100 * 366 * 24 * time.Hour

// durationOf reads an iCalendar DURATION value (RFC 5545 §3.3.6) as exact
// time (a day is 24 hours). Values beyond maxDuration are clamped.
func durationOf(s string) (time.Duration, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return 0, errors.New("caldav: malformed duration")
	}
	s = s[1:]
	var d time.Duration
	inTime := false
	for s != "" {
		if s[0] == 'T' {
			if inTime {
				return 0, errors.New("caldav: malformed duration")
			}
			inTime = true
			s = s[1:]
			continue
		}
		i := 0
		var n int64
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if n < int64(maxDuration/time.Second) {
				n = n*10 + int64(s[i]-'0')
			}
			i++
		}
		if i == 0 || i == len(s) {
			return 0, errors.New("caldav: malformed duration")
		}
		var unit time.Duration
		switch {
		case s[i] == 'W' && !inTime:
			unit = 7 * 24 * time.Hour
		case s[i] == 'D' && !inTime:
			unit = 24 * time.Hour
		case s[i] == 'H' && inTime:
			unit = time.Hour
		case s[i] == 'M' && inTime:
			unit = time.Minute
		case s[i] == 'S' && inTime:
			unit = time.Second
		default:
			return 0, errors.New("caldav: malformed duration")
		}
		if n > int64(maxDuration/unit) {
			n = int64(maxDuration / unit)
		}
		d += time.Duration(n) * unit
		if d > maxDuration {
			d = maxDuration
		}
		s = s[i+1:]
	}
	if neg {
		d = -d
	}
	return d, nil
}

// icalView converts the raw tree for go-ical based evaluation, with the
// index back to raw components.
func icalView(root *rawComp) (*ical.Calendar, map[*ical.Component]*rawComp) {
	index := make(map[*ical.Component]*rawComp)
	return &ical.Calendar{Component: root.toICal(index)}, index
}

// expandRecurrences replaces the recurring components of the calendar with
// one component per instance that overlaps [start, end) (RFC 4791 §9.6.5:
// "the server MUST expand the recurrence set into calendar components that
// define exactly one recurrence instance, and MUST return only those whose
// scheduled time intersect a specified time range", by "the same logic as
// defined for CALDAV:time-range"). Every instance of a recurring set carries a
// RECURRENCE-ID; no component keeps RRULE, RDATE, EXRULE or EXDATE
// ("MUST NOT use recurrence properties"); VTIMEZONEs are removed and
// DTSTART, DTEND, DUE and RECURRENCE-ID values with a time zone are written
// in UTC ("MUST NOT have reference to or include VTIMEZONE components. Date
// and local time with reference to time zone information MUST be converted
// into date with UTC time"). Floating times and dates have no time zone
// reference and stay as they are.
func expandRecurrences(root *rawComp, start, end time.Time, loc *time.Location, lim recur.Limits) error {
	cal, index := icalView(root)
	insts, err := recur.Instances(cal, start, end, loc, lim)
	if err != nil {
		return err
	}
	var expanded []rawItem
	for _, in := range insts {
		src := index[in.Component]
		if src == nil || !recurrable(src.name) {
			continue
		}
		expanded = append(expanded, rawItem{comp: instanceComp(src, in, loc)})
	}
	items := make([]rawItem, 0, len(root.items)+len(expanded))
	placed := false
	for _, it := range root.items {
		switch {
		case it.comp == nil:
			items = append(items, it)
		case it.comp.name == ical.CompTimezone:
			// dropped
		case recurrable(it.comp.name):
			if !placed {
				items = append(items, expanded...)
				placed = true
			}
		default:
			items = append(items, it)
		}
	}
	root.items = items
	return nil
}

// instanceComp writes the component of one expanded instance: a copy of
// src (the master or override the instance comes from) with its own times.
func instanceComp(src *rawComp, in recur.Instance, loc *time.Location) *rawComp {
	out := &rawComp{name: src.name, begin: src.begin, end: src.end}
	hasRID := !in.RecurrenceID.IsZero()
	wroteRID := false
	anchor := ical.PropDateTimeStart
	if src.name == ical.CompToDo && !hasProp(src, ical.PropDateTimeStart) {
		anchor = ical.PropDue
	}
	for _, it := range src.items {
		if it.comp != nil {
			out.items = append(out.items, it)
			continue
		}
		var t time.Time
		switch it.prop.name {
		case ical.PropRecurrenceRule, ical.PropRecurrenceDates, ical.PropExceptionDates, "EXRULE":
			continue
		case ical.PropDateTimeStart:
			t = in.Start
		case ical.PropDateTimeEnd, ical.PropDue:
			t = in.End
		case ical.PropRecurrenceID:
			if !hasRID {
				continue
			}
			t = in.RecurrenceID
			wroteRID = true
		default:
			out.items = append(out.items, it)
			continue
		}
		p := retime(it.prop, t, loc)
		out.items = append(out.items, rawItem{prop: p})
		if it.prop.name == anchor && hasRID && !wroteRID && !hasProp(src, ical.PropRecurrenceID) {
			// The master's instances get their RECURRENCE-ID right after
			// DTSTART, in DTSTART's form (RFC 5545 §3.8.4.4: its value is
			// the instance's original DTSTART); a VTODO recurring from
			// its DUE has no DTSTART, and its DUE takes that role.
			out.items = append(out.items, rawItem{prop: retimeAs(it.prop, ical.PropRecurrenceID, in.RecurrenceID, loc)})
			wroteRID = true
		}
	}
	return out
}

func hasProp(c *rawComp, name string) bool {
	for _, it := range c.items {
		if it.prop != nil && it.prop.name == name {
			return true
		}
	}
	return false
}

// retime rewrites a date or date-time property with a new instant, keeping
// its other parameters.
func retime(p *rawProp, t time.Time, loc *time.Location) *rawProp {
	return retimeAs(p, "", t, loc)
}

// retimeAs is retime under another property name (empty: the same).
func retimeAs(p *rawProp, name string, t time.Time, loc *time.Location) *rawProp {
	cl, err := p.parsed()
	if err != nil {
		return p
	}
	head := cl.Head(ical.ParamTimezoneID, ical.ParamValue, ical.ParamRange)
	if name != "" {
		head = name + head[len(cl.Name):]
	}
	isDate := strings.EqualFold(cl.Param(ical.ParamValue), "DATE") || len(strings.TrimSpace(cl.Value)) == len(layoutDate)
	floating := !isDate && cl.Param(ical.ParamTimezoneID) == "" && !strings.HasSuffix(strings.ToUpper(strings.TrimSpace(cl.Value)), "Z")
	switch {
	case isDate:
		return newProp(head + ";VALUE=DATE:" + t.In(loc).Format(layoutDate))
	case floating:
		return newProp(head + ":" + t.In(loc).Format(layoutLocal))
	}
	return newProp(head + ":" + t.UTC().Format(layoutUTCValue))
}

// limitRecurrenceSet keeps, of each recurring set, the master and the
// overrides that affect [start, end) (RFC 4791 §9.6.6: "the server MUST
// return, in addition to the 'master component', only the 'overridden
// components' that impact a specified time range. An overridden component
// impacts a time range if its current start and end times overlap the time
// range, or if the original start and end times – the ones that would have
// been used if the instance were not overridden – overlap the time range").
// A THISANDFUTURE override also impacts every range after its original
// start, since it changes the instances there.
func limitRecurrenceSet(root *rawComp, start, end time.Time, loc *time.Location, lim recur.Limits) error {
	// Split the calendar: overrides on one side, masters on the other, the
	// time zones with both.
	overrides := &rawComp{name: root.name, begin: root.begin, end: root.end}
	masters := &rawComp{name: root.name, begin: root.begin, end: root.end}
	for _, it := range root.items {
		switch {
		case it.comp == nil:
		case it.comp.name == ical.CompTimezone:
			overrides.items = append(overrides.items, it)
			masters.items = append(masters.items, it)
		case recurrable(it.comp.name) && hasProp(it.comp, ical.PropRecurrenceID):
			overrides.items = append(overrides.items, it)
		case recurrable(it.comp.name):
			masters.items = append(masters.items, it)
		}
	}
	ovCal, ovIndex := icalView(overrides)
	// With no master in it, expanding the overrides alone iterates no rule:
	// it yields each override's own instance with its original start.
	all, err := recur.Instances(ovCal, time.Time{}, time.Time{}, loc, lim)
	if err != nil {
		return err
	}
	current, err := recur.Instances(ovCal, start, end, loc, lim)
	if err != nil {
		return err
	}
	keep := make(map[*rawComp]bool)
	for _, in := range current {
		keep[ovIndex[in.Component]] = true
	}
	mCal, _ := icalView(masters)
	original, err := recur.Instances(mCal, start, end, loc, lim)
	if err != nil {
		return err
	}
	for _, in := range all {
		rc := ovIndex[in.Component]
		if rc == nil || keep[rc] {
			continue
		}
		if future(rc) && (end.IsZero() || in.RecurrenceID.Before(end)) {
			keep[rc] = true
			continue
		}
		for _, m := range original {
			if m.RecurrenceID.Equal(in.RecurrenceID) && firstValue(m.Component, ical.PropUID) == firstValue(in.Component, ical.PropUID) {
				keep[rc] = true
				break
			}
		}
	}
	items := root.items[:0]
	for _, it := range root.items {
		if it.comp != nil && recurrable(it.comp.name) && hasProp(it.comp, ical.PropRecurrenceID) && !keep[it.comp] {
			continue
		}
		items = append(items, it)
	}
	root.items = items
	return nil
}

// firstValue returns the raw value of the component's first property of
// that name, or "".
func firstValue(c *ical.Component, name string) string {
	if c == nil {
		return ""
	}
	if p := c.Props.Get(name); p != nil {
		return p.Value
	}
	return ""
}

// future reports whether an override's RECURRENCE-ID has RANGE=THISANDFUTURE.
func future(c *rawComp) bool {
	for _, it := range c.items {
		if it.prop != nil && it.prop.name == ical.PropRecurrenceID {
			if cl, err := it.prop.parsed(); err == nil {
				return strings.EqualFold(cl.Param(ical.ParamRange), "THISANDFUTURE")
			}
		}
	}
	return false
}
