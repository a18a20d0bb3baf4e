package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
	"github.com/davenport-dav/davenport/web"
)

// otherNonce is a mock user whose ID token carries a nonce of another
// sign-in.
type otherNonce struct{ *mockoidc.MockUser }

func (u otherNonce) Claims(scope []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	c.Nonce = "a nonce of another sign-in"
	return u.MockUser.Claims(scope, c)
}

// mockProvider runs mockoidc on loopback; tamper, while set, corrupts the
// signature of the ID tokens its token endpoint returns.
func mockProvider(t *testing.T) (*mockoidc.MockOIDC, *atomic.Bool) {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	m.CodeChallengeMethodsSupported = []string{"S256"}
	tamper := new(atomic.Bool)
	m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !tamper.Load() || !strings.HasSuffix(r.URL.Path, mockoidc.TokenEndpoint) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err == nil {
				if tok, ok := body["id_token"].(string); ok {
					parts := strings.Split(tok, ".")
					sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
					sig[0] ^= 1
					parts[2] = base64.RawURLEncoding.EncodeToString(sig)
					body["id_token"] = strings.Join(parts, ".")
				}
			}
			b, _ := json.Marshal(body)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Del("Content-Length")
			w.WriteHeader(rec.Code)
			w.Write(b)
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return m, tamper
}

