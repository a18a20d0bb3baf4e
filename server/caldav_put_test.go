package server_test

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// Calendar object resources: PUT, GET/HEAD, DELETE, COPY and MOVE with their
// conditional headers and RFC 4791 §5.3.2 preconditions.

const personalCal = calHome + "personal/"

// retitled returns a fixture with its SUMMARY replaced, for updates.
func retitled(body, summary string) string {
	lines := strings.Split(body, "\r\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "SUMMARY:") {
			lines[i] = "SUMMARY:" + summary
			break
		}
	}
	return strings.Join(lines, "\r\n")
}

func hdr(kv ...string) map[string]string {
	h := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return h
}

// multigetETags returns href → getetag from a calendar-multiget of hrefs.
func (e *env) multigetETags(t *testing.T, collection string, hrefs ...string) map[string]string {
	t.Helper()
	body := `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>`
	for _, h := range hrefs {
		body += "<D:href>" + xmlEscape(h) + "</D:href>"
	}
	body += `</C:calendar-multiget>`
	resp := e.do(request{method: "REPORT", path: collection, body: body, header: hdr("Depth", "1")})
	return etagsOf(t, expectStatus(t, "multiget", resp, http.StatusMultiStatus))
}

// etagsOf reads href → getetag out of a multistatus.
func etagsOf(t *testing.T, body string) map[string]string {
	t.Helper()
	root, err := dav.ParseXML([]byte(body), dav.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range root.ChildrenNamed(dav.Name("response")) {
		for _, ps := range r.ChildrenNamed(dav.Name("propstat")) {
			if el := ps.Child(dav.Name("prop")).Child(dav.Name("getetag")); el != nil && el.Text != "" {
				out[r.Child(dav.Name("href")).Text] = el.Text
			}
		}
	}
	return out
}

func TestPutConditional(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		path := personalCal + "a.ics"
		v1 := fixture(t, "a.ics")
		v2 := retitled(v1, "Team meeting (moved)")

		// RFC 4791 §5.3.4 / RFC 9110 §9.3.4: 201 on create, with the
		// strong ETag of the stored bytes.
		resp := e.do(request{method: "PUT", path: path, body: v1, header: calICS})
		expectStatus(t, "create", resp, http.StatusCreated)
		etag1 := resp.Header.Get("ETag")
		if !strings.HasPrefix(etag1, `"`) || strings.HasPrefix(etag1, "W/") {
			t.Fatalf("ETag %q is not a strong entity tag", etag1)
		}
		assertETagEverywhere(t, e, path, etag1, v1)

		// If-None-Match: * on an existing name: 412, nothing changed.
		resp = e.do(request{method: "PUT", path: path, body: v2, header: hdr("Content-Type", "text/calendar", "If-None-Match", "*")})
		expectStatus(t, "If-None-Match * on existing", resp, http.StatusPreconditionFailed)
		// If-Match with a stale or made-up tag: 412.
		for _, im := range []string{`"0123456789abcdef0123456789abcdef"`, `W/` + etag1, strings.Trim(etag1, `"`), `"x", "y"`} {
			resp = e.do(request{method: "PUT", path: path, body: v2, header: hdr("Content-Type", "text/calendar", "If-Match", im)})
			expectStatus(t, "If-Match "+im, resp, http.StatusPreconditionFailed)
		}
		assertETagEverywhere(t, e, path, etag1, v1)

		// An update is 204 with the new ETag; a list holding the current
		// tag matches.
		resp = e.do(request{method: "PUT", path: path, body: v2, header: hdr("Content-Type", "text/calendar", "If-Match", `"nope", `+etag1)})
		expectStatus(t, "update with If-Match", resp, http.StatusNoContent)
		etag2 := resp.Header.Get("ETag")
		if etag2 == "" || etag2 == etag1 {
			t.Fatalf("update ETag %q (before %q)", etag2, etag1)
		}
		assertETagEverywhere(t, e, path, etag2, v2)

		// If-Match: * updates an existing resource only.
		resp = e.do(request{method: "PUT", path: path, body: v1, header: hdr("Content-Type", "text/calendar", "If-Match", "*")})
		expectStatus(t, "If-Match * on existing", resp, http.StatusNoContent)
		if resp.Header.Get("ETag") != etag1 {
			t.Errorf("ETag after restoring v1: %q, want %q (a strong hash of the bytes)", resp.Header.Get("ETag"), etag1)
		}
		resp = e.do(request{method: "PUT", path: personalCal + "new.ics", body: fixture(t, "c.ics"), header: hdr("Content-Type", "text/calendar", "If-Match", "*")})
		expectStatus(t, "If-Match * on a missing name", resp, http.StatusPreconditionFailed)
		expectStatus(t, "GET after refused If-Match *", e.do(request{method: "GET", path: personalCal + "new.ics"}), http.StatusNotFound)

		// If-None-Match: * creates (Thunderbird's new items).
		resp = e.do(request{method: "PUT", path: personalCal + "new.ics", body: fixture(t, "c.ics"), header: hdr("Content-Type", "text/calendar", "If-None-Match", "*")})
		expectStatus(t, "If-None-Match * on a new name", resp, http.StatusCreated)
		if resp.Header.Get("ETag") == "" {
			t.Error("201 without ETag")
		}
		// A plain PUT over an existing name replaces it.
		resp = e.do(request{method: "PUT", path: personalCal + "new.ics", body: retitled(fixture(t, "c.ics"), "x"), header: calICS})
		expectStatus(t, "unconditional update", resp, http.StatusNoContent)
		if resp.Header.Get("ETag") == "" {
			t.Error("204 without ETag")
		}

		t.Run("GET and HEAD conditions", func(t *testing.T) {
			for _, method := range []string{"GET", "HEAD"} {
				for _, c := range []struct {
					h    map[string]string
					want int
				}{
					{hdr("If-None-Match", etag1), http.StatusNotModified},
					{hdr("If-None-Match", `"other", `+etag1), http.StatusNotModified},
					{hdr("If-None-Match", "*"), http.StatusNotModified},
					{hdr("If-None-Match", `"other"`), http.StatusOK},
					{hdr("If-Match", etag1), http.StatusOK},
					{hdr("If-Match", `"other"`), http.StatusPreconditionFailed},
				} {
					resp := e.do(request{method: method, path: path, header: c.h})
					body := readBody(t, resp)
					if resp.StatusCode != c.want {
						t.Errorf("%s %v: %d, want %d", method, c.h, resp.StatusCode, c.want)
					}
					if c.want == http.StatusNotModified {
						if body != "" {
							t.Errorf("%s 304 with a body", method)
						}
						if resp.Header.Get("ETag") != etag1 {
							t.Errorf("%s 304 ETag %q, want %q", method, resp.Header.Get("ETag"), etag1)
						}
					}
					if method == "HEAD" && c.want == http.StatusOK && (body != "" || resp.ContentLength != int64(len(v1))) {
						t.Errorf("HEAD: body %d bytes, Content-Length %d, want none and %d", len(body), resp.ContentLength, len(v1))
					}
				}
			}
		})
	})
}

