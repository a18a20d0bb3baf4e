package dav

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// Error is a protocol error with an RFC precondition or postcondition
// element for the body (RFC 4918 §16). Message says what was wrong with the
// request; for a 4xx it is logged and, as a sentence, shown to the client
// (see fail), so it names nothing of the server's internals.
type Error struct {
	Status    int
	Condition *Element
	Message   string
}

func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	if e.Condition != nil {
		return "dav: " + e.Condition.Name.Local
	}
	return "dav: " + http.StatusText(e.Status)
}

// Precondition returns an *Error for status with the empty condition element
// ns:local and a log message.
func Precondition(status int, ns, local, message string) *Error {
	return &Error{Status: status, Condition: NewElement(xml.Name{Space: ns, Local: local}), Message: message}
}

// Handler serves the /dav/ tree (and PROPFIND/OPTIONS on /).
type Handler struct {
	Store  store.Store
	Kinds  []Kind
	Logger *slog.Logger
	// CurrentUser returns the authenticated user of a request's context.
	CurrentUser func(ctx context.Context) (*store.User, bool)
	// MaxResourceSize bounds one object body in bytes.
	MaxResourceSize int64
	// Quota bounds a user's storage; 0 means none.
	Quota  int64
	Limits Limits
	// MaxResponseBytes and MaxResponseTime bound one 207 answer: past
	// either, it ends with a 507 response saying it is incomplete. Zero
	// values take DefaultMaxResponseBytes and DefaultMaxResponseTime.
	MaxResponseBytes int64
	MaxResponseTime  time.Duration
	// MaxLockTimeout caps the timeout of a lock; zero takes
	// DefaultMaxLockTimeout.
	MaxLockTimeout time.Duration
	// Push, when set, serves WebDAV-Push (push.go).
	Push *Push

	props registry
}

// Init builds the property registry; call it once before serving.
func (h *Handler) Init() {
	if h.Limits == (Limits{}) {
		h.Limits = DefaultLimits
	}
	if h.MaxResourceSize == 0 {
		h.MaxResourceSize = 10 << 20
	}
	if h.MaxResponseBytes == 0 {
		h.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if h.MaxResponseTime == 0 {
		h.MaxResponseTime = DefaultMaxResponseTime
	}
	if h.MaxLockTimeout == 0 {
		h.MaxLockTimeout = DefaultMaxLockTimeout
	}
	h.props = registry{}
	h.props.add(h.coreProperties()...)
	h.props.add(h.sharingProperties()...)
	h.props.add(h.delegationProperties()...)
	h.props.add(h.resourceSharingProperties()...)
	h.props.add(h.lockProperties()...)
	h.props.add(h.principalProperties()...)
	if h.Push != nil {
		h.props.add(h.pushProperties()...)
	}
	for _, k := range h.Kinds {
		h.props.add(k.Properties()...)
	}
}

// Budget of one answer. A full calendar-data listing of a 100,000-event
// calendar is about 300 MB; a hostile PROPFIND produced 4 GB before the
// property lists were bounded.
const (
	DefaultMaxResponseBytes = 512 << 20
	DefaultMaxResponseTime  = 5 * time.Minute
)

// Bounds on what one PROPFIND or REPORT may ask for: the properties of its
// DAV:prop (or DAV:include), after duplicates are dropped and in all, and
// the hrefs of a multiget. A request over them is refused with 413 before
// any work. Real clients ask for a few dozen properties and multiget in
// batches of tens to a few hundred.
const (
	maxPropsDistinct = 200
	maxPropsTotal    = 400
	maxHrefs         = 10000
)

// DAVCompliance is the DAV header: the classes and extensions served (RFC
// 4918 §10.1, class 2 being locking, lock.go; RFC 3744 §7.2, RFC 4791
// §5.1, RFC 6352 §6.1, RFC 5689 §3, RFC 6638 §2), CalendarServer sharing,
// calendar proxies and principal search, which Apple clients look for
// before offering sharing, delegation and attendee lookup, and
// draft-pot-webdav-resource-sharing §3's resource-sharing.
const DAVCompliance = "1, 2, 3, access-control, calendar-access, addressbook, extended-mkcol, calendarserver-sharing, calendar-auto-schedule, calendar-proxy, resource-sharing, calendarserver-principal-property-search, calendarserver-principal-search"

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		h.options(w, r)
		return
	}
	user, ok := h.CurrentUser(r.Context())
	if !ok {
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	rq := h.newRequest(user, r)
	if err := h.serve(rq, w, r); err != nil {
		h.fail(w, r, err)
	}
}

