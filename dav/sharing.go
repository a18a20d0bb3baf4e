package dav

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// CalendarServer sharing (Apple's caldav-sharing, also served for address
// books): the owner POSTs CS:share to a collection to invite users or
// groups and to stop sharing; the collection's CS:invite property lists the
// sharees and their answers; a sharee's notification collection holds a
// CS:invite-notification per invitation; the sharee POSTs CS:invite-reply
// to their home to accept (the collection then appears in it) or decline.
// Shares are the store's (store.Share): the CLI and web UI see the same.

func cs(local string) xml.Name { return xml.Name{Space: NSCS, Local: local} }

const notificationsSeg = "notifications"

// NotificationsHref is the URL of username's notification collection.
func NotificationsHref(username string) string {
	return Prefix + notificationsSeg + "/" + escapeSegment(username) + "/"
}

// post answers POST: CS:share on a collection, CS:invite-reply on a home.
func (h *Handler) post(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) error {
	if _, ok := res.Kind.(Poster); ok && res.Type == ResCollection {
		return h.postToKind(rq, w, r, res)
	}
	body, err := ReadXML(w, r, h.Limits)
	if err != nil {
		return err
	}
	switch {
	case body != nil && body.Name == pushName("push-register") && res.Type == ResCollection:
		return h.pushRegister(rq, w, res, body)
	case body != nil && body.Name == cs("share") && res.Type == ResCollection:
		if err := checkPrivilege(res, PrivAll); err != nil {
			return err
		}
		return h.csShare(rq, w, res, body)
	case body != nil && body.Name == Name("share-resource") && res.Type == ResCollection:
		if err := checkPrivilege(res, PrivAll); err != nil {
			return err
		}
		return h.shareResource(rq, w, res, body)
	case body != nil && body.Name == cs("invite-reply") && res.Type == ResHome:
		return h.csInviteReply(rq, w, res, body)
	}
	return &Error{Status: http.StatusBadRequest, Message: "dav: POST body is neither CS:share or DAV:share-resource on a collection nor CS:invite-reply on a home"}
}

// sharee is a user or group named in a CS:share.
type sharee struct {
	user  *store.User
	group *store.Group
}

// findSharee resolves an href of CS:set or CS:remove: mailto: an address of
// a user, a user's principal URL, or a group's.
func (h *Handler) findSharee(ctx context.Context, href string) (sharee, error) {
	href = strings.TrimSpace(href)
	if len(href) > 7 && strings.EqualFold(href[:7], "mailto:") {
		u, err := h.Store.GetUserByEmail(ctx, href[7:])
		return sharee{user: u}, err
	}
	u, err := url.Parse(href)
	if err != nil {
		return sharee{}, store.ErrNotFound
	}
	p := u.EscapedPath()
	if rest, ok := strings.CutPrefix(p, Prefix+principalsSeg+"/"+groupsSeg+"/"); ok {
		name, err := url.PathUnescape(strings.TrimSuffix(rest, "/"))
		if err != nil || name == "" || strings.Contains(name, "/") {
			return sharee{}, store.ErrNotFound
		}
		g, err := h.Store.GetGroup(ctx, name)
		return sharee{group: g}, err
	}
	t, err := h.parsePath(p)
	if err != nil || t.typ != ResPrincipal {
		return sharee{}, store.ErrNotFound
	}
	user, err := h.Store.GetUser(ctx, t.username)
	return sharee{user: user}, err
}

// shareChange is one sharee's part of a share request: whom, and the
// access to give or its removal.
type shareChange struct {
	who    sharee
	remove bool
	access store.Access
}

// newShareChange resolves one sharee of a share request. An href naming
// nobody, or the owner, is CS:valid-sharee (the draft's DAV:sharing has no
// condition of its own for it).
func (h *Handler) newShareChange(ctx context.Context, res *Resource, href string, remove bool, access store.Access) (shareChange, error) {
	who, err := h.findSharee(ctx, href)
	if errors.Is(err, store.ErrNotFound) {
		return shareChange{}, &Error{Status: http.StatusForbidden, Condition: NewElement(cs("valid-sharee")), Message: "dav: no such sharee " + href}
	}
	if err != nil {
		return shareChange{}, err
	}
	if who.user != nil && who.user.ID == res.Owner.ID {
		return shareChange{}, &Error{Status: http.StatusForbidden, Condition: NewElement(cs("valid-sharee")), Message: "dav: sharing with the owner"}
	}
	return shareChange{who: who, remove: remove, access: access}, nil
}

