package server_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestPublicLink: bob publishes his calendar with a secret link; anybody
// with it reads the calendar as one iCalendar file, without signing in,
// private events masked; a subscriber polling with If-None-Match gets 304
// until bob changes something; a revoked link, a wrong token and any other
// method find nothing.
func TestPublicLink(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		for name, body := range map[string]string{"a.ics": fmt.Sprintf(sharedEvent, "a", "Budget"), "p.ics": privateEvent} {
			if r := e.do(as("bob", "PUT", bobPersonal+name, body, nil)); r.StatusCode != 201 {
				t.Fatalf("bob PUT %s: %d", name, r.StatusCode)
			}
		}
		bob, _ := st.GetUser(ctx, "bob")
		cal, err := st.GetCollection(ctx, bob.ID, store.KindCalendar, "personal")
		if err != nil {
			t.Fatal(err)
		}
		l, err := dav.NewPublicLink(ctx, st, cal.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Token) != 43 {
			t.Fatalf("token %q: want 43 characters (256 bits)", l.Token)
		}
		other, err := dav.NewPublicLink(ctx, st, cal.ID)
		if err != nil || other.Token == l.Token {
			t.Fatalf("a second link: %v, same token: %v", err, other.Token == l.Token)
		}
		path := dav.PublicLinkPath(l.Token)
		get := func(hdr map[string]string) (int, string, string) {
			t.Helper()
			resp := e.do(request{method: "GET", path: path, header: hdr, anonymous: true})
			return resp.StatusCode, readBody(t, resp), resp.Header.Get("ETag")
		}
		code, body, etag := get(nil)
		if code != 200 || !strings.HasPrefix(body, "BEGIN:VCALENDAR") || !strings.Contains(body, "SUMMARY:Budget") || etag == "" {
			t.Fatalf("GET of the public link: %d %q\n%s", code, etag, body)
		}
		if !strings.Contains(body, "UID:p") || strings.Contains(body, "Therapy") || strings.Contains(body, "Dr. X") {
			t.Errorf("the private event is not masked:\n%s", body)
		}
		if code, _, _ := get(map[string]string{"If-None-Match": etag}); code != 304 {
			t.Errorf("poll without changes: %d, want 304", code)
		}
		if r := e.do(as("bob", "PUT", bobPersonal+"b.ics", fmt.Sprintf(sharedEvent, "b", "Party"), nil)); r.StatusCode != 201 {
			t.Fatal(r.StatusCode)
		}
		code, body, etag2 := get(map[string]string{"If-None-Match": etag})
		if code != 200 || etag2 == etag || !strings.Contains(body, "SUMMARY:Party") {
			t.Errorf("poll after a change: %d %q→%q", code, etag, etag2)
		}
		if resp := e.do(request{method: "HEAD", path: path, anonymous: true}); resp.StatusCode != 200 || resp.Header.Get("ETag") != etag2 {
			t.Errorf("HEAD: %d %q", resp.StatusCode, resp.Header.Get("ETag"))
		}
		for _, c := range []struct {
			method, path string
			code         int
		}{
			{"GET", dav.PublicLinkPath(strings.ToUpper(l.Token)), 404},
			{"GET", dav.PublicLinkPath(otherToken(l.Token)), 404},
			{"GET", dav.PublicPrefix + l.Token, 404},
			{"GET", dav.PublicPrefix, 404},
			{"GET", dav.PublicPrefix + l.Token + "%2F..%2Fx.ics", 404},
			{"PUT", path, 405},
			{"PROPFIND", path, 405},
			{"DELETE", path, 405},
		} {
			if resp := e.do(request{method: c.method, path: c.path, anonymous: true}); resp.StatusCode != c.code {
				t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.code)
			}
		}
		if err := st.DeletePublicLink(ctx, cal.ID, l.ID); err != nil {
			t.Fatal(err)
		}
		if code, _, _ := get(nil); code != 404 {
			t.Errorf("revoked link: %d", code)
		}
		if resp := e.do(request{method: "GET", path: dav.PublicLinkPath(other.Token), anonymous: true}); resp.StatusCode != 200 {
			t.Errorf("the other link after revoking one: %d", resp.StatusCode)
		}
	})
}

// otherToken is token with one character in the middle changed: a middle
// character carries six whole bits, so the bytes differ too (the last one
// of a 256-bit token carries two, and was sometimes already the "A" an
// earlier version of the test put there).
func otherToken(token string) string {
	c := byte('A')
	if token[20] == c {
		c = 'B'
	}
	return token[:20] + string(c) + token[21:]
}

// TestPublicLinkRateLimit: public links are limited per token and per
// client address (behind a trusted proxy, the X-Forwarded-For address):
// past a token's burst every caller of that link gets 429 with
// Retry-After while other links still answer; past an address's burst
// that address gets 429 on every link while other addresses do not.
func TestPublicLinkRateLimit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnvAuth(t, st, auth.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}},
			func(c *server.Config) {
				c.PublicTokenLimit = server.PublicLimit{Every: time.Hour, Burst: 3}
				c.PublicIPLimit = server.PublicLimit{Every: 30 * time.Second, Burst: 4}
			})
		ctx := context.Background()
		bob, _ := st.GetUser(ctx, "bob")
		cal, err := st.GetCollection(ctx, bob.ID, store.KindCalendar, "personal")
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for range 3 {
			l, err := dav.NewPublicLink(ctx, st, cal.ID)
			if err != nil {
				t.Fatal(err)
			}
			paths = append(paths, dav.PublicLinkPath(l.Token))
		}
		get := func(path, ip string) (int, string) {
			t.Helper()
			resp := e.do(request{method: "GET", path: path, header: map[string]string{"X-Forwarded-For": ip}, anonymous: true})
			readBody(t, resp)
			return resp.StatusCode, resp.Header.Get("Retry-After")
		}
		steps := []struct {
			path, ip   string
			code       int
			retryAfter string
		}{
			// Link 0: three callers use its burst; a fourth is refused.
			{paths[0], "192.0.2.1", 200, ""},
			{paths[0], "192.0.2.2", 200, ""},
			{paths[0], "192.0.2.3", 200, ""},
			{paths[0], "192.0.2.4", 429, "3600"},
			// The other links are not held back by link 0's callers.
			{paths[1], "192.0.2.4", 200, ""},
			{paths[2], "192.0.2.4", 200, ""},
			{paths[2], "192.0.2.4", 200, ""},
			// 192.0.2.4 has made four requests: its fifth, on any link,
			// is refused, and told when to come back.
			{paths[1], "192.0.2.4", 429, "30"},
			{paths[2], "192.0.2.5", 200, ""},
		}
		for i, s := range steps {
			code, ra := get(s.path, s.ip)
			if code != s.code || ra != s.retryAfter {
				t.Errorf("step %d (%s from %s): %d, Retry-After %q; want %d, %q", i, s.path[:12], s.ip, code, ra, s.code, s.retryAfter)
			}
		}
	})
}
