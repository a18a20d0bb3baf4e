package auth

import (
	"net/netip"
	"time"
)

// backoff throttles failed logins per key, one user at one client address,
// with an exponential back-off: the first free failures cost nothing, then
// each further failure makes the pair wait base, 2·base, 4·base, … (at most
// maxDelay) after it before the next attempt is checked. A pair's failures
// are forgotten after a quiet spell of forget plus its current delay, and at
// once on a success. Only failures count: requests in flight and cached
// successes never hold anyone back.
//
// So that a burst of concurrent guesses cannot get more than free passwords
// checked at once, the uncached verifications in progress for a key are
// counted too (probing), but only against each other: see begin. Identical
// concurrent requests share one verification (Authenticator.verifyOnce), so
// a client sending the right password on many connections holds at most
// one. The maps hold at most max keys; backoff is not safe for concurrent
// use, the Authenticator guards it.
type backoff struct {
	free     int
	base     time.Duration
	maxDelay time.Duration
	forget   time.Duration
	max      int
	pairs    map[string]*pair
	// probing holds only keys with verifications in progress, so it is
	// bounded by concurrency.
	probing map[string]int
}

type pair struct {
	n    int       // failures
	last time.Time // of the last failure
	// epoch identifies the state of the user's credentials the failures
	// were counted against (see Authenticator.userEpoch).
	epoch uint64
}

func newBackoff(free int, base, maxDelay, forget time.Duration, max int) *backoff {
	return &backoff{free: free, base: base, maxDelay: maxDelay, forget: forget, max: max,
		pairs: make(map[string]*pair), probing: make(map[string]int)}
}

// delay is how long a pair with n failures waits after the last one.
func (b *backoff) delay(n int) time.Duration {
	if n < b.free {
		return 0
	}
	d := b.base
	for i := b.free; i < n && d < b.maxDelay; i++ {
		d *= 2
	}
	return min(d, b.maxDelay)
}

// get returns key's failures still remembered at now, or nil.
func (b *backoff) get(key string, now time.Time) *pair {
	p := b.pairs[key]
	if p != nil && now.Sub(p.last) >= b.forget+b.delay(p.n) {
		delete(b.pairs, key)
		return nil
	}
	return p
}

// blocked reports whether key is backing off at now, and for how long.
func (b *backoff) blocked(key string, now time.Time) (bool, time.Duration) {
	if b.free <= 0 {
		return false, 0
	}
	p := b.get(key, now)
	if p == nil {
		return false, 0
	}
	if next := p.last.Add(b.delay(p.n)); now.Before(next) {
		return true, next.Sub(now)
	}
	return false, 0
}

// begin admits one uncached password verification for key, to be closed by
// end. Verifications in progress count like failures, but a pair is never
// refused for its first one, so a correct password is refused only when the
// pair itself is backing off or is guessing several passwords at once.
func (b *backoff) begin(key string, now time.Time) (ok bool, wait time.Duration) {
	if b.free <= 0 {
		return true, 0
	}
	if blocked, wait := b.blocked(key, now); blocked {
		return false, wait
	}
	n := 0
	if p := b.get(key, now); p != nil {
		n = p.n
	}
	if inflight := b.probing[key]; inflight > 0 && n+inflight >= b.free {
		return false, time.Second // held only by the checks in progress
	}
	b.probing[key]++
	return true, 0
}

func (b *backoff) end(key string) {
	if b.free <= 0 {
		return
	}
	if b.probing[key]--; b.probing[key] <= 0 {
		delete(b.probing, key)
	}
}

// fail records one failure for key, counted against the user's credentials
// epoch, and reports whether it starts the back-off (so the caller can log
// it once). Failures counted against another epoch are forgotten first:
// they were against a password since changed, or were forgiven by an
// unlock.
func (b *backoff) fail(key string, now time.Time, epoch uint64) (started bool) {
	if b.free <= 0 {
		return false
	}
	p := b.get(key, now)
	if p == nil {
		if len(b.pairs) >= b.max {
			b.evict(now)
		}
		p = &pair{}
		b.pairs[key] = p
	}
	if p.epoch != epoch {
		*p = pair{epoch: epoch}
	}
	p.n++
	p.last = now
	return p.n == b.free
}

// stale reports whether key holds failures counted against other
// credentials than epoch's.
func (b *backoff) stale(key string, epoch uint64) bool {
	p := b.pairs[key]
	return p != nil && p.epoch != epoch
}

// reset forgets key's failures.
func (b *backoff) reset(key string) { delete(b.pairs, key) }

