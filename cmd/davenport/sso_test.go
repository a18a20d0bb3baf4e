package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/internal/slapdtest"
)

// TestServeLDAP: serve with --ldap-* signs a directory user in over DAV,
// provisioning them; the bind password read from its _FILE variable and
// the user's password never reach the log, even at debug level.
func TestServeLDAP(t *testing.T) {
	srv := slapdtest.Start(t, `
dn: cn=reader,dc=example,dc=org
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: the-bind-secret

dn: uid=dora,dc=example,dc=org
objectClass: inetOrgPerson
uid: dora
cn: Dora
sn: Dora
userPassword: the-user-secret
`)
	dir := t.TempDir()
	secret := filepath.Join(dir, "bind")
	if err := os.WriteFile(secret, []byte("the-bind-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, map[string]string{"DAVENPORT_LDAP_BIND_PASSWORD_FILE": secret, "DAVENPORT_ADMIN_PASSWORD": "admin password"},
		"--database", filepath.Join(dir, "db"), "--log-level", "debug",
		"--ldap-url", srv.URL, "--ldap-bind-dn", "cn=reader,"+slapdtest.Suffix, "--ldap-base-dn", slapdtest.Suffix)
	if got := propfind(t, s.url, "dora", "the-user-secret"); got != 207 {
		t.Fatalf("directory user: PROPFIND = %d\n%s", got, s.stderr)
	}
	if got := propfind(t, s.url, "dora", "wrong"); got != 401 {
		t.Errorf("directory user, wrong password: %d", got)
	}
	if got := propfind(t, s.url, "admin", "admin password"); got != 207 {
		t.Errorf("local admin alongside: %d", got)
	}
	s.stop()
	log := s.stderr.String()
	if !strings.Contains(log, "ldap:") {
		t.Errorf("no ldap line in the log:\n%s", log)
	}
	for _, pw := range []string{"the-bind-secret", "the-user-secret"} {
		if strings.Contains(log, pw) {
			t.Errorf("%q reached the log", pw)
		}
	}
}

func TestServeSSOFlagErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	for _, args := range [][]string{
		{"--ldap-url", "http://ldap.example.org", "--ldap-base-dn", "dc=x"},
		{"--ldap-url", "ldap://ldap.example.org"},
		{"--ldap-url", "ldap://ldap.example.org", "--ldap-base-dn", "dc=x", "--ldap-user-filter", "(uid=alice)"},
		{"--oidc-issuer", "https://id.example.org"},
	} {
		code, _, stderr := runCmd(t, "", append([]string{"serve", "--listen", "127.0.0.1:0", "--database", db}, args...)...)
		if code != 2 {
			t.Errorf("serve %v: exit %d, want 2\n%s", args, code, stderr)
		}
	}
}
