package caldav

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
)

// copyCalendar is a deep copy of c, made by encoding and decoding it.
func copyCalendar(c *ical.Calendar) *ical.Calendar {
	b, err := encodeCalendar(c)
	if err != nil {
		return c
	}
	out, err := parseCalendar(b)
	if err != nil {
		return c
	}
	return out
}

// setPartstat sets the PARTSTAT of attendee addr in comp.
func setPartstat(comp *ical.Component, addr, partstat string) bool {
	found := false
	for i := range comp.Props[ical.PropAttendee] {
		p := &comp.Props[ical.PropAttendee][i]
		if address(p.Value) == addr {
			p.Params.Set("PARTSTAT", partstat)
			found = true
		}
	}
	return found
}

func partstat(comp *ical.Component, addr string) string {
	for _, p := range comp.Props[ical.PropAttendee] {
		if address(p.Value) == addr {
			if ps := strings.ToUpper(p.Params.Get("PARTSTAT")); ps != "" {
				return ps
			}
			return "NEEDS-ACTION"
		}
	}
	return ""
}

// component returns the component of c for recurrence id rid ("" for the
// master).
func component(c *ical.Calendar, rid string) *ical.Component {
	for _, comp := range schedComps(c) {
		if recurrenceID(comp) == rid {
			return comp
		}
	}
	return nil
}

// stripScheduling removes what only the organizer's copy carries
// (SCHEDULE-STATUS, SCHEDULE-FORCE-SEND) and any METHOD.
func stripScheduling(c *ical.Calendar) {
	c.Props.Del(ical.PropMethod)
	for _, comp := range schedComps(c) {
		for _, name := range []string{ical.PropAttendee, ical.PropOrganizer} {
			for i := range comp.Props[name] {
				comp.Props[name][i].Params.Del("SCHEDULE-STATUS")
				comp.Props[name][i].Params.Del("SCHEDULE-FORCE-SEND")
			}
		}
	}
}

// withMethod is a copy of c as an iTIP message of method.
func withMethod(c *ical.Calendar, method string) *ical.Calendar {
	m := copyCalendar(c)
	stripScheduling(m)
	m.Props.SetText(ical.PropMethod, method)
	return m
}

// organizerPut schedules an organizer's write of nc over oc (nil when
// new): SCHEDULE-STATUS on each attendee in o's body, then REQUEST to the
// local attendees and CANCEL to those removed.
func (s *scheduling) organizerPut(nc, oc *ical.Calendar, o *store.Object) (func() error, error) {
	orgAddr := address(organizerOf(nc).Value)
	order, props := attendeesOf(nc)
	type target struct {
		addr string
		user *store.User
	}
	var targets []target
	status := map[string]string{}
	for _, a := range order {
		if a == orgAddr || !agentServer(props[a]) {
			continue
		}
		u, err := s.local(a)
		if err != nil {
			return nil, err
		}
		switch {
		case u != nil && u.ID == s.user.ID:
			continue
		case u != nil:
			status[a] = statusDelivered
			targets = append(targets, target{a, u})
		case strings.HasPrefix(a, "mailto:"):
			status[a] = statusNoDelivery // no iMIP yet
		default:
			status[a] = statusInvalidUser
		}
	}
	for _, comp := range schedComps(nc) {
		for i := range comp.Props[ical.PropAttendee] {
			p := &comp.Props[ical.PropAttendee][i]
			if st, ok := status[address(p.Value)]; ok {
				p.Params.Set("SCHEDULE-STATUS", st)
			}
		}
	}
	if len(status) > 0 {
		b, err := encodeCalendar(nc)
		if err != nil {
			return nil, err
		}
		o.Body = b
	}
	// Removed attendees: in the old version, not in the new.
	var removed []string
	if oc != nil {
		if oorg := organizerOf(oc); oorg != nil && address(oorg.Value) == orgAddr {
			oldOrder, oldProps := attendeesOf(oc)
			for _, a := range oldOrder {
				if _, still := props[a]; !still && a != orgAddr && agentServer(oldProps[a]) {
					removed = append(removed, a)
				}
			}
		}
	}
	// Only what the organizer decides is sent again: a write that leaves
	// the Schedule-Tag alone (an alarm, a reply merged) sends nothing.
	unchanged := oc != nil && len(removed) == 0 &&
		(Kind{}).ScheduleTag(&store.Object{Body: o.Body}) == tagOf(oc)
	if unchanged {
		return nil, nil
	}
	uid := uidOf(nc)
	return func() error {
		cp := copyCalendar(nc)
		stripScheduling(cp)
		copyBody, err := encodeCalendar(cp)
		if err != nil {
			return err
		}
		msg, err := encodeCalendar(withMethod(nc, "REQUEST"))
		if err != nil {
			return err
		}
		tag := tagOf(nc)
		for _, t := range targets {
			if err := s.placeCopy(t.user, uid, orgAddr, copyBody, false); errors.Is(err, errNotTheirs) {
				continue
			} else if err != nil {
				return err
			}
			if err := s.toInbox(t.user, msg, "REQUEST|"+uid+"|"+t.addr+"|"+tag); err != nil {
				return err
			}
		}
		if len(removed) > 0 {
			deliver, err := s.cancelAll(oc, removed)
			if err != nil {
				return err
			}
			return deliver()
		}
		return nil
	}, nil
}

