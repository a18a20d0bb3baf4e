package caldav

import (
	"context"
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
)

// The names of every user's one schedule inbox and outbox, under the homes
// of their kinds: /dav/inbox/{user}/inbox/ and /dav/outbox/{user}/outbox/.
// Clients find them through the principal's schedule-inbox-URL and
// schedule-outbox-URL (RFC 6638 §2.2.1, §2.1.1), never by these paths.
const (
	InboxName  = "inbox"
	OutboxName = "outbox"
)

// MaxAttendeesPerInstance bounds the attendees of one scheduled event (RFC
// 4791 §5.2.9, advertised on calendars; RFC 6638 §3.2.1 refuses more).
const MaxAttendeesPerInstance = 100

// InboxKind is the scheduling inbox (RFC 6638 §2.2): the server delivers
// iTIP messages into it; its owner lists, reads and deletes them, and
// syncs it, but cannot PUT into it.
type InboxKind struct{}

// OutboxKind is the scheduling outbox (RFC 6638 §2.1): it holds nothing; a
// POST of a VFREEBUSY request to it answers a schedule-response.
type OutboxKind struct{}

// The server makes and keeps both boxes.
func (InboxKind) FixedCollections()  {}
func (OutboxKind) FixedCollections() {}

var (
	_ dav.Fixed    = InboxKind{}
	_ dav.Fixed    = OutboxKind{}
	_ dav.Kind     = InboxKind{}
	_ dav.Reporter = InboxKind{}
	_ dav.Kind     = OutboxKind{}
	_ dav.Poster   = OutboxKind{}
)

func (InboxKind) StoreKind() store.Kind  { return store.KindInbox }
func (InboxKind) HomeSegment() string    { return "inbox" }
func (InboxKind) Namespace() string      { return dav.NSCalDAV }
func (InboxKind) ResourceType() xml.Name { return cal("schedule-inbox") }

func (OutboxKind) StoreKind() store.Kind  { return store.KindOutbox }
func (OutboxKind) HomeSegment() string    { return "outbox" }
func (OutboxKind) Namespace() string      { return dav.NSCalDAV }
func (OutboxKind) ResourceType() xml.Name { return cal("schedule-outbox") }

// Inbox items are listed and read like calendar objects.
func (InboxKind) ReportNames() []xml.Name {
	return []xml.Name{cal("calendar-multiget"), cal("calendar-query")}
}

func (InboxKind) Report(rq *dav.Request, res *dav.Resource, body *dav.Element) (dav.Plan, error) {
	return Kind{}.Report(rq, res, body)
}

// errNoWrite refuses client writes into an inbox or outbox: the server
// alone delivers (RFC 6638 §2.2: clients may not bind members).
func errNoWrite(what string) error {
	return &dav.Error{Status: http.StatusForbidden, Condition: dav.NewElement(dav.Name("need-privileges")),
		Message: "caldav: clients cannot write into a schedule " + what}
}

func (InboxKind) PrepareObject(*dav.Request, *store.Collection, []byte, string) (*store.Object, error) {
	return nil, errNoWrite("inbox")
}

func (OutboxKind) PrepareObject(*dav.Request, *store.Collection, []byte, string) (*store.Object, error) {
	return nil, errNoWrite("outbox")
}

func (InboxKind) NewCollection(*dav.Request, string, []xml.Name) (*store.Collection, bool) {
	return nil, false
}

func (OutboxKind) NewCollection(*dav.Request, string, []xml.Name) (*store.Collection, bool) {
	return nil, false
}

// ObjectBody serves an inbox item as stored.
func (InboxKind) ObjectBody(rq *dav.Request, o *store.Object) ([]byte, string, error) {
	return Kind{}.ObjectBody(rq, o)
}

// Properties of the inbox: where invitations land (RFC 6638 §9.2).
// schedule-default-calendar-URL is registered by the calendar kind, which
// answers it on principals and inboxes alike.
func (InboxKind) Properties() []*dav.Property { return nil }

func (OutboxKind) Properties() []*dav.Property { return nil }

