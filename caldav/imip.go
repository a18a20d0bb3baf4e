package caldav

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/store"
)

// The calendar side of iMIP (RFC 6047): what the mail transport (package
// imip) records of a message it sent, and what an iTIP message that came
// in by email does to the calendars of this server's users. The transport
// owns SMTP, LMTP and MIME; the scheduling rules are here, beside those of
// implicit scheduling between local users.

// RecordMailOutcome records status (StatusSent, StatusInvalidUser,
// StatusNoDelivery) as the SCHEDULE-STATUS of m's recipient in the
// sender's copy of the event (RFC 6638 §3.2.9, §7.3): on the ATTENDEE when
// the sender organizes it, on the ORGANIZER when the sender replied. A
// copy that is gone, or no longer names the recipient, is left alone.
func RecordMailOutcome(ctx context.Context, st store.Store, m *store.Mail, status string) error {
	u, err := st.GetUserByID(ctx, m.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s := &scheduling{ctx: ctx, st: st, user: u}
	for range 3 { // a client's write in between: read again
		cur, err := st.FindObjectByUID(ctx, u.ID, store.KindCalendar, m.UID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		c, err := parseCalendar(cur.Body)
		if err != nil {
			return nil
		}
		org := organizerOf(c)
		if org == nil {
			return nil
		}
		to, changed := address(m.To), false
		for _, comp := range schedComps(c) {
			switch {
			case address(org.Value) == address(m.From):
				for i := range comp.Props[ical.PropAttendee] {
					p := &comp.Props[ical.PropAttendee][i]
					if address(p.Value) == to && p.Params.Get("SCHEDULE-STATUS") != status {
						p.Params.Set("SCHEDULE-STATUS", status)
						changed = true
					}
				}
			case address(org.Value) == to:
				if p := comp.Props.Get(ical.PropOrganizer); p != nil && p.Params.Get("SCHEDULE-STATUS") != status {
					p.Params.Set("SCHEDULE-STATUS", status)
					changed = true
				}
			}
		}
		if !changed {
			return nil
		}
		b, err := encodeCalendar(c)
		if err != nil {
			return err
		}
		err = s.putObject(cur.CollectionID, cur.Name, b, cur.ETag)
		if !errors.Is(err, store.ErrPreconditionFailed) {
			return err
		}
	}
	return nil
}

// Rejection is an iTIP message by email that is refused: the reason is
// logged (and, over LMTP, answered), nothing is changed.
type Rejection struct{ Reason string }

func (r *Rejection) Error() string { return "caldav: imip: " + r.Reason }

func reject(format string, args ...any) error {
	return &Rejection{Reason: fmt.Sprintf(format, args...)}
}

// Received says what an incoming iTIP message did.
type Received struct {
	Method string
	UID    string
	User   string // the local user it was for
}

// ReceiveITIP applies body, an iTIP message (RFC 5546) that came by email
// from the address from for the local calendar user at to (both mailto:
// or bare addresses). The sender must be who the message speaks for (RFC
// 6047 §3: the ORGANIZER of a REQUEST or CANCEL, the ATTENDEE of a REPLY),
// and must not be a user of this server: local users schedule through the
// server, so mail claiming to come from one is forged. With imip, answers
// (the event again for a REFRESH, DECLINECOUNTER for a COUNTER) are queued
// as mail. A refusal is a *Rejection.
func ReceiveITIP(ctx context.Context, st store.Store, imip bool, from, to string, body []byte) (*Received, error) {
	from, to = mailto(from), mailto(to)
	c, err := parseCalendar(body)
	if err != nil {
		return nil, reject("the calendar part does not parse: %v", err)
	}
	m := c.Props.Get(ical.PropMethod)
	if m == nil || m.Value == "" {
		return nil, reject("the calendar has no METHOD")
	}
	method := strings.ToUpper(m.Value)
	uid := uidOf(c)
	org := organizerOf(c)
	if uid == "" || org == nil {
		return nil, reject("%s without UID or ORGANIZER", method)
	}
	s := &scheduling{ctx: ctx, st: st, imip: imip}
	if u, err := s.local(from); err != nil {
		return nil, err
	} else if u != nil {
		return nil, reject("the sender %s is a user of this server, who schedules through it: mail in their name is refused", from)
	}
	user, err := s.local(to)
	if err != nil {
		return nil, err
	}
	if user == nil {
		return nil, reject("the recipient %s is no user of this server", to)
	}
	s.user = user
	res := &Received{Method: method, UID: uid, User: user.Username}
	orgAddr := address(org.Value)
	order, _ := attendeesOf(c)
	switch method {
	case "REQUEST", "ADD", "CANCEL":
		// RFC 5546 §3.2.1, §3.2.5: the organizer sends these.
		if orgAddr != from {
			return nil, reject("%s from %s, but its ORGANIZER is %s", method, from, orgAddr)
		}
		me := ""
		for _, a := range order {
			if slices.Contains(addresses(user), a) {
				me = a
			}
		}
		if me == "" {
			return nil, reject("%s for %s, who is no ATTENDEE of it", method, to)
		}
		if method == "ADD" {
			return nil, reject("ADD is not supported; the organizer's client sends REQUEST instead")
		}
		return res, s.receiveFromOrganizer(c, method, uid, orgAddr, me)
	case "REPLY", "REFRESH", "COUNTER":
		// RFC 5546 §3.2.3, §3.2.6, §3.2.7: one attendee speaks, and it must
		// be the sender.
		if len(order) != 1 || order[0] != from {
			return nil, reject("%s from %s, but it speaks for %v", method, from, order)
		}
		if !slices.Contains(addresses(user), orgAddr) {
			return nil, reject("%s to %s, who is not its ORGANIZER %s", method, to, orgAddr)
		}
		cur, err := st.FindObjectByUID(ctx, user.ID, store.KindCalendar, uid)
		if errors.Is(err, store.ErrNotFound) {
			return nil, reject("%s for unknown UID %q", method, uid)
		}
		if err != nil {
			return nil, err
		}
		oc, err := parseCalendar(cur.Body)
		if err != nil || organizerOf(oc) == nil || address(organizerOf(oc).Value) != orgAddr {
			return nil, reject("%s for UID %q, which %s does not organize", method, uid, to)
		}
		if on, _ := attendeesOf(oc); !slices.Contains(on, from) {
			return nil, reject("%s from %s, who is no ATTENDEE of %q", method, from, uid)
		}
		return res, s.receiveFromAttendee(c, oc, method, uid, orgAddr, from)
	}
	return nil, reject("method %s is not supported", method)
}

// mailto is addr as a mailto: calendar user address.
func mailto(addr string) string {
	addr = strings.TrimSpace(addr)
	if !strings.HasPrefix(strings.ToLower(addr), "mailto:") {
		addr = "mailto:" + addr
	}
	return address(addr)
}

// receiveFromOrganizer places an external organizer's REQUEST or CANCEL in
// the attendee's calendar and inbox, as implicit scheduling does for a
// local organizer.
func (s *scheduling) receiveFromOrganizer(c *ical.Calendar, method, uid, orgAddr, me string) error {
	var copyBody, msg []byte
	var err error
	if method == "CANCEL" {
		copyBody, msg, err = cancelled(c)
	} else {
		cp := stripped(c)
		if copyBody, err = encodeCalendar(cp); err == nil {
			msg, err = encodeCalendar(withMethod(cp, method))
		}
	}
	if err != nil {
		return err
	}
	if _, err := ParseObject(copyBody, "text/calendar", AllComponents); err != nil {
		return reject("%s is not a valid calendar object: %v", method, err)
	}
	err = s.placeCopy(s.user, uid, orgAddr, copyBody, method == "CANCEL")
	if errors.Is(err, errNotTheirs) {
		return reject("%s for UID %q, which %s holds from another organizer", method, uid, me)
	}
	if err != nil {
		return err
	}
	return s.toInbox(s.user, msg, method+"|"+uid+"|"+me+"|"+tagOf(c))
}

// receiveFromAttendee handles an external attendee's REPLY (merged into
// the organizer's copy oc, RFC 5546 §3.2.3), REFRESH (the event sent to
// them again, §3.2.6) and COUNTER (declined, §3.2.7-8: proposals are not
// taken from outside; the organizer can reschedule by hand).
func (s *scheduling) receiveFromAttendee(c, oc *ical.Calendar, method, uid, orgAddr, from string) error {
	switch method {
	case "REPLY":
		var answers []answer
		for _, comp := range schedComps(c) {
			answers = append(answers, answer{recurrenceID(comp), partstat(comp, from)})
		}
		if err := s.mergeReply(s.user, uid, orgAddr, from, c, answers); err != nil {
			return err
		}
		msg, err := encodeCalendar(c)
		if err != nil {
			return err
		}
		key := "REPLY|" + uid + "|" + from
		for _, a := range answers {
			key += "|" + a.rid + "=" + a.partstat
		}
		return s.toInbox(s.user, msg, key)
	case "REFRESH":
		if !s.imip {
			return reject("REFRESH from %s, but no mail can be sent", from)
		}
		msg, err := encodeCalendar(withMethod(stripped(oc), "REQUEST"))
		if err != nil {
			return err
		}
		return s.st.QueueMail(s.ctx, []store.Mail{s.mail(uid, orgAddr, from, "REQUEST", msg)})
	default: // COUNTER
		if !s.imip {
			return reject("COUNTER from %s refused, and no mail can be sent", from)
		}
		msg, err := encodeCalendar(declineCounter(c, orgAddr))
		if err != nil {
			return err
		}
		return s.st.QueueMail(s.ctx, []store.Mail{s.mail(uid, orgAddr, from, "DECLINECOUNTER", msg)})
	}
}

// stripped is a copy of c without alarms or scheduling parameters.
func stripped(c *ical.Calendar) *ical.Calendar {
	cp := copyCalendar(c)
	stripScheduling(cp)
	stripAlarms(cp)
	return cp
}

// declineCounter is the DECLINECOUNTER (RFC 5546 §3.2.8) answering the
// COUNTER c: the countered instances, the organizer, the proposing
// attendee, and a comment saying why.
func declineCounter(c *ical.Calendar, orgAddr string) *ical.Calendar {
	out := &ical.Calendar{Component: ical.NewComponent(ical.CompCalendar)}
	out.Props.SetText(ical.PropVersion, "2.0")
	out.Props.SetText(ical.PropProductID, "-//Davenport//Scheduling//EN")
	out.Props.SetText(ical.PropMethod, "DECLINECOUNTER")
	for _, src := range schedComps(c) {
		comp := ical.NewComponent(src.Name)
		for _, name := range []string{ical.PropUID, ical.PropRecurrenceID, ical.PropSequence, ical.PropOrganizer, ical.PropAttendee} {
			for _, p := range src.Props[name] {
				comp.Props.Add(&p)
			}
		}
		if comp.Props.Get(ical.PropOrganizer) == nil {
			comp.Props.SetText(ical.PropOrganizer, orgAddr)
		}
		comp.Props.SetDateTime(ical.PropDateTimeStamp, time.Now().UTC())
		comp.Props.SetText(ical.PropComment, "Counter-proposals by email are not accepted; please write to the organizer.")
		out.Children = append(out.Children, comp)
	}
	return out
}
