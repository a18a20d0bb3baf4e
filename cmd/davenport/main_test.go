package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/davenport-dav/davenport/store/testdb"
)

// syncBuffer is a bytes.Buffer safe to read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// serving is a `davenport serve` running in the test process.
type serving struct {
	url            string
	stdout, stderr *syncBuffer
	stop           func() int
}

var reListening = regexp.MustCompile(`davenport listening"? addr=(\S+)`)

func startServe(t *testing.T, env map[string]string, args ...string) *serving {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), strings.NewReader(""), s.stdout, s.stderr)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := reListening.FindStringSubmatch(s.stderr.String()); m != nil {
			s.url = "http://" + m[1]
			break
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited with %d\nstdout: %s\nstderr: %s", code, s.stdout, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start\nstderr: %s", s.stderr)
		}
	}
	s.stop = func() int { cancel(); return <-done }
	t.Cleanup(func() { cancel() })
	return s
}

func propfind(t *testing.T, url, user, pw string) int {
	t.Helper()
	req, _ := http.NewRequest("PROPFIND", url+"/dav/calendars/"+user+"/", strings.NewReader(`<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>`))
	req.Header.Set("Depth", "1")
	req.SetBasicAuth(user, pw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

var rePassword = regexp.MustCompile(`Password:\s+(\S+)`)

// TestFirstRun: in an empty directory, serve creates admin, prints its
// password once with the client URL, and a restart keeps the data and
// prints nothing.
func TestFirstRun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "data", "davenport.db")
	t.Setenv("DAVENPORT_ADMIN_PASSWORD", "")
	os.Unsetenv("DAVENPORT_ADMIN_PASSWORD")
	s := startServe(t, nil, "--database", db)
	out := s.stdout.String()
	m := rePassword.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "admin") || !strings.Contains(out, "http://localhost:") {
		t.Fatalf("first run did not print the admin credentials and URL:\n%s", out)
	}
	if got := propfind(t, s.url, "admin", m[1]); got != 207 {
		t.Fatalf("admin with the printed password: %d", got)
	}
	if got := propfind(t, s.url, "admin", "wrong"); got != 401 {
		t.Fatalf("admin with a wrong password: %d", got)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("serve exit code %d on shutdown\n%s", code, s.stderr)
	}
	if strings.Contains(s.stderr.String(), m[1]) {
		t.Errorf("the password reached the log")
	}

	s = startServe(t, nil, "--database", db)
	if out := s.stdout.String(); strings.Contains(out, "Password") || strings.Contains(out, m[1]) {
		t.Errorf("restart printed credentials again:\n%s", out)
	}
	if got := propfind(t, s.url, "admin", m[1]); got != 207 {
		t.Fatalf("after restart: %d", got)
	}
	s.stop()
}

func TestFirstRunPasswordFromEnvironment(t *testing.T) {
	db := filepath.Join(t.TempDir(), "d.db")
	s := startServe(t, map[string]string{"DAVENPORT_ADMIN_PASSWORD": "s3cret-from-env"}, "--database", "sqlite:"+db)
	if strings.Contains(s.stdout.String(), "s3cret-from-env") {
		t.Errorf("the password from the environment was printed")
	}
	if got := propfind(t, s.url, "admin", "s3cret-from-env"); got != 207 {
		t.Fatalf("admin with the environment's password: %d", got)
	}
	s.stop()
}

