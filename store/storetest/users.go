package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

var userTests = []test{
	{"create_get", testUserCreateGet},
	{"unique_username", testUserUniqueUsername},
	{"username_case_insensitive", testUsernameCaseInsensitive},
	{"username_invalid", testUsernameInvalid},
	{"initial_collections", testUserInitialCollections},
	{"list_count", testUserListCount},
	{"set_password_hash", testUserSetPasswordHash},
	{"unlock", testUserUnlock},
	{"delete_cascades", testUserDeleteCascades},
	{"app_passwords", testAppPasswords},
	{"ping", func(t *testing.T, s store.Store) {
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	}},
}

func checkUser(t *testing.T, got, want *store.User) {
	t.Helper()
	if got.ID != want.ID || got.Username != want.Username || got.DisplayName != want.DisplayName ||
		got.Email != want.Email || got.PasswordHash != want.PasswordHash || !got.Created.Equal(want.Created) ||
		!got.UnlockedAt.Equal(want.UnlockedAt) {
		t.Errorf("user = %+v, want %+v", *got, *want)
	}
}

func testUserCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := time.Now()
	u := &store.User{Username: "jürgen", DisplayName: "Jürgen Ä", Email: "j@example.org", PasswordHash: testHash}
	if err := s.CreateUser(ctx, u, nil); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if u.ID == 0 {
		t.Fatal("CreateUser did not set ID")
	}
	if u.Created.Before(before.Add(-time.Minute)) || u.Created.After(time.Now().Add(time.Minute)) {
		t.Errorf("Created = %v, want about %v", u.Created, before)
	}
	got, err := s.GetUser(ctx, "jürgen")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	checkUser(t, got, u)
	got, err = s.GetUserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("GetUserByID: %v", err)
	}
	checkUser(t, got, u)

	_, err = s.GetUser(ctx, "nobody")
	wantErr(t, "GetUser(nobody)", err, store.ErrNotFound)
	_, err = s.GetUserByID(ctx, u.ID+1000)
	wantErr(t, "GetUserByID(unknown)", err, store.ErrNotFound)
}

func testUserUniqueUsername(t *testing.T, s store.Store) {
	ctx := t.Context()
	newUser(t, s, "alice")
	err := s.CreateUser(ctx, &store.User{Username: "alice", PasswordHash: testHash}, nil)
	wantErr(t, "second CreateUser(alice)", err, store.ErrConflict)
	if n, err := s.CountUsers(ctx); err != nil || n != 1 {
		t.Fatalf("CountUsers = %d, %v; want 1", n, err)
	}
}

// testUsernameInvalid: CreateUser applies store.ValidateUsername itself, so
// no caller can create a user the rule refuses, and NFC/NFD twins are one
// name.
func testUsernameInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, name := range []string{"", ".", "..", "a/b", "a:b", "al\xffice", "\u202ealice", "\u03bd\u03af\u03ba\u03bf\u03c2"} {
		err := s.CreateUser(ctx, &store.User{Username: name, PasswordHash: testHash}, nil)
		wantErr(t, "CreateUser("+name+")", err, store.ErrInvalidUsername)
	}
	newUser(t, s, "zo\u00eb")
	err := s.CreateUser(ctx, &store.User{Username: "zoe\u0308", PasswordHash: testHash}, nil)
	wantErr(t, "CreateUser(zoë decomposed) next to zoë", err, store.ErrConflict)
	if n, err := s.CountUsers(ctx); err != nil || n != 1 {
		t.Fatalf("CountUsers = %d, %v; want 1", n, err)
	}
}

// testUsernameCaseInsensitive: names are stored canonical (lower case,
// NFC), found in any case or Unicode form, and unique after that.
func testUsernameCaseInsensitive(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := &store.User{Username: "Alice", PasswordHash: testHash}
	if err := s.CreateUser(ctx, alice, nil); err != nil {
		t.Fatalf("CreateUser(Alice): %v", err)
	}
	if alice.Username != "alice" {
		t.Errorf("CreateUser(Alice) set Username %q; want alice", alice.Username)
	}
	zoe := &store.User{Username: "ZOE\u0308", PasswordHash: testHash} // decomposed Ë
	if err := s.CreateUser(ctx, zoe, nil); err != nil {
		t.Fatalf("CreateUser(ZOË): %v", err)
	}
	if zoe.Username != "zo\u00eb" {
		t.Errorf("CreateUser(ZOË decomposed) set Username %q; want precomposed zoë", zoe.Username)
	}
	for _, tc := range []struct{ lookup, want string }{
		{"alice", "alice"}, {"Alice", "alice"}, {"ALICE", "alice"},
		{"zo\u00eb", "zo\u00eb"}, {"Zo\u00cb", "zo\u00eb"}, {"zoe\u0308", "zo\u00eb"},
	} {
		u, err := s.GetUser(ctx, tc.lookup)
		if err != nil || u.Username != tc.want {
			t.Errorf("GetUser(%q) = %+v, %v; want %s", tc.lookup, u, err, tc.want)
		}
		u, _, err = s.GetUserCredentials(ctx, tc.lookup)
		if err != nil || u.Username != tc.want {
			t.Errorf("GetUserCredentials(%q) = %+v, %v; want %s", tc.lookup, u, err, tc.want)
		}
	}
	for _, twin := range []string{"alice", "ALICE", "aLiCe", "zo\u00eb", "ZO\u00cb"} {
		err := s.CreateUser(ctx, &store.User{Username: twin, PasswordHash: testHash}, nil)
		wantErr(t, "CreateUser("+twin+")", err, store.ErrConflict)
	}
	users, err := s.ListUsers(ctx)
	if err != nil || len(users) != 2 || users[0].Username != "alice" || users[1].Username != "zo\u00eb" {
		t.Errorf("ListUsers = %+v, %v; want alice, zoë", users, err)
	}
}

