package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// Client headers from shared/clients/README.md.
var (
	apple       = map[string]string{"User-Agent": "iOS/18.1 (22B83) dataaccessd/1.0", "Content-Type": "text/xml", "Prefer": "return=minimal", "Brief": "t", "Accept": "*/*"}
	davx5       = map[string]string{"User-Agent": "DAVx5/4.4.3-ose (2024/10/01; dav4jvm; okhttp/4.12.0) Android/14", "Content-Type": "application/xml; charset=utf-8"}
	thunderbird = map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0", "Content-Type": "text/xml; charset=utf-8"}
)

func with(h map[string]string, depth string) map[string]string {
	out := map[string]string{"Depth": depth}
	for k, v := range h {
		out[k] = v
	}
	return out
}

// TestClientDiscovery replays every discovery request of shared/clients on
// the resources the clients send them to, and pins each 207 in a golden
// file — on both stores, which must answer identically.
func TestClientDiscovery(t *testing.T) {
	cases := []struct {
		golden, file, method, path string
		header                     map[string]string
	}{
		{"apple-01-root", "apple-01-wellknown-propfind.xml", "PROPFIND", "/", with(apple, "0")},
		{"apple-01-principals", "apple-01-wellknown-propfind.xml", "PROPFIND", "/principals/", with(apple, "0")},
		{"apple-01-dav", "apple-01-wellknown-propfind.xml", "PROPFIND", "/dav/", with(apple, "0")},
		{"apple-02-principal", "apple-02-principal-propfind.xml", "PROPFIND", "/dav/principals/alice/", with(apple, "0")},
		{"apple-03-calendar-home", "apple-03-calendar-home-propfind.xml", "PROPFIND", "/dav/calendars/alice/", with(apple, "1")},
		{"davx5-01-root", "davx5-01-caldav-discovery-propfind.xml", "PROPFIND", "/", with(davx5, "0")},
		{"davx5-01-principal", "davx5-01-caldav-discovery-propfind.xml", "PROPFIND", "/dav/principals/alice/", with(davx5, "0")},
		{"davx5-02-root", "davx5-02-carddav-discovery-propfind.xml", "PROPFIND", "/dav/", with(davx5, "0")},
		{"davx5-02-principal", "davx5-02-carddav-discovery-propfind.xml", "PROPFIND", "/dav/principals/alice/", with(davx5, "0")},
		{"davx5-03-principal", "davx5-03-principal-propfind.xml", "PROPFIND", "/dav/principals/alice/", with(davx5, "0")},
		{"davx5-04-calendar-home", "davx5-04-home-propfind.xml", "PROPFIND", "/dav/calendars/alice/", with(davx5, "1")},
		{"davx5-04-addressbook-home", "davx5-04-home-propfind.xml", "PROPFIND", "/dav/addressbooks/alice/", with(davx5, "1")},
		{"davx5-05-calendar", "davx5-05-collection-sync-state.xml", "PROPFIND", "/dav/calendars/alice/personal/", with(davx5, "0")},
		{"davx5-05-addressbook", "davx5-05-collection-sync-state.xml", "PROPFIND", "/dav/addressbooks/alice/contacts/", with(davx5, "0")},
		{"thunderbird-01-calendar", "thunderbird-01-calendar-check.xml", "PROPFIND", "/dav/calendars/alice/personal/", with(thunderbird, "0")},
		{"thunderbird-02-calendar", "thunderbird-02-principal-collection-set.xml", "PROPFIND", "/dav/calendars/alice/personal/", with(thunderbird, "0")},
		{"thunderbird-03-principal", "thunderbird-03-principal.xml", "PROPFIND", "/dav/principals/alice/", with(thunderbird, "0")},
		{"thunderbird-04-calendar", "thunderbird-04-ctag.xml", "PROPFIND", "/dav/calendars/alice/personal/", with(thunderbird, "0")},
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, c := range cases {
			t.Run(c.golden, func(t *testing.T) {
				resp := e.do(request{method: c.method, path: c.path, body: clientBody(t, c.file), header: c.header})
				body := readBody(t, resp)
				if resp.StatusCode != http.StatusMultiStatus {
					t.Fatalf("status %d, want 207\n%s", resp.StatusCode, body)
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
					t.Errorf("Content-Type %q", ct)
				}
				golden(t, "discovery/"+c.golden, canonical(t, body))
			})
		}
	})
}

