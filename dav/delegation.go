package dav

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// Delegation: the CalendarServer calendar proxies (caldav-proxy), which
// iOS and macOS "Delegation" and Thunderbird speak. Every user principal
// has two group principals, calendar-proxy-read and calendar-proxy-write;
// their DAV:group-member-set, which the owner sets with PROPPATCH, names the
// delegates. A delegate's own principal lists whom they act for in
// CS:calendar-proxy-read-for and -write-for (and DAV:group-membership).
//
// Unlike a share, a delegation reaches the owner's calendars at the owner's
// own URLs, as CalendarServer serves them and as delegates' clients look
// for them (the delegator's principal, its calendar-home-set, the home's
// members): resolution of another user's path asks the store, in one query
// (store.GrantOf), what the owner grants the request's user, and gives the
// resource the privileges of that grant:
//
//   - read: read every calendar (and the principal and calendar home);
//     private and confidential events are masked as for a sharee;
//   - read-write: also write every calendar's members and properties, see
//     private events whole (a delegate who writes back what they read
//     must not lose what they could not see), and schedule as the owner
//     when they write a scheduling object (RFC 6638 §3: the server acts
//     for the calendar's owner, CalendarServer's "write proxy");
//   - free-busy (RFC 4791 §6.1.1 CALDAV:read-free-busy): only the
//     free-busy-query REPORT on the owner's calendars; every user holds it
//     unless the owner turned store.FreeBusyEveryone off.
//
// A delegation also reaches the owner's scheduling inbox and outbox
// (boxPrivileges). Nobody but the owner deletes or renames a calendar,
// makes one, or reaches the owner's address books or notifications.

// The segments of the proxy group principals under a user's principal.
const (
	proxyRead  = "calendar-proxy-read"
	proxyWrite = "calendar-proxy-write"
)

// proxyHref is the URL of one of username's proxy group principals.
func proxyHref(username, name string) string {
	return PrincipalHref(username) + name + "/"
}

// proxyAccess is the grant level a proxy group stands for.
func proxyAccess(name string) store.GrantAccess {
	if name == proxyWrite {
		return store.GrantReadWrite
	}
	return store.GrantRead
}

// delegatePrivileges are the privileges a grant gives on the owner's
// calendars.
func delegatePrivileges(a store.GrantAccess) Privileges {
	switch a {
	case store.GrantReadWrite:
		return PrivRead | PrivReadFreeBusy | PrivWriteContent | PrivWriteProperties
	case store.GrantRead:
		return PrivRead | PrivReadFreeBusy
	}
	return PrivReadFreeBusy
}

// delegatedTarget checks a target in another user's URL space: the owner,
// the privileges user holds there and the grant. What no grant reaches is
// errForbidden, the same whether or not the owner or the collection exists.
func (h *Handler) delegatedTarget(ctx context.Context, user *store.User, t target) (*store.User, Privileges, store.GrantAccess, error) {
	need := store.GrantRead
	box := false
	switch t.typ {
	case ResPrincipal, ResProxy:
	case ResHome, ResCollection, ResObject:
		if t.kind == nil {
			return nil, 0, "", errForbidden
		}
		switch t.kind.StoreKind() {
		case store.KindCalendar:
			if t.typ != ResHome {
				need = store.GrantFreeBusy
			}
		case store.KindInbox, store.KindOutbox:
			box = true
		default:
			return nil, 0, "", errForbidden
		}
	default:
		return nil, 0, "", errForbidden
	}
	owner, err := h.Store.GetUser(ctx, t.username)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, "", errForbidden
	}
	if err != nil {
		return nil, 0, "", err
	}
	a, err := h.Store.GrantOf(ctx, owner.ID, user.ID)
	if err != nil {
		return nil, 0, "", err
	}
	if a.Rank() < need.Rank() {
		return nil, 0, "", errForbidden
	}
	if box {
		return owner, boxPrivileges(a), a, nil
	}
	return owner, delegatePrivileges(a), a, nil
}

