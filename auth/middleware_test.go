package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

func basic(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

func TestParseBasic(t *testing.T) {
	tests := []struct {
		name     string
		values   []string
		user, pw string
		res      basicResult
	}{
		{"missing", nil, "", "", basicMissing},
		{"plain", []string{basic("alice", "secret")}, "alice", "secret", basicOK},
		{"scheme case-insensitive", []string{"bAsIc " + base64.StdEncoding.EncodeToString([]byte("alice:secret"))}, "alice", "secret", basicOK},
		{"extra spaces", []string{"Basic    " + base64.StdEncoding.EncodeToString([]byte("alice:secret"))}, "alice", "secret", basicOK},
		{"colon in password", []string{basic("alice", "se:cr:et")}, "alice", "se:cr:et", basicOK},
		{"empty password", []string{basic("alice", "")}, "alice", "", basicOK},
		{"utf-8", []string{basic("jürgen", "pässwörd")}, "jürgen", "pässwörd", basicOK},
		{"latin-1 fallback", []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("j\xfcrgen:p\xe4ssw\xf6rd"))}, "jürgen", "pässwörd", basicOK},
		{"unpadded base64", []string{"Basic " + base64.RawStdEncoding.EncodeToString([]byte("alice:secret1"))}, "alice", "secret1", basicOK},
		{"other scheme", []string{"Bearer abc.def"}, "", "", basicMissing},
		{"digest", []string{`Digest username="alice"`}, "", "", basicMissing},
		{"no token", []string{"Basic"}, "", "", basicMalformed},
		{"blank token", []string{"Basic   "}, "", "", basicMalformed},
		{"not base64", []string{"Basic !!!notbase64"}, "", "", basicMalformed},
		{"no colon", []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("alicesecret"))}, "", "", basicMalformed},
		{"two headers", []string{basic("a", "b"), basic("c", "d")}, "", "", basicMalformed},
		{"huge", []string{"Basic " + strings.Repeat("QUFB", 5000)}, "", "", basicMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, p, res := parseBasic(tt.values)
			if u != tt.user || p != tt.pw || res != tt.res {
				t.Fatalf("parseBasic = %q, %q, %v; want %q, %q, %v", u, p, res, tt.user, tt.pw, tt.res)
			}
		})
	}
}

const wantChallenge = `Basic realm="Davenport", charset="UTF-8"`

func TestMiddleware(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(h *harness)
		auth       []string
		wantStatus int
		wantUser   string // handler saw this user
		wantBody   string
	}{
		{name: "no credentials", wantStatus: 401, wantBody: "authentication required\n"},
		{name: "other scheme", auth: []string{"Bearer x"}, wantStatus: 401, wantBody: "authentication required\n"},
		{name: "malformed", auth: []string{"Basic ***"}, wantStatus: 401, wantBody: "malformed authorization header\n"},
		{name: "wrong password", auth: []string{basic("alice", "nope")}, wantStatus: 401, wantBody: "invalid username or password\n"},
		{name: "unknown user", auth: []string{basic("zed", "alice-pw")}, wantStatus: 401, wantBody: "invalid username or password\n"},
		{name: "right password", auth: []string{basic("alice", "alice-pw")}, wantStatus: 200, wantUser: "alice", wantBody: "hello alice"},
		{name: "app password", auth: []string{basic("alice", "alice-phone")}, wantStatus: 200, wantUser: "alice", wantBody: "hello alice"},
		{name: "non-ascii password", auth: []string{basic("jürgen", "grüße")}, wantStatus: 200, wantUser: "jürgen", wantBody: "hello jürgen"},
		{
			name:       "store down",
			setup:      func(h *harness) { h.users.err = errors.New("dial tcp: secret detail") },
			auth:       []string{basic("alice", "alice-pw")},
			wantStatus: 500, wantBody: "internal error\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			h.users.add(t, "alice", "alice-pw", "alice-phone")
			h.users.add(t, "jürgen", "grüße")
			if tt.setup != nil {
				tt.setup(h)
			}
			var saw string
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				u, ok := UserFromContext(r.Context())
				if !ok {
					t.Error("handler reached without a user in the context")
					return
				}
				saw = u.Username
				io.WriteString(w, "hello "+u.Username)
			})
			r := httptest.NewRequest("PROPFIND", "/dav/calendars/alice/", nil)
			for _, v := range tt.auth {
				r.Header.Add("Authorization", v)
			}
			w := httptest.NewRecorder()
			h.a.Middleware(next).ServeHTTP(w, r)

			if w.Code != tt.wantStatus || w.Body.String() != tt.wantBody || saw != tt.wantUser {
				t.Fatalf("got %d %q (user %q); want %d %q (user %q)",
					w.Code, w.Body.String(), saw, tt.wantStatus, tt.wantBody, tt.wantUser)
			}
			challenge := w.Header().Get("WWW-Authenticate")
			if tt.wantStatus == 401 {
				if challenge != wantChallenge {
					t.Fatalf("WWW-Authenticate = %q; want %q", challenge, wantChallenge)
				}
				if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Fatalf("Content-Type = %q", ct)
				}
			} else if challenge != "" {
				t.Fatalf("WWW-Authenticate on a %d: %q", w.Code, challenge)
			}
		})
	}
}

