package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store/testdb"
)

// envChild makes the test binary run main() instead of the tests: the
// crash test starts the server as a process of its own, to kill it. The
// test binary is this package's main with the tests linked in, so the
// child runs the real command line, signal handling and store opening, and
// the suite does not build the binary (and the embedded store's driver)
// a second time.
const envChild = "DAVENPORT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// child is a `davenport serve` process.
type child struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	exited chan struct{}
}

const crashPassword = "crash-test-password"

// startChild starts the server on database and waits until it answers
// /healthz.
func startChild(t *testing.T, database string) *child {
	t.Helper()
	// At info, for the line with the address; requests are logged too.
	cmd := exec.Command(os.Args[0], "serve", "--listen", "127.0.0.1:0", "--database", database, "--log-level", "info")
	cmd.Env = append(os.Environ(), envChild+"=1", "DAVENPORT_ADMIN_PASSWORD="+crashPassword)
	c := &child{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() { c.kill() })
	deadline := time.Now().Add(60 * time.Second)
	for c.url == "" {
		if m := reListening.FindStringSubmatch(c.stderr.String()); m != nil {
			c.url = "http://" + m[1]
			break
		}
		select {
		case <-c.exited:
			t.Fatalf("serve exited: %v\n%s", cmd.ProcessState, c.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start in 60s\n%s", c.stderr)
		}
	}
	for {
		resp, err := http.Get(c.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not healthy in 60s\n%s", c.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
}

// write is one body sent for a name, and the ETag the server answered.
type write struct {
	body, etag string
}

// item is one resource as the clients know it: the last write the server
// acknowledged (nil before the first) and the one in flight when the
// server died, whose outcome is unknown (nil when none).
type item struct {
	path, contentType string
	acked, pending    *write
}

// crashClient is one writer. It owns its items: no two writers write the
// same name, so each name's history is a sequence.
type crashClient struct {
	id    int
	items []*item
	rev   int
	fails []string // answers that were not 2xx while the server was up
}

var crashHTTP = &http.Client{Timeout: 30 * time.Second}

func crashDo(method, url, contentType, body string, header map[string]string) (*http.Response, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	req.SetBasicAuth("admin", crashPassword)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := crashHTTP.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// write runs until the server stops answering: new events and vCards, and
// new versions of its own earlier ones (with If-Match when it knows the
// ETag). The request in flight when the server dies stays pending.
func (cl *crashClient) write(base string, round int, r *rand.Rand) {
	for {
		var it *item
		switch k := r.IntN(100); {
		case k < 60 || len(cl.items) == 0:
			n := len(cl.items)
			it = &item{path: fmt.Sprintf("/dav/calendars/admin/personal/w%d-%d.ics", cl.id, n), contentType: "text/calendar; charset=utf-8"}
			if k%3 == 0 {
				it = &item{path: fmt.Sprintf("/dav/addressbooks/admin/contacts/w%d-%d.vcf", cl.id, n), contentType: "text/vcard; charset=utf-8"}
			}
			cl.items = append(cl.items, it)
		default:
			it = cl.items[r.IntN(len(cl.items))]
		}
		cl.rev++
		v := &write{body: crashBody(it, cl.id, round, cl.rev)}
		h := map[string]string{}
		if it.acked != nil && it.acked.etag != "" {
			h["If-Match"] = it.acked.etag
		} else if it.acked == nil {
			h["If-None-Match"] = "*"
		}
		it.pending = v
		resp, _, err := crashDo(http.MethodPut, base+it.path, it.contentType, v.body, h)
		if err != nil {
			return // the server is gone; v's fate is unknown
		}
		if resp.StatusCode/100 != 2 {
			cl.fails = append(cl.fails, fmt.Sprintf("PUT %s: %s", it.path, resp.Status))
			it.pending = nil
			if it.acked == nil {
				cl.items = cl.items[:len(cl.items)-1]
			}
			continue
		}
		v.etag = resp.Header.Get("ETag")
		it.acked, it.pending = v, nil
	}
}

// crashBody is a distinct body for each write, of a few hundred bytes to a
// few kilobytes, so that a torn write cannot pass for another version.
func crashBody(it *item, client, round, rev int) string {
	uid := strings.TrimSuffix(filepath.Base(it.path), filepath.Ext(it.path))
	note := strings.Repeat(fmt.Sprintf("round %d revision %d ", round, rev), 1+rev%60)
	if strings.HasSuffix(it.path, ".vcf") {
		return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:Crash " + uid + "\r\nN:" + uid + ";Crash;;;\r\n" +
			"NOTE:" + note + "\r\nEND:VCARD\r\n"
	}
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//davenport//crash test//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T" + fmt.Sprintf("%02d", rev%24) + "0000Z\r\nDURATION:PT1H\r\n" +
		"SUMMARY:crash " + strconv.Itoa(client) + "\r\nDESCRIPTION:" + note + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

var reToken = regexp.MustCompile(`<[^>]*sync-token>([^<]+)</`)

// syncToken reads a collection's DAV:sync-token (RFC 6578 §4).
func syncToken(base, path string) (string, error) {
	resp, body, err := crashDo("PROPFIND", base+path, "application/xml", `<d:propfind xmlns:d="DAV:"><d:prop><d:sync-token/></d:prop></d:propfind>`,
		map[string]string{"Depth": "0"})
	if err != nil {
		return "", err
	}
	m := reToken.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusMultiStatus || m == nil {
		return "", fmt.Errorf("PROPFIND %s sync-token: %s %s", path, resp.Status, body)
	}
	return m[1], nil
}

// tokenModSeq is the modseq a token carries (dav's syncTokenPrefix +
// "ID/MODSEQ").
func tokenModSeq(t *testing.T, tok string) int64 {
	t.Helper()
	parts := strings.Split(tok, "/")
	n, err := strconv.ParseInt(parts[len(parts)-1], 10, 64)
	if err != nil || len(parts) < 2 {
		t.Fatalf("unexpected sync token %q", tok)
	}
	return n
}

// members lists a collection's member paths (PROPFIND Depth: 1).
func members(t *testing.T, base, path string) map[string]bool {
	t.Helper()
	resp, body, err := crashDo("PROPFIND", base+path, "application/xml", `<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>`,
		map[string]string{"Depth": "1"})
	if err != nil || resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("PROPFIND %s: %v %v", path, err, resp)
	}
	var ms struct {
		Responses []struct {
			Href string `xml:"href"`
		} `xml:"response"`
	}
	if err := xml.Unmarshal([]byte(body), &ms); err != nil {
		t.Fatalf("PROPFIND %s: %v", path, err)
	}
	out := map[string]bool{}
	for _, r := range ms.Responses {
		if r.Href != path {
			out[r.Href] = true
		}
	}
	return out
}

// TestKillNine kills the server with SIGKILL at a random moment of a
// stream of concurrent PUTs (new and overwritten events and vCards), then
// checks the store with `davenport check` and restarts the server on it:
// every acknowledged write is there byte for byte with its ETag, the one
// in flight per writer is there whole or not at all, nothing else is
// listed, and the sync tokens have not gone back (a token handed out
// before the kill is still accepted). Several rounds per store, each on
// the store the last one left (issue 18).
func TestKillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	for _, b := range []struct {
		name     string
		database func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "davenport.db") }},
		{"postgres", func(t *testing.T) string { return testdb.PostgresDSN(t) }},
	} {
		t.Run(b.name, func(t *testing.T) {
			killNine(t, b.database(t), 3)
		})
	}
}

