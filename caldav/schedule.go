package caldav

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/internal/contentline"
	"github.com/davenport-dav/davenport/store"
)

// Implicit scheduling (RFC 6638 §3) between users of this server. The
// engine calls the calendar kind around every PUT and DELETE of a calendar
// object (dav.Scheduler); when the object is a scheduling object resource —
// it has an ORGANIZER and ATTENDEEs, and the user is the organizer or one
// of the attendees — the change is delivered:
//
//   - the organizer's PUT sends REQUEST to every local attendee: an iTIP
//     message into their inbox and the event placed or updated in their
//     calendar (where they keep it, found by UID, else their default
//     calendar); attendees dropped from the event, or all of them when the
//     organizer deletes it, get CANCEL and their copy is marked cancelled;
//   - an attendee's change of their PARTSTAT, per instance for recurring
//     events, or the deletion of their copy (DECLINED), sends REPLY to the
//     organizer's inbox and updates the organizer's copy.
//
// Deliveries are written through the store directly, never through the
// HTTP resolution of another user's resources, and never call back into
// scheduling: the server's own writes do not schedule, so no two users can
// make a loop. Each delivery is idempotent (an inbox message's name is a
// hash of what it says; a copy is found by UID and overwritten), so a PUT
// repeated after a failure half-way delivers each message once.
//
// Calendar users who are not users of this server are reached by email
// (iMIP, RFC 6047) when the kind has IMIP set: the message is queued in the
// store in the transaction of the write that causes it (dav.Scheduled.Mail)
// and SCHEDULE-STATUS says 1.0 (pending) until the sender records 1.1
// (sent), 3.7 (refused by the recipient's server) or 5.1 (given up)
// (RecordMailOutcome). Without IMIP they get 5.1 at once.

// ScheduleTag (RFC 6638 §3.2.10) is a hash of what the organizer decides:
// the object without the attendees' participation status and scheduling
// parameters, DTSTAMP and LAST-MODIFIED. A reply that updates an
// attendee's PARTSTAT in the organizer's copy, or an attendee's own answer,
// leaves it unchanged, so clients sending If-Schedule-Tag-Match (§3.3) do
// not conflict over them.
func (Kind) ScheduleTag(o *store.Object) string {
	if o == nil || !bytes.Contains(o.Body, []byte("ORGANIZER")) {
		return ""
	}
	lines, err := contentline.Unfold(string(o.Body))
	if err != nil {
		return ""
	}
	h := sha256.New()
	organizer := false
	for _, raw := range lines {
		name, _ := contentline.SplitName(raw)
		switch strings.ToUpper(name) {
		case "DTSTAMP", "LAST-MODIFIED":
			continue
		case "ORGANIZER", "ATTENDEE":
			organizer = organizer || strings.EqualFold(name, "ORGANIZER")
			l, err := contentline.Parse(raw)
			if err != nil {
				return ""
			}
			raw = l.Head("PARTSTAT", "SCHEDULE-STATUS", "RSVP", "SCHEDULE-FORCE-SEND") + ":" + strings.ToLower(l.Value)
		}
		h.Write([]byte(raw))
		h.Write([]byte{'\n'})
	}
	if !organizer {
		return ""
	}
	return "st-" + hex.EncodeToString(h.Sum(nil)[:12])
}

// iTIP status codes of SCHEDULE-STATUS (RFC 6638 §3.2.9, RFC 5546 §3.6).
const (
	statusPending     = "1.0"
	statusSent        = "1.1"
	statusDelivered   = "1.2"
	statusInvalidUser = "3.7"
	statusNoDelivery  = "5.1"
)

// The outcomes RecordMailOutcome records (RFC 6638 §3.2.9).
const (
	StatusSent        = statusSent        // handed to the relay
	StatusInvalidUser = statusInvalidUser // the recipient's server refused the address
	StatusNoDelivery  = statusNoDelivery  // given up after retries
)

// scheduling is one scheduling operation's view of the store.
type scheduling struct {
	ctx  context.Context
	st   store.Store
	user *store.User
	imip bool // external mailto addresses are reached by email
}

