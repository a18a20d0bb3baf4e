package dav

import (
	"bufio"
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// ErrNoProperty tells that a property does not apply to a resource; the
// property is answered in a 404 propstat.
var ErrNoProperty = errors.New("dav: property not defined on this resource")

// Property is a live property. Get builds the property element for one
// resource or returns ErrNoProperty. Set, when non-nil, makes the property
// writable by PROPPATCH on collections: it records the change in patch (el
// is nil for a remove). A property without Set is protected.
type Property struct {
	Name xml.Name
	Get  func(rq *Request, res *Resource) (*Element, error)
	Set  func(patch *store.CollectionPatch, el *Element) error
	// Init, when non-nil, sets the property on a collection being created
	// (MKCALENDAR, extended MKCOL) — for properties fixed at creation, such
	// as supported-calendar-component-set.
	Init    func(c *store.Collection, el *Element) error
	AllProp bool // returned by allprop (RFC 4918 §9.1: not the expensive ones)
	// NeedsBody tells that Get reads Object.Body (calendar-data, address-data).
	NeedsBody bool
	// Representation, when non-nil, is the content type of the
	// representation this data property renders res in ("" for the stored
	// bytes): the response's getetag is that representation's
	// (RepresentationETag).
	Representation func(res *Resource) string
	// Directory tells that the property is part of a principal's directory
	// entry: readable on the principals of other users and on groups,
	// where every other property is answered as not found
	// (principals.go).
	Directory bool

	// member, when non-nil, writes the property of an object listed in a
	// collection straight into a 207: the bytes writeElement writes for
	// the element Get returns for such an object, which always has it. A
	// listing that asks only for such properties (PROPFIND Depth 1,
	// sync-collection, an ETag multiget) builds no resource, element or
	// response per member (stream.go).
	member func(b *bufio.Writer, o *store.Object)
}

// Request is the per-request state properties and reports see: the
// authenticated user and the HTTP request. It holds no context of its own
// (Context is the HTTP request's) and no way back into the engine: what a
// property needs of the server (storage use, the quota, the size limit) it
// reads through the methods below.
type Request struct {
	User *store.User
	HTTP *http.Request

	store           store.Store
	quota           int64 // 0: none
	maxResourceSize int64
	used            *int64
	deadTbl         map[int64]map[xml.Name]string
	// ifh is the request's parsed If header (lock.go), nil when none.
	ifh *ifHeader
	// lockCache holds the locks read for a path (locksAt).
	lockCache  map[string][]store.Lock
	groups     []store.Group // the user's groups, once read (principals.go)
	groupsRead bool
	// usersByID and allGroups are the sharees and grantees named so far,
	// each read once (principalOf).
	usersByID     map[int64]*store.User
	allGroups     []store.Group
	allGroupsRead bool
	// ownerShares and ownerGrants are the shares of each owner's
	// collections by collection, and each owner's grants, each read once
	// (sharesOf, grantsOf).
	ownerShares map[int64]map[int64][]store.Share
	ownerGrants map[int64]*ownerGrants
	// dst is the Destination of a COPY or MOVE, once resolved.
	dst *resolvedDestination
}

// newRequest is the state of one request served by h.
func (h *Handler) newRequest(user *store.User, r *http.Request) *Request {
	return &Request{User: user, HTTP: r, store: h.Store, quota: h.Quota, maxResourceSize: h.MaxResourceSize}
}

// Context is the context of the HTTP request.
func (rq *Request) Context() context.Context { return rq.HTTP.Context() }

// Quota is the storage quota in force for the user in bytes; 0 means none.
func (rq *Request) Quota() int64 { return rq.quota }

// MaxResourceSize is the largest object body PUT accepts, in bytes.
func (rq *Request) MaxResourceSize() int64 { return rq.maxResourceSize }

// actor names who writes, for the store's version history: the
// authenticated user and their client's User-Agent.
func (rq *Request) actor() store.Actor {
	return store.Actor{UserID: rq.User.ID, UserAgent: rq.HTTP.UserAgent()}
}

// UsedBytes is the authenticated user's storage use, read once per request.
func (rq *Request) UsedBytes() (int64, error) {
	if rq.used == nil {
		n, err := rq.store.UsedBytes(rq.Context(), rq.User.ID)
		if err != nil {
			return 0, err
		}
		rq.used = &n
	}
	return *rq.used, nil
}

// Store is the store the request is served from, for kinds whose work
// reaches beyond the request's target on the server's side (scheduling
// delivers into attendees' inboxes and calendars, RFC 6638 §3). Resolving
// and checking the target itself stays with the engine.
func (rq *Request) Store() store.Store { return rq.store }

// DeadProp returns the raw XML of collection c's dead property name, and
// whether it is set; for live properties stored as dead ones (a Set that
// writes CollectionPatch.DeadProps) whose Get supplies a default.
func (rq *Request) DeadProp(c *store.Collection, name xml.Name) (string, bool, error) {
	m, err := rq.deadProps(c)
	if err != nil {
		return "", false, err
	}
	v, ok := m[name]
	return v, ok, nil
}

// deadProps returns a collection's dead properties, read once per request.
func (rq *Request) deadProps(c *store.Collection) (map[xml.Name]string, error) {
	if m, ok := rq.deadTbl[c.ID]; ok {
		return m, nil
	}
	props, err := rq.store.ListDeadProps(rq.Context(), c.ID)
	if err != nil {
		return nil, err
	}
	m := deadPropMap(props)
	if rq.deadTbl == nil {
		rq.deadTbl = map[int64]map[xml.Name]string{}
	}
	rq.deadTbl[c.ID] = m
	return m, nil
}

// ETag quotes a stored entity tag for the wire.
func ETag(o *store.Object) string { return `"` + o.ETag + `"` }

// SyncToken is the sync token (and ctag) of a collection: a URI carrying the
// collection's identity and modseq (RFC 6578 §3.2 asks for a URI).
func SyncToken(c *store.Collection) string {
	return syncTokenPrefix + strconv.FormatInt(c.ID, 10) + "/" + strconv.FormatInt(c.ModSeq, 10)
}

const syncTokenPrefix = "http://davenport.invalid/sync/"

// privileges a user holds on their own resources (RFC 3744 §3).
var ownerPrivileges = []string{"read", "write", "write-properties", "write-content", "bind", "unbind", "read-current-user-privilege-set"}
var readPrivileges = []string{"read", "read-current-user-privilege-set"}

func privilegeSet(privs []string) *Element {
	e := NewElement(Name("current-user-privilege-set"))
	for _, p := range privs {
		e.Children = append(e.Children, NewElement(Name("privilege"), NewElement(Name(p))))
	}
	return e
}

// coreProperties are the WebDAV, ACL and discovery properties every resource
// may have; kinds add their own.
func (h *Handler) coreProperties() []*Property {
	return []*Property{
		{Name: Name("resourcetype"), AllProp: true, Directory: true, Get: func(rq *Request, res *Resource) (*Element, error) {
			e := NewElement(Name("resourcetype"))
			switch res.Type {
			case ResObject, ResNotification:
			case ResGroupPrincipal:
				e.Children = append(e.Children, NewElement(Name("principal")))
			case ResPrincipal:
				e.Children = append(e.Children, NewElement(Name("collection")), NewElement(Name("principal")))
			case ResProxy:
				// CalendarServer caldav-proxy §5.1.
				e.Children = append(e.Children, NewElement(Name("principal")), NewElement(cs(res.Name)))
			case ResNotifications:
				e.Children = append(e.Children, NewElement(Name("collection")), NewElement(cs("notification")))
			case ResCollection:
				e.Children = append(e.Children, NewElement(Name("collection")))
				if rt := res.Kind.ResourceType(); rt.Local != "" { // a plain folder has none of its own
					e.Children = append(e.Children, NewElement(rt))
				}
				// CalendarServer sharing: what the owner shares, and what a
				// sharee sees shared with them.
				switch {
				case res.Shared != nil:
					e.Children = append(e.Children, NewElement(cs("shared")))
				case res.Collection.Shared && res.Delegate == "":
					e.Children = append(e.Children, NewElement(cs("shared-owner")))
				}
			default:
				e.Children = append(e.Children, NewElement(Name("collection")))
			}
			return e, nil
		}, member: func(b *bufio.Writer, _ *store.Object) {
			b.WriteString("<D:resourcetype/>")
		}},
		{Name: Name("displayname"), AllProp: true, Directory: true,
			Get: func(rq *Request, res *Resource) (*Element, error) {
				switch res.Type {
				case ResGroupPrincipal:
					return TextElement(Name("displayname"), groupDisplayName(res.Group)), nil
				case ResPrincipal:
					name := res.Owner.DisplayName
					if name == "" {
						name = res.Owner.Username
					}
					return TextElement(Name("displayname"), name), nil
				case ResProxy:
					return TextElement(Name("displayname"), res.Name), nil
				case ResCollection:
					name := res.Collection.DisplayName
					if name == "" {
						_, name = splitTreePath(res.Collection.Name) // a folder's last segment
					}
					return TextElement(Name("displayname"), name), nil
				}
				return nil, ErrNoProperty
			},
			Set: func(p *store.CollectionPatch, el *Element) error {
				v := ""
				if el != nil {
					v = el.Text
				}
				p.DisplayName = &v
				return nil
			}},
		{Name: Name("getetag"), AllProp: true, Get: func(rq *Request, res *Resource) (*Element, error) {
			if res.Object == nil { // objects and notifications
				return nil, ErrNoProperty
			}
			// The entity tag of the representation the response's data
			// is in (RFC 9110 §8.8.3: one representation, one tag).
			return TextElement(Name("getetag"), quoteETag(RepresentationETag(res.Object, res.Representation))), nil
		}, member: func(b *bufio.Writer, o *store.Object) {
			// A listed object's representation is its stored bytes.
			b.WriteString("<D:getetag>&#34;")
			escapeText(b, strings.Trim(o.ETag, `"`))
			b.WriteString("&#34;</D:getetag>")
		}},
		{Name: Name("getcontenttype"), AllProp: true, Get: objectProp(func(o *store.Object) *Element {
			return TextElement(Name("getcontenttype"), o.ContentType)
		}), member: func(b *bufio.Writer, o *store.Object) {
			writeMemberText(b, "getcontenttype", o.ContentType)
		}},
		{Name: Name("getcontentlength"), AllProp: true, Get: objectProp(func(o *store.Object) *Element {
			return TextElement(Name("getcontentlength"), strconv.FormatInt(o.Size, 10))
		}), member: func(b *bufio.Writer, o *store.Object) {
			b.WriteString("<D:getcontentlength>")
			b.Write(strconv.AppendInt(b.AvailableBuffer(), o.Size, 10))
			b.WriteString("</D:getcontentlength>")
		}},
		{Name: Name("getlastmodified"), AllProp: true, Get: func(rq *Request, res *Resource) (*Element, error) {
			// Collections have one too: the last change of their
			// properties or members (DAV browsers otherwise show 1970).
			t, ok := lastModified(res)
			if !ok {
				return nil, ErrNoProperty
			}
			return TextElement(Name("getlastmodified"), t.UTC().Format(http.TimeFormat)), nil
		}, member: func(b *bufio.Writer, o *store.Object) {
			// The format's characters need no escaping.
			b.WriteString("<D:getlastmodified>")
			b.Write(o.Updated.UTC().AppendFormat(b.AvailableBuffer(), http.TimeFormat))
			b.WriteString("</D:getlastmodified>")
		}},
		{Name: Name("creationdate"), AllProp: true, Get: func(rq *Request, res *Resource) (*Element, error) {
			var t time.Time
			switch {
			case res.Object != nil:
				t = res.Object.Created
			case res.Collection != nil:
				t = res.Collection.Created
			default:
				return nil, ErrNoProperty
			}
			return TextElement(Name("creationdate"), t.UTC().Format(time.RFC3339)), nil
		}, member: func(b *bufio.Writer, o *store.Object) {
			b.WriteString("<D:creationdate>")
			b.Write(o.Created.UTC().AppendFormat(b.AvailableBuffer(), time.RFC3339))
			b.WriteString("</D:creationdate>")
		}},
		{Name: Name("current-user-principal"), Directory: true, Get: func(rq *Request, res *Resource) (*Element, error) {
			// RFC 5397 §3: available on every resource.
			return HrefElement(Name("current-user-principal"), PrincipalHref(rq.User.Username)), nil
		}},
		{Name: Name("principal-URL"), Directory: true, Get: func(rq *Request, res *Resource) (*Element, error) {
			href, ok := principalURL(res)
			if !ok {
				return nil, ErrNoProperty
			}
			return HrefElement(Name("principal-URL"), href), nil
		}},
		{Name: Name("principal-collection-set"), Directory: true, Get: func(rq *Request, res *Resource) (*Element, error) {
			return HrefElement(Name("principal-collection-set"), Prefix+principalsSeg+"/"), nil
		}},
		{Name: Name("owner"), Get: func(rq *Request, res *Resource) (*Element, error) {
			if res.Owner == nil {
				return nil, ErrNoProperty
			}
			return HrefElement(Name("owner"), PrincipalHref(res.Owner.Username)), nil
		}},
		{Name: Name("current-user-privilege-set"), Directory: true, Get: func(rq *Request, res *Resource) (*Element, error) {
			if res.Collection != nil {
				// What resolution granted: the owner's, or a share's.
				return privilegeSet(res.Privileges.names()), nil
			}
			if res.Owner != nil && res.Owner.ID == rq.User.ID && res.Type != ResPrincipal {
				return privilegeSet(ownerPrivileges), nil
			}
			return privilegeSet(readPrivileges), nil
		}},
		{Name: Name("acl"), Get: h.aclProperty},
		{Name: Name("acl-restrictions"), Get: func(rq *Request, res *Resource) (*Element, error) {
			// RFC 3744 §5.6: ACEs only grant, never invert; all are protected
			// (the ACL method is not served: shares change them).
			return NewElement(Name("acl-restrictions"), NewElement(Name("grant-only")), NewElement(Name("no-invert"))), nil
		}},
		{Name: Name("supported-privilege-set"), Get: func(rq *Request, res *Resource) (*Element, error) {
			return supportedPrivilegeSet(res), nil
		}},
		{Name: Name("group-membership"), Directory: true, Get: h.groupMembership},
		{Name: Name("supported-report-set"), Directory: true, Get: func(rq *Request, res *Resource) (*Element, error) {
			e := NewElement(Name("supported-report-set"))
			var reports []xml.Name
			var own []xml.Name
			if rep, ok := res.Kind.(Reporter); ok {
				own = rep.ReportNames()
			}
			switch res.Type {
			case ResPrincipals, ResPrincipal, ResGroupPrincipal:
				reports = principalReportNames
			case ResCollection:
				reports = append(slices.Clip(own), Name("sync-collection"))
			case ResObject:
				// RFC 4791 §7.8/§7.9, RFC 6352 §8.6/§8.7: the query and
				// multiget REPORTs also run on one object resource.
				reports = own
			}
			if res.Owner != nil {
				// RFC 3744 §9.2: wherever DAV:acl is defined.
				reports = append(slices.Clip(reports), Name("acl-principal-prop-set"))
			}
			for _, n := range reports {
				e.Children = append(e.Children, NewElement(Name("supported-report"), NewElement(Name("report"), NewElement(n))))
			}
			return e, nil
		}},
		{Name: Name("sync-token"), Get: collectionProp(func(c *store.Collection) *Element {
			return TextElement(Name("sync-token"), SyncToken(c))
		})},
		{Name: xml.Name{Space: NSCS, Local: "getctag"}, Get: collectionProp(func(c *store.Collection) *Element {
			return TextElement(xml.Name{Space: NSCS, Local: "getctag"}, SyncToken(c))
		})},
		{Name: Name("quota-used-bytes"), Get: func(rq *Request, res *Resource) (*Element, error) {
			if res.Type != ResHome && res.Type != ResCollection || res.foreign() {
				return nil, ErrNoProperty
			}
			n, err := rq.UsedBytes()
			if err != nil {
				return nil, err
			}
			return TextElement(Name("quota-used-bytes"), strconv.FormatInt(n, 10)), nil
		}},
		{Name: Name("quota-available-bytes"), Get: func(rq *Request, res *Resource) (*Element, error) {
			// RFC 4331 §3: only meaningful when a quota is in force.
			if rq.quota <= 0 || (res.Type != ResHome && res.Type != ResCollection) || res.foreign() {
				return nil, ErrNoProperty
			}
			n, err := rq.UsedBytes()
			if err != nil {
				return nil, err
			}
			return TextElement(Name("quota-available-bytes"), strconv.FormatInt(max(rq.quota-n, 0), 10)), nil
		}},
	}
}

// lastModified is the modification time of an object or a collection.
func lastModified(res *Resource) (time.Time, bool) {
	switch {
	case res.Type == ResObject && res.Object != nil:
		return res.Object.Updated, true
	case res.Type == ResCollection && res.Collection != nil:
		return res.Collection.Updated, true
	}
	return time.Time{}, false
}

// writeMemberText writes what writeElement writes for
// TextElement(Name(local), text).
func writeMemberText(b *bufio.Writer, local, text string) {
	b.WriteString("<D:")
	b.WriteString(local)
	if text == "" {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	escapeText(b, text)
	b.WriteString("</D:")
	b.WriteString(local)
	b.WriteByte('>')
}

func objectProp(f func(o *store.Object) *Element) func(*Request, *Resource) (*Element, error) {
	return func(rq *Request, res *Resource) (*Element, error) {
		if res.Object == nil { // objects and notifications
			return nil, ErrNoProperty
		}
		return f(res.Object), nil
	}
}

func collectionProp(f func(c *store.Collection) *Element) func(*Request, *Resource) (*Element, error) {
	return func(rq *Request, res *Resource) (*Element, error) {
		if res.Type != ResCollection {
			return nil, ErrNoProperty
		}
		return f(res.Collection), nil
	}
}

// CollectionProp adapts a function of a collection into a Property getter
// that applies to collections of one kind only.
func CollectionProp(k Kind, f func(c *store.Collection) (*Element, error)) func(*Request, *Resource) (*Element, error) {
	return func(rq *Request, res *Resource) (*Element, error) {
		if res.Type != ResCollection || !SameKind(res.Kind, k) {
			return nil, ErrNoProperty
		}
		return f(res.Collection)
	}
}

// PrincipalProp adapts a function of the principal's user into a Property
// getter that applies to principals only.
func PrincipalProp(f func(u *store.User) (*Element, error)) func(*Request, *Resource) (*Element, error) {
	return func(rq *Request, res *Resource) (*Element, error) {
		if res.Type != ResPrincipal {
			return nil, ErrNoProperty
		}
		return f(res.Owner)
	}
}

// registry indexes properties by name, keeping registration order for
// allprop and propname.
type registry struct {
	byName map[xml.Name]*Property
	order  []*Property
}

func (r *registry) add(ps ...*Property) {
	if r.byName == nil {
		r.byName = map[xml.Name]*Property{}
	}
	for _, p := range ps {
		if _, dup := r.byName[p.Name]; dup {
			panic("dav: property registered twice: " + p.Name.Space + " " + p.Name.Local)
		}
		r.byName[p.Name] = p
		r.order = append(r.order, p)
	}
}

// MaxResourceSizeProperty is kind k's max-resource-size on its collections
// (RFC 4791 §5.2.5, RFC 6352 §6.2.3): the largest object PUT accepts.
func MaxResourceSizeProperty(k Kind) *Property {
	name := xml.Name{Space: k.Namespace(), Local: "max-resource-size"}
	return &Property{Name: name, Get: func(rq *Request, res *Resource) (*Element, error) {
		if res.Type != ResCollection || !SameKind(res.Kind, k) {
			return nil, ErrNoProperty
		}
		return TextElement(name, strconv.FormatInt(rq.maxResourceSize, 10)), nil
	}}
}
