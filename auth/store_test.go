package auth

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/sqlite"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestAuthenticateWithStore runs the Authenticator and the CLI helpers on
// each real backend: what it adds over the unit tests is that the store's
// rows (hash columns, app passwords, ErrNotFound for unknown users) are what
// the authenticator expects.
func TestAuthenticateWithStore(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		a, err := New(s, slog.New(slog.DiscardHandler), Options{Params: cheap})
		if err != nil {
			t.Fatal(err)
		}
		var verifies int
		a.verify = func(hash, pw string) (bool, error) {
			verifies++
			return VerifyPassword(hash, pw)
		}

		alice := &store.User{Username: "alice", DisplayName: "Alice"}
		if err := s.CreateUser(ctx, alice, nil); err != nil {
			t.Fatal(err)
		}
		if err := SetPassword(ctx, s, alice, "first password"); err != nil {
			t.Fatal(err)
		}
		phonePW, phone, err := AddAppPassword(ctx, s, alice.ID, "phone")
		if err != nil {
			t.Fatal(err)
		}

		type step struct {
			name, user, pw string
			ok             bool
			verifies       int
		}
		run := func(steps []step) {
			t.Helper()
			for _, st := range steps {
				verifies = 0
				u, err := a.Authenticate(ctx, st.user, st.pw, "192.0.2.1")
				switch {
				case st.ok && (err != nil || u.ID != alice.ID || u.Username != "alice"):
					t.Fatalf("%s: Authenticate = %+v, %v; want alice", st.name, u, err)
				case !st.ok && !errors.Is(err, ErrInvalidCredentials):
					t.Fatalf("%s: Authenticate = %+v, %v; want ErrInvalidCredentials", st.name, u, err)
				case verifies != st.verifies:
					t.Fatalf("%s: %d verifications; want %d", st.name, verifies, st.verifies)
				}
			}
		}
		run([]step{
			{"unknown user", "bob", "first password", false, 1},
			{"wrong password", "alice", "nope", false, 2},
			{"password", "alice", "first password", true, 1},
			{"password cached", "alice", "first password", true, 0},
			{"app password", "alice", phonePW, true, 2},
			{"app password cached", "alice", phonePW, true, 0},
		})

		// Password change and app password revocation through the store:
		// the cached entries must stop matching on the next request.
		if err := SetPassword(ctx, s, alice, "second password"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAppPassword(ctx, alice.ID, phone.ID); err != nil {
			t.Fatal(err)
		}
		run([]step{
			{"old password after change", "alice", "first password", false, 1},
			{"new password", "alice", "second password", true, 1},
			{"revoked app password", "alice", phonePW, false, 1},
		})
	})
}

// TestChangesByAnotherProcess: the davenport user CLI is another process on
// the same database. A password change, an app password revocation or a
// user deletion it makes must take effect on the server's very next
// request, even for credentials the server has cached. Each backend is
// opened twice on one database, one handle per "process".
func TestChangesByAnotherProcess(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	open := []struct {
		name string
		open func(t *testing.T) (server, cli store.Store)
	}{
		{"postgres", func(t *testing.T) (store.Store, store.Store) {
			dsn := testdb.PostgresDSN(t)
			return openT(t, func() (store.Store, error) { return postgres.Open(t.Context(), dsn, logger) }),
				openT(t, func() (store.Store, error) { return postgres.Open(t.Context(), dsn, logger) })
		}},
		{"sqlite", func(t *testing.T) (store.Store, store.Store) {
			path := filepath.Join(t.TempDir(), "davenport.db")
			return openT(t, func() (store.Store, error) { return sqlite.Open(t.Context(), path, logger) }),
				openT(t, func() (store.Store, error) { return sqlite.Open(t.Context(), path, logger) })
		}},
	}
	for _, o := range open {
		t.Run(o.name, func(t *testing.T) {
			server, cli := o.open(t)
			ctx := t.Context()
			a, err := New(server, logger, Options{Params: cheap})
			if err != nil {
				t.Fatal(err)
			}
			var verifies int
			a.verify = func(hash, pw string) (bool, error) {
				verifies++
				return VerifyPassword(hash, pw)
			}

			alice := &store.User{Username: "alice"}
			if err := cli.CreateUser(ctx, alice, nil); err != nil {
				t.Fatal(err)
			}
			if err := cli.SetPasswordHash(ctx, alice.ID, mustHash(t, "first", cheap)); err != nil {
				t.Fatal(err)
			}
			phone := &store.AppPassword{UserID: alice.ID, Label: "phone", PasswordHash: mustHash(t, "phone-pw", cheap)}
			if err := cli.CreateAppPassword(ctx, phone); err != nil {
				t.Fatal(err)
			}

			type step struct {
				name, pw string
				ok       bool
				verifies int
			}
			run := func(steps ...step) {
				t.Helper()
				for _, st := range steps {
					verifies = 0
					u, err := a.Authenticate(ctx, "alice", st.pw, "192.0.2.1")
					switch {
					case st.ok && (err != nil || u.ID != alice.ID):
						t.Fatalf("%s: Authenticate = %+v, %v; want alice", st.name, u, err)
					case !st.ok && !errors.Is(err, ErrInvalidCredentials):
						t.Fatalf("%s: Authenticate = %+v, %v; want ErrInvalidCredentials", st.name, u, err)
					case verifies != st.verifies:
						t.Fatalf("%s: %d verifications; want %d", st.name, verifies, st.verifies)
					}
				}
			}
			run(
				step{"password", "first", true, 1},
				step{"password cached", "first", true, 0},
				step{"app password", "phone-pw", true, 2},
				step{"app password cached", "phone-pw", true, 0},
			)

			if err := cli.SetPasswordHash(ctx, alice.ID, mustHash(t, "second", cheap)); err != nil {
				t.Fatal(err)
			}
			run(
				step{"old password after change", "first", false, 2},
				step{"new password", "second", true, 1},
				step{"new password cached", "second", true, 0},
				step{"app password survives the change", "phone-pw", true, 2},
			)

			if err := cli.DeleteAppPassword(ctx, alice.ID, phone.ID); err != nil {
				t.Fatal(err)
			}
			run(
				step{"revoked app password", "phone-pw", false, 1},
				step{"password after revocation", "second", true, 1},
			)

			if err := cli.DeleteUser(ctx, alice.ID); err != nil {
				t.Fatal(err)
			}
			run(step{"cached password of a deleted user", "second", false, 1})
		})
	}
}

