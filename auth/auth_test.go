package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// fakeUsers is an in-memory stand-in for the store method the Authenticator
// reads: the unit under test is the authenticator, not the database
// (store/testdb covers the real backends in store_test.go).
type fakeUsers struct {
	mu    sync.Mutex
	users map[string]*store.User
	apps  map[int64][]store.AppPassword
	err   error // returned by every call when set
}

func newFakeUsers() *fakeUsers {
	return &fakeUsers{users: make(map[string]*store.User), apps: make(map[int64][]store.AppPassword)}
}

func (f *fakeUsers) GetUserCredentials(_ context.Context, name string) (*store.User, []store.AppPassword, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, nil, f.err
	}
	u, ok := f.users[name]
	if !ok {
		return nil, nil, store.ErrNotFound
	}
	c := *u
	return &c, append([]store.AppPassword(nil), f.apps[u.ID]...), nil
}

func (f *fakeUsers) add(t testing.TB, name, pw string, appPWs ...string) *store.User {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	u := &store.User{ID: int64(len(f.users) + 1), Username: name}
	if pw != "" {
		u.PasswordHash = mustHash(t, pw, cheap)
	}
	f.users[name] = u
	for i, ap := range appPWs {
		f.apps[u.ID] = append(f.apps[u.ID], store.AppPassword{
			ID: int64(100*u.ID) + int64(i), UserID: u.ID, Label: fmt.Sprint("device ", i),
			PasswordHash: mustHash(t, ap, cheap),
		})
	}
	return u
}

func (f *fakeUsers) setHash(name, hash string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[name].PasswordHash = hash
}

func (f *fakeUsers) unlock(name string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[name].UnlockedAt = at
}

func (f *fakeUsers) dropApps(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.apps, id)
}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	a        *Authenticator
	users    *fakeUsers
	clock    *fakeClock
	log      *syncBuffer
	verifies atomic.Int64
}

// newHarness builds an Authenticator on a fake user set with cheap argon2
// parameters, a fake clock, a Debug-level log captured in memory and a
// counter of argon2 verifications.
func newHarness(t testing.TB, opts Options) *harness {
	t.Helper()
	h := &harness{users: newFakeUsers(), clock: newFakeClock(), log: &syncBuffer{}}
	if opts.Params == (Params{}) {
		opts.Params = cheap
	}
	if opts.Now == nil {
		opts.Now = h.clock.Now
	}
	logger := slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(h.users, logger, opts)
	if err != nil {
		t.Fatal(err)
	}
	a.verify = func(hash, pw string) (bool, error) {
		h.verifies.Add(1)
		return VerifyPassword(hash, pw)
	}
	h.a = a
	return h
}

// auth runs Authenticate and returns the error and how many argon2
// verifications it ran.
func (h *harness) auth(user, pw, ip string) (*store.User, error, int64) {
	before := h.verifies.Load()
	u, err := h.a.Authenticate(context.Background(), user, pw, ip)
	return u, err, h.verifies.Load() - before
}