// assertETagEverywhere checks that GET, PROPFIND and calendar-multiget give
// the same ETag for path and that GET serves body exactly.
func assertETagEverywhere(t *testing.T, e *env, path, etag, body string) {
	t.Helper()
	resp := e.do(request{method: "GET", path: path})
	got := expectStatus(t, "GET", resp, http.StatusOK)
	if got != body {
		t.Errorf("GET %s returned other bytes:\n%q\nwant\n%q", path, got, body)
	}
	if resp.Header.Get("ETag") != etag {
		t.Errorf("GET ETag %q, want %q", resp.Header.Get("ETag"), etag)
	}
	if resp.Header.Get("Last-Modified") == "" {
		t.Error("GET without Last-Modified")
	}
	ctype := resp.Header.Get("Content-Type")
	if !strings.HasPrefix(ctype, "text/calendar") {
		t.Errorf("GET Content-Type %q", ctype)
	}
	dir := path[:strings.LastIndex(path, "/")+1]
	resp = e.do(request{method: "PROPFIND", path: dir, body: propfind(`<D:getetag/><D:getcontenttype/>`), header: hdr("Depth", "1")})
	ms := expectStatus(t, "PROPFIND", resp, http.StatusMultiStatus)
	if got := etagsOf(t, ms)[path]; got != etag {
		t.Errorf("PROPFIND getetag %q, want %q", got, etag)
	}
	// RFC 4918 §15.5: getcontenttype is what GET sends as Content-Type.
	root, err := dav.ParseXML([]byte(ms), dav.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range root.ChildrenNamed(dav.Name("response")) {
		if r.Child(dav.Name("href")).Text != path {
			continue
		}
		if el := findProp(&dav.Element{Name: dav.Name("multistatus"), Children: []*dav.Element{r}}, dav.Name("getcontenttype")); el == nil || el.Text != ctype {
			t.Errorf("getcontenttype %v, GET Content-Type %q", el, ctype)
		}
	}
	if got := e.multigetETags(t, dir, path)[path]; got != etag {
		t.Errorf("multiget getetag %q, want %q", got, etag)
	}
}

func TestPutPreconditions(t *testing.T) {
	twoUIDs := strings.Replace(fixture(t, "b.ics"), "UID:b@davenport.test\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID", "UID:other@davenport.test\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID", 1)
	withMethod := strings.Replace(fixture(t, "a.ics"), "VERSION:2.0\r\n", "VERSION:2.0\r\nMETHOD:REQUEST\r\n", 1)
	huge := strings.Replace(fixture(t, "a.ics"), "LOCATION:Room 1\r\n", "DESCRIPTION:"+strings.Repeat("x", 1<<20)+"\r\n", 1)
	cases := []struct {
		name, path, body, ctype string
		want                    int
	}{
		{"garbage", personalCal + "g.ics", "this is not iCalendar\r\n", "text/calendar", http.StatusForbidden},
		{"truncated", personalCal + "g.ics", fixture(t, "a.ics")[:120], "text/calendar", http.StatusForbidden},
		{"not-utf8", personalCal + "g.ics", strings.Replace(fixture(t, "a.ics"), "Team", "T\xe9am", 1), "text/calendar", http.StatusForbidden},
		{"two-uids", personalCal + "g.ics", twoUIDs, "text/calendar", http.StatusForbidden},
		{"method", personalCal + "g.ics", withMethod, "text/calendar", http.StatusForbidden},
		{"todo-into-events", calHome + "events/g.ics", fixture(t, "d.ics"), "text/calendar", http.StatusForbidden},
		{"content-type", personalCal + "g.ics", fixture(t, "a.ics"), "text/vcard", http.StatusForbidden},
		{"charset", personalCal + "g.ics", fixture(t, "a.ics"), "text/calendar; charset=iso-8859-1", http.StatusForbidden},
		{"max-resource-size", personalCal + "g.ics", huge, "text/calendar", http.StatusForbidden},
		{"uid-conflict", personalCal + "g.ics", fixture(t, "a.ics"), "text/calendar", http.StatusConflict},
		{"uid-conflict-odd-name", calHome + "events/g.ics", fixture(t, "e.ics"), "text/calendar", http.StatusConflict},
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.populate(t)
		mk := `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`
		expectStatus(t, "MKCALENDAR", e.do(request{method: "MKCALENDAR", path: calHome + "events/", body: mk}), http.StatusCreated)
		expectStatus(t, "PUT", e.do(request{method: "PUT", path: calHome + "events/caf%C3%A9%20%40%20noon.ics", body: fixture(t, "e.ics"), header: calICS}), http.StatusCreated)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				resp := e.do(request{method: "PUT", path: c.path, body: c.body, header: hdr("Content-Type", c.ctype)})
				body := expectStatus(t, "PUT", resp, c.want)
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
					t.Errorf("error body Content-Type %q, want application/xml", ct)
				}
				golden(t, "caldav/put-"+c.name, canonical(t, body))
				expectStatus(t, "GET after the refused PUT", e.do(request{method: "GET", path: c.path}), http.StatusNotFound)
			})
		}
	})
}

