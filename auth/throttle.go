package auth

import (
	"net/netip"
	"time"
)

// limiter counts failures per key in a sliding window made of buckets: the
// window is split into nBuckets slots of equal width, and a key's count is the
// sum of its slots that are still inside the window. A key stays throttled
// while that sum is at or above the limit, so the block lifts bucket by
// bucket as old failures age out — at most one bucket width later than an
// exact sliding log would, with fixed memory per key.
//
// The map holds at most max keys; when full, keys with nothing left in the
// window are swept, and if that is not enough the key touched longest ago is
// evicted. limiter is not safe for concurrent use; the Authenticator guards it.
type limiter struct {
	limit  int
	width  time.Duration // one bucket
	max    int
	counts map[string]*window
	// pending counts attempts admitted and not yet decided; it holds only
	// keys with requests in flight, so it is bounded by concurrency.
	pending map[string]int
}

const nBuckets = 10

type window struct {
	idx  [nBuckets]int64 // absolute bucket number each slot currently holds
	n    [nBuckets]uint32
	last time.Time // last failure recorded
	// epoch identifies the state of the user's credentials the failures
	// were counted against (see userEpoch); 0 when none of them knew it.
	epoch uint64
}

func newLimiter(limit int, span time.Duration, max int) *limiter {
	w := span / nBuckets
	if w <= 0 {
		w = 1
	}
	return &limiter{limit: limit, width: w, max: max, counts: make(map[string]*window), pending: make(map[string]int)}
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
// enough failures age out to let one attempt through. Attempts in progress
// count against the limit too, so a client cannot get more guesses checked
// than the limit by sending them all at once.
func (l *limiter) blocked(key string, now time.Time) (bool, time.Duration) {
	if l.limit <= 0 {
		return false, 0
	}
	w := l.counts[key]
	b := l.bucket(now)
	total := l.pending[key]
	if w != nil {
		total += l.live(w, b)
	}
	if total < l.limit {
		return false, 0
	}
	if w != nil {
		// Age buckets out oldest first until the count drops below the
		// limit; the bucket that does it leaves the window at
		// (idx+nBuckets)*width.
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
	}
	return true, time.Second // held only by attempts in progress
}

// begin and end bracket an attempt in progress on key.
func (l *limiter) begin(key string) {
	if l.limit > 0 {
		l.pending[key]++
	}
}

func (l *limiter) end(key string) {
	if l.limit <= 0 {
		return
	}
	if l.pending[key]--; l.pending[key] <= 0 {
		delete(l.pending, key)
	}
}

// fail records one failure for key and reports whether the key has just
// reached its limit (so the caller can log the start of a block once).
// epoch is the user's credentials epoch when the failure was checked
// against them, 0 when it was not (malformed credentials, unknown user): a
// known epoch that differs from the window's starts the window afresh, as
// its failures were against a password since changed or were forgiven.
func (l *limiter) fail(key string, now time.Time, epoch uint64) (reached bool) {
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
	if epoch != 0 {
		if w.epoch != 0 && w.epoch != epoch {
			*w = window{}
		}
		w.epoch = epoch
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

// stale reports whether key holds failures counted against other
// credentials than epoch's, or against unknown ones (see fail).
func (l *limiter) stale(key string, epoch uint64) bool {
	w := l.counts[key]
	return w != nil && w.epoch != epoch
}

// reset forgets key's failures.
func (l *limiter) reset(key string) { delete(l.counts, key) }

func (l *limiter) evict(now time.Time) {
	b := l.bucket(now)
	for k, w := range l.counts {
		if l.live(w, b) == 0 {
			delete(l.counts, k)
		}
	}
	if len(l.counts) < l.max {
		return
	}
	var oldest string
	var at time.Time
	found := false
	for k, w := range l.counts {
		if !found || w.last.Before(at) {
			oldest, at, found = k, w.last, true
		}
	}
	delete(l.counts, oldest)
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
