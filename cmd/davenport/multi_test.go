package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store/testdb"
)

// Users of the multi-instance test besides admin (crashPassword).
const (
	bobPassword   = "bob-multi-password"
	bobNew        = "bob-changed-password"
	carolPassword = "carol-multi-password"
)

// answer is one response, read whole.
type answer struct {
	code int
	body string
	hdr  http.Header
	at   string // the instance that answered
}

// instances sends requests to several `davenport serve` processes on one
// database: do to the next in turn, so that consecutive requests of a flow
// never meet the same process; at to a chosen one. Each browser (a cookie
// jar) is shared by all instances, as behind a load balancer.
type instances struct {
	t    *testing.T
	urls []string
	next int
}

var multiHTTP = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// req is one request: Basic credentials when user is set, the browser's
// cookies when jar is.
type req struct {
	method, path, user, pw, body string
	hdr                          map[string]string
	jar                          http.CookieJar
}

func (in *instances) do(r req) answer {
	in.t.Helper()
	i := in.next % len(in.urls)
	in.next++
	return in.at(i, r)
}

func (in *instances) at(i int, r req) answer {
	in.t.Helper()
	a, err := send(in.urls[i], r)
	if err != nil {
		in.t.Fatalf("%s %s on instance %d: %v", r.method, r.path, i, err)
	}
	return a
}

func send(base string, r req) (answer, error) {
	hr, err := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
	if err != nil {
		return answer{}, err
	}
	if r.user != "" {
		hr.SetBasicAuth(r.user, r.pw)
	}
	for k, v := range r.hdr {
		hr.Header.Set(k, v)
	}
	c := multiHTTP
	if r.jar != nil {
		cc := *multiHTTP
		cc.Jar = r.jar
		c = &cc
	}
	resp, err := c.Do(hr)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{code: resp.StatusCode, body: string(b), hdr: resp.Header, at: base}, err
}

