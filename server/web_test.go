package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// browser is a cookie-keeping HTTP client of the web UI, for the tests that
// need no real browser (headers, CSRF, scoping, bad input).
type browser struct {
	t    *testing.T
	e    *env
	c    *http.Client
	csrf string // the last CSRF token seen on a page
}

var reCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"|csrf=([A-Za-z0-9_-]{20,})`)

func (e *env) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, e: e, c: &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}}
}

func (b *browser) do(req *http.Request) (int, string, http.Header) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := reCSRF.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1] + m[2]
	}
	return resp.StatusCode, string(body), resp.Header
}

func (b *browser) get(path string) (int, string, http.Header) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	return b.do(req)
}

// post sends a form; the CSRF token of the last page is added unless the
// values carry their own "csrf" (an empty one sends none).
func (b *browser) post(path string, v url.Values) (int, string, http.Header) {
	b.t.Helper()
	if _, ok := v["csrf"]; !ok {
		v.Set("csrf", b.csrf)
	} else if v.Get("csrf") == "" {
		v.Del("csrf")
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// upload posts a multipart import form.
func (b *browser) upload(fields map[string]string, file []byte) (int, string) {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "upload.ics")
	fw.Write(file)
	mw.Close()
	req, _ := http.NewRequest("POST", b.e.srv.URL+"/web/import?csrf="+url.QueryEscape(b.csrf), &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	code, body, _ := b.do(req)
	return code, body
}

func (b *browser) signIn(user, pw string) {
	b.t.Helper()
	if code, _, _ := b.get("/"); code != http.StatusOK {
		b.t.Fatalf("GET / as a browser = %d", code)
	}
	code, body, h := b.post("/web/login", url.Values{"username": {user}, "password": {pw}})
	if code != http.StatusSeeOther || h.Get("Location") != "/web/" {
		b.t.Fatalf("sign in as %s = %d %q\n%s", user, code, h.Get("Location"), body)
	}
	if code, _, _ := b.get("/web/"); code != http.StatusOK {
		b.t.Fatalf("GET /web/ after sign-in = %d", code)
	}
}

// TestWebRootNegotiation: a browser asking for / gets the sign-in page; DAV
// clients get what they got before.
func TestWebRootNegotiation(t *testing.T) {
	e := newEnv(t, testdb.SQLite(t))
	b := e.browser(t)
	code, body, h := b.get("/")
	if code != 200 || !strings.Contains(body, `action="/web/login"`) {
		t.Fatalf("browser GET / = %d\n%s", code, body)
	}
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'",
		"Referrer-Policy":         "same-origin",
		"X-Content-Type-Options":  "nosniff",
	} {
		if !strings.Contains(h.Get(k), want) {
			t.Errorf("%s = %q, want %q in it", k, h.Get(k), want)
		}
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("CSP lacks frame-ancestors: %q", h.Get("Content-Security-Policy"))
	}
	plain := e.do(request{method: "GET", path: "/", anonymous: true})
	if ct := plain.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("DAV client GET / Content-Type = %q, want text/plain", ct)
	}
	pf := e.do(request{method: "PROPFIND", path: "/", header: map[string]string{"Depth": "0", "Accept": "text/html"}})
	if pf.StatusCode != http.StatusMultiStatus {
		t.Errorf("PROPFIND / = %d, want 207", pf.StatusCode)
	}
}

