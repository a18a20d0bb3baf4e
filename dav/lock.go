package dav

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// WebDAV class 2 (RFC 4918 §6, §7, §9.10, §9.11): exclusive and shared
// write locks, Depth 0 and infinity, with timeouts, on any resource of any
// kind below a home — the engine keeps them, kinds need do nothing. Locks
// are kept in the store on a path (store.Lock), so every server instance
// sees them and a lock can cover an unmapped URL or members made later.
//
// The path of a lock is the href of its resource as its owner writes it: a
// collection shared with another user has another href in the sharee's
// home, and a lock taken through either covers both (lockPath). Hrefs shown
// to a user are in their own URL space again (displayRoot).
//
// A write checks, before anything is changed, that the If header holds
// (checkIf, 412), then that the request submits (in its If header) a token
// of its own for every lock on what the write changes (checkLocks, 423
// DAV:lock-token-submitted).

// DefaultMaxLockTimeout caps a lock's timeout (and is the timeout of a
// LOCK that names none, or Infinite): a client that went away leaves its
// lock for at most this long (RFC 4918 §10.7 lets the server choose).
const DefaultMaxLockTimeout = time.Hour

// maxLockOwner bounds the DAV:owner XML kept with a lock.
const maxLockOwner = 16 << 10

// lockable reports whether res can be locked and carries the lock
// properties: homes, collections and objects of every kind.
func lockable(res *Resource) bool {
	return res != nil && (res.Type == ResHome || res.Type == ResCollection || res.Type == ResObject)
}

// lockPath is the path locks on res are kept under: its href, as the
// owner of a shared collection writes it.
func lockPath(rq *Request, res *Resource) string {
	if res.Shared != nil && res.Collection != nil && res.Kind != nil {
		prefix := HomeHref(res.Kind, rq.User.Username) + sharedSegment(res.Collection) + "/"
		if rest, ok := strings.CutPrefix(res.Href, prefix); ok {
			return CollectionHref(res.Kind, res.Owner.Username, res.Collection.Name) + rest
		}
	}
	return res.Href
}

// displayRoot is the href of a lock root as the user of res reaches it.
func displayRoot(rq *Request, res *Resource, root string) string {
	if res != nil && res.Shared != nil && res.Collection != nil && res.Kind != nil {
		own := CollectionHref(res.Kind, res.Owner.Username, res.Collection.Name)
		if rest, ok := strings.CutPrefix(root, own); ok {
			return HomeHref(res.Kind, rq.User.Username) + sharedSegment(res.Collection) + "/" + rest
		}
	}
	return root
}

// parentPath is the collection path above path ("" for "/").
func parentPath(path string) string {
	p := strings.TrimSuffix(path, "/")
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i+1]
}

// locksAt returns the locks on path, its ancestors and (for a collection)
// below it, read once per request: a listing's members find theirs in the
// answer read for the listed collection, and the members of a multiget in
// the answer read for the first one's collection.
func (rq *Request) locksAt(path string) ([]store.Lock, error) {
	for q, ls := range rq.lockCache {
		if q != path && !store.IsPathBelow(path, q) {
			continue
		}
		var out []store.Lock
		for _, l := range ls {
			if l.Root == path || store.IsPathBelow(path, l.Root) || store.IsPathBelow(l.Root, path) {
				out = append(out, l)
			}
		}
		return out, nil
	}
	q := path
	if !strings.HasSuffix(q, "/") && parentPath(q) != "" {
		q = parentPath(q) // the object's siblings are likely next
	}
	ls, err := rq.store.ListLocks(rq.Context(), q)
	if err != nil {
		return nil, err
	}
	if rq.lockCache == nil {
		rq.lockCache = map[string][]store.Lock{}
	}
	rq.lockCache[q] = ls
	return rq.locksAt(path)
}

// covering returns the locks that apply to the resource at path.
func (rq *Request) covering(path string) ([]store.Lock, error) {
	ls, err := rq.locksAt(path)
	if err != nil {
		return nil, err
	}
	var out []store.Lock
	for _, l := range ls {
		if l.Covers(path) {
			out = append(out, l)
		}
	}
	return out, nil
}

