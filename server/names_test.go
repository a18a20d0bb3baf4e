package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestInvalidUTF8Names: a path segment that is not UTF-8 is refused with
// 400 before the store sees it, the same on both stores (PostgreSQL used to
// answer 500 with SQLSTATE 22021, the embedded store stored the name), and
// a multiget href naming one gets its own 400 inside the 207.
func TestInvalidUTF8Names(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, r := range []request{
			{method: "PUT", path: personalCal + "%ff.ics", body: fixture(t, "a.ics"), header: calICS},
			{method: "GET", path: personalCal + "%ff.ics"},
			{method: "DELETE", path: personalCal + "%ff.ics"},
			{method: "PROPFIND", path: personalCal + "caf%e9.ics", header: hdr("Depth", "0")},
			{method: "MKCALENDAR", path: calHome + "%ff/"},
			{method: "PROPFIND", path: calHome + "%c3%28/", header: hdr("Depth", "0")},
			{method: "PROPFIND", path: "/dav/principals/%ff/", header: hdr("Depth", "0")},
		} {
			resp := e.do(r)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s %s = %d, want 400", r.method, r.path, resp.StatusCode)
			}
		}
		// COPY to a bad name.
		expectStatus(t, "PUT a.ics", e.do(request{method: "PUT", path: personalCal + "a.ics", body: fixture(t, "a.ics"), header: calICS}), http.StatusCreated)
		resp := e.do(request{method: "COPY", path: personalCal + "a.ics", header: hdr("Destination", personalCal+"%ff.ics")})
		expectStatus(t, "COPY to %ff.ics", resp, http.StatusBadRequest)

		body := `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <D:href>` + personalCal + `%ff.ics</D:href>
  <D:href>` + personalCal + `a.ics</D:href>
  <D:href>` + personalCal + `missing.ics</D:href>
</C:calendar-multiget>`
		resp = e.do(request{method: "REPORT", path: personalCal, body: body, header: hdr("Depth", "1")})
		ms, err := dav.ParseXML([]byte(expectStatus(t, "multiget", resp, http.StatusMultiStatus)), dav.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, r := range ms.ChildrenNamed(dav.Name("response")) {
			status := ""
			if s := r.Child(dav.Name("status")); s != nil {
				status = s.Text
			}
			for _, ps := range r.ChildrenNamed(dav.Name("propstat")) {
				status = ps.Child(dav.Name("status")).Text
			}
			got[strings.TrimPrefix(r.Child(dav.Name("href")).Text, personalCal)] = status
		}
		for href, want := range map[string]string{"%ff.ics": "400", "a.ics": "200", "missing.ics": "404"} {
			if !strings.Contains(got[href], " "+want+" ") {
				t.Errorf("multiget %s: status %q, want %s", href, got[href], want)
			}
		}
	})
}

// TestNFCNames: user and collection segments are normalised to NFC, so a
// decomposed URL reaches the composed collection; object names are opaque
// and round-trip exactly, so NFC and NFD twins are two resources.
func TestNFCNames(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		nfc, nfd := "caf\u00e9", "cafe\u0301"
		if norm.NFC.String(nfd) != nfc {
			t.Fatal("test strings are not NFC/NFD twins")
		}
		expectStatus(t, "MKCALENDAR NFD", e.do(request{method: "MKCALENDAR", path: calHome + escapePath(nfd) + "/"}), http.StatusCreated)
		// Stored composed: the NFC URL finds it, a second MKCALENDAR with
		// either form is refused.
		expectStatus(t, "PROPFIND NFC", e.do(request{method: "PROPFIND", path: calHome + escapePath(nfc) + "/", header: hdr("Depth", "0")}), http.StatusMultiStatus)
		expectStatus(t, "MKCALENDAR NFC again", e.do(request{method: "MKCALENDAR", path: calHome + escapePath(nfc) + "/"}), http.StatusMethodNotAllowed)
		if _, err := st.GetCollection(t.Context(), mustUser(t, st, "alice").ID, store.KindCalendar, nfc); err != nil {
			t.Errorf("collection not stored in NFC: %v", err)
		}

		// Object names: both forms are kept apart, each round-trips.
		col := calHome + escapePath(nfd) + "/"
		a := strings.ReplaceAll(fixture(t, "a.ics"), "a@davenport.test", "nfd@davenport.test")
		b := strings.ReplaceAll(fixture(t, "a.ics"), "a@davenport.test", "nfc@davenport.test")
		expectStatus(t, "PUT NFD object", e.do(request{method: "PUT", path: col + escapePath(nfd) + ".ics", body: a, header: calICS}), http.StatusCreated)
		expectStatus(t, "PUT NFC object", e.do(request{method: "PUT", path: col + escapePath(nfc) + ".ics", body: b, header: calICS}), http.StatusCreated)
		if got := expectStatus(t, "GET NFD", e.do(request{method: "GET", path: col + escapePath(nfd) + ".ics"}), http.StatusOK); got != a {
			t.Error("GET of the NFD name returned another object")
		}
		if got := expectStatus(t, "GET NFC", e.do(request{method: "GET", path: col + escapePath(nfc) + ".ics"}), http.StatusOK); got != b {
			t.Error("GET of the NFC name returned another object")
		}
	})
}

func escapePath(s string) string { return url.PathEscape(s) }

func mustUser(t *testing.T, st store.Store, name string) *store.User {
	t.Helper()
	u, err := st.GetUser(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
