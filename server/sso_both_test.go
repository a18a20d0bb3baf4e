package server_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/internal/slapdtest"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
	"github.com/davenport-dav/davenport/web"
)

// TestOIDCAndLDAPTogether: with both set up, an account made by an OIDC
// sign-in is not the directory's: its app passwords work although the
// directory has no such user, and the directory's password of a namesake
// does not open it. A directory user still signs in over DAV, and local
// accounts alongside.
func TestOIDCAndLDAPTogether(t *testing.T) {
	srv := slapdtest.Start(t, serverLDAPSeed+`
dn: uid=jane.doe,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: jane.doe
cn: Jane in the directory
sn: Doe
userPassword: jane directory secret
`)
	testdb.Each(t, func(t *testing.T, st store.Store) {
		srv.Restart()
		m, _ := mockProvider(t)
		d, err := auth.NewLDAP(auth.LDAPConfig{URL: srv.URL, BindDN: slapdtest.RootDN, BindPassword: slapdtest.RootPassword,
			BaseDN: "ou=people," + slapdtest.Suffix, Timeout: 2 * time.Second}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		e := newEnvAuth(t, st, auth.Options{Directory: d, NewUserCollections: server.DefaultCollections}, func(c *server.Config) {
			c.OIDC = &web.OIDCConfig{Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret, Name: "Mock ID"}
		})
		ctx := t.Context()
		// signIn signs name in through the provider and gives them an app
		// password.
		signIn := func(name string) string {
			t.Helper()
			m.QueueUser(&mockoidc.MockUser{Subject: "s-" + name, PreferredUsername: name})
			b := e.browser(t)
			code, _, h := b.get("/web/oidc/login")
			if code != http.StatusFound {
				t.Fatalf("oidc login = %d", code)
			}
			req, _ := http.NewRequest("GET", h.Get("Location"), nil)
			_, _, h = b.do(req)
			req, _ = http.NewRequest("GET", h.Get("Location"), nil)
			if code, body, _ := b.do(req); code != http.StatusSeeOther {
				t.Fatalf("oidc callback = %d\n%s", code, body)
			}
			u, err := st.GetUser(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			pw, _, err := auth.AddAppPassword(ctx, st, u.ID, "phone")
			if err != nil {
				t.Fatal(err)
			}
			return pw
		}
		pw := signIn("jane.doe")
		kimPW := signIn("kim") // the directory has no kim
		propfind := func(user, pw string) int {
			t.Helper()
			return e.do(request{method: "PROPFIND", path: "/dav/calendars/" + user + "/", user: user, password: pw, header: map[string]string{"Depth": "0"}}).StatusCode
		}
		if got := propfind("kim", kimPW); got != http.StatusMultiStatus {
			t.Errorf("OIDC user unknown to the directory, app password: %d, want 207", got)
		}
		if got := propfind("jane.doe", pw); got != http.StatusMultiStatus {
			t.Errorf("OIDC user's app password with a directory set up: %d, want 207", got)
		}
		if got := propfind("jane.doe", "jane directory secret"); got != http.StatusUnauthorized {
			t.Errorf("the directory's password of the OIDC account's namesake: %d, want 401", got)
		}
		if got := propfind("dora", "dora directory secret"); got != http.StatusMultiStatus {
			t.Errorf("directory user: %d", got)
		}
		if got := propfind("alice", alicePassword); got != http.StatusMultiStatus {
			t.Errorf("local user: %d", got)
		}
	})
}