// lockScope says which locks a write must hold the tokens of, besides
// those covering its target.
type lockScope uint8

const (
	// scopeBind: the write adds or removes the target from its parent
	// collection, changing the parent's membership (RFC 4918 §7.4): a
	// lock on the parent, of any depth, applies.
	scopeBind lockScope = 1 << iota
	// scopeSubtree: the write removes or replaces a collection with its
	// members: the locks below it apply.
	scopeSubtree
)

// writeScope is what method changes besides res itself; ok is false for
// methods that change nothing a lock protects here (LOCK and UNLOCK check
// their own, COPY changes only its destination).
func writeScope(method string, res *Resource) (s lockScope, ok bool) {
	switch method {
	case http.MethodPut:
		if res.Type == ResObject && res.Object == nil {
			return scopeBind, true
		}
		return 0, true
	case "PROPPATCH":
		return 0, true
	case "MKCOL", "MKCALENDAR":
		return scopeBind, true
	case http.MethodDelete, "MOVE":
		return scopeBind | scopeSubtree, true
	}
	return 0, false
}

// isWrite reports whether method changes state, so its If header is
// evaluated (RFC 4918 §10.4).
func isWrite(method string) bool {
	switch method {
	case http.MethodPut, http.MethodDelete, http.MethodPost, "PROPPATCH", "MKCOL", "MKCALENDAR", "COPY", "MOVE", "LOCK":
		return true
	}
	return false
}