func (h *Handler) serve(rq *Request, w http.ResponseWriter, r *http.Request) (ret error) {
	if id, ok := h.pushRegistrationPath(r.URL.EscapedPath()); ok {
		return h.servePushRegistration(rq, w, r, id)
	}
	t, err := h.parsePath(r.URL.EscapedPath())
	if err != nil {
		return err
	}
	if t.typ == ResNotifications || t.typ == ResNotification {
		return h.serveNotifications(rq, w, r, t)
	}
	res, err := h.resolve(rq.Context(), rq.User, t, r.URL.EscapedPath(), r.Method == http.MethodGet || r.Method == http.MethodHead)
	if errors.Is(err, errParentMissing) && r.Method != http.MethodPut && r.Method != "MKCOL" && r.Method != "MKCALENDAR" && r.Method != "LOCK" {
		// Only a write into a missing collection is a conflict (RFC 4918
		// §9.7.1); reading a member of one finds nothing.
		err = store.ErrNotFound
	}
	if derr := checkDelegated(r.Method, res, err); derr != nil {
		return derr
	}
	if res != nil && res.Collection != nil && writeMethods[r.Method] {
		// A change to a collection others derive from (address books →
		// the Birthdays calendar) is applied to them once it is made,
		// while its bodies are fresh in the database's cache, so that
		// listing the home later finds them current and reads nothing.
		defer func() {
			if ret == nil {
				h.refreshDerivedFrom(rq.Context(), res.Owner, res.Collection.Kind)
			}
		}()
	}
	if err == nil || errors.Is(err, store.ErrNotFound) {
		// One check per request, on the resolved target: what is listed,
		// queried or synced under it shares its privileges.
		need := required(r.Method, res)
		if r.Method == "REPORT" && res.Privileges&(PrivRead|PrivReadFreeBusy) == PrivReadFreeBusy {
			need = PrivReadFreeBusy // which REPORT, report checks
		}
		if perr := checkPrivilege(res, need); perr != nil {
			return perr
		}
		if isWrite(r.Method) {
			if perr := h.checkWrite(rq, r, res); perr != nil {
				return perr
			}
		} else if err == nil && r.Header.Get("If") != "" {
			// RFC 4918 §10.4: the If header is a precondition of any
			// method, reads included (a client makes a GET conditional
			// on its lock still being there, §10.4.1 example); false, it
			// is 412. RFC 9110 §13.2.1: on a missing resource the
			// answer is 404 whatever the conditions.
			if perr := h.checkReadIf(rq, r, res); perr != nil {
				return perr
			}
		}
	}
	switch r.Method {
	case "PROPFIND":
		if err != nil {
			return err
		}
		return h.propfind(rq, w, r, res)
	case "PROPPATCH":
		if err != nil {
			return err
		}
		return h.proppatch(rq, w, r, res)
	case "REPORT":
		if err != nil {
			return err
		}
		return h.report(rq, w, r, res)
	case http.MethodGet, http.MethodHead:
		if err != nil {
			return err
		}
		return h.get(rq, w, r, res)
	case http.MethodPut:
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return h.put(rq, w, r, res)
	case http.MethodDelete:
		if err != nil {
			return err
		}
		if err := h.delete(rq, w, r, res); err != nil {
			return err
		}
		h.dropLocks(rq, res)
		return nil
	case "MKCOL", "MKCALENDAR":
		if errors.Is(err, store.ErrNotFound) && res.Type == ResObject && nests(res.Kind) {
			// A folder made where nothing is, in an existing folder.
			asNewCollection(res)
		}
		if err == nil {
			// RFC 4918 §9.3.1: MKCOL on an existing resource is 405.
			e := h.notAllowed(w, rq, res, "dav: "+r.Method+" on an existing resource")
			e.Condition = NewElement(Name("resource-must-be-null"))
			return e
		}
		if !errors.Is(err, store.ErrNotFound) || res.Type != ResCollection {
			if res != nil && res.Type == ResObject && res.Collection != nil {
				// Inside an existing calendar or address book.
				return h.locationNotOK(rq, r.Method, res.Kind)
			}
			if errors.Is(err, store.ErrNotFound) || errors.Is(err, errParentMissing) {
				return &Error{Status: http.StatusConflict, Message: "dav: collections can only be made in a home"}
			}
			return err
		}
		return h.mkcol(rq, w, r, res)
	case http.MethodPost:
		if err != nil {
			return err
		}
		return h.post(rq, w, r, res)
	case "COPY", "MOVE":
		if err != nil {
			return err
		}
		if err := h.copyMove(rq, w, r, res); err != nil || r.Method == "COPY" {
			return err
		}
		h.dropLocks(rq, res)
		return nil
	case "LOCK":
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return h.lock(rq, w, r, res, err != nil)
	case "UNLOCK":
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return h.unlock(rq, w, r, res)
	default:
		if err != nil {
			return err
		}
		return h.notAllowed(w, rq, res, "dav: method "+r.Method+" not implemented")
	}
}

