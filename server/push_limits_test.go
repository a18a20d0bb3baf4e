package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/push"
	"github.com/davenport-dav/davenport/push/pushtest"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestPushRegisterRefused: push-register bodies the server must not take
// are refused before anything is stored: endpoints that are not https or
// not public (no SSRF), malformed keys, a huge body; and one user's
// registrations are capped.
func TestPushRegisterRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		svc := newPushServiceStrict(t, st, push.Config{})
		e := newEnv(t, st, func(c *server.Config) { c.Push = svc })
		ep := pushtest.New(t)
		col := "/dav/calendars/alice/personal/"
		post := func(body string) *http.Response {
			return e.do(request{method: "POST", path: col, body: body,
				header: map[string]string{"Content-Type": "application/xml"}})
		}
		for _, c := range []struct {
			name string
			body string
			code int
		}{
			{"http", pushRegister("http://push.example.net/x", ep.PublicKey(), ep.AuthSecret(), "", false), 403},
			{"loopback", pushRegister("https://127.0.0.1:8443/x", ep.PublicKey(), ep.AuthSecret(), "", false), 403},
			{"localhost", pushRegister("https://localhost/x", ep.PublicKey(), ep.AuthSecret(), "", false), 403},
			{"private", pushRegister("https://10.0.0.8/x", ep.PublicKey(), ep.AuthSecret(), "", false), 403},
			{"metadata", pushRegister("https://169.254.169.254/latest", ep.PublicKey(), ep.AuthSecret(), "", false), 403},
			{"in-process endpoint", pushRegister(ep.URL, ep.PublicKey(), ep.AuthSecret(), "", false), 403},
			{"relative", pushRegister("/push/x", ep.PublicKey(), ep.AuthSecret(), "", false), 403},
			{"bad key", pushRegister("https://93.184.215.14/x", "AAAA", ep.AuthSecret(), "", false), 403},
			{"bad auth", pushRegister("https://93.184.215.14/x", ep.PublicKey(), "AAAA", "", false), 403},
			{"bad expires", pushRegister("https://93.184.215.14/x", ep.PublicKey(), ep.AuthSecret(), "tomorrow", false), 400},
			{"long URL", pushRegister("https://93.184.215.14/"+strings.Repeat("a", 3000), ep.PublicKey(), ep.AuthSecret(), "", false), 403},
			{"huge body", pushRegister("https://93.184.215.14/x", ep.PublicKey(), ep.AuthSecret(), "", false) +
				"<!--" + strings.Repeat("x", 20<<20) + "-->", 413},
		} {
			t.Run(c.name, func(t *testing.T) {
				if r := post(c.body); r.StatusCode != c.code {
					t.Fatalf("%d, want %d: %s", r.StatusCode, c.code, readBody(t, r))
				}
			})
		}
		alice, _ := st.GetUser(context.Background(), "alice")
		if rs, err := st.ListPushRegistrations(context.Background(), alice.ID); err != nil || len(rs) != 0 {
			t.Fatalf("registrations after refusals: %v, %v", rs, err)
		}

		// A user asking for far more registrations than the cap gets the
		// first DefaultPushMaxPerUser and 403 for the rest.
		var created, refused int
		for i := range dav.DefaultPushMaxPerUser + 50 {
			r := post(pushRegister(fmt.Sprintf("https://93.184.215.14/push/%d", i), ep.PublicKey(), ep.AuthSecret(), "", false))
			switch r.StatusCode {
			case 201:
				created++
			case 403:
				refused++
				if !strings.Contains(readBody(t, r), "too-many-registrations") {
					t.Fatal("403 without too-many-registrations")
				}
			default:
				t.Fatalf("registration %d: %d", i, r.StatusCode)
			}
		}
		if created != dav.DefaultPushMaxPerUser || refused != 50 {
			t.Fatalf("created %d refused %d, want %d and 50", created, refused, dav.DefaultPushMaxPerUser)
		}
	})
}

