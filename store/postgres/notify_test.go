package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/testdb"
)

// changes collects what WatchCredentials reports.
type changes struct {
	mu  sync.Mutex
	ids []int64
	got chan struct{}
}

func (c *changes) add(id int64) {
	c.mu.Lock()
	c.ids = append(c.ids, id)
	c.mu.Unlock()
	select {
	case c.got <- struct{}{}:
	default:
	}
}

// await waits up to 1 s for id to be reported, and forgets what came before.
func (c *changes) await(t *testing.T, what string, id int64) {
	t.Helper()
	deadline := time.After(time.Second)
	for {
		c.mu.Lock()
		for i, x := range c.ids {
			if x == id {
				c.ids = c.ids[i+1:]
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
		select {
		case <-c.got:
		case <-deadline:
			t.Fatalf("%s: user %d not reported within 1 s (got %v)", what, id, c.ids)
		}
	}
}

// TestWatchCredentials: two stores on one database, as two instances have.
// What one changes (password, name, app password revoked, user deleted) the
// other's watcher reports within a second, and nothing for a change that
// leaves credentials alone, nor for a store in another schema of the same
// database. When the listening connection is cut, the watcher comes back by
// itself and reports 0 (changes may have been missed), then hears again.
func TestWatchCredentials(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.PostgresDSN(t)
	a, err := postgres.Open(ctx, dsn, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := postgres.Open(ctx, dsn, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	other := testdb.Postgres(t) // another schema, watched by nobody here

	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	seen := &changes{got: make(chan struct{}, 1)}
	go func() { done <- b.WatchCredentials(wctx, seen.add) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("WatchCredentials returned %v after its context ended; want nil", err)
		}
	}()
	seen.await(t, "listening", 0)

	alice := &store.User{Username: "alice", PasswordHash: "h1"}
	bob := &store.User{Username: "bob", PasswordHash: "h1"}
	for _, u := range []*store.User{alice, bob} {
		if err := a.CreateUser(ctx, u, nil); err != nil {
			t.Fatal(err)
		}
	}
	olga := &store.User{Username: "olga", PasswordHash: "h1"}
	if err := other.CreateUser(ctx, olga, nil); err != nil {
		t.Fatal(err)
	}
	app := &store.AppPassword{UserID: bob.ID, Label: "phone", PasswordHash: "a1"}
	if err := a.CreateAppPassword(ctx, app); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name   string
		change func() error
		want   int64
	}{
		{"password changed", func() error { return a.SetPasswordHash(ctx, alice.ID, "h2") }, alice.ID},
		{"app password revoked", func() error { return a.DeleteAppPassword(ctx, bob.ID, app.ID) }, bob.ID},
		{"user deleted", func() error { return a.DeleteUser(ctx, alice.ID) }, alice.ID},
	}
	for _, s := range steps {
		// A change in another schema and one that leaves credentials
		// alone come first: were they reported, they would be seen
		// before the change that is awaited.
		if err := other.SetPasswordHash(ctx, olga.ID, "x"+s.name); err != nil {
			t.Fatal(err)
		}
		if err := a.SetEmail(ctx, bob.ID, "bob@example.org"); err != nil {
			t.Fatal(err)
		}
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		seen.await(t, s.name, s.want)
		seen.mu.Lock()
		extra := seen.ids
		seen.mu.Unlock()
		if len(extra) != 0 {
			t.Errorf("%s: also reported %v", s.name, extra)
		}
	}

	// Cut the listening connection, as a database restart or a network
	// failure would.
	conn := connect(t, dsn)
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	var n int
	err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`,
		postgres.ListenerName(schema)).Scan(&n)
	if err != nil || n != 1 {
		t.Fatalf("terminating the listener: %d connections, %v; want 1", n, err)
	}
	seen.await(t, "reconnected", 0)
	if err := a.SetPasswordHash(ctx, bob.ID, "h3"); err != nil {
		t.Fatal(err)
	}
	seen.await(t, "password changed after the reconnection", bob.ID)
}
