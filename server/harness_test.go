package server_test

import (
	"context"
	"encoding/xml"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// env is a full Davenport over loopback HTTP on one store, with users alice
// and bob (each with the default collections).
type env struct {
	t   testing.TB
	st  store.Store
	srv *httptest.Server
}

const (
	alicePassword = "correct horse battery staple"
	bobPassword   = "hunter2hunter2"
)

func newEnv(t *testing.T, st store.Store, opts ...func(*server.Config)) *env {
	return newEnvTB(t, st, opts...)
}

// newEnvTB is newEnv for benchmarks too; opts adjust the server's
// configuration.
func newEnvTB(t testing.TB, st store.Store, opts ...func(*server.Config)) *env {
	return newEnvAuth(t, st, auth.Options{}, opts...)
}

// newEnvAuth is newEnvTB with the given authenticator options (argon2
// parameters default to cheapParams).
func newEnvAuth(t testing.TB, st store.Store, aopts auth.Options, opts ...func(*server.Config)) *env {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return newEnvWith(t, st, logger, aopts, opts...)
}

// newEnvLogger is newEnvTB with the server logging to logger.
func newEnvLogger(t testing.TB, st store.Store, logger *slog.Logger, opts ...func(*server.Config)) *env {
	return newEnvWith(t, st, logger, auth.Options{}, opts...)
}

// newEnvWith builds the env with a logger and authenticator options.
func newEnvWith(t testing.TB, st store.Store, logger *slog.Logger, aopts auth.Options, opts ...func(*server.Config)) *env {
	t.Helper()
	ctx := context.Background()
	for _, u := range []struct{ name, pw, email string }{
		{"alice", alicePassword, "alice@example.org"},
		{"bob", bobPassword, ""},
	} {
		hash, err := auth.HashPasswordParams(u.pw, cheapParams)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateUser(ctx, &store.User{Username: u.name, Email: u.email, DisplayName: strings.ToUpper(u.name[:1]) + u.name[1:], PasswordHash: hash}, server.DefaultCollections()); err != nil {
			t.Fatal(err)
		}
	}
	if aopts.Params == (auth.Params{}) {
		aopts.Params = cheapParams
	}
	a, err := auth.New(st, logger, aopts)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Store: st, Auth: a, Logger: logger, MaxResourceSize: 1 << 20, Version: "test"}
	for _, o := range opts {
		o(&cfg)
	}
	srv := httptest.NewServer(server.New(cfg))
	t.Cleanup(srv.Close)
	return &env{t: t, st: st, srv: srv}
}

// cheapParams keep argon2 fast in tests; the defaults are tested in auth.
var cheapParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// request is one HTTP request of a test.
type request struct {
	method, path, body string
	header             map[string]string
	user, password     string // default alice
	anonymous          bool
}

func (e *env) do(r request) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(r.method, e.srv.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if !r.anonymous {
		user, pw := r.user, r.password
		if user == "" {
			user, pw = "alice", alicePassword
		}
		req.SetBasicAuth(user, pw)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func clientBody(t *testing.T, name string) string {
	t.Helper()
	// A copy of the team's client captures (shared/clients) lives in
	// testdata, so the tests do not depend on the checkout layout.
	b, err := os.ReadFile(filepath.Join("testdata", "clients", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Canonical form of a multistatus for golden files: one element per line,
// fixed prefixes, responses sorted by href and properties by name, and
// volatile values (ETags, sync tokens, dates) replaced by placeholders.
var (
	reETag  = regexp.MustCompile(`"[0-9a-f]{32}"`)
	reToken = regexp.MustCompile(`http://davenport\.invalid/sync/\d+/\d+(/\d+)?`)
	reDate  = regexp.MustCompile(`\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z`)
)

var goldenPrefixes = map[string]string{dav.NSDavenport: "DP", dav.NSDAV: "D", dav.NSCalDAV: "C", dav.NSCardDAV: "CR", dav.NSCS: "CS", dav.NSApple: "ICAL"}

func canonical(t *testing.T, body string) string {
	t.Helper()
	root, err := dav.ParseXML([]byte(body), dav.DefaultLimits)
	if err != nil {
		t.Fatalf("response is not well-formed XML: %v\n%s", err, body)
	}
	sortTree(root)
	var b strings.Builder
	writeCanonical(&b, root, 0)
	s := reETag.ReplaceAllString(b.String(), `"ETAG"`)
	s = reToken.ReplaceAllString(s, "SYNC-TOKEN")
	return reDate.ReplaceAllString(s, "DATE")
}

func sortTree(e *dav.Element) {
	switch e.Name {
	case dav.Name("multistatus"):
		// Responses by href; anything else (DAV:sync-token) after them.
		key := func(c *dav.Element) (bool, string) {
			if c.Name != dav.Name("response") {
				return false, c.Name.Local
			}
			return true, c.Child(dav.Name("href")).Text
		}
		sort.SliceStable(e.Children, func(i, j int) bool {
			ri, ki := key(e.Children[i])
			rj, kj := key(e.Children[j])
			if ri != rj {
				return ri
			}
			return ki < kj
		})
	case dav.Name("prop"):
		sort.SliceStable(e.Children, func(i, j int) bool {
			a, b := e.Children[i].Name, e.Children[j].Name
			if a.Space != b.Space {
				return a.Space < b.Space
			}
			return a.Local < b.Local
		})
	}
	for _, c := range e.Children {
		if c != nil {
			sortTree(c)
		}
	}
}

func qname(n xml.Name) string {
	if p, ok := goldenPrefixes[n.Space]; ok {
		return p + ":" + n.Local
	}
	return "{" + n.Space + "}" + n.Local
}

func writeCanonical(b *strings.Builder, e *dav.Element, depth int) {
	b.WriteString(strings.Repeat("  ", depth))
	b.WriteString("<" + qname(e.Name))
	for _, a := range e.Attr {
		b.WriteString(" " + a.Name.Local + `="` + a.Value + `"`)
	}
	switch {
	case len(e.Children) == 0 && e.Text == "":
		b.WriteString("/>\n")
	case len(e.Children) == 0:
		b.WriteString(">" + strings.ReplaceAll(e.Text, "\r\n", "\\r\\n\n") + "</" + qname(e.Name) + ">\n")
	default:
		b.WriteString(">\n")
		for _, c := range e.Children {
			writeCanonical(b, c, depth+1)
		}
		b.WriteString(strings.Repeat("  ", depth) + "</" + qname(e.Name) + ">\n")
	}
}

// golden compares got with testdata/<name>.golden, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./server -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test ./server -update rewrites it)\n--- got:\n%s\n--- want:\n%s", name, got, want)
	}
}
