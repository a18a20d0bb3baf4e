package server_test

import (
	"fmt"
	"slices"
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
// with no push registration and with 100 (each change fanned out to 100
// subscriptions by the worker, which runs meanwhile). Run:
//
//	go test ./server -run '^$' -bench PushWriteThroughput -benchtime 500x -count 3
func BenchmarkPushWriteThroughput(b *testing.B) {
	for _, be := range testdb.Backends() {
		for _, subs := range []int{0, 100} {
			b.Run(fmt.Sprintf("%s/subscriptions=%d", be.Name, subs), func(b *testing.B) {
				st := be.New(b)
				svc := newPushService(b, st, push.Config{})
				e := newEnvTB(b, st, func(c *server.Config) { c.Push = svc })
				ep := pushtest.New(b)
				col := "/dav/calendars/alice/personal/"
				for i := range subs {
					r := e.do(request{method: "POST", path: col, header: map[string]string{"Content-Type": "application/xml"},
						body: pushRegister(fmt.Sprintf("%s?n=%d", ep.URL, i), ep.PublicKey(), ep.AuthSecret(), "", false)})
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
				b.ReportMetric(float64(i)/time.Since(start).Seconds(), "writes/s")
				if subs > 0 && svc.Stats.Sent.Load() == 0 {
					b.Fatal("no push was sent during the writes")
				}
			})
		}
	}
}
