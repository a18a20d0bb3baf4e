package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestConcurrentCorrectLoginsNeverThrottled: a busy household behind one
// address (or a proxy without --trusted-proxies) opens many connections at
// once, all with the right password. None of them may be refused: only
// failures count toward the throttle, never requests in flight or cached
// successes.
func TestConcurrentCorrectLoginsNeverThrottled(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		const clients, rounds = 64, 8
		var mu sync.Mutex
		codes := map[int]int{}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range clients {
			wg.Go(func() {
				<-start
				// Users alternate, and phones capitalise names.
				user, pw := "alice", alicePassword
				switch i % 3 {
				case 1:
					user = "Alice"
				case 2:
					user, pw = "bob", bobPassword
				}
				c := &http.Client{Transport: &http.Transport{}}
				defer c.CloseIdleConnections()
				for range rounds {
					req, err := http.NewRequest("PROPFIND", e.srv.URL+"/dav/principals/"+user+"/", nil)
					if err != nil {
						t.Error(err)
						return
					}
					req.Header.Set("Depth", "0")
					req.SetBasicAuth(user, pw)
					resp, err := c.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					mu.Lock()
					codes[resp.StatusCode]++
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		if codes[http.StatusMultiStatus] != clients*rounds {
			t.Fatalf("%d concurrent clients × %d requests with the right password answered %v; want %d × 207",
				clients, rounds, codes, clients*rounds)
		}
	})
}

// frozenClock is a clock tests move by hand, so that no assertion depends
// on how fast the machine runs.
type frozenClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *frozenClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *frozenClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestNoLockOutOfOthers: failures lock out only the (address, user) pair
// that made them. Many failures from one address (for unknown names or for
// another user), or for one user from another address, never refuse a
// correct password; the failing pair backs off, and `davenport user unlock`
// (store.UnlockUser) lifts that. Addresses come from X-Forwarded-For through
// a trusted proxy (the test client on loopback), as behind a reverse proxy.
func TestNoLockOutOfOthers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		clock := &frozenClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
		e := newEnvAuth(t, st, auth.Options{
			Now:            clock.Now,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		})
		login := func(addr, user, pw string) int {
			t.Helper()
			resp := e.do(request{method: "PROPFIND", path: "/dav/principals/" + user + "/", user: user, password: pw,
				header: map[string]string{"Depth": "0", "X-Forwarded-For": addr}})
			resp.Body.Close()
			return resp.StatusCode
		}
		count := func(n int, addr, user, pw string) map[int]int {
			t.Helper()
			codes := map[int]int{}
			for i := range n {
				u := user
				if u == "" {
					u = fmt.Sprint("nobody", i)
				}
				codes[login(addr, u, pw)]++
			}
			return codes
		}
		want := func(what string, got, code int) {
			t.Helper()
			if got != code {
				t.Fatalf("%s: %d; want %d", what, got, code)
			}
		}

		// Password spraying over unknown names from one address: that
		// address is capped for unknown names, its users are not.
		const sprayer = "203.0.113.1"
		if codes := count(150, sprayer, "", "guess"); codes[http.StatusUnauthorized] != 100 || codes[http.StatusTooManyRequests] != 50 {
			t.Fatalf("150 unknown names from one address answered %v; want 100 × 401 then 50 × 429", codes)
		}
		want("alice from the spraying address", login(sprayer, "alice", alicePassword), http.StatusMultiStatus)
		want("bob from the spraying address", login(sprayer, "bob", bobPassword), http.StatusMultiStatus)

		// Many wrong passwords for bob from one address: bob backs off
		// there, alice at the same address is unaffected.
		const shared = "203.0.113.2"
		if codes := count(150, shared, "bob", "wrong"); codes[http.StatusUnauthorized] != 10 || codes[http.StatusTooManyRequests] != 140 {
			t.Fatalf("150 wrong passwords for bob answered %v; want 10 × 401 then 140 × 429", codes)
		}
		want("alice at bob's failing address", login(shared, "alice", alicePassword), http.StatusMultiStatus)
		want("bob's right password while backing off", login(shared, "bob", bobPassword), http.StatusTooManyRequests)
		want("bob from another address", login("198.51.100.20", "bob", bobPassword), http.StatusMultiStatus)

		// Wrong passwords for alice from many addresses: each pair backs
		// off on its own, alice's own address is unaffected.
		for i := range 20 {
			count(12, fmt.Sprint("198.51.100.", 100+i), "alice", "wrong")
		}
		want("alice from her own address", login("192.0.2.7", "alice", alicePassword), http.StatusMultiStatus)

		// The back-off of a pair ends: after the delay one more attempt is
		// checked.
		clock.Advance(time.Hour)
		want("bob after an hour", login(shared, "bob", bobPassword), http.StatusMultiStatus)

		// `davenport user unlock` lifts a pair's back-off at once.
		const mistyper = "192.0.2.99"
		count(10, mistyper, "alice", "wrong")
		want("alice backing off", login(mistyper, "alice", alicePassword), http.StatusTooManyRequests)
		u, err := st.GetUser(context.Background(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.UnlockUser(context.Background(), u.ID); err != nil {
			t.Fatal(err)
		}
		want("alice after user unlock", login(mistyper, "alice", alicePassword), http.StatusMultiStatus)
	})
}
