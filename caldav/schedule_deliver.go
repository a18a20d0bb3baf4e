package caldav

import (
	"bytes"
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

// counterpart is the component of c that stands for comp's instance: the
// override of its RECURRENCE-ID, else the master; nil when c has neither.
func counterpart(c *ical.Calendar, comp *ical.Component) *ical.Component {
	if prev := component(c, recurrenceID(comp)); prev != nil {
		return prev
	}
	return component(c, "")
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
// attendees and CANCEL to those removed — local ones delivered after the
// write, others queued as iMIP mail with it.
func (s *scheduling) organizerPut(nc, oc *ical.Calendar, o *store.Object) (*dav.Scheduled, error) {
	orgAddr := address(organizerOf(nc).Value)
	order, props := attendeesOf(nc)
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
	tag := tagOf(nc)
	unchanged := oc != nil && len(removed) == 0 && tag == tagOf(oc)
	kept := keepReplies(nc, oc, orgAddr)
	type target struct {
		addr string
		user *store.User
	}
	var (
		targets  []target
		external []string
	)
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
		case s.external(a):
			external = append(external, a)
			status[a] = statusPending
			if unchanged {
				// Nothing is sent: the outcome of the last message stands.
				status[a] = scheduleStatus(oc, a)
			}
		case strings.HasPrefix(a, "mailto:"):
			status[a] = statusNoDelivery // no iMIP configured
		default:
			status[a] = statusInvalidUser
		}
	}
	for _, comp := range schedComps(nc) {
		for i := range comp.Props[ical.PropAttendee] {
			p := &comp.Props[ical.PropAttendee][i]
			if st, ok := status[address(p.Value)]; ok && st != "" {
				p.Params.Set("SCHEDULE-STATUS", st)
			}
		}
	}
	if len(status) > 0 || kept {
		b, err := encodeCalendar(nc)
		if err != nil {
			return nil, err
		}
		o.Body = b
	}
	if unchanged {
		return nil, nil
	}
	uid := uidOf(nc)
	msg, err := encodeCalendar(withMethod(nc, "REQUEST"))
	if err != nil {
		return nil, err
	}
	done := &dav.Scheduled{}
	for _, a := range external {
		done.Mail = append(done.Mail, s.mail(uid, orgAddr, a, "REQUEST", msg))
	}
	var cancel *dav.Scheduled
	if len(removed) > 0 {
		if cancel, err = s.cancelAll(oc, removed); err != nil {
			return nil, err
		}
		if cancel != nil {
			done.Mail = append(done.Mail, cancel.Mail...)
		}
	}
	if len(targets) == 0 && (cancel == nil || cancel.Deliver == nil) {
		return done, nil
	}
	done.Deliver = func() error {
		cp := stripped(nc)
		copyBody, err := encodeCalendar(cp)
		if err != nil {
			return err
		}
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
		if cancel != nil && cancel.Deliver != nil {
			return cancel.Deliver()
		}
		return nil
	}
	return done, nil
}

// keepReplies keeps, in an organizer's write nc over oc, each attendee's
// PARTSTAT as oc (the stored copy, where their replies were merged) has it:
// a client that read the event before a reply came and writes it back must
// not undo the answer. The participation status is the attendee's to set
// (RFC 5546 §2.1.4, RFC 6638 §3.2.1 and §3.2.10: replies change no
// Schedule-Tag precisely so that such writes do not conflict); only a
// reschedule (a new time or recurrence, RFC 5546 §2.1.5) may reset it to
// NEEDS-ACTION to ask again.
func keepReplies(nc, oc *ical.Calendar, orgAddr string) (kept bool) {
	if oc == nil {
		return false
	}
	for _, comp := range schedComps(nc) {
		prev := counterpart(oc, comp)
		if prev == nil {
			continue
		}
		moved := rescheduled(prev, comp)
		for i := range comp.Props[ical.PropAttendee] {
			p := &comp.Props[ical.PropAttendee][i]
			a := address(p.Value)
			if a == orgAddr {
				continue
			}
			was := partstat(prev, a)
			now := strings.ToUpper(p.Params.Get("PARTSTAT"))
			if now == "" {
				now = "NEEDS-ACTION"
			}
			if was == "" || was == now || now == "NEEDS-ACTION" && moved {
				continue
			}
			p.Params.Set("PARTSTAT", was)
			kept = true
		}
	}
	return kept
}

// rescheduled reports whether comp has another time or recurrence than
// prev.
func rescheduled(prev, comp *ical.Component) bool {
	for _, name := range []string{ical.PropDateTimeStart, ical.PropDateTimeEnd, ical.PropDuration, ical.PropRecurrenceRule, ical.PropRecurrenceDates, ical.PropExceptionDates, ical.PropDue} {
		a, b := prev.Props[name], comp.Props[name]
		if len(a) != len(b) {
			return true
		}
		for i := range a {
			if a[i].Value != b[i].Value || a[i].Params.Get("TZID") != b[i].Params.Get("TZID") {
				return true
			}
		}
	}
	return false
}

