package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/davenport-dav/davenport/store"
)

type userKey struct{}

// WithUser returns ctx carrying u as the authenticated user.
func WithUser(ctx context.Context, u *store.User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFromContext returns the user Middleware authenticated for the request.
func UserFromContext(ctx context.Context) (*store.User, bool) {
	u, ok := ctx.Value(userKey{}).(*store.User)
	return u, ok && u != nil
}

// Middleware requires HTTP Basic authentication (RFC 7617) for every request
// to next, and puts the authenticated *store.User in the request context
// (see UserFromContext).
//
// Responses it writes itself, each with a short text/plain body:
//   - 401 with WWW-Authenticate: Basic realm="…", charset="UTF-8" when
//     credentials are missing, malformed, or wrong.
//   - 429 with Retry-After (seconds) and no WWW-Authenticate while the client
//     is throttled. A 401 would be wrong here: CalDAV and CardDAV clients
//     answer a 401 by asking the user for the password again or by flagging
//     the account as broken, so a user whose right password is refused
//     concludes it is wrong, and every re-entry is another failure that
//     extends the block. 429 (RFC 6585 §4) names the real cause and carries
//     the wait; a client that does not know it fails that one sync as an
//     ordinary error and retries at its next interval with the password it
//     keeps. 503 was rejected because it tells clients and monitoring that
//     the whole server is down. WWW-Authenticate is left out so that no
//     client reads the response as a request for new credentials.
//   - 503 with Retry-After and DirectoryUnavailableMessage when the
//     account directory (LDAP) cannot be asked about a user it has not
//     vouched for within Options.DirectoryGrace.
//   - 503 with Retry-After when the store is unavailable (store.ErrUnavailable:
//     a database restart or outage) or the request ran out of time, 500
//     when the store fails otherwise (logged once at Error), 503 when the
//     request's context ended during the check.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := a.RemoteIP(r)
		username, password, res := parseBasic(r.Header.Values("Authorization"))
		switch res {
		case basicMissing:
			a.log.DebugContext(r.Context(), "auth required", "ip", ip, "method", r.Method, "path", r.URL.Path)
			a.challenge(w, "authentication required")
			return
		case basicMalformed:
			a.log.InfoContext(r.Context(), "auth failed", "ip", ip, "reason", "malformed authorization header")
			a.challenge(w, "malformed authorization header")
			return
		}
		u, err := a.Authenticate(r.Context(), username, password, ip)
		var throttled *ThrottledError
		switch {
		case err == nil:
			next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
		case errors.Is(err, ErrInvalidCredentials):
			a.challenge(w, "invalid username or password")
		case errors.As(err, &throttled):
			secs := int64(math.Ceil(throttled.RetryAfter.Seconds()))
			w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
			textError(w, http.StatusTooManyRequests, "too many failed login attempts, retry later")
		case errors.Is(err, ErrDirectoryUnavailable):
			// Logged by Authenticate. Not the user's fault (401 would make
			// the client ask for the password again) and not a bug.
			w.Header().Set("Retry-After", retryAfterUnavailable)
			textError(w, http.StatusServiceUnavailable, DirectoryUnavailableMessage)
		case errors.Is(err, context.Canceled):
			a.log.DebugContext(r.Context(), "auth abandoned", "ip", ip, "err", err)
			textError(w, http.StatusServiceUnavailable, "request ended")
		case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
			// The user could not be looked up: not a wrong password (401
			// would make clients ask for it again) and not a bug (500).
			a.log.WarnContext(r.Context(), "auth lookup unavailable", "user", logName(username), "ip", ip, "err", err)
			w.Header().Set("Retry-After", retryAfterUnavailable)
			textError(w, http.StatusServiceUnavailable, "service unavailable, retry later")
		default:
			a.log.ErrorContext(r.Context(), "auth lookup failed", "user", logName(username), "ip", ip, "err", err)
			textError(w, http.StatusInternalServerError, "internal error")
		}
	})
}

// challenge answers 401 with the Basic challenge. RFC 9110 §11.6.1: a server
// generating a 401 "MUST send a WWW-Authenticate header field containing at
// least one challenge". The charset parameter (RFC 7617 §2.1) tells clients
// to send UTF-8.
func (a *Authenticator) challenge(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Basic realm=`+quote(a.realm)+`, charset="UTF-8"`)
	textError(w, http.StatusUnauthorized, msg)
}

// DirectoryUnavailableMessage is the answer to a sign-in the account
// directory could not check.
const DirectoryUnavailableMessage = "the account directory (LDAP) cannot be reached; sign-in is not possible right now, retry later"

// retryAfterUnavailable matches dav.RetryAfterUnavailable: seconds until a
// request refused during a database outage is worth repeating.
const retryAfterUnavailable = "5"

func textError(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write([]byte(msg + "\n"))
}

// quote makes an RFC 9110 §5.6.4 quoted-string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

type basicResult int

const (
	basicOK basicResult = iota
	basicMissing
	basicMalformed
)

// parseBasic extracts Basic credentials from the Authorization header values.
// No header, or another scheme (a client trying Digest or Bearer first), is
// basicMissing so the client gets our challenge; a Basic header that does not
// decode to user-id ":" password is basicMalformed.
//
// Leniencies, each for clients seen sending them: missing base64 padding, and
// credentials that are not UTF-8, read as ISO-8859-1 (the encoding RFC 2617
// era clients used, which RFC 7617 §2.1 leaves open when no charset was
// agreed).
func parseBasic(values []string) (username, password string, res basicResult) {
	if len(values) == 0 {
		return "", "", basicMissing
	}
	if len(values) > 1 {
		return "", "", basicMalformed
	}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	// RFC 9110 §11.1: "It uses a case-insensitive token to identify the
	// authentication scheme".
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", basicMissing
	}
	token := strings.TrimLeft(rest, " ")
	if token == "" || len(token) > 4*(maxUsernameLen+1+maxPasswordLen) {
		return "", "", basicMalformed
	}
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(token)
		if err != nil {
			return "", "", basicMalformed
		}
	}
	s := string(raw)
	if !utf8.ValidString(s) {
		s = latin1ToUTF8(raw)
	}
	// RFC 7617 §2: "a user-id containing a colon character is invalid", so
	// the first colon ends the user-id; the password may contain colons.
	username, password, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", basicMalformed
	}
	return username, password, basicOK
}

func latin1ToUTF8(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// RemoteIP returns the client address of r: the host of r.RemoteAddr, or,
// when that peer is one of Options.TrustedProxies, the rightmost address in
// X-Forwarded-For that is not a trusted proxy. Addresses to the left of that
// one were written by the client and are not believed.
func (a *Authenticator) RemoteIP(r *http.Request) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	if len(a.trusted) == 0 {
		return peer
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil || !a.isTrusted(addr) {
		return peer
	}
	last := addr
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		fields := strings.Split(hops[i], ",")
		for j := len(fields) - 1; j >= 0; j-- {
			f := strings.TrimSpace(fields[j])
			if f == "" {
				continue
			}
			hop, err := netip.ParseAddr(f)
			if err != nil {
				ap, err2 := netip.ParseAddrPort(f)
				if err2 != nil {
					// A trusted proxy passed on something unreadable;
					// stop at the last address known good.
					return last.String()
				}
				hop = ap.Addr()
			}
			hop = hop.Unmap()
			if !a.isTrusted(hop) {
				return hop.String()
			}
			last = hop
		}
	}
	return last.String()
}

func (a *Authenticator) isTrusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range a.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