// TestPushBadEndpoints: an endpoint that hangs, one that answers 500
// forever and one that is gone; writes are as fast as ever, failures are
// bounded by the request timeout, recorded and retried with back-off, and
// a gone subscription is dropped.
func TestPushBadEndpoints(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		// A write that waited for a delivery would take at least the
		// push timeout; the timeout is long enough that no loaded
		// machine makes a PUT that slow by itself.
		const timeout = 3 * time.Second
		e, svc := newPushEnv(t, st, push.Config{Timeout: timeout})
		ctx := context.Background()
		hang, fail, gone := pushtest.New(t), pushtest.New(t), pushtest.New(t)
		hang.Set(0, true)
		fail.Set(500, false)
		gone.Set(410, false)
		col := "/dav/calendars/alice/personal/"
		for _, ep := range []*pushtest.Endpoint{hang, fail, gone} {
			e.register("alice", alicePassword, col, ep, false)
		}
		for i := range 5 {
			start := time.Now()
			if r := e.put("alice", alicePassword, fmt.Sprintf("%sx%d.ics", col, i), fmt.Sprintf(sharedEvent, fmt.Sprint("x", i), "x"), nil); r.StatusCode != 201 {
				t.Fatalf("PUT: %d", r.StatusCode)
			}
			if d := time.Since(start); d >= timeout {
				t.Fatalf("PUT took %v with bad endpoints registered: it waited for a delivery", d)
			}
		}
		alice, _ := st.GetUser(ctx, "alice")
		deadline := time.Now().Add(10*time.Second + timeout)
		for {
			rs, err := st.ListPushRegistrations(ctx, alice.ID)
			if err != nil {
				t.Fatal(err)
			}
			var timeout, status500 bool
			for _, r := range rs {
				if r.PushResource == gone.URL {
					continue
				}
				timeout = timeout || r.PushResource == hang.URL && r.LastError == "timeout"
				status500 = status500 || r.PushResource == fail.URL && r.Failures >= 2 && r.LastError == "push service answered 500"
			}
			if len(rs) == 2 && timeout && status500 {
				break // gone dropped, the others failing and retried
			}
			if time.Now().After(deadline) {
				t.Fatalf("registrations %+v", rs)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if fail.Hits() < 2 {
			t.Fatalf("500 endpoint hit %d times, want a retry", fail.Hits())
		}
		// Back-off: within a few seconds a failing endpoint is tried a
		// few times, not once per poll.
		if n := fail.Hits(); n > 6 {
			t.Fatalf("500 endpoint hit %d times: no back-off", n)
		}
		if svc.Stats.Failed.Load() == 0 || svc.Stats.Dropped.Load() != 1 {
			t.Fatalf("failed %d dropped %d", svc.Stats.Failed.Load(), svc.Stats.Dropped.Load())
		}
	})
}

// TestPushCoalesces: a burst of writes yields a few messages per
// subscription, the last with the final sync token.
func TestPushCoalesces(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e, svc := newPushEnv(t, st, push.Config{Coalesce: 300 * time.Millisecond})
		ep := pushtest.New(t)
		col := "/dav/calendars/alice/personal/"
		e.register("alice", alicePassword, col, ep, false)
		const n = 200
		var wg sync.WaitGroup
		start := time.Now()
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 4 {
					if r := e.put("alice", alicePassword, fmt.Sprintf("%sb%d.ics", col, i), fmt.Sprintf(sharedEvent, fmt.Sprint("b", i), "b"), nil); r.StatusCode != 201 {
						t.Errorf("PUT: %d", r.StatusCode)
					}
				}
			}()
		}
		wg.Wait()
		burst := time.Since(start)
		tok, id := e.token("alice", store.KindCalendar, "personal")
		pushed(t, ep, "last change", svc.Topic(id), tok)
		got := len(ep.Messages())
		// One message per coalescing interval of the burst, plus the
		// first and the last.
		if most := int(burst/(300*time.Millisecond)) + 3; got > most {
			t.Fatalf("%d writes in %v gave %d messages, want at most %d", n, burst, got, most)
		}
		for deadline := time.Now().Add(5 * time.Second); int(svc.Stats.Sent.Load()) < got && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond) // the worker counts after the endpoint answered
		}
		if c := svc.Stats.Coalesced.Load(); int(c)+got != n {
			t.Fatalf("coalesced %d + sent %d, want %d changes", c, got, n)
		}
		t.Logf("%d writes in %v: %d messages, %d changes coalesced", n, burst, got, svc.Stats.Coalesced.Load())
	})
}