func TestMiddlewareThrottled(t *testing.T) {
	h := newHarness(t, Options{MaxFailures: 2, FailureWindow: 5 * time.Minute})
	h.users.add(t, "alice", "alice-pw")
	mw := h.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	do := func(pw string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/dav/", nil)
		r.RemoteAddr = "203.0.113.9:51000"
		r.Header.Set("Authorization", basic("alice", pw))
		w := httptest.NewRecorder()
		mw.ServeHTTP(w, r)
		return w
	}
	for range 2 {
		if w := do("wrong"); w.Code != 401 {
			t.Fatalf("failure answered %d; want 401", w.Code)
		}
	}
	w := do("alice-pw")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("throttled request answered %d; want 429", w.Code)
	}
	// Two failures with MaxFailures 2: the pair waits 30 s.
	if ra := w.Header().Get("Retry-After"); ra != "30" {
		t.Fatalf("Retry-After = %q; want 30 seconds", ra)
	}
	if c := w.Header().Get("WWW-Authenticate"); c != "" {
		t.Fatalf("429 carries WWW-Authenticate %q; it must not invite re-entry", c)
	}
	if !strings.Contains(w.Body.String(), "too many failed login attempts") {
		t.Fatalf("429 body %q", w.Body.String())
	}
	if w := do("alice-pw"); w.Code != 429 {
		t.Fatalf("second throttled request answered %d", w.Code)
	}
	h.clock.Advance(30 * time.Second)
	if w := do("alice-pw"); w.Code != 200 {
		t.Fatalf("after the back-off: %d; want 200", w.Code)
	}
}

