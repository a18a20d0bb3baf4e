package server_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/internal/slapdtest"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

const serverLDAPSeed = `
dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: uid=dora,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: dora
cn: Dora Explorer
sn: Explorer
mail: dora@example.org
userPassword: dora directory secret

dn: uid=erin,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: erin
cn: Erin
sn: Erin
userPassword: erin directory secret
`

// TestLDAPFullStack: a directory user syncs over DAV and signs in to the
// web UI with the directory password, provisioned on first use; a local
// account keeps working alongside; the directory down answers 503 with a
// message to a user it never vouched for.
func TestLDAPFullStack(t *testing.T) {
	srv := slapdtest.Start(t, serverLDAPSeed)
	testdb.Each(t, func(t *testing.T, st store.Store) {
		srv.Restart()
		d, err := auth.NewLDAP(auth.LDAPConfig{URL: srv.URL, BindDN: slapdtest.RootDN, BindPassword: slapdtest.RootPassword,
			BaseDN: "ou=people," + slapdtest.Suffix, Timeout: 2 * time.Second}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		e := newEnvAuth(t, st, auth.Options{Directory: d, NewUserCollections: server.DefaultCollections})

		propfind := func(user, pw, path string) *http.Response {
			t.Helper()
			return e.do(request{method: "PROPFIND", path: path, user: user, password: pw, header: map[string]string{"Depth": "1"}})
		}
		if r := propfind("alice", alicePassword, "/dav/calendars/alice/"); r.StatusCode != http.StatusMultiStatus {
			t.Errorf("local alice: PROPFIND = %d", r.StatusCode)
		}
		r := propfind("dora", "dora directory secret", "/dav/calendars/dora/")
		if body := readBody(t, r); r.StatusCode != http.StatusMultiStatus || !strings.Contains(body, "/dav/calendars/dora/personal/") {
			t.Fatalf("dora: PROPFIND her calendar home = %d\n%s", r.StatusCode, body)
		}
		if r := propfind("dora", "wrong", "/dav/calendars/dora/"); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("dora, wrong password: %d", r.StatusCode)
		}
		if r := propfind("dora", "alice's password", "/dav/calendars/alice/"); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("dora with a wrong password on alice's home: %d", r.StatusCode)
		}
		dora, err := st.GetUser(t.Context(), "dora")
		if err != nil || dora.DisplayName != "Dora Explorer" || dora.Email != "dora@example.org" {
			t.Fatalf("provisioned dora = %+v, %v", dora, err)
		}

		// The web UI: the directory password opens it, an app password
		// does not.
		b := e.browser(t)
		b.signIn("dora", "dora directory secret")
		appPW, _, err := auth.AddAppPassword(t.Context(), st, dora.ID, "phone")
		if err != nil {
			t.Fatal(err)
		}
		if r := propfind("dora", appPW, "/dav/calendars/dora/"); r.StatusCode != http.StatusMultiStatus {
			t.Errorf("dora's app password: PROPFIND = %d", r.StatusCode)
		}
		b2 := e.browser(t)
		b2.get("/")
		if code, body, _ := b2.post("/web/login", url.Values{"username": {"dora"}, "password": {appPW}}); code != http.StatusUnauthorized || !strings.Contains(body, "app password") {
			t.Errorf("web sign-in with an app password = %d\n%s", code, body)
		}

		// The directory goes down: erin was never checked.
		srv.Stop()
		defer srv.Restart()
		r = propfind("erin", "erin directory secret", "/dav/calendars/erin/")
		if body := readBody(t, r); r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "directory") || r.Header.Get("Retry-After") == "" {
			t.Errorf("erin with the directory down: %d %q", r.StatusCode, body)
		}
		if r := propfind("dora", "dora directory secret", "/dav/calendars/dora/"); r.StatusCode != http.StatusMultiStatus {
			t.Errorf("cached dora with the directory down: %d", r.StatusCode)
		}
		if r := propfind("alice", alicePassword, "/dav/calendars/alice/"); r.StatusCode != http.StatusMultiStatus {
			t.Errorf("local alice with the directory down: %d", r.StatusCode)
		}
		b3 := e.browser(t)
		b3.get("/")
		if code, body, _ := b3.post("/web/login", url.Values{"username": {"erin"}, "password": {"erin directory secret"}}); code != http.StatusServiceUnavailable || !strings.Contains(body, "directory cannot be reached") {
			t.Errorf("web sign-in with the directory down = %d\n%s", code, body)
		}
		if _, err := st.GetUser(t.Context(), "erin"); err == nil {
			t.Error("erin provisioned while the directory was down")
		}
	})
}