// TestWebSession: the cookie's attributes, sign-out, wrong passwords, an
// app password refused for the UI, and the throttle shared with Basic auth.
func TestWebSession(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		b := e.browser(t)
		b.get("/")
		code, _, h := b.post("/web/login", url.Values{"username": {"alice"}, "password": {alicePassword}})
		if code != http.StatusSeeOther {
			t.Fatalf("sign in = %d", code)
		}
		var cookie string
		for _, c := range h.Values("Set-Cookie") {
			if strings.HasPrefix(c, "davenport_session=") {
				cookie = c
			}
		}
		for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("session cookie %q lacks %s", cookie, want)
			}
		}
		if strings.Contains(cookie, "Secure") {
			t.Errorf("session cookie %q is Secure over plain http", cookie)
		}
		b.get("/web/")
		if code, _, h := b.post("/web/logout", url.Values{}); code != http.StatusSeeOther || h.Get("Location") != "/" {
			t.Errorf("sign out = %d %q", code, h.Get("Location"))
		}
		if code, _, h := b.get("/web/"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/?next=") {
			t.Errorf("GET /web/ after sign-out = %d %q, want a redirect to sign-in", code, h.Get("Location"))
		}

		b.get("/")
		if code, body, _ := b.post("/web/login", url.Values{"username": {"alice"}, "password": {"wrong password"}}); code != http.StatusUnauthorized || !strings.Contains(body, "Wrong user name or password") {
			t.Errorf("wrong password = %d", code)
		}
		// A sign-in form without its token is refused before any check.
		if code, _, _ := b.post("/web/login", url.Values{"username": {"alice"}, "password": {alicePassword}, "csrf": {"forged"}}); code != http.StatusForbidden {
			t.Errorf("sign-in with a forged token = %d, want 403", code)
		}
		// Failures count in the Authenticator: after enough, Basic auth is
		// throttled too, and so is the form.
		for range 12 {
			b.post("/web/login", url.Values{"username": {"bob"}, "password": {"nope nope"}})
		}
		if code, body, _ := b.post("/web/login", url.Values{"username": {"bob"}, "password": {bobPassword}}); code != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-in attempts") {
			t.Errorf("sign-in after 12 failures = %d, want 429", code)
		}
		resp := e.do(request{method: "PROPFIND", path: "/dav/principals/bob/", user: "bob", password: bobPassword, header: map[string]string{"Depth": "0"}})
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("Basic auth after web failures = %d, want 429 (one throttle)", resp.StatusCode)
		}
	})
}

// TestWebCSRFAndScoping: a POST without the session's token changes nothing;
// bob cannot see or change alice's collections.
func TestWebCSRFAndScoping(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		alice := e.browser(t)
		alice.signIn("alice", alicePassword)
		for _, csrf := range []string{"", "forged-token-forged-token-forged"} {
			code, _, _ := alice.post("/web/collections", url.Values{"kind": {"calendar"}, "displayname": {"Evil"}, "components": {"VEVENT"}, "csrf": {csrf}})
			if code != http.StatusForbidden {
				t.Errorf("create without a valid CSRF token (%q) = %d, want 403", csrf, code)
			}
		}
		alice.get("/web/")
		if code, _, _ := alice.post("/web/c/calendars/personal/delete", url.Values{"confirm": {"yes"}, "csrf": {""}}); code != http.StatusForbidden {
			t.Errorf("delete without a CSRF token = %d, want 403", code)
		}
		u, _ := st.GetUser(t.Context(), "alice")
		cols, _ := st.ListCollections(t.Context(), u.ID, store.KindCalendar)
		if len(cols) != 1 {
			t.Fatalf("alice has %d calendars after refused POSTs, want 1", len(cols))
		}

		bob := e.browser(t)
		bob.signIn("bob", bobPassword)
		// bob's own "personal" exists; alice's "work" does not for him.
		alice.get("/web/")
		if code, _, h := alice.post("/web/collections", url.Values{"kind": {"calendar"}, "displayname": {"Work"}, "components": {"VEVENT"}}); code != http.StatusSeeOther || h.Get("Location") != "/web/c/calendars/work?done=created" {
			t.Fatalf("create Work = %d %q", code, h.Get("Location"))
		}
		for _, p := range []string{"/web/c/calendars/work", "/web/c/calendars/work/export"} {
			if code, body, _ := bob.get(p); code != http.StatusNotFound || strings.Contains(body, "Work") {
				t.Errorf("bob GET %s = %d, want 404 without alice's data", p, code)
			}
		}
		bob.get("/web/")
		if code, _, _ := bob.post("/web/c/calendars/work/delete", url.Values{"confirm": {"yes"}}); code != http.StatusNotFound {
			t.Errorf("bob deleting alice's calendar = %d, want 404", code)
		}
		if _, err := st.GetCollection(t.Context(), u.ID, store.KindCalendar, "work"); err != nil {
			t.Errorf("alice's calendar after bob's attempt: %v", err)
		}
		if code, _, _ := bob.get("/web/admin"); code != http.StatusForbidden {
			t.Errorf("bob GET /web/admin = %d, want 403", code)
		}
	})
}