func TestAuthenticate(t *testing.T) {
	storeDown := errors.New("connection refused")
	tests := []struct {
		name         string
		setup        func(h *harness)
		user, pw     string
		wantUser     string
		wantErr      error // nil: success
		wantVerifies int64
	}{
		{
			name: "right password", user: "alice", pw: "alice-pw",
			wantUser: "alice", wantVerifies: 1,
		},
		{
			name: "wrong password", user: "alice", pw: "nope",
			wantErr: ErrInvalidCredentials, wantVerifies: 1,
		},
		{
			name: "unknown user costs one dummy verification", user: "mallory", pw: "alice-pw",
			wantErr: ErrInvalidCredentials, wantVerifies: 1,
		},
		{
			name: "first app password", user: "bob", pw: "bob-phone",
			wantUser: "bob", wantVerifies: 2,
		},
		{
			name: "second app password", user: "bob", pw: "bob-laptop",
			wantUser: "bob", wantVerifies: 3,
		},
		{
			name: "wrong password tries every hash", user: "bob", pw: "nope",
			wantErr: ErrInvalidCredentials, wantVerifies: 3,
		},
		{
			name: "app password of another user", user: "alice", pw: "bob-phone",
			wantErr: ErrInvalidCredentials, wantVerifies: 1,
		},
		{
			name: "only app passwords", user: "carol", pw: "carol-app",
			wantUser: "carol", wantVerifies: 1,
		},
		{
			name: "no password at all still costs a verification", user: "dave", pw: "anything",
			wantErr: ErrInvalidCredentials, wantVerifies: 1,
		},
		{
			name: "empty password never verified", user: "alice", pw: "",
			wantErr: ErrInvalidCredentials, wantVerifies: 0,
		},
		{
			name: "control character", user: "alice", pw: "alice-pw\n",
			wantErr: ErrInvalidCredentials, wantVerifies: 0,
		},
		{
			name: "username too long", user: strings.Repeat("a", 300), pw: "x",
			wantErr: ErrInvalidCredentials, wantVerifies: 0,
		},
		{
			name:  "corrupt account hash, valid app password",
			setup: func(h *harness) { h.users.setHash("bob", "$argon2id$garbage") },
			user:  "bob", pw: "bob-phone",
			wantUser: "bob", wantVerifies: 2,
		},
		{
			name:  "store failure is not a credential error",
			setup: func(h *harness) { h.users.err = storeDown },
			user:  "alice", pw: "alice-pw",
			wantErr: storeDown, wantVerifies: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			h.users.add(t, "alice", "alice-pw")
			h.users.add(t, "bob", "bob-pw", "bob-phone", "bob-laptop")
			h.users.add(t, "carol", "", "carol-app")
			h.users.add(t, "dave", "")
			if tt.setup != nil {
				tt.setup(h)
			}
			u, err, n := h.auth(tt.user, tt.pw, "192.0.2.1")
			if tt.wantErr == nil {
				if err != nil || u == nil || u.Username != tt.wantUser {
					t.Fatalf("Authenticate = %v, %v; want user %q", u, err, tt.wantUser)
				}
			} else if !errors.Is(err, tt.wantErr) || u != nil {
				t.Fatalf("Authenticate = %v, %v; want %v", u, err, tt.wantErr)
			}
			if tt.wantErr == storeDown && errors.Is(err, ErrInvalidCredentials) {
				t.Fatal("store failure reported as invalid credentials")
			}
			if n != tt.wantVerifies {
				t.Fatalf("ran %d verifications; want %d", n, tt.wantVerifies)
			}
		})
	}
}

func TestCorruptHashLogged(t *testing.T) {
	h := newHarness(t, Options{})
	h.users.add(t, "bob", "bob-pw", "bob-phone")
	h.users.setHash("bob", "$argon2id$v=19$m=64,t=1,p=1$bad$bad")
	if _, err, _ := h.auth("bob", "bob-phone", "192.0.2.1"); err != nil {
		t.Fatalf("valid app password refused: %v", err)
	}
	if !strings.Contains(h.log.String(), "level=ERROR msg=\"stored password hash unusable\" user=bob") {
		t.Fatalf("corrupt hash not logged at Error:\n%s", h.log)
	}
}

func TestSuccessCache(t *testing.T) {
	h := newHarness(t, Options{CacheTTL: time.Minute})
	h.users.add(t, "alice", "alice-pw")
	h.users.add(t, "bob", "bob-pw", "bob-phone")
	steps := []struct {
		name         string
		advance      time.Duration
		user, pw     string
		ok           bool
		wantVerifies int64
	}{
		{"first success verifies", 0, "alice", "alice-pw", true, 1},
		{"second is a cache hit", 0, "alice", "alice-pw", true, 0},
		{"wrong password is no hit", 0, "alice", "alice-pw2", false, 1},
		{"failure did not evict", 0, "alice", "alice-pw", true, 0},
		{"still cached before TTL", 59 * time.Second, "alice", "alice-pw", true, 0},
		{"hit did not extend TTL", time.Second, "alice", "alice-pw", true, 1},
		{"cached again", 0, "alice", "alice-pw", true, 0},
		{"other user not a hit", 0, "bob", "alice-pw", false, 2},
		{"app password verified", 0, "bob", "bob-phone", true, 2},
		{"app password cached", 0, "bob", "bob-phone", true, 0},
		{"failures are not cached", 0, "bob", "wrong", false, 2},
		{"failures are not cached, again", 0, "bob", "wrong", false, 2},
	}
	for _, s := range steps {
		h.clock.Advance(s.advance)
		_, err, n := h.auth(s.user, s.pw, "192.0.2.1")
		if (err == nil) != s.ok || n != s.wantVerifies {
			t.Fatalf("%s: err=%v verifications=%d; want ok=%v verifications=%d", s.name, err, n, s.ok, s.wantVerifies)
		}
	}
}