func killNine(t *testing.T, database string, rounds int) {
	const writers = 6
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 18))
	clients := make([]*crashClient, writers)
	for i := range clients {
		clients[i] = &crashClient{id: i}
	}
	var lastToken map[string]string // collection path → token seen before the last kill
	for round := 1; round <= rounds; round++ {
		srv := startChild(t, database)
		if lastToken != nil {
			checkTokens(t, srv.url, lastToken)
		}
		verify(t, srv.url, clients, round)

		var wg sync.WaitGroup
		for _, cl := range clients {
			wg.Add(1)
			rr := rand.New(rand.NewPCG(r.Uint64(), uint64(cl.id)))
			go func() { defer wg.Done(); cl.write(srv.url, round, rr) }()
		}
		time.Sleep(time.Duration(400+r.IntN(1200)) * time.Millisecond)
		lastToken = map[string]string{}
		for _, p := range []string{"/dav/calendars/admin/personal/", "/dav/addressbooks/admin/contacts/"} {
			tok, err := syncToken(srv.url, p)
			if err != nil {
				t.Fatal(err)
			}
			lastToken[p] = tok
		}
		time.Sleep(time.Duration(r.IntN(200)) * time.Millisecond)
		srv.kill()
		wg.Wait()
		acked, pending := 0, 0
		for _, cl := range clients {
			for _, f := range cl.fails {
				t.Errorf("round %d: %s while the server was up", round, f)
			}
			cl.fails = nil
			for _, it := range cl.items {
				if it.acked != nil {
					acked++
				}
				if it.pending != nil {
					pending++
				}
			}
		}
		t.Logf("round %d: killed with %d items acknowledged, %d writes in flight", round, acked, pending)

		// The store as the crash left it, before a server opens it again.
		var out, errb strings.Builder
		if code := run(context.Background(), []string{"check", "--database", database}, strings.NewReader(""), &out, &errb); code != 0 {
			t.Fatalf("round %d: davenport check = %d\n%s%s", round, code, out.String(), errb.String())
		}
	}
	srv := startChild(t, database)
	checkTokens(t, srv.url, lastToken)
	verify(t, srv.url, clients, rounds+1)
	srv.kill()
}

