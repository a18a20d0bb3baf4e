package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"
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

// keyer computes cache keys. It runs on every request, so it keeps keyed
// HMAC states in a pool and resets them (crypto/hmac restores the keyed
// state without hashing the key again) instead of building one per call.
// The zero value with secret set is ready to use.
type keyer struct {
	secret []byte
	pool   sync.Pool // of *keyState
}

// keyState is one pooled HMAC with the buffer its input is gathered in and
// room for the sum, so that nothing is allocated per key.
type keyState struct {
	mac hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

// maxPooledBuf bounds the input buffer a pooled keyState keeps. Usernames
// and passwords are bounded (maxUsernameLen, maxPasswordLen) and each stored
// hash is about a hundred bytes, so only a user with dozens of app passwords
// needs more.
const maxPooledBuf = 4096

// key returns the cache key of username and password for a user whose
// stored hashes are those of cands, in order.
func (k *keyer) key(username, password string, cands []candidate) cacheKey {
	st, _ := k.pool.Get().(*keyState)
	if st == nil {
		st = &keyState{mac: hmac.New(sha256.New, k.secret)}
	}
	// Length-prefix every field so no two inputs share an encoding, whatever
	// bytes they contain.
	b := appendField(st.buf[:0], username)
	b = appendField(b, password)
	for _, c := range cands {
		b = appendField(b, c.hash)
	}
	st.mac.Write(b)
	st.mac.Sum(st.sum[:0])
	st.mac.Reset()
	k2 := cacheKey(st.sum)
	// The buffer held the password: clear it before it goes back to the
	// pool, so the pool holds nothing a memory dump could use.
	clear(b)
	st.buf = b[:0]
	if cap(b) > maxPooledBuf {
		st.buf = nil
	}
	k.pool.Put(st)
	return k2
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

type cacheEntry struct {
	username string
	userID   int64
	appID    int64 // the app password that matched; 0 for the account password
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

// hit reports whether k is cached, and which app password it matched.
func (c *successCache) hit(k cacheKey, now time.Time) (appID int64, ok bool) {
	e, ok := c.entries[k]
	if !ok {
		return 0, false
	}
	if !now.Before(e.expires) {
		delete(c.entries, k)
		return 0, false
	}
	return e.appID, true
}

// add stores k. The expiry is not extended by later hits: a verification is
// trusted for at most one TTL.
func (c *successCache) add(k cacheKey, username string, userID, appID int64, now time.Time) {
	if !c.enabled() {
		return
	}
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[k] = cacheEntry{username: username, userID: userID, appID: appID, expires: now.Add(c.ttl)}
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

// forgetID drops every entry of the user with that id, or every entry when
// id is 0.
func (c *successCache) forgetID(id int64) {
	if id == 0 {
		clear(c.entries)
		return
	}
	for k, e := range c.entries {
		if e.userID == id {
			delete(c.entries, k)
		}
	}
}
