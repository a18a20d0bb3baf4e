package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// benchEnv is a server on the embedded store with n events in alice's
// calendar, for the request-path benchmarks.
func benchEnv(b *testing.B, n int) *env {
	b.Helper()
	return benchEnvOn(b, testdb.SQLite(b), n)
}

// benchEnvOn is benchEnv on st.
func benchEnvOn(b *testing.B, st store.Store, n int) *env {
	b.Helper()
	e := newEnvTB(b, st)
	for i := 0; i < n; i++ {
		body := fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:ev-%d\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T%02d0000Z\r\nDURATION:PT1H\r\nSUMMARY:Event %d\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", i, i%24, i)
		resp := e.do(request{method: "PUT", path: fmt.Sprintf("/dav/calendars/alice/personal/ev-%d.ics", i), body: body, header: map[string]string{"Content-Type": "text/calendar"}})
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("seed PUT: %d", resp.StatusCode)
		}
		resp.Body.Close()
	}
	return e
}

func (e *env) bench(b *testing.B, r request) {
	b.Helper()
	e.benchMembers(b, r, 0)
}

// benchMembers is bench for an answer of members responses: it also
// reports the CPU time of the process (server, client and SQLite; not
// PostgreSQL's own) per request and per member, which the load of a
// shared machine inflates far less than wall time.
func (e *env) benchMembers(b *testing.B, r request, members int) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	cpu, n := cpuTime(), 0
	for b.Loop() {
		resp := e.do(r)
		size, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		b.SetBytes(size)
		n++
	}
	used := float64(cpuTime() - cpu)
	b.ReportMetric(used/float64(n), "cpu-ns/op")
	if members > 0 {
		b.ReportMetric(used/float64(n)/float64(members), "cpu-ns/member")
	}
}

func BenchmarkGet(b *testing.B) {
	e := benchEnv(b, 100)
	e.bench(b, request{method: "GET", path: "/dav/calendars/alice/personal/ev-42.ics"})
}

// The listing benchmarks run on both stores (sub-benchmarks postgres and
// sqlite) over a calendar of 1,000 events.

func BenchmarkMultiget100(b *testing.B) {
	var hrefs strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&hrefs, "<D:href>/dav/calendars/alice/personal/ev-%d.ics</D:href>", i*7)
	}
	body := `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>` + hrefs.String() + `</C:calendar-multiget>`
	testdb.EachBench(b, func(b *testing.B, st store.Store) {
		e := benchEnvOn(b, st, 1000)
		e.benchMembers(b, request{method: "REPORT", path: "/dav/calendars/alice/personal/", body: body, header: map[string]string{"Depth": "1"}}, 100)
	})
}

func BenchmarkPropfindDepth1(b *testing.B) {
	body := `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontenttype/></D:prop></D:propfind>`
	testdb.EachBench(b, func(b *testing.B, st store.Store) {
		e := benchEnvOn(b, st, 1000)
		e.benchMembers(b, request{method: "PROPFIND", path: "/dav/calendars/alice/personal/", body: body, header: map[string]string{"Depth": "1"}}, 1000)
	})
}

// BenchmarkSyncInitial is the first sync-collection of a client: every
// member's href and ETag, read from the change log a page at a time.
func BenchmarkSyncInitial(b *testing.B) {
	body := `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`
	testdb.EachBench(b, func(b *testing.B, st store.Store) {
		e := benchEnvOn(b, st, 1000)
		e.benchMembers(b, request{method: "REPORT", path: "/dav/calendars/alice/personal/", body: body}, 1000)
	})
}
