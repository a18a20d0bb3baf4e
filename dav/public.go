package dav

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// Public subscription links: a secret URL under PublicPrefix serves one
// calendar, read-only and without signing in, as one iCalendar file — the
// export GET on the collection serves, with private and confidential
// events masked as for an anonymous sharee, and its ETag, so subscribers
// that poll with If-None-Match get 304 until something changes. The token
// is 256 random bits: a URL is found by knowing it, never by listing or
// guessing; the store finds it by its digest and compares it in constant
// time. Revoking deletes the link (store.DeletePublicLink).

// PublicPrefix is the path under which public links are served.
const PublicPrefix = "/public/"

// publicTokenLen is the length of a token: 32 bytes, base64url, unpadded.
const publicTokenLen = 43

// NewPublicLink makes a public link to collection id with a fresh token.
func NewPublicLink(ctx context.Context, st store.Store, collectionID int64) (*store.PublicLink, error) {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24)
	l := &store.PublicLink{CollectionID: collectionID, Token: base64.RawURLEncoding.EncodeToString(b[:])}
	if err := st.CreatePublicLink(ctx, l); err != nil {
		return nil, err
	}
	return l, nil
}

// PublicLinkPath is the path of a link's URL; a web page prefixes the
// server's base URL (and shows webcal:// for calendar applications).
func PublicLinkPath(token string) string { return PublicPrefix + token + ".ics" }

// validToken reports whether s has a token's shape, so that anything else
// is answered without a store lookup.
func validToken(s string) bool {
	if len(s) != publicTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ServePublic answers GET and HEAD on a public link. An unknown or revoked
// token is 404, the same as a malformed one.
func (h *Handler) ServePublic(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	token, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, PublicPrefix), ".ics")
	if !ok || !validToken(token) {
		http.NotFound(w, r)
		return
	}
	_, c, err := h.Store.GetPublicLink(r.Context(), token)
	var k Kind
	if err == nil {
		if k = h.kindByStoreKind(c.Kind); k == nil || c.Kind != store.KindCalendar {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// Nobody is signed in: the request's user is nobody's.
	rq := h.newRequest(&store.User{}, r)
	res := &Resource{Type: ResCollection, Href: PublicLinkPath(token), Owner: &store.User{ID: c.OwnerID},
		Kind: k, Collection: c, Privileges: PrivRead, Public: true}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Robots-Tag", "noindex")
	if ok, err := h.exportCollection(rq, w, r, res); !ok || err != nil {
		if err == nil {
			err = store.ErrNotFound
		}
		h.fail(w, r, err)
	}
}