func TestCacheFollowsStoredHashes(t *testing.T) {
	h := newHarness(t, Options{})
	h.users.add(t, "alice", "old-pw")
	bob := h.users.add(t, "bob", "bob-pw", "bob-phone")
	for _, c := range [][2]string{{"alice", "old-pw"}, {"bob", "bob-phone"}} {
		if _, err, _ := h.auth(c[0], c[1], "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if _, _, n := h.auth(c[0], c[1], "192.0.2.1"); n != 0 {
			t.Fatalf("%s not cached", c[0])
		}
	}
	// Another process changes alice's password and revokes bob's phone.
	h.users.setHash("alice", mustHash(t, "new-pw", cheap))
	h.users.dropApps(bob.ID)

	tests := []struct {
		name, user, pw string
		ok             bool
		wantVerifies   int64
	}{
		{"old password refused at once", "alice", "old-pw", false, 1},
		{"new password accepted", "alice", "new-pw", true, 1},
		{"new password cached", "alice", "new-pw", true, 0},
		{"revoked app password refused at once", "bob", "bob-phone", false, 1},
		{"account password unaffected", "bob", "bob-pw", true, 1},
	}
	for _, tt := range tests {
		_, err, n := h.auth(tt.user, tt.pw, "192.0.2.1")
		if (err == nil) != tt.ok || n != tt.wantVerifies {
			t.Fatalf("%s: err=%v verifications=%d; want ok=%v verifications=%d", tt.name, err, n, tt.ok, tt.wantVerifies)
		}
	}
}

func TestForget(t *testing.T) {
	h := newHarness(t, Options{})
	h.users.add(t, "alice", "alice-pw")
	h.users.add(t, "bob", "bob-pw")
	for _, u := range []string{"alice", "bob"} {
		h.auth(u, u+"-pw", "192.0.2.1")
	}
	h.a.Forget("alice")
	if _, _, n := h.auth("alice", "alice-pw", "192.0.2.1"); n != 1 {
		t.Fatalf("after Forget: %d verifications; want 1", n)
	}
	if _, _, n := h.auth("bob", "bob-pw", "192.0.2.1"); n != 0 {
		t.Fatalf("Forget(alice) dropped bob: %d verifications", n)
	}
}

func TestCacheDisabled(t *testing.T) {
	h := newHarness(t, Options{CacheTTL: -1})
	h.users.add(t, "alice", "alice-pw")
	for i := range 3 {
		if _, err, n := h.auth("alice", "alice-pw", "192.0.2.1"); err != nil || n != 1 {
			t.Fatalf("attempt %d: err=%v verifications=%d; want nil, 1", i, err, n)
		}
	}
}

