package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// plainEvent is an event without ORGANIZER (no scheduling object
// resource) with a description of size bytes.
func plainEvent(uid string, n, size int) string {
	return fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\n"+
		"DTSTART:20260301T100000Z\r\nDURATION:PT1H\r\nSUMMARY:Edit %d\r\nDESCRIPTION:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		uid, n, strings.Repeat("x", size))
}

// BenchmarkPutOverwrite measures the commonest write: a client saves an
// edit of an existing event that has no attendees (16 KiB description).
// Such an event is marked unscheduled at write, so the overwrite does not
// read the old body for scheduling.
//
//	go test ./server -run '^$' -bench PutOverwrite -benchmem -benchtime 2000x
func BenchmarkPutOverwrite(b *testing.B) {
	testdb.EachBench(b, func(b *testing.B, st store.Store) {
		e := newEnvTB(b, st)
		const path = "/dav/calendars/alice/personal/edit.ics"
		put := func(n int) {
			resp := e.do(request{method: "PUT", path: path, body: plainEvent("edit", n, 16<<10), header: map[string]string{"Content-Type": "text/calendar"}})
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
				b.Fatalf("PUT: %d", resp.StatusCode)
			}
		}
		put(0)
		b.ReportAllocs()
		b.ResetTimer()
		i := 0
		for b.Loop() {
			i++
			put(i)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
	})
}

// TestPlainOverwriteReadsNoBody: overwriting or deleting an event without
// ORGANIZER does not read its body (nothing to schedule); one with an
// ORGANIZER still does, and an event that gains an ORGANIZER is scheduled.
func TestPlainOverwriteReadsNoBody(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		br := &bodyReads{Store: st}
		e := schedEnv(t, br)
		const path = "/dav/calendars/alice/personal/plain.ics"
		if resp := e.put("", "", path, plainEvent("plain", 0, 10), nil); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
		br.n.Store(0)
		if resp := e.put("", "", path, plainEvent("plain", 1, 10), nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("overwrite: %d", resp.StatusCode)
		}
		if n := br.n.Load(); n != 0 {
			t.Errorf("overwriting an event without ORGANIZER read %d bodies; want 0", n)
		}
		// It gains attendees: bob is invited.
		withOrg := meeting("plain", "20260105T100000Z", "", "bob@example.org")
		if resp := e.put("", "", path, withOrg, nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("overwrite with attendees: %d", resp.StatusCode)
		}
		if code, _, _ := e.get("bob", bobPassword, "/dav/calendars/bob/personal/plain.ics"); code != http.StatusOK {
			t.Errorf("bob's copy after the event gained attendees: %d", code)
		}
		br.n.Store(0)
		if resp := e.do(request{method: "DELETE", path: path}); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE: %d", resp.StatusCode)
		}
		if n := br.n.Load(); n == 0 {
			t.Errorf("deleting a scheduled event read no body: the attendees cannot be cancelled")
		}
		if _, b, _ := e.get("bob", bobPassword, "/dav/calendars/bob/personal/plain.ics"); !strings.Contains(b, "STATUS:CANCELLED") {
			t.Errorf("bob's copy after the delete:\n%s", b)
		}
		// A plain event's If-Schedule-Tag-Match still fails.
		if resp := e.put("", "", path, plainEvent("plain", 2, 10), nil); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
		if resp := e.put("", "", path, plainEvent("plain", 3, 10), map[string]string{"If-Schedule-Tag-Match": `"st-x"`}); resp.StatusCode != http.StatusPreconditionFailed {
			t.Errorf("If-Schedule-Tag-Match on a plain event: %d; want 412", resp.StatusCode)
		}
	})
}
