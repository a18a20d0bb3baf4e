package caldav

import (
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/internal/recur"
)

// mainComponents are the components a calendar object resource is about
// (RFC 4791 §4.1, and RFC 7953 §3.1 VAVAILABILITY); VTIMEZONE only supports
// them.
var mainComponents = []string{ical.CompEvent, ical.CompToDo, ical.CompJournal, ical.CompFreeBusy, "VAVAILABILITY"}

// validateStructure applies RFC 4791 §4.1 and the RFC 5545 rules recurrence
// and indexing depend on to a parsed calendar.
func validateStructure(cal *ical.Calendar, allowed []string, z *recur.Zones) (*ParsedObject, error) {
	// RFC 5545 §3.6: VERSION is REQUIRED; "2.0" is the only iCalendar
	// version (1.0 is vCalendar, another format).
	switch v := cal.Props.Values(ical.PropVersion); {
	case len(v) == 0:
		return nil, invalid(CondValidCalendarData, "VERSION is missing")
	case len(v) > 1 || strings.TrimSpace(v[0].Value) != "2.0":
		return nil, invalid(CondValidCalendarData, "VERSION must be 2.0")
	}
	// RFC 5545 §3.6: PRODID is REQUIRED too, but hand-written files and
	// some scripts leave it out; it carries no meaning for storage, so a
	// missing PRODID is accepted.
	//
	// RFC 4791 §4.1: "Calendar object resources contained in calendar
	// collections MUST NOT specify the iCalendar METHOD property."
	if cal.Props.Get(ical.PropMethod) != nil {
		return nil, invalid(CondValidCalendarObjectResource, "METHOD property is not allowed")
	}
	po := &ParsedObject{Cal: cal}
	var comps []*ical.Component
	tzids := map[string]bool{}
	for _, c := range cal.Children {
		switch {
		case c.Name == ical.CompTimezone:
			// RFC 5545 §3.6.5: TZID is REQUIRED in VTIMEZONE and
			// identifies it uniquely within the object.
			p := c.Props.Get(ical.PropTimezoneID)
			if p == nil || p.Value == "" {
				return nil, invalid(CondValidCalendarData, "VTIMEZONE without TZID")
			}
			if tzids[p.Value] {
				return nil, invalid(CondValidCalendarData, "two VTIMEZONEs with TZID %q", p.Value)
			}
			tzids[p.Value] = true
			continue
		case strings.HasPrefix(c.Name, "X-"):
			// Experimental components (RFC 5545 §3.6) are kept as sent
			// and play no part in the rules below.
			continue
		}
		// RFC 4791 §4.1: "Calendar components in a calendar collection
		// that have different UID property values MUST be stored in
		// separate calendar object resources", and a resource holds one
		// type of component.
		if po.Component == "" {
			po.Component = c.Name
		} else if c.Name != po.Component {
			return nil, invalid(CondValidCalendarObjectResource, "mixed component types %s and %s", po.Component, c.Name)
		}
		// RFC 4791 §4.1: "The UID property value of the calendar
		// components contained in a calendar object resource MUST be
		// identical."
		uids := c.Props.Values(ical.PropUID)
		if len(uids) != 1 || strings.TrimSpace(uids[0].Value) == "" {
			return nil, invalid(CondValidCalendarObjectResource, "%s needs exactly one UID", c.Name)
		}
		if po.UID == "" {
			po.UID = uids[0].Value
		} else if uids[0].Value != po.UID {
			return nil, invalid(CondValidCalendarObjectResource, "more than one UID (%q, %q)", po.UID, uids[0].Value)
		}
		comps = append(comps, c)
	}
	if po.Component == "" {
		return nil, invalid(CondValidCalendarObjectResource, "no calendar component")
	}
	// RFC 4791 §5.3.2.1 CALDAV:supported-calendar-component: "The
	// resource submitted in the PUT request, or targeted by a COPY or MOVE
	// request, MUST contain a type of calendar component that is
	// supported in the targeted calendar collection."
	if !slices.Contains(allowed, po.Component) || !slices.Contains(mainComponents, po.Component) {
		return nil, invalid(CondSupportedCalendarComponent, "%s is not supported by this calendar", po.Component)
	}
	if err := checkTZIDs(cal.Component, z); err != nil {
		return nil, err
	}
	if err := checkInstances(comps, z); err != nil {
		return nil, err
	}
	return po, nil
}