// TestUserCommands runs the account commands on both stores.
func TestUserCommands(t *testing.T) {
	stores := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "users.db") },
		"postgres": func(t *testing.T) string { return testdb.PostgresDSN(t) },
	}
	for _, name := range []string{"postgres", "sqlite"} {
		t.Run(name, func(t *testing.T) {
			db := stores[name](t)
			code, out, errs := runCmd(t, "", "user", "add", "carol", "--database", db, "--email", "carol@example.org", "--display-name", "Carol C")
			if code != 0 {
				t.Fatalf("user add: %d %s", code, errs)
			}
			m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("user add printed no generated password:\n%s", out)
			}
			if code, _, _ := runCmd(t, "", "user", "add", "carol", "--database", db); code != 1 {
				t.Errorf("adding carol twice: exit %d, want 1", code)
			}
			if code, _, _ := runCmd(t, "pw-from-stdin\n", "user", "add", "dave", "--password-stdin", "--database", db); code != 0 {
				t.Errorf("user add --password-stdin: %d", code)
			}
			if code, _, errs := runCmd(t, "", "user", "set-email", "dave", "Dave@Example.net", "--database", db); code != 0 {
				t.Errorf("user set-email: %d %s", code, errs)
			}
			for _, bad := range []string{"no-at-sign", "a@b\r\nBcc: x@y", "<a@b>"} {
				if code, _, _ := runCmd(t, "", "user", "set-email", "dave", bad, "--database", db); code != 2 && code != 1 {
					t.Errorf("user set-email %q: exit %d; want a refusal", bad, code)
				}
			}
			code, out, _ = runCmd(t, "", "user", "list", "--database", db)
			if !strings.Contains(out, "Dave@Example.net") {
				t.Errorf("user list after set-email:\n%s", out)
			}
			if code != 0 || !strings.Contains(out, "carol") || !strings.Contains(out, "Carol C") || !strings.Contains(out, "dave") {
				t.Errorf("user list: %d\n%s", code, out)
			}
			if code, _, errs := runCmd(t, "new-password\n", "user", "passwd", "carol", "--password-stdin", "--database", db); code != 0 {
				t.Errorf("user passwd: %d %s", code, errs)
			}
			if code, _, _ := runCmd(t, "long-enough\n", "user", "passwd", "nobody", "--password-stdin", "--database", db); code != 1 {
				t.Errorf("passwd of a missing user: %d", code)
			}
			s := startServe(t, nil, "--database", db)
			if got := propfind(t, s.url, "carol", "new-password"); got != 207 {
				t.Errorf("carol with the new password: %d", got)
			}
			if got := propfind(t, s.url, "carol", m[1]); got != 401 {
				t.Errorf("carol with the old password: %d", got)
			}
			if got := propfind(t, s.url, "dave", "pw-from-stdin"); got != 207 {
				t.Errorf("dave: %d", got)
			}
			s.stop()
			if code, _, _ := runCmd(t, "", "user", "delete", "carol", "--database", db); code != 0 {
				t.Errorf("user delete: %d", code)
			}
			_, out, _ = runCmd(t, "", "user", "list", "--database", db)
			if strings.Contains(out, "carol") {
				t.Errorf("carol still listed after delete:\n%s", out)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{}, {"nonsense"}, {"user"}, {"user", "add"}, {"serve", "--log-level", "loud"},
		{"serve", "--log-format", "xml"}, {"serve", "--no-such-flag"},
		{"serve", "--sqlite-synchronous", "off"}, {"serve", "--max-connections", "-1"}, {"serve", "--statement-timeout", "-1s"}, {"user", "add", "bad/name", "--database", filepath.Join(t.TempDir(), "x.db")},
	} {
		if code, _, _ := runCmd(t, "", args...); code != 2 {
			t.Errorf("davenport %v: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := runCmd(t, "", "version"); code != 0 || !strings.Contains(out, "davenport") {
		t.Errorf("version: %d %q", code, out)
	}
}

// TestBadDatabase: an unusable data directory, a corrupt file or a database
// from a newer version gives a clear error and exit code 1, and nothing is
// overwritten.
func TestBadDatabase(t *testing.T) {
	dir := t.TempDir()
	t.Run("unwritable data directory", func(t *testing.T) {
		file := filepath.Join(dir, "a-file")
		os.WriteFile(file, []byte("x"), 0o600)
		code, _, errs := runCmd(t, "", "serve", "--listen", "127.0.0.1:0", "--database", filepath.Join(file, "data", "d.db"))
		if code != 1 || !strings.Contains(errs, "a-file") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})
	t.Run("corrupt file", func(t *testing.T) {
		db := filepath.Join(dir, "corrupt.db")
		junk := bytes.Repeat([]byte("this is not a database "), 500)
		os.WriteFile(db, junk, 0o600)
		code, _, errs := runCmd(t, "", "serve", "--listen", "127.0.0.1:0", "--database", db)
		if code != 1 || !strings.Contains(errs, "corrupt.db") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
		if got, _ := os.ReadFile(db); !bytes.Equal(got, junk) {
			t.Errorf("the corrupt file was modified")
		}
	})
	t.Run("newer schema", func(t *testing.T) {
		db := filepath.Join(dir, "newer.db")
		if code, _, errs := runCmd(t, "", "migrate", "--database", db); code != 0 {
			t.Fatalf("migrate: %d %s", code, errs)
		}
		sdb, err := sql.Open("sqlite", db)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sdb.Exec(`UPDATE schema_migrations SET version = 9999`); err != nil {
			t.Fatal(err)
		}
		sdb.Close()
		before, _ := os.ReadFile(db)
		code, _, errs := runCmd(t, "", "serve", "--listen", "127.0.0.1:0", "--database", db)
		if code != 1 || !strings.Contains(errs, "newer") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
		if after, _ := os.ReadFile(db); !bytes.Equal(before, after) {
			t.Errorf("the newer database was modified")
		}
	})
	t.Run("unreachable postgres", func(t *testing.T) {
		code, _, errs := runCmd(t, "", "user", "list", "--database", "postgres://nobody:secretpw@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
		if code != 1 || strings.Contains(errs, "secretpw") {
			t.Errorf("exit %d, stderr %q (must not show the password)", code, errs)
		}
	})
}

func TestEnvironmentAndFiles(t *testing.T) {
	db := filepath.Join(t.TempDir(), "env.db")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("from-a-file\n"), 0o600)
	t.Setenv("DAVENPORT_DATABASE", db)
	t.Setenv("DAVENPORT_ADMIN_PASSWORD_FILE", pwFile)
	s := startServe(t, nil)
	if got := propfind(t, s.url, "admin", "from-a-file"); got != 207 {
		t.Errorf("admin password from DAVENPORT_ADMIN_PASSWORD_FILE: %d", got)
	}
	s.stop()
	t.Setenv("DAVENPORT_ADMIN_PASSWORD", "both")
	if code, _, errs := runCmd(t, "", "serve", "--listen", "127.0.0.1:0"); code != 2 || !strings.Contains(errs, "_FILE") {
		t.Errorf("both X and X_FILE: exit %d %q", code, errs)
	}
}

// TestUnknownDatabaseScheme: a --database that looks like a URL of a scheme
// Davenport does not read fails with exit 1 and a message naming the
// scheme, and creates nothing (before, it made a SQLite file in a folder
// named after the URL and a new admin).
func TestUnknownDatabaseScheme(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, dsn := range []string{
		"postgress://davenport:hunter22@db:5432/davenport",
		"mysql://davenport:hunter22@db/davenport",
		"sqlite:///data/davenport.db",
		"https://example.org/davenport",
	} {
		for _, args := range [][]string{
			{"serve", "--listen", "127.0.0.1:0", "--database", dsn},
			{"user", "add", "alice", "--database", dsn},
			{"user", "list", "--database", dsn},
			{"migrate", "--database", dsn},
		} {
			code, out, errs := runCmd(t, "", args...)
			scheme, _, _ := strings.Cut(dsn, "://")
			if code != 1 || !strings.Contains(errs, scheme+"://") || strings.Contains(errs+out, "hunter22") {
				t.Errorf("davenport %v: exit %d, stderr %q; want 1 and a message naming %s:// without the password",
					args, code, errs, scheme)
			}
		}
		t.Setenv("DAVENPORT_DATABASE", dsn)
		if code, _, _ := runCmd(t, "", "user", "list"); code != 1 {
			t.Errorf("DAVENPORT_DATABASE=%s: exit %d, want 1", dsn, code)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files were created: %v", entries)
	}
}

// TestHelp: -h and --help on every command and subcommand print the usage
// to stdout and exit 0 (serve --help exited 2, user --help was an error).
func TestHelp(t *testing.T) {
	db := filepath.Join(t.TempDir(), "help.db")
	t.Setenv("DAVENPORT_DATABASE", db)
	for _, args := range [][]string{
		{"help"}, {"-h"}, {"--help"},
		{"serve", "-h"}, {"serve", "--help"}, {"migrate", "-h"}, {"migrate", "--help"},
		{"user", "-h"}, {"user", "--help"}, {"user", "help"},
		{"user", "add", "-h"}, {"user", "add", "alice", "--help"}, {"user", "passwd", "--help"},
		{"user", "unlock", "-h"}, {"user", "delete", "-h"}, {"user", "list", "--help"},
	} {
		code, out, errs := runCmd(t, "", args...)
		if code != 0 || !strings.Contains(out, "Usage") {
			t.Errorf("davenport %v: exit %d, stdout %q, stderr %q; want 0 and the usage", args, code, out, errs)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("asking for help opened the database")
	}
	_, out, _ := runCmd(t, "", "serve", "--help")
	if !strings.Contains(out, "(default 10MiB)") || !strings.Contains(out, "-max-resource-size size") {
		t.Errorf("serve --help does not show the size default as 10MiB:\n%s", out)
	}
}

func TestByteSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		str  string
	}{
		{"10MiB", 10 << 20, "10MiB"},
		{"512KiB", 512 << 10, "512KiB"},
		{"1GiB", 1 << 30, "1GiB"},
		{"1536KiB", 1536 << 10, "1536KiB"},
		{"1048576", 1 << 20, "1MiB"},
		{"1000", 1000, "1000B"},
		{"2 MB", 2e6, "2000000B"},
		{" 7B ", 7, "7B"},
	} {
		var b byteSize
		if err := b.Set(tt.in); err != nil || int64(b) != tt.want || b.String() != tt.str {
			t.Errorf("Set(%q) = %d (%s), %v; want %d (%s)", tt.in, int64(b), b.String(), err, tt.want, tt.str)
		}
	}
	for _, in := range []string{"10XMiB", "-5MiB", "0", "MiB", "", "ten", "1.5MiB", "9999999999999GiB"} {
		var b byteSize
		err := b.Set(in)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", in)) {
			t.Errorf("Set(%q) = %v; want an error naming the whole input", in, err)
		}
	}
}

// TestWeakPasswords: a chosen password under 8 characters is refused by
// user add and user passwd (NIST SP 800-63B) unless --allow-weak, and
// nothing is changed; generated passwords are unaffected.
func TestWeakPasswords(t *testing.T) {
	testdbEach(t, func(t *testing.T, db string) {
		if code, _, errs := runCmd(t, "abc\n", "user", "add", "weak", "--password-stdin", "--database", db); code != 2 || !strings.Contains(errs, "--allow-weak") {
			t.Errorf("user add with a 3-character password: exit %d %q; want 2 and a hint at --allow-weak", code, errs)
		}
		// Eight characters, counted as characters, not bytes.
		if code, _, errs := runCmd(t, "ünïcödé\n", "user", "add", "seven", "--password-stdin", "--database", db); code != 2 {
			t.Errorf("user add with a 7-character (12-byte) password: exit %d %q; want 2", code, errs)
		}
		_, out, _ := runCmd(t, "", "user", "list", "--database", db)
		if strings.Contains(out, "weak") || strings.Contains(out, "seven") {
			t.Errorf("a refused user was created:\n%s", out)
		}
		if code, _, errs := runCmd(t, "abc\n", "user", "add", "weak", "--password-stdin", "--allow-weak", "--database", db); code != 0 {
			t.Errorf("user add --allow-weak: exit %d %s", code, errs)
		}
		if code, _, errs := runCmd(t, "12345678\n", "user", "add", "eight", "--password-stdin", "--database", db); code != 0 {
			t.Errorf("user add with 8 characters: exit %d %s", code, errs)
		}
		if code, _, _ := runCmd(t, "short\n", "user", "passwd", "eight", "--password-stdin", "--database", db); code != 2 {
			t.Errorf("user passwd with a 5-character password: exit %d; want 2", code)
		}
		if code, _, errs := runCmd(t, "short\n", "user", "passwd", "eight", "--allow-weak", "--password-stdin", "--database", db); code != 0 {
			t.Errorf("user passwd --allow-weak: exit %d %s", code, errs)
		}
		if code, out, _ := runCmd(t, "", "user", "add", "generated", "--database", db); code != 0 || !strings.Contains(out, "password: ") {
			t.Errorf("user add with a generated password: exit %d\n%s", code, out)
		}
		s := startServe(t, nil, "--database", db)
		defer s.stop()
		if got := propfind(t, s.url, "weak", "abc"); got != 207 {
			t.Errorf("weak with the allowed weak password: %d", got)
		}
		if got := propfind(t, s.url, "eight", "short"); got != 207 {
			t.Errorf("eight after passwd --allow-weak: %d", got)
		}
	})
}

// testdbEach runs f with a fresh database of each store: a SQLite path and
// a PostgreSQL URL.
func testdbEach(t *testing.T, f func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, filepath.Join(t.TempDir(), "d.db")) })
	t.Run("postgres", func(t *testing.T) { f(t, testdb.PostgresDSN(t)) })
}

