package dav

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/davenport-dav/davenport/store"
)

// ResourceType tells which part of the URL space a resource is.
type ResourceType int

const (
	ResRoot          ResourceType = iota // "/", "/dav/" and the bare home sets: discovery entry points
	ResPrincipals                        // /dav/principals/
	ResPrincipal                         // /dav/principals/{user}/
	ResHome                              // /dav/{calendars|addressbooks}/{user}/
	ResCollection                        // a calendar or address book
	ResObject                            // one calendar object or vCard
	ResNotifications                     // /dav/notifications/{user}/ (sharing.go)
	ResNotification                      // one notification in it
	// ResProxy is one of a user's two calendar proxy group principals,
	// /dav/principals/{user}/calendar-proxy-read/ and -write/
	// (delegation.go); Name says which.
	ResProxy
	// ResGroupPrincipal is /dav/principals/_groups/{group}/ (principals.go).
	ResGroupPrincipal
)

// Resource is a resolved request target (or a member listed under it).
type Resource struct {
	Type       ResourceType
	Href       string      // percent-encoded, as written in a 207
	Owner      *store.User // principal, home, collection, object
	Kind       Kind        // home, collection, object
	Collection *store.Collection
	Object     *store.Object
	// Name is the decoded last segment for an object that does not exist yet
	// (PUT, MKCOL targets).
	Name string
	// Representation is the content type an object is rendered in when it
	// is not its stored bytes (a vCard converted by address-data), "" else.
	Representation string
	// Privileges are what the request's user may do with a collection or
	// object (access.go); all of them on their own.
	Privileges Privileges
	// Shared is set when the collection is another user's, reached
	// through a share; Owner is then that user.
	Shared *store.SharedCollection
	// Delegate is set when Owner is another user whose calendars the
	// request's user reaches through a grant (delegation.go): what the
	// grant allows.
	Delegate store.GrantAccess
	// Public is set for a collection read through a public link
	// (public.go): nobody signed in, private events masked.
	Public bool
	// Group is the group of a group principal.
	Group *store.Group
}

// IsCollection reports whether the resource is a WebDAV collection.
func (r *Resource) IsCollection() bool { return r.Type != ResObject && r.Type != ResNotification }

// Paths of the URL space (DESIGN.md "URL space").
const (
	Prefix        = "/dav/"
	principalsSeg = "principals"
)

// PrincipalHref is the principal URL of username.
func PrincipalHref(username string) string {
	return Prefix + principalsSeg + "/" + escapeSegment(username) + "/"
}

// HomeHref is the home of kind k for username.
func HomeHref(k Kind, username string) string {
	return Prefix + k.HomeSegment() + "/" + escapeSegment(username) + "/"
}

// CollectionHref is the URL of a collection. A nested collection's name
// is its path below the home (tree.go), "" the home itself.
func CollectionHref(k Kind, username, name string) string {
	if name == "" {
		return HomeHref(k, username)
	}
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = escapeSegment(s)
	}
	return HomeHref(k, username) + strings.Join(segs, "/") + "/"
}

// ObjectHref is the URL of an object.
func ObjectHref(k Kind, username, collection, name string) string {
	return CollectionHref(k, username, collection) + escapeSegment(name)
}

// escapeSegment percent-encodes one path segment: names are opaque, so any
// byte outside the unreserved set (and a few safe sub-delims) is encoded.
func escapeSegment(s string) string {
	return url.PathEscape(s)
}

// target is a parsed request path before it is looked up in the store.
type target struct {
	typ        ResourceType
	kind       Kind
	username   string
	collection string
	object     string
	group      string // the group of a group principal
	trailing   bool   // the path ended in a slash
}

var (
	errBadPath = errors.New("dav: no such path")
	// errBadName: a path segment is not UTF-8. Names are stored as text
	// (PostgreSQL refuses other bytes with SQLSTATE 22021, SQLite would
	// keep them), so both stores see only UTF-8 and behave the same.
	errBadName = errors.New("dav: path segment is not valid UTF-8")
)

