package storetest

import (
	"testing"

	"github.com/davenport-dav/davenport/store"
)

var credentialTests = []test{
	{"get_user_credentials", testGetUserCredentials},
	{"get_user_credentials_fresh", testGetUserCredentialsFresh},
}

// wantCredentials checks GetUserCredentials(username) against want and
// against what GetUser and ListAppPasswords return: the contract says the
// one call answers as the two would.
func wantCredentials(t *testing.T, s store.Store, username string, want *store.User, wantApps []*store.AppPassword) {
	t.Helper()
	ctx := t.Context()
	u, apps, err := s.GetUserCredentials(ctx, username)
	if want == nil {
		wantErr(t, "GetUserCredentials("+username+")", err, store.ErrNotFound)
		if u != nil || len(apps) != 0 {
			t.Errorf("GetUserCredentials(%q) = %+v, %+v with ErrNotFound; want nothing", username, u, apps)
		}
		_, err := s.GetUser(ctx, username)
		wantErr(t, "GetUser("+username+")", err, store.ErrNotFound)
		return
	}
	if err != nil {
		t.Fatalf("GetUserCredentials(%q): %v", username, err)
	}
	checkUser(t, u, want)
	if len(apps) != len(wantApps) {
		t.Fatalf("GetUserCredentials(%q): %d app passwords %+v, want %d", username, len(apps), apps, len(wantApps))
	}
	for i, w := range wantApps {
		g := apps[i] // oldest first, as created
		if g.ID != w.ID || g.UserID != want.ID || g.Label != w.Label || g.PasswordHash != w.PasswordHash ||
			!g.Created.Equal(w.Created) {
			t.Errorf("GetUserCredentials(%q): app password %d = %+v, want %+v", username, i, g, *w)
		}
	}

	byName, err := s.GetUser(ctx, username)
	if err != nil {
		t.Fatalf("GetUser(%q): %v", username, err)
	}
	checkUser(t, u, byName)
	listed, err := s.ListAppPasswords(ctx, u.ID)
	if err != nil {
		t.Fatalf("ListAppPasswords(%d): %v", u.ID, err)
	}
	if len(listed) != len(apps) {
		t.Fatalf("GetUserCredentials(%q) has %d app passwords, ListAppPasswords %d", username, len(apps), len(listed))
	}
	for i := range listed {
		if apps[i].ID != listed[i].ID || apps[i].PasswordHash != listed[i].PasswordHash ||
			!apps[i].Created.Equal(listed[i].Created) {
			t.Errorf("GetUserCredentials(%q): app password %d = %+v, ListAppPasswords %+v", username, i, apps[i], listed[i])
		}
	}
}

func testGetUserCredentials(t *testing.T, s store.Store) {
	ctx := t.Context()
	mkApp := func(u *store.User, label string) *store.AppPassword {
		t.Helper()
		p := &store.AppPassword{UserID: u.ID, Label: label, PasswordHash: testHash + label}
		if err := s.CreateAppPassword(ctx, p); err != nil {
			t.Fatalf("CreateAppPassword(%q): %v", label, err)
		}
		return p
	}

	plain := newUser(t, s, "plain")
	several := newUser(t, s, "several")
	// Interleave another user's app passwords with several's, so that a
	// query not scoped to the user, or not ordered, shows.
	s1 := mkApp(several, "phone")
	other := newUser(t, s, "other")
	o1 := mkApp(other, "other phone")
	s2 := mkApp(several, "laptop ü")
	s3 := mkApp(several, "")
	gone := newUser(t, s, "gone")
	mkApp(gone, "old phone")
	if err := s.DeleteUser(ctx, gone.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	noHash := &store.User{Username: "no-hash"}
	if err := s.CreateUser(ctx, noHash, nil); err != nil {
		t.Fatalf("CreateUser(no-hash): %v", err)
	}
	nh1 := mkApp(noHash, "only device")

	tests := []struct {
		name     string
		username string
		want     *store.User // nil: ErrNotFound
		wantApps []*store.AppPassword
	}{
		{"without app passwords", "plain", plain, nil},
		{"with several app passwords", "several", several, []*store.AppPassword{s1, s2, s3}},
		{"with one app password", "other", other, []*store.AppPassword{o1}},
		{"app passwords without account password", "no-hash", noHash, []*store.AppPassword{nh1}},
		{"unknown user", "nobody", nil, nil},
		{"deleted user", "gone", nil, nil},
		{"empty username", "", nil, nil},
		// Names are case-insensitive (issue 13 item 15): this was
		// ErrNotFound before.
		{"username differing in case", "Several", several, []*store.AppPassword{s1, s2, s3}},
		{"username prefix", "sever", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCredentials(t, s, tc.username, tc.want, tc.wantApps)
		})
	}
}

// testGetUserCredentialsFresh checks that each call reads the current rows:
// the authenticator relies on it to honour a password change, a revocation
// or a deletion made by another process on the very next request.
func testGetUserCredentialsFresh(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "judy")
	p1 := &store.AppPassword{UserID: u.ID, Label: "phone", PasswordHash: testHash + "1"}
	p2 := &store.AppPassword{UserID: u.ID, Label: "laptop", PasswordHash: testHash + "2"}
	for _, p := range []*store.AppPassword{p1, p2} {
		if err := s.CreateAppPassword(ctx, p); err != nil {
			t.Fatalf("CreateAppPassword: %v", err)
		}
	}
	wantCredentials(t, s, "judy", u, []*store.AppPassword{p1, p2})

	if err := s.SetPasswordHash(ctx, u.ID, testHash+"new"); err != nil {
		t.Fatalf("SetPasswordHash: %v", err)
	}
	u.PasswordHash = testHash + "new"
	wantCredentials(t, s, "judy", u, []*store.AppPassword{p1, p2})

	if err := s.DeleteAppPassword(ctx, u.ID, p1.ID); err != nil {
		t.Fatalf("DeleteAppPassword: %v", err)
	}
	wantCredentials(t, s, "judy", u, []*store.AppPassword{p2})
	if err := s.DeleteAppPassword(ctx, u.ID, p2.ID); err != nil {
		t.Fatalf("DeleteAppPassword: %v", err)
	}
	wantCredentials(t, s, "judy", u, nil)

	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	wantCredentials(t, s, "judy", nil, nil)
}