func TestCacheBounded(t *testing.T) {
	h := newHarness(t, Options{CacheSize: 3})
	for i := range 10 {
		name := fmt.Sprint("user", i)
		h.users.add(t, name, name+"-pw")
		if _, err, _ := h.auth(name, name+"-pw", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(time.Second)
	}
	h.a.mu.Lock()
	n := len(h.a.cache.entries)
	h.a.mu.Unlock()
	if n != 3 {
		t.Fatalf("cache holds %d entries; want 3", n)
	}
	// The newest survive: the entries closest to expiry were evicted.
	if _, _, v := h.auth("user9", "user9-pw", "192.0.2.1"); v != 0 {
		t.Fatal("newest entry was evicted")
	}
	if _, _, v := h.auth("user0", "user0-pw", "192.0.2.1"); v != 1 {
		t.Fatal("oldest entry survived")
	}
}

// TestThrottleBackoff: after MaxFailures wrong passwords, one user at one
// address waits 30 s, 1 min, 2 min, … (up to MaxBackoff) after each further
// failure; nobody else waits, and the right password ends it.
func TestThrottleBackoff(t *testing.T) {
	h := newHarness(t, Options{MaxFailures: 3, MaxBackoff: 3 * time.Minute})
	h.users.add(t, "alice", "alice-pw")
	h.users.add(t, "bob", "bob-pw")
	const ip = "192.0.2.1"
	for i := range 3 {
		if _, err, _ := h.auth("alice", "wrong", ip); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	for i, delay := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 3 * time.Minute, 3 * time.Minute} {
		// Backing off, even with the right password, and without any argon2.
		_, err, n := h.auth("alice", "alice-pw", ip)
		var te *ThrottledError
		if !errors.As(err, &te) || !errors.Is(err, ErrThrottled) || n != 0 || te.RetryAfter != delay {
			t.Fatalf("back-off %d: err=%v verifications=%d; want ErrThrottled after %v, 0", i, err, n, delay)
		}
		// Same user from another address, and another user from this
		// address, are unaffected.
		if _, err, _ := h.auth("alice", "alice-pw", "198.51.100.7"); err != nil {
			t.Fatalf("other address throttled: %v", err)
		}
		if _, err, _ := h.auth("bob", "bob-pw", ip); err != nil {
			t.Fatalf("other user throttled: %v", err)
		}
		h.clock.Advance(delay - time.Millisecond)
		if _, err, _ := h.auth("alice", "alice-pw", ip); !errors.Is(err, ErrThrottled) {
			t.Fatalf("just before the delay: %v; want ErrThrottled", err)
		}
		h.clock.Advance(time.Millisecond)
		if _, err, _ := h.auth("alice", "wrong", ip); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("at the delay: %v; want one more check", err)
		}
	}
	h.clock.Advance(3 * time.Minute)
	if _, err, _ := h.auth("alice", "alice-pw", ip); err != nil {
		t.Fatalf("right password after the delay: %v", err)
	}
	if _, err, _ := h.auth("alice", "wrong", ip); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("after a success: %v; want the failures forgotten", err)
	}
}

// TestThrottleForgetsQuietPairs: a pair's failures are forgotten after
// FailureWindow plus its current delay without a failure.
func TestThrottleForgetsQuietPairs(t *testing.T) {
	h := newHarness(t, Options{MaxFailures: 2, FailureWindow: 5 * time.Minute})
	h.users.add(t, "alice", "alice-pw")
	const ip = "192.0.2.1"
	h.auth("alice", "wrong", ip)
	h.auth("alice", "wrong", ip) // back-off 30 s, forgotten 5m30s later
	h.clock.Advance(5 * time.Minute)
	h.auth("alice", "wrong", ip) // the third failure: back-off 1 min
	if _, err, _ := h.auth("alice", "alice-pw", ip); !errors.Is(err, ErrThrottled) {
		t.Fatalf("after 3 failures: %v; want ErrThrottled", err)
	}
	h.clock.Advance(5*time.Minute + time.Minute)
	if _, err, _ := h.auth("alice", "wrong", ip); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("after the quiet spell: %v", err)
	}
	if _, err, _ := h.auth("alice", "wrong", ip); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("second failure after the quiet spell: %v; want the older ones forgotten", err)
	}
}

func TestThrottleSuccessResets(t *testing.T) {
	h := newHarness(t, Options{MaxFailures: 3})
	h.users.add(t, "alice", "alice-pw")
	attempts := []struct {
		pw   string
		want error
	}{
		{"wrong", ErrInvalidCredentials},
		{"wrong", ErrInvalidCredentials},
		{"alice-pw", nil}, // resets alice@ip
		{"wrong", ErrInvalidCredentials},
		{"wrong", ErrInvalidCredentials},
		{"alice-pw", nil}, // a cache hit resets too
		{"wrong", ErrInvalidCredentials},
		{"wrong", ErrInvalidCredentials},
		{"wrong", ErrInvalidCredentials},
		{"alice-pw", ErrThrottled},
	}
	for i, at := range attempts {
		_, err, _ := h.auth("alice", at.pw, "192.0.2.1")
		if !errors.Is(err, at.want) || (at.want == nil && err != nil) {
			t.Fatalf("attempt %d: %v; want %v", i, err, at.want)
		}
	}
}