// TestWebBadInput: markup in a name, an upload that is not iCalendar, and
// an oversized upload each get a clear message and change nothing.
func TestWebBadInput(t *testing.T) {
	e := newEnv(t, testdb.SQLite(t))
	st := e.st
	b := e.browser(t)
	b.signIn("alice", alicePassword)
	u, _ := st.GetUser(t.Context(), "alice")
	count := func() int {
		cs, _ := st.ListCollections(t.Context(), u.ID, store.KindCalendar)
		return len(cs)
	}
	code, body, _ := b.post("/web/collections", url.Values{"kind": {"calendar"}, "displayname": {"<script>alert(1)</script>"}, "components": {"VEVENT"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "Name cannot contain &lt; or &gt;") || strings.Contains(body, "<script>alert") {
		t.Errorf("name with <script> = %d\n%s", code, body)
	}
	if n := count(); n != 1 {
		t.Errorf("%d calendars after refused create, want 1", n)
	}
	b.get("/web/")
	code, body = b.upload(map[string]string{"target": "new-calendar", "name": "Junk"}, []byte("%PDF-1.4 not a calendar\n"))
	if code != http.StatusBadRequest || !strings.Contains(body, "This is not an iCalendar (.ics) file. Nothing was imported.") {
		t.Errorf("non-iCalendar upload = %d\n%s", code, body)
	}
	if n := count(); n != 1 {
		t.Errorf("%d calendars after refused import, want 1", n)
	}
}

// TestWebImport: address books, a new collection, an oversized file and a
// file of 10,000 broken items, on both stores.
func TestWebImport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		b := e.browser(t)
		b.signIn("alice", alicePassword)
		ctx := t.Context()
		u, _ := st.GetUser(ctx, "alice")
		totals := func() map[int64]int64 {
			ts, err := st.ListCollectionTotals(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			m := map[int64]int64{}
			for _, x := range ts {
				m[x.ID] = x.Objects
			}
			return m
		}
		stat := func(body, id string) string {
			m := regexp.MustCompile(`id="` + id + `">(\d+)<`).FindStringSubmatch(body)
			if m == nil {
				return "?"
			}
			return m[1]
		}

		// vCards, one of them grouped and folded, one without FN.
		vcf := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nN:Lovelace;Ada;;;\r\nitem1.UID:ada-1\r\nEND:VCARD\r\n" +
			"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Charles\r\n  Babbage\r\nUID:charles-2\r\nEND:VCARD\r\n" +
			"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:nofn-3\r\nEND:VCARD\r\n"
		code, body := b.upload(map[string]string{"target": "addressbooks/contacts", "mode": "update"}, []byte(vcf))
		if code != 200 || stat(body, "created") != "2" || stat(body, "rejected") != "1" || !strings.Contains(body, "nofn-3") {
			t.Errorf("vCard import = %d created %s rejected %s\n%s", code, stat(body, "created"), stat(body, "rejected"), body)
		}
		book, _ := st.GetCollection(ctx, u.ID, store.KindAddressBook, "contacts")
		if o, err := st.GetObjects(ctx, book.ID, []string{"charles-2.vcf"}, true); err != nil || len(o) != 1 {
			t.Errorf("imported card charles-2.vcf: %v %v", o, err)
		}

		// Into a new calendar, named in the form.
		ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:new-1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		code, body = b.upload(map[string]string{"target": "new-calendar", "name": "From Google"}, []byte(ics))
		if code != 200 || stat(body, "created") != "1" {
			t.Errorf("import into a new calendar = %d\n%s", code, body)
		}
		if c, err := st.GetCollection(ctx, u.ID, store.KindCalendar, "from-google"); err != nil || c.DisplayName != "From Google" {
			t.Errorf("new calendar: %+v %v", c, err)
		}

		// Over the size limit: refused, nothing created.
		before := totals()
		big := append([]byte("BEGIN:VCALENDAR\r\n"), bytes.Repeat([]byte("X-PAD:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n"), (51<<20)/72)...)
		code, body = b.upload(map[string]string{"target": "new-calendar", "name": "Too big"}, big)
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "larger than 50 MiB") {
			t.Errorf("oversized import = %d\n%.500s", code, body)
		}
		if _, err := st.GetCollection(ctx, u.ID, store.KindCalendar, "too-big"); err == nil {
			t.Error("an oversized import created a calendar")
		}

		// 10,000 broken items: every one rejected with its reason, the
		// first 1,000 listed, nothing written.
		var broken strings.Builder
		broken.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n")
		for i := range 10_000 {
			fmt.Fprintf(&broken, "BEGIN:VEVENT\r\nUID:broken-%d\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:yesterday\r\nEND:VEVENT\r\n", i)
		}
		broken.WriteString("END:VCALENDAR\r\n")
		b.get("/web/")
		code, body = b.upload(map[string]string{"target": "calendars/personal"}, []byte(broken.String()))
		if code != 200 || stat(body, "created") != "0" || stat(body, "rejected") != "10000" ||
			strings.Count(body, "<tr><td><code>broken-") != 1000 || !strings.Contains(body, "10000 in all") {
			t.Errorf("10,000 broken items = %d, created %s rejected %s, %d listed", code, stat(body, "created"), stat(body, "rejected"), strings.Count(body, "<tr><td><code>broken-"))
		}
		if got := totals(); !maps.Equal(got, before) {
			t.Errorf("item counts changed by refused imports: %v → %v", before, got)
		}
	})
}