// TestStoredBytesVerbatim: what a client PUTs is what GET and calendar-data
// give back, byte for byte (DESIGN.md: store and serve the client's bytes).
func TestStoredBytesVerbatim(t *testing.T) {
	bodies := map[string]string{}
	for _, name := range fixtureNames {
		bodies[name] = fixture(t, name)
	}
	// Bare LF line endings (some scripts) and a body without a final
	// newline are kept as sent too.
	bodies["lf.ics"] = strings.ReplaceAll(strings.ReplaceAll(fixture(t, "a.ics"), "a@davenport.test", "lf@davenport.test"), "\r\n", "\n")
	bodies["noeol.ics"] = strings.TrimSuffix(strings.ReplaceAll(fixture(t, "c.ics"), "c@davenport.test", "noeol@davenport.test"), "\r\n")
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		multiget := `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>`
		for name, body := range bodies {
			expectStatus(t, "PUT "+name, e.do(request{method: "PUT", path: personalCal + name, body: body, header: calICS}), http.StatusCreated)
			got := expectStatus(t, "GET "+name, e.do(request{method: "GET", path: personalCal + name}), http.StatusOK)
			if got != body {
				t.Errorf("GET %s:\n%q\nwant\n%q", name, got, body)
			}
			multiget += "<D:href>" + personalCal + name + "</D:href>"
		}
		multiget += `</C:calendar-multiget>`
		resp := e.do(request{method: "REPORT", path: personalCal, body: multiget, header: hdr("Depth", "1")})
		root, err := dav.ParseXML([]byte(expectStatus(t, "multiget", resp, http.StatusMultiStatus)), dav.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, r := range root.ChildrenNamed(dav.Name("response")) {
			name := strings.TrimPrefix(r.Child(dav.Name("href")).Text, personalCal)
			data := findProp(&dav.Element{Children: []*dav.Element{r}, Name: dav.Name("multistatus")}, calData)
			if data == nil {
				t.Errorf("%s: no calendar-data", name)
				continue
			}
			seen++
			// XML normalizes CR LF to LF in character data unless the CR is
			// escaped; what the client parses must be the stored bytes.
			if data.Text != bodies[name] {
				t.Errorf("calendar-data of %s:\n%q\nwant\n%q", name, data.Text, bodies[name])
			}
		}
		if seen != len(bodies) {
			t.Errorf("multiget returned calendar-data for %d of %d objects", seen, len(bodies))
		}
	})
}

