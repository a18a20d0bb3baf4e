package auth

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// countingToucher counts the writes of last use that reach the store.
type countingToucher struct {
	store.Store
	touches []time.Time
}

func (c *countingToucher) TouchAppPassword(ctx context.Context, userID, id int64, at time.Time) error {
	c.touches = append(c.touches, at)
	return c.Store.TouchAppPassword(ctx, userID, id, at)
}

// TestAppPasswordLastUsed: an app password's use is recorded on the first
// request and then at most once a minute, cached or not; the account
// password records nothing.
func TestAppPasswordLastUsed(t *testing.T) {
	s := testdb.SQLite(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	ct := &countingToucher{Store: s}
	a, err := New(ct, slog.New(slog.DiscardHandler), Options{Params: cheap, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	u := &store.User{Username: "alice"}
	if err := s.CreateUser(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	if err := SetPassword(ctx, s, u, "account password"); err != nil {
		t.Fatal(err)
	}
	pw, _, err := AddAppPassword(ctx, s, u.ID, "phone")
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		advance time.Duration
		pw      string
		touches int
	}{
		{0, "account password", 0},
		{0, pw, 1},                // first use: written
		{10 * time.Second, pw, 1}, // cached, within the minute
		{time.Minute, pw, 2},      // a minute later: written again
		{time.Second, pw, 2},
	} {
		now = now.Add(step.advance)
		if _, err := a.Authenticate(ctx, "alice", step.pw, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if len(ct.touches) != step.touches {
			t.Fatalf("at %v: %d writes of last use, want %d", now, len(ct.touches), step.touches)
		}
	}
	ps, err := s.ListAppPasswords(ctx, u.ID)
	if err != nil || len(ps) != 1 || ps[0].LastUsed == nil || !ps[0].LastUsed.Equal(ct.touches[1]) {
		t.Fatalf("stored last use = %+v, %v; want %v", ps, err, ct.touches[1])
	}
}