// parsePath splits an escaped request path into its parts. Each segment is
// decoded exactly once; segments that decode to "", ".", ".." or contain a
// slash are refused, and one that is not UTF-8 is errBadName (400) before
// any store sees it.
//
// The collection segment is normalised to NFC (the user segment is made
// canonical, lower case and NFC, by store.CanonicalUsername), so a client
// that sends a name decomposed (NFD, as macOS file names are) reaches the
// same collection as one that sends it composed. Object names are not
// normalised: they are the client's
// opaque names and round-trip byte for byte (DESIGN.md, "URL space") — a
// client that PUT "café.ics" in NFD must find that very href in a listing,
// or it would see a different resource and download or upload it again.
func (h *Handler) parsePath(escaped string) (target, error) {
	if escaped == "/" || escaped == "" || escaped == "/principals" || escaped == "/principals/" {
		// "/principals/" is probed by iOS clients that skip the well-known
		// redirect; it is an entry point like "/".
		return target{typ: ResRoot, trailing: true}, nil
	}
	if !strings.HasPrefix(escaped+"/", Prefix) {
		return target{}, errBadPath
	}
	rest := strings.TrimPrefix(escaped, strings.TrimSuffix(Prefix, "/"))
	trailing := strings.HasSuffix(rest, "/")
	rest = strings.Trim(rest, "/")
	if rest == "" {
		return target{typ: ResRoot, trailing: true}, nil
	}
	raw := strings.Split(rest, "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		d, err := url.PathUnescape(s)
		if err != nil || d == "" || d == "." || d == ".." || strings.ContainsAny(d, "/\x00") {
			return target{}, errBadPath
		}
		if !utf8.ValidString(d) {
			return target{}, errBadName
		}
		if i == 2 && !nests(h.kindBySegment(segs[0])) {
			d = norm.NFC.String(d) // the collection (principal paths have no third segment)
		}
		segs[i] = d
	}
	t := target{trailing: trailing}
	if segs[0] == notificationsSeg {
		switch len(segs) {
		case 2:
			t.typ, t.username = ResNotifications, store.CanonicalUsername(segs[1])
		case 3:
			t.typ, t.username, t.object = ResNotification, store.CanonicalUsername(segs[1]), segs[2]
		default:
			return target{}, errBadPath
		}
		return t, nil
	}
	if segs[0] == principalsSeg {
		switch len(segs) {
		case 1:
			t.typ = ResPrincipals
		case 2:
			t.typ, t.username = ResPrincipal, store.CanonicalUsername(segs[1])
		case 3:
			switch {
			case segs[1] == groupsSeg:
				// A group principal has one segment more than a user's,
				// so a user named like groupsSeg keeps their principal URL.
				t.typ, t.group = ResGroupPrincipal, store.CanonicalUsername(segs[2])
			case segs[2] == proxyRead || segs[2] == proxyWrite:
				t.typ, t.username, t.collection = ResProxy, store.CanonicalUsername(segs[1]), segs[2]
			default:
				return target{}, errBadPath
			}
		default:
			return target{}, errBadPath
		}
		return t, nil
	}
	k := h.kindBySegment(segs[0])
	if k == nil {
		return target{}, errBadPath
	}
	t.kind = k
	if nests(k) && len(segs) >= 2 {
		// Any depth: resolveTree tells folders from files. Names are the
		// client's, kept as sent, like object names.
		t.typ, t.username, t.collection = ResCollection, store.CanonicalUsername(segs[1]), strings.Join(segs[2:], "/")
		return t, nil
	}
	switch len(segs) {
	case 1:
		t.typ = ResRoot
	case 2:
		t.typ, t.username = ResHome, segs[1]
	case 3:
		t.typ, t.username, t.collection = ResCollection, segs[1], segs[2]
	case 4:
		t.typ, t.username, t.collection, t.object = ResObject, segs[1], segs[2], segs[3]
	default:
		return target{}, errBadPath
	}
	// User names are case-insensitive: /dav/calendars/Alice/ is alice's
	// home, and every href written back names her canonically.
	t.username = store.CanonicalUsername(t.username)
	return t, nil
}

func (h *Handler) kindBySegment(seg string) Kind {
	for _, k := range h.Kinds {
		if k.HomeSegment() == seg {
			return k
		}
	}
	return nil
}

func (h *Handler) kindByStoreKind(sk store.Kind) Kind {
	for _, k := range h.Kinds {
		if k.StoreKind() == sk {
			return k
		}
	}
	return nil
}

