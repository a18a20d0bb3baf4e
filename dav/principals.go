package dav

import (
	"context"
	"net/http"
	"slices"

	"github.com/davenport-dav/davenport/store"
)

// Principals (RFC 3744 §2, §4). Every user has a principal at
// /dav/principals/{user}/ and every group one at
// /dav/principals/_groups/{group}/. The principals are a directory: any
// signed-in user may read the directory entry of any principal, because
// finding people and groups is what attendee lookup, delegation and
// sharing dialogs do. An entry is the properties marked Directory (names,
// addresses, the principal URL, the kind of calendar user); every other
// property of another user's principal (their homes, inbox, outbox,
// notifications, quota) is answered as not found, and nothing of another
// principal can be changed. Who is in a group is known to its members: a
// group's member set is readable by its members only, and the group
// membership of another user lists only the groups the reader shares with
// them. The principal collection lists only the reader's own principal
// (Depth 1); the rest of the directory is found by search
// (principal_reports.go), whose answers are bounded.

// principalURL is the URL of a user or group principal.
func principalURL(res *Resource) (string, bool) {
	switch res.Type {
	case ResPrincipal:
		return PrincipalHref(res.Owner.Username), true
	case ResGroupPrincipal:
		return GroupHref(res.Group.Name), true
	case ResProxy:
		return res.Href, true
	}
	return "", false
}

func groupDisplayName(g *store.Group) string {
	if g.DisplayName != "" {
		return g.DisplayName
	}
	return g.Name
}

// directoryEntry reports whether res is seen by the request's user as a
// directory entry only: another user's principal, or a group's.
func directoryEntry(rq *Request, res *Resource) bool {
	switch res.Type {
	case ResGroupPrincipal:
		return true
	case ResPrincipal:
		return res.Owner.ID != rq.User.ID && res.Delegate == ""
	}
	return false
}

// userPrincipalResource is the principal resource of u as user sees it:
// their own, or a directory entry they may read.
func userPrincipalResource(user, u *store.User) *Resource {
	res := &Resource{Type: ResPrincipal, Href: PrincipalHref(u.Username), Owner: u}
	if u.ID != user.ID {
		res.Privileges = PrivRead
	}
	return res
}

func groupPrincipalResource(g *store.Group) *Resource {
	return &Resource{Type: ResGroupPrincipal, Href: GroupHref(g.Name), Group: g, Privileges: PrivRead}
}

// userPrincipal resolves another user's principal for user.
func (h *Handler) userPrincipal(ctx context.Context, user *store.User, name string) (*Resource, error) {
	u, err := h.Store.GetUser(ctx, name)
	if err != nil {
		return nil, err
	}
	return userPrincipalResource(user, u), nil
}

// groupPrincipal resolves a group principal.
func (h *Handler) groupPrincipal(ctx context.Context, name string) (*Resource, error) {
	g, err := h.Store.GetGroup(ctx, name)
	if err != nil {
		return nil, err
	}
	return groupPrincipalResource(g), nil
}

// userGroups are the groups of the request's user, read once.
func (rq *Request) userGroups() ([]store.Group, error) {
	if !rq.groupsRead {
		groups, err := rq.store.ListUserGroups(rq.Context(), rq.User.ID)
		if err != nil {
			return nil, err
		}
		rq.groups, rq.groupsRead = groups, true
	}
	return rq.groups, nil
}

// inGroup reports whether the request's user is a member of group id.
func (rq *Request) inGroup(id int64) (bool, error) {
	groups, err := rq.userGroups()
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(groups, func(g store.Group) bool { return g.ID == id }), nil
}

// groupMembership is DAV:group-membership (RFC 3744 §4.4): the groups the
// principal is a direct member of; of another user, those the reader is
// in too. Groups are not members of groups.
func (h *Handler) groupMembership(rq *Request, res *Resource) (*Element, error) {
	e := NewElement(Name("group-membership"))
	switch res.Type {
	case ResGroupPrincipal:
		return e, nil
	case ResPrincipal:
	default:
		return nil, ErrNoProperty
	}
	var groups []store.Group
	var err error
	if res.Owner.ID == rq.User.ID {
		groups, err = rq.userGroups()
	} else {
		groups, err = h.Store.ListUserGroups(rq.Context(), res.Owner.ID)
	}
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if res.Owner.ID != rq.User.ID {
			if in, err := rq.inGroup(g.ID); err != nil {
				return nil, err
			} else if !in {
				continue
			}
		}
		e.Children = append(e.Children, TextElement(Name("href"), GroupHref(g.Name)))
	}
	if res.Owner.ID != rq.User.ID && res.Delegate == "" {
		return e, nil
	}
	// And the proxy groups of those the principal is a delegate of
	// (CalendarServer caldav-proxy §5.2), to the principal and its delegates.
	read, write, err := h.proxyFor(rq.Context(), res.Owner)
	if err != nil {
		return nil, err
	}
	for _, p := range read {
		e.Children = append(e.Children, TextElement(Name("href"), p+proxyRead+"/"))
	}
	for _, p := range write {
		e.Children = append(e.Children, TextElement(Name("href"), p+proxyWrite+"/"))
	}
	return e, nil
}

// principalProperties are the RFC 3744 principal properties beyond the
// core ones: a group's members and every principal's other addresses.
func (h *Handler) principalProperties() []*Property {
	return []*Property{
		{Name: Name("group-member-set"), Directory: true, Get: func(rq *Request, res *Resource) (*Element, error) {
			// RFC 3744 §4.3: the direct members of a group, to its
			// members only; of a proxy group (CalendarServer
			// caldav-proxy §5.3.1), its delegates.
			switch res.Type {
			case ResGroupPrincipal:
			case ResProxy:
				members, err := h.proxyMembers(rq, res.Owner, res.Name)
				if err != nil {
					return nil, err
				}
				return HrefElement(Name("group-member-set"), members...), nil
			default:
				return nil, ErrNoProperty
			}
			in, err := rq.inGroup(res.Group.ID)
			if err != nil {
				return nil, err
			}
			if !in {
				return nil, &Error{Status: http.StatusForbidden, Condition: NewElement(Name("need-privileges")),
					Message: "dav: the members of a group are known to its members"}
			}
			members, err := h.Store.ListGroupMembers(rq.Context(), res.Group.ID)
			if err != nil {
				return nil, err
			}
			e := NewElement(Name("group-member-set"))
			for _, u := range members {
				e.Children = append(e.Children, TextElement(Name("href"), PrincipalHref(u.Username)))
			}
			return e, nil
		}},
		{Name: Name("alternate-URI-set"), Directory: true, Get: func(rq *Request, res *Resource) (*Element, error) {
			// RFC 3744 §4.1: other URIs of the principal; a user's
			// email address.
			e := NewElement(Name("alternate-URI-set"))
			switch res.Type {
			case ResGroupPrincipal:
				return e, nil
			case ResPrincipal:
				if res.Owner.Email != "" {
					e.Children = append(e.Children, TextElement(Name("href"), "mailto:"+res.Owner.Email))
				}
				return e, nil
			}
			return nil, ErrNoProperty
		}},
	}
}