// TestPushTwoInstances: two servers on one PostgreSQL, each with its push
// worker; every change made on either is pushed exactly once, with the
// same VAPID key.
func TestPushTwoInstances(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	var stores []store.Store
	for range 2 {
		st, err := postgres.Open(context.Background(), dsn, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	svc1 := newPushService(t, stores[0], push.Config{})
	e1 := newEnv(t, stores[0], func(c *server.Config) { c.Push = svc1 })
	svc2 := newPushService(t, stores[1], push.Config{})
	a, err := auth.New(stores[1], slog.New(slog.DiscardHandler), auth.Options{Params: cheapParams})
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(server.New(server.Config{Store: stores[1], Auth: a, Logger: slog.New(slog.DiscardHandler), MaxResourceSize: 1 << 20, Push: svc2}))
	t.Cleanup(srv2.Close)
	e2 := &env{t: t, st: stores[1], srv: srv2}
	if svc1.PublicKey() != svc2.PublicKey() {
		t.Fatal("instances use different VAPID keys")
	}
	ep := pushtest.New(t)
	ep.VAPIDKey = svc1.PublicKey()
	col := "/dav/calendars/alice/personal/"
	e1.register("alice", alicePassword, col, ep, false)
	const n = 20
	for i := range n {
		e := []*env{e1, e2}[i%2]
		if r := e.put("alice", alicePassword, fmt.Sprintf("%s%d.ics", col, i), fmt.Sprintf(sharedEvent, fmt.Sprint("two", i), "x"), nil); r.StatusCode != 201 {
			t.Fatalf("PUT: %d", r.StatusCode)
		}
		tok, id := e.token("alice", store.KindCalendar, "personal")
		pushed(t, ep, fmt.Sprint("change ", i), svc1.Topic(id), tok)
	}
	time.Sleep(300 * time.Millisecond) // a duplicate would come by now
	seen := map[string]int{}
	for _, m := range ep.Messages() {
		seen[m.SyncToken]++
	}
	for tok, c := range seen {
		if c != 1 {
			t.Errorf("token %s pushed %d times", tok, c)
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct pushes, want %d", len(seen), n)
	}
	s1, s2 := svc1.Stats.Sent.Load(), svc2.Stats.Sent.Load()
	if s1+s2 != n {
		t.Errorf("sent %d + %d, want %d", s1, s2, n)
	}
	t.Logf("instance 1 sent %d, instance 2 sent %d", s1, s2)
}

// TestPushRegistrationFlood: one user POSTs 10,000 push-registers (each a
// different push resource, through the server's handler, four at a time)
// while writing. Every POST is answered: 201 up to the cap, then 403 with
// the too-many-registrations condition and a message naming the limit; the
// store holds exactly the cap; the user's PUTs meanwhile all succeed.
func TestPushRegistrationFlood(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		const n, limit = 10000, dav.DefaultPushMaxPerUser
		svc := newPushServiceStrict(t, st, push.Config{})
		e := newEnv(t, st, func(c *server.Config) { c.Push = svc })
		ep := pushtest.New(t)
		col := "/dav/calendars/alice/personal/"
		h := e.srv.Config.Handler
		var (
			mu      sync.Mutex
			codes   = map[int]int{}
			bodyErr string
			next    = make(chan int)
			wg      sync.WaitGroup
		)
		start := time.Now()
		for range 4 {
			wg.Go(func() {
				for i := range next {
					req := httptest.NewRequest("POST", col, strings.NewReader(pushRegister(
						fmt.Sprintf("https://93.184.215.14/push/%d", i), ep.PublicKey(), ep.AuthSecret(), "", false)))
					req.Header.Set("Content-Type", "application/xml")
					req.SetBasicAuth("alice", alicePassword)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					mu.Lock()
					codes[rec.Code]++
					if rec.Code == 403 && bodyErr == "" {
						if b := rec.Body.String(); !strings.Contains(b, "too-many-registrations") ||
							!strings.Contains(b, fmt.Sprintf("limit of %d push registrations", limit)) {
							bodyErr = b
						}
					}
					mu.Unlock()
				}
			})
		}
		// The user writes meanwhile.
		writes := make(chan error, 1)
		go func() {
			for i := 0; ; i++ {
				if time.Since(start) > 3*time.Second && i >= 5 {
					writes <- nil
					return
				}
				w0 := time.Now()
				r := e.put("alice", alicePassword, fmt.Sprintf("%sflood%d.ics", col, i), fmt.Sprintf(sharedEvent, fmt.Sprint("flood", i), "x"), nil)
				if r.StatusCode != 201 {
					writes <- fmt.Errorf("PUT %d during the flood: %d", i, r.StatusCode)
					return
				}
				if d := time.Since(w0); d > 5*time.Second {
					writes <- fmt.Errorf("PUT %d during the flood took %v", i, d)
					return
				}
			}
		}()
		for i := range n {
			next <- i
		}
		close(next)
		wg.Wait()
		if err := <-writes; err != nil {
			t.Fatal(err)
		}
		t.Logf("%d registrations answered in %v: %v", n, time.Since(start), codes)
		if codes[201] != limit || codes[403] != n-limit || len(codes) != 2 {
			t.Fatalf("answers %v, want %d × 201 and %d × 403", codes, limit, n-limit)
		}
		if bodyErr != "" {
			t.Fatalf("403 body does not name the limit: %s", bodyErr)
		}
		alice, _ := st.GetUser(context.Background(), "alice")
		if rs, err := st.ListPushRegistrations(context.Background(), alice.ID); err != nil || len(rs) != limit {
			t.Fatalf("store holds %d registrations (%v), want %d", len(rs), err, limit)
		}
	})
}
