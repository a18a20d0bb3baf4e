package server

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/davenport-dav/davenport/dav"
)

// Public links are served without signing in, so nothing but the token
// and the client's address tells one caller from another. Each is given a
// token bucket: a subscriber's calendar app polls a few times an hour and
// never notices; a script hammering one link, or one address walking
// through links, gets 429 Too Many Requests with Retry-After (RFC 6585
// §4) before the store is asked. Issue 15: "rate-limited".

// PublicLimit is the rate of requests to public links one token, or one
// client address, may make: Burst at once, then one every Every.
type PublicLimit struct {
	Every time.Duration
	Burst int
}

// Defaults: a link shared with a family or a club (hundreds of
// subscribers, each polling every few minutes at most) stays well inside
// 10 a second per token; one address (a household's router, a proxy) gets
// one a second with a burst of 30.
var (
	DefaultPublicTokenLimit = PublicLimit{Every: 100 * time.Millisecond, Burst: 100}
	DefaultPublicIPLimit    = PublicLimit{Every: time.Second, Burst: 30}
)

// maxLimitKeys bounds the keys each limiter remembers: at most twice this
// many buckets are held (see limiter).
const maxLimitKeys = 10000

// limiter is a token bucket per key in bounded memory. Buckets live in two
// generations: new ones go into cur; when cur holds max keys it becomes
// prev and cur starts empty, so prev (and what it alone held) is dropped
// at the next turn. A key used in the meantime moves to cur. A forgotten
// key starts with a full bucket again, which costs a flood of fresh keys
// no more than Burst requests each.
type limiter struct {
	every time.Duration
	burst float64
	max   int
	now   func() time.Time

	mu        sync.Mutex
	cur, prev map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(l PublicLimit, max int, now func() time.Time) *limiter {
	return &limiter{every: l.Every, burst: float64(l.Burst), max: max, now: now,
		cur: make(map[string]*bucket), prev: make(map[string]*bucket)}
}

// allow takes one token from key's bucket; when there is none it reports
// how long until there is.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l == nil || l.every <= 0 || l.burst <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.cur[key]
	if b == nil {
		if b = l.prev[key]; b != nil {
			delete(l.prev, key)
		} else {
			b = &bucket{tokens: l.burst, last: now}
		}
		if len(l.cur) >= l.max {
			l.prev, l.cur = l.cur, make(map[string]*bucket)
		}
		l.cur[key] = b
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(l.burst, b.tokens+float64(d)/float64(l.every))
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(l.every))
}

// size is the number of keys held.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.cur) + len(l.prev)
}

// limitPublic serves public links through the per-address and per-token
// limiters; a request over either is answered 429 with Retry-After in
// whole seconds, rounded up.
func (s *Server) limitPublic(next http.HandlerFunc) http.HandlerFunc {
	now := time.Now
	byToken := newLimiter(cmpLimit(s.cfg.PublicTokenLimit, DefaultPublicTokenLimit), maxLimitKeys, now)
	byIP := newLimiter(cmpLimit(s.cfg.PublicIPLimit, DefaultPublicIPLimit), maxLimitKeys, now)
	return func(w http.ResponseWriter, r *http.Request) {
		ip := r.RemoteAddr
		if s.cfg.Auth != nil {
			ip = s.cfg.Auth.RemoteIP(r)
		}
		ok, wait := byIP.allow(ip)
		if ok {
			token, _ := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, dav.PublicPrefix), ".ics")
			ok, wait = byToken.allow(token)
		}
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			http.Error(w, "too many requests for this link; try again later", http.StatusTooManyRequests)
			return
		}
		next(w, r)
	}
}

// cmpLimit is l, or def when l is the zero value.
func cmpLimit(l, def PublicLimit) PublicLimit {
	if l == (PublicLimit{}) {
		return def
	}
	return l
}