// checkLocks refuses a write to res (and what scope adds) when it is
// locked and the request does not submit a token of the user's own for
// each lock: 423 with DAV:lock-token-submitted naming the lock roots (RFC
// 4918 §7.5, §16). Of several shared locks, one suffices.
func (h *Handler) checkLocks(rq *Request, res *Resource, scope lockScope) error {
	path := lockPath(rq, res)
	all, err := rq.locksAt(path)
	if err != nil {
		return err
	}
	parent := parentPath(path)
	var need []store.Lock
	for _, l := range all {
		switch {
		case l.Covers(path),
			scope&scopeBind != 0 && l.Root == parent,
			scope&scopeSubtree != 0 && store.IsPathBelow(l.Root, path):
			need = append(need, l)
		}
	}
	if len(need) == 0 {
		return nil
	}
	submitted := map[string]bool{}
	for _, t := range rq.ifh.tokens() {
		submitted[t] = true
	}
	held := func(l *store.Lock) bool { return submitted[l.Token] && l.UserID == rq.User.ID }
	sharedHeld := false
	for i := range need {
		if need[i].Shared && held(&need[i]) {
			sharedHeld = true
		}
	}
	var missing []string
	seen := map[string]bool{}
	for i := range need {
		l := &need[i]
		if held(l) || l.Shared && sharedHeld {
			continue
		}
		if href := displayRoot(rq, res, l.Root); !seen[href] {
			seen[href] = true
			missing = append(missing, href)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &Error{Status: http.StatusLocked, Condition: HrefElement(Name("lock-token-submitted"), missing...),
		Message: "dav: the resource is locked and the request does not submit the lock token"}
}

// checkIf evaluates the request's If header (RFC 4918 §10.4) on res and
// the resources it tags: 412 when it does not hold.
func (h *Handler) checkIf(rq *Request, r *http.Request, res *Resource) error {
	if rq.ifh == nil {
		return nil
	}
	ok, err := rq.ifh.eval(func(tag string) (*ifState, error) {
		if tag == "" {
			return h.ifStateOf(rq, res)
		}
		u, err := url.Parse(tag)
		if err != nil {
			return &ifState{}, nil
		}
		p := u.EscapedPath()
		if p == r.URL.EscapedPath() || p == res.Href {
			return h.ifStateOf(rq, res)
		}
		t, err := h.parsePath(p)
		if err != nil {
			return &ifState{}, nil
		}
		tres, err := h.resolve(rq.Context(), rq.User, t, p, false)
		switch {
		case err == nil, errors.Is(err, store.ErrNotFound):
			return h.ifStateOf(rq, tres)
		case errors.Is(err, store.ErrUnavailable):
			return nil, err
		}
		return &ifState{}, nil // another user's, or under a missing collection
	})
	if err != nil {
		return err
	}
	if !ok {
		return &Error{Status: http.StatusPreconditionFailed, Message: "dav: the If header does not hold"}
	}
	return nil
}

// ifStateOf is the state If conditions are matched against for res.
func (h *Handler) ifStateOf(rq *Request, res *Resource) (*ifState, error) {
	st := &ifState{}
	if res.Type == ResObject && res.Object != nil {
		st.etags = currentETags(res.Kind, res.Object)
	}
	if !lockable(res) {
		return st, nil
	}
	ls, err := rq.covering(lockPath(rq, res))
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		st.tokens = append(st.tokens, l.Token)
	}
	return st, nil
}

// checkReadIf evaluates the If header of a request that changes nothing
// (GET, HEAD, PROPFIND, REPORT, UNLOCK …): 400 when it does not parse, 412
// when it does not hold. Locks bind only writes, so nothing else is
// checked.
func (h *Handler) checkReadIf(rq *Request, r *http.Request, res *Resource) error {
	ifh, err := parseIf(r.Header.Get("If"))
	if err != nil {
		return err
	}
	rq.ifh = ifh
	return h.checkIf(rq, r, res)
}

// checkWrite runs the checks every write makes before it changes anything,
// for every kind: the If header parses (400) and holds (412), then the
// locks on what the write changes are submitted (423) — the target and,
// for COPY and MOVE, the destination. The If header is evaluated first, as
// Apache's mod_dav does and litmus expects: a request whose conditions
// fail is told so even where it also lacks a token.
func (h *Handler) checkWrite(rq *Request, r *http.Request, res *Resource) error {
	ifh, err := parseIf(r.Header.Get("If"))
	if err != nil {
		return err
	}
	rq.ifh = ifh
	if err := h.checkIf(rq, r, res); err != nil {
		return err
	}
	if scope, ok := writeScope(r.Method, res); ok {
		if err := h.checkLocks(rq, res, scope); err != nil {
			return err
		}
	}
	if r.Method != "COPY" && r.Method != "MOVE" {
		return nil
	}
	t, escaped, err := h.destination(r)
	if err != nil {
		return nil // the method answers a bad Destination
	}
	dst, err := h.resolveDestination(rq, t, escaped)
	switch {
	case err == nil, errors.Is(err, store.ErrNotFound):
		// RFC 4918 §7.4: a COPY or MOVE replaces or adds the destination
		// in its parent, and replaces a collection's members.
		scope := scopeSubtree
		if err != nil {
			scope |= scopeBind
		}
		return h.checkLocks(rq, dst, scope)
	case errors.Is(err, store.ErrUnavailable):
		return err
	}
	return nil // the method answers a destination it cannot reach
}

// dropLocks ends the locks on and below a resource that a DELETE or MOVE
// removed (RFC 4918 §7.4: a lock goes with the resource, §9.9.2: "locks
// are not moved"), before the answer leaves. The write is done; a failure
// here is logged, and the locks expire anyway.
//
// The write's lock check (checkWrite) read the locks on and below the
// resource already; when there were none, as for nearly every write, no
// DELETE statement is sent. A lock taken in between is one taken just
// after the removal: it reserves the unmapped URL (lock-null) and expires.
func (h *Handler) dropLocks(rq *Request, res *Resource) {
	path := lockPath(rq, res)
	ls, err := rq.locksAt(path) // read by checkWrite: no query
	if err == nil && !slices.ContainsFunc(ls, func(l store.Lock) bool {
		return l.Root == path || store.IsPathBelow(l.Root, path)
	}) {
		return
	}
	if _, err := h.Store.DeleteLocks(rq.Context(), path); err != nil {
		h.Logger.WarnContext(rq.Context(), "dropping the locks of a removed resource failed", "href", res.Href, "err", err)
	}
}

// lockInfo is a parsed DAV:lockinfo (RFC 4918 §14.11).
type lockInfo struct {
	shared bool
	owner  string // the DAV:owner element as XML, "" for none
}

// parseLockInfo reads a LOCK body: one lockscope (exclusive or shared),
// one locktype (write, the only one defined), an optional owner kept as
// it came.
func parseLockInfo(body *Element) (lockInfo, error) {
	var info lockInfo
	bad := func(why string) (lockInfo, error) {
		return lockInfo{}, &Error{Status: http.StatusBadRequest, Message: "dav: LOCK body: " + why}
	}
	if body.Name != Name("lockinfo") {
		return bad("the body is not DAV:lockinfo")
	}
	scopes, types := body.ChildrenNamed(Name("lockscope")), body.ChildrenNamed(Name("locktype"))
	if len(scopes) != 1 || len(types) != 1 {
		return bad("DAV:lockinfo needs one DAV:lockscope and one DAV:locktype")
	}
	if len(scopes[0].Children) != 1 {
		return bad("DAV:lockscope holds one of DAV:exclusive and DAV:shared")
	}
	switch scopes[0].Children[0].Name {
	case Name("exclusive"):
	case Name("shared"):
		info.shared = true
	default:
		return bad("unknown lock scope")
	}
	if len(types[0].Children) != 1 || types[0].Children[0].Name != Name("write") {
		return bad("the only lock type is DAV:write")
	}
	owners := body.ChildrenNamed(Name("owner"))
	switch len(owners) {
	case 0:
	case 1:
		info.owner = owners[0].String()
		if len(info.owner) > maxLockOwner {
			return bad("DAV:owner is too large")
		}
	default:
		return bad("more than one DAV:owner")
	}
	return info, nil
}

// lockTimeout reads a Timeout header (RFC 4918 §10.7): the first value
// the server accepts, capped at limit; none, or Infinite, is limit.
func lockTimeout(header string, limit time.Duration) time.Duration {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if strings.EqualFold(part, "Infinite") {
			return limit
		}
		if n, ok := strings.CutPrefix(part, "Second-"); ok {
			v, err := strconv.ParseUint(n, 10, 32)
			if err != nil {
				continue
			}
			return min(limit, time.Duration(max(v, 1))*time.Second)
		}
	}
	return limit
}