// scheduleStatus is the SCHEDULE-STATUS of attendee addr in c.
func scheduleStatus(c *ical.Calendar, addr string) string {
	for _, comp := range schedComps(c) {
		for _, p := range comp.Props[ical.PropAttendee] {
			if address(p.Value) == addr {
				return p.Params.Get("SCHEDULE-STATUS")
			}
		}
	}
	return ""
}

// stripAlarms removes the VALARMs of c's scheduling components: alarms are
// each calendar user's own, not part of what is sent or copied.
func stripAlarms(c *ical.Calendar) {
	for _, comp := range schedComps(c) {
		comp.Children = slices.DeleteFunc(comp.Children, func(ch *ical.Component) bool { return ch.Name == ical.CompAlarm })
	}
}

// withAlarmsOf is body (a copy the server writes) with the VALARMs the
// recipient has in their current copy cur, per instance: the organizer's
// updates replace the event, not the attendee's own reminders.
func withAlarmsOf(body, cur []byte) []byte {
	if !bytes.Contains(cur, []byte("BEGIN:VALARM")) {
		return body
	}
	nc, err1 := parseCalendar(body)
	oc, err2 := parseCalendar(cur)
	if err1 != nil || err2 != nil {
		return body
	}
	for _, comp := range schedComps(nc) {
		prev := counterpart(oc, comp)
		if prev == nil {
			continue
		}
		for _, ch := range prev.Children {
			if ch.Name == ical.CompAlarm {
				comp.Children = append(comp.Children, ch)
			}
		}
	}
	out, err := encodeCalendar(nc)
	if err != nil {
		return body
	}
	return out
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

// cancelled is oc as the copy and the iTIP CANCEL of a cancelled event.
func cancelled(oc *ical.Calendar) (copyBody, msg []byte, err error) {
	c := stripped(oc)
	for _, comp := range schedComps(c) {
		comp.Props.SetText(ical.PropStatus, "CANCELLED")
	}
	if copyBody, err = encodeCalendar(c); err != nil {
		return nil, nil, err
	}
	msg, err = encodeCalendar(withMethod(c, "CANCEL"))
	return copyBody, msg, err
}

// cancelAll sends CANCEL for oc to its attendees (only those in only, when
// given): local ones get their copies marked cancelled (RFC 6638
// §3.2.2.1), others an iMIP CANCEL.
func (s *scheduling) cancelAll(oc *ical.Calendar, only []string) (*dav.Scheduled, error) {
	orgAddr := address(organizerOf(oc).Value)
	order, props := attendeesOf(oc)
	var (
		users    []*store.User
		addrs    []string
		external []string
	)
	for _, a := range order {
		if a == orgAddr || !agentServer(props[a]) || only != nil && !slices.Contains(only, a) {
			continue
		}
		u, err := s.local(a)
		if err != nil {
			return nil, err
		}
		switch {
		case u != nil && u.ID != s.user.ID:
			users, addrs = append(users, u), append(addrs, a)
		case u == nil && s.external(a):
			external = append(external, a)
		}
	}
	if len(users) == 0 && len(external) == 0 {
		return nil, nil
	}
	copyBody, msg, err := cancelled(oc)
	if err != nil {
		return nil, err
	}
	uid := uidOf(oc)
	done := &dav.Scheduled{}
	for _, a := range external {
		done.Mail = append(done.Mail, s.mail(uid, orgAddr, a, "CANCEL", msg))
	}
	if len(users) == 0 {
		return done, nil
	}
	done.Deliver = func() error {
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
	}
	return done, nil
}

// answer is an attendee's PARTSTAT for one instance ("" the master).
type answer struct{ rid, partstat string }

// attendeePut schedules attendee me's write of nc over oc: a REPLY to the
// organizer for every instance whose PARTSTAT changed (RFC 6638 §3.2.2.2,
// §3.2.2.3): a local organizer's copy is updated, an external one is sent
// the REPLY by iMIP and o (the attendee's write, nil for a delete) records
// SCHEDULE-STATUS on its ORGANIZER.
func (s *scheduling) attendeePut(nc, oc *ical.Calendar, me string, o *store.Object) (*dav.Scheduled, error) {
	org := organizerOf(nc)
	if !agentServer(org) {
		return nil, nil
	}
	orgAddr := address(org.Value)
	orgUser, err := s.local(org.Value)
	if err != nil || orgUser != nil && orgUser.ID == s.user.ID {
		return nil, err
	}
	if orgUser == nil && !s.external(orgAddr) {
		return nil, nil
	}
	var answers []answer
	for _, comp := range schedComps(nc) {
		ps := partstat(comp, me)
		if ps == "" {
			continue
		}
		was := "NEEDS-ACTION"
		if oc != nil {
			if prev := counterpart(oc, comp); prev != nil {
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
	msg, key, err := replyTo(nc, answers, me)
	if err != nil {
		return nil, err
	}
	if orgUser == nil {
		if o != nil {
			for _, comp := range schedComps(nc) {
				if p := comp.Props.Get(ical.PropOrganizer); p != nil {
					p.Params.Set("SCHEDULE-STATUS", statusPending)
				}
			}
			b, err := encodeCalendar(nc)
			if err != nil {
				return nil, err
			}
			o.Body = b
		}
		return &dav.Scheduled{Mail: []store.Mail{s.mail(uid, me, orgAddr, "REPLY", msg)}}, nil
	}
	return &dav.Scheduled{Deliver: func() error {
		switch err := s.mergeReply(orgUser, uid, orgAddr, me, nc, answers); {
		case errors.Is(err, errNotTheirs):
			return nil // not the event the attendee answers
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		return s.toInbox(orgUser, msg, key)
	}}, nil
}

// mergeReply updates the organizer's copy of uid, wherever they keep it,
// with attendee me's answers (taken from nc, their copy or their REPLY).
// It returns errNotTheirs when that copy has another organizer, and
// store.ErrNotFound when there is none.
func (s *scheduling) mergeReply(orgUser *store.User, uid, orgAddr, me string, nc *ical.Calendar, answers []answer) error {
	cur, err := s.st.FindObjectByUID(s.ctx, orgUser.ID, store.KindCalendar, uid)
	if err != nil {
		return err
	}
	if !sameOrganizer(cur.Body, orgAddr) {
		return errNotTheirs // not the event the attendee answers
	}
	if locked, err := s.copyLocked(orgUser, cur.CollectionID, "", cur.Name, false); err != nil || locked {
		return err // locked: the REPLY still goes to the organizer's inbox
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
	return s.putObject(cur.CollectionID, cur.Name, b, cur.ETag)
}

// replyTo is the iTIP REPLY (RFC 5546 §3.2.3) of attendee me's answers in
// nc: the answered instances, with the replying attendee only; and the key
// that names it in an inbox.
func replyTo(nc *ical.Calendar, answers []answer, me string) ([]byte, string, error) {
	reply := &ical.Calendar{Component: ical.NewComponent(ical.CompCalendar)}
	reply.Props.SetText(ical.PropVersion, "2.0")
	reply.Props.SetText(ical.PropProductID, "-//Davenport//Scheduling//EN")
	reply.Props.SetText(ical.PropMethod, "REPLY")
	key := "REPLY|" + uidOf(nc) + "|" + me
	for _, a := range answers {
		src := component(nc, a.rid)
		c := ical.NewComponent(src.Name)
		for _, name := range []string{ical.PropUID, ical.PropRecurrenceID, ical.PropSequence, ical.PropDateTimeStart, ical.PropDateTimeEnd, ical.PropSummary, ical.PropOrganizer} {
			if p := src.Props.Get(name); p != nil {
				cp := *p
				cp.Params = cloneParams(p.Params)
				cp.Params.Del("SCHEDULE-STATUS")
				c.Props.Set(&cp)
			}
		}
		c.Props.SetDateTime(ical.PropDateTimeStamp, time.Now().UTC())
		for _, p := range src.Props[ical.PropAttendee] {
			if address(p.Value) == me {
				p.Params = cloneParams(p.Params)
				p.Params.Del("SCHEDULE-STATUS")
				c.Props.Add(&p)
			}
		}
		reply.Children = append(reply.Children, c)
		key += "|" + a.rid + "=" + a.partstat
	}
	msg, err := encodeCalendar(reply)
	return msg, key, err
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
		if locked, err := s.copyLocked(u, cur.CollectionID, "", cur.Name, false); err != nil || locked {
			return err
		}
		return s.putObject(cur.CollectionID, cur.Name, withAlarmsOf(body, cur.Body), cur.ETag)
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
	if locked, err := s.copyLocked(u, c.ID, c.Name, objectName(uid), true); err != nil || locked {
		return err
	}
	return s.putObject(c.ID, objectName(uid), body, "")
}

// copyLocked reports whether a WebDAV client holds a lock on u's calendar
// object name in the collection id (named collection, when known), or,
// when create, on that collection's membership. A delivery does not write
// such a copy (RFC 4918 §7: a locked resource changes only with the lock's
// token, which a delivery cannot submit): the lock holder is editing it.
// The iTIP message still reaches u's inbox (RFC 6638 §4.1): nothing is
// lost, and the lock holder's client applies it from there, as it would a
// message the server did not process; a copy the server does not write
// keeps its ETag, so no client's later write is lost to it either. With no
// lock in u's calendar home, the usual case, this costs one indexed query.
func (s *scheduling) copyLocked(u *store.User, id int64, collection, name string, create bool) (bool, error) {
	ls, err := dav.LocksAt(s.ctx, s.st, dav.HomeHref(Kind{}, u.Username))
	if err != nil || len(ls) == 0 {
		return false, err
	}
	if collection == "" {
		cs, err := s.st.ListCollections(s.ctx, u.ID, store.KindCalendar)
		if err != nil {
			return false, err
		}
		for _, c := range cs {
			if c.ID == id {
				collection = c.Name
			}
		}
	}
	err = ls.Check(dav.ObjectHref(Kind{}, u.Username, collection, name), create, false)
	if errors.Is(err, dav.ErrLocked) {
		return true, nil
	}
	return false, err
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