// TestWebLogsUser: the request log line of a page viewed in a session, and
// of the sign-in that made it, names the user, as a DAV request's names the
// authenticated one.
func TestWebLogsUser(t *testing.T) {
	var logs safeBuffer
	logger := slog.New(server.ContextHandler{Handler: slog.NewJSONHandler(&logs, nil)})
	e := newEnvLogger(t, testdb.SQLite(t), logger)
	b := e.browser(t)
	b.signIn("alice", alicePassword)
	b.get("/web/account")
	found := map[string]bool{}
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "request" {
			continue
		}
		path := fmt.Sprint(rec["method"], " ", rec["path"])
		if path != "GET /web/account" && path != "POST /web/login" {
			continue
		}
		found[path] = true
		if rec["user"] != "alice" {
			t.Errorf("log line of %s has user %q, want alice: %v", path, rec["user"], rec)
		}
	}
	if len(found) != 2 {
		t.Fatalf("request lines found: %v, want the sign-in and the account page, in\n%s", found, logs.String())
	}
}

// failingStore is a real store that fails the write of one UID, as a
// database that goes away in the middle of an import would.
type failingStore struct {
	store.Store
	uid string
}

func (s failingStore) PutObject(ctx context.Context, o *store.Object, opts store.PutObjectOptions) (bool, error) {
	if o.UID == s.uid {
		return false, errors.New("injected failure")
	}
	return s.Store.PutObject(ctx, o, opts)
}

// TestWebImportListsItems: the result page names every item that went in
// (created, updated, skipped) and every one that did not with its reason,
// and the store holds exactly those; when the server fails in the middle,
// the page says which items went in and how many were not tried.
func TestWebImportListsItems(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, failingStore{Store: st, uid: "poison"})
		b := e.browser(t)
		b.signIn("alice", alicePassword)
		ctx := t.Context()
		u, _ := st.GetUser(ctx, "alice")
		cal, _ := st.GetCollection(ctx, u.ID, store.KindCalendar, "personal")
		event := func(uid, start string) string {
			return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:" + start + "\r\nSUMMARY:" + uid + "\r\nEND:VEVENT\r\n"
		}
		ics := func(evs ...string) []byte {
			return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + strings.Join(evs, "") + "END:VCALENDAR\r\n")
		}
		listed := func(body, id string) []string {
			m := regexp.MustCompile(`(?s)<ul class="uids" id="` + id + `">(.*?)</ul>`).FindStringSubmatch(body)
			if m == nil {
				return nil
			}
			var uids []string
			for _, x := range regexp.MustCompile(`<code>([^<]*)</code>`).FindAllStringSubmatch(m[1], -1) {
				uids = append(uids, x[1])
			}
			return uids
		}
		stored := func() []string {
			os, err := st.ListObjects(ctx, cal.ID, store.ListObjectsOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var uids []string
			for _, o := range os {
				uids = append(uids, o.UID)
			}
			sort.Strings(uids)
			return uids
		}

		// A bad item in the middle: the items around it go in, it does not.
		code, body := b.upload(map[string]string{"target": "calendars/personal", "mode": "update"},
			ics(event("first", "20260101T100000Z"), event("broken", "tomorrow"), event("last", "20260102T100000Z")))
		if code != 200 {
			t.Fatalf("import = %d\n%s", code, body)
		}
		if got := listed(body, "created-list"); !slices.Equal(got, []string{"first", "last"}) {
			t.Errorf("created list = %v, want [first last]\n%s", got, body)
		}
		// The history names the import the way it names every other change
		// made in the web UI, so "undo all" finds them under one client.
		if vs, err := st.ListVersions(ctx, u.ID, store.HistoryFilter{CollectionID: cal.ID, UserAgent: "Davenport web UI"}); err != nil || len(vs) != 2 {
			t.Errorf("versions of the import recorded as the web UI: %d, %v; want 2", len(vs), err)
		}
		if !regexp.MustCompile(`<tr><td><code>broken</code></td><td>[^<]*DTSTART[^<]*</td></tr>`).MatchString(body) {
			t.Errorf("rejected list does not give broken's reason\n%s", body)
		}
		if got := stored(); !slices.Equal(got, []string{"first", "last"}) {
			t.Errorf("stored UIDs = %v, want [first last]", got)
		}

		// Again, skipping existing items, with one new: each outcome listed.
		b.get("/web/")
		code, body = b.upload(map[string]string{"target": "calendars/personal", "mode": "skip"},
			ics(event("first", "20260101T100000Z"), event("middle", "20260103T100000Z")))
		if code != 200 || !slices.Equal(listed(body, "skipped-list"), []string{"first"}) || !slices.Equal(listed(body, "created-list"), []string{"middle"}) {
			t.Errorf("skip import = %d, skipped %v created %v", code, listed(body, "skipped-list"), listed(body, "created-list"))
		}
		b.get("/web/")
		code, body = b.upload(map[string]string{"target": "calendars/personal", "mode": "update"}, ics(event("last", "20260104T100000Z")))
		if code != 200 || !slices.Equal(listed(body, "updated-list"), []string{"last"}) {
			t.Errorf("update import = %d, updated %v", code, listed(body, "updated-list"))
		}

		// The server fails at the fourth item of six: the page lists the
		// three that went in and says two were not tried.
		b.get("/web/")
		code, body = b.upload(map[string]string{"target": "calendars/personal", "mode": "update"},
			ics(event("s1", "20260105T100000Z"), event("s2", "20260106T100000Z"), event("s3", "20260107T100000Z"),
				event("poison", "20260108T100000Z"), event("s5", "20260109T100000Z"), event("s6", "20260110T100000Z")))
		if code != http.StatusInternalServerError || !strings.Contains(body, `id="stopped"`) || !regexp.MustCompile(`id="not-tried">3<`).MatchString(body) {
			t.Errorf("failed import = %d, want 500 with the stopped notice and 3 not tried\n%s", code, body)
		}
		if got := listed(body, "created-list"); !slices.Equal(got, []string{"s1", "s2", "s3"}) {
			t.Errorf("created list of the failed import = %v, want [s1 s2 s3]", got)
		}
		if got := stored(); !slices.Equal(got, []string{"first", "last", "middle", "s1", "s2", "s3"}) {
			t.Errorf("stored after the failed import = %v", got)
		}
	})
}