// locationNotOK refuses MKCALENDAR or MKCOL at a place where the collection
// cannot be made: RFC 4791 §5.3.1.1 (CALDAV:calendar-collection-location-ok)
// and RFC 6352 §6.3.1 (CARDDAV:addressbook-collection-location-ok) — in
// particular inside another calendar or address book. The condition is that
// of the kind being made: the one that answers MKCALENDAR for MKCALENDAR,
// the kind of the home the URL is in for MKCOL.
func (h *Handler) locationNotOK(rq *Request, method string, k Kind) *Error {
	if method == "MKCALENDAR" {
		k = h.kindForMethod(rq, method)
	}
	if k == nil {
		return &Error{Status: http.StatusForbidden, Message: "dav: no collection kind is made by " + method}
	}
	rt := k.ResourceType()
	return Precondition(http.StatusForbidden, rt.Space, rt.Local+"-collection-location-ok",
		"dav: a "+rt.Local+" cannot be made here")
}

// kindForMethod returns the kind that makes its collections with method
// and no resourcetype (MKCALENDAR), or nil.
func (h *Handler) kindForMethod(rq *Request, method string) Kind {
	for _, k := range h.Kinds {
		if _, ok := k.NewCollection(rq, method, nil); ok {
			return k
		}
	}
	return nil
}

func (h *Handler) options(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("DAV", DAVCompliance)
	// OPTIONS is answered without credentials, so the Allow header is
	// computed from the shape of the path, not from a store lookup.
	allow := "OPTIONS"
	if t, err := h.parsePath(r.URL.EscapedPath()); err == nil {
		allow = h.allow(&Request{HTTP: r}, t.typ, t.kind)
	}
	w.Header().Set("Allow", allow)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// RetryAfterUnavailable is the Retry-After, in seconds, of a 503 answered
// while the database is unavailable: long enough for a restart to finish,
// short enough that a client's next attempt is not needlessly late.
const RetryAfterUnavailable = "5"

// computeETag is the strong entity tag of a body (unquoted, as stored).
func computeETag(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:16])
}