// TestThrottleUnknownPerIP: an address spraying names that do not exist is
// capped, for names that do not exist only: users who exist log in from it.
func TestThrottleUnknownPerIP(t *testing.T) {
	h := newHarness(t, Options{MaxFailures: 100, MaxFailuresPerIP: 4})
	h.users.add(t, "alice", "alice-pw")
	// Password spraying: one guess each at many usernames.
	for i := range 4 {
		if _, err, _ := h.auth(fmt.Sprint("user", i), "guess", "2001:db8:1:2::10"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	tests := []struct {
		name, user, pw, ip string
		want               error
		verifications      int64
	}{
		{"same address", "user9", "guess", "2001:db8:1:2::10", ErrThrottled, 0},
		{"same /64", "user9", "guess", "2001:db8:1:2:ffff::1", ErrThrottled, 0},
		{"other /64", "user9", "guess", "2001:db8:1:3::10", ErrInvalidCredentials, 1},
		{"a user who exists", "alice", "alice-pw", "2001:db8:1:2::10", nil, 1},
		{"a user who exists, wrong password", "alice", "wrong", "2001:db8:1:2::10", ErrInvalidCredentials, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err, n := h.auth(tt.user, tt.pw, tt.ip)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) || n != tt.verifications {
				t.Fatalf("Authenticate(%s) from %s: %v after %d verifications; want %v after %d",
					tt.user, tt.ip, err, n, tt.want, tt.verifications)
			}
		})
	}
	h.clock.Advance(5 * time.Minute)
	if _, err, _ := h.auth("user9", "guess", "2001:db8:1:2::10"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("after the window: %v", err)
	}
}

// TestThrottleSlidingWindow checks that the per-address failures for
// unknown names age out one by one rather than all at once at a fixed
// boundary.
func TestThrottleSlidingWindow(t *testing.T) {
	h := newHarness(t, Options{MaxFailuresPerIP: 2, FailureWindow: 5 * time.Minute})
	const ip = "192.0.2.1"
	h.auth("nobody", "wrong", ip) // t0
	h.clock.Advance(3 * time.Minute)
	h.auth("nobody", "wrong", ip) // t0+3m
	if _, err, _ := h.auth("nobody", "wrong", ip); !errors.Is(err, ErrThrottled) {
		t.Fatalf("after 2 failures: %v", err)
	}
	h.clock.Advance(2*time.Minute + 30*time.Second) // t0+5m30s: the first has aged out
	if _, err, _ := h.auth("nobody", "wrong", ip); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("after first aged out: %v; want one more attempt", err)
	}
	// The t0+3m and t0+5m30s failures are both live: throttled again, until
	// t0+8m(+bucket).
	_, err, _ := h.auth("nobody", "wrong", ip)
	var te *ThrottledError
	if !errors.As(err, &te) || te.RetryAfter > 3*time.Minute || te.RetryAfter < 2*time.Minute {
		t.Fatalf("second block: %v; want ErrThrottled with RetryAfter about 2m30s", err)
	}
}