// TestUsernamesCaseInsensitive: on both stores, ALICE cannot be created
// next to alice, every command and a login find her in any case, and the
// server answers /dav/…/Alice/ with her canonical hrefs.
func TestUsernamesCaseInsensitive(t *testing.T) {
	testdbEach(t, func(t *testing.T, db string) {
		if code, out, errs := runCmd(t, "alice-password\n", "user", "add", "Alice", "--password-stdin", "--database", db); code != 0 || !strings.Contains(out, "created user alice") {
			t.Fatalf("user add Alice: exit %d %q %s; want it created as alice", code, out, errs)
		}
		if code, _, errs := runCmd(t, "other-password\n", "user", "add", "ALICE", "--password-stdin", "--database", db); code != 1 || !strings.Contains(errs, "already exists") {
			t.Errorf("user add ALICE next to alice: exit %d %q; want 1, already exists", code, errs)
		}
		if code, _, errs := runCmd(t, "new-password\n", "user", "passwd", "aLiCe", "--password-stdin", "--database", db); code != 0 {
			t.Errorf("user passwd aLiCe: exit %d %s", code, errs)
		}
		s := startServe(t, nil, "--database", db)
		defer s.stop()
		for _, login := range []string{"alice", "Alice", "ALICE"} {
			if got := propfind(t, s.url, login, "new-password"); got != 207 {
				t.Errorf("PROPFIND /dav/calendars/%s/ as %s: %d; want 207", login, login, got)
			}
		}
		req, _ := http.NewRequest("PROPFIND", s.url+"/dav/principals/Alice/", strings.NewReader(
			`<D:propfind xmlns:D="DAV:"><D:prop><D:principal-URL/><D:displayname/></D:prop></D:propfind>`))
		req.Header.Set("Depth", "0")
		req.SetBasicAuth("Alice", "new-password")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 207 || strings.Contains(string(body), "Alice") || !strings.Contains(string(body), "/dav/principals/alice/") {
			t.Errorf("PROPFIND /dav/principals/Alice/: %d\n%s\nwant 207 with canonical hrefs", resp.StatusCode, body)
		}
	})
}