func testUserInitialCollections(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := &store.User{Username: "bob", PasswordHash: testHash}
	cols := []store.Collection{
		{Kind: store.KindCalendar, Name: "personal", DisplayName: "Personal", Components: []string{"VEVENT"}},
		{Kind: store.KindAddressBook, Name: "contacts", DisplayName: "Contacts"},
	}
	if err := s.CreateUser(ctx, u, cols); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	for _, c := range cols {
		if c.ID == 0 || c.OwnerID != u.ID {
			t.Errorf("collection %q: ID %d, OwnerID %d; want both set (owner %d)", c.Name, c.ID, c.OwnerID, u.ID)
		}
		got, err := s.GetCollection(ctx, u.ID, c.Kind, c.Name)
		if err != nil {
			t.Fatalf("GetCollection(%q): %v", c.Name, err)
		}
		if got.ID != c.ID || got.DisplayName != c.DisplayName {
			t.Errorf("GetCollection(%q) = %+v, want ID %d, display name %q", c.Name, got, c.ID, c.DisplayName)
		}
	}

	// All or nothing: a duplicate among the collections fails the user too.
	u2 := &store.User{Username: "carol", PasswordHash: testHash}
	err := s.CreateUser(ctx, u2, []store.Collection{
		{Kind: store.KindCalendar, Name: "same"},
		{Kind: store.KindCalendar, Name: "same"},
	})
	wantErr(t, "CreateUser with duplicate collections", err, store.ErrConflict)
	_, err = s.GetUser(ctx, "carol")
	wantErr(t, "GetUser after failed CreateUser", err, store.ErrNotFound)
	if n, _ := s.CountUsers(ctx); n != 1 {
		t.Errorf("CountUsers = %d after a failed CreateUser, want 1", n)
	}
}

func testUserListCount(t *testing.T, s store.Store) {
	ctx := t.Context()
	if n, err := s.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers on an empty store = %d, %v", n, err)
	}
	if us, err := s.ListUsers(ctx); err != nil || len(us) != 0 {
		t.Fatalf("ListUsers on an empty store = %v, %v", us, err)
	}
	// "Bob" is listed as "bob": names are stored canonical.
	created := []string{"carol", "Bob", "alice", "ärger"}
	want := []string{"alice", "bob", "carol", "ärger"}
	ids := map[string]int64{}
	emails := map[string]string{}
	for _, n := range created {
		u := newUser(t, s, n)
		ids[u.Username], emails[u.Username] = u.ID, n+"@example.com"
	}
	n, err := s.CountUsers(ctx)
	if err != nil || n != len(want) {
		t.Fatalf("CountUsers = %d, %v; want %d", n, err, len(want))
	}
	us, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	var got []string
	for _, u := range us {
		got = append(got, u.Username)
		if u.ID != ids[u.Username] || u.PasswordHash != testHash || u.Email != emails[u.Username] {
			t.Errorf("ListUsers entry %+v does not match what was created", u)
		}
	}
	slices.Sort(got)
	if !equalStrings(got, want) {
		t.Errorf("ListUsers = %q, want %q", got, want)
	}
}

