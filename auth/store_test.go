package auth

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/davenport-dav/davenport/store"
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