// csShare applies a CS:share: every CS:set invites (or changes the access
// of) a sharee, every CS:remove stops sharing with one.
func (h *Handler) csShare(rq *Request, w http.ResponseWriter, res *Resource, body *Element) error {
	var entries []*Element
	for _, el := range body.Children {
		if el.Name == cs("set") || el.Name == cs("remove") {
			entries = append(entries, el)
		}
	}
	return h.share(rq, w, res, entries, func(el *Element) (string, bool, store.Access, error) {
		href := el.Child(Name("href"))
		if href == nil {
			return "", false, "", &Error{Status: http.StatusBadRequest, Message: "dav: CS:share entry without DAV:href"}
		}
		access := store.AccessRead
		if el.Child(cs("read-write")) != nil {
			access = store.AccessReadWrite
		}
		return href.Text, el.Name == cs("remove"), access, nil
	})
}

// shareResource applies a DAV:share-resource (draft-pot-webdav-resource-
// sharing §4.4) to the same shares as CS:share: each DAV:sharee names a
// principal or mailto: address and a DAV:share-access, read or read-write
// to share, no-access to stop.
func (h *Handler) shareResource(rq *Request, w http.ResponseWriter, res *Resource, body *Element) error {
	return h.share(rq, w, res, body.ChildrenNamed(Name("sharee")), func(el *Element) (string, bool, store.Access, error) {
		href, sa := el.Child(Name("href")), el.Child(Name("share-access"))
		if href == nil || sa == nil || len(sa.Children) != 1 {
			return "", false, "", &Error{Status: http.StatusBadRequest, Message: "dav: DAV:sharee needs DAV:href and one DAV:share-access"}
		}
		switch sa.Children[0].Name {
		case Name("read"):
			return href.Text, false, store.AccessRead, nil
		case Name("read-write"):
			return href.Text, false, store.AccessReadWrite, nil
		case Name("no-access"):
			return href.Text, true, "", nil
		}
		return "", false, "", &Error{Status: http.StatusBadRequest, Message: "dav: DAV:share-access is read, read-write or no-access"}
	})
}

