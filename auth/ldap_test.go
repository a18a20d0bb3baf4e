package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/davenport-dav/davenport/internal/slapdtest"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// ldapSeed is the directory of the LDAP tests: a service account, three
// people (carol locked by an administrator), and two groups.
const ldapSeed = `
dn: cn=reader,dc=example,dc=org
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: reader secret

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
sn: Liddell
displayName: Alice L.
mail: alice@example.org
userPassword: alice secret

dn: uid=bob,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: bob
cn: Bob Builder
sn: Builder
mail: bob@example.org
userPassword: bob secret

dn: uid=carol,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: carol
cn: Carol
sn: Carol
userPassword: carol secret
pwdAccountLockedTime: 000001010000Z

dn: uid=local,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: local
cn: Directory Local
sn: Local
userPassword: directory local secret

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

dn: cn=staff,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: staff
member: uid=alice,ou=people,dc=example,dc=org
member: uid=bob,ou=people,dc=example,dc=org

dn: cn=ops,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: ops
member: uid=alice,ou=people,dc=example,dc=org
`

func testLDAPConfig(url string) LDAPConfig {
	return LDAPConfig{
		URL:          url,
		BindDN:       "cn=reader," + slapdtest.Suffix,
		BindPassword: "reader secret",
		BaseDN:       "ou=people," + slapdtest.Suffix,
		GroupBaseDN:  "ou=groups," + slapdtest.Suffix,
		Timeout:      2 * time.Second,
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// ldapModify changes an entry as the directory's administrator.
func ldapModify(t *testing.T, url string, m *ldap.ModifyRequest) {
	t.Helper()
	c, err := ldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(slapdtest.RootDN, slapdtest.RootPassword); err != nil {
		t.Fatal(err)
	}
	if err := c.Modify(m); err != nil {
		t.Fatalf("modify %s: %v", m.DN, err)
	}
}

// TestLDAPEscapesUserName: the user name is a value in the filter (RFC 4515
// §3). Unescaped, "ali*" would find alice and her password would sign in an
// account named "ali*"; "*" would match every entry.
func TestLDAPEscapesUserName(t *testing.T) {
	srv := slapdtest.Start(t, ldapSeed)
	d, err := NewLDAP(testLDAPConfig(srv.URL), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if e, err := d.Authenticate(ctx, "alice", "alice secret"); err != nil || e.DisplayName != "Alice L." || e.Email != "alice@example.org" {
		t.Fatalf("alice: %+v, %v", e, err)
	}
	for _, name := range []string{"ali*", "*", "alice)(uid=*", "*)(objectClass=*", `alice\2a`, "alice\x00"} {
		if e, err := d.Authenticate(ctx, name, "alice secret"); !errors.Is(err, ErrDirectoryNoUser) {
			t.Errorf("Authenticate(%q) = %+v, %v; want ErrDirectoryNoUser", name, e, err)
		}
	}
}

func TestNewLDAPRefusesBadConfig(t *testing.T) {
	for _, c := range []LDAPConfig{
		{URL: "http://x", BaseDN: "dc=x"},
		{URL: "ldap://x", BaseDN: ""},
		{URL: "ldaps://x", BaseDN: "dc=x", StartTLS: true},
		{URL: "ldap://x", BaseDN: "dc=x", UserFilter: "(uid=alice)"},
		{URL: "ldap://x", BaseDN: "dc=x", UserFilter: "(uid=%s"},
	} {
		if _, err := NewLDAP(c, slog.New(slog.DiscardHandler)); err == nil {
			t.Errorf("NewLDAP(%+v) accepted", c)
		}
	}
}

// TestLDAPAuthenticate runs every directory case through the
// Authenticator against a real slapd, on both stores.
func TestLDAPAuthenticate(t *testing.T) {
	srv := slapdtest.Start(t, ldapSeed)
	testdb.Each(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		d, err := NewLDAP(testLDAPConfig(srv.URL), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		a, err := New(s, slog.New(slog.DiscardHandler), Options{
			Params: cheap, Directory: d, Now: clk.now, CacheTTL: time.Minute, DirectoryGrace: time.Hour,
			NewUserCollections: func() []store.Collection {
				return []store.Collection{{Kind: store.KindCalendar, Name: "personal"}, {Kind: store.KindAddressBook, Name: "contacts"}}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		// A local account alongside, and one whose name the directory
		// also has: local accounts never reach the directory.
		for _, n := range []string{"admin", "local"} {
			u := &store.User{Username: n}
			if err := s.CreateUser(ctx, u, nil); err != nil {
				t.Fatal(err)
			}
			if err := SetPassword(ctx, s, u, n+" local password"); err != nil {
				t.Fatal(err)
			}
		}
		// A Davenport group the directory does not own.
		friends := &store.Group{Name: "friends"}
		if err := s.CreateGroup(ctx, friends); err != nil {
			t.Fatal(err)
		}

		ip := "192.0.2.7"
		refused := func(name, user, pw string, want error) {
			t.Helper()
			if u, err := a.Authenticate(ctx, user, pw, ip); !errors.Is(err, want) {
				t.Errorf("%s: Authenticate(%q) = %+v, %v; want %v", name, user, u, err, want)
			}
		}
		notProvisioned := func(user string) {
			t.Helper()
			if u, err := s.GetUser(ctx, user); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("user %q provisioned: %+v, %v", user, u, err)
			}
		}

		// Right password: provisioned with home, collections, attributes
		// and groups.
		alice, err := a.Authenticate(ctx, "Alice", "alice secret", ip)
		if err != nil {
			t.Fatalf("alice: %v", err)
		}
		if alice.Username != "alice" || alice.DisplayName != "Alice L." || alice.Email != "alice@example.org" || alice.PasswordHash != "" {
			t.Errorf("provisioned alice = %+v", alice)
		}
		for _, k := range []store.Kind{store.KindCalendar, store.KindAddressBook} {
			if cols, err := s.ListCollections(ctx, alice.ID, k); err != nil || len(cols) != 1 {
				t.Errorf("alice's %s collections = %v, %v; want the default one", k, cols, err)
			}
		}
		if err := s.AddGroupMember(ctx, friends.ID, alice.ID); err != nil {
			t.Fatal(err)
		}
		groupsOf := func(u *store.User) []string {
			t.Helper()
			gs, err := s.ListUserGroups(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, g := range gs {
				names = append(names, g.Name)
			}
			slices.Sort(names)
			return names
		}
		if got := groupsOf(alice); !slices.Equal(got, []string{"friends", "ops", "staff"}) {
			t.Errorf("alice's groups = %v, want friends, ops, staff", got)
		}
		// bob's display name falls back to cn.
		if bob, err := a.Authenticate(ctx, "bob", "bob secret", ip); err != nil || bob.DisplayName != "Bob Builder" {
			t.Errorf("bob = %+v, %v", bob, err)
		}

		refused("wrong password", "alice", "not alice's", ErrInvalidCredentials)
		refused("wrong password of a user not yet provisioned", "bob2", "bob secret", ErrInvalidCredentials)
		refused("unknown user", "nobody", "whatever", ErrInvalidCredentials)
		notProvisioned("nobody")
		for _, inj := range []string{"ali*", "*", "*)(uid=*"} {
			refused("injection "+inj, inj, "alice secret", ErrInvalidCredentials)
			notProvisioned(inj)
		}
		refused("disabled account", "carol", "carol secret", ErrInvalidCredentials)
		notProvisioned("carol")
		// The local account: its own password, not the directory's.
		if _, err := a.Authenticate(ctx, "local", "local local password", ip); err != nil {
			t.Errorf("local account: %v", err)
		}
		refused("directory password of a local account", "local", "directory local secret", ErrInvalidCredentials)
		if _, err := a.Authenticate(ctx, "admin", "admin local password", ip); err != nil {
			t.Errorf("local admin: %v", err)
		}

		// App passwords of a directory user work, and say so.
		appPW, _, err := AddAppPassword(ctx, s, alice.ID, "phone")
		if err != nil {
			t.Fatal(err)
		}
		if u, viaApp, err := a.Check(ctx, "alice", appPW, ip); err != nil || !viaApp || u.ID != alice.ID {
			t.Errorf("alice's app password: %+v, %v, %v", u, viaApp, err)
		}
		if u, viaApp, err := a.Check(ctx, "alice", "alice secret", ip); err != nil || viaApp || u.ID != alice.ID {
			t.Errorf("alice's directory password after adding an app password: %+v, %v, %v", u, viaApp, err)
		}

		// Attribute and group changes are picked up once the cached
		// success expires.
		ldapModify(t, srv.URL, func() *ldap.ModifyRequest {
			m := ldap.NewModifyRequest("uid=alice,ou=people,"+slapdtest.Suffix, nil)
			m.Replace("displayName", []string{"Alice Pleasance"})
			m.Replace("mail", []string{"alice@wonderland.example"})
			return m
		}())
		ldapModify(t, srv.URL, func() *ldap.ModifyRequest {
			m := ldap.NewModifyRequest("cn=ops,ou=groups,"+slapdtest.Suffix, nil)
			m.Replace("member", []string{"uid=bob,ou=people," + slapdtest.Suffix})
			return m
		}())
		if u, err := a.Authenticate(ctx, "alice", "alice secret", ip); err != nil || u.DisplayName != "Alice L." {
			t.Errorf("alice within the cache TTL = %+v, %v; want the cached account", u, err)
		}
		clk.add(2 * time.Minute)
		u, err := a.Authenticate(ctx, "alice", "alice secret", ip)
		if err != nil || u.DisplayName != "Alice Pleasance" || u.Email != "alice@wonderland.example" {
			t.Errorf("alice after the change = %+v, %v", u, err)
		}
		if got, _ := s.GetUser(ctx, "alice"); got.DisplayName != "Alice Pleasance" || got.Email != "alice@wonderland.example" {
			t.Errorf("stored alice after the change = %+v", got)
		}
		if got := groupsOf(alice); !slices.Equal(got, []string{"friends", "staff"}) {
			t.Errorf("alice's groups after leaving ops = %v, want friends, staff", got)
		}
		bob, _ := s.GetUser(ctx, "bob")
		// bob's membership of ops is synced at his next check.
		clk.add(2 * time.Minute)
		if _, err := a.Authenticate(ctx, "bob", "bob secret", ip); err != nil {
			t.Fatal(err)
		}
		if got := groupsOf(bob); !slices.Equal(got, []string{"ops", "staff"}) {
			t.Errorf("bob's groups = %v, want ops, staff", got)
		}

		// The directory goes down. alice checked within the grace period
		// keeps working, with her password and her app password; a user
		// never checked gets ErrDirectoryUnavailable, which the
		// middleware answers 503 with a message.
		srv.Stop()
		defer srv.Restart()
		clk.add(2 * time.Minute)
		if _, err := a.Authenticate(ctx, "alice", "alice secret", ip); err != nil {
			t.Errorf("cached alice with the directory down: %v", err)
		}
		if _, err := a.Authenticate(ctx, "alice", appPW, ip); err != nil {
			t.Errorf("alice's app password with the directory down: %v", err)
		}
		refused("uncached user, directory down", "dave", "dave secret", ErrDirectoryUnavailable)
		refused("cached user, other password, directory down", "alice", "a guess", ErrDirectoryUnavailable)
		notProvisioned("dave")
		h := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		req := httptest.NewRequest("PROPFIND", "/dav/", nil)
		req.SetBasicAuth("dave", "dave secret")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "directory") || rec.Header().Get("Retry-After") == "" {
			t.Errorf("middleware with the directory down: %d %q", rec.Code, rec.Body.String())
		}
		// Past the grace period, alice is refused too: the outage is not a
		// way in for ever.
		clk.add(2 * time.Hour)
		refused("alice past the grace period", "alice", "alice secret", ErrDirectoryUnavailable)
		srv.Restart()
		if _, err := a.Authenticate(ctx, "alice", "alice secret", ip); err != nil {
			t.Errorf("alice with the directory back: %v", err)
		}

		// Locking alice in the directory refuses her at the next check,
		// her app passwords included, and does not leave her a way in
		// through the grace period.
		ldapModify(t, srv.URL, func() *ldap.ModifyRequest {
			m := ldap.NewModifyRequest("uid=alice,ou=people,"+slapdtest.Suffix, nil)
			m.Replace("pwdAccountLockedTime", []string{"000001010000Z"})
			return m
		}())
		defer ldapModify(t, srv.URL, func() *ldap.ModifyRequest {
			m := ldap.NewModifyRequest("uid=alice,ou=people,"+slapdtest.Suffix, nil)
			m.Delete("pwdAccountLockedTime", nil)
			m.Replace("displayName", []string{"Alice L."})
			m.Replace("mail", []string{"alice@example.org"})
			return m
		}())
		defer ldapModify(t, srv.URL, func() *ldap.ModifyRequest {
			m := ldap.NewModifyRequest("cn=ops,ou=groups,"+slapdtest.Suffix, nil)
			m.Replace("member", []string{"uid=alice,ou=people," + slapdtest.Suffix})
			return m
		}())
		clk.add(2 * time.Minute)
		refused("alice locked", "alice", "alice secret", ErrInvalidCredentials)
		refused("alice locked, app password", "alice", appPW, ErrInvalidCredentials)
		srv.Stop()
		refused("alice locked, then the directory down", "alice", "alice secret", ErrDirectoryUnavailable)
		srv.Restart()
	})
}

// countingDirectory counts the questions put to a directory.
type countingDirectory struct {
	Directory
	n int
}

func (c *countingDirectory) Authenticate(ctx context.Context, username, password string) (*DirectoryEntry, error) {
	c.n++
	return c.Directory.Authenticate(ctx, username, password)
}

// TestLDAPUnknownNamesCapped: an address spraying names nobody has is
// refused before the directory is asked, past MaxFailuresPerIP, as it is
// before argon2 for local names; a directory user who has an account
// already still signs in there (one who has none yet is a name nobody has
// here, and waits like one).
func TestLDAPUnknownNamesCapped(t *testing.T) {
	srv := slapdtest.Start(t, ldapSeed)
	d, err := NewLDAP(testLDAPConfig(srv.URL), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cd := &countingDirectory{Directory: d}
	s := testdb.SQLite(t)
	a, err := New(s, slog.New(slog.DiscardHandler), Options{Params: cheap, Directory: cd, MaxFailuresPerIP: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := a.Authenticate(ctx, "bob", "bob secret", "198.51.100.1"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := a.Authenticate(ctx, "nobody"+string(rune('a'+i)), "pw", "198.51.100.1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("unknown name %d: %v", i, err)
		}
	}
	asked := cd.n
	if _, err := a.Authenticate(ctx, "nobodyz", "pw", "198.51.100.1"); !errors.Is(err, ErrThrottled) {
		t.Errorf("unknown name past the cap: %v, want ErrThrottled", err)
	}
	if cd.n != asked {
		t.Errorf("the directory was asked past the cap")
	}
	if _, err := a.Authenticate(ctx, "bob", "bob secret", "198.51.100.1"); err != nil {
		t.Errorf("a directory user at the capped address: %v", err)
	}
	if _, err := a.Authenticate(ctx, "alice", "alice secret", "198.51.100.1"); !errors.Is(err, ErrThrottled) {
		t.Errorf("a directory user without an account yet at the capped address: %v, want ErrThrottled", err)
	}
}