// external reports whether addr is reached by iMIP: a mailto address of no
// user of this server (checked by the caller), with iMIP on.
func (s *scheduling) external(addr string) bool {
	return s.imip && strings.HasPrefix(addr, "mailto:") && len(addr) > len("mailto:")
}

// mail is an iMIP message from the scheduling user to addr.
func (s *scheduling) mail(uid, from, to, method string, body []byte) store.Mail {
	return store.Mail{UserID: s.user.ID, UID: uid, From: from, To: to, Method: method, Body: body}
}

// address normalises a calendar user address for comparison: mailto
// addresses lower-cased, principal URLs (absolute or not) reduced to the
// principal path.
func address(v string) string {
	v = strings.TrimSpace(v)
	if len(v) > 7 && strings.EqualFold(v[:7], "mailto:") {
		return "mailto:" + strings.ToLower(v[7:])
	}
	if u, err := url.Parse(v); err == nil && strings.HasPrefix(u.Path, dav.Prefix+"principals/") {
		return u.Path
	}
	return v
}

// addresses are the user's calendar user addresses (RFC 6638 §2.4.1).
func addresses(u *store.User) []string {
	a := []string{dav.PrincipalHref(u.Username)}
	if u.Email != "" {
		a = append(a, "mailto:"+strings.ToLower(u.Email))
	}
	return a
}