// TestUnlockEndToEnd: with a server running, ten wrong passwords throttle
// the user (429 even for the right password); user passwd and user unlock,
// run as separate commands against the same database, lift it for the next
// request.
func TestUnlockEndToEnd(t *testing.T) {
	testdbEach(t, func(t *testing.T, db string) {
		if code, _, errs := runCmd(t, "first-password\n", "user", "add", "alice", "--password-stdin", "--database", db); code != 0 {
			t.Fatalf("user add: %d %s", code, errs)
		}
		s := startServe(t, nil, "--database", db)
		defer s.stop()
		lockOut := func() {
			t.Helper()
			for range 10 {
				if got := propfind(t, s.url, "alice", "wrong-password"); got != 401 {
					t.Fatalf("wrong password: %d; want 401", got)
				}
			}
		}
		lockOut()
		if got := propfind(t, s.url, "alice", "first-password"); got != 429 {
			t.Fatalf("right password after 10 failures: %d; want 429", got)
		}
		if code, _, errs := runCmd(t, "second-password\n", "user", "passwd", "Alice", "--password-stdin", "--database", db); code != 0 {
			t.Fatalf("user passwd: %d %s", code, errs)
		}
		if got := propfind(t, s.url, "alice", "second-password"); got != 207 {
			t.Errorf("new password right after user passwd: %d; want 207", got)
		}
		lockOut()
		if got := propfind(t, s.url, "alice", "second-password"); got != 429 {
			t.Fatalf("right password after 10 more failures: %d; want 429", got)
		}
		code, out, errs := runCmd(t, "", "user", "unlock", "ALICE", "--database", db)
		if code != 0 || !strings.Contains(out, "unlocked alice") {
			t.Fatalf("user unlock: %d %q %s", code, out, errs)
		}
		if got := propfind(t, s.url, "alice", "second-password"); got != 207 {
			t.Errorf("right password right after user unlock: %d; want 207", got)
		}
		if code, _, _ := runCmd(t, "", "user", "unlock", "nobody", "--database", db); code != 1 {
			t.Errorf("user unlock of a missing user: exit %d, want 1", code)
		}
	})
}

