package auth

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"

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