// TestThrottleCorrectPasswordsInFlightNeverCount: many concurrent requests
// with the right password (a client opening connections at once, a
// household behind one address) are never refused, however many are in
// flight, whether they share a check or hit the cache.
func TestThrottleCorrectPasswordsInFlightNeverCount(t *testing.T) {
	h := newHarness(t, Options{MaxFailures: 2, MaxConcurrentVerifications: 4})
	h.users.add(t, "alice", "alice-pw")
	entered, release := h.holdChecks(1)
	var wg sync.WaitGroup
	var refused atomic.Int64
	login := func() {
		if _, err := h.a.Authenticate(context.Background(), "alice", "alice-pw", "192.0.2.1"); err != nil {
			refused.Add(1)
			t.Log(err)
		}
	}
	wg.Go(login)
	<-entered
	for range 40 {
		wg.Go(login)
	}
	// Let all 40 either share the check in flight or be refused before it
	// ends.
	for refused.Load()+int64(h.a.sharing()) < 40 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	for range 8 {
		wg.Go(login) // cached now
	}
	wg.Wait()
	if n := refused.Load(); n != 0 {
		t.Fatalf("%d of 49 concurrent logins with the right password refused; want 0", n)
	}
}

// TestThrottleCountsAttemptsInFlight checks that a burst of concurrent
// guesses cannot get more than the limit verified.
func TestThrottleCountsAttemptsInFlight(t *testing.T) {
	// Room for more verifications than the limit, so only the throttle can
	// stop the third.
	h := newHarness(t, Options{MaxFailures: 2, MaxConcurrentVerifications: 4})
	h.users.add(t, "alice", "alice-pw")
	entered, release := h.holdChecks(2)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i := range 2 {
		wg.Go(func() {
			_, err := h.a.Authenticate(context.Background(), "alice", fmt.Sprint("guess", i), "192.0.2.1")
			errs <- err
		})
	}
	<-entered
	<-entered
	_, err := h.a.Authenticate(context.Background(), "alice", "guess3", "192.0.2.1")
	var te *ThrottledError
	if !errors.As(err, &te) || te.RetryAfter <= 0 {
		t.Fatalf("third concurrent attempt: %v; want ErrThrottled", err)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("in-flight attempt: %v", err)
		}
	}
}

// TestConcurrentIdenticalRequestsShareVerification: a client opening several
// connections at once must not cost one argon2 run each.
func TestConcurrentIdenticalRequestsShareVerification(t *testing.T) {
	h := newHarness(t, Options{MaxConcurrentVerifications: 4})
	h.users.add(t, "alice", "alice-pw")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := h.a.Authenticate(context.Background(), "alice", "alice-pw", "192.0.2.1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := h.verifies.Load(); n != 1 {
		t.Fatalf("8 concurrent identical requests ran %d verifications; want 1", n)
	}
}

func TestCancelledContext(t *testing.T) {
	h := newHarness(t, Options{})
	h.users.add(t, "alice", "alice-pw")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.a.Authenticate(ctx, "alice", "alice-pw", "192.0.2.1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Authenticate(cancelled) = %v; want context.Canceled", err)
	}
	if h.verifies.Load() != 0 {
		t.Fatal("verified for a cancelled request")
	}
}

func TestLimiterBounded(t *testing.T) {
	l := newLimiter(5, 5*time.Minute, 3)
	now := newFakeClock().Now()
	for i := range 10 {
		l.fail(fmt.Sprint("k", i), now.Add(time.Duration(i)*time.Second))
	}
	if len(l.counts) != 3 {
		t.Fatalf("limiter holds %d keys; want 3", len(l.counts))
	}
	for _, k := range []string{"k7", "k8", "k9"} {
		if l.counts[k] == nil {
			t.Fatalf("recent key %s evicted", k)
		}
	}
	// Keys with nothing left in the window go first.
	later := now.Add(time.Hour)
	l.fail("fresh", later)
	l.fail("fresh2", later)
	if len(l.counts) != 2 {
		t.Fatalf("stale keys not swept: %d keys", len(l.counts))
	}
}

func TestIPKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8::1", "2001:db8::/64"},
		{"2001:db8:0:0:ffff::2", "2001:db8::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"", ""},
		{"@", "@"},
	}
	for _, tt := range tests {
		if got := ipKey(tt.in); got != tt.want {
			t.Errorf("ipKey(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name  string
		users Users
		opts  Options
	}{
		{"nil users", nil, Options{Params: cheap}},
		{"bad params", newFakeUsers(), Options{Params: Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.users, slog.New(slog.DiscardHandler), tt.opts); err == nil {
				t.Fatal("New succeeded; want an error")
			}
		})
	}
}