// boxPrivileges are the privileges a delegation gives on the owner's
// scheduling inbox and outbox, as CalendarServer's proxies have them: a
// read delegate reads the invitations that arrive; a write delegate also
// removes them once handled and sends from the outbox as the owner (a
// free-busy request with the owner as ORGANIZER; the outbox kind checks
// the level). Their invitations are answered where they are, in the
// owner's calendar, which a write delegate writes.
func boxPrivileges(a store.GrantAccess) Privileges {
	if a == store.GrantReadWrite {
		return PrivRead | PrivWriteContent
	}
	return PrivRead
}

// readMethod reports whether method only reads.
func readMethod(method string) bool {
	switch method {
	case "PROPFIND", "REPORT", http.MethodGet, http.MethodHead:
		return true
	}
	return false
}

// checkDelegated refuses a delegate anything but reading on the owner's
// resources outside calendars (principal, proxy groups, home): making,
// posting, patching. A free-busy grantee gets the answer of no access at
// all to anything but a REPORT on a calendar (free-busy-query, checked by
// report), so what the owner has cannot be told from what they have not.
func checkDelegated(method string, res *Resource, err error) error {
	if res == nil || res.Delegate == "" {
		return nil
	}
	if res.Delegate == store.GrantFreeBusy && (res.Collection == nil || method != "REPORT") {
		// Only a free-busy-query on a calendar that exists; every other
		// answer is the one of no access at all.
		return errForbidden
	}
	if res.Collection == nil && (!readMethod(method) || errors.Is(err, store.ErrNotFound) || errors.Is(err, errParentMissing)) {
		href := res.Href
		if res.Type == ResCollection || res.Type == ResObject {
			href = HomeHref(res.Kind, res.Owner.Username)
		}
		return needPrivilege(href, NewElement(Name("bind")), "dav: a delegate cannot change "+href)
	}
	return nil
}

