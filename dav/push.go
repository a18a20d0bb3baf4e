package dav

import (
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// WebDAV-Push (draft, github.com/bitfireAT/webdav-push; the names are those
// DAVx5's dav4jvm sends and parses, package property.push). A collection
// announces the transports it pushes over (Web Push, with the server's
// VAPID key, RFC 8292) and its topic; a client POSTs push-register with
// its Web Push subscription (RFC 8030 push resource, RFC 8291 keys) to the
// collection and gets the registration's URL, which it DELETEs to
// unregister. Messages are queued by the store and sent by package push.

// NSPush is the WebDAV-Push namespace.
const NSPush = "https://bitfire.at/webdav-push"

func pushName(local string) xml.Name { return xml.Name{Space: NSPush, Local: local} }

// Push configures WebDAV-Push.
type Push struct {
	// VAPIDPublicKey is the server's VAPID public key: an uncompressed
	// P-256 point, base64url without padding (RFC 8292 §3.2).
	VAPIDPublicKey string
	// Topic names a collection in push messages.
	Topic func(collectionID int64) string
	// CheckEndpoint refuses a push resource the server will not send to
	// (not https, a private address): an error is a 403.
	CheckEndpoint func(ctx context.Context, u *url.URL) error
	// MaxPerUser bounds a user's registrations (0: DefaultPushMaxPerUser);
	// MaxExpiry how long one lasts before it must be refreshed
	// (0: DefaultPushMaxExpiry).
	MaxPerUser int
	MaxExpiry  time.Duration
}

// Defaults of Push.
const (
	DefaultPushMaxPerUser = 200
	DefaultPushMaxExpiry  = 7 * 24 * time.Hour
	// maxPushResource bounds a push resource URL.
	maxPushResource = 2048
)

// pushRegistrationsSeg is the segment under Prefix of registration URLs.
const pushRegistrationsSeg = "push/"

// PushRegistrationHref is the URL of registration id.
func PushRegistrationHref(id int64) string {
	return Prefix + pushRegistrationsSeg + strconv.FormatInt(id, 10)
}

func (h *Handler) pushRegistrationPath(p string) (int64, bool) {
	rest, ok := strings.CutPrefix(p, Prefix+pushRegistrationsSeg)
	if !ok || h.Push == nil {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

// pushable tells whether res is a collection whose changes are pushed:
// calendars, address books and the schedule inbox, own or shared.
func pushable(res *Resource) bool {
	return res.Type == ResCollection && res.Collection != nil && res.Collection.Kind != store.KindOutbox
}

func (h *Handler) pushProperties() []*Property {
	transports := func(name string) *Property {
		return &Property{Name: pushName(name), Get: func(rq *Request, res *Resource) (*Element, error) {
			if !pushable(res) {
				return nil, ErrNoProperty
			}
			key := TextElement(pushName("vapid-public-key"), h.Push.VAPIDPublicKey)
			key.Attr = []xml.Attr{{Name: xml.Name{Local: "type"}, Value: "p256ecdsa"}}
			return NewElement(pushName(name), NewElement(pushName("web-push"), key)), nil
		}}
	}
	return []*Property{
		// transports is the draft's current name; DAVx5 4.4 asked for
		// push-transports.
		transports("transports"),
		transports("push-transports"),
		{Name: pushName("topic"), Get: func(rq *Request, res *Resource) (*Element, error) {
			if !pushable(res) {
				return nil, ErrNoProperty
			}
			return TextElement(pushName("topic"), h.Push.Topic(res.Collection.ID)), nil
		}},
		{Name: pushName("supported-triggers"), Get: func(rq *Request, res *Resource) (*Element, error) {
			if !pushable(res) {
				return nil, ErrNoProperty
			}
			return NewElement(pushName("supported-triggers"),
				NewElement(pushName("content-update"), TextElement(Name("depth"), "1")),
				NewElement(pushName("property-update"), TextElement(Name("depth"), "0"))), nil
		}},
	}
}

// pushRegister answers a POST of push-register to a collection.
func (h *Handler) pushRegister(rq *Request, w http.ResponseWriter, res *Resource, body *Element) error {
	if h.Push == nil || !pushable(res) {
		return Precondition(http.StatusForbidden, NSPush, "push-not-available", "dav: push is not available here")
	}
	invalid := func(msg string) error {
		return Precondition(http.StatusForbidden, NSPush, "invalid-subscription", "dav: push-register: "+msg)
	}
	sub := body.Child(pushName("subscription"))
	var wps *Element
	if sub != nil {
		wps = sub.Child(pushName("web-push-subscription"))
	}
	if wps == nil {
		return invalid("no web-push-subscription")
	}
	text := func(e *Element, names ...string) string {
		for _, n := range names {
			if c := e.Child(pushName(n)); c != nil {
				return strings.TrimSpace(c.Text)
			}
		}
		return ""
	}
	resource := text(wps, "push-resource")
	if len(resource) > maxPushResource {
		return invalid("push resource too long")
	}
	u, err := url.Parse(resource)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil {
		return invalid("push resource is not an absolute URL")
	}
	if err := h.Push.CheckEndpoint(rq.Context(), u); err != nil {
		return invalid(err.Error())
	}
	if enc := text(wps, "content-encoding"); enc != "" && !strings.EqualFold(enc, "aes128gcm") {
		return invalid("content encoding " + enc + " is not aes128gcm")
	}
	pub := text(wps, "subscription-public-key", "client-public-key")
	if k, err := decodeBase64URL(pub); err != nil || len(k) != 65 {
		return invalid("subscription public key is not a P-256 point")
	} else if _, err := ecdh.P256().NewPublicKey(k); err != nil {
		return invalid("subscription public key is not a P-256 point")
	}
	auth := text(wps, "auth-secret")
	if k, err := decodeBase64URL(auth); err != nil || len(k) != 16 {
		return invalid("auth secret is not 16 bytes") // RFC 8291 §3.2
	}
	reg := &store.PushRegistration{
		UserID: rq.User.ID, CollectionID: res.Collection.ID, PushResource: resource,
		PublicKey: pub, AuthSecret: auth, ContentUpdate: true,
		UserAgent: truncate(rq.HTTP.UserAgent(), 200),
	}
	if tr := body.Child(pushName("trigger")); tr != nil {
		reg.ContentUpdate = tr.Child(pushName("content-update")) != nil
		reg.PropertyUpdate = tr.Child(pushName("property-update")) != nil
	}
	maxExp := h.Push.MaxExpiry
	if maxExp == 0 {
		maxExp = DefaultPushMaxExpiry
	}
	now := time.Now()
	reg.Expires = now.Add(maxExp).UTC().Truncate(time.Second)
	if e := text(body, "expires"); e != "" {
		t, err := http.ParseTime(e)
		if err != nil {
			return &Error{Status: http.StatusBadRequest, Message: "dav: push-register: expires is not an HTTP date"}
		}
		if t.After(now) && t.Before(reg.Expires) {
			reg.Expires = t.UTC()
		}
	}
	limit := h.Push.MaxPerUser
	if limit == 0 {
		limit = DefaultPushMaxPerUser
	}
	created, err := h.Store.PutPushRegistration(rq.Context(), reg, limit)
	switch {
	case errors.Is(err, store.ErrTooMany):
		return Precondition(http.StatusForbidden, NSPush, "too-many-registrations", fmt.Sprintf(
			"dav: push-register: the limit of %d push registrations per user is reached; unregister one first", limit))
	case errors.Is(err, store.ErrConflict):
		return invalid("push resource registered by another user")
	case err != nil:
		return err
	}
	w.Header().Set("Location", PushRegistrationHref(reg.ID))
	w.Header().Set("Expires", reg.Expires.UTC().Format(http.TimeFormat))
	if created {
		w.WriteHeader(http.StatusCreated)
	} else {
		w.WriteHeader(http.StatusNoContent) // a refresh
	}
	return nil
}

// servePushRegistration answers requests to a registration URL: DELETE
// unregisters; the URL is not otherwise a resource.
func (h *Handler) servePushRegistration(rq *Request, w http.ResponseWriter, r *http.Request, id int64) error {
	if r.Method != http.MethodDelete {
		w.Header().Set("Allow", "OPTIONS, DELETE")
		return &Error{Status: http.StatusMethodNotAllowed, Message: "dav: a push registration only takes DELETE"}
	}
	if err := h.Store.DeletePushRegistration(rq.Context(), rq.User.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func decodeBase64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