func TestMiddlewareRealm(t *testing.T) {
	h := newHarness(t, Options{Realm: `Home "cal" \ server`})
	w := httptest.NewRecorder()
	h.a.Middleware(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	want := `Basic realm="Home \"cal\" \\ server", charset="UTF-8"`
	if got := w.Header().Get("WWW-Authenticate"); got != want {
		t.Fatalf("WWW-Authenticate = %q; want %q", got, want)
	}
}

func TestRemoteIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name       string
		trusted    []netip.Prefix
		remoteAddr string
		xff        []string
		want       string
	}{
		{"direct", nil, "198.51.100.4:1234", nil, "198.51.100.4"},
		{"xff ignored without trusted proxies", nil, "198.51.100.4:1234", []string{"1.2.3.4"}, "198.51.100.4"},
		{"xff ignored from untrusted peer", proxies, "198.51.100.4:1234", []string{"1.2.3.4"}, "198.51.100.4"},
		{"ipv6 peer", nil, "[2001:db8::5]:443", nil, "2001:db8::5"},
		{"trusted proxy", proxies, "10.1.1.1:5555", []string{"198.51.100.4"}, "198.51.100.4"},
		{"trusted ipv6 proxy", proxies, "[::1]:5555", []string{"198.51.100.4"}, "198.51.100.4"},
		{"spoofed left part ignored", proxies, "10.1.1.1:5555", []string{"6.6.6.6, 198.51.100.4"}, "198.51.100.4"},
		{"proxy chain", proxies, "10.1.1.1:5555", []string{"198.51.100.4, 10.2.2.2"}, "198.51.100.4"},
		{"chain over two header lines", proxies, "10.1.1.1:5555", []string{"6.6.6.6, 198.51.100.4", "10.2.2.2"}, "198.51.100.4"},
		{"all trusted", proxies, "10.1.1.1:5555", []string{"10.3.3.3"}, "10.3.3.3"},
		{"no header", proxies, "10.1.1.1:5555", nil, "10.1.1.1"},
		{"garbage from proxy", proxies, "10.1.1.1:5555", []string{"garbage, 10.2.2.2"}, "10.2.2.2"},
		{"with port", proxies, "10.1.1.1:5555", []string{"198.51.100.4:999"}, "198.51.100.4"},
		{"mapped address", proxies, "10.1.1.1:5555", []string{"::ffff:198.51.100.4"}, "198.51.100.4"},
		{"unix socket", proxies, "@", nil, "@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{TrustedProxies: tt.trusted})
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remoteAddr
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := h.a.RemoteIP(r); got != tt.want {
				t.Fatalf("RemoteIP = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestUserContext(t *testing.T) {
	if u, ok := UserFromContext(context.Background()); ok || u != nil {
		t.Fatalf("empty context gave %v, %v", u, ok)
	}
	if _, ok := UserFromContext(WithUser(context.Background(), nil)); ok {
		t.Fatal("nil user reported as present")
	}
	want := &store.User{ID: 7, Username: "alice"}
	if u, ok := UserFromContext(WithUser(context.Background(), want)); !ok || u != want {
		t.Fatalf("UserFromContext = %v, %v; want %v", u, ok, want)
	}
}

// TestNoSecretsInLogs drives every outcome through the middleware with Debug
// logging on and checks that neither a password nor the Authorization value
// reaches the log.
func TestNoSecretsInLogs(t *testing.T) {
	h := newHarness(t, Options{MaxFailures: 3})
	const (
		right = "Right-Password-7f3a"
		wrong = "Wrong-Password-91bc"
		app   = "App-Password-c0de"
	)
	h.users.add(t, "alice", right, app)
	mw := h.a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	var headers []string
	for _, a := range []string{
		basic("alice", right), basic("alice", right), // verified, then cached
		basic("alice", app),
		basic("nobody", right),
		basic("alice", wrong), basic("alice", wrong), basic("alice", wrong),
		basic("alice", right), // throttled
		"Basic " + base64.StdEncoding.EncodeToString([]byte(wrong)), // no colon: malformed
	} {
		headers = append(headers, a)
		r := httptest.NewRequest("GET", "/dav/", nil)
		r.Header.Set("Authorization", a)
		mw.ServeHTTP(httptest.NewRecorder(), r)
	}
	h.users.err = errors.New("store down")
	r := httptest.NewRequest("GET", "/dav/", nil)
	r.Header.Set("Authorization", basic("alice", right))
	r.RemoteAddr = "198.51.100.200:1"
	mw.ServeHTTP(httptest.NewRecorder(), r)

	logs := h.log.String()
	for _, secret := range append([]string{right, wrong, app}, headers...) {
		if strings.Contains(logs, secret) {
			t.Fatalf("log contains secret %q:\n%s", secret, logs)
		}
		if tok, ok := strings.CutPrefix(secret, "Basic "); ok && strings.Contains(logs, tok) {
			t.Fatalf("log contains an Authorization token:\n%s", logs)
		}
	}
	// The log must still be useful: failures at Info with user and ip,
	// successes at Debug only.
	for _, want := range []string{
		`level=INFO msg="auth failed" user=alice ip=192.0.2.1 reason="wrong password"`,
		`level=INFO msg="auth failed" user=nobody ip=192.0.2.1 reason="unknown user"`,
		`level=INFO msg="auth throttling user at address" user=alice ip=192.0.2.1`,
		`level=INFO msg="auth failed" ip=192.0.2.1 reason="malformed authorization header"`,
		`level=DEBUG msg="auth ok" user=alice ip=192.0.2.1 cached=false`,
		`level=DEBUG msg="auth ok" user=alice ip=192.0.2.1 cached=true`,
		`level=ERROR msg="auth lookup failed" user=alice ip=198.51.100.200`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(logs, `level=INFO msg="auth ok"`) {
		t.Error("success logged above Debug")
	}
	if t.Failed() {
		t.Log(logs)
	}
}