var calData = xmlName(dav.NSCalDAV, "calendar-data")

// TestOddNames: resource names are opaque; whatever a client picks
// round-trips through PUT, PROPFIND hrefs, GET, REPORT and DELETE.
func TestOddNames(t *testing.T) {
	names := []string{
		"with space.ics", "at@sign.ics", "ünïcödé €.ics", "100%.ics", "a+b=c&d.ics", "UPPER.ICS",
		"semi;colon,comma.ics", "quote'paren(1).ics", "{braces}[brackets].ics", "tilde~dash-under_dot..ics",
		"no-extension", "日本語のイベント.ics", "hash#frag?query.ics",
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for i, name := range names {
			uid := "odd-" + string(rune('a'+i)) + "@davenport.test"
			body := strings.ReplaceAll(fixture(t, "a.ics"), "a@davenport.test", uid)
			href := personalCal + url.PathEscape(name)
			resp := e.do(request{method: "PUT", path: href, body: body, header: calICS})
			expectStatus(t, "PUT "+name, resp, http.StatusCreated)
			if got := expectStatus(t, "GET "+name, e.do(request{method: "GET", path: href}), http.StatusOK); got != body {
				t.Errorf("GET %q returned other bytes", name)
			}
		}
		// Over-encoded paths name the same resource: "@" as %40, "~" as %7E.
		expectStatus(t, "GET %40", e.do(request{method: "GET", path: personalCal + "at%40sign.ics"}), http.StatusOK)
		expectStatus(t, "GET %7E", e.do(request{method: "GET", path: personalCal + "tilde%7Edash-under_dot..ics"}), http.StatusOK)

		resp := e.do(request{method: "PROPFIND", path: personalCal, body: propfind(`<D:getetag/>`), header: hdr("Depth", "1")})
		listed := etagsOf(t, expectStatus(t, "PROPFIND", resp, http.StatusMultiStatus))
		byName := map[string]string{}
		for href := range listed {
			if href == personalCal {
				continue
			}
			u, err := url.Parse(href)
			if err != nil {
				t.Errorf("href %q does not parse: %v", href, err)
				continue
			}
			name, err := url.PathUnescape(strings.TrimPrefix(u.EscapedPath(), personalCal))
			if err != nil || u.RawQuery != "" || u.Fragment != "" {
				t.Errorf("href %q is not one escaped path", href)
				continue
			}
			byName[name] = href
		}
		var hrefs []string
		for _, name := range names {
			href, ok := byName[name]
			if !ok {
				t.Errorf("PROPFIND does not list %q (listed %v)", name, listed)
				continue
			}
			hrefs = append(hrefs, href)
			// The listed href is one a client can use as it is.
			expectStatus(t, "GET listed "+href, e.do(request{method: "GET", path: href}), http.StatusOK)
		}
		if got := e.multigetETags(t, personalCal, hrefs...); len(got) != len(names) {
			t.Errorf("multiget of the listed hrefs found %d of %d", len(got), len(names))
		}
		for _, href := range hrefs {
			expectStatus(t, "DELETE "+href, e.do(request{method: "DELETE", path: href}), http.StatusNoContent)
			expectStatus(t, "GET deleted "+href, e.do(request{method: "GET", path: href}), http.StatusNotFound)
		}
		// Names that cannot be a segment are refused, not stored.
		for _, bad := range []string{"%2E%2E", "a%2Fb.ics", "nul%00.ics"} {
			resp := e.do(request{method: "PUT", path: personalCal + bad, body: fixture(t, "c.ics"), header: calICS})
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("PUT %s: %d, want a 4xx", bad, resp.StatusCode)
			}
		}
	})
}