// evict makes room: pairs whose failures are forgotten go first, then the
// one that failed longest ago.
func (b *backoff) evict(now time.Time) {
	for k := range b.pairs {
		b.get(k, now)
	}
	if len(b.pairs) >= b.max {
		evictOldest(b.pairs, func(p *pair) time.Time { return p.last })
	}
}

// evictOldest deletes the entry of m whose last failure is the oldest.
func evictOldest[V any](m map[string]V, last func(V) time.Time) {
	var oldest string
	var at time.Time
	found := false
	for k, v := range m {
		if t := last(v); !found || t.Before(at) {
			oldest, at, found = k, t, true
		}
	}
	delete(m, oldest)
}

// limiter counts failures per key in a sliding window made of buckets: the
// window is split into nBuckets slots of equal width, and a key's count is the
// sum of its slots that are still inside the window. A key stays throttled
// while that sum is at or above the limit, so the block lifts bucket by
// bucket as old failures age out — at most one bucket width later than an
// exact sliding log would, with fixed memory per key. It caps the failures
// of one address for unknown user names.
//
// The map holds at most max keys; when full, keys with nothing left in the
// window are swept, and if that is not enough the key touched longest ago is
// evicted. limiter is not safe for concurrent use; the Authenticator guards it.
type limiter struct {
	limit  int
	width  time.Duration // one bucket
	max    int
	counts map[string]*window
}

const nBuckets = 10

type window struct {
	idx  [nBuckets]int64 // absolute bucket number each slot currently holds
	n    [nBuckets]uint32
	last time.Time // last failure recorded
}

func newLimiter(limit int, span time.Duration, max int) *limiter {
	w := span / nBuckets
	if w <= 0 {
		w = 1
	}
	return &limiter{limit: limit, width: w, max: max, counts: make(map[string]*window)}
}

func (l *limiter) bucket(now time.Time) int64 { return now.UnixNano() / int64(l.width) }

// slot maps an absolute bucket number to its place in a window.
func slot(b int64) int { return int((b%nBuckets + nBuckets) % nBuckets) }

// live returns the failures of w still inside the window at bucket b.
func (l *limiter) live(w *window, b int64) int {
	total := 0
	for i := range w.idx {
		if w.n[i] > 0 && w.idx[i] > b-nBuckets && w.idx[i] <= b {
			total += int(w.n[i])
		}
	}
	return total
}

// blocked reports whether key is at its limit, and if so how long until
// enough failures age out to let one attempt through.
func (l *limiter) blocked(key string, now time.Time) (bool, time.Duration) {
	if l.limit <= 0 {
		return false, 0
	}
	w := l.counts[key]
	if w == nil {
		return false, 0
	}
	b := l.bucket(now)
	total := l.live(w, b)
	if total < l.limit {
		return false, 0
	}
	// Age buckets out oldest first until the count drops below the limit;
	// the bucket that does it leaves the window at (idx+nBuckets)*width.
	for age := b - nBuckets + 1; age <= b; age++ {
		i := slot(age)
		if w.idx[i] != age || w.n[i] == 0 {
			continue
		}
		total -= int(w.n[i])
		if total < l.limit {
			until := time.Unix(0, (age+nBuckets)*int64(l.width))
			return true, until.Sub(now)
		}
	}
	return true, l.width // not reached: the live buckets sum to total
}

// fail records one failure for key and reports whether the key has just
// reached its limit (so the caller can log the start of a block once).
func (l *limiter) fail(key string, now time.Time) (reached bool) {
	if l.limit <= 0 {
		return false
	}
	w := l.counts[key]
	if w == nil {
		if len(l.counts) >= l.max {
			l.evict(now)
		}
		w = &window{}
		l.counts[key] = w
	}
	b := l.bucket(now)
	i := slot(b)
	if w.idx[i] != b {
		w.idx[i], w.n[i] = b, 0
	}
	w.n[i]++
	w.last = now
	return l.live(w, b) == l.limit
}

func (l *limiter) evict(now time.Time) {
	b := l.bucket(now)
	for k, w := range l.counts {
		if l.live(w, b) == 0 {
			delete(l.counts, k)
		}
	}
	if len(l.counts) >= l.max {
		evictOldest(l.counts, func(w *window) time.Time { return w.last })
	}
}

// ipKey turns a client address into the key failures are counted under. An
// IPv6 client controls at least a /64, so all of it counts as one address;
// IPv4-mapped IPv6 addresses count as the IPv4 address. Anything that does
// not parse (a Unix socket peer, an empty string) is used as it is, cut to a
// bounded length.
func ipKey(remoteIP string) string {
	a, err := netip.ParseAddr(remoteIP)
	if err != nil {
		if len(remoteIP) > 64 {
			remoteIP = remoteIP[:64]
		}
		return remoteIP
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