func tagOf(c *ical.Calendar) string {
	b, err := encodeCalendar(c)
	if err != nil {
		return ""
	}
	return (Kind{}).ScheduleTag(&store.Object{Body: b})
}

func uidOf(c *ical.Calendar) string {
	for _, comp := range schedComps(c) {
		if p := comp.Props.Get(ical.PropUID); p != nil {
			return p.Value
		}
	}
	return ""
}

// cancelAll sends CANCEL for oc to its local attendees (only those in
// only, when given) and marks their copies cancelled (RFC 6638 §3.2.2.1).
func (s *scheduling) cancelAll(oc *ical.Calendar, only []string) (func() error, error) {
	orgAddr := address(organizerOf(oc).Value)
	order, props := attendeesOf(oc)
	var users []*store.User
	var addrs []string
	for _, a := range order {
		if a == orgAddr || !agentServer(props[a]) || only != nil && !slices.Contains(only, a) {
			continue
		}
		u, err := s.local(a)
		if err != nil {
			return nil, err
		}
		if u != nil && u.ID != s.user.ID {
			users, addrs = append(users, u), append(addrs, a)
		}
	}
	if len(users) == 0 {
		return nil, nil
	}
	return func() error {
		cancelled := copyCalendar(oc)
		stripScheduling(cancelled)
		for _, comp := range schedComps(cancelled) {
			comp.Props.SetText(ical.PropStatus, "CANCELLED")
		}
		copyBody, err := encodeCalendar(cancelled)
		if err != nil {
			return err
		}
		msg, err := encodeCalendar(withMethod(cancelled, "CANCEL"))
		if err != nil {
			return err
		}
		uid := uidOf(oc)
		for i, u := range users {
			if err := s.placeCopy(u, uid, orgAddr, copyBody, true); errors.Is(err, errNotTheirs) {
				continue
			} else if err != nil {
				return err
			}
			if err := s.toInbox(u, msg, "CANCEL|"+uid+"|"+addrs[i]+"|"+tagOf(oc)); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// attendeePut schedules attendee me's write of nc over oc: a REPLY to a
// local organizer for every instance whose PARTSTAT changed, and the
// organizer's copy updated (RFC 6638 §3.2.2.2, §3.2.2.3).
func (s *scheduling) attendeePut(nc, oc *ical.Calendar, me string) (func() error, error) {
	org := organizerOf(nc)
	if !agentServer(org) {
		return nil, nil
	}
	orgUser, err := s.local(org.Value)
	if err != nil || orgUser == nil || orgUser.ID == s.user.ID {
		return nil, err
	}
	type answer struct{ rid, partstat string }
	var answers []answer
	for _, comp := range schedComps(nc) {
		ps := partstat(comp, me)
		if ps == "" {
			continue
		}
		was := "NEEDS-ACTION"
		if oc != nil {
			prev := component(oc, recurrenceID(comp))
			if prev == nil {
				prev = component(oc, "")
			}
			if prev != nil {
				was = partstat(prev, me)
			}
		}
		if ps != was {
			answers = append(answers, answer{recurrenceID(comp), ps})
		}
	}
	if len(answers) == 0 {
		return nil, nil
	}
	uid := uidOf(nc)
	return func() error {
		// The organizer's copy, wherever they keep it.
		if cur, err := s.st.FindObjectByUID(s.ctx, orgUser.ID, store.KindCalendar, uid); err == nil {
			if !sameOrganizer(cur.Body, address(org.Value)) {
				return nil // not the event the attendee answers
			}
			oc, err := parseCalendar(cur.Body)
			if err != nil {
				return err
			}
			for _, a := range answers {
				comp := component(oc, a.rid)
				if comp == nil {
					if comp = override(oc, component(nc, a.rid)); comp == nil {
						continue
					}
				}
				setPartstat(comp, me, a.partstat)
			}
			b, err := encodeCalendar(oc)
			if err != nil {
				return err
			}
			if err := s.putObject(cur.CollectionID, cur.Name, b, cur.ETag); err != nil {
				return err
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// The REPLY (RFC 5546 §3.2.3): the answered instances, with the
		// replying attendee only.
		reply := &ical.Calendar{Component: ical.NewComponent(ical.CompCalendar)}
		reply.Props.SetText(ical.PropVersion, "2.0")
		reply.Props.SetText(ical.PropProductID, "-//Davenport//Scheduling//EN")
		reply.Props.SetText(ical.PropMethod, "REPLY")
		key := "REPLY|" + uid + "|" + me
		for _, a := range answers {
			src := component(nc, a.rid)
			c := ical.NewComponent(src.Name)
			for _, name := range []string{ical.PropUID, ical.PropRecurrenceID, ical.PropSequence, ical.PropDateTimeStart, ical.PropOrganizer} {
				if p := src.Props.Get(name); p != nil {
					c.Props.Set(p)
				}
			}
			c.Props.SetDateTime(ical.PropDateTimeStamp, time.Now().UTC())
			for _, p := range src.Props[ical.PropAttendee] {
				if address(p.Value) == me {
					p.Params.Del("SCHEDULE-STATUS")
					c.Props.Add(&p)
				}
			}
			reply.Children = append(reply.Children, c)
			key += "|" + a.rid + "=" + a.partstat
		}
		msg, err := encodeCalendar(reply)
		if err != nil {
			return err
		}
		return s.toInbox(orgUser, msg, key)
	}, nil
}

// override adds to c an instance override for the instance that src (an
// attendee's override) answers, copied from c's master: what a
// per-instance reply needs when the organizer has no override yet.
func override(c *ical.Calendar, src *ical.Component) *ical.Component {
	master := component(c, "")
	if master == nil || src == nil || src.Props.Get(ical.PropRecurrenceID) == nil {
		return nil
	}
	ov := ical.NewComponent(master.Name)
	for name, ps := range master.Props {
		switch name {
		case ical.PropRecurrenceRule, ical.PropRecurrenceDates, ical.PropExceptionDates, ical.PropDateTimeEnd, ical.PropDuration:
			continue
		}
		for _, p := range ps {
			p.Params = cloneParams(p.Params)
			ov.Props.Add(&p)
		}
	}
	rid := *src.Props.Get(ical.PropRecurrenceID)
	ov.Props.Set(&rid)
	start := rid
	start.Name = ical.PropDateTimeStart
	ov.Props.Set(&start)
	if d := eventDuration(master); d > 0 {
		dur := ical.NewProp(ical.PropDuration)
		dur.SetDuration(d)
		ov.Props.Set(dur)
	}
	ov.Children = master.Children
	c.Children = append(c.Children, ov)
	return ov
}

func cloneParams(p ical.Params) ical.Params {
	out := make(ical.Params, len(p))
	for k, v := range p {
		out[k] = slices.Clone(v)
	}
	return out
}

func eventDuration(c *ical.Component) time.Duration {
	if p := c.Props.Get(ical.PropDuration); p != nil {
		d, _ := p.Duration()
		return d
	}
	s, err1 := c.Props.DateTime(ical.PropDateTimeStart, time.UTC)
	e, err2 := c.Props.DateTime(ical.PropDateTimeEnd, time.UTC)
	if err1 != nil || err2 != nil {
		return 0
	}
	return e.Sub(s)
}

// sameOrganizer reports whether stored object body is organized by addr:
// a copy is only ever overwritten by its own organizer, so nobody can
// replace another's event by inviting them with its UID.
func sameOrganizer(body []byte, addr string) bool {
	c, err := parseCalendar(body)
	if err != nil {
		return false
	}
	org := organizerOf(c)
	return org != nil && address(org.Value) == addr
}

// errNotTheirs: the UID names an event of another organizer.
var errNotTheirs = errors.New("caldav: the recipient's event of that UID has another organizer")

// placeCopy writes body as u's copy of the event uid, organized by org:
// over their existing copy wherever it is, else (unless onlyExisting)
// into their default calendar. A copy of another organizer is left alone
// (errNotTheirs).
func (s *scheduling) placeCopy(u *store.User, uid, org string, body []byte, onlyExisting bool) error {
	cur, err := s.st.FindObjectByUID(s.ctx, u.ID, store.KindCalendar, uid)
	switch {
	case err == nil:
		if !sameOrganizer(cur.Body, org) {
			return errNotTheirs
		}
		return s.putObject(cur.CollectionID, cur.Name, body, cur.ETag)
	case !errors.Is(err, store.ErrNotFound):
		return err
	case onlyExisting:
		return nil
	}
	c, err := DefaultCalendar(s.ctx, s.st, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		c = &store.Collection{OwnerID: u.ID, Kind: store.KindCalendar, Name: "personal", DisplayName: "Personal", Components: []string{"VEVENT", "VTODO"}}
		if err := s.st.CreateCollection(s.ctx, c); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		c, err = DefaultCalendar(s.ctx, s.st, u.ID)
	}
	if err != nil {
		return err
	}
	return s.putObject(c.ID, objectName(uid), body, "")
}

// objectName is the resource name of a copy the server makes: the UID
// when it is a plain name, else its hash.
func objectName(uid string) string {
	plain := len(uid) > 0 && len(uid) <= 200
	for _, r := range uid {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.@", r)) {
			plain = false
			break
		}
	}
	if plain {
		return uid + ".ics"
	}
	sum := sha256.Sum256([]byte(uid))
	return hex.EncodeToString(sum[:16]) + ".ics"
}

// putObject validates, indexes and stores body as name in collection id.
func (s *scheduling) putObject(collectionID int64, name string, body []byte, ifMatch string) error {
	p, err := ParseObject(body, "text/calendar", AllComponents)
	if err != nil {
		return err
	}
	o := &store.Object{CollectionID: collectionID, Name: name, UID: p.UID, Component: p.Component,
		ContentType: "text/calendar; charset=utf-8; component=" + strings.ToLower(p.Component),
		FirstStart:  p.FirstStart, LastEnd: p.LastEnd, Body: p.Body}
	return s.put(o, ifMatch)
}

func (s *scheduling) put(o *store.Object, ifMatch string) error {
	o.Size = int64(len(o.Body))
	o.ETag = dav.EntityTag(o.Body)
	_, err := s.st.PutObject(s.ctx, o, store.PutObjectOptions{IfMatch: ifMatch})
	return err
}

// toInbox delivers an iTIP message into u's inbox. Its name and stored UID
// are a hash of key, what the message says: the same message delivered
// twice is one item, a new one another.
func (s *scheduling) toInbox(u *store.User, msg []byte, key string) error {
	inbox, err := s.st.GetCollection(s.ctx, u.ID, store.KindInbox, InboxName)
	if errors.Is(err, store.ErrNotFound) {
		inbox = &store.Collection{OwnerID: u.ID, Kind: store.KindInbox, Name: InboxName, DisplayName: "Inbox"}
		if err := s.st.CreateCollection(s.ctx, inbox); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
		inbox, err = s.st.GetCollection(s.ctx, u.ID, store.KindInbox, InboxName)
	}
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(key))
	id := hex.EncodeToString(sum[:16])
	comp := "VEVENT"
	if strings.Contains(string(msg), "BEGIN:VTODO") {
		comp = "VTODO"
	}
	o := &store.Object{CollectionID: inbox.ID, Name: id + ".ics", UID: id, Component: comp,
		ContentType: "text/calendar; charset=utf-8; component=" + strings.ToLower(comp), Body: msg}
	return s.put(o, "")
}