func TestDeleteIfMatch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.populate(t)
		path := personalCal + "a.ics"
		etag := e.do(request{method: "GET", path: path}).Header.Get("ETag")
		for _, im := range []string{`"0123456789abcdef0123456789abcdef"`, "W/" + etag} {
			resp := e.do(request{method: "DELETE", path: path, header: hdr("If-Match", im)})
			expectStatus(t, "DELETE If-Match "+im, resp, http.StatusPreconditionFailed)
			expectStatus(t, "GET after refused DELETE", e.do(request{method: "GET", path: path}), http.StatusOK)
		}
		expectStatus(t, "DELETE", e.do(request{method: "DELETE", path: path, header: hdr("If-Match", etag)}), http.StatusNoContent)
		expectStatus(t, "GET deleted", e.do(request{method: "GET", path: path}), http.StatusNotFound)
		expectStatus(t, "DELETE again", e.do(request{method: "DELETE", path: path}), http.StatusNotFound)
		expectStatus(t, "DELETE If-Match * on missing", e.do(request{method: "DELETE", path: path, header: hdr("If-Match", "*")}), http.StatusNotFound)
		expectStatus(t, "DELETE If-Match *", e.do(request{method: "DELETE", path: personalCal + "b.ics", header: hdr("If-Match", "*")}), http.StatusNoContent)
		// The UID of a deleted object is free again.
		expectStatus(t, "PUT the UID again", e.do(request{method: "PUT", path: personalCal + "again.ics", body: fixture(t, "a.ics"), header: calICS}), http.StatusCreated)
	})
}

