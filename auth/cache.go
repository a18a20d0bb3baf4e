package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// cacheKey identifies one successful verification: an HMAC-SHA256 under a
// per-process random secret of the username, the password and every stored
// hash of the user. Keeping only the MAC means a memory dump of the cache
// does not hold passwords or anything that can be tested offline without the
// secret; including the stored hashes means that once a password or an app
// password is changed, added or revoked (by this process or any other), the
// next request reads different hashes and misses.
type cacheKey [sha256.Size]byte

func makeCacheKey(secret []byte, username, password string, hashes []string) cacheKey {
	m := hmac.New(sha256.New, secret)
	// Length-prefix every field so no two inputs share an encoding, whatever
	// bytes they contain.
	var n [binary.MaxVarintLen64]byte
	field := func(s string) {
		m.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		m.Write([]byte(s))
	}
	field(username)
	field(password)
	for _, h := range hashes {
		field(h)
	}
	var k cacheKey
	m.Sum(k[:0])
	return k
}

type cacheEntry struct {
	username string
	expires  time.Time
}

// successCache remembers successful verifications for a TTL, holding at most
// max entries. Not safe for concurrent use; the Authenticator guards it.
type successCache struct {
	ttl     time.Duration
	max     int
	entries map[cacheKey]cacheEntry
}

func newSuccessCache(ttl time.Duration, max int) *successCache {
	return &successCache{ttl: ttl, max: max, entries: make(map[cacheKey]cacheEntry)}
}

func (c *successCache) enabled() bool { return c.ttl > 0 && c.max > 0 }

func (c *successCache) hit(k cacheKey, now time.Time) bool {
	e, ok := c.entries[k]
	if !ok {
		return false
	}
	if !now.Before(e.expires) {
		delete(c.entries, k)
		return false
	}
	return true
}

// add stores k. The expiry is not extended by later hits: a verification is
// trusted for at most one TTL.
func (c *successCache) add(k cacheKey, username string, now time.Time) {
	if !c.enabled() {
		return
	}
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[k] = cacheEntry{username: username, expires: now.Add(c.ttl)}
}

// evict drops expired entries, then, if still full, the entry closest to
// expiry. Only successes are stored, so the cache fills only with real
// sessions and this scan stays rare.
func (c *successCache) evict(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	if len(c.entries) < c.max {
		return
	}
	var oldest cacheKey
	var at time.Time
	found := false
	for k, e := range c.entries {
		if !found || e.expires.Before(at) {
			oldest, at, found = k, e.expires, true
		}
	}
	delete(c.entries, oldest)
}

// forget drops every entry of username.
func (c *successCache) forget(username string) {
	for k, e := range c.entries {
		if e.username == username {
			delete(c.entries, k)
		}
	}
}