// TestWebImportQuota: an import counts toward the storage quota as a PUT
// does: the items that would take the user past it are rejected with the
// reason, the others go in, and a replacement counts only what it adds.
func TestWebImportQuota(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, func(c *server.Config) { c.Quota = 1000 })
		b := e.browser(t)
		b.signIn("alice", alicePassword)
		event := func(uid, summary string) string {
			return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nSUMMARY:" + summary + "\r\nEND:VEVENT\r\n"
		}
		ics := func(evs ...string) []byte {
			return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + strings.Join(evs, "") + "END:VCALENDAR\r\n")
		}
		pad := strings.Repeat("x", 250) // each event is about 400 bytes stored
		code, body := b.upload(map[string]string{"target": "calendars/personal", "mode": "update"},
			ics(event("one", pad), event("two", pad), event("three", pad)))
		if code != 200 || !strings.Contains(body, `id="created">2<`) || !strings.Contains(body, `id="rejected">1<`) || !strings.Contains(body, "quota-not-exceeded") {
			t.Fatalf("import over the quota = %d, want 2 created and 1 rejected for the quota\n%s", code, body)
		}
		alice, err := st.GetUser(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		used, err := st.UsedBytes(t.Context(), alice.ID)
		if err != nil || used > 1000 {
			t.Errorf("used bytes after the import = %d, %v; want at most the quota", used, err)
		}
		// Replacing "one" with a few bytes more fits; with many more it
		// does not, and the stored item stays as it was.
		if code, body = b.upload(map[string]string{"target": "calendars/personal", "mode": "update"}, ics(event("one", pad+"yy"))); code != 200 || !strings.Contains(body, `id="updated">1<`) {
			t.Errorf("a replacement within the quota = %d\n%s", code, body)
		}
		if code, body = b.upload(map[string]string{"target": "calendars/personal", "mode": "update"}, ics(event("one", pad+strings.Repeat("z", 400)))); code != 200 || !strings.Contains(body, `id="rejected">1<`) {
			t.Errorf("a replacement past the quota = %d\n%s", code, body)
		}
	})
}