// openT opens a store and closes it when t ends.
func openT(t *testing.T, open func() (store.Store, error)) store.Store {
	t.Helper()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestWatchDropsOtherProcessChanges: with Watch running, what another
// process changes (a password, an app password revoked, the user deleted)
// leaves no verification derived from the old credentials in this
// process's cache within a second, while other users' stay; without the
// notification those entries would sit there until their TTL. On the
// embedded store Watch starts with a flush and then waits.
func TestWatchDropsOtherProcessChanges(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	dsn := testdb.PostgresDSN(t)
	server := openT(t, func() (store.Store, error) { return postgres.Open(t.Context(), dsn, logger) })
	cli := openT(t, func() (store.Store, error) { return postgres.Open(t.Context(), dsn, logger) })
	ctx := t.Context()
	a, err := New(server, logger, Options{Params: cheap})
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]*store.User{}
	for _, name := range []string{"alice", "bob"} {
		u := &store.User{Username: name, PasswordHash: mustHash(t, name+"-pw", cheap)}
		if err := cli.CreateUser(ctx, u, nil); err != nil {
			t.Fatal(err)
		}
		users[name] = u
	}
	phone := &store.AppPassword{UserID: users["alice"].ID, Label: "phone", PasswordHash: mustHash(t, "phone-pw", cheap)}
	if err := cli.CreateAppPassword(ctx, phone); err != nil {
		t.Fatal(err)
	}

	// cached counts the cache's entries per user name.
	cached := func() map[string]int {
		a.mu.Lock()
		defer a.mu.Unlock()
		n := map[string]int{}
		for _, e := range a.cache.entries {
			n[e.username]++
		}
		return n
	}
	login := func(user, pw string) {
		t.Helper()
		if _, err := a.Authenticate(ctx, user, pw, "192.0.2.1"); err != nil {
			t.Fatalf("%s with %s: %v", user, pw, err)
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &readyWatcher{w: server, ready: make(chan struct{})}
	go a.Watch(wctx, w)
	select {
	case <-w.ready:
	case <-time.After(time.Second):
		t.Fatal("Watch did not start within 1 s")
	}

	steps := []struct {
		name   string
		logins [][2]string
		change func() error
		want   int // alice's entries left
	}{
		{"password changed", [][2]string{{"alice", "alice-pw"}, {"alice", "phone-pw"}},
			func() error { return cli.SetPasswordHash(ctx, users["alice"].ID, mustHash(t, "new-pw", cheap)) }, 0},
		{"app password revoked", [][2]string{{"alice", "new-pw"}, {"alice", "phone-pw"}},
			func() error { return cli.DeleteAppPassword(ctx, users["alice"].ID, phone.ID) }, 0},
		{"user deleted", [][2]string{{"alice", "new-pw"}},
			func() error { return cli.DeleteUser(ctx, users["alice"].ID) }, 0},
	}
	for _, s := range steps {
		for _, l := range s.logins {
			login(l[0], l[1])
		}
		login("bob", "bob-pw")
		if n := cached(); n["alice"] != len(s.logins) || n["bob"] != 1 {
			t.Fatalf("%s: cached before the change: %v", s.name, n)
		}
		if err := s.change(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Second)
		for cached()["alice"] != s.want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: alice's verifications still cached after 1 s: %v", s.name, cached())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if n := cached(); n["bob"] != 1 {
			t.Fatalf("%s: bob's verification dropped too: %v", s.name, n)
		}
	}
}

// TestWatchEmbedded: the embedded store reports one flush and returns when
// the context ends.
func TestWatchEmbedded(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	s := testdb.SQLite(t)
	a, err := New(s, logger, Options{Params: cheap})
	if err != nil {
		t.Fatal(err)
	}
	u := &store.User{Username: "alice", PasswordHash: mustHash(t, "alice-pw", cheap)}
	if err := s.CreateUser(t.Context(), u, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(t.Context(), "alice", "alice-pw", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := a.Watch(ctx, s); err != nil {
		t.Fatalf("Watch = %v; want nil when its context ends", err)
	}
	if n := len(a.cache.entries); n != 0 {
		t.Errorf("%d entries cached after Watch's flush; want 0", n)
	}
}

// readyWatcher closes ready after w's first report, which comes once it
// is listening.
type readyWatcher struct {
	w     CredentialsWatcher
	ready chan struct{}
	once  sync.Once
}

func (r *readyWatcher) WatchCredentials(ctx context.Context, changed func(int64)) error {
	return r.w.WatchCredentials(ctx, func(id int64) {
		changed(id)
		r.once.Do(func() { close(r.ready) })
	})
}
