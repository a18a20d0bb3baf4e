package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// Fuzz targets over the full stack on the embedded store: whatever bytes a
// client sends as a calendar object or a REPORT body, the answer is never a
// 5xx, and a stored object is served back byte for byte.

// fuzzServer is newEnv for a fuzz target: alice on a fresh SQLite store.
func fuzzServer(tb testing.TB) *httptest.Server {
	tb.Helper()
	st := testdb.SQLite(tb)
	hash, err := auth.HashPasswordParams(alicePassword, cheapParams)
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.CreateUser(context.Background(), &store.User{Username: "alice", PasswordHash: hash}, server.DefaultCollections()); err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	a, err := auth.New(st, logger, auth.Options{Params: cheapParams})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{Store: st, Auth: a, Logger: logger, MaxResourceSize: 1 << 20, Version: "fuzz"}))
	tb.Cleanup(srv.Close)
	return srv
}

// fuzzDo sends one request as alice and reads the whole answer.
func fuzzDo(t testing.TB, srv *httptest.Server, method, path, body string, h map[string]string) (*http.Response, []byte) {
	t.Helper()
	start := time.Now()
	defer func() {
		if d := time.Since(start); d > slowRequest {
			t.Errorf("%s %s took %v\n%q", method, path, d, body)
		}
	}()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("alice", alicePassword)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s: %d\n%s", method, path, resp.StatusCode, b)
	}
	return resp, b
}

// slowRequest is how long one request may take before the fuzzer reports
// it: a body that ties the server up is a denial of service.
const slowRequest = 30 * time.Second

// seedFiles adds every file matching the globs (relative to the package).
func seedFiles(f *testing.F, globs ...string) int {
	n := 0
	for _, g := range globs {
		paths, _ := filepath.Glob(g)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
			n++
		}
	}
	return n
}

const expandAll = `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/>` +
	`<C:calendar-data><C:expand start="20000101T000000Z" end="20400101T000000Z"/></C:calendar-data></D:prop>` +
	`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20000101T000000Z" end="20400101T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`

// FuzzPutObject: bytes → PUT → validation and indexing → store → GET. A
// created object is served exactly as sent (less a leading byte order
// mark), with the PUT's ETag, and querying and expanding it never fails
// the server.
func FuzzPutObject(f *testing.F) {
	// RFC 4791 Appendix B and §7.8 objects (kept by the caldav package),
	// its validation corpus, and this package's fixtures.
	if seedFiles(f, "testdata/caldav/objects/*.ics", "../caldav/testdata/rfc4791/*.ics", "../caldav/testdata/validate/*.ics", "../internal/recur/testdata/recur/*.ics") == 0 {
		f.Fatal("no seeds")
	}
	f.Add([]byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260101T000000Z\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	f.Add([]byte(bom + "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\nUID:bom\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	srv := fuzzServer(f)
	const path = "/dav/calendars/alice/personal/fuzz.ics"
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, _ := fuzzDo(t, srv, "PUT", path, string(body), map[string]string{"Content-Type": "text/calendar"})
		switch resp.StatusCode {
		case http.StatusCreated, http.StatusNoContent:
		default:
			if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusConflict {
				t.Fatalf("PUT: %d, want 201, 204, 403 or 409", resp.StatusCode)
			}
			return
		}
		// A leading byte order mark is dropped; then the PUT answer has no
		// ETag (RFC 4791 §5.3.4).
		want, hadBOM := bytes.CutPrefix(body, []byte(bom))
		etag := resp.Header.Get("ETag")
		got, data := fuzzDo(t, srv, "GET", path, "", nil)
		if got.StatusCode != http.StatusOK || string(data) != string(want) {
			t.Fatalf("GET after PUT: %d, bytes equal %v", got.StatusCode, string(data) == string(want))
		}
		if hadBOM && etag != "" || !hadBOM && got.Header.Get("ETag") != etag {
			t.Fatalf("GET ETag %q, PUT gave %q (byte order mark dropped: %v)", got.Header.Get("ETag"), etag, hadBOM)
		}
		rep, out := fuzzDo(t, srv, "REPORT", "/dav/calendars/alice/personal/", expandAll, map[string]string{"Depth": "1"})
		if rep.StatusCode == http.StatusMultiStatus {
			if _, err := dav.ParseXML(out, dav.DefaultLimits); err != nil {
				t.Fatalf("calendar-query answer is not XML: %v", err)
			}
		}
		if del, _ := fuzzDo(t, srv, "DELETE", path, "", nil); del.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE: %d", del.StatusCode)
		}
	})
}

// FuzzCalendarQueryBody: any REPORT body on a populated calendar gets a
// well-formed answer and never a 5xx (the caldav package's
// FuzzReportFilter covers the filter itself; this covers the glue).
func FuzzCalendarQueryBody(f *testing.F) {
	if seedFiles(f, "testdata/caldav/report/*.req", "testdata/clients/davx5-08-calendar-multiget.xml", "testdata/clients/thunderbird-06-calendar-multiget.xml",
		"../caldav/testdata/rfc4791/*.xml", "../caldav/testdata/filter/*.xml") == 0 {
		f.Fatal("no seeds")
	}
	srv := fuzzServer(f)
	for _, name := range fixtureNames {
		if resp, _ := fuzzDo(f, srv, "PUT", "/dav/calendars/alice/personal/"+name, fixture(f, name), map[string]string{"Content-Type": "text/calendar"}); resp.StatusCode != http.StatusCreated {
			f.Fatalf("PUT %s: %d", name, resp.StatusCode)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, out := fuzzDo(t, srv, "REPORT", "/dav/calendars/alice/personal/", string(body), map[string]string{"Depth": "1"})
		if resp.StatusCode == http.StatusMultiStatus {
			if _, err := dav.ParseXML(out, dav.DefaultLimits); err != nil {
				t.Fatalf("207 is not well-formed XML: %v\n%s", err, out)
			}
		}
	})
}
