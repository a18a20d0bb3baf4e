package dav

import (
	"context"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// Access control (RFC 3744). A user reaches only their own URL space: their
// principal, their homes and what is in them. Another user's collection is
// reached only through a share, and then under the sharee's own home (where
// clients already look, RFC 4791 §6.2.1): resolution gives every resource
// the privileges its user holds on it, once per request, and serve checks
// the one privilege each method needs before any handler runs. Listings,
// queries and sync inherit the collection's privileges; nothing is checked
// per member.

// Privileges is a set of the privileges a user holds on a resource.
type Privileges uint8

const (
	// PrivRead: DAV:read (and read-current-user-privilege-set).
	PrivRead Privileges = 1 << iota
	// PrivWriteContent: DAV:write-content, bind and unbind on members.
	PrivWriteContent
	// PrivWriteProperties: DAV:write-properties; a sharee's changes go to
	// their own view of the collection (see proppatch).
	PrivWriteProperties
	// PrivAll: DAV:all, the owner's: also deleting the collection.
	PrivAll
	// PrivReadFreeBusy: CALDAV:read-free-busy (RFC 4791 §6.1.1), the
	// free-busy-query REPORT; DAV:read aggregates it.
	PrivReadFreeBusy
)

const (
	ownerPrivs     = PrivRead | PrivReadFreeBusy | PrivWriteContent | PrivWriteProperties | PrivAll
	readOnlyPrivs  = PrivRead | PrivReadFreeBusy | PrivWriteProperties
	readWritePrivs = PrivRead | PrivReadFreeBusy | PrivWriteContent | PrivWriteProperties
)

// sharePrivileges are the privileges a share's access grants.
func sharePrivileges(a store.Access) Privileges {
	if a == store.AccessReadWrite {
		return readWritePrivs
	}
	return readOnlyPrivs
}

// privilegeNames are the DAV privilege elements a set holds, for
// current-user-privilege-set.
func (p Privileges) names() []string {
	if p&PrivAll != 0 {
		return ownerPrivileges
	}
	var out []string
	if p&PrivRead != 0 {
		out = append(out, "read", "read-current-user-privilege-set")
	}
	if p&PrivWriteProperties != 0 {
		out = append(out, "write-properties")
	}
	if p&PrivWriteContent != 0 {
		out = append(out, "write-content", "bind", "unbind")
	}
	return out
}

// sharedPrefix starts the segment under which a collection shared with the
// user appears in their home: "shared-" and the collection's id. The id
// keeps the href stable when the owner renames the collection, and one
// segment serves every share of it (the user's own and their groups').
const sharedPrefix = "shared-"

// sharedSegment is the home segment of a shared collection.
func sharedSegment(c *store.Collection) string {
	return sharedPrefix + strconv.FormatInt(c.ID, 10)
}

// SharedCollectionHref is the URL under which collection c, shared with
// username, appears in their home of kind k.
func SharedCollectionHref(k Kind, username string, c *store.Collection) string {
	return HomeHref(k, username) + sharedSegment(c) + "/"
}

// sharedID parses a shared segment.
func sharedID(seg string) (int64, bool) {
	rest, ok := strings.CutPrefix(seg, sharedPrefix)
	if !ok || rest == "" || rest[0] == '0' || rest[0] == '+' || rest[0] == '-' {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}

// sharedResource is a collection shared with user as it appears in their
// home of kind k: the sharee's name and colour for it, the owner as owner,
// the privileges the share grants.
func sharedResource(k Kind, user *store.User, sc *store.SharedCollection) *Resource {
	c := sc.Collection
	if sc.DisplayName != "" {
		c.DisplayName = sc.DisplayName
	}
	if sc.Color != "" {
		c.Color, c.ColorSymbolic = sc.Color, ""
	}
	return &Resource{
		Type: ResCollection, Href: SharedCollectionHref(k, user.Username, &c),
		Owner: &store.User{ID: c.OwnerID, Username: sc.Owner}, Kind: k, Collection: &c,
		Privileges: sharePrivileges(sc.Access), Shared: sc,
	}
}

// lookupShared resolves a segment of user's home of kind k that names a
// collection shared with them; ErrNotFound when it names none.
func (h *Handler) lookupShared(ctx context.Context, user *store.User, k Kind, seg string) (*Resource, error) {
	id, ok := sharedID(seg)
	if !ok {
		return nil, store.ErrNotFound
	}
	sc, err := h.Store.GetSharedCollection(ctx, user.ID, id)
	if err != nil {
		return nil, err
	}
	if sc.Collection.Kind != k.StoreKind() {
		return nil, store.ErrNotFound
	}
	return sharedResource(k, user, sc), nil
}

// required is the privilege method needs on res (RFC 3744 Appendix B).
// COPY and MOVE also need write-content on the destination, checked where
// it is resolved.
func required(method string, res *Resource) Privileges {
	switch method {
	case http.MethodPut, "LOCK":
		// RFC 3744 Appendix B: LOCK needs write-content (bind on the
		// parent for an unmapped URL). UNLOCK is the lock holder's
		// (lock.go) and needs read only to see the resource.
		return PrivWriteContent
	case http.MethodDelete:
		if res.Type == ResCollection {
			return PrivAll
		}
		return PrivWriteContent
	case "MOVE":
		if res.Type == ResCollection {
			return PrivAll // renaming a collection is its owner's
		}
		return PrivWriteContent
	case "PROPPATCH":
		return PrivWriteProperties
	}
	return PrivRead
}

// checkPrivilege refuses a method on res its user lacks the privilege for,
// with DAV:need-privileges naming the resource and the privilege (RFC 3744
// §7.1.1). Resources outside collections (principals, homes) are the user's
// own and are left to the method, except the principals of others, which
// resolution gives the privileges of a directory entry (principals.go).
func checkPrivilege(res *Resource, need Privileges) error {
	if res == nil || (res.Collection == nil && res.Privileges == 0) || res.Privileges&need == need {
		return nil
	}
	priv := NewElement(Name("read"))
	switch need {
	case PrivWriteContent:
		priv.Name.Local = "write-content"
		if res.Type == ResObject && res.Object == nil {
			priv.Name.Local = "bind"
		}
	case PrivWriteProperties:
		priv.Name.Local = "write-properties"
	case PrivAll:
		priv.Name.Local = "unbind"
	case PrivReadFreeBusy:
		priv.Name = xml.Name{Space: NSCalDAV, Local: "read-free-busy"}
	}
	href := res.Href
	if need == PrivAll {
		// Removing a collection is unbinding it from its parent.
		href = href[:strings.LastIndex(strings.TrimSuffix(href, "/"), "/")+1]
	}
	return needPrivilege(href, priv, "dav: need privilege "+priv.Name.Local)
}

// collectionHref is the href of the collection of a collection or object
// resource: an object's href is its collection's and one escaped segment.
func (r *Resource) collectionHref() string {
	if r.Type == ResCollection {
		return r.Href
	}
	return r.Href[:strings.LastIndex(r.Href, "/")+1]
}

// GroupHref is the URL of a group principal.
func GroupHref(name string) string {
	return Prefix + principalsSeg + "/" + groupsSeg + "/" + escapeSegment(name) + "/"
}

// groupsSeg is the segment under the principal collection that holds the
// group principals. A user named like it keeps their principal URL: a
// group's URL has one more segment.
const groupsSeg = "_groups"

// ace is one access control entry of DAV:acl, always protected.
func ace(principal string, privs ...string) *Element {
	grant := NewElement(Name("grant"))
	for _, p := range privs {
		grant.Children = append(grant.Children, NewElement(Name("privilege"), NewElement(Name(p))))
	}
	return NewElement(Name("ace"), NewElement(Name("principal"), TextElement(Name("href"), principal)), grant, NewElement(Name("protected")))
}

// aclProperty is DAV:acl (RFC 3744 §5.5): the owner holds DAV:all; on a
// collection (and its members) the owner also sees one entry per share,
// while a sharee sees the owner's and their own privileges only — who else
// a collection is shared with is the owner's business.
func (h *Handler) aclProperty(rq *Request, res *Resource) (*Element, error) {
	if res.Owner == nil {
		return nil, ErrNoProperty
	}
	e := NewElement(Name("acl"), ace(PrincipalHref(res.Owner.Username), "all"))
	if res.Collection == nil {
		return e, nil
	}
	if res.Shared != nil || res.Delegate != "" {
		e.Children = append(e.Children, ace(PrincipalHref(rq.User.Username), res.Privileges.grants()...))
		return e, nil
	}
	if res.Collection.Kind == store.KindCalendar {
		// The owner's grants reach every calendar of theirs.
		grants, err := h.grantACEs(rq, res.Owner)
		if err != nil {
			return nil, err
		}
		e.Children = append(e.Children, grants...)
	}
	shares, err := rq.sharesOf(res.Collection)
	if err != nil {
		return nil, err
	}
	for _, sh := range shares {
		if sh.Status != store.ShareAccepted {
			continue
		}
		href, _, err := rq.principalOf(sh.UserID, sh.GroupID)
		if err != nil {
			return nil, err
		}
		e.Children = append(e.Children, ace(href, sharePrivileges(sh.Access).grants()...))
	}
	return e, nil
}

// principalOf is the principal URL and display name of the user (userID)
// or else the group (groupID) a share or grant names. Each user, and the
// groups, are read once per request: a listing of a home with DAV:acl or
// CS:invite names the same sharees and grantees on every collection.
func (rq *Request) principalOf(userID, groupID int64) (href, name string, err error) {
	if userID != 0 {
		u, ok := rq.usersByID[userID]
		if !ok {
			if u, err = rq.store.GetUserByID(rq.Context(), userID); err != nil {
				return "", "", err
			}
			if rq.usersByID == nil {
				rq.usersByID = map[int64]*store.User{}
			}
			rq.usersByID[userID] = u
		}
		return PrincipalHref(u.Username), displayName(u), nil
	}
	if !rq.allGroupsRead {
		if rq.allGroups, err = rq.store.ListGroups(rq.Context()); err != nil {
			return "", "", err
		}
		rq.allGroupsRead = true
	}
	for i := range rq.allGroups {
		if g := &rq.allGroups[i]; g.ID == groupID {
			return GroupHref(g.Name), groupDisplayName(g), nil
		}
	}
	return "", "", store.ErrNotFound
}

// sharesOf returns the shares of collection c. The shares of all the
// collections of c's owner are read the first time, in one query, with the
// users they name in one more: DAV:acl and CS:invite in a listing of a home
// then cost two queries, however many of its collections are shared.
func (rq *Request) sharesOf(c *store.Collection) ([]store.Share, error) {
	byCol, ok := rq.ownerShares[c.OwnerID]
	if !ok {
		shares, err := rq.store.ListOwnerShares(rq.Context(), c.OwnerID)
		if err != nil {
			return nil, err
		}
		byCol = map[int64][]store.Share{}
		ids := make([]int64, 0, len(shares))
		for _, sh := range shares {
			byCol[sh.CollectionID] = append(byCol[sh.CollectionID], sh)
			ids = append(ids, sh.UserID)
		}
		if err := rq.readUsers(ids); err != nil {
			return nil, err
		}
		if rq.ownerShares == nil {
			rq.ownerShares = map[int64]map[int64][]store.Share{}
		}
		rq.ownerShares[c.OwnerID] = byCol
	}
	return byCol[c.ID], nil
}

// ownerGrants are an owner's grants and whether everyone may see their
// busy time, as grantsOf read them.
type ownerGrants struct {
	grants   []store.Grant
	everyone bool
}

// grantsOf returns the owner's grants, read once per request with the users
// they name.
func (rq *Request) grantsOf(owner *store.User) (*ownerGrants, error) {
	if og, ok := rq.ownerGrants[owner.ID]; ok {
		return og, nil
	}
	grants, err := rq.store.ListGrants(rq.Context(), owner.ID)
	if err != nil {
		return nil, err
	}
	everyone, err := rq.store.FreeBusyEveryone(rq.Context(), owner.ID)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(grants))
	for _, g := range grants {
		ids = append(ids, g.UserID)
	}
	if err := rq.readUsers(ids); err != nil {
		return nil, err
	}
	og := &ownerGrants{grants: grants, everyone: everyone}
	if rq.ownerGrants == nil {
		rq.ownerGrants = map[int64]*ownerGrants{}
	}
	rq.ownerGrants[owner.ID] = og
	return og, nil
}

// readUsers reads the users of ids (0 for none) that principalOf has not
// read yet, in one query.
func (rq *Request) readUsers(ids []int64) error {
	var missing []int64
	asked := map[int64]bool{}
	for _, id := range ids {
		if _, ok := rq.usersByID[id]; id != 0 && !ok && !asked[id] {
			asked[id] = true
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	users, err := rq.store.GetUsersByID(rq.Context(), missing)
	if err != nil {
		return err
	}
	if rq.usersByID == nil {
		rq.usersByID = map[int64]*store.User{}
	}
	for i := range users {
		rq.usersByID[users[i].ID] = &users[i]
	}
	return nil
}

// grants are the privileges of a set as an ACE grants them (aggregates
// where whole).
func (p Privileges) grants() []string {
	switch {
	case p&PrivRead == 0:
		return nil // read-free-busy alone: see grantACEs
	case p&PrivAll != 0:
		return []string{"all"}
	case p&PrivWriteContent != 0:
		return []string{"read", "write-properties", "write-content", "bind", "unbind"}
	}
	return []string{"read", "write-properties"}
}

// supportedPrivilegeSet is the tree of privileges the server knows (RFC
// 3744 §5.3): DAV:all aggregates read and write; write aggregates the
// property, content and membership privileges. On calendars DAV:read also
// aggregates CALDAV:read-free-busy (RFC 4791 §6.1.1); on the scheduling
// inbox and outbox DAV:all aggregates CALDAV:schedule-deliver and
// CALDAV:schedule-send with their parts (RFC 6638 §6.1.1, §6.2.1).
func supportedPrivilegeSet(res *Resource) *Element {
	spn := func(name xml.Name, abstract bool, desc string, children ...*Element) *Element {
		e := NewElement(Name("supported-privilege"), NewElement(Name("privilege"), NewElement(name)))
		if abstract {
			e.Children = append(e.Children, NewElement(Name("abstract")))
		}
		e.Children = append(e.Children, TextElement(Name("description"), desc))
		e.Children = append(e.Children, children...)
		return e
	}
	sp := func(name string, abstract bool, desc string, children ...*Element) *Element {
		return spn(Name(name), abstract, desc, children...)
	}
	c := func(local string) xml.Name { return xml.Name{Space: NSCalDAV, Local: local} }
	var sk store.Kind
	if res != nil && res.Kind != nil && res.Type >= ResCollection {
		sk = res.Kind.StoreKind()
	}
	read := []*Element{sp("read-current-user-privilege-set", false, "Read the current user's privileges")}
	if sk == store.KindCalendar {
		read = append(read, spn(c("read-free-busy"), false, "Read the free/busy time"))
	}
	all := []*Element{
		sp("read", false, "Read any object", read...),
		sp("write", false, "Write any object",
			sp("write-properties", false, "Write properties"),
			sp("write-content", false, "Write resource content"),
			sp("bind", false, "Add new members to a collection"),
			sp("unbind", false, "Remove members from a collection")),
		sp("read-acl", false, "Read the access control list"),
		sp("write-acl", true, "Write the access control list"),
	}
	switch sk {
	case store.KindInbox:
		all = append(all, spn(c("schedule-deliver"), false, "Deliver scheduling messages",
			spn(c("schedule-deliver-invite"), false, "Deliver invitations"),
			spn(c("schedule-deliver-reply"), false, "Deliver replies"),
			spn(c("schedule-query-freebusy"), false, "Ask for free/busy time")))
	case store.KindOutbox:
		all = append(all, spn(c("schedule-send"), false, "Send scheduling messages",
			spn(c("schedule-send-invite"), false, "Send invitations"),
			spn(c("schedule-send-reply"), false, "Send replies"),
			spn(c("schedule-send-freebusy"), false, "Ask for free/busy time")))
	}
	return NewElement(Name("supported-privilege-set"), sp("all", true, "Any operation", all...))
}

// grantACEs are the ACEs of the owner's grants on each of their calendars:
// delegates read (and write), free-busy grantees read-free-busy, and every
// authenticated user when the owner lets everyone see their busy time.
func (h *Handler) grantACEs(rq *Request, owner *store.User) ([]*Element, error) {
	og, err := rq.grantsOf(owner)
	if err != nil {
		return nil, err
	}
	var out []*Element
	for _, g := range og.grants {
		href, _, err := rq.principalOf(g.UserID, g.GroupID)
		if err != nil {
			return nil, err
		}
		if g.Access == store.GrantFreeBusy {
			out = append(out, freeBusyACE(TextElement(Name("href"), href)))
			continue
		}
		out = append(out, ace(href, delegatePrivileges(g.Access).grants()...))
	}
	if og.everyone {
		out = append(out, freeBusyACE(NewElement(Name("authenticated"))))
	}
	return out, nil
}

// freeBusyACE grants CALDAV:read-free-busy to one principal element.
func freeBusyACE(principal *Element) *Element {
	return NewElement(Name("ace"), NewElement(Name("principal"), principal),
		NewElement(Name("grant"), NewElement(Name("privilege"), NewElement(xml.Name{Space: NSCalDAV, Local: "read-free-busy"}))),
		NewElement(Name("protected")))
}

// masked reports whether the user of res reads its objects as others
// than the owner do (Masker): a sharee, a read-only delegate, a subscriber
// to a public link. A write delegate acts for the owner and sees all.
func (r *Resource) masked() bool {
	return r.Shared != nil || r.Delegate == store.GrantRead || r.Delegate == store.GrantFreeBusy || r.Public
}

// foreign reports whether res is another user's, reached through a share
// or a grant: the user's own storage figures do not apply to it.
func (r *Resource) foreign() bool { return r.Shared != nil || r.Delegate != "" }

// view is o as the user of res (a collection or object) may see it: masked
// by the kind (Masker) when res is reached through a share and o's body is
// loaded, else o.
func view(res *Resource, o *store.Object) *store.Object {
	if !res.masked() || o == nil || len(o.Body) == 0 {
		return o
	}
	if m, ok := res.Kind.(Masker); ok {
		return m.MaskObject(o)
	}
	return o
}