func TestCopyMove(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.populate(t)
		mk := `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`
		expectStatus(t, "MKCALENDAR work", e.do(request{method: "MKCALENDAR", path: calHome + "work/", body: mk}), http.StatusCreated)
		work := calHome + "work/"
		a := fixture(t, "a.ics")
		dest := func(p string) map[string]string { return hdr("Destination", e.srv.URL+p) }
		get := func(p string) (int, string) {
			resp := e.do(request{method: "GET", path: p})
			return resp.StatusCode, readBody(t, resp)
		}

		// MOVE within a calendar: a new name, the old one gone.
		resp := e.do(request{method: "MOVE", path: personalCal + "a.ics", header: dest(personalCal + "renamed a.ics")})
		expectStatus(t, "MOVE within", resp, http.StatusCreated)
		if st, _ := get(personalCal + "a.ics"); st != http.StatusNotFound {
			t.Errorf("source after MOVE: %d", st)
		}
		if st, body := get(personalCal + "renamed%20a.ics"); st != http.StatusOK || body != a {
			t.Errorf("destination after MOVE: %d", st)
		}
		// MOVE between calendars, with a path-only Destination.
		resp = e.do(request{method: "MOVE", path: personalCal + "renamed%20a.ics", header: hdr("Destination", work+"a.ics")})
		expectStatus(t, "MOVE between", resp, http.StatusCreated)
		if st, body := get(work + "a.ics"); st != http.StatusOK || body != a {
			t.Errorf("destination after MOVE between calendars: %d", st)
		}
		// COPY back: both exist, bytes identical, same ETag.
		resp = e.do(request{method: "COPY", path: work + "a.ics", header: dest(personalCal + "a.ics")})
		expectStatus(t, "COPY between", resp, http.StatusCreated)
		if etag := e.do(request{method: "GET", path: work + "a.ics"}).Header.Get("ETag"); resp.Header.Get("ETag") != etag {
			t.Errorf("COPY answered ETag %q, the copy has %q", resp.Header.Get("ETag"), etag)
		}
		s1, b1 := get(work + "a.ics")
		s2, b2 := get(personalCal + "a.ics")
		if s1 != 200 || s2 != 200 || b1 != a || b2 != a {
			t.Errorf("after COPY: %d %d", s1, s2)
		}
		// Overwrite: F onto an existing name: 412, nothing changed.
		resp = e.do(request{method: "COPY", path: personalCal + "c.ics", header: map[string]string{"Destination": e.srv.URL + personalCal + "a.ics", "Overwrite": "F"}})
		expectStatus(t, "COPY Overwrite F", resp, http.StatusPreconditionFailed)
		resp = e.do(request{method: "MOVE", path: personalCal + "c.ics", header: map[string]string{"Destination": e.srv.URL + personalCal + "a.ics", "Overwrite": "F"}})
		expectStatus(t, "MOVE Overwrite F", resp, http.StatusPreconditionFailed)
		if _, body := get(personalCal + "a.ics"); body != a {
			t.Error("Overwrite: F changed the destination")
		}
		if st, _ := get(personalCal + "c.ics"); st != http.StatusOK {
			t.Error("refused MOVE removed the source")
		}
		// A copy within one calendar repeats the UID: 409 no-uid-conflict
		// naming the holder (RFC 4791 §5.3.2.1).
		resp = e.do(request{method: "COPY", path: personalCal + "a.ics", header: dest(personalCal + "copy of a.ics")})
		golden(t, "caldav/copy-uid-conflict", canonical(t, expectStatus(t, "COPY same UID", resp, http.StatusConflict)))
		// MOVE onto another calendar where a different name holds the UID.
		resp = e.do(request{method: "MOVE", path: personalCal + "a.ics", header: dest(work + "other.ics")})
		golden(t, "caldav/move-uid-conflict", canonical(t, expectStatus(t, "MOVE same UID", resp, http.StatusConflict)))
		if st, _ := get(personalCal + "a.ics"); st != http.StatusOK {
			t.Error("refused MOVE removed the source")
		}
		// A task cannot be copied or moved into an events-only calendar.
		for _, m := range []string{"COPY", "MOVE"} {
			resp = e.do(request{method: m, path: personalCal + "d.ics", header: dest(work + "d.ics")})
			golden(t, "caldav/"+strings.ToLower(m)+"-unsupported-component", canonical(t, expectStatus(t, m+" VTODO into VEVENT-only", resp, http.StatusForbidden)))
		}
		if st, _ := get(personalCal + "d.ics"); st != http.StatusOK {
			t.Error("refused MOVE of the task removed it")
		}
		// Overwrite (default T) onto an existing name of another UID would
		// change that resource's UID: 403 no-uid-conflict (RFC 4791
		// §5.3.2.1), nothing changed.
		resp = e.do(request{method: "MOVE", path: personalCal + "c.ics", header: dest(work + "a.ics")})
		expectStatus(t, "MOVE overwrite of another UID", resp, http.StatusForbidden)
		if _, body := get(work + "a.ics"); body != a {
			t.Error("a refused MOVE replaced a.ics")
		}
		// Onto the same event (the copy made above) it replaces it: 204.
		resp = e.do(request{method: "MOVE", path: personalCal + "a.ics", header: dest(work + "a.ics")})
		expectStatus(t, "MOVE overwrite", resp, http.StatusNoContent)
		if st, _ := get(personalCal + "a.ics"); st != http.StatusNotFound {
			t.Error("MOVE over work/a.ics left its source")
		}
		// Bad destinations.
		for _, c := range []struct {
			name string
			h    map[string]string
			want int
		}{
			{"no Destination", nil, http.StatusBadRequest},
			{"missing calendar", dest(calHome + "nowhere/x.ics"), http.StatusConflict},
			{"a collection", dest(work), http.StatusForbidden},
			{"another user", dest("/dav/calendars/bob/personal/x.ics"), http.StatusForbidden},
			{"address book", dest("/dav/addressbooks/alice/contacts/x.vcf"), http.StatusForbidden},
			{"itself", dest(personalCal + "e.ics"), http.StatusForbidden},
			{"other server", hdr("Destination", "http://elsewhere.example/dav/calendars/alice/work/e.ics"), http.StatusBadGateway},
		} {
			resp := e.do(request{method: "MOVE", path: personalCal + "e.ics", header: c.h})
			if resp.StatusCode != c.want {
				t.Errorf("MOVE to %s: %d, want %d", c.name, resp.StatusCode, c.want)
			}
		}
		if st, _ := get(personalCal + "e.ics"); st != http.StatusOK {
			t.Error("a refused MOVE removed the source")
		}
		// COPY/MOVE with a wrong If-Match on the source.
		resp = e.do(request{method: "MOVE", path: personalCal + "e.ics", header: map[string]string{"Destination": work + "e.ics", "If-Match": `"0123456789abcdef0123456789abcdef"`}})
		expectStatus(t, "MOVE If-Match", resp, http.StatusPreconditionFailed)
	})
}

