package dav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

func (h *Handler) get(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) error {
	if res.Type != ResObject {
		if res.Type == ResRoot {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "Davenport CalDAV/CardDAV server. Point your client at this URL.\n")
			return nil
		}
		if ok, err := h.exportCollection(rq, w, r, res); ok {
			return err
		}
		return h.notAllowed(w, rq, res, "dav: GET on "+res.Href)
	}
	o := view(res, res.Object) // resolved with its body
	if s, ok := res.Kind.(Scheduler); ok {
		if tag := s.ScheduleTag(o); tag != "" {
			w.Header().Set("Schedule-Tag", `"`+tag+`"`)
		}
	}
	if im := r.Header.Get("If-Match"); im != "" && !etagListMatchesAny(im, currentETags(res.Kind, o)) {
		return store.ErrPreconditionFailed
	}
	// The body may depend on Accept (vCard version conversion), and so
	// does its entity tag: one representation, one strong ETag (RFC 9110
	// §8.8.3).
	body, ctype := o.Body, o.ContentType
	if bc, ok := res.Kind.(BodyConverter); ok {
		var err error
		if body, ctype, err = bc.ObjectBody(rq, o); err != nil {
			return err
		}
	}
	etag := o.ETag
	if !bytes.Equal(body, o.Body) {
		etag = RepresentationETag(o, ctype)
	}
	w.Header().Set("ETag", quoteETag(etag))
	w.Header().Set("Vary", "Accept")
	w.Header().Set("Last-Modified", o.Updated.UTC().Format(http.TimeFormat))
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagListMatches(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return nil
	}
	w.Write(body)
	return nil
}

// etagListMatches evaluates an If-Match / If-None-Match list against the
// current (unquoted) entity tag with the strong comparison (RFC 9110 §8.8.3.2);
// "*" matches any existing representation.
func etagListMatches(header, current string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		if strings.HasPrefix(t, "W/") {
			continue
		}
		if strings.Trim(t, `"`) == current && len(t) >= 2 && t[0] == '"' {
			return true
		}
	}
	return false
}

// conditions turns If-Match / If-None-Match into store options checked
// inside the write transaction. A list that matches the current ETag becomes
// "must still be that ETag", so a concurrent writer cannot slip in between.
//
// The tags of every representation of the current version match (a vCard
// 3.0 read as 4.0 has its own ETag, and a client that read it so writes
// back with that one); the store condition is still the stored ETag, so
// any older version fails.
func conditions(r *http.Request, k Kind, current *store.Object) (ifMatch string, ifNoneMatch bool, err error) {
	var tags []string
	if current != nil {
		tags = currentETags(k, current)
	}
	if im := r.Header.Get("If-Match"); im != "" {
		if current == nil || !etagListMatchesAny(im, tags) {
			return "", false, store.ErrPreconditionFailed
		}
		ifMatch = current.ETag
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if strings.TrimSpace(inm) == "*" {
			ifNoneMatch = true
		} else if current != nil && etagListMatchesAny(inm, tags) {
			return "", false, store.ErrPreconditionFailed
		}
	}
	return ifMatch, ifNoneMatch, nil
}

func (h *Handler) put(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) error {
	if res.Type != ResObject {
		return h.notAllowed(w, rq, res, "dav: PUT on a collection")
	}
	if res.Collection == nil {
		return errParentMissing
	}
	ifMatch, ifNoneMatch, err := conditions(r, res.Kind, res.Object)
	if err != nil {
		return err
	}
	cur, err := h.currentBody(rq, res)
	if err != nil {
		return err
	}
	if err := checkWholeView(res, cur); err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.MaxResourceSize+1))
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Message: "dav: reading PUT body: " + err.Error()}
	}
	if int64(len(body)) > h.MaxResourceSize {
		return Precondition(http.StatusForbidden, res.Kind.Namespace(), "max-resource-size", "dav: body over max-resource-size")
	}
	o, err := res.Kind.PrepareObject(rq, res.Collection, body, r.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	o.CollectionID = res.Collection.ID
	o.Name = res.Name
	if o.Body == nil {
		o.Body = body
	}
	sched, old, err := loadForSchedule(r, res, cur)
	if err != nil {
		return err
	}
	var done *Scheduled
	if sched != nil {
		if done, err = sched.SchedulePut(rq, res, old, o); err != nil {
			return err
		}
	}
	o.Size = int64(len(o.Body))
	o.ETag = computeETag(o.Body)
	grow := o.Size
	if res.Object != nil {
		grow -= res.Object.Size
		if nests(res.Kind) {
			o.UID = res.Object.UID // a file keeps the UID it was given
		}
	}
	if err := h.checkQuota(rq, grow); err != nil {
		return err
	}
	if done != nil && old != nil && ifMatch == "" {
		// The deliveries were decided against old: the write stands only
		// if old is still what is stored (a plain write, which delivers
		// nothing, stays last-writer-wins).
		ifMatch = old.ETag
	}
	created, err := h.putObject(rq, res, o, store.PutObjectOptions{IfMatch: ifMatch, IfNoneMatch: ifNoneMatch, Actor: rq.actor(), Mail: done.mail()})
	if err != nil {
		return h.uidConflict(res, err)
	}
	if err := done.deliver(); err != nil {
		return err
	}
	if sched != nil {
		if tag := sched.ScheduleTag(o); tag != "" {
			w.Header().Set("Schedule-Tag", `"`+tag+`"`)
		}
	}
	// RFC 4791 §5.3.4, RFC 6352 §6.3.2.3: when the stored data is "not
	// equivalent by octet equality to the submitted" resource, "a strong
	// entity tag MUST NOT be returned in the response"; the client reads
	// the ETag of what is stored with GET or PROPFIND.
	if bytes.Equal(o.Body, body) {
		w.Header().Set("ETag", `"`+o.ETag+`"`)
	}
	written(w, created, res.Href)
	return nil
}