func TestWellKnownRedirect(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, path := range []string{"/.well-known/caldav", "/.well-known/carddav", "/.well-known/caldav/"} {
			for _, method := range []string{"GET", "PROPFIND"} {
				for _, anon := range []bool{true, false} {
					resp := e.do(request{method: method, path: path, anonymous: anon, header: map[string]string{"Depth": "0"}})
					if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "/dav/" {
						t.Errorf("%s %s (anonymous %v): %d Location %q, want 307 /dav/", method, path, anon, resp.StatusCode, resp.Header.Get("Location"))
					}
				}
			}
		}
	})
}

func TestAuthentication(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		body := clientBody(t, "apple-01-wellknown-propfind.xml")
		cases := []struct {
			name     string
			req      request
			want     int
			challege bool
		}{
			{"no credentials", request{anonymous: true}, 401, true},
			{"wrong password", request{user: "alice", password: "wrong"}, 401, true},
			{"unknown user", request{user: "mallory", password: "whatever"}, 401, true},
			{"empty password", request{user: "alice", password: ""}, 401, true},
			{"right password", request{}, 207, false},
			{"bob", request{user: "bob", password: bobPassword}, 207, false},
		}
		for _, c := range cases {
			c.req.method, c.req.path, c.req.body = "PROPFIND", "/dav/", body
			c.req.header = map[string]string{"Depth": "0"}
			resp := e.do(c.req)
			if resp.StatusCode != c.want {
				t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.want)
			}
			wa := resp.Header.Get("WWW-Authenticate")
			if c.challege && !strings.HasPrefix(wa, `Basic realm="Davenport"`) {
				t.Errorf("%s: WWW-Authenticate %q", c.name, wa)
			}
		}
		// The principal found from / belongs to whoever logged in.
		resp := e.do(request{method: "PROPFIND", path: "/", body: body, user: "bob", password: bobPassword, header: map[string]string{"Depth": "0"}})
		if got := readBody(t, resp); !strings.Contains(canonical(t, got), "<D:href>/dav/principals/bob/</D:href>") {
			t.Errorf("bob's current-user-principal:\n%s", canonical(t, got))
		}
	})
}

// TestOtherUsersResourcesForbidden: another user's homes, collections and
// objects are not alice's to reach. (Their principal is a directory entry
// she may read, with nothing of their homes in it: TestPrincipalReports.)
func TestOtherUsersResourcesForbidden(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, path := range []string{"/dav/calendars/bob/", "/dav/calendars/bob/personal/", "/dav/addressbooks/bob/contacts/", "/dav/calendars/bob/personal/x.ics", "/dav/calendars/nosuchuser/"} {
			resp := e.do(request{method: "PROPFIND", path: path, header: map[string]string{"Depth": "0"}})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("alice PROPFIND %s: %d, want 403", path, resp.StatusCode)
			}
			resp = e.do(request{method: "PUT", path: "/dav/calendars/bob/personal/evil.ics", body: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("alice PUT into bob's calendar: %d, want 403", resp.StatusCode)
			}
		}
	})
}

func TestPropfindRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		t.Run("infinity on a collection", func(t *testing.T) {
			for _, depth := range []string{"infinity", ""} {
				h := map[string]string{}
				if depth != "" {
					h["Depth"] = depth
				}
				resp := e.do(request{method: "PROPFIND", path: "/dav/calendars/alice/", header: h})
				body := readBody(t, resp)
				if resp.StatusCode != http.StatusForbidden {
					t.Fatalf("Depth %q: %d, want 403", depth, resp.StatusCode)
				}
				golden(t, "discovery/propfind-finite-depth", canonical(t, body))
			}
		})
		t.Run("unknown and known properties together", func(t *testing.T) {
			body := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:X="urn:x-example"><D:prop><D:displayname/><X:nonsense/><D:getetag/></D:prop></D:propfind>`
			resp := e.do(request{method: "PROPFIND", path: "/dav/calendars/alice/personal/", body: body, header: map[string]string{"Depth": "0"}})
			if resp.StatusCode != http.StatusMultiStatus {
				t.Fatalf("status %d", resp.StatusCode)
			}
			golden(t, "discovery/unknown-property", canonical(t, readBody(t, resp)))
		})
		t.Run("allprop", func(t *testing.T) {
			resp := e.do(request{method: "PROPFIND", path: "/dav/calendars/alice/", header: map[string]string{"Depth": "1"}})
			if resp.StatusCode != http.StatusMultiStatus {
				t.Fatalf("status %d", resp.StatusCode)
			}
			golden(t, "discovery/allprop-calendar-home", canonical(t, readBody(t, resp)))
		})
		t.Run("propname", func(t *testing.T) {
			body := `<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`
			resp := e.do(request{method: "PROPFIND", path: "/dav/principals/alice/", body: body, header: map[string]string{"Depth": "0"}})
			if resp.StatusCode != http.StatusMultiStatus {
				t.Fatalf("status %d", resp.StatusCode)
			}
			golden(t, "discovery/propname-principal", canonical(t, readBody(t, resp)))
		})
		t.Run("OPTIONS", func(t *testing.T) {
			for _, path := range []string{"/", "/dav/principals/alice/", "/dav/calendars/alice/personal/"} {
				resp := e.do(request{method: "OPTIONS", path: path, anonymous: true})
				dav := resp.Header.Get("DAV")
				for _, want := range []string{"1", "3", "access-control", "calendar-access", "addressbook", "extended-mkcol"} {
					if !containsToken(dav, want) {
						t.Errorf("OPTIONS %s: DAV %q lacks %s", path, dav, want)
					}
				}
				if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "PROPFIND") || !strings.Contains(allow, "REPORT") {
					t.Errorf("OPTIONS %s: Allow %q", path, allow)
				}
			}
		})
	})
}

func containsToken(list, tok string) bool {
	for _, t := range strings.Split(list, ",") {
		if strings.TrimSpace(t) == tok {
			return true
		}
	}
	return false
}

// TestHostileXML: bad bodies get a clear 4xx and change nothing.
func TestHostileXML(t *testing.T) {
	bomb := `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>` +
		`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>&c;</D:displayname></D:prop></D:set></D:propertyupdate>`
	xxe := `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>` +
		`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>&x;</D:displayname></D:prop></D:set></D:propertyupdate>`
	deep := `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><X:deep xmlns:X="urn:x">` + strings.Repeat("<X:a>", 200) + strings.Repeat("</X:a>", 200) + `</X:deep></D:prop></D:set></D:propertyupdate>`
	huge := `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>` + strings.Repeat("x", 5<<20) + `</D:displayname></D:prop></D:set></D:propertyupdate>`
	malformed := `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>oops</D:prop>`
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, c := range []struct {
			name, body string
			want       int
		}{
			{"entity bomb", bomb, 400}, {"external entity", xxe, 400}, {"deep nesting", deep, 400},
			{"oversized", huge, 413}, {"malformed", malformed, 400},
		} {
			resp := e.do(request{method: "PROPPATCH", path: "/dav/calendars/alice/personal/", body: c.body, header: map[string]string{"Content-Type": "application/xml"}})
			if resp.StatusCode != c.want {
				t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.want)
			}
			resp = e.do(request{method: "PROPFIND", path: "/dav/calendars/alice/", body: c.body, header: map[string]string{"Depth": "1"}})
			if resp.StatusCode != c.want {
				t.Errorf("%s as PROPFIND: status %d, want %d", c.name, resp.StatusCode, c.want)
			}
		}
		// Nothing changed: the display name is as it was made.
		resp := e.do(request{method: "PROPFIND", path: "/dav/calendars/alice/personal/", body: `<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>`, header: map[string]string{"Depth": "0"}})
		if got := canonical(t, readBody(t, resp)); !strings.Contains(got, "<D:displayname>Personal</D:displayname>") {
			t.Errorf("display name changed:\n%s", got)
		}
	})
}

func TestHealthAndMetrics(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, withMetricsToken)
		resp := e.do(request{method: "GET", path: "/healthz", anonymous: true})
		if body := readBody(t, resp); resp.StatusCode != 200 || !strings.Contains(body, `"status":"ok"`) {
			t.Errorf("healthz: %d %s", resp.StatusCode, body)
		}
		e.do(request{method: "PROPFIND", path: "/dav/", header: map[string]string{"Depth": "0"}})
		body := e.scrape()
		if !strings.Contains(body, `davenport_http_request_duration_seconds_count{class="2xx",kind="principal",method="PROPFIND"} 1`) {
			t.Errorf("metrics lack the PROPFIND:\n%s", body)
		}
		st.Close()
		resp = e.do(request{method: "GET", path: "/healthz", anonymous: true})
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("healthz with the database closed: %d, want 503", resp.StatusCode)
		}
	})
}

// TestThrottling: repeated failures from one address are answered 429 with
// Retry-After, even with the right password, while other users still get in.
func TestThrottling(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		propfind := func(user, pw string) *http.Response {
			return e.do(request{method: "PROPFIND", path: "/dav/", user: user, password: pw, header: map[string]string{"Depth": "0"}})
		}
		throttled := false
		for i := 0; i < 20 && !throttled; i++ {
			resp := propfind("alice", "guess-"+string(rune('a'+i)))
			switch resp.StatusCode {
			case http.StatusUnauthorized:
			case http.StatusTooManyRequests:
				throttled = true
				if resp.Header.Get("Retry-After") == "" {
					t.Errorf("429 without Retry-After")
				}
			default:
				t.Fatalf("attempt %d: status %d", i, resp.StatusCode)
			}
		}
		if !throttled {
			t.Fatal("20 wrong passwords were never throttled")
		}
		if resp := propfind("alice", alicePassword); resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("right password while throttled: %d, want 429", resp.StatusCode)
		}
		if resp := propfind("bob", bobPassword); resp.StatusCode != http.StatusMultiStatus {
			t.Errorf("another user from the same address: %d, want 207", resp.StatusCode)
		}
	})
}

// TestLargeCollectionPaging: listings, queries and syncs read a collection a
// page at a time; every member must still appear exactly once, across page
// boundaries, and a client's limit must still cut the sync exactly.
func TestLargeCollectionPaging(t *testing.T) {
	const n = 1203 // more than two pages of 500
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		u, err := st.GetUser(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		c, err := st.GetCollection(t.Context(), u.ID, store.KindCalendar, "personal")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		for i := 0; i < n; i++ {
			body := fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:big-%d\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T090000Z\r\nDURATION:PT1H\r\nSUMMARY:Event %d\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", i, i)
			end := start.Add(time.Hour)
			o := &store.Object{CollectionID: c.ID, Name: fmt.Sprintf("big-%04d.ics", i), UID: fmt.Sprintf("big-%d", i),
				ETag: fmt.Sprintf("%032x", i), ContentType: "text/calendar; charset=utf-8; component=vevent", Component: "VEVENT",
				FirstStart: &start, LastEnd: &end, Body: []byte(body)}
			if _, err := st.PutObject(t.Context(), o, store.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		count := func(body string) map[string]int {
			seen := map[string]int{}
			for _, part := range strings.Split(body, "<D:href>")[1:] {
				href := part[:strings.Index(part, "<")]
				if strings.HasSuffix(href, ".ics") {
					seen[href]++
				}
			}
			return seen
		}
		check := func(what string, seen map[string]int, want int) {
			t.Helper()
			if len(seen) != want {
				t.Errorf("%s: %d distinct members, want %d", what, len(seen), want)
			}
			for href, k := range seen {
				if k != 1 {
					t.Errorf("%s: %s listed %d times", what, href, k)
				}
			}
		}
		resp := e.do(request{method: "PROPFIND", path: "/dav/calendars/alice/personal/", body: `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`, header: map[string]string{"Depth": "1"}})
		check("PROPFIND Depth 1", count(readBody(t, resp)), n)
		query := `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260301T000000Z" end="20260302T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
		resp = e.do(request{method: "REPORT", path: "/dav/calendars/alice/personal/", body: query, header: map[string]string{"Depth": "1"}})
		check("calendar-query", count(readBody(t, resp)), n)
		sync := func(token string, limit int) string {
			lim := ""
			if limit > 0 {
				lim = fmt.Sprintf("<D:limit><D:nresults>%d</D:nresults></D:limit>", limit)
			}
			resp := e.do(request{method: "REPORT", path: "/dav/calendars/alice/personal/", header: map[string]string{"Depth": "0"},
				body: `<D:sync-collection xmlns:D="DAV:"><D:sync-token>` + token + `</D:sync-token><D:sync-level>1</D:sync-level>` + lim + `<D:prop><D:getetag/></D:prop></D:sync-collection>`})
			return readBody(t, resp)
		}
		check("initial sync", count(sync("", 0)), n)
		// With a client limit of 700 the answer crosses one internal page
		// and stops exactly at 700, then resumes from the token.
		all := map[string]int{}
		body := sync("", 700)
		first := count(body)
		check("first limited page", first, 700)
		if !strings.Contains(body, "507") {
			t.Errorf("limited sync without the 507 marker")
		}
		for h := range first {
			all[h]++
		}
		tok := body[strings.Index(body, "<D:sync-token>")+len("<D:sync-token>") : strings.Index(body, "</D:sync-token>")]
		for h := range count(sync(tok, 700)) {
			all[h]++
		}
		check("both limited pages", all, n)
	})
}