// newLockToken is a fresh lock token: a random (version 4) UUID URN, which
// RFC 4918 §6.5 names as the way to make them unique across time and space.
func newLockToken() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// lockDepth reads the Depth header of a LOCK: 0 or infinity (the default);
// 1 is not allowed (RFC 4918 §9.10.3).
func lockDepth(r *http.Request) (infinite bool, err error) {
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Depth"))) {
	case "", "infinity":
		return true, nil
	case "0":
		return false, nil
	}
	return false, &Error{Status: http.StatusBadRequest, Message: "dav: the Depth of a LOCK is 0 or infinity"}
}

// lock answers LOCK (RFC 4918 §9.10): a new lock from a DAV:lockinfo
// body, or, without a body, a refresh of the lock named in the If header.
// missing tells that res is not mapped: the lock then makes an empty
// resource where the kind accepts one (§7.3), and otherwise reserves the
// URL until the lock's holder makes something there.
func (h *Handler) lock(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource, missing bool) error {
	if !lockable(res) {
		return h.notAllowed(w, rq, res, "dav: LOCK on "+res.Href)
	}
	timeout := lockTimeout(r.Header.Get("Timeout"), h.MaxLockTimeout)
	body, err := ReadXML(w, r, h.Limits)
	if err != nil {
		return err
	}
	path := lockPath(rq, res)
	if body == nil {
		return h.refreshLock(rq, w, res, path, timeout)
	}
	info, err := parseLockInfo(body)
	if err != nil {
		return err
	}
	infinite, err := lockDepth(r)
	if err != nil {
		return err
	}
	if missing {
		// Making the resource changes its parent's membership.
		if err := h.checkLocks(rq, res, scopeBind); err != nil {
			return err
		}
	}
	l := &store.Lock{Token: newLockToken(), Root: path, UserID: rq.User.ID, Infinite: infinite,
		Shared: info.shared, Owner: info.owner, Timeout: timeout}
	if err := h.Store.CreateLock(rq.Context(), l); err != nil {
		var lc *store.LockConflictError
		if errors.As(err, &lc) {
			return &Error{Status: http.StatusLocked,
				Condition: HrefElement(Name("no-conflicting-lock"), displayRoot(rq, res, lc.Root)),
				Message:   "dav: the resource is locked already"}
		}
		return err
	}
	status := http.StatusOK
	if missing {
		status = http.StatusCreated
		if err := h.createLocked(rq, res); err != nil {
			_ = h.Store.DeleteLock(rq.Context(), l.Token)
			return err
		}
	}
	w.Header().Set("Lock-Token", "<"+l.Token+">")
	writeLockBody(w, status, activeLock(rq, res, l, l.Timeout))
	return nil
}