// uidConflict maps the store's UID errors for a write to target to the
// kind's no-uid-conflict precondition (RFC 4791 §5.3.2.1, RFC 6352
// §6.3.2.1), naming the resource that holds the UID. Another resource
// holding it is 409: the client can resolve that and retry. An overwrite
// that would change the target's UID is 403, naming the target: it "will
// always fail" (RFC 4791 §1.3), since a resource keeps its UID.
func (h *Handler) uidConflict(target *Resource, err error) error {
	name := xml.Name{Space: target.Kind.Namespace(), Local: "no-uid-conflict"}
	if errors.Is(err, store.ErrUIDChanged) {
		return &Error{Status: http.StatusForbidden, Condition: HrefElement(name, target.Href),
			Message: "dav: the write would change the UID of " + target.Href}
	}
	var uc *store.UIDConflictError
	if !errors.As(err, &uc) {
		return err
	}
	holder := target.collectionHref() + escapeSegment(uc.Name)
	return &Error{Status: http.StatusConflict, Condition: HrefElement(name, holder),
		Message: "dav: " + holder + " already has this UID"}
}

func (h *Handler) delete(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) error {
	switch res.Type {
	case ResObject:
		ifMatch, _, err := conditions(r, res.Kind, res.Object)
		if err != nil {
			return err
		}
		cur, err := h.currentBody(rq, res)
		if err != nil {
			return err
		}
		if err := checkWholeView(res, cur); err != nil {
			return err
		}
		sched, old, err := loadForSchedule(r, res, cur)
		if err != nil {
			return err
		}
		var done *Scheduled
		if sched != nil && old != nil {
			if done, err = sched.ScheduleDelete(rq, res, old); err != nil {
				return err
			}
			if done != nil && ifMatch == "" {
				ifMatch = old.ETag
			}
		}
		if err := h.Store.DeleteObject(rq.Context(), res.Collection.ID, res.Object.Name, store.DeleteObjectOptions{IfMatch: ifMatch, Actor: rq.actor(), Mail: done.mail()}); err != nil {
			return err
		}
		if err := done.deliver(); err != nil {
			return err
		}
	case ResCollection:
		if r.Header.Get("If-Match") != "" {
			// Collections have no entity tag.
			return store.ErrPreconditionFailed
		}
		if nests(res.Kind) {
			if err := h.deleteTree(rq, res); err != nil {
				return err
			}
			break
		}
		if fixed(res.Kind) {
			return &Error{Status: http.StatusForbidden, Condition: NewElement(Name("need-privileges")), Message: "dav: the server's own collection cannot be deleted"}
		}
		if err := h.Store.DeleteCollection(rq.Context(), res.Owner.ID, res.Collection.ID); err != nil {
			return err
		}
	default:
		return &Error{Status: http.StatusForbidden, Message: "dav: DELETE of a home or principal"}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// currentBody reads the object res names with its body, once for the
// checks of a write that need it: what a sharee may see of it
// (checkWholeView) and what scheduling compares against (loadForSchedule).
// It is nil when nothing needs it — no share, and no scheduling kind or an
// object its writer marked Unscheduled — or when the object does not exist
// (any more). An unscheduled object has no Schedule-Tag, so
// If-Schedule-Tag-Match fails on it as on a missing one.
func (h *Handler) currentBody(rq *Request, res *Resource) (*store.Object, error) {
	if res.Object == nil {
		return nil, nil
	}
	if _, sched := res.Kind.(Scheduler); !res.masked() && (!sched || res.Object.Unscheduled) {
		return nil, nil
	}
	o, err := h.Store.GetObject(rq.Context(), res.Collection.ID, res.Object.Name)
	if errors.Is(err, store.ErrNotFound) {
		// Gone since it was resolved: a PUT creates it anew, a DELETE
		// finds nothing, as without these checks.
		return nil, nil
	}
	return o, err
}

// checkWholeView refuses to overwrite or delete cur (the current object with
// its body) when the user of res reads it masked (a sharee and a private or
// confidential event): what they would write back is the masked copy, and
// the owner's details would be lost without the sharee ever having seen them.
func checkWholeView(res *Resource, cur *store.Object) error {
	if res.masked() && cur != nil && view(res, cur) != cur {
		return checkPrivilege(res, PrivAll)
	}
	return nil
}

// copyMove implements COPY and MOVE of objects (RFC 4918 §9.8, §9.9) within
// and between the user's collections of the same kind.
func (h *Handler) copyMove(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) error {
	if nests(res.Kind) {
		return h.copyMoveTree(rq, w, r, res)
	}
	if res.Type == ResCollection && r.Method == "MOVE" {
		if fixed(res.Kind) {
			return &Error{Status: http.StatusForbidden, Condition: NewElement(Name("need-privileges")), Message: "dav: the server's own collection cannot be moved"}
		}
		return h.moveCollection(rq, w, r, res)
	}
	if res.Type != ResObject {
		return &Error{Status: http.StatusForbidden, Message: "dav: only objects can be copied, and objects and collections moved"}
	}
	t, escaped, err := h.destination(r)
	if err != nil {
		return err
	}
	if t.typ != ResObject || t.kind != res.Kind {
		return &Error{Status: http.StatusForbidden, Message: "dav: Destination is not an object of the same kind"}
	}
	dst, err := h.resolveDestination(rq, t, escaped)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		if errors.Is(err, errParentMissing) {
			return &Error{Status: http.StatusConflict, Message: "dav: Destination collection missing"}
		}
		return err
	}
	if err := checkPrivilege(dst, PrivWriteContent); err != nil {
		return err
	}
	overwrite := !strings.EqualFold(strings.TrimSpace(r.Header.Get("Overwrite")), "F")
	if dst.Object != nil && !overwrite {
		return store.ErrPreconditionFailed
	}
	if dst.masked() {
		cur, err := h.currentBody(rq, dst)
		if err != nil {
			return err
		}
		if err := checkWholeView(dst, cur); err != nil {
			return err
		}
	}
	if dst.Collection.ID == res.Collection.ID && dst.Name == res.Object.Name {
		return &Error{Status: http.StatusForbidden, Message: "dav: source and destination are the same"}
	}
	ifMatch, _, err := conditions(r, res.Kind, res.Object)
	if err != nil {
		return err
	}
	o, err := h.Store.GetObject(rq.Context(), res.Collection.ID, res.Object.Name)
	if err != nil {
		return err
	}
	masked := false
	if v := view(res, o); v != o {
		// A sharee copies what they may read; moving would destroy what
		// they may not.
		if r.Method == "MOVE" {
			return checkPrivilege(res, PrivAll)
		}
		o, masked = v, true
	}
	if dst.Collection.ID != res.Collection.ID {
		// RFC 4791 §5.3.2.1: the preconditions of PUT (supported component,
		// size, valid data) hold for "the resource ... targeted by a COPY or
		// MOVE request" too, judged by the destination collection.
		if o.Size > h.MaxResourceSize {
			return Precondition(http.StatusForbidden, res.Kind.Namespace(), "max-resource-size", "dav: object over the destination's max-resource-size")
		}
		if _, err := res.Kind.PrepareObject(rq, dst.Collection, o.Body, o.ContentType); err != nil {
			return err
		}
	}
	var created bool
	if r.Method == "MOVE" {
		created, err = h.Store.MoveObject(rq.Context(), res.Collection.ID, res.Object.Name, dst.Collection.ID, dst.Name, store.MoveObjectOptions{IfMatch: ifMatch, Overwrite: overwrite, Actor: rq.actor()})
	} else {
		// The copy is checked against the source's ETag as read, so a
		// concurrent change of the source cannot be copied half-seen.
		if ifMatch != "" && o.ETag != ifMatch {
			return store.ErrPreconditionFailed
		}
		if masked {
			o.ETag, o.Size = computeETag(o.Body), int64(len(o.Body))
		}
		o.CollectionID, o.Name = dst.Collection.ID, dst.Name
		created, err = h.Store.PutObject(rq.Context(), o, store.PutObjectOptions{IfNoneMatch: !overwrite, Actor: rq.actor()})
	}
	if err != nil {
		return h.uidConflict(dst, err)
	}
	// The bytes moved unchanged, so the destination has the source's
	// entity tag; clients that track ETags need not GET it again.
	w.Header().Set("ETag", `"`+o.ETag+`"`)
	written(w, created, dst.Href)
	return nil
}

// written answers a write: 201 with the Location of what was created, or
// 204 for what was replaced (RFC 9110 §9.3.4, RFC 4918 §9.8.5, §9.9.4).
func written(w http.ResponseWriter, created bool, href string) {
	if created {
		w.Header().Set("Location", href)
		w.WriteHeader(http.StatusCreated)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// destination reads the Destination header of COPY and MOVE (RFC 4918
// §10.3): a URL on this server, parsed, with its escaped path.
// resolveDestination resolves the Destination of a COPY or MOVE (t and
// escaped, from destination) once per request: checkWrite checks its
// locks, and the method then writes it.
func (h *Handler) resolveDestination(rq *Request, t target, escaped string) (*Resource, error) {
	if rq.dst == nil || rq.dst.escaped != escaped {
		res, err := h.resolve(rq.Context(), rq.User, t, escaped, false)
		rq.dst = &resolvedDestination{escaped: escaped, res: res, err: err}
	}
	return rq.dst.res, rq.dst.err
}

// resolvedDestination is a Destination resolved (resolveDestination).
type resolvedDestination struct {
	escaped string
	res     *Resource
	err     error
}

func (h *Handler) destination(r *http.Request) (target, string, error) {
	dest := r.Header.Get("Destination")
	u, err := url.Parse(dest)
	if dest == "" || err != nil {
		return target{}, "", &Error{Status: http.StatusBadRequest, Message: "dav: missing or bad Destination"}
	}
	if u.Host != "" && u.Host != r.Host {
		return target{}, "", &Error{Status: http.StatusBadGateway, Message: "dav: Destination on another server"}
	}
	t, err := h.parsePath(u.EscapedPath())
	if errors.Is(err, errBadName) {
		return target{}, "", err
	}
	if err != nil {
		return target{}, "", &Error{Status: http.StatusForbidden, Message: "dav: Destination is no resource of this server"}
	}
	return t, u.EscapedPath(), nil
}

// moveCollection renames a calendar or address book within its home (RFC
// 4918 §9.9): its objects, properties and change history stay with it, in
// one store transaction. Its sync tokens start anew, so a client that
// synced the old URL and now syncs the new one does a full sync; the old
// URL answers 404.
func (h *Handler) moveCollection(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) error {
	t, _, err := h.destination(r)
	if err != nil {
		return err
	}
	if t.typ != ResCollection || t.kind != res.Kind {
		return &Error{Status: http.StatusForbidden, Message: "dav: a collection moves only to another name in its home"}
	}
	if t.username != rq.User.Username {
		return errForbidden
	}
	if t.collection == res.Collection.Name {
		// RFC 4918 §9.9.4: 403 when source and destination are the same.
		return &Error{Status: http.StatusForbidden, Message: "dav: source and destination are the same"}
	}
	overwrite := !strings.EqualFold(strings.TrimSpace(r.Header.Get("Overwrite")), "F")
	created, err := h.Store.MoveCollection(rq.Context(), res.Owner.ID, res.Collection.ID, t.collection, store.MoveCollectionOptions{Overwrite: overwrite})
	if err != nil {
		return err
	}
	href := CollectionHref(res.Kind, res.Owner.Username, t.collection)
	written(w, created, href)
	return nil
}

// mkcol creates a collection with MKCOL (extended, RFC 5689) or MKCALENDAR
// (RFC 4791 §5.3.1), applying the properties of its DAV:set.
func (h *Handler) mkcol(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) error {
	if ct := r.Header.Get("Content-Type"); r.ContentLength != 0 && ct != "" && !xmlMediaType(ct) {
		// RFC 4918 §9.3: a body MKCOL does not understand is 415; the
		// only one it knows is extended MKCOL's XML (RFC 5689 §3).
		return &Error{Status: http.StatusUnsupportedMediaType, Message: "dav: MKCOL body of type " + ct}
	}
	body, err := ReadXML(w, r, h.Limits)
	if err != nil {
		return err
	}
	var props []*Element
	var rtypes []xml.Name
	if body != nil {
		for _, set := range body.ChildrenNamed(Name("set")) {
			for _, prop := range set.ChildrenNamed(Name("prop")) {
				for _, el := range prop.Children {
					if el.Name == Name("resourcetype") {
						for _, rt := range el.Children {
							rtypes = append(rtypes, rt.Name)
						}
						continue
					}
					props = append(props, el)
				}
			}
		}
	}
	c, ok := res.Kind.NewCollection(rq, r.Method, rtypes)
	if !ok && r.Method == "MKCALENDAR" {
		// MKCALENDAR in a home of another kind.
		return h.locationNotOK(rq, r.Method, res.Kind)
	}
	if !ok {
		return &Error{Status: http.StatusForbidden, Condition: NewElement(Name("valid-resourcetype"))}
	}
	c.OwnerID = res.Owner.ID
	c.Name = res.Name
	var patch store.CollectionPatch
	var failed []PropStat
	failedNames := map[xml.Name]bool{}
	for _, el := range props {
		p := h.lookup(el)
		switch {
		case p != nil && p.Init != nil:
			err = p.Init(c, el)
		case p != nil && p.Set != nil:
			err = p.Set(&patch, el)
			if err != nil {
				// RFC 4918 §9.2.1: a value whose semantics do not fit.
				err = &Error{Status: http.StatusConflict, Message: err.Error()}
			}
		case p != nil:
			err = &Error{Status: http.StatusForbidden, Condition: NewElement(Name("cannot-modify-protected-property"))}
		default:
			patch.DeadProps = append(patch.DeadProps, store.DeadProp{Namespace: el.Name.Space, Name: el.Name.Local, XML: el.String()})
		}
		if err != nil {
			de := &Error{Status: http.StatusForbidden}
			errors.As(err, &de)
			failedNames[el.Name] = true
			failed = append(failed, PropStat{Status: de.Status, Props: []*Element{NewElement(el.Name)}, Error: de.Condition})
			err = nil
		}
	}
	if len(failed) > 0 {
		// RFC 5689 §3 (and RFC 4791 §5.3.1 for MKCALENDAR): when a property
		// cannot be set the collection is not created, and the answer lists
		// each property's status, 424 for those that would have succeeded.
		dep := PropStat{Status: http.StatusFailedDependency}
		for _, el := range props {
			if !failedNames[el.Name] {
				dep.Props = append(dep.Props, NewElement(el.Name))
			}
		}
		root := Name("mkcol-response")
		if r.Method == "MKCALENDAR" {
			root = xml.Name{Space: NSCalDAV, Local: "mkcalendar-response"}
		}
		writePropStatBody(w, failed[0].Status, root, append(failed, dep))
		return nil
	}
	if err := h.Store.CreateCollection(rq.Context(), c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return h.notAllowed(w, rq, res, "dav: collection exists")
		}
		return err
	}
	if !patchEmpty(&patch) {
		if err := h.Store.UpdateCollection(rq.Context(), res.Owner.ID, c.ID, patch); err != nil {
			_ = h.Store.DeleteCollection(rq.Context(), res.Owner.ID, c.ID)
			return err
		}
	}
	w.Header().Set("Location", res.Href)
	w.WriteHeader(http.StatusCreated)
	return nil
}

func patchEmpty(p *store.CollectionPatch) bool {
	return p.DisplayName == nil && p.Description == nil && p.Color == nil && p.ColorSymbolic == nil &&
		p.Order == nil && p.Timezone == nil && len(p.DeadProps) == 0
}

// writePropStatBody answers status with a body of propstats under root (the
// shape of DAV:mkcol-response and CALDAV:mkcalendar-response).
func writePropStatBody(w http.ResponseWriter, status int, root xml.Name, stats []PropStat) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	name := qualifiedName(root)
	b.WriteString("<" + name + rootNamespaces() + ">")
	for _, ps := range stats {
		if len(ps.Props) == 0 {
			continue
		}
		b.WriteString("<D:propstat><D:prop>")
		for _, p := range ps.Props {
			writeElement(&b, p)
		}
		b.WriteString("</D:prop><D:status>" + statusLine(ps.Status) + "</D:status>")
		writeErrorElement(&b, ps.Error)
		b.WriteString("</D:propstat>")
	}
	b.WriteString("</" + name + ">\n")
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

// xmlMediaType reports whether a Content-Type names XML (RFC 7303).
func xmlMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml"))
}
