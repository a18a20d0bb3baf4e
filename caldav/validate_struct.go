package caldav

import (
	"errors"
	"io"
	"slices"

	"github.com/emersion/go-ical"
)

var errEOF = io.EOF

func isEOF(err error) bool { return errors.Is(err, io.EOF) }

// validateStructure applies RFC 4791 §4.1 to a parsed calendar.
func validateStructure(cal *ical.Calendar, allowed []string) (*ParsedObject, error) {
	// RFC 4791 §4.1: "Calendar object resources contained in calendar
	// collections MUST NOT specify the iCalendar METHOD property."
	if cal.Props.Get(ical.PropMethod) != nil {
		return nil, invalid(CondValidCalendarObjectResource, "METHOD property is not allowed")
	}
	po := &ParsedObject{Cal: cal}
	for _, c := range cal.Children {
		if c.Name == ical.CompTimezone {
			continue
		}
		switch {
		case po.Component == "":
			po.Component = c.Name
		case c.Name != po.Component:
			// RFC 4791 §4.1: "The UID property value of the calendar
			// components contained in a calendar object resource MUST be
			// unique" and all components "MUST be of the same type".
			return nil, invalid(CondValidCalendarObjectResource, "mixed component types %s and %s", po.Component, c.Name)
		}
		uid := ""
		if p := c.Props.Get(ical.PropUID); p != nil {
			uid = p.Value
		}
		if uid == "" {
			return nil, invalid(CondValidCalendarObjectResource, "%s without UID", c.Name)
		}
		if po.UID == "" {
			po.UID = uid
		} else if uid != po.UID {
			return nil, invalid(CondValidCalendarObjectResource, "more than one UID")
		}
	}
	if po.Component == "" {
		return nil, invalid(CondValidCalendarObjectResource, "no calendar component")
	}
	if !slices.Contains(allowed, po.Component) {
		return nil, invalid(CondSupportedCalendarComponent, "%s is not supported by this calendar", po.Component)
	}
	return po, nil
}