// runCLI runs a davenport command in this process, as an operator would.
func runCLI(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	var out, errb strings.Builder
	if code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb); code != 0 {
		t.Fatalf("davenport %s = %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

var (
	reCSRF        = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	reHref        = regexp.MustCompile(`<[^>]*href>([^<]+)</`)
	reSyncToken   = regexp.MustCompile(`<[^>]*sync-token>([^<]+)</`)
	reLockToken   = regexp.MustCompile(`<[^>]*href>(urn:uuid:[^<]+)</`)
	reAppPWLine   = regexp.MustCompile(`created app password (\d+) .*\npassword: (\S+)`)
	reCarolDelete = regexp.MustCompile(`action="/web/admin/users/(\d+)/delete"><input type="hidden" name="csrf" value="[^"]+">\s*<label[^>]*>Type <code>carol</code>`)
)

// signIn opens a web session for user on instance i and returns its
// browser.
func (in *instances) signIn(i int, user, pw string) http.CookieJar {
	in.t.Helper()
	jar, _ := cookiejar.New(nil)
	page := in.at(i, req{method: "GET", path: "/", jar: jar, hdr: map[string]string{"Accept": "text/html"}})
	m := reCSRF.FindStringSubmatch(page.body)
	if m == nil {
		in.t.Fatalf("sign-in page on instance %d: %d\n%s", i, page.code, page.body)
	}
	form := url.Values{"username": {user}, "password": {pw}, "csrf": {m[1]}}
	a := in.at(i, req{method: "POST", path: "/web/login", body: form.Encode(), jar: jar,
		hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	if a.code != http.StatusSeeOther {
		in.t.Fatalf("signing in %s on instance %d: %d\n%s", user, i, a.code, a.body)
	}
	return jar
}

// post sends a form of the web UI from the page at pagePath, with that
// page's CSRF token, to instance i.
func (in *instances) post(i int, jar http.CookieJar, pagePath, action string, form url.Values) answer {
	in.t.Helper()
	page := in.at(i, req{method: "GET", path: pagePath, jar: jar})
	m := reCSRF.FindStringSubmatch(page.body)
	if page.code != http.StatusOK || m == nil {
		in.t.Fatalf("GET %s on instance %d: %d\n%s", pagePath, i, page.code, page.body)
	}
	form.Set("csrf", m[1])
	return in.at(i, req{method: "POST", path: action, body: form.Encode(), jar: jar,
		hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
}

// refusedWithin polls instance i with user's credentials until it answers
// 401, failing if that takes more than limit from since.
func (in *instances) refusedWithin(i int, user, pw string, since time.Time, limit time.Duration, what string) {
	in.t.Helper()
	for {
		a := in.at(i, req{method: "PROPFIND", path: "/dav/principals/" + user + "/", user: user, pw: pw, hdr: map[string]string{"Depth": "0"}})
		if a.code == http.StatusUnauthorized {
			in.t.Logf("%s: refused on instance %d after %v", what, i, time.Since(since).Round(time.Millisecond))
			return
		}
		if time.Since(since) > limit {
			in.t.Fatalf("%s: instance %d still answers %d after %v", what, i, a.code, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMultiInstance runs two server processes on one PostgreSQL database
// behind an imaginary load balancer that sends every request to the other
// one (issue 20): incremental sync, sharing, scheduling, WebDAV locks and
// web sessions work across them; a password change, an app password
// revoked and a user deleted on one are refused on the other within a
// second; and when one is killed under load, every request to the other
// still succeeds and finds what the dead one acknowledged.
//
// Push notifications are sent exactly once with two instances:
// server.TestPushTwoInstances; mail, server.TestIMIPRelayOutage and the
// store suite's testMailConcurrentClaims.
func TestMultiInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dsn := testdb.PostgresDSN(t)
	in := &instances{t: t}
	var procs []*child
	for range 2 {
		c := startChild(t, dsn)
		procs = append(procs, c)
		in.urls = append(in.urls, c.url)
	}
	runCLI(t, "", "user", "set-email", "admin", "admin@example.org", "--database", dsn)
	runCLI(t, bobPassword, "user", "add", "bob", "--email", "bob@example.org", "--password-stdin", "--database", dsn)
	runCLI(t, carolPassword, "user", "add", "carol", "--email", "carol@example.org", "--password-stdin", "--database", dsn)
	admin := func(method, path, body string, hdr map[string]string) req {
		return req{method: method, path: path, user: "admin", pw: crashPassword, body: body, hdr: hdr}
	}
	bob := func(method, path, body string, hdr map[string]string) req {
		return req{method: method, path: path, user: "bob", pw: bobPassword, body: body, hdr: hdr}
	}
	ics := map[string]string{"Content-Type": "text/calendar; charset=utf-8"}
	xmlHdr := map[string]string{"Content-Type": "application/xml"}
	const cal = "/dav/calendars/admin/personal/"

	t.Run("sync", func(t *testing.T) {
		in.t = t
		syncFrom := func(tok string) answer {
			t.Helper()
			a := in.do(admin("REPORT", cal, `<d:sync-collection xmlns:d="DAV:"><d:sync-token>`+tok+
				`</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`, xmlHdr))
			if a.code != http.StatusMultiStatus {
				t.Fatalf("sync-collection from %q on %s: %d\n%s", tok, a.at, a.code, a.body)
			}
			return a
		}
		tok := reSyncToken.FindStringSubmatch(syncFrom("").body)[1]
		for round := range 3 {
			name := fmt.Sprintf("sync-%d.ics", round)
			if a := in.do(admin("PUT", cal+name, crashBody(&item{path: cal + name}, 0, round, round), ics)); a.code != http.StatusCreated {
				t.Fatalf("PUT %s on %s: %d %s", name, a.at, a.code, a.body)
			}
			if round > 0 {
				old := fmt.Sprintf("sync-%d.ics", round-1)
				if a := in.do(admin("DELETE", cal+old, "", nil)); a.code != http.StatusNoContent {
					t.Fatalf("DELETE %s on %s: %d", old, a.at, a.code)
				}
			}
			// The token the other instance handed out names the same
			// state here.
			a := syncFrom(tok)
			if !strings.Contains(a.body, cal+name) {
				t.Errorf("round %d: sync from %s on %s misses the new %s:\n%s", round, tok, a.at, name, a.body)
			}
			if round > 0 && !strings.Contains(a.body, fmt.Sprintf("sync-%d.ics</", round-1)) {
				t.Errorf("round %d: sync on %s misses the deletion:\n%s", round, a.at, a.body)
			}
			next := reSyncToken.FindStringSubmatch(a.body)[1]
			if tokenModSeq(t, next) <= tokenModSeq(t, tok) {
				t.Errorf("round %d: token %s after %s", round, next, tok)
			}
			tok = next
		}
		if a := syncFrom(tok); strings.Contains(a.body, "<d:response>") || strings.Contains(a.body, ".ics<") {
			t.Errorf("nothing changed since %s, yet %s reports:\n%s", tok, a.at, a.body)
		}
	})

	t.Run("sharing", func(t *testing.T) {
		in.t = t
		share := `<CS:share xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><CS:set><D:href>/dav/principals/bob/</D:href>` +
			`<CS:summary>Team</CS:summary><CS:read-write/></CS:set></CS:share>`
		if a := in.at(0, admin("POST", cal, share, xmlHdr)); a.code != http.StatusOK {
			t.Fatalf("CS:share on A: %d %s", a.code, a.body)
		}
		if a := in.at(1, bob("PROPFIND", "/dav/notifications/bob/", "", map[string]string{"Depth": "1"})); !regexp.MustCompile(`share-\d+\.xml`).MatchString(a.body) {
			t.Fatalf("bob's notifications on B: %d\n%s", a.code, a.body)
		}
		reply := `<CS:invite-reply xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:href>/dav/principals/bob/</D:href>` +
			`<CS:invite-accepted/><CS:hosturl><D:href>` + cal + `</D:href></CS:hosturl></CS:invite-reply>`
		a := in.at(1, bob("POST", "/dav/calendars/bob/", reply, xmlHdr))
		m := regexp.MustCompile(`<D:href>(/dav/calendars/bob/shared-\d+/)</D:href>`).FindStringSubmatch(a.body)
		if a.code != http.StatusOK || m == nil {
			t.Fatalf("accepting on B: %d\n%s", a.code, a.body)
		}
		body := crashBody(&item{path: "/x/by-bob.ics"}, 1, 1, 1)
		if a := in.at(0, bob("PUT", m[1]+"by-bob.ics", body, ics)); a.code != http.StatusCreated {
			t.Fatalf("bob writing into the shared calendar on A: %d %s", a.code, a.body)
		}
		if a := in.at(1, admin("GET", cal+"by-bob.ics", "", nil)); a.code != http.StatusOK || a.body != body {
			t.Errorf("the owner reading bob's event on B: %d\n%s", a.code, a.body)
		}
	})

	t.Run("scheduling", func(t *testing.T) {
		in.t = t
		invite := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//davenport//multi//EN\r\nBEGIN:VEVENT\r\nUID:multi-meeting\r\n" +
			"DTSTAMP:20260101T000000Z\r\nDTSTART:20260310T100000Z\r\nDURATION:PT1H\r\nSUMMARY:Across instances\r\n" +
			"ORGANIZER:mailto:admin@example.org\r\n" +
			"ATTENDEE;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:admin@example.org\r\n" +
			"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		if a := in.at(0, admin("PUT", cal+"meeting.ics", invite, ics)); a.code != http.StatusCreated {
			t.Fatalf("inviting on A: %d %s", a.code, a.body)
		}
		const inbox = "/dav/inbox/bob/inbox/"
		list := in.at(1, bob("PROPFIND", inbox, "", map[string]string{"Depth": "1"}))
		var found bool
		for _, m := range reHref.FindAllStringSubmatch(list.body, -1) {
			if m[1] == inbox {
				continue
			}
			a := in.at(1, bob("GET", m[1], "", nil))
			found = found || (strings.Contains(a.body, "METHOD:REQUEST") && strings.Contains(a.body, "UID:multi-meeting"))
		}
		if !found {
			t.Errorf("bob's inbox on B holds no REQUEST for the meeting:\n%s", list.body)
		}
		if a := in.at(1, bob("GET", "/dav/calendars/bob/personal/multi-meeting.ics", "", nil)); a.code != http.StatusOK {
			t.Errorf("bob's copy of the meeting on B: %d", a.code)
		}
	})

	t.Run("locks", func(t *testing.T) {
		in.t = t
		const p = cal + "locked.ics"
		body := crashBody(&item{path: p}, 2, 1, 1)
		if a := in.at(0, admin("PUT", p, body, ics)); a.code != http.StatusCreated {
			t.Fatalf("PUT: %d", a.code)
		}
		a := in.at(0, admin("LOCK", p, `<d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>`,
			map[string]string{"Content-Type": "application/xml", "Timeout": "Second-60"}))
		m := reLockToken.FindStringSubmatch(a.body)
		if a.code != http.StatusOK || m == nil {
			t.Fatalf("LOCK on A: %d\n%s", a.code, a.body)
		}
		if a := in.at(1, admin("PUT", p, body, ics)); a.code != http.StatusLocked {
			t.Errorf("PUT without the lock token on B: %d; want 423", a.code)
		}
		h := map[string]string{"Content-Type": ics["Content-Type"], "If": "(<" + m[1] + ">)"}
		if a := in.at(1, admin("PUT", p, body, h)); a.code != http.StatusNoContent {
			t.Errorf("PUT with the lock token on B: %d; want 204", a.code)
		}
		if a := in.at(1, admin("UNLOCK", p, "", map[string]string{"Lock-Token": "<" + m[1] + ">"})); a.code != http.StatusNoContent {
			t.Errorf("UNLOCK on B: %d", a.code)
		}
	})

	var browser http.CookieJar
	t.Run("web session", func(t *testing.T) {
		in.t = t
		browser = in.signIn(0, "bob", bobPassword)
		if a := in.at(1, req{method: "GET", path: "/web/account", jar: browser}); a.code != http.StatusOK || !strings.Contains(a.body, "bob") {
			t.Fatalf("the session made on A, on B: %d", a.code)
		}
		other, _ := cookiejar.New(nil)
		if a := in.at(1, req{method: "GET", path: "/web/account", jar: other}); a.code == http.StatusOK {
			t.Fatalf("a browser without a session reads the account page on B")
		}
	})

	t.Run("credentials", func(t *testing.T) {
		in.t = t
		if browser == nil {
			t.Fatal("no web session: the step before failed")
		}
		out := runCLI(t, "", "user", "app-password", "add", "bob", "phone", "--database", dsn)
		m := reAppPWLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("app-password add printed:\n%s", out)
		}
		appID, appPW := m[1], m[2]
		// B has verified (and cached) every credential about to change.
		warm := func(user, pw string) {
			t.Helper()
			for range 2 {
				if a := in.at(1, req{method: "PROPFIND", path: "/dav/principals/" + user + "/", user: user, pw: pw, hdr: map[string]string{"Depth": "0"}}); a.code != http.StatusMultiStatus {
					t.Fatalf("%s on B before the change: %d", user, a.code)
				}
			}
		}
		warm("bob", bobPassword)
		warm("bob", appPW)
		warm("carol", carolPassword)

		a := in.post(0, browser, "/web/account", "/web/account/password", url.Values{"current": {bobPassword}, "new": {bobNew}, "again": {bobNew}})
		changed := time.Now()
		if a.code != http.StatusSeeOther {
			t.Fatalf("changing bob's password on A: %d\n%s", a.code, a.body)
		}
		in.refusedWithin(1, "bob", bobPassword, changed, time.Second, "old password")
		if a := in.at(1, bob("PROPFIND", "/dav/principals/bob/", "", map[string]string{"Depth": "0"})); a.code != http.StatusUnauthorized {
			t.Errorf("old password on B: %d", a.code)
		}
		if a := in.at(1, req{method: "PROPFIND", path: "/dav/principals/bob/", user: "bob", pw: bobNew, hdr: map[string]string{"Depth": "0"}}); a.code != http.StatusMultiStatus {
			t.Errorf("new password on B: %d", a.code)
		}

		a = in.post(0, browser, "/web/account", "/web/account/app-passwords/"+appID+"/revoke", url.Values{})
		revoked := time.Now()
		if a.code != http.StatusSeeOther {
			t.Fatalf("revoking the app password on A: %d\n%s", a.code, a.body)
		}
		in.refusedWithin(1, "bob", appPW, revoked, time.Second, "revoked app password")

		adminBrowser := in.signIn(0, "admin", crashPassword)
		page := in.at(0, req{method: "GET", path: "/web/admin", jar: adminBrowser})
		cm := reCarolDelete.FindStringSubmatch(page.body)
		if cm == nil {
			t.Fatalf("no delete form for carol on the admin page:\n%s", page.body)
		}
		a = in.post(0, adminBrowser, "/web/admin", "/web/admin/users/"+cm[1]+"/delete", url.Values{"confirm": {"carol"}})
		deleted := time.Now()
		if a.code != http.StatusSeeOther {
			t.Fatalf("deleting carol on A: %d\n%s", a.code, a.body)
		}
		in.refusedWithin(1, "carol", carolPassword, deleted, time.Second, "deleted user")
	})

	t.Run("kill one under load", func(t *testing.T) {
		in.t = t
		multiKill(t, in, procs[0])
	})
}

// multiKill loads both instances, kills the first with SIGKILL in the
// middle, and goes on: every request to the survivor succeeds, before and
// after, and finds every write either acknowledged.
func multiKill(t *testing.T, in *instances, victim *child) {
	const writers = 4
	const cal = "/dav/calendars/admin/personal/"
	var (
		mu      sync.Mutex
		acked   = map[string]string{} // path → ETag
		fails   []string
		afterOK atomic.Int64
		killed  atomic.Bool
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := (w + n) % 2
				p := fmt.Sprintf("%sload-%d-%d.ics", cal, w, n)
				put := req{method: "PUT", path: p, user: "admin", pw: crashPassword,
					body: crashBody(&item{path: p}, w, 9, n), hdr: map[string]string{"Content-Type": "text/calendar"}}
				list := req{method: "PROPFIND", path: cal, user: "admin", pw: crashPassword,
					body: `<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>`, hdr: map[string]string{"Depth": "1"}}
				for _, r := range []req{put, list} {
					wasKilled := killed.Load()
					a, err := send(in.urls[i], r)
					ok := err == nil && a.code/100 == 2
					switch {
					case i == 0 && wasKilled:
						// The dead one: nothing expected.
					case !ok && i == 0 && killed.Load():
						// In flight when it died: its fate is unknown.
					case !ok:
						mu.Lock()
						fails = append(fails, fmt.Sprintf("%s %s on instance %d (killed: %v): %v %d", r.method, r.path, i, wasKilled, err, a.code))
						mu.Unlock()
					case r.method == "PUT":
						mu.Lock()
						acked[p] = a.hdr.Get("ETag")
						mu.Unlock()
						if wasKilled {
							afterOK.Add(1)
						}
					}
				}
			}
		})
	}
	time.Sleep(700 * time.Millisecond)
	killed.Store(true)
	victim.kill()
	time.Sleep(700 * time.Millisecond)
	close(stop)
	wg.Wait()
	for _, f := range fails {
		t.Error(f)
	}
	if afterOK.Load() == 0 {
		t.Fatal("the survivor acknowledged no write after the kill")
	}
	t.Logf("%d writes acknowledged, %d by the survivor after the kill", len(acked), afterOK.Load())
	for p, etag := range acked {
		a := in.at(1, req{method: "GET", path: p, user: "admin", pw: crashPassword})
		if a.code != http.StatusOK || (etag != "" && a.hdr.Get("ETag") != etag) {
			t.Errorf("GET %s on the survivor: %d, ETag %s; acknowledged %s", p, a.code, a.hdr.Get("ETag"), etag)
		}
	}
}
