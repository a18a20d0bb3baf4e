package caldav

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/internal/recur"
	"github.com/davenport-dav/davenport/store"
)

// maxFreeBusyRange bounds the window of one free-busy request.
const maxFreeBusyRange = 366 * 24 * time.Hour

// Post answers a POST to the outbox (RFC 6638 §5): a VFREEBUSY REQUEST
// whose ORGANIZER is the user gets a CALDAV:schedule-response with, for
// every ATTENDEE, the busy time of a local user's calendars in the
// requested window (only busy periods, never what fills them: RFC 6638
// §5.1), from events that are not transparent or cancelled, in calendars
// whose schedule-calendar-transp is not transparent. A recipient who does
// not let the user see their busy time is answered 3.8 (No authority, RFC
// 5546 §3.6), with nothing of their calendars.
//
// The owner's write delegate (calendar-proxy-write) sends as the owner:
// ORGANIZER is then one of the owner's addresses, and the recipients' grants
// to the owner decide what is seen, as CalendarServer lets a write proxy
// use the outbox (RFC 6638 §6.1.4 CALDAV:schedule-send). A read delegate
// may look at the outbox, not send from it.
func (OutboxKind) Post(rq *dav.Request, res *dav.Resource, body []byte, contentType string) (dav.Plan, error) {
	if res.Owner == nil || res.Owner.ID != rq.User.ID && res.Delegate != store.GrantReadWrite {
		return nil, &dav.Error{Status: http.StatusForbidden, Condition: dav.NewElement(dav.Name("need-privileges")),
			Message: "caldav: only the owner and their write delegates send from an outbox"}
	}
	sender := res.Owner
	c, err := decodeCalendar(body)
	if err != nil {
		return nil, dav.Precondition(http.StatusBadRequest, dav.NSCalDAV, "valid-calendar-data", "caldav: outbox POST: "+err.Error())
	}
	if m := c.Props.Get(ical.PropMethod); m == nil || !strings.EqualFold(m.Value, "REQUEST") {
		return nil, dav.Precondition(http.StatusBadRequest, dav.NSCalDAV, "valid-scheduling-message", "caldav: outbox POST is not METHOD:REQUEST")
	}
	var fb *ical.Component
	for _, ch := range c.Children {
		if ch.Name == ical.CompFreeBusy {
			fb = ch
		}
	}
	if fb == nil {
		return nil, dav.Precondition(http.StatusBadRequest, dav.NSCalDAV, "valid-scheduling-message", "caldav: outbox POST without VFREEBUSY")
	}
	org := fb.Props.Get(ical.PropOrganizer)
	if org == nil || !slices.Contains(addresses(sender), address(org.Value)) {
		return nil, organizerAllowed("free-busy request for another organizer")
	}
	attendees := fb.Props.Values(ical.PropAttendee)
	if len(attendees) == 0 {
		return nil, dav.Precondition(http.StatusBadRequest, dav.NSCalDAV, "valid-scheduling-message", "caldav: free-busy request without ATTENDEE")
	}
	if len(attendees) > MaxAttendeesPerInstance {
		return nil, dav.Precondition(http.StatusForbidden, dav.NSCalDAV, "max-attendees-per-instance", "caldav: too many recipients")
	}
	start, err1 := fb.Props.DateTime(ical.PropDateTimeStart, time.UTC)
	end, err2 := fb.Props.DateTime(ical.PropDateTimeEnd, time.UTC)
	if err1 != nil || err2 != nil || !end.After(start) || end.Sub(start) > maxFreeBusyRange {
		return nil, dav.Precondition(http.StatusBadRequest, dav.NSCalDAV, "valid-scheduling-message", "caldav: free-busy request needs DTSTART < DTEND within a year")
	}
	uid := ""
	if p := fb.Props.Get(ical.PropUID); p != nil {
		uid = p.Value
	}
	s := &scheduling{ctx: rq.Context(), st: rq.Store(), user: sender}
	var out strings.Builder
	out.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	out.WriteString(`<C:schedule-response xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">`)
	now := time.Now()
	for _, a := range attendees {
		status, data := "3.7;Invalid calendar user", []byte(nil)
		u, err := s.local(a.Value)
		if err != nil {
			return nil, err
		}
		allowed := u != nil && u.ID == sender.ID
		if u != nil && !allowed {
			// RFC 6638 §6.1.4: the recipient must let the organizer see
			// their free/busy (CALDAV:schedule-query-freebusy); here, any
			// grant of theirs (store.GrantOf: free-busy, a delegation, or
			// everyone's by default).
			a, err := rq.Store().GrantOf(rq.Context(), u.ID, sender.ID)
			if err != nil {
				return nil, err
			}
			allowed = a != ""
		}
		switch {
		case u != nil && !allowed:
			status = "3.8;No authority"
		case u != nil:
			busy, err := s.busyOf(u, start, end)
			if err != nil {
				return nil, err
			}
			extra := []string{"ORGANIZER:" + org.Value, "ATTENDEE:" + a.Value}
			if uid != "" {
				extra = append([]string{"UID:" + uid}, extra...)
			}
			status, data = "2.0;Success", encodeFreeBusy(busy, busy0(start), busy0(end), now, "REPLY", extra)
		case strings.HasPrefix(address(a.Value), "mailto:"):
			status = "5.3;No scheduling support for user"
		}
		out.WriteString(`<C:response><C:recipient><D:href>`)
		xml.EscapeText(&out, []byte(a.Value))
		out.WriteString(`</D:href></C:recipient><C:request-status>` + status + `</C:request-status>`)
		if data != nil {
			out.WriteString(`<C:calendar-data>`)
			xml.EscapeText(&out, data)
			out.WriteString(`</C:calendar-data>`)
		}
		out.WriteString(`</C:response>`)
	}
	out.WriteString(`</C:schedule-response>`)
	return &dav.BodyPlan{ContentType: "application/xml; charset=utf-8", Body: []byte(out.String())}, nil
}

func busy0(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// busyOf folds the busy time of u's opaque calendars in [start, end),
// paging each calendar's candidates by their instance span, with the time
// their availability (RFC 7953) leaves unavailable.
func (s *scheduling) busyOf(u *store.User, start, end time.Time) ([]busyPeriod, error) {
	cals, err := s.st.ListCollections(s.ctx, u.ID, store.KindCalendar)
	if err != nil {
		return nil, err
	}
	b := newBusyTime(start, end, time.UTC, recur.DefaultLimits)
	for i := range cals {
		c := &cals[i]
		if transparent, err := Transparent(s.ctx, s.st, c); err != nil {
			return nil, err
		} else if transparent {
			continue
		}
		loc := collectionLocation(c)
		b.loc = loc
		opts := store.ListObjectsOptions{WithBody: true, Start: &start, End: &end, Limit: 500}
		for {
			objs, err := s.st.ListObjects(s.ctx, c.ID, opts)
			if err != nil {
				return nil, err
			}
			for _, o := range objs {
				oc, err := decodeCalendar(o.Body)
				if err != nil {
					continue
				}
				if err := b.add(oc); err != nil {
					continue // one object over the limits counts as free, not as a failed answer
				}
			}
			if len(objs) < opts.Limit {
				break
			}
			opts.After = objs[len(objs)-1].Name
		}
	}
	away, err := s.availabilityBusy(u, start, end)
	if err != nil {
		return nil, err
	}
	return mergeBusy(append(b.busy, away...)), nil
}
