package server

import (
	"fmt"
	"testing"
	"time"
)

// TestLimiter: a key gets Burst requests at once, then one every Every,
// with the wait until the next one told; keys are independent; and however
// many keys come, at most twice the bound are held.
func TestLimiter(t *testing.T) {
	clock := time.Unix(0, 0)
	l := newLimiter(PublicLimit{Every: time.Second, Burst: 3}, 100, func() time.Time { return clock })
	for i := range 3 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	steps := []struct {
		advance  time.Duration
		key      string
		ok       bool
		wait     time.Duration
		describe string
	}{
		{0, "a", false, time.Second, "past the burst"},
		{0, "b", true, 0, "another key"},
		{400 * time.Millisecond, "a", false, 600 * time.Millisecond, "before a token is back"},
		{600 * time.Millisecond, "a", true, 0, "a token back after Every"},
		{0, "a", false, time.Second, "and only one"},
		{time.Hour, "a", true, 0, "after a long pause"},
	}
	for _, s := range steps {
		clock = clock.Add(s.advance)
		ok, wait := l.allow(s.key)
		if ok != s.ok || wait.Round(time.Millisecond) != s.wait {
			t.Errorf("%s: allow = %v, wait %v; want %v, %v", s.describe, ok, wait, s.ok, s.wait)
		}
	}
	for i := range 10000 {
		l.allow(fmt.Sprint("k", i))
		if n := l.size(); n > 200 {
			t.Fatalf("after %d keys the limiter holds %d, want at most 200", i+1, n)
		}
	}
}
