package auth

import (
	"context"
	"fmt"

	"github.com/davenport-dav/davenport/store"
)

// PasswordSetter is the part of store.Store SetPassword writes through.
type PasswordSetter interface {
	SetPasswordHash(ctx context.Context, userID int64, hash string) error
}

// SetPassword hashes pw at DefaultParams and stores it as u's password, then
// updates u.PasswordHash.
//
// Cached verifications of the old password stop matching at once in every
// process: the stored hash is part of each cache key and every request reads
// it (see the package doc). Entries of the old password linger in memory
// until their TTL ends (DefaultCacheTTL); an Authenticator in the same process
// can drop them at once with Forget.
func SetPassword(ctx context.Context, st PasswordSetter, u *store.User, pw string) error {
	hash, err := HashPassword(pw)
	if err != nil {
		return fmt.Errorf("auth: set password: %w", err)
	}
	if err := st.SetPasswordHash(ctx, u.ID, hash); err != nil {
		return fmt.Errorf("auth: set password: %w", err)
	}
	u.PasswordHash = hash
	return nil
}

// AppPasswordCreator is the part of store.Store AddAppPassword writes through.
type AppPasswordCreator interface {
	CreateAppPassword(ctx context.Context, p *store.AppPassword) error
}

// AddAppPassword generates an app password for one device, stores its hash
// under label, and returns the password — the only time it is ever shown —
// with the stored record (ID and Created set by the store).
func AddAppPassword(ctx context.Context, st AppPasswordCreator, userID int64, label string) (string, *store.AppPassword, error) {
	pw := GeneratePassword()
	hash, err := HashPassword(pw)
	if err != nil {
		return "", nil, fmt.Errorf("auth: add app password: %w", err)
	}
	p := &store.AppPassword{UserID: userID, Label: label, PasswordHash: hash}
	if err := st.CreateAppPassword(ctx, p); err != nil {
		return "", nil, fmt.Errorf("auth: add app password: %w", err)
	}
	return pw, p, nil
}