// checkTZIDs makes sure every TZID parameter resolves. RFC 5545 §3.2.19:
// "An individual "VTIMEZONE" calendar component MUST be specified for each
// unique "TZID" parameter value specified in the iCalendar object." Clients
// often omit the VTIMEZONE for IANA names, and Outlook uses Windows names;
// both are accepted because they resolve without it.
func checkTZIDs(c *ical.Component, z *recur.Zones) error {
	for _, props := range c.Props {
		for _, p := range props {
			for _, tzid := range p.Params.Values(ical.ParamTimezoneID) {
				if _, err := z.Location(tzid); err != nil {
					return invalid(CondValidCalendarData, "%s: unknown TZID %q", p.Name, tzid)
				}
			}
		}
	}
	for _, child := range c.Children {
		if child.Name == ical.CompTimezone {
			continue // a VTIMEZONE's own properties carry no TZID
		}
		if err := checkTZIDs(child, z); err != nil {
			return err
		}
	}
	return nil
}

// checkInstances validates the date, time and recurrence properties of the
// components of one object.
func checkInstances(comps []*ical.Component, z *recur.Zones) error {
	masters := 0
	rids := map[int64]bool{}
	for _, c := range comps {
		if err := checkTiming(c); err != nil {
			return err
		}
		ridProp := c.Props.Get(ical.PropRecurrenceID)
		if ridProp == nil {
			// RFC 4791 §4.1: the master component and its overrides
			// share a resource; there is one master at most.
			if masters++; masters > 1 {
				return invalid(CondValidCalendarObjectResource, "more than one %s without RECURRENCE-ID for UID", c.Name)
			}
		} else {
			v, err := z.Time(ridProp, time.UTC)
			if err != nil {
				return invalid(CondValidCalendarData, "%v", err)
			}
			// RFC 5545 §3.8.4.4: an override names one instance; two
			// overrides of the same instance contradict each other.
			key := v.Unix()
			if rids[key] {
				return invalid(CondValidCalendarObjectResource, "two overrides with RECURRENCE-ID %s", ridProp.Value)
			}
			rids[key] = true
		}
		if err := recur.Check(c, z); err != nil {
			return invalid(CondValidCalendarData, "%s: %v", c.Name, err)
		}
	}
	return nil
}

// checkTiming applies the RFC 5545 rules on which of DTSTART, DTEND, DUE and
// DURATION a component may hold.
func checkTiming(c *ical.Component) error {
	has := func(name string) bool { return len(c.Props.Values(name)) > 0 }
	for _, name := range []string{ical.PropDateTimeStart, ical.PropDateTimeEnd, ical.PropDue, ical.PropDuration, ical.PropRecurrenceID} {
		if len(c.Props.Values(name)) > 1 {
			return invalid(CondValidCalendarData, "%s: more than one %s", c.Name, name)
		}
	}
	switch c.Name {
	case ical.CompEvent:
		// RFC 5545 §3.6.1: DTSTART is "REQUIRED if the component
		// appears in an iCalendar object that doesn't specify the
		// "METHOD" property", and "either 'dtend' or 'duration' MAY
		// appear ... but 'dtend' and 'duration' MUST NOT occur in the
		// same 'eventprop'".
		if !has(ical.PropDateTimeStart) {
			return invalid(CondValidCalendarData, "VEVENT without DTSTART")
		}
		if has(ical.PropDateTimeEnd) && has(ical.PropDuration) {
			return invalid(CondValidCalendarData, "VEVENT with both DTEND and DURATION")
		}
	case ical.CompToDo:
		// RFC 5545 §3.6.2: "'due' and 'duration' MUST NOT occur in the
		// same 'todoprop'. If 'duration' appear in a 'todoprop', then
		// 'dtstart' MUST also appear in the same 'todoprop'."
		if has(ical.PropDue) && has(ical.PropDuration) {
			return invalid(CondValidCalendarData, "VTODO with both DUE and DURATION")
		}
		if has(ical.PropDuration) && !has(ical.PropDateTimeStart) {
			return invalid(CondValidCalendarData, "VTODO with DURATION but no DTSTART")
		}
	}
	// RFC 5545 §3.8.5.3: an RRULE needs a DTSTART to anchor it. A VTODO
	// may do without (§3.6.2: DTSTART is optional there), and task apps
	// write recurring tasks with only a DUE: that DUE anchors the set
	// (see internal/recur), so only a VTODO with neither is refused.
	anchored := has(ical.PropDateTimeStart) || c.Name == ical.CompToDo && has(ical.PropDue)
	if (has(ical.PropRecurrenceRule) || has(ical.PropRecurrenceDates)) && !anchored {
		return invalid(CondValidCalendarData, "%s: recurrence without DTSTART", c.Name)
	}
	return nil
}
