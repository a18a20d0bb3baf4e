//go:build unix

package auth

import (
	"context"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// BenchmarkAuthenticateCached is the fixed cost every authenticated request
// pays once the password has been verified: the throttle check, the store
// read of the user and their app passwords, the cache key and the cache
// lookup. It runs on each real backend (PostgreSQL only when
// DAVENPORT_TEST_DATABASE_URL is set), for a user with an account password
// and two app passwords, logging in with the account password and with the
// second app password.
func BenchmarkAuthenticateCached(b *testing.B) {
	for _, be := range testdb.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			s := be.New(b)
			ctx := context.Background()
			a, err := New(s, slog.New(slog.DiscardHandler), Options{Params: cheap})
			if err != nil {
				b.Fatal(err)
			}
			u := &store.User{Username: "alice", DisplayName: "Alice", Email: "alice@example.com"}
			if err := s.CreateUser(ctx, u, nil); err != nil {
				b.Fatal(err)
			}
			if err := s.SetPasswordHash(ctx, u.ID, mustHash(b, "account password", cheap)); err != nil {
				b.Fatal(err)
			}
			pws := map[string]string{"password": "account password"}
			for _, label := range []string{"phone", "laptop"} {
				pw := GeneratePassword()
				p := &store.AppPassword{UserID: u.ID, Label: label, PasswordHash: mustHash(b, pw, cheap)}
				if err := s.CreateAppPassword(ctx, p); err != nil {
					b.Fatal(err)
				}
				pws["app-password"] = pw // the last one: every hash is tried before it
			}
			for _, name := range []string{"password", "app-password"} {
				pw := pws[name]
				b.Run(name, func(b *testing.B) {
					if _, err := a.Authenticate(ctx, "alice", pw, "192.0.2.1"); err != nil {
						b.Fatal(err) // verifies once and fills the cache
					}
					var verifies int
					a.verify = func(hash, pw string) (bool, error) {
						verifies++
						return VerifyPassword(hash, pw)
					}
					defer func() { a.verify = VerifyPassword }()
					b.ReportAllocs()
					start := cpuTime(b)
					n := 0
					for b.Loop() {
						got, err := a.Authenticate(ctx, "alice", pw, "192.0.2.1")
						if err != nil || got.ID != u.ID {
							b.Fatalf("Authenticate = %+v, %v", got, err)
						}
						n++
					}
					b.ReportMetric(float64(cpuTime(b)-start)/float64(n), "cpu-ns/op")
					if verifies != 0 {
						b.Fatalf("%d argon2 verifications in the loop; want 0 (cache hits)", verifies)
					}
				})
			}
		})
	}
}

// cpuTime is the user and system CPU time of the process so far: on a shared
// machine it is inflated by other load far less than wall time. With
// PostgreSQL it leaves out the server's own CPU.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
