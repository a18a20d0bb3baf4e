package server

import (
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// TestObserveAllocates: recording a request allocates nothing once its
// label set has been seen (the middleware runs on every request).
func TestObserveAllocates(t *testing.T) {
	m := newMetrics(store.Store(nil), nil, nil, nil)
	m.observe("PROPFIND", 207, "/dav/calendars/alice/work/", time.Millisecond)
	if n := testing.AllocsPerRun(1000, func() {
		m.inFlight.Inc()
		m.observe("PROPFIND", 207, "/dav/calendars/alice/work/", time.Millisecond)
		m.inFlight.Dec()
	}); n != 0 {
		t.Errorf("observe allocates %v times per request, want 0", n)
	}
}

// BenchmarkObserve is the metrics middleware's cost per request.
func BenchmarkObserve(b *testing.B) {
	m := newMetrics(store.Store(nil), nil, nil, nil)
	paths := []string{"/dav/calendars/alice/work/a.ics", "/dav/addressbooks/alice/", "/dav/", "/web/home"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.inFlight.Inc()
			m.observe("REPORT", 207, paths[i%len(paths)], 3*time.Millisecond)
			m.inFlight.Dec()
			i++
		}
	})
}

func TestRequestKind(t *testing.T) {
	for _, c := range []struct {
		path string
		want string
	}{
		{"/dav/calendars/alice/work/a.ics", "calendar"},
		{"/dav/addressbooks/alice/", "addressbook"},
		{"/dav/files/alice/x", "files"},
		{"/dav/inbox/alice/inbox/", "inbox"},
		{"/dav/outbox/alice/outbox/", "outbox"},
		{"/dav/principals/alice/", "principal"},
		{"/dav/", "principal"},
		{"/", "principal"},
		{"/principals/", "principal"},
		{"/web/login", "web"},
		{"/dav/nonsense/", "other"},
		{"/public/abc", "other"},
		{"/.well-known/caldav", "other"},
	} {
		if got := kindNames[requestKind(c.path)]; got != c.want {
			t.Errorf("requestKind(%q) = %s, want %s", c.path, got, c.want)
		}
	}
}
