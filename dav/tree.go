package dav

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// Trees: the collections of a Nester kind (plain WebDAV folders) nest to
// any depth. Each folder is a store collection named by its path below the
// home, segments joined by "/"; the home is the folder named "". A request
// path below a home names a folder when one has that path, else a member
// of the folder one segment up. Copying, moving and deleting a folder
// works on its whole subtree in one store transaction (RFC 4918 §9.6.1,
// §9.8.3, §9.9.2), so a tree operation succeeds or fails as a whole and
// never answers a 207 of partial failures.

// treePath is the store path of a tree resource: a collection's name, or a
// member's collection name and its own name joined by "/".
func treePath(res *Resource) string {
	if res.Type == ResCollection {
		if res.Collection != nil {
			return res.Collection.Name
		}
		return res.Name
	}
	if res.Collection == nil || res.Collection.Name == "" {
		return res.Name
	}
	return res.Collection.Name + "/" + res.Name
}

// splitTreePath splits a store path into its parent folder and last
// segment.
func splitTreePath(p string) (parent, name string) {
	i := strings.LastIndex(p, "/")
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// within reports whether path p is q or below it.
func within(p, q string) bool {
	return p == q || q == "" || strings.HasPrefix(p, q+"/")
}

// resolveTree resolves a path in a home of a Nester kind: a folder, or a
// member (existing or not) of the folder above it. A member whose folder
// does not exist is errParentMissing.
func (h *Handler) resolveTree(ctx context.Context, user *store.User, t target, withBody bool) (*Resource, error) {
	if t.username != user.Username {
		return nil, errForbidden
	}
	res := &Resource{Type: ResCollection, Kind: t.kind, Owner: user, Name: t.collection,
		Href: CollectionHref(t.kind, user.Username, t.collection)}
	c, err := h.Store.GetCollection(ctx, user.ID, t.kind.StoreKind(), t.collection)
	if errors.Is(err, store.ErrNotFound) && t.collection == "" {
		c, err = h.makeHome(ctx, user, t.kind)
	}
	if err == nil {
		res.Collection, res.Privileges = c, ownerPrivs
		return res, nil
	}
	if !errors.Is(err, store.ErrNotFound) || t.collection == "" {
		return res, err
	}
	parent, name := splitTreePath(t.collection)
	res.Type, res.Name = ResObject, name
	res.Href = CollectionHref(t.kind, user.Username, parent) + escapeSegment(name)
	pc, err := h.Store.GetCollection(ctx, user.ID, t.kind.StoreKind(), parent)
	if errors.Is(err, store.ErrNotFound) {
		return res, errParentMissing
	}
	if err != nil {
		return res, err
	}
	res.Collection, res.Privileges = pc, ownerPrivs
	return h.lookupObject(ctx, res, withBody)
}

// makeHome makes the user's home of kind k, for users who have none: made
// before the kind existed and restored from a backup of that time, or made
// without the server's initial collections.
func (h *Handler) makeHome(ctx context.Context, user *store.User, k Kind) (*store.Collection, error) {
	c := &store.Collection{OwnerID: user.ID, Kind: k.StoreKind()}
	err := h.Store.CreateCollection(ctx, c)
	if errors.Is(err, store.ErrConflict) { // made meanwhile by another request
		return h.Store.GetCollection(ctx, user.ID, k.StoreKind(), "")
	}
	return c, err
}

// asNewCollection turns the resolution of a missing tree member into the
// collection MKCOL makes there.
func asNewCollection(res *Resource) {
	res.Name = treePath(res)
	res.Type, res.Collection, res.Object = ResCollection, nil, nil
	res.Href += "/"
}

// childCollections lists the folders directly below folder res, for
// PROPFIND Depth 1, before its objects.
func (h *Handler) childCollections(rq *Request, res *Resource) (cursor, error) {
	cols, err := h.Store.ListCollections(rq.Context(), res.Owner.ID, res.Kind.StoreKind())
	if err != nil {
		return nil, err
	}
	var ms []member
	for i := range cols {
		c := &cols[i]
		if parent, _ := splitTreePath(c.Name); c.Name == "" || parent != res.Collection.Name {
			continue
		}
		ms = append(ms, member{res: &Resource{Type: ResCollection, Href: CollectionHref(res.Kind, res.Owner.Username, c.Name),
			Owner: res.Owner, Kind: res.Kind, Collection: c, Privileges: res.Privileges}})
	}
	return sliceCursor(ms), nil
}

// concatCursors yields a's members, then b's.
func concatCursors(a, b cursor) cursor {
	return func() (member, bool, error) {
		if a != nil {
			m, ok, err := a()
			if ok || err != nil {
				return m, ok, err
			}
			a = nil
		}
		return b()
	}
}

// deleteTree deletes a folder with everything below it (RFC 4918 §9.6.1).
// The home itself stays.
func (h *Handler) deleteTree(rq *Request, res *Resource) error {
	if res.Collection.Name == "" {
		return &Error{Status: http.StatusForbidden, Condition: NewElement(Name("need-privileges")), Message: "dav: the files home cannot be deleted"}
	}
	return h.Store.DeleteCollectionTree(rq.Context(), res.Owner.ID, res.Kind.StoreKind(), res.Collection.Name)
}

// checkQuota refuses a write that would take the user's storage use past
// the quota by grow bytes: 507 with DAV:quota-not-exceeded (RFC 4331 §6).
func (h *Handler) checkQuota(rq *Request, grow int64) error {
	if rq.quota <= 0 || grow <= 0 {
		return nil
	}
	used, err := rq.UsedBytes()
	if err != nil {
		return err
	}
	if used+grow > rq.quota {
		return Precondition(http.StatusInsufficientStorage, NSDAV, "quota-not-exceeded", "dav: the write would exceed the storage quota")
	}
	return nil
}

// treeSize is the size of the members of folder p and those below it.
func (h *Handler) treeSize(rq *Request, res *Resource, p string) (int64, error) {
	cols, err := h.Store.ListCollections(rq.Context(), res.Owner.ID, res.Kind.StoreKind())
	if err != nil {
		return 0, err
	}
	totals, err := h.Store.ListCollectionTotals(rq.Context(), res.Owner.ID)
	if err != nil {
		return 0, err
	}
	in := map[int64]bool{}
	for _, c := range cols {
		if within(c.Name, p) && (p != "" || c.Name == "") {
			in[c.ID] = true
		}
	}
	var n int64
	for _, t := range totals {
		if in[t.ID] {
			n += t.UsedBytes
		}
	}
	return n, nil
}

// copyMoveTree answers COPY and MOVE of a folder or file of a Nester kind
// (RFC 4918 §9.8, §9.9). The destination is in the same user's home of
// the kind; an existing one is replaced with Overwrite: T (deleted first,
// §9.8.4, §9.9.3; a folder replacing a folder in the same transaction)
// and fails the request with Overwrite: F (412). A
// destination whose folder is missing is 409; a folder copied or moved
// into itself is 403. Depth on a folder is "infinity" (the default) or, for
// COPY only, "0": the folder and its properties without members (§9.8.3).
func (h *Handler) copyMoveTree(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) error {
	t, escaped, err := h.destination(r)
	if err != nil {
		return err
	}
	if t.kind != res.Kind {
		return &Error{Status: http.StatusForbidden, Message: "dav: Destination is not in a files home"}
	}
	deep := true
	if res.Type == ResCollection {
		switch d := strings.TrimSpace(r.Header.Get("Depth")); {
		case d == "" || strings.EqualFold(d, "infinity"):
		case d == "0" && r.Method == "COPY":
			deep = false
		default:
			return &Error{Status: http.StatusBadRequest, Message: "dav: bad Depth for " + r.Method + " of a collection"}
		}
	}
	dst, derr := h.resolveDestination(rq, t, escaped)
	switch {
	case errors.Is(derr, errParentMissing):
		return &Error{Status: http.StatusConflict, Message: "dav: Destination collection missing"}
	case derr != nil && !errors.Is(derr, store.ErrNotFound):
		return derr
	}
	from, to := treePath(res), treePath(dst)
	switch {
	case from == to:
		return &Error{Status: http.StatusForbidden, Message: "dav: source and destination are the same"}
	case res.Type == ResCollection && within(to, from):
		return &Error{Status: http.StatusForbidden, Message: "dav: a collection cannot be copied or moved into itself"}
	case to == "" || from == "" && r.Method == "MOVE":
		return &Error{Status: http.StatusForbidden, Message: "dav: the files home cannot be replaced or moved"}
	}
	var ifMatch string
	if res.Type == ResObject {
		if ifMatch, _, err = conditions(r, res.Kind, res.Object); err != nil {
			return err
		}
	} else if r.Header.Get("If-Match") != "" {
		return store.ErrPreconditionFailed // a folder has no entity tag
	}
	exists := derr == nil
	overwrite := !strings.EqualFold(strings.TrimSpace(r.Header.Get("Overwrite")), "F")
	if exists && !overwrite {
		return store.ErrPreconditionFailed
	}
	if exists && dst.Type == ResCollection && within(from, to) {
		// Overwriting a folder deletes what it holds (RFC 4918 §9.8.4,
		// §9.9.3), the source among it: nothing would be left to copy or
		// move.
		return &Error{Status: http.StatusForbidden, Message: "dav: a resource cannot replace a collection that holds it"}
	}
	if r.Method == "COPY" {
		size := int64(0)
		if res.Type == ResObject {
			size = res.Object.Size
		} else if deep {
			if size, err = h.treeSize(rq, res, from); err != nil {
				return err
			}
		}
		if dst.Type == ResObject && dst.Object != nil {
			size -= dst.Object.Size
		}
		if err := h.checkQuota(rq, size); err != nil {
			return err
		}
	}
	sk := res.Kind.StoreKind()
	if exists && res.Type == ResCollection && dst.Type == ResCollection {
		// A folder onto a folder: the destination's deletion and the copy
		// or move are one transaction, so a failure midway leaves the
		// destination as it was (RFC 4918 §9.8.4, §9.9.3 describe the
		// overwrite as a DELETE followed by the operation; a half-done
		// one would lose the destination and keep nothing in its place).
		err := h.Store.ReplaceCollectionTree(rq.Context(), res.Owner.ID, sk, from, to, store.TreeOptions{Move: r.Method == "MOVE", Deep: deep})
		if err != nil {
			return err
		}
		written(w, false, CollectionHref(res.Kind, res.Owner.Username, to))
		return nil
	}
	if exists && r.Method == "MOVE" && res.Type == ResObject && dst.Type == ResObject {
		// A file onto a file: the store replaces it in the move's own
		// transaction.
		_, err := h.Store.MoveObject(rq.Context(), res.Collection.ID, res.Object.Name, dst.Collection.ID, dst.Name,
			store.MoveObjectOptions{IfMatch: ifMatch, Overwrite: true, Actor: rq.actor()})
		if err != nil {
			return err
		}
		written(w, false, dst.Href)
		return nil
	}
	if exists {
		if dst.Type == ResCollection {
			err = h.deleteTree(rq, dst)
		} else {
			err = h.Store.DeleteObject(rq.Context(), dst.Collection.ID, dst.Name, store.DeleteObjectOptions{Actor: rq.actor()})
		}
		if err != nil {
			return err
		}
	}
	href := dst.Href
	if res.Type == ResCollection {
		if r.Method == "MOVE" {
			err = h.Store.MoveCollectionTree(rq.Context(), res.Owner.ID, sk, from, to)
		} else {
			err = h.Store.CopyCollectionTree(rq.Context(), res.Owner.ID, sk, from, to, deep)
		}
		href = CollectionHref(res.Kind, res.Owner.Username, to)
	} else {
		dcol := dst.Collection
		if dst.Type == ResCollection {
			// The folder replaced above: the file goes where it was.
			parent, name := splitTreePath(to)
			if dcol, err = h.Store.GetCollection(rq.Context(), res.Owner.ID, sk, parent); err != nil {
				return err
			}
			dst.Name = name
			href = CollectionHref(res.Kind, res.Owner.Username, parent) + escapeSegment(name)
		}
		err = h.copyMoveFile(rq, r.Method, res, ifMatch, dcol, dst.Name)
	}
	if err != nil {
		return err
	}
	written(w, !exists, href)
	return nil
}

// putObject stores o, the PUT of res. A file's UID is the store's own,
// not the client's: when another request made or replaced the file since
// res was resolved, the write goes over it with that file's UID, as a PUT
// without conditions does; its conditions, if any, still hold.
func (h *Handler) putObject(rq *Request, res *Resource, o *store.Object, opts store.PutObjectOptions) (bool, error) {
	created, err := h.Store.PutObject(rq.Context(), o, opts)
	if !nests(res.Kind) || !errors.Is(err, store.ErrUIDChanged) {
		return created, err
	}
	cur, gerr := h.Store.GetObjects(rq.Context(), o.CollectionID, []string{o.Name}, false)
	if gerr != nil || len(cur) == 0 {
		return created, err
	}
	o.UID = cur[0].UID
	return h.Store.PutObject(rq.Context(), o, opts)
}

// copyMoveFile copies or moves file res to name in folder dcol, where
// nothing is; ifMatch, when set, is the ETag the file must still have.
func (h *Handler) copyMoveFile(rq *Request, method string, res *Resource, ifMatch string, dcol *store.Collection, name string) error {
	ctx := rq.Context()
	if method == "MOVE" {
		// The object keeps its ID, so its dead properties go with it.
		_, err := h.Store.MoveObject(ctx, res.Collection.ID, res.Object.Name, dcol.ID, name, store.MoveObjectOptions{IfMatch: ifMatch, Actor: rq.actor()})
		return err
	}
	o, err := h.Store.GetObject(ctx, res.Collection.ID, res.Object.Name)
	if err != nil {
		return err
	}
	if ifMatch != "" && o.ETag != ifMatch {
		return store.ErrPreconditionFailed
	}
	props, err := h.Store.ListObjectDeadProps(ctx, o.ID)
	if err != nil {
		return err
	}
	o.CollectionID, o.Name = dcol.ID, name
	if o.UID, err = NewUID(); err != nil {
		return err
	}
	if _, err := h.Store.PutObject(ctx, o, store.PutObjectOptions{IfNoneMatch: true, Actor: rq.actor()}); err != nil {
		return err
	}
	if len(props) > 0 {
		if err := h.Store.UpdateObjectDeadProps(ctx, dcol.ID, name, props); err != nil {
			// The copy is whole or not at all.
			_ = h.Store.DeleteObject(ctx, dcol.ID, name, store.DeleteObjectOptions{Actor: rq.actor()})
			return err
		}
	}
	return nil
}

// objectDeadProps returns an object's dead properties, for PROPFIND.
func (rq *Request) objectDeadProps(o *store.Object) (map[xml.Name]string, error) {
	props, err := rq.store.ListObjectDeadProps(rq.Context(), o.ID)
	if err != nil {
		return nil, err
	}
	return deadPropMap(props), nil
}

// deadPropMap indexes dead properties by name.
func deadPropMap(props []store.DeadProp) map[xml.Name]string {
	m := make(map[xml.Name]string, len(props))
	for _, p := range props {
		m[xml.Name{Space: p.Namespace, Local: p.Name}] = p.XML
	}
	return m
}

// NewUID is a fresh random UID for an object whose kind has none of its
// own (files): unique, so no two objects of a collection ever clash.
func NewUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}
