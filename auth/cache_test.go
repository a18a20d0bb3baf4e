package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"sync"
	"testing"
)

// refKey computes a cache key from scratch, without the pooled state of
// keyer: a fresh HMAC over the length-prefixed fields.
func refKey(secret []byte, fields ...string) cacheKey {
	m := hmac.New(sha256.New, secret)
	for _, f := range fields {
		m.Write(binary.AppendUvarint(nil, uint64(len(f))))
		m.Write([]byte(f))
	}
	var k cacheKey
	m.Sum(k[:0])
	return k
}

func cands(hashes ...string) []candidate {
	c := make([]candidate, len(hashes))
	for i, h := range hashes {
		c[i] = candidate{hash: h, appID: int64(i)}
	}
	return c
}

func TestCacheKey(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	k := &keyer{secret: secret}
	long := strings.Repeat("p", maxPooledBuf) // outgrows the pooled buffer
	tests := []struct {
		name           string
		user, password string
		hashes         []string
	}{
		{"one hash", "alice", "pw", []string{"$argon2id$a"}},
		{"several hashes", "alice", "pw", []string{"$argon2id$a", "$argon2id$b", "$argon2id$c"}},
		{"hash order matters", "alice", "pw", []string{"$argon2id$b", "$argon2id$a", "$argon2id$c"}},
		{"field boundary moved", "alic", "epw", []string{"$argon2id$a"}},
		{"password into hash", "alice", "pw$argon2id$a", []string{""}},
		{"other password", "alice", "pw2", []string{"$argon2id$a"}},
		{"other user", "bob", "pw", []string{"$argon2id$a"}},
		{"long password", "alice", long, []string{"$argon2id$a"}},
		{"non-ASCII", "jürgen", "pässwörd", []string{"$argon2id$a"}},
	}
	seen := make(map[cacheKey]string)
	for _, tt := range tests {
		want := refKey(secret, append([]string{tt.user, tt.password}, tt.hashes...)...)
		// Twice: the second run reuses the pooled state of the first.
		for range 2 {
			if got := k.key(tt.user, tt.password, cands(tt.hashes...)); got != want {
				t.Fatalf("%s: key = %x; want %x", tt.name, got, want)
			}
		}
		if prev, dup := seen[want]; dup {
			t.Fatalf("%s: same key as %s", tt.name, prev)
		}
		seen[want] = tt.name
	}

	other := &keyer{secret: []byte("another secret, another process.")}
	if other.key("alice", "pw", cands("$argon2id$a")) == k.key("alice", "pw", cands("$argon2id$a")) {
		t.Fatal("two secrets give the same key")
	}

	// The pooled buffer held a password: it must go back cleared. (The
	// pool may drop an entry at any time; then there is nothing to check.)
	k.key("alice", "secret password", cands("$argon2id$a"))
	if st, _ := k.pool.Get().(*keyState); st != nil {
		for i, c := range st.buf[:cap(st.buf)] {
			if c != 0 {
				t.Fatalf("pooled buffer not cleared: byte %d is %q", i, c)
			}
		}
	}
}

// TestCacheKeyConcurrent runs keys from many goroutines (with -race): the
// pooled states must never be shared between two calls at once.
func TestCacheKeyConcurrent(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	k := &keyer{secret: secret}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			user := strings.Repeat("u", g+1)
			want := refKey(secret, user, "pw", "$argon2id$a", "$argon2id$b")
			for range 200 {
				if got := k.key(user, "pw", cands("$argon2id$a", "$argon2id$b")); got != want {
					t.Errorf("goroutine %d: key = %x; want %x", g, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