// share applies a share request whose sharee entries entry reads (the
// href, whether sharing stops, the access given). An entry that is
// malformed or names nobody fails the whole request, changing nothing.
func (h *Handler) share(rq *Request, w http.ResponseWriter, res *Resource, entries []*Element,
	entry func(*Element) (href string, remove bool, access store.Access, err error)) error {
	changes := make([]shareChange, 0, len(entries))
	for _, el := range entries {
		href, remove, access, err := entry(el)
		if err != nil {
			return err
		}
		c, err := h.newShareChange(rq.Context(), res, href, remove, access)
		if err != nil {
			return err
		}
		changes = append(changes, c)
	}
	if err := h.applyShares(rq.Context(), res, changes); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// applyShares makes the changes of a share request to res's shares.
func (h *Handler) applyShares(ctx context.Context, res *Resource, changes []shareChange) error {
	existing, err := h.Store.ListShares(ctx, res.Collection.ID)
	if err != nil {
		return err
	}
	find := func(who sharee) *store.Share {
		for i := range existing {
			sh := &existing[i]
			if who.user != nil && sh.UserID == who.user.ID || who.group != nil && sh.GroupID == who.group.ID {
				return sh
			}
		}
		return nil
	}
	for _, c := range changes {
		old := find(c.who)
		if c.remove {
			if old != nil {
				if err := h.Store.DeleteShare(ctx, res.Collection.ID, old.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			continue
		}
		sh := &store.Share{CollectionID: res.Collection.ID, Access: c.access}
		if c.who.user != nil {
			sh.UserID = c.who.user.ID
			if old != nil {
				sh.Status = old.Status // a change of access is not a new invitation
			}
		} else {
			sh.GroupID = c.who.group.ID
		}
		if err := h.Store.PutShare(ctx, sh); err != nil {
			return err
		}
	}
	// Each share change queued its WebDAV-Push property-update in its
	// own transaction (the share list, CS:invite, is a property).
	return nil
}

// invitationUID is the CS:uid of the notification of share id, which the
// sharee's CS:in-reply-to names.
func invitationUID(id int64) string { return "share-" + strconv.FormatInt(id, 10) }

// csInviteReply records a sharee's answer to an invitation, named by
// CS:in-reply-to or by the collection's CS:hosturl. An acceptance answers
// with CS:shared-as: where the collection now is in the sharee's home.
func (h *Handler) csInviteReply(rq *Request, w http.ResponseWriter, res *Resource, body *Element) error {
	accept, decline := body.Child(cs("invite-accepted")) != nil, body.Child(cs("invite-declined")) != nil
	if accept == decline {
		return &Error{Status: http.StatusBadRequest, Message: "dav: CS:invite-reply neither accepts nor declines"}
	}
	invs, err := h.Store.ListInvitations(rq.Context(), rq.User.ID)
	if err != nil {
		return err
	}
	var uid, host string
	if e := body.Child(cs("in-reply-to")); e != nil {
		uid = strings.TrimSpace(e.Text)
	}
	if e := body.Child(cs("hosturl")); e != nil && e.Child(Name("href")) != nil {
		if u, err := url.Parse(strings.TrimSpace(e.Child(Name("href")).Text)); err == nil {
			host = u.EscapedPath()
		}
	}
	var inv *store.Invitation
	for i := range invs {
		in := &invs[i]
		k := h.kindByStoreKind(in.Collection.Kind)
		if uid != "" && uid == invitationUID(in.Share.ID) ||
			uid == "" && k != nil && host != "" && strings.TrimSuffix(host, "/")+"/" == CollectionHref(k, in.Owner, in.Collection.Name) {
			inv = in
		}
	}
	if inv == nil {
		return &Error{Status: http.StatusForbidden, Condition: NewElement(cs("valid-invite")), Message: "dav: no such invitation"}
	}
	status := store.ShareDeclined
	if accept {
		status = store.ShareAccepted
	}
	if err := h.Store.SetShareStatus(rq.Context(), inv.Share.ID, status); err != nil {
		return err
	}
	k := h.kindByStoreKind(inv.Collection.Kind)
	if !accept || k == nil {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, document(NewElement(cs("shared-as"), TextElement(Name("href"), HomeHref(k, rq.User.Username)+sharedSegment(&inv.Collection)+"/"))))
	return nil
}

// notification is one invitation in a sharee's notification collection:
// its resource, whose object's body is the CS:notification document.
func (h *Handler) notification(user *store.User, inv *store.Invitation) *Resource {
	k := h.kindByStoreKind(inv.Collection.Kind)
	sharedType := "calendar"
	if inv.Collection.Kind == store.KindAddressBook {
		sharedType = "addressbook"
	}
	summary := inv.Collection.DisplayName
	if summary == "" {
		summary = inv.Collection.Name
	}
	organizer := inv.OwnerDisplayName
	if organizer == "" {
		organizer = inv.Owner
	}
	hostURL := ""
	if k != nil {
		hostURL = CollectionHref(k, inv.Owner, inv.Collection.Name)
	}
	n := NewElement(cs("invite-notification"),
		TextElement(cs("uid"), invitationUID(inv.Share.ID)),
		TextElement(Name("href"), PrincipalHref(user.Username)),
		inviteStatus(inv.Share.Status),
		accessElement(inv.Share.Access),
		NewElement(cs("hosturl"), TextElement(Name("href"), hostURL)),
		NewElement(cs("organizer"), TextElement(Name("href"), PrincipalHref(inv.Owner)), TextElement(cs("common-name"), organizer)),
		TextElement(cs("summary"), summary))
	n.Attr = []xml.Attr{{Name: xml.Name{Local: "shared-type"}, Value: sharedType}}
	doc := NewElement(cs("notification"), TextElement(cs("dtstamp"), inv.Share.Created.UTC().Format("20060102T150405Z")), n)
	body := []byte(document(doc))
	sum := sha256.Sum256(body)
	name := invitationUID(inv.Share.ID) + ".xml"
	return &Resource{
		Type: ResNotification, Href: NotificationsHref(user.Username) + name, Owner: user, Name: name,
		Object: &store.Object{Name: name, ETag: hex.EncodeToString(sum[:16]), ContentType: "application/xml; charset=utf-8",
			Body: body, Size: int64(len(body)), Created: inv.Share.Created, Updated: inv.Share.Created},
	}
}

// notifications lists the user's invitations that await an answer.
func (h *Handler) notifications(rq *Request) ([]*Resource, error) {
	invs, err := h.Store.ListInvitations(rq.Context(), rq.User.ID)
	if err != nil {
		return nil, err
	}
	var out []*Resource
	for i := range invs {
		if invs[i].Share.Status == store.SharePending {
			out = append(out, h.notification(rq.User, &invs[i]))
		}
	}
	return out, nil
}

// serveNotifications answers requests to the notification collection and
// its members: PROPFIND and GET; they are the server's to write.
func (h *Handler) serveNotifications(rq *Request, w http.ResponseWriter, r *http.Request, t target) error {
	if t.username != rq.User.Username {
		return errForbidden
	}
	res := &Resource{Type: ResNotifications, Href: NotificationsHref(rq.User.Username), Owner: rq.User}
	if t.typ == ResNotification {
		items, err := h.notifications(rq)
		if err != nil {
			return err
		}
		res = nil
		for _, it := range items {
			if it.Name == t.object {
				res = it
			}
		}
		if res == nil {
			return store.ErrNotFound
		}
	}
	switch r.Method {
	case "PROPFIND":
		return h.propfind(rq, w, r, res)
	case http.MethodGet, http.MethodHead:
		if res.Type != ResNotification {
			return h.notAllowed(w, rq, res, "dav: GET on "+res.Href)
		}
		o := res.Object
		w.Header().Set("ETag", ETag(o))
		w.Header().Set("Content-Type", o.ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(o.Body)))
		if r.Method == http.MethodGet {
			w.Write(o.Body)
		}
		return nil
	}
	return &Error{Status: http.StatusForbidden, Condition: NewElement(Name("need-privileges")), Message: "dav: notifications are read-only"}
}

// sharingProperties are the CalendarServer sharing properties.
func (h *Handler) sharingProperties() []*Property {
	return []*Property{
		{Name: cs("invite"), Get: h.inviteProperty},
		{Name: cs("allowed-sharing-modes"), Get: func(rq *Request, res *Resource) (*Element, error) {
			if res.Type != ResCollection {
				return nil, ErrNoProperty
			}
			e := NewElement(cs("allowed-sharing-modes"))
			if res.Shared == nil {
				e.Children = append(e.Children, NewElement(cs("can-be-shared")))
			}
			return e, nil
		}},
		{Name: cs("notification-URL"), Get: func(rq *Request, res *Resource) (*Element, error) {
			if res.Type != ResPrincipal || res.Owner.ID != rq.User.ID {
				return nil, ErrNoProperty
			}
			return HrefElement(cs("notification-URL"), NotificationsHref(res.Owner.Username)), nil
		}},
		{Name: cs("notificationtype"), Get: func(rq *Request, res *Resource) (*Element, error) {
			if res.Type != ResNotification {
				return nil, ErrNoProperty
			}
			return NewElement(cs("notificationtype"), NewElement(cs("invite-notification"))), nil
		}},
	}
}

// invitee is one entry of an invite property: a sharee (or the owner)
// with their access and answer.
type invitee struct {
	href, name string
	access     store.Access
	status     store.ShareStatus
	owner      bool
}

// invitees lists who a collection is shared with as rq's user may see it:
// to the owner the owner and every sharee, to a sharee the owner and
// themselves. ok is false where no invite property applies.
func (h *Handler) invitees(rq *Request, res *Resource) (out []invitee, ok bool, err error) {
	if res.Type != ResCollection || !res.Collection.Shared || res.Delegate != "" {
		// Whom a collection is shared with is the owner's business, not
		// their delegates'.
		return nil, false, nil
	}
	if res.Shared != nil {
		return []invitee{
			{href: PrincipalHref(res.Owner.Username), name: res.Shared.Owner, owner: true},
			{href: PrincipalHref(rq.User.Username), name: displayName(rq.User), access: res.Shared.Access, status: store.ShareAccepted},
		}, true, nil
	}
	out = []invitee{{href: PrincipalHref(res.Owner.Username), name: displayName(res.Owner), owner: true}}
	shares, err := rq.sharesOf(res.Collection)
	if err != nil {
		return nil, false, err
	}
	for _, sh := range shares {
		href, name, err := rq.principalOf(sh.UserID, sh.GroupID)
		if err != nil {
			return nil, false, err
		}
		out = append(out, invitee{href: href, name: name, access: sh.Access, status: sh.Status})
	}
	return out, true, nil
}

// inviteProperty is CS:invite: to the owner every sharee with their
// access and answer; to a sharee the organizer and themselves.
func (h *Handler) inviteProperty(rq *Request, res *Resource) (*Element, error) {
	list, ok, err := h.invitees(rq, res)
	if !ok || err != nil {
		return nil, cmp.Or(err, ErrNoProperty)
	}
	e := NewElement(cs("invite"))
	for _, iv := range list {
		switch {
		case iv.owner && res.Shared != nil:
			e.Children = append(e.Children, NewElement(cs("organizer"), TextElement(Name("href"), iv.href), TextElement(cs("common-name"), iv.name)))
		case !iv.owner:
			e.Children = append(e.Children, NewElement(cs("user"), TextElement(Name("href"), iv.href), TextElement(cs("common-name"), iv.name),
				inviteStatus(iv.status), accessElement(iv.access)))
		}
	}
	return e, nil
}

// davInviteProperty is DAV:invite (draft-pot-webdav-resource-sharing
// §5.3.1): the same people as CS:invite, the owner as DAV:shared-owner.
func (h *Handler) davInviteProperty(rq *Request, res *Resource) (*Element, error) {
	list, ok, err := h.invitees(rq, res)
	if !ok || err != nil {
		return nil, cmp.Or(err, ErrNoProperty)
	}
	e := NewElement(Name("invite"))
	for _, iv := range list {
		access := shareAccess(iv.access)
		status := NewElement(Name(inviteStatus(iv.status).Name.Local))
		if iv.owner {
			access, status = NewElement(Name("share-access"), NewElement(Name("shared-owner"))), NewElement(Name("invite-accepted"))
		}
		e.Children = append(e.Children, NewElement(Name("sharee"), TextElement(Name("href"), iv.href),
			NewElement(Name("prop"), TextElement(Name("displayname"), iv.name)), access, status))
	}
	return e, nil
}

// shareAccess is DAV:share-access for a share's access.
func shareAccess(a store.Access) *Element {
	if a == store.AccessReadWrite {
		return NewElement(Name("share-access"), NewElement(Name("read-write")))
	}
	return NewElement(Name("share-access"), NewElement(Name("read")))
}

// resourceSharingProperties are the draft's properties of collections.
func (h *Handler) resourceSharingProperties() []*Property {
	return []*Property{
		{Name: Name("invite"), Get: h.davInviteProperty},
		{Name: Name("share-access"), Get: func(rq *Request, res *Resource) (*Element, error) {
			// §5.2.1: what the user's instance of the collection is.
			if res.Type != ResCollection || res.Delegate != "" || fixed(res.Kind) {
				return nil, ErrNoProperty
			}
			switch {
			case res.Shared != nil:
				return shareAccess(res.Shared.Access), nil
			case res.Collection.Shared:
				return NewElement(Name("share-access"), NewElement(Name("shared-owner"))), nil
			}
			return NewElement(Name("share-access"), NewElement(Name("not-shared"))), nil
		}},
		{Name: Name("sharer-resource-uri"), Get: func(rq *Request, res *Resource) (*Element, error) {
			// §5.2.3: on a sharee's instance, the owner's URL of it.
			if res.Type != ResCollection || res.Shared == nil {
				return nil, ErrNoProperty
			}
			return HrefElement(Name("sharer-resource-uri"), CollectionHref(res.Kind, res.Owner.Username, res.Collection.Name)), nil
		}},
	}
}

func displayName(u *store.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// document is root as a whole XML document, with the usual prefixes
// declared on it.
func document(root *Element) string {
	var b strings.Builder
	name := qualifiedName(root.Name)
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n<" + name + rootNamespaces() + ">")
	for _, c := range root.Children {
		writeElement(&b, c)
	}
	escapeText(&b, root.Text)
	b.WriteString("</" + name + ">\n")
	return b.String()
}

// inviteStatus is the CS element of a share's status.
func inviteStatus(s store.ShareStatus) *Element {
	switch s {
	case store.ShareAccepted:
		return NewElement(cs("invite-accepted"))
	case store.ShareDeclined:
		return NewElement(cs("invite-declined"))
	}
	return NewElement(cs("invite-noresponse"))
}

// accessElement is CS:access for a share's access.
func accessElement(a store.Access) *Element {
	if a == store.AccessReadWrite {
		return NewElement(cs("access"), NewElement(cs("read-write")))
	}
	return NewElement(cs("access"), NewElement(cs("read")))
}