// TestConcurrentPuts: writers racing with the same If-Match: exactly one
// wins (204), every other gets 412 (DESIGN.md: the condition is checked in
// the write transaction).
func TestConcurrentPuts(t *testing.T) {
	const writers = 8
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		path := personalCal + "race.ics"
		base := strings.ReplaceAll(fixture(t, "a.ics"), "a@davenport.test", "race@davenport.test")
		resp := e.do(request{method: "PUT", path: path, body: base, header: calICS})
		expectStatus(t, "create", resp, http.StatusCreated)
		etag := resp.Header.Get("ETag")
		for round := 0; round < 3; round++ {
			codes := make([]int, writers)
			etags := make([]string, writers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := 0; i < writers; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					body := retitled(base, "writer "+string(rune('A'+i))+" round "+string(rune('0'+round)))
					req, _ := http.NewRequest("PUT", e.srv.URL+path, strings.NewReader(body))
					req.SetBasicAuth("alice", alicePassword)
					req.Header.Set("Content-Type", "text/calendar")
					req.Header.Set("If-Match", etag)
					<-start
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						codes[i] = -1
						return
					}
					resp.Body.Close()
					codes[i], etags[i] = resp.StatusCode, resp.Header.Get("ETag")
				}(i)
			}
			close(start)
			wg.Wait()
			wins := 0
			for i, c := range codes {
				switch c {
				case http.StatusNoContent:
					wins++
					etag = etags[i]
				case http.StatusPreconditionFailed:
				default:
					t.Errorf("round %d writer %d: status %d", round, i, c)
				}
			}
			if wins != 1 {
				t.Fatalf("round %d: %d writers won, want exactly 1 (%v)", round, wins, codes)
			}
			resp := e.do(request{method: "GET", path: path})
			readBody(t, resp)
			if resp.Header.Get("ETag") != etag {
				t.Fatalf("round %d: stored ETag %q, winner's %q", round, resp.Header.Get("ETag"), etag)
			}
		}
	})
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
