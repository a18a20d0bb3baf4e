// Package slapdtest runs a private OpenLDAP server (Debian's slapd) for
// tests: its own configuration, database and loopback port in a temporary
// directory, seeded from an LDIF, never touching the system's slapd
// configuration. A test that finds no slapd skips, unless
// DAVENPORT_REQUIRE_SLAPD is set (scripts/test.sh sets it after installing
// the package), when it fails.
package slapdtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Suffix, RootDN and RootPassword are those of every server Start makes.
const (
	Suffix       = "dc=example,dc=org"
	RootDN       = "cn=admin," + Suffix
	RootPassword = "root secret"
)

// Server is one running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:port.
	URL string

	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
}

// find returns the slapd binary, or "".
func find() string {
	if p, err := exec.LookPath("slapd"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/slapd", "/usr/local/libexec/slapd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// schemaDir holds core, cosine and inetorgperson.schema (Debian's slapd).
const schemaDir = "/etc/ldap/schema"

// moduleDir holds back_mdb and ppolicy (Debian's slapd).
const moduleDir = "/usr/lib/ldap"

// Start configures, seeds with ldif (entries below Suffix; the suffix
// entry itself is added here) and starts a server, stopped at the end of
// the test.
func Start(t testing.TB, ldif string) *Server {
	t.Helper()
	bin := find()
	if bin == "" {
		if os.Getenv("DAVENPORT_REQUIRE_SLAPD") != "" {
			t.Fatal("slapd is not installed (apt-get install slapd) and DAVENPORT_REQUIRE_SLAPD is set")
		}
		t.Skip("SKIPPING: slapd is not installed (apt-get install slapd); set DAVENPORT_REQUIRE_SLAPD=1 to fail instead")
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	modules := ""
	if _, err := os.Stat(filepath.Join(moduleDir, "back_mdb.la")); err == nil {
		modules = "modulepath " + moduleDir + "\nmoduleload back_mdb\nmoduleload ppolicy\n"
	}
	// ppolicy brings the pwdAccountLockedTime attribute (an administrator
	// locking an account). Passwords are read by binds only; the service
	// account and users read the rest.
	conf := fmt.Sprintf(`include %[1]s/core.schema
include %[1]s/cosine.schema
include %[1]s/inetorgperson.schema
%[2]spidfile %[3]s/slapd.pid
argsfile %[3]s/slapd.args
database mdb
maxsize 16777216
suffix "%[4]s"
rootdn "%[5]s"
rootpw "%[6]s"
directory %[3]s/db
overlay ppolicy
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
`, schemaDir, modules, dir, Suffix, RootDN, RootPassword)
	confPath := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	seed := fmt.Sprintf("dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n%s", Suffix, strings.TrimSpace(ldif)+"\n")
	seedPath := filepath.Join(dir, "seed.ldif")
	if err := os.WriteFile(seedPath, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	slapadd := filepath.Join(filepath.Dir(bin), "slapadd")
	if _, err := os.Stat(slapadd); err != nil {
		slapadd = bin // slapadd is slapd under another name
	}
	cmd := exec.Command(slapadd, "-f", confPath, "-l", seedPath)
	if filepath.Base(slapadd) != "slapadd" {
		cmd = exec.Command(bin, "-T", "add", "-f", confPath, "-l", seedPath)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}
	s := &Server{t: t, bin: bin, dir: dir, port: freePort(t)}
	s.URL = "ldap://127.0.0.1:" + strconv.Itoa(s.port)
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Restart starts the server again after Stop, on the same port and data.
func (s *Server) Restart() {
	s.t.Helper()
	if s.cmd != nil {
		return
	}
	log, err := os.Create(filepath.Join(s.dir, "slapd.log"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer log.Close()
	// -d keeps slapd in the foreground, so that the test owns the process.
	cmd := exec.Command(s.bin, "-f", filepath.Join(s.dir, "slapd.conf"), "-h", s.URL+"/", "-d", "none")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start slapd: %v", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(filepath.Join(s.dir, "slapd.log"))
			s.Stop()
			s.t.Fatalf("slapd did not listen on %s: %v\n%s", s.URL, err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (the directory going down) and waits for it.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}
