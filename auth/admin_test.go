package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// adminStore records the writes of SetPassword and AddAppPassword.
type adminStore struct {
	hashes map[int64]string
	apps   []store.AppPassword
	err    error
}

func (s *adminStore) SetPasswordHash(_ context.Context, id int64, hash string) error {
	if s.err != nil {
		return s.err
	}
	s.hashes[id] = hash
	return nil
}

func (s *adminStore) CreateAppPassword(_ context.Context, p *store.AppPassword) error {
	if s.err != nil {
		return s.err
	}
	p.ID = int64(len(s.apps) + 1)
	s.apps = append(s.apps, *p)
	return nil
}

func TestSetPassword(t *testing.T) {
	ctx := context.Background()
	st := &adminStore{hashes: map[int64]string{}}
	u := &store.User{ID: 3, Username: "alice"}
	if err := SetPassword(ctx, st, u, "new secret"); err != nil {
		t.Fatal(err)
	}
	if st.hashes[3] == "" || st.hashes[3] != u.PasswordHash {
		t.Fatalf("stored %q, user has %q", st.hashes[3], u.PasswordHash)
	}
	if ok, err := VerifyPassword(u.PasswordHash, "new secret"); !ok || err != nil {
		t.Fatalf("stored hash does not verify: %v, %v", ok, err)
	}
	if err := SetPassword(ctx, st, u, ""); !errors.Is(err, ErrEmptyPassword) {
		t.Fatalf("empty password: %v", err)
	}
	st.err = store.ErrNotFound
	old := u.PasswordHash
	if err := SetPassword(ctx, st, u, "other"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("store error: %v; want it wrapped", err)
	}
	if u.PasswordHash != old {
		t.Fatal("user changed although the store refused")
	}
}

func TestAddAppPassword(t *testing.T) {
	st := &adminStore{}
	pw, p, err := AddAppPassword(context.Background(), st, 3, "phone")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != 1 || p.UserID != 3 || p.Label != "phone" || len(st.apps) != 1 {
		t.Fatalf("stored %+v", p)
	}
	if ok, err := VerifyPassword(p.PasswordHash, pw); !ok || err != nil {
		t.Fatalf("returned password does not match the stored hash: %v, %v", ok, err)
	}
	st.err = store.ErrConflict
	if _, _, err := AddAppPassword(context.Background(), st, 3, "phone"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("store error: %v; want it wrapped", err)
	}
}