// TestOIDCSignIn: a full sign-in through an OpenID Connect provider
// provisions the user with their collections and a session; a state, nonce
// or PKCE verifier that does not match, a tampered or an expired ID token
// each end on a page that says so, with nothing provisioned; local
// accounts keep signing in with their passwords alongside.
func TestOIDCSignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		m, tamper := mockProvider(t)
		e := newEnvAuth(t, st, auth.Options{NewUserCollections: server.DefaultCollections}, func(c *server.Config) {
			c.OIDC = &web.OIDCConfig{Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret,
				Name: "Mock ID", AdminGroup: "engineering"}
		})
		ctx := t.Context()

		// flow signs in through the provider; edit may change the
		// callback URL before it is followed. It returns the last answer.
		flow := func(b *browser, edit func(*url.URL)) (int, string, http.Header) {
			t.Helper()
			code, body, h := b.get("/")
			if code != http.StatusOK || !strings.Contains(body, "Sign in with Mock ID") {
				t.Fatalf("sign-in page = %d, no provider button\n%s", code, body)
			}
			code, _, h = b.get("/web/oidc/login?next=/web/account")
			if code != http.StatusFound {
				t.Fatalf("GET /web/oidc/login = %d", code)
			}
			auth, _ := url.Parse(h.Get("Location"))
			if q := auth.Query(); q.Get("state") == "" || q.Get("nonce") == "" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
				t.Fatalf("authorization request lacks state, nonce or PKCE S256: %s", auth)
			}
			req, _ := http.NewRequest("GET", auth.String(), nil)
			code, body, h = b.do(req)
			if code != http.StatusFound {
				t.Fatalf("provider's authorize = %d\n%s", code, body)
			}
			cb, _ := url.Parse(h.Get("Location"))
			if !strings.HasPrefix(cb.String(), e.srv.URL+web.OIDCCallbackPath) {
				t.Fatalf("provider redirected to %s", cb)
			}
			if edit != nil {
				edit(cb)
			}
			req, _ = http.NewRequest("GET", cb.String(), nil)
			req.Header.Set("Accept", "text/html")
			return b.do(req)
		}
		users := func() int {
			t.Helper()
			n, err := st.CountUsers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := users()

		refusals := []struct {
			name   string
			user   mockoidc.User
			setup  func(b *browser)
			edit   func(*url.URL)
			code   int
			phrase string
		}{
			{name: "state mismatch", edit: func(u *url.URL) {
				q := u.Query()
				q.Set("state", "forged")
				u.RawQuery = q.Encode()
			}, code: http.StatusBadRequest, phrase: "state mismatch"},
			{name: "nonce mismatch", user: otherNonce{&mockoidc.MockUser{Subject: "n1", PreferredUsername: "mallory"}},
				code: http.StatusUnauthorized, phrase: "nonce mismatch"},
			{name: "PKCE verifier wrong", setup: func(b *browser) {
				// The verifier kept in this browser's cookie is replaced
				// after the challenge was sent.
				srvURL, _ := url.Parse(e.srv.URL + web.OIDCCallbackPath)
				for _, c := range b.c.Jar.Cookies(srvURL) {
					if c.Name == "davenport_oidc" {
						raw, _ := base64.RawURLEncoding.DecodeString(c.Value)
						var f map[string]string
						json.Unmarshal(raw, &f)
						f["v"] = "a-verifier-of-another-sign-in-0123456789abcdefghijk"
						raw, _ = json.Marshal(f)
						b.c.Jar.SetCookies(srvURL, []*http.Cookie{{Name: "davenport_oidc", Value: base64.RawURLEncoding.EncodeToString(raw), Path: "/web/oidc/"}})
					}
				}
			}, code: http.StatusUnauthorized, phrase: "did not accept this sign-in"},
			{name: "tampered ID token", setup: func(*browser) { tamper.Store(true) },
				code: http.StatusUnauthorized, phrase: "not valid"},
			{name: "expired ID token", setup: func(*browser) { m.AccessTTL = -time.Minute },
				code: http.StatusUnauthorized, phrase: "not valid"},
		}
		for _, c := range refusals {
			t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
				defer func() { tamper.Store(false); m.AccessTTL = 10 * time.Minute }()
				u := c.user
				if u == nil {
					u = &mockoidc.MockUser{Subject: c.name, PreferredUsername: "mallory"}
				}
				m.QueueUser(u)
				b := e.browser(t)
				edit := c.edit
				if c.setup != nil {
					edit = func(cb *url.URL) {
						c.setup(b)
						if c.edit != nil {
							c.edit(cb)
						}
					}
				}
				code, body, h := flow(b, edit)
				if code != c.code || !strings.Contains(body, c.phrase) || !strings.Contains(body, "Sign-in failed") {
					t.Errorf("callback = %d, want %d with %q\n%s", code, c.code, c.phrase, body)
				}
				for _, ck := range (&http.Response{Header: h}).Cookies() {
					if ck.Name == "davenport_session" && ck.MaxAge >= 0 && ck.Value != "" {
						t.Errorf("a session cookie was set: %v", ck)
					}
				}
				if n := users(); n != before {
					t.Errorf("%d users after a refused sign-in, want %d", n, before)
				}
				if code, _, _ := b.get("/web/"); code == http.StatusOK {
					t.Error("signed in after a refused sign-in")
				}
			})
		}

		// A full sign-in.
		m.QueueUser(&mockoidc.MockUser{Subject: "s-jane", PreferredUsername: "Jane.Doe", Email: "jane@example.org",
			EmailVerified: true, Groups: []string{"engineering"}})
		b := e.browser(t)
		code, body, h := flow(b, nil)
		if code != http.StatusSeeOther || h.Get("Location") != "/web/account" {
			t.Fatalf("callback = %d %q\n%s", code, h.Get("Location"), body)
		}
		code, body, _ = b.get("/web/account")
		if code != http.StatusOK || !strings.Contains(body, "need an app password") || !strings.Contains(body, `id="external-password"`) {
			t.Errorf("account page after the OIDC sign-in = %d\n%s", code, body)
		}
		jane, err := st.GetUser(ctx, "jane.doe")
		if err != nil || jane.Email != "jane@example.org" || auth.HasLocalPassword(jane) {
			t.Fatalf("provisioned jane = %+v, %v", jane, err)
		}
		if cols, err := st.ListCollections(ctx, jane.ID, store.KindCalendar); err != nil || len(cols) == 0 {
			t.Errorf("jane's calendars = %v, %v", cols, err)
		}
		if acct, err := st.GetAccount(ctx, jane.ID); err != nil || !acct.Admin {
			t.Errorf("jane (in the admin group) = %+v, %v", acct, err)
		}
		// Her DAV client uses an app password.
		pw, _, err := auth.AddAppPassword(ctx, st, jane.ID, "laptop")
		if err != nil {
			t.Fatal(err)
		}
		if r := e.do(request{method: "PROPFIND", path: "/dav/calendars/jane.doe/", user: "jane.doe", password: pw, header: map[string]string{"Depth": "0"}}); r.StatusCode != http.StatusMultiStatus {
			t.Errorf("jane's app password: PROPFIND = %d", r.StatusCode)
		}
		// The second sign-in finds the account; leaving the admin group
		// takes the role away.
		m.QueueUser(&mockoidc.MockUser{Subject: "s-jane", PreferredUsername: "jane.doe", Email: "jane@example.org", EmailVerified: true})
		if code, _, _ := flow(e.browser(t), nil); code != http.StatusSeeOther {
			t.Fatalf("second sign-in = %d", code)
		}
		if acct, _ := st.GetAccount(ctx, jane.ID); acct.Admin {
			t.Error("jane kept the admin role after leaving the admin group")
		}
		if n := users(); n != before+1 {
			t.Errorf("%d users, want %d", n, before+1)
		}

		// A provider user named like a local account does not get it.
		m.QueueUser(&mockoidc.MockUser{Subject: "s-alice", PreferredUsername: "alice"})
		if code, body, _ := flow(e.browser(t), nil); code != http.StatusForbidden || !strings.Contains(body, "sign in with its password") {
			t.Errorf("OIDC sign-in as local alice = %d\n%s", code, body)
		}
		// Local accounts sign in with their passwords alongside.
		e.browser(t).signIn("alice", alicePassword)
		if r := e.do(request{method: "PROPFIND", path: "/dav/calendars/alice/", header: map[string]string{"Depth": "0"}}); r.StatusCode != http.StatusMultiStatus {
			t.Errorf("local alice: PROPFIND = %d", r.StatusCode)
		}
	})
}