// testUserUnlock: UnlockUser stamps the user, and every way of reading the
// user returns the stamp (the authenticator reads it through
// GetUserCredentials on each request).
func testUserUnlock(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "locked")
	other := newUser(t, s, "other")
	if !u.UnlockedAt.IsZero() {
		t.Errorf("a new user has UnlockedAt %v; want zero", u.UnlockedAt)
	}
	if got, err := s.GetUser(ctx, "locked"); err != nil || !got.UnlockedAt.IsZero() {
		t.Errorf("GetUser before UnlockUser: %+v, %v; want a zero UnlockedAt", got, err)
	}
	before := time.Now()
	if err := s.UnlockUser(ctx, u.ID); err != nil {
		t.Fatalf("UnlockUser: %v", err)
	}
	first, err := s.GetUser(ctx, "locked")
	if err != nil {
		t.Fatal(err)
	}
	if first.UnlockedAt.Before(before.Add(-time.Minute)) || first.UnlockedAt.After(time.Now().Add(time.Minute)) {
		t.Errorf("UnlockedAt = %v; want about %v", first.UnlockedAt, before)
	}
	cred, _, err := s.GetUserCredentials(ctx, "locked")
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, cred, first)
	byID, err := s.GetUserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, byID, first)
	users, err := s.ListUsers(ctx)
	if err != nil || len(users) != 2 {
		t.Fatalf("ListUsers = %v, %v", users, err)
	}
	checkUser(t, &users[0], first)
	if !users[1].UnlockedAt.IsZero() || users[1].ID != other.ID {
		t.Errorf("UnlockUser touched another user: %+v", users[1])
	}
	time.Sleep(2 * time.Millisecond)
	if err := s.UnlockUser(ctx, u.ID); err != nil {
		t.Fatalf("second UnlockUser: %v", err)
	}
	if again, err := s.GetUser(ctx, "locked"); err != nil || !again.UnlockedAt.After(first.UnlockedAt) {
		t.Errorf("a second UnlockUser left UnlockedAt at %v (was %v), %v; want later", again.UnlockedAt, first.UnlockedAt, err)
	}
	wantErr(t, "UnlockUser(unknown)", s.UnlockUser(ctx, other.ID+1000), store.ErrNotFound)
}

func testUserSetPasswordHash(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "dave")
	other := newUser(t, s, "erin")
	const h = "$argon2id$v=19$m=65536,t=3,p=4$bmV3c2FsdA$bmV3aGFzaA"
	if err := s.SetPasswordHash(ctx, u.ID, h); err != nil {
		t.Fatalf("SetPasswordHash: %v", err)
	}
	got, _ := s.GetUser(ctx, "dave")
	if got.PasswordHash != h {
		t.Errorf("PasswordHash = %q, want %q", got.PasswordHash, h)
	}
	if got, _ := s.GetUser(ctx, "erin"); got.PasswordHash != other.PasswordHash {
		t.Errorf("another user's hash changed to %q", got.PasswordHash)
	}
	err := s.SetPasswordHash(ctx, u.ID+other.ID+1000, h)
	wantErr(t, "SetPasswordHash(unknown)", err, store.ErrNotFound)
}

func testUserDeleteCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "frank")
	keep := newUser(t, s, "grace")
	cal := newCollection(t, s, u.ID, store.KindCalendar, "cal")
	ab := newCollection(t, s, u.ID, store.KindAddressBook, "book")
	keepCal := newCollection(t, s, keep.ID, store.KindCalendar, "cal")
	putEvent(t, s, cal.ID, "a.ics", "a")
	putEvent(t, s, cal.ID, "b.ics", "b")
	putEvent(t, s, ab.ID, "c.vcf", "c")
	kept := putEvent(t, s, keepCal.ID, "a.ics", "a")
	if err := s.DeleteObject(ctx, cal.ID, "b.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	if err := s.UpdateCollection(ctx, u.ID, cal.ID, store.CollectionPatch{
		DeadProps: []store.DeadProp{{Namespace: "urn:x", Name: "p", XML: `<p xmlns="urn:x">1</p>`}},
	}); err != nil {
		t.Fatalf("UpdateCollection: %v", err)
	}
	if err := s.CreateAppPassword(ctx, &store.AppPassword{UserID: u.ID, Label: "phone", PasswordHash: testHash}); err != nil {
		t.Fatalf("CreateAppPassword: %v", err)
	}

	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.GetUser(ctx, "frank")
	wantErr(t, "GetUser after delete", err, store.ErrNotFound)
	_, err = s.GetUserByID(ctx, u.ID)
	wantErr(t, "GetUserByID after delete", err, store.ErrNotFound)
	_, err = s.GetCollection(ctx, u.ID, store.KindCalendar, "cal")
	wantErr(t, "GetCollection after delete", err, store.ErrNotFound)
	_, err = s.GetObject(ctx, cal.ID, "a.ics")
	wantErr(t, "GetObject after delete", err, store.ErrNotFound)
	_, err = s.GetObject(ctx, ab.ID, "c.vcf")
	wantErr(t, "GetObject after delete", err, store.ErrNotFound)
	_, err = s.ListChangesSince(ctx, cal.ID, 0, 0, false)
	wantErr(t, "ListChangesSince after delete", err, store.ErrNotFound)
	if ps, err := s.ListAppPasswords(ctx, u.ID); err != nil || len(ps) != 0 {
		t.Errorf("ListAppPasswords after delete = %v, %v; want none", ps, err)
	}
	if props, err := s.ListDeadProps(ctx, cal.ID); err != nil || len(props) != 0 {
		t.Errorf("ListDeadProps after delete = %v, %v; want none", props, err)
	}
	if n, err := s.UsedBytes(ctx, u.ID); err != nil || n != 0 {
		t.Errorf("UsedBytes after delete = %d, %v; want 0", n, err)
	}
	if n, _ := s.CountUsers(ctx); n != 1 {
		t.Errorf("CountUsers = %d, want 1", n)
	}

	// The other user is untouched.
	got, err := s.GetObject(ctx, keepCal.ID, "a.ics")
	if err != nil {
		t.Fatalf("other user's object: %v", err)
	}
	checkObject(t, got, kept, true)

	err = s.DeleteUser(ctx, u.ID)
	wantErr(t, "DeleteUser twice", err, store.ErrNotFound)
}