// local returns the local user whose address addr is, or nil.
func (s *scheduling) local(addr string) (*store.User, error) {
	addr = address(addr)
	if name, ok := strings.CutPrefix(addr, dav.Prefix+"principals/"); ok {
		u, err := s.st.GetUser(s.ctx, strings.TrimSuffix(name, "/"))
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return u, err
	}
	email, ok := strings.CutPrefix(addr, "mailto:")
	if !ok || email == "" {
		return nil, nil
	}
	// One indexed lookup per address: an invitation's cost does not
	// grow with the number of users on the server.
	u, err := s.st.GetUserByEmail(s.ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return u, err
}

// schedComps are the components of a calendar that carry scheduling: its
// VEVENTs and VTODOs.
func schedComps(c *ical.Calendar) []*ical.Component {
	var out []*ical.Component
	for _, ch := range c.Children {
		if ch.Name == ical.CompEvent || ch.Name == ical.CompToDo {
			out = append(out, ch)
		}
	}
	return out
}

// organizerOf is the ORGANIZER of the object (the same on every component,
// RFC 6638 §3.1), or nil.
func organizerOf(c *ical.Calendar) *ical.Prop {
	for _, comp := range schedComps(c) {
		if p := comp.Props.Get(ical.PropOrganizer); p != nil {
			return p
		}
	}
	return nil
}

// agentServer reports whether the server schedules for a property's
// calendar user (SCHEDULE-AGENT absent or SERVER, RFC 6638 §7.1).
func agentServer(p *ical.Prop) bool {
	a := strings.ToUpper(p.Params.Get("SCHEDULE-AGENT"))
	return a == "" || a == "SERVER"
}

func recurrenceID(c *ical.Component) string {
	if p := c.Props.Get(ical.PropRecurrenceID); p != nil {
		return p.Value
	}
	return ""
}

// attendeesOf lists the distinct ATTENDEE addresses of the object, with the
// property that first named each.
func attendeesOf(c *ical.Calendar) (order []string, props map[string]*ical.Prop) {
	props = map[string]*ical.Prop{}
	for _, comp := range schedComps(c) {
		for i := range comp.Props[ical.PropAttendee] {
			p := &comp.Props[ical.PropAttendee][i]
			a := address(p.Value)
			if _, seen := props[a]; !seen {
				props[a] = p
				order = append(order, a)
			}
		}
	}
	return order, props
}

func parseCalendar(body []byte) (*ical.Calendar, error) {
	return decodeCalendar(body)
}

func encodeCalendar(c *ical.Calendar) ([]byte, error) {
	var b bytes.Buffer
	if err := ical.NewEncoder(&b).Encode(c); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func organizerAllowed(msg string) error {
	return dav.Precondition(http.StatusForbidden, dav.NSCalDAV, "organizer-allowed", "caldav: "+msg)
}

// scheduleUser is the user the server schedules for when rq writes into
// res: the calendar's owner, when that is the request's user or their
// write delegate (CalendarServer's calendar-proxy-write acts as the owner:
// an assistant who accepts an invitation in the manager's calendar
// replies as the manager); nil for anyone else.
func scheduleUser(rq *dav.Request, res *dav.Resource) *store.User {
	if res.Owner == nil || res.Owner.ID != rq.User.ID && res.Delegate != store.GrantReadWrite {
		return nil
	}
	return res.Owner
}

// SchedulePut implements dav.Scheduler for calendar objects.
func (k Kind) SchedulePut(rq *dav.Request, res *dav.Resource, old, o *store.Object) (*dav.Scheduled, error) {
	u := scheduleUser(rq, res)
	if u == nil {
		return nil, nil // the server schedules for the owner only
	}
	nc, err := parseCalendar(o.Body)
	if err != nil {
		return nil, nil // PrepareObject accepted it; nothing to schedule
	}
	var oc *ical.Calendar
	if old != nil {
		oc, _ = parseCalendar(old.Body)
	}
	s := &scheduling{ctx: rq.Context(), st: rq.Store(), user: u, imip: k.IMIP}
	org := organizerOf(nc)
	if org == nil {
		if oc != nil && organizerOf(oc) != nil && slices.Contains(addresses(u), address(organizerOf(oc).Value)) {
			// The organizer took the scheduling out of the event: the
			// attendees it had are cancelled.
			return s.cancelAll(oc, nil)
		}
		return nil, nil
	}
	for _, comp := range schedComps(nc) {
		if n := len(comp.Props[ical.PropAttendee]); n > MaxAttendeesPerInstance {
			return nil, dav.Precondition(http.StatusForbidden, dav.NSCalDAV, "max-attendees-per-instance",
				"caldav: too many attendees")
		}
	}
	mine := addresses(u)
	if slices.Contains(mine, address(org.Value)) {
		return s.organizerPut(nc, oc, o)
	}
	order, _ := attendeesOf(nc)
	for _, a := range order {
		if slices.Contains(mine, a) {
			return s.attendeePut(nc, oc, a, o)
		}
	}
	// Neither organizer nor attendee: refuse an object that names another
	// local user as its organizer (RFC 6638 §3.2.1: the organizer must be
	// the user); anything else is not a scheduling object resource.
	if other, err := s.local(org.Value); err != nil {
		return nil, err
	} else if other != nil && agentServer(org) && len(order) > 0 {
		return nil, organizerAllowed("organizer is another user")
	}
	return nil, nil
}

// ScheduleDelete implements dav.Scheduler for calendar objects.
func (k Kind) ScheduleDelete(rq *dav.Request, res *dav.Resource, old *store.Object) (*dav.Scheduled, error) {
	u := scheduleUser(rq, res)
	if old == nil || u == nil {
		return nil, nil
	}
	oc, err := parseCalendar(old.Body)
	if err != nil {
		return nil, nil
	}
	org := organizerOf(oc)
	if org == nil {
		return nil, nil
	}
	s := &scheduling{ctx: rq.Context(), st: rq.Store(), user: u, imip: k.IMIP}
	mine := addresses(u)
	if slices.Contains(mine, address(org.Value)) {
		return s.cancelAll(oc, nil)
	}
	order, _ := attendeesOf(oc)
	for _, a := range order {
		if slices.Contains(mine, a) {
			// RFC 6638 §3.2.2.3: deleting an attendee's copy declines.
			declined := copyCalendar(oc)
			for _, comp := range schedComps(declined) {
				setPartstat(comp, a, "DECLINED")
			}
			return s.attendeePut(declined, oc, a, nil)
		}
	}
	return nil, nil
}
