package caldav

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
)

// Kind plugs calendars into the dav engine (RFC 4791 §4–§9).
type Kind struct {
	// IMIP sends scheduling messages for calendar users who are not users
	// of this server by email (RFC 6047), through the store's mail queue.
	IMIP bool
}

var _ dav.Kind = Kind{}

func cal(local string) xml.Name   { return xml.Name{Space: dav.NSCalDAV, Local: local} }
func apple(local string) xml.Name { return xml.Name{Space: dav.NSApple, Local: local} }
func cs(local string) xml.Name    { return xml.Name{Space: dav.NSCS, Local: local} }

// AllComponents are the calendar component types a calendar without a
// supported-calendar-component-set accepts. RFC 4791 §5.2.3: "In the absence
// of this property, the server MUST accept all component types"; these are
// the ones Davenport stores and indexes (RFC 5545 §3.6, and RFC 7953's
// VAVAILABILITY). A stored Collection.Components that is empty means this
// set.
var AllComponents = []string{"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VAVAILABILITY"}

// components is the set of component types calendar c accepts.
func components(c *store.Collection) []string {
	if len(c.Components) == 0 {
		return AllComponents
	}
	return c.Components
}

func (Kind) StoreKind() store.Kind  { return store.KindCalendar }
func (Kind) HomeSegment() string    { return "calendars" }
func (Kind) Namespace() string      { return dav.NSCalDAV }
func (Kind) ResourceType() xml.Name { return cal("calendar") }

func (Kind) ReportNames() []xml.Name {
	return []xml.Name{cal("calendar-multiget"), cal("calendar-query"), cal("free-busy-query")}
}

// Properties are the CalDAV live properties of principals and calendars.
func (k Kind) Properties() []*dav.Property {
	return append(k.scheduleProperties(), []*dav.Property{
		// RFC 4791 §6.2.1.
		{Name: cal("calendar-home-set"), Get: dav.PrincipalProp(func(u *store.User) (*dav.Element, error) {
			return dav.HrefElement(cal("calendar-home-set"), dav.HomeHref(k, u.Username)), nil
		})},
		// RFC 6638 §2.4.1.
		{Name: cal("calendar-user-address-set"), Directory: true, Get: func(rq *dav.Request, res *dav.Resource) (*dav.Element, error) {
			switch res.Type {
			case dav.ResGroupPrincipal:
				// A group is addressed by its principal URL.
				return dav.HrefElement(cal("calendar-user-address-set"), dav.GroupHref(res.Group.Name)), nil
			case dav.ResPrincipal:
			default:
				return nil, dav.ErrNoProperty
			}
			var hrefs []string
			if u := res.Owner; u.Email != "" {
				hrefs = append(hrefs, "mailto:"+u.Email)
			}
			hrefs = append(hrefs, dav.PrincipalHref(res.Owner.Username))
			return dav.HrefElement(cal("calendar-user-address-set"), hrefs...), nil
		}},
		{Name: cs("email-address-set"), Directory: true, Get: dav.PrincipalProp(func(u *store.User) (*dav.Element, error) {
			e := dav.NewElement(cs("email-address-set"))
			if u.Email != "" {
				e.Children = append(e.Children, dav.TextElement(cs("email-address"), u.Email))
			}
			return e, nil
		})},
		{Name: cal("calendar-description"), Get: dav.CollectionProp(k, func(c *store.Collection) (*dav.Element, error) {
			if c.Description == "" {
				return nil, dav.ErrNoProperty
			}
			return dav.TextElement(cal("calendar-description"), c.Description), nil
		}), Set: func(p *store.CollectionPatch, el *dav.Element) error {
			p.Description = textOf(el)
			return nil
		}},
		// Apple's calendar-color, with its symbolic-color attribute kept.
		{Name: apple("calendar-color"), Get: dav.CollectionProp(k, func(c *store.Collection) (*dav.Element, error) {
			if c.Color == "" {
				return nil, dav.ErrNoProperty
			}
			e := dav.TextElement(apple("calendar-color"), c.Color)
			if c.ColorSymbolic != "" {
				e.Attr = []xml.Attr{{Name: xml.Name{Local: "symbolic-color"}, Value: c.ColorSymbolic}}
			}
			return e, nil
		}), Set: func(p *store.CollectionPatch, el *dav.Element) error {
			p.Color = textOf(el)
			sym := ""
			if el != nil {
				sym, _ = el.AttrValue("symbolic-color")
			}
			p.ColorSymbolic = &sym
			return nil
		}},
		{Name: apple("calendar-order"), Get: dav.CollectionProp(k, func(c *store.Collection) (*dav.Element, error) {
			if c.Order == nil {
				return nil, dav.ErrNoProperty
			}
			return dav.TextElement(apple("calendar-order"), strconv.Itoa(*c.Order)), nil
		}), Set: func(p *store.CollectionPatch, el *dav.Element) error {
			var order *int
			if el != nil {
				n, err := strconv.Atoi(strings.TrimSpace(el.Text))
				if err != nil {
					return fmt.Errorf("caldav: calendar-order %q is not an integer", el.Text)
				}
				order = &n
			}
			p.Order = &order
			return nil
		}},
		{Name: cal("calendar-timezone"), Get: dav.CollectionProp(k, func(c *store.Collection) (*dav.Element, error) {
			if c.Timezone == "" {
				return nil, dav.ErrNoProperty
			}
			return dav.TextElement(cal("calendar-timezone"), c.Timezone), nil
		}), Set: func(p *store.CollectionPatch, el *dav.Element) error {
			if el != nil && strings.TrimSpace(el.Text) != "" {
				if _, err := parseTimezone(el.Text); err != nil {
					return err
				}
			}
			p.Timezone = textOf(el)
			return nil
		}, Init: func(c *store.Collection, el *dav.Element) error {
			// RFC 4791 §5.3.1.1: MKCALENDAR's CALDAV:valid-calendar-data
			// precondition covers the calendar-timezone it sets.
			if strings.TrimSpace(el.Text) != "" {
				if _, err := parseTimezone(el.Text); err != nil {
					return dav.Precondition(http.StatusForbidden, dav.NSCalDAV, CondValidCalendarData, err.Error())
				}
			}
			c.Timezone = el.Text
			return nil
		}},
		// RFC 4791 §5.2.3: protected, but settable by MKCALENDAR.
		{Name: cal("supported-calendar-component-set"), Get: dav.CollectionProp(k, func(c *store.Collection) (*dav.Element, error) {
			e := dav.NewElement(cal("supported-calendar-component-set"))
			for _, name := range components(c) {
				e.Children = append(e.Children, &dav.Element{Name: cal("comp"), Attr: []xml.Attr{{Name: xml.Name{Local: "name"}, Value: name}}})
			}
			return e, nil
		}), Init: func(c *store.Collection, el *dav.Element) error {
			c.Components = nil
			for _, comp := range el.ChildrenNamed(cal("comp")) {
				name, _ := comp.AttrValue("name")
				name = strings.ToUpper(name)
				switch {
				case slices.Contains(AllComponents, name):
					if !slices.Contains(c.Components, name) {
						c.Components = append(c.Components, name)
					}
				case name == "VTIMEZONE":
					// Always allowed beside the others (RFC 4791 §4.1);
					// some clients list it anyway.
				default:
					return dav.Precondition(http.StatusForbidden, dav.NSCalDAV, "supported-calendar-component", "caldav: unsupported component "+name)
				}
			}
			if len(c.Components) == 0 {
				return dav.Precondition(http.StatusForbidden, dav.NSCalDAV, "supported-calendar-component", "caldav: empty component set")
			}
			return nil
		}},
		// RFC 4791 §5.2.4.
		{Name: cal("supported-calendar-data"), Get: dav.CollectionProp(k, func(c *store.Collection) (*dav.Element, error) {
			return dav.NewElement(cal("supported-calendar-data"), &dav.Element{Name: cal("calendar-data"), Attr: []xml.Attr{
				{Name: xml.Name{Local: "content-type"}, Value: "text/calendar"}, {Name: xml.Name{Local: "version"}, Value: "2.0"}}}), nil
		})},
		dav.MaxResourceSizeProperty(k),
		// RFC 4791 §5.2.6, §5.2.7: the range the server can store.
		{Name: cal("min-date-time"), Get: dav.CollectionProp(k, func(c *store.Collection) (*dav.Element, error) {
			return dav.TextElement(cal("min-date-time"), "19000101T000000Z"), nil
		})},
		{Name: cal("max-date-time"), Get: dav.CollectionProp(k, func(c *store.Collection) (*dav.Element, error) {
			return dav.TextElement(cal("max-date-time"), "21001231T235959Z"), nil
		})},
	}...)
}