func testAppPasswords(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newUser(t, s, "heidi")
	b := newUser(t, s, "ivan")
	mk := func(userID int64, label string) *store.AppPassword {
		t.Helper()
		p := &store.AppPassword{UserID: userID, Label: label, PasswordHash: testHash + label}
		if err := s.CreateAppPassword(ctx, p); err != nil {
			t.Fatalf("CreateAppPassword(%q): %v", label, err)
		}
		if p.ID == 0 || p.Created.IsZero() {
			t.Fatalf("CreateAppPassword did not set ID and Created: %+v", p)
		}
		return p
	}
	a1, a2 := mk(a.ID, "phone"), mk(a.ID, "laptop ü")
	b1 := mk(b.ID, "tablet")

	list := func(userID int64) []store.AppPassword {
		t.Helper()
		ps, err := s.ListAppPasswords(ctx, userID)
		if err != nil {
			t.Fatalf("ListAppPasswords: %v", err)
		}
		slices.SortFunc(ps, func(x, y store.AppPassword) int { return int(x.ID - y.ID) })
		return ps
	}
	got := list(a.ID)
	if len(got) != 2 {
		t.Fatalf("ListAppPasswords(a) = %+v, want 2", got)
	}
	for i, want := range []*store.AppPassword{a1, a2} {
		g := got[i]
		if g.ID != want.ID || g.UserID != a.ID || g.Label != want.Label || g.PasswordHash != want.PasswordHash ||
			!g.Created.Equal(want.Created) {
			t.Errorf("app password %d = %+v, want %+v", i, g, *want)
		}
	}

	// A user cannot revoke another user's password.
	err := s.DeleteAppPassword(ctx, b.ID, a1.ID)
	wantErr(t, "DeleteAppPassword of another user's", err, store.ErrNotFound)
	if len(list(a.ID)) != 2 {
		t.Fatal("another user deleted an app password")
	}
	if err := s.DeleteAppPassword(ctx, a.ID, a1.ID); err != nil {
		t.Fatalf("DeleteAppPassword: %v", err)
	}
	if got := list(a.ID); len(got) != 1 || got[0].ID != a2.ID {
		t.Errorf("after delete: %+v, want only %d", got, a2.ID)
	}
	if got := list(b.ID); len(got) != 1 || got[0].ID != b1.ID {
		t.Errorf("other user's passwords: %+v", got)
	}
	err = s.DeleteAppPassword(ctx, a.ID, a1.ID)
	wantErr(t, "DeleteAppPassword twice", err, store.ErrNotFound)

	err = s.CreateAppPassword(ctx, &store.AppPassword{UserID: a.ID + b.ID + 1000, Label: "x", PasswordHash: testHash})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateAppPassword for a missing user: %v, want ErrNotFound", err)
	}
}

// LegacyUsernames are names a database from before case-insensitive names
// may hold: mixed case, non-ASCII capitals, a decomposed letter. A
// backend's migration test writes them directly into an old schema, opens
// the store, and calls CheckLegacyUsernames.
var LegacyUsernames = []string{"Alice", "BOB", "carol", "\u00c9lodie", "Zoe\u0308"}

// CheckLegacyUsernames checks a store opened on a database that held
// LegacyUsernames: each is now canonical and found in any spelling.
func CheckLegacyUsernames(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range users {
		got = append(got, u.Username)
	}
	if want := []string{"alice", "bob", "carol", "zo\u00eb", "\u00e9lodie"}; !slices.Equal(got, want) {
		t.Errorf("names after upgrade = %q; want %q", got, want)
	}
	for _, n := range []string{"ALICE", "Bob", "\u00c9LODIE", "zoe\u0308"} {
		if _, err := s.GetUser(ctx, n); err != nil {
			t.Errorf("GetUser(%q) after upgrade: %v", n, err)
		}
	}
}