// TestUsernameCaseInsensitive: a phone that capitalises the user name logs
// in, and failures under every spelling of one name count together.
func TestUsernameCaseInsensitive(t *testing.T) {
	h := newHarness(t, Options{MaxFailures: 3})
	h.users.add(t, "alice", "alice-pw")
	h.users.add(t, "zo\u00eb", "zoe-pw")
	for _, tc := range []struct{ name, pw, want string }{
		{"Alice", "alice-pw", "alice"}, {"ALICE", "alice-pw", "alice"},
		{"ZO\u00cb", "zoe-pw", "zo\u00eb"}, {"zoe\u0308", "zoe-pw", "zo\u00eb"},
	} {
		if u, err, _ := h.auth(tc.name, tc.pw, "192.0.2.1"); err != nil || u.Username != tc.want {
			t.Errorf("Authenticate(%q) = %+v, %v; want %s", tc.name, u, err, tc.want)
		}
	}
	for _, name := range []string{"Alice", "ALICE", "aLiCe"} {
		if _, err, _ := h.auth(name, "wrong", "192.0.2.9"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure as %q: %v", name, err)
		}
	}
	if _, err, _ := h.auth("alice", "alice-pw", "192.0.2.9"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("after three failures under three spellings: %v; want ErrThrottled", err)
	}
}

// TestThrottleForgetsFailuresBeforeUnlock: failures counted before the
// user was unlocked or given a new password, by this process or any other
// (the store is the only channel), stop counting at the next attempt;
// failures after it still count.
func TestThrottleForgetsFailuresBeforeUnlock(t *testing.T) {
	h := newHarness(t, Options{MaxFailures: 3, MaxFailuresPerIP: 10})
	h.users.add(t, "alice", "alice-pw")
	const ip = "192.0.2.1"
	fail := func(n int, user, pw string) {
		t.Helper()
		for i := range n {
			if _, err, _ := h.auth(user, pw, ip); !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("failure %d: %v; want ErrInvalidCredentials", i, err)
			}
		}
	}
	want := func(what, pw string, target error) {
		t.Helper()
		_, err, _ := h.auth("alice", pw, ip)
		if !errors.Is(err, target) || (target == nil && err != nil) {
			t.Fatalf("%s: %v; want %v", what, err, target)
		}
	}

	fail(3, "alice", "wrong")
	want("after 3 failures", "alice-pw", ErrThrottled)
	h.users.unlock("alice", h.clock.Now())
	want("after user unlock", "alice-pw", nil)

	fail(3, "alice", "wrong")
	want("failures after the unlock", "alice-pw", ErrThrottled)
	h.users.setHash("alice", mustHash(t, "new-password", cheap))
	want("after user passwd, the new password", "new-password", nil)

	// Failures that never reached a password check (an empty password)
	// cannot be tied to the credentials, and guess nothing: they do not
	// hold a user who exists back.
	fail(3, "alice", "")
	want("after 3 empty passwords", "new-password", nil)

	// The per-address limit for unknown names (10 here: 3 empty passwords
	// so far and 7 unknown users) holds no user who exists back.
	fail(7, "mallory", "guess")
	want("address over its limit for unknown names", "new-password", nil)
	if _, err, _ := h.auth("mallory", "guess", ip); !errors.Is(err, ErrThrottled) {
		t.Fatalf("unknown name from an address over its limit: %v; want ErrThrottled", err)
	}
}

// sharing returns how many requests wait for a check in progress.
func (a *Authenticator) sharing() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, f := range a.inflight {
		n += f.joined
	}
	return n
}

// holdChecks makes the first n argon2 checks wait, each announcing itself on
// entered, until release is closed.
func (h *harness) holdChecks(n int64) (entered <-chan struct{}, release chan struct{}) {
	in := make(chan struct{}, n)
	release = make(chan struct{})
	var calls atomic.Int64
	h.a.verify = func(hash, pw string) (bool, error) {
		if calls.Add(1) <= n {
			in <- struct{}{}
			<-release
		}
		return VerifyPassword(hash, pw)
	}
	return in, release
}