// scheduleProperties are the scheduling properties of principals and
// calendars (RFC 6638 §2.4, §9.1), registered by the calendar kind.
func (k Kind) scheduleProperties() []*dav.Property {
	return []*dav.Property{
		{Name: cal("schedule-inbox-URL"), Get: dav.PrincipalProp(func(u *store.User) (*dav.Element, error) {
			return dav.HrefElement(cal("schedule-inbox-URL"), dav.CollectionHref(InboxKind{}, u.Username, InboxName)), nil
		})},
		{Name: cal("schedule-outbox-URL"), Get: dav.PrincipalProp(func(u *store.User) (*dav.Element, error) {
			return dav.HrefElement(cal("schedule-outbox-URL"), dav.CollectionHref(OutboxKind{}, u.Username, OutboxName)), nil
		})},
		// RFC 6638 §2.4.2.
		{Name: cal("calendar-user-type"), Directory: true, Get: func(rq *dav.Request, res *dav.Resource) (*dav.Element, error) {
			switch res.Type {
			case dav.ResPrincipal:
				return dav.TextElement(cal("calendar-user-type"), "INDIVIDUAL"), nil
			case dav.ResGroupPrincipal:
				return dav.TextElement(cal("calendar-user-type"), "GROUP"), nil
			}
			return nil, dav.ErrNoProperty
		}},
		// RFC 6638 §9.2, asked of the principal by some clients too.
		{Name: cal("schedule-default-calendar-URL"), Get: func(rq *dav.Request, res *dav.Resource) (*dav.Element, error) {
			if !(res.Type == dav.ResPrincipal || res.Type == dav.ResCollection && res.Kind == (InboxKind{})) {
				return nil, dav.ErrNoProperty
			}
			c, err := DefaultCalendar(rq.Context(), rq.Store(), res.Owner.ID)
			if err != nil {
				if err == store.ErrNotFound {
					return nil, dav.ErrNoProperty
				}
				return nil, err
			}
			return dav.HrefElement(cal("schedule-default-calendar-URL"), dav.CollectionHref(k, res.Owner.Username, c.Name)), nil
		}},
		// RFC 6638 §9.1: stored as the dead property a client sets,
		// opaque when never set.
		{Name: cal("schedule-calendar-transp"), Get: func(rq *dav.Request, res *dav.Resource) (*dav.Element, error) {
			if res.Type != dav.ResCollection || res.Kind != k {
				return nil, dav.ErrNoProperty
			}
			raw, set, err := rq.DeadProp(res.Collection, cal("schedule-calendar-transp"))
			if err != nil {
				return nil, err
			}
			if set {
				if el, err := dav.ParseXML([]byte(raw), dav.DefaultLimits); err == nil {
					return el, nil
				}
			}
			return dav.NewElement(cal("schedule-calendar-transp"), dav.NewElement(cal("opaque"))), nil
		}, Set: func(p *store.CollectionPatch, el *dav.Element) error {
			dp := store.DeadProp{Namespace: dav.NSCalDAV, Name: "schedule-calendar-transp"}
			if el != nil {
				if el.Child(cal("opaque")) == nil && el.Child(cal("transparent")) == nil {
					return errBadTransp
				}
				dp.XML = el.String()
			}
			p.DeadProps = append(p.DeadProps, dp)
			return nil
		}},
		// RFC 6638 §3.2.10: the Schedule-Tag as a property, for clients
		// that list it with getetag.
		{Name: cal("schedule-tag"), NeedsBody: true, Get: func(rq *dav.Request, res *dav.Resource) (*dav.Element, error) {
			if res.Type != dav.ResObject || res.Kind != k || res.Object == nil || res.Object.Body == nil {
				return nil, dav.ErrNoProperty
			}
			tag := k.ScheduleTag(res.Object)
			if tag == "" {
				return nil, dav.ErrNoProperty
			}
			return dav.TextElement(cal("schedule-tag"), `"`+tag+`"`), nil
		}},
		// RFC 4791 §5.2.9.
		{Name: cal("max-attendees-per-instance"), Get: dav.CollectionProp(k, func(c *store.Collection) (*dav.Element, error) {
			return dav.TextElement(cal("max-attendees-per-instance"), strconv.Itoa(MaxAttendeesPerInstance)), nil
		})},
	}
}

type transpError struct{}

func (transpError) Error() string {
	return "caldav: schedule-calendar-transp holds neither opaque nor transparent"
}

var errBadTransp error = transpError{}

// Transparent reports whether the calendar's schedule-calendar-transp is
// transparent: its events do not count as busy time (RFC 6638 §9.1).
func Transparent(ctx context.Context, st store.Store, c *store.Collection) (bool, error) {
	props, err := st.ListDeadProps(ctx, c.ID)
	if err != nil {
		return false, err
	}
	for _, p := range props {
		if p.Namespace == dav.NSCalDAV && p.Name == "schedule-calendar-transp" {
			el, err := dav.ParseXML([]byte(p.XML), dav.DefaultLimits)
			return err == nil && el.Child(cal("transparent")) != nil, nil
		}
	}
	return false, nil
}

// DefaultCalendar is the calendar invitations are placed in (RFC 6638
// §9.2): the user's calendar named "personal" when it takes events, else
// the first that does; ErrNotFound when none does.
func DefaultCalendar(ctx context.Context, st store.Store, userID int64) (*store.Collection, error) {
	cals, err := st.ListCollections(ctx, userID, store.KindCalendar)
	if err != nil {
		return nil, err
	}
	var first *store.Collection
	for i := range cals {
		c := &cals[i]
		if len(c.Components) > 0 && !slices.Contains(c.Components, "VEVENT") {
			continue
		}
		if c.Name == "personal" {
			return c, nil
		}
		if first == nil {
			first = c
		}
	}
	if first == nil {
		return nil, store.ErrNotFound
	}
	return first, nil
}