// createLocked makes the empty resource a LOCK of an unmapped object URL
// creates (RFC 4918 §7.3), where the kind takes an empty body. A kind whose
// objects cannot be empty (a calendar object, a vCard) leaves the URL
// unmapped and locked, the lock-null resource of RFC 2518 §7.4: the lock's
// holder then PUTs the real object with the token.
func (h *Handler) createLocked(rq *Request, res *Resource) error {
	if res.Type != ResObject || res.Collection == nil {
		return nil
	}
	o, err := res.Kind.PrepareObject(rq, res.Collection, []byte{}, "")
	if err != nil {
		return nil
	}
	o.CollectionID, o.Name = res.Collection.ID, res.Name
	if o.Body == nil {
		o.Body = []byte{}
	}
	o.Size, o.ETag = int64(len(o.Body)), computeETag(o.Body)
	_, err = h.Store.PutObject(rq.Context(), o, store.PutObjectOptions{IfNoneMatch: true, Actor: rq.actor()})
	if errors.Is(err, store.ErrPreconditionFailed) {
		return nil // made meanwhile by someone else: the lock covers it
	}
	return err
}

// refreshLock restarts the timeout of the lock the If header names that
// covers res (RFC 4918 §9.10.2), the user's own.
func (h *Handler) refreshLock(rq *Request, w http.ResponseWriter, res *Resource, path string, timeout time.Duration) error {
	if rq.ifh == nil {
		return &Error{Status: http.StatusBadRequest, Message: "dav: a LOCK without a body refreshes the lock its If header names, and there is no If header"}
	}
	ls, err := rq.covering(path)
	if err != nil {
		return err
	}
	for _, t := range rq.ifh.tokens() {
		for _, l := range ls {
			if l.Token != t {
				continue
			}
			if l.UserID != rq.User.ID {
				return lockNotYours(res)
			}
			nl, err := h.Store.RefreshLock(rq.Context(), l.Token, timeout)
			if err != nil {
				return err
			}
			writeLockBody(w, http.StatusOK, activeLock(rq, res, nl, nl.Timeout))
			return nil
		}
	}
	return Precondition(http.StatusPreconditionFailed, NSDAV, "lock-token-matches-request-uri",
		"dav: the If header names no lock on this resource to refresh")
}

// lockNotYours refuses using or removing another user's lock (RFC 4918
// §6.4: the lock belongs to the principal that took it).
func lockNotYours(res *Resource) error {
	cond := NewElement(Name("need-privileges"), NewElement(Name("resource"),
		TextElement(Name("href"), res.Href), NewElement(Name("privilege"), NewElement(Name("unlock")))))
	return &Error{Status: http.StatusForbidden, Condition: cond, Message: "dav: the lock is another user's"}
}