// TestFirstRunNamesWorkingCommand: the first-run box names the command that
// reaches this server's database: go run under go run (as the test binary
// runs from a go-build directory), with the --database that was given.
func TestFirstRunNamesWorkingCommand(t *testing.T) {
	t.Setenv("DAVENPORT_ADMIN_PASSWORD", "")
	os.Unsetenv("DAVENPORT_ADMIN_PASSWORD")
	db := filepath.Join(t.TempDir(), "first.db")
	s := startServe(t, nil, "--database", db)
	defer s.stop()
	if want := "go run ./cmd/davenport user passwd admin --database " + db; !strings.Contains(s.stdout.String(), want) {
		t.Errorf("first-run box does not name %q:\n%s", want, s.stdout)
	}
}

func TestCLICommand(t *testing.T) {
	dir := t.TempDir()
	onPath := filepath.Join(dir, "davenport")
	os.WriteFile(onPath, []byte("x"), 0o755)
	other := filepath.Join(dir, "other", "davenport")
	os.MkdirAll(filepath.Dir(other), 0o755)
	os.WriteFile(other, []byte("x"), 0o755)
	exe := func(p string) func() (string, error) { return func() (string, error) { return p, nil } }
	look := func(string) (string, error) { return onPath, nil }
	notFound := func(string) (string, error) { return "", os.ErrNotExist }
	for _, tt := range []struct {
		name, container string
		exe             func() (string, error)
		arg0            string
		look            func(string) (string, error)
		want            string
	}{
		{"compose", "compose", exe(onPath), "/davenport", look, "docker compose exec davenport /davenport"},
		{"image", "docker", exe(onPath), "/davenport", look, "docker exec CONTAINER /davenport"},
		{"go run", "", exe("/tmp/go-build1474152893/b001/exe/davenport"), "/tmp/go-build1474152893/b001/exe/davenport", look, "go run ./cmd/davenport"},
		{"go run cached", "", exe("/root/.cache/go-build/ab/abcd-d/davenport"), "davenport", notFound, "go run ./cmd/davenport"},
		{"on PATH", "", exe(onPath), "davenport", look, "davenport"},
		{"by path", "", exe(other), "./other/davenport", look, "./other/davenport"},
		{"by path, not on PATH", "", exe(other), "./other/davenport", notFound, "./other/davenport"},
	} {
		if got := cliCommand(tt.container, tt.exe, tt.arg0, tt.look); got != tt.want {
			t.Errorf("%s: cliCommand = %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestClientURL(t *testing.T) {
	host := func() (string, error) { return "nas", nil }
	tcp := func(ip string, port int) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: port} }
	for _, tt := range []struct {
		name, base  string
		addr        net.Addr
		inContainer bool
		want        string
		https       bool
		acme        []string
	}{
		{"all interfaces, IPv4", "", tcp("0.0.0.0", 8008), false, "http://nas:8008/", false, nil},
		{"all interfaces, IPv6", "", tcp("::", 8008), false, "http://nas:8008/", false, nil},
		{"all interfaces in a container", "", tcp("::", 8008), true, "http://localhost:8008/", false, nil},
		{"loopback", "", tcp("127.0.0.1", 9000), false, "http://localhost:9000/", false, nil},
		{"one address", "", tcp("192.0.2.7", 8008), false, "http://192.0.2.7:8008/", false, nil},
		{"one IPv6 address", "", tcp("2001:db8::7", 8008), false, "http://[2001:db8::7]:8008/", false, nil},
		{"base URL", "https://dav.example.org", tcp("0.0.0.0", 8008), false, "https://dav.example.org/", false, nil},
		{"HTTPS", "", tcp("0.0.0.0", 8443), false, "https://nas:8443/", true, nil},
		{"HTTPS on 443", "", tcp("::", 443), false, "https://nas/", true, nil},
		{"HTTPS on 443, one IPv6 address", "", tcp("2001:db8::7", 443), false, "https://[2001:db8::7]/", true, nil},
		{"plain HTTP on 80", "", tcp("192.0.2.7", 80), false, "http://192.0.2.7/", false, nil},
		{"ACME on 443", "", tcp("0.0.0.0", 443), false, "https://dav.example.org/", true, []string{"dav.example.org", "cal.example.org"}},
		{"ACME elsewhere", "", tcp("0.0.0.0", 8443), false, "https://dav.example.org:8443/", true, []string{"dav.example.org"}},
		{"base URL wins over ACME", "https://cal.example.org/", tcp("0.0.0.0", 443), false, "https://cal.example.org/", true, []string{"dav.example.org"}},
	} {
		if got := clientURL(tt.base, tt.addr, tt.inContainer, host, tt.https, tt.acme); got != tt.want {
			t.Errorf("%s: clientURL = %q; want %q", tt.name, got, tt.want)
		}
	}
}

// TestUserAddRefusesUnsafeNames: `user add` applies store.ValidateUsername
// to the name as typed (exit 2, nothing created), and a name in another
// Unicode form than an existing one is that name (exit 1).
func TestUserAddRefusesUnsafeNames(t *testing.T) {
	testdbEach(t, func(t *testing.T, db string) {
		for _, name := range []string{".", "..", "a/b", "al\xffice", "\xc0\xae\xc0\xae", "admin\u200b", "ev\u202eil", "a\tb"} {
			if code, out, errs := runCmd(t, "", "user", "add", name, "--database", db); code != 2 || !strings.Contains(errs, "invalid user name") {
				t.Errorf("user add %+q: exit %d %q %q; want 2, invalid user name", name, code, out, errs)
			}
		}
		if code, _, errs := runCmd(t, "", "user", "add", "zo\u00eb", "--database", db); code != 0 {
			t.Fatalf("user add zoë: exit %d %s", code, errs)
		}
		if code, _, errs := runCmd(t, "", "user", "add", "zoe\u0308", "--database", db); code != 1 || !strings.Contains(errs, "already exists") {
			t.Errorf("user add zoë decomposed next to zoë: exit %d %q; want 1, already exists", code, errs)
		}
		if code, out, errs := runCmd(t, "", "user", "list", "--database", db); code != 0 || strings.Count(out, "zo\u00eb") != 1 {
			t.Errorf("user list: exit %d %q %s; want zoë once", code, out, errs)
		}
	})
}

// cli runs the command line against db: ok runs a command that must
// succeed and returns what it printed, fails one that must exit with want.
func cli(t *testing.T, db string) (ok func(args ...string) string, fails func(want int, args ...string)) {
	ok = func(args ...string) string {
		t.Helper()
		code, out, errs := runCmd(t, "", append(args, "--database", db)...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errs)
		}
		return out
	}
	fails = func(want int, args ...string) {
		t.Helper()
		if code, _, errs := runCmd(t, "", append(args, "--database", db)...); code != want {
			t.Errorf("%v: exit %d (%s), want %d", args, code, errs, want)
		}
	}
	return ok, fails
}