// checkTokens: a token handed out before the kill still names a state the
// store has, so sync-collection accepts it (RFC 6578 §3.2: a token from
// the future would be refused with DAV:valid-sync-token), and the current
// token is not behind it.
func checkTokens(t *testing.T, base string, before map[string]string) {
	t.Helper()
	for p, old := range before {
		now, err := syncToken(base, p)
		if err != nil {
			t.Fatal(err)
		}
		if tokenModSeq(t, now) < tokenModSeq(t, old) {
			t.Errorf("%s: sync token went back from %s to %s", p, old, now)
		}
		resp, body, err := crashDo("REPORT", base+p, "application/xml",
			`<d:sync-collection xmlns:d="DAV:"><d:sync-token>`+old+`</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`, nil)
		if err != nil || resp.StatusCode != http.StatusMultiStatus {
			t.Errorf("%s: sync-collection from the token before the kill (%s): %v %v %s", p, old, err, resp, body)
		}
	}
}

// verify checks every item against the server after a restart and
// settles the writes that were in flight: from then on each item's state
// is known again.
func verify(t *testing.T, base string, clients []*crashClient, round int) {
	t.Helper()
	known := map[string]bool{}
	for _, cl := range clients {
		kept := cl.items[:0]
		for _, it := range cl.items {
			known[it.path] = true
			resp, body, err := crashDo(http.MethodGet, base+it.path, "", "", nil)
			if err != nil {
				t.Fatalf("GET %s: %v", it.path, err)
			}
			etag := resp.Header.Get("ETag")
			switch {
			case resp.StatusCode == http.StatusNotFound && it.acked == nil:
				// Only ever in flight: it may never have been stored.
				continue
			case resp.StatusCode != http.StatusOK:
				t.Errorf("round %d: GET %s = %s, want the acknowledged version", round, it.path, resp.Status)
			case it.acked != nil && body == it.acked.body:
				if it.acked.etag != "" && etag != it.acked.etag {
					t.Errorf("round %d: %s: ETag %s, acknowledged %s", round, it.path, etag, it.acked.etag)
				}
			case it.pending != nil && body == it.pending.body:
				it.acked = &write{body: body, etag: etag} // the write in flight made it, whole
			default:
				t.Errorf("round %d: %s holds neither the acknowledged version nor the one in flight:\n%q", round, it.path, body)
			}
			it.pending = nil
			kept = append(kept, it)
		}
		cl.items = kept
	}
	for _, p := range []string{"/dav/calendars/admin/personal/", "/dav/addressbooks/admin/contacts/"} {
		for m := range members(t, base, p) {
			if !known[m] {
				t.Errorf("round %d: %s lists %s, which no client wrote", round, p, m)
			}
		}
	}
}