// unlock answers UNLOCK (RFC 4918 §9.11): the lock named by Lock-Token,
// which must cover res and be the user's own.
func (h *Handler) unlock(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) error {
	if !lockable(res) {
		return h.notAllowed(w, rq, res, "dav: UNLOCK on "+res.Href)
	}
	tok := strings.TrimSpace(r.Header.Get("Lock-Token"))
	if len(tok) < 3 || tok[0] != '<' || tok[len(tok)-1] != '>' {
		return &Error{Status: http.StatusBadRequest, Message: "dav: UNLOCK needs a Lock-Token header: <token>"}
	}
	tok = tok[1 : len(tok)-1]
	ls, err := rq.covering(lockPath(rq, res))
	if err != nil {
		return err
	}
	for _, l := range ls {
		if l.Token != tok {
			continue
		}
		if l.UserID != rq.User.ID {
			return lockNotYours(res)
		}
		if err := h.Store.DeleteLock(rq.Context(), tok); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return Precondition(http.StatusConflict, NSDAV, "lock-token-matches-request-uri",
		"dav: no lock with that token covers this resource")
}

// activeLock is the DAV:activelock of l as the user of res sees it (RFC
// 4918 §14.1): the token only to the lock's holder.
func activeLock(rq *Request, res *Resource, l *store.Lock, timeout time.Duration) *Element {
	scope, depth := "exclusive", "0"
	if l.Shared {
		scope = "shared"
	}
	if l.Infinite {
		depth = "infinity"
	}
	e := NewElement(Name("activelock"),
		NewElement(Name("locktype"), NewElement(Name("write"))),
		NewElement(Name("lockscope"), NewElement(Name(scope))),
		TextElement(Name("depth"), depth))
	if l.Owner != "" {
		if owner, err := ParseXML([]byte(l.Owner), DefaultLimits); err == nil {
			e.Children = append(e.Children, owner)
		}
	}
	secs := int64((timeout + time.Second - 1) / time.Second)
	e.Children = append(e.Children, TextElement(Name("timeout"), "Second-"+strconv.FormatInt(max(secs, 0), 10)))
	if l.UserID == rq.User.ID {
		e.Children = append(e.Children, HrefElement(Name("locktoken"), l.Token))
	}
	e.Children = append(e.Children, HrefElement(Name("lockroot"), displayRoot(rq, res, l.Root)))
	return e
}

// writeLockBody answers a LOCK: DAV:prop with the lock's lockdiscovery
// (RFC 4918 §9.10.1).
func writeLockBody(w http.ResponseWriter, status int, active *Element) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<D:prop` + rootNamespaces() + `>`)
	writeElement(&b, NewElement(Name("lockdiscovery"), active))
	b.WriteString("</D:prop>\n")
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// lockProperties are DAV:supportedlock and DAV:lockdiscovery (RFC 4918
// §15.8, §15.10) on every lockable resource.
func (h *Handler) lockProperties() []*Property {
	entry := func(scope string) *Element {
		return NewElement(Name("lockentry"),
			NewElement(Name("lockscope"), NewElement(Name(scope))),
			NewElement(Name("locktype"), NewElement(Name("write"))))
	}
	return []*Property{
		{Name: Name("supportedlock"), AllProp: true, Get: func(rq *Request, res *Resource) (*Element, error) {
			if !lockable(res) {
				return nil, ErrNoProperty
			}
			return NewElement(Name("supportedlock"), entry("exclusive"), entry("shared")), nil
		}},
		{Name: Name("lockdiscovery"), AllProp: true, Get: func(rq *Request, res *Resource) (*Element, error) {
			if !lockable(res) {
				return nil, ErrNoProperty
			}
			ls, err := rq.covering(lockPath(rq, res))
			if err != nil {
				return nil, err
			}
			e := NewElement(Name("lockdiscovery"))
			now := time.Now()
			for i := range ls {
				e.Children = append(e.Children, activeLock(rq, res, &ls[i], ls[i].Expires.Sub(now)))
			}
			return e, nil
		}},
	}
}
