package caldav

import (
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/internal/recur"
	"github.com/davenport-dav/davenport/store"
)

// Availability (RFC 7953): a user publishes when they can be booked as a
// VCALENDAR of VAVAILABILITY components in the CALDAV:calendar-availability
// property of their inbox (§7.2.4), set with PROPPATCH and kept as the
// inbox's dead property. In a free-busy lookup, the time a VAVAILABILITY
// covers (its DTSTART to DTEND, open where absent) but none of its
// AVAILABLE components does is busy, of its BUSYTYPE (BUSY-UNAVAILABLE by
// default, §3.2.1). PRIORITY between overlapping VAVAILABILITY components
// is not weighed: their unavailable time is simply merged.

// availabilityBusy returns the unavailable time of user u in [start, end).
// Data that cannot be read counts as no availability published.
func (s *scheduling) availabilityBusy(u *store.User, start, end time.Time) ([]busyPeriod, error) {
	inbox, err := s.st.GetCollection(s.ctx, u.ID, store.KindInbox, InboxName)
	if err != nil {
		if err == store.ErrNotFound {
			return nil, nil
		}
		return nil, err
	}
	props, err := s.st.ListDeadProps(s.ctx, inbox.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range props {
		if p.Namespace != dav.NSCalDAV || p.Name != "calendar-availability" {
			continue
		}
		el, err := dav.ParseXML([]byte(p.XML), dav.DefaultLimits)
		if err != nil {
			return nil, nil
		}
		c, err := decodeCalendar([]byte(el.Text))
		if err != nil {
			return nil, nil
		}
		return unavailable(c, start, end), nil
	}
	return nil, nil
}

// unavailable is the busy time the VAVAILABILITY components of c make in
// [start, end).
func unavailable(c *ical.Calendar, start, end time.Time) []busyPeriod {
	var out []busyPeriod
	for _, va := range c.Children {
		if va.Name != "VAVAILABILITY" {
			continue
		}
		ws, we := start, end
		// go-ical answers a zero time, not an error, for an absent
		// property: absent means open on that side.
		if t, err := va.Props.DateTime(ical.PropDateTimeStart, time.UTC); err == nil && !t.IsZero() && t.After(ws) {
			ws = t
		}
		if t, err := va.Props.DateTime(ical.PropDateTimeEnd, time.UTC); err == nil && !t.IsZero() && t.Before(we) {
			we = t
		}
		if !we.After(ws) {
			continue
		}
		typ := fbBusyUnavailable
		if p := va.Props.Get("BUSYTYPE"); p != nil {
			switch p.Value {
			case fbBusy, fbBusyTentative:
				typ = p.Value
			}
		}
		// The AVAILABLE components, expanded as the events they are
		// shaped like, with the calendar's time zones.
		avail := &ical.Calendar{Component: ical.NewComponent(ical.CompCalendar)}
		avail.Props = c.Props
		for _, ch := range c.Children {
			if ch.Name == ical.CompTimezone {
				avail.Children = append(avail.Children, ch)
			}
		}
		for _, a := range va.Children {
			if a.Name == "AVAILABLE" {
				ev := *a
				ev.Name = ical.CompEvent
				avail.Children = append(avail.Children, &ev)
			}
		}
		ins, _ := recur.Instances(avail, ws, we, time.UTC, recur.DefaultLimits)
		var free []busyPeriod
		for _, in := range ins {
			free = append(free, clipBusy(in.Start, in.End, fbBusy, ws, we)...)
		}
		free = mergeBusy(free)
		cur := ws
		for _, f := range free {
			if f.start.After(cur) {
				out = append(out, busyPeriod{cur.UTC(), f.start.UTC(), typ})
			}
			if f.end.After(cur) {
				cur = f.end
			}
		}
		if we.After(cur) {
			out = append(out, busyPeriod{cur.UTC(), we.UTC(), typ})
		}
	}
	return out
}