// proxyGroups are the principals whose proxy groups of user's level a
// grants to user reach: for calendar-proxy-read-for, -write-for and
// group-membership.
func (h *Handler) proxyFor(ctx context.Context, user *store.User) (read, write []string, err error) {
	grants, err := h.Store.ListGrantsTo(ctx, user.ID)
	if err != nil {
		return nil, nil, err
	}
	// The strongest grant of each owner decides which group they are in.
	best := map[int64]store.GrantAccess{}
	var order []int64
	for _, g := range grants {
		if g.Access == store.GrantFreeBusy {
			continue
		}
		if _, ok := best[g.OwnerID]; !ok {
			order = append(order, g.OwnerID)
		}
		if g.Access.Rank() > best[g.OwnerID].Rank() {
			best[g.OwnerID] = g.Access
		}
	}
	for _, id := range order {
		owner, err := h.Store.GetUserByID(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if best[id] == store.GrantReadWrite {
			write = append(write, PrincipalHref(owner.Username))
		} else {
			read = append(read, PrincipalHref(owner.Username))
		}
	}
	return read, write, nil
}

// proxyMembers are the hrefs of the members of a proxy group: the users
// and groups the owner granted exactly its level.
func (h *Handler) proxyMembers(rq *Request, owner *store.User, name string) ([]string, error) {
	og, err := rq.grantsOf(owner)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, g := range og.grants {
		if g.Access != proxyAccess(name) {
			continue
		}
		href, _, err := rq.principalOf(g.UserID, g.GroupID)
		if err != nil {
			return nil, err
		}
		out = append(out, href)
	}
	return out, nil
}

// delegationProperties are the proxy properties of principals and proxy
// groups.
func (h *Handler) delegationProperties() []*Property {
	forProp := func(local string, write bool) *Property {
		return &Property{Name: cs(local), Get: func(rq *Request, res *Resource) (*Element, error) {
			if res.Type != ResPrincipal {
				return nil, ErrNoProperty
			}
			read, wr, err := h.proxyFor(rq.Context(), res.Owner)
			if err != nil {
				return nil, err
			}
			if write {
				return HrefElement(cs(local), wr...), nil
			}
			return HrefElement(cs(local), read...), nil
		}}
	}
	return []*Property{
		forProp("calendar-proxy-read-for", false),
		forProp("calendar-proxy-write-for", true),
	}
}

// proxyPatch answers PROPPATCH on a proxy group: the owner sets its
// DAV:group-member-set, which replaces the delegates of that level. A
// delegate named there who was in the other group moves to this one (a
// principal is in at most one of them); one dropped from it loses the
// delegation, keeping no free-busy grant of it. Every other property is
// protected. All of it or none: a member that names nobody fails the
// patch with 409 and changes nothing.
func (h *Handler) proxyPatch(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) error {
	if res.Owner.ID != rq.User.ID {
		return needPrivilege(res.Href, NewElement(Name("write-properties")), "dav: only the owner sets their delegates")
	}
	body, err := ReadXML(w, r, h.Limits)
	if err != nil {
		return err
	}
	if body == nil || body.Name != Name("propertyupdate") {
		return &Error{Status: http.StatusBadRequest, Message: "dav: PROPPATCH body is not DAV:propertyupdate"}
	}
	ctx := rq.Context()
	var members []sharee
	set := false
	var protected []*Element
	var bad *PropStat
	for _, instr := range body.Children {
		remove := instr.Name == Name("remove")
		if !remove && instr.Name != Name("set") {
			continue
		}
		for _, prop := range instr.ChildrenNamed(Name("prop")) {
			for _, el := range prop.Children {
				if el.Name != Name("group-member-set") {
					protected = append(protected, NewElement(el.Name))
					continue
				}
				set, members = true, nil
				if remove {
					continue
				}
				for _, href := range el.ChildrenNamed(Name("href")) {
					who, err := h.findSharee(ctx, strings.TrimSpace(href.Text))
					switch {
					case errors.Is(err, store.ErrNotFound) || err == nil && who.user != nil && who.user.ID == res.Owner.ID:
						bad = &PropStat{Status: http.StatusConflict, Props: []*Element{NewElement(el.Name)},
							Error: NewElement(Name("recognized-principal"))}
					case err != nil:
						return err
					default:
						members = append(members, who)
					}
				}
			}
		}
	}
	resp := &Response{Href: res.Href}
	switch {
	case len(protected) > 0 || bad != nil:
		var failed []PropStat
		dep := PropStat{Status: http.StatusFailedDependency}
		if len(protected) > 0 {
			failed = append(failed, PropStat{Status: http.StatusForbidden, Props: protected,
				Error: NewElement(Name("cannot-modify-protected-property"))})
		}
		if bad != nil {
			failed = append(failed, *bad)
		} else if set {
			dep.Props = append(dep.Props, NewElement(Name("group-member-set")))
		}
		if len(dep.Props) > 0 {
			failed = append(failed, dep)
		}
		resp.PropStats = failed
	default:
		if set {
			if err := h.setProxyMembers(ctx, res.Owner, proxyAccess(res.Name), members); err != nil {
				return err
			}
			resp.PropStats = []PropStat{{Status: http.StatusOK, Props: []*Element{NewElement(Name("group-member-set"))}}}
		}
	}
	ms := NewMultiStatus(w)
	ms.Add(resp)
	return ms.Close("")
}

// setProxyMembers makes members exactly the owner's delegates of level a.
func (h *Handler) setProxyMembers(ctx context.Context, owner *store.User, a store.GrantAccess, members []sharee) error {
	grants, err := h.Store.ListGrants(ctx, owner.ID)
	if err != nil {
		return err
	}
	keep := map[[2]int64]bool{}
	for _, m := range members {
		g := &store.Grant{OwnerID: owner.ID, Access: a}
		if m.user != nil {
			g.UserID = m.user.ID
		} else {
			g.GroupID = m.group.ID
		}
		keep[[2]int64{g.UserID, g.GroupID}] = true
		if err := h.Store.PutGrant(ctx, g); err != nil {
			return err
		}
	}
	for _, g := range grants {
		if g.Access == a && !keep[[2]int64{g.UserID, g.GroupID}] {
			if err := h.Store.DeleteGrant(ctx, owner.ID, g.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	return nil
}

// needPrivilege is the 403 DAV:need-privileges (RFC 3744 §7.1.1) for one
// privilege on one resource.
func needPrivilege(href string, privilege *Element, message string) *Error {
	cond := NewElement(Name("need-privileges"), NewElement(Name("resource"),
		TextElement(Name("href"), href), NewElement(Name("privilege"), privilege)))
	return &Error{Status: http.StatusForbidden, Condition: cond, Message: message}
}
