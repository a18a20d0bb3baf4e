package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/push"
	"github.com/davenport-dav/davenport/push/pushtest"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// BenchmarkPushLatency measures the time from a PUT's answer to the push
// message's arrival at an in-process Web Push endpoint, with the worker's
// default poll interval; writes are spaced by the coalescing interval, as
// a user's edits are. Run:
//
//	go test ./server -run '^$' -bench PushLatency -benchtime 200x
func BenchmarkPushLatency(b *testing.B) {
	for _, be := range testdb.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			st := be.New(b)
			svc := newPushService(b, st, push.Config{Poll: 200 * time.Millisecond, Coalesce: 50 * time.Millisecond})
			e := newEnvTB(b, st, func(c *server.Config) { c.Push = svc })
			ep := pushtest.New(b)
			col := "/dav/calendars/alice/personal/"
			e.register("alice", alicePassword, col, ep, false)
			var lat []time.Duration
			i := 0
			for b.Loop() {
				i++
				r := e.put("alice", alicePassword, fmt.Sprintf("%sl%d.ics", col, i), fmt.Sprintf(sharedEvent, fmt.Sprint("l", i), "x"), nil)
				acked := time.Now()
				if r.StatusCode != 201 {
					b.Fatalf("PUT: %d", r.StatusCode)
				}
				tok, id := e.token("alice", store.KindCalendar, "personal")
				ms := ep.Wait(b, 10*time.Second, "push", func(ms []pushtest.Message) bool {
					return len(ms) > 0 && ms[len(ms)-1].SyncToken == tok && ms[len(ms)-1].Topic == svc.Topic(id)
				})
				lat = append(lat, ms[len(ms)-1].At.Sub(acked))
				time.Sleep(60 * time.Millisecond)
			}
			slices.Sort(lat)
			p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
			b.ReportMetric(float64(p(0.50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p(0.99).Microseconds())/1000, "p99-ms")
			b.Logf("%s: %d pushes, PUT acknowledged → push received p50 %v p99 %v max %v", be.Name, len(lat), p(0.50), p(0.99), lat[len(lat)-1])
		})
	}
}

// BenchmarkPushWriteThroughput measures PUTs per second into a calendar
// with no push registration and with 100, with the worker's production
// settings (poll 200 ms, coalesce 500 ms) sending meanwhile: each change is
// fanned out to 100 subscriptions by the worker, never by the write. The
// subscriptions' push service only counts what it gets: a real one runs
// elsewhere, and decrypting 100 messages per interval in this process
// would charge its work to the server. Run (the figure is noisy on a
// shared machine: compare medians, and note the load average):
//
//	go test ./server -run '^$' -bench PushWriteThroughput -benchtime 1000x -count 5
func BenchmarkPushWriteThroughput(b *testing.B) {
	for _, be := range testdb.Backends() {
		for _, subs := range []int{0, 100} {
			b.Run(fmt.Sprintf("%s/subscriptions=%d", be.Name, subs), func(b *testing.B) {
				st := be.New(b)
				svc := newPushService(b, st, push.Config{Poll: 200 * time.Millisecond, Coalesce: 500 * time.Millisecond})
				e := newEnvTB(b, st, func(c *server.Config) { c.Push = svc })
				var got atomic.Int64
				ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
					got.Add(1)
					w.WriteHeader(http.StatusCreated)
				}))
				b.Cleanup(ps.Close)
				ep := pushtest.New(b) // for the subscription's keys
				col := "/dav/calendars/alice/personal/"
				for i := range subs {
					r := e.do(request{method: "POST", path: col, header: map[string]string{"Content-Type": "application/xml"},
						body: pushRegister(fmt.Sprintf("%s/push/%d", ps.URL, i), ep.PublicKey(), ep.AuthSecret(), "", false)})
					if r.StatusCode != 201 {
						b.Fatalf("register: %d", r.StatusCode)
					}
				}
				i := 0
				start := time.Now()
				for b.Loop() {
					i++
					if r := e.put("alice", alicePassword, fmt.Sprintf("%st%d.ics", col, i), fmt.Sprintf(sharedEvent, fmt.Sprint("t", i), "x"), nil); r.StatusCode != 201 {
						b.Fatalf("PUT: %d", r.StatusCode)
					}
				}
				elapsed := time.Since(start)
				b.ReportMetric(float64(i)/elapsed.Seconds(), "writes/s")
				b.ReportMetric(float64(got.Load()), "pushes")
				if subs > 0 && (svc.Stats.Sent.Load() == 0 || got.Load() == 0) {
					b.Fatal("no push was sent during the writes")
				}
			})
		}
	}
}
