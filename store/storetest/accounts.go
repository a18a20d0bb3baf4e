package storetest

import (
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

var accountTests = []test{
	{"sessions", testSessions},
	{"session_prune", testSessionPrune},
	{"accounts", testAccounts},
	{"collection_totals", testCollectionTotals},
	{"app_password_last_used", testAppPasswordLastUsed},
}

func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "sess")
	other := newUser(t, s, "sess2")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := &store.Session{ID: "a", UserID: u.ID, Created: t0}
	for _, ss := range []*store.Session{a, {ID: "b", UserID: u.ID}, {ID: "c", UserID: other.ID}} {
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatalf("CreateSession(%s): %v", ss.ID, err)
		}
	}
	if !a.LastSeen.Equal(t0) {
		t.Errorf("LastSeen = %v, want Created %v", a.LastSeen, t0)
	}
	wantErr(t, "CreateSession(duplicate)", s.CreateSession(ctx, &store.Session{ID: "a", UserID: u.ID}), store.ErrConflict)
	wantErr(t, "CreateSession(unknown user)", s.CreateSession(ctx, &store.Session{ID: "z", UserID: u.ID + 1000}), store.ErrNotFound)

	got, err := s.GetSession(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != u.ID || !got.Created.Equal(t0) || !got.LastSeen.Equal(t0) {
		t.Errorf("GetSession = %+v, want user %d created %v", got, u.ID, t0)
	}
	t1 := t0.Add(time.Hour)
	if err := s.TouchSession(ctx, "a", t1); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSession(ctx, "a"); got == nil || !got.LastSeen.Equal(t1) || !got.Created.Equal(t0) {
		t.Errorf("after TouchSession: %+v, want LastSeen %v", got, t1)
	}
	_, err = s.GetSession(ctx, "nope")
	wantErr(t, "GetSession(unknown)", err, store.ErrNotFound)

	// A password change signs out every other browser of that user only.
	if err := s.DeleteUserSessions(ctx, u.ID, "a"); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"a": true, "b": false, "c": true} {
		_, err := s.GetSession(ctx, id)
		if (err == nil) != want {
			t.Errorf("after DeleteUserSessions: session %s present = %v, want %v", id, err == nil, want)
		}
	}
	if err := s.DeleteSession(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, "a"); err != nil {
		t.Errorf("DeleteSession(gone) = %v, want nil", err)
	}
	_, err = s.GetSession(ctx, "a")
	wantErr(t, "GetSession(deleted)", err, store.ErrNotFound)
	// Deleting the user deletes their sessions.
	if err := s.DeleteUser(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetSession(ctx, "c")
	wantErr(t, "GetSession(user deleted)", err, store.ErrNotFound)
}

func testSessionPrune(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "prune")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, ss := range []store.Session{
		{ID: "idle", Created: t0.Add(10 * time.Hour), LastSeen: t0.Add(10 * time.Hour)},
		{ID: "old", Created: t0, LastSeen: t0.Add(30 * time.Hour)},
		{ID: "live", Created: t0.Add(20 * time.Hour), LastSeen: t0.Add(30 * time.Hour)},
	} {
		ss.UserID = u.ID
		if err := s.CreateSession(ctx, &ss); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneSessions(ctx, t0.Add(12*time.Hour), t0.Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PruneSessions = %d, %v; want 2", n, err)
	}
	if _, err := s.GetSession(ctx, "live"); err != nil {
		t.Errorf("live session pruned: %v", err)
	}
}

func testAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	b := newUser(t, s, "bravo")
	a := newUser(t, s, "alpha")
	acc, err := s.GetAccount(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Username != "alpha" || acc.DisplayName != a.DisplayName || acc.Admin || acc.LastLogin != nil ||
		acc.Objects != 0 || acc.UsedBytes != 0 || !acc.Created.Equal(a.Created) {
		t.Errorf("GetAccount(new user) = %+v", acc)
	}
	if err := s.SetUserAdmin(ctx, b.ID, true); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := s.RecordLogin(ctx, b.ID, at); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "SetUserAdmin(unknown)", s.SetUserAdmin(ctx, a.ID+b.ID+100, true), store.ErrNotFound)
	wantErr(t, "RecordLogin(unknown)", s.RecordLogin(ctx, a.ID+b.ID+100, at), store.ErrNotFound)
	c := newCollection(t, s, b.ID, store.KindCalendar, "cal")
	putEvent(t, s, c.ID, "1.ics", "u1")
	o := putEvent(t, s, c.ID, "2.ics", "u2")

	list, err := s.ListAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Username != "alpha" || list[1].Username != "bravo" {
		t.Fatalf("ListAccounts = %+v, want alpha, bravo", list)
	}
	got := list[1]
	if !got.Admin || got.LastLogin == nil || !got.LastLogin.Equal(at) || got.Objects != 2 ||
		got.UsedBytes != storedBytes(t, s, b.ID) || got.UsedBytes != 2*o.Size {
		t.Errorf("ListAccounts[bravo] = %+v", got)
	}
	if err := s.SetUserAdmin(ctx, b.ID, false); err != nil {
		t.Fatal(err)
	}
	if acc, _ := s.GetAccount(ctx, b.ID); acc == nil || acc.Admin {
		t.Errorf("after SetUserAdmin(false): %+v", acc)
	}
	_, err = s.GetAccount(ctx, a.ID+b.ID+100)
	wantErr(t, "GetAccount(unknown)", err, store.ErrNotFound)
}

// testCollectionTotals: the item counts follow every write path — put,
// replace, delete, move across and within collections, cascade.
func testCollectionTotals(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "totals")
	c1 := newCollection(t, s, u.ID, store.KindCalendar, "one")
	c2 := newCollection(t, s, u.ID, store.KindCalendar, "two")
	check := func(what string, want1, want2 int64) {
		t.Helper()
		ts, err := s.ListCollectionTotals(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]store.CollectionTotals{}
		for _, x := range ts {
			got[x.ID] = x
		}
		if len(ts) != 2 || got[c1.ID].Objects != want1 || got[c2.ID].Objects != want2 {
			t.Errorf("%s: totals %+v, want %d in %d and %d in %d", what, ts, want1, c1.ID, want2, c2.ID)
		}
		if sum := got[c1.ID].UsedBytes + got[c2.ID].UsedBytes; sum != storedBytes(t, s, u.ID) {
			t.Errorf("%s: used bytes %d, stored %d", what, sum, storedBytes(t, s, u.ID))
		}
	}
	check("empty", 0, 0)
	for _, n := range []string{"a", "b", "c"} {
		putEvent(t, s, c1.ID, n+".ics", n)
	}
	check("three puts", 3, 0)
	put(t, s, event(c1.ID, "a.ics", "a", "longer summary than before"))
	check("replace", 3, 0)
	if err := s.DeleteObject(ctx, c1.ID, "b.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	check("delete", 2, 0)
	if _, err := s.MoveObject(ctx, c1.ID, "c.ics", c2.ID, "c.ics", store.MoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	check("move across", 1, 1)
	if _, err := s.MoveObject(ctx, c1.ID, "a.ics", c1.ID, "renamed.ics", store.MoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	check("move within", 1, 1)
	if err := s.DeleteCollection(ctx, u.ID, c1.ID); err != nil {
		t.Fatal(err)
	}
	ts, err := s.ListCollectionTotals(ctx, u.ID)
	if err != nil || len(ts) != 1 || ts[0].ID != c2.ID || ts[0].Objects != 1 {
		t.Errorf("after DeleteCollection: %+v, %v", ts, err)
	}
	if acc, err := s.GetAccount(ctx, u.ID); err != nil || acc.Objects != 1 {
		t.Errorf("GetAccount after moves = %+v, %v; want 1 object", acc, err)
	}
}

func testAppPasswordLastUsed(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "apl")
	other := newUser(t, s, "apl2")
	p := &store.AppPassword{UserID: u.ID, Label: "phone", PasswordHash: testHash}
	if err := s.CreateAppPassword(ctx, p); err != nil {
		t.Fatal(err)
	}
	ps, err := s.ListAppPasswords(ctx, u.ID)
	if err != nil || len(ps) != 1 || ps[0].LastUsed != nil {
		t.Fatalf("ListAppPasswords(new) = %+v, %v; want one never used", ps, err)
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	// Another user's id does not touch it.
	if err := s.TouchAppPassword(ctx, other.ID, p.ID, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchAppPassword(ctx, u.ID, p.ID, at); err != nil {
		t.Fatal(err)
	}
	ps, err = s.ListAppPasswords(ctx, u.ID)
	if err != nil || len(ps) != 1 || ps[0].LastUsed == nil || !ps[0].LastUsed.Equal(at) {
		t.Fatalf("ListAppPasswords(used) = %+v, %v; want last used %v", ps, err, at)
	}
}