// resolve looks the target up for the authenticated user; withBody loads
// an object's body with it (GET), saving a second read. Another user's URL
// space is forbidden: a collection shared with the user is reached under
// the user's own home (access.go). A missing collection or object yields
// ErrNotFound with as much of the resource filled in as exists, so PUT and
// MKCOL can create it.
func (h *Handler) resolve(ctx context.Context, user *store.User, t target, escapedPath string, withBody bool) (*Resource, error) {
	if t.kind != nil && nests(t.kind) && t.typ != ResRoot {
		return h.resolveTree(ctx, user, t, withBody)
	}
	res := &Resource{Type: t.typ, Kind: t.kind}
	switch t.typ {
	case ResRoot:
		res.Href = escapedPath
		if !strings.HasSuffix(res.Href, "/") {
			res.Href += "/"
		}
		return res, nil
	case ResPrincipals:
		res.Href = Prefix + principalsSeg + "/"
		return res, nil
	case ResGroupPrincipal:
		return h.groupPrincipal(ctx, t.group)
	case ResPrincipal:
		if t.username != user.Username {
			// A delegate sees the owner's principal whole (delegation.go);
			// anyone else as a directory entry (principals.go).
			owner, privs, a, err := h.delegatedTarget(ctx, user, t)
			if errors.Is(err, errForbidden) {
				return h.userPrincipal(ctx, user, t.username)
			}
			if err != nil {
				return nil, err
			}
			res.Owner, res.Delegate, res.Privileges = owner, a, privs
			res.Href = PrincipalHref(owner.Username)
			return res, nil
		}
	}
	owner, privs := user, ownerPrivs
	if t.username != user.Username {
		// Another user's URL space: only through a grant of theirs
		// (delegation.go); anything else is forbidden whether or not the
		// user exists.
		var err error
		if owner, privs, res.Delegate, err = h.delegatedTarget(ctx, user, t); err != nil {
			return nil, err
		}
	}
	res.Owner = owner
	switch t.typ {
	case ResPrincipal:
		res.Href = PrincipalHref(owner.Username)
		res.Privileges = privs
		return res, nil
	case ResProxy:
		res.Href, res.Name, res.Privileges = proxyHref(owner.Username, t.collection), t.collection, privs
		return res, nil
	case ResHome:
		res.Href = HomeHref(t.kind, owner.Username)
		res.Privileges = privs
		return res, nil
	}
	c, err := h.Store.GetCollection(ctx, owner.ID, t.kind.StoreKind(), t.collection)
	if err == nil {
		res.Collection, res.Privileges = c, privs
		res.Href = CollectionHref(t.kind, owner.Username, c.Name)
	} else if errors.Is(err, store.ErrNotFound) {
		var found *Resource
		if found, err = h.lookupDerived(ctx, owner, t.kind, t.collection); err == nil {
			// A delegate holds no more on it than on the rest.
			found.Privileges &= privs
			found.Delegate = res.Delegate
			res = found
		} else if errors.Is(err, store.ErrNotFound) && res.Delegate == "" {
			var shared *Resource
			if shared, err = h.lookupShared(ctx, user, t.kind, t.collection); err == nil {
				res = shared
			}
		}
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			res.Name = t.collection
			res.Href = CollectionHref(t.kind, owner.Username, t.collection)
			if t.typ == ResObject {
				return res, errParentMissing
			}
		}
		return res, err
	}
	if t.typ == ResCollection {
		return res, nil
	}
	res.Type = ResObject
	res.Href += escapeSegment(t.object)
	res.Name = t.object
	return h.lookupObject(ctx, res, withBody)
}

// lookupObject fills res.Object with the member res.Name of res.Collection;
// a missing one is ErrNotFound, with res as far as it exists.
func (h *Handler) lookupObject(ctx context.Context, res *Resource, withBody bool) (*Resource, error) {
	objs, err := h.Store.GetObjects(ctx, res.Collection.ID, []string{res.Name}, withBody)
	if err != nil {
		return res, err
	}
	if len(objs) == 0 {
		return res, store.ErrNotFound
	}
	res.Object = &objs[0]
	return res, nil
}

// lookupDerived finds a derived collection named name in k's home
// (kind.go, Derived), brought up to date.
func (h *Handler) lookupDerived(ctx context.Context, user *store.User, k Kind, name string) (*Resource, error) {
	for _, dk := range h.derivedKinds(k) {
		c, err := h.Store.GetCollection(ctx, user.ID, dk.StoreKind(), name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err == nil {
			c, err = refreshed(ctx, h.Store, dk, c)
		}
		if err != nil {
			return nil, err
		}
		return &Resource{Type: ResCollection, Kind: dk, Owner: user, Collection: c, Privileges: derivedPrivs,
			Href: CollectionHref(dk, user.Username, c.Name)}, nil
	}
	return nil, store.ErrNotFound
}

var (
	errForbidden     = errors.New("dav: forbidden")
	errParentMissing = errors.New("dav: parent collection does not exist")
)