func textOf(el *dav.Element) *string {
	s := ""
	if el != nil {
		s = el.Text
	}
	return &s
}

// NewCollection makes a calendar for MKCALENDAR (RFC 4791 §5.3.1) or an
// extended MKCOL whose resourcetype names CALDAV:calendar (RFC 5689).
func (k Kind) NewCollection(rq *dav.Request, method string, rtypes []xml.Name) (*store.Collection, bool) {
	ok := method == "MKCALENDAR"
	for _, rt := range rtypes {
		switch rt {
		case cal("calendar"):
			ok = true
		case dav.Name("collection"):
		default:
			return nil, false
		}
	}
	if !ok {
		return nil, false
	}
	// No Components: every type (RFC 4791 §5.2.3), unless the request's
	// supported-calendar-component-set narrows it.
	return &store.Collection{Kind: store.KindCalendar}, true
}

// PrepareObject validates a calendar object resource and indexes it.
func (k Kind) PrepareObject(rq *dav.Request, c *store.Collection, body []byte, contentType string) (*store.Object, error) {
	p, err := ParseObject(body, contentType, components(c))
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return nil, dav.Precondition(http.StatusForbidden, dav.NSCalDAV, ve.Condition, "caldav: "+ve.Reason)
		}
		return nil, err
	}
	return &store.Object{
		UID:         p.UID,
		Component:   p.Component,
		ContentType: "text/calendar; charset=utf-8; component=" + strings.ToLower(p.Component),
		FirstStart:  p.FirstStart,
		LastEnd:     p.LastEnd,
		Body:        p.Body,
		// RFC 6638 §3.1: without ORGANIZER it is no scheduling object
		// resource; a later write over it need not read it.
		Unscheduled: p.Cal != nil && organizerOf(p.Cal) == nil,
	}, nil
}

// ObjectBody serves the stored bytes verbatim, with the content type
// getcontenttype reports (RFC 4918 §15.5: the Content-Type a GET returns).
func (Kind) ObjectBody(rq *dav.Request, o *store.Object) ([]byte, string, error) {
	if o.ContentType != "" {
		return o.Body, o.ContentType, nil
	}
	return o.Body, "text/calendar; charset=utf-8", nil
}
