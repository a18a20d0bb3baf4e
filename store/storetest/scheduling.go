package storetest

import (
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// Scheduling support (RFC 6638): inbox and outbox collections, the user's
// email as calendar user address, and finding a user's copy of an event by
// UID wherever they keep it.
var schedulingTests = []test{
	{"InboxOutboxKinds", testInboxOutboxKinds},
	{"SetEmail", testSetEmail},
	{"SetDisplayName", testSetDisplayName},
	{"FindObjectByUID", testFindObjectByUID},
}

func testInboxOutboxKinds(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := &store.User{Username: "sched", PasswordHash: testHash}
	cols := []store.Collection{{Kind: store.KindInbox, Name: "inbox"}, {Kind: store.KindOutbox, Name: "outbox"}}
	if err := s.CreateUser(ctx, u, cols); err != nil {
		t.Fatalf("CreateUser with inbox and outbox: %v", err)
	}
	for _, k := range []store.Kind{store.KindInbox, store.KindOutbox} {
		list, err := s.ListCollections(ctx, u.ID, k)
		if err != nil || len(list) != 1 || list[0].Kind != k {
			t.Errorf("ListCollections(%s) = %v, %v; want one", k, list, err)
		}
	}
	if list, _ := s.ListCollections(ctx, u.ID, store.KindCalendar); len(list) != 0 {
		t.Errorf("the inbox or outbox is listed among calendars: %v", list)
	}
	inbox, err := s.GetCollection(ctx, u.ID, store.KindInbox, "inbox")
	if err != nil {
		t.Fatal(err)
	}
	putEvent(t, s, inbox.ID, "msg.ics", "m1")
	if ch, err := s.ListChangesSince(ctx, inbox.ID, 0, 0, false); err != nil || len(ch.Changes) != 1 {
		t.Errorf("inbox changes = %v, %v; want the delivered message", ch, err)
	}
}

func testSetEmail(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "mail")
	other := newUser(t, s, "other")
	if err := s.SetEmail(ctx, u.ID, "new@example.net"); err != nil {
		t.Fatalf("SetEmail: %v", err)
	}
	if got, _ := s.GetUser(ctx, "mail"); got.Email != "new@example.net" {
		t.Errorf("Email = %q after SetEmail", got.Email)
	}
	if got, _ := s.GetUser(ctx, "other"); got.Email != other.Email {
		t.Errorf("another user's email changed to %q", got.Email)
	}
	wantErr(t, "SetEmail(unknown)", s.SetEmail(ctx, u.ID+other.ID+1000, "x@y"), store.ErrNotFound)
}

func testSetDisplayName(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "named")
	other := newUser(t, s, "other")
	if err := s.SetDisplayName(ctx, u.ID, "Named Person"); err != nil {
		t.Fatalf("SetDisplayName: %v", err)
	}
	if got, _ := s.GetUser(ctx, "named"); got.DisplayName != "Named Person" {
		t.Errorf("DisplayName = %q after SetDisplayName", got.DisplayName)
	}
	if got, _ := s.GetUser(ctx, "other"); got.DisplayName != other.DisplayName {
		t.Errorf("another user's display name changed to %q", got.DisplayName)
	}
	// The principal search finds the new name, not the old one.
	found, _, err := s.SearchPrincipals(ctx, "person", store.SearchName, 10)
	if err != nil || len(found) != 1 || found[0].User == nil || found[0].User.ID != u.ID {
		t.Errorf("SearchPrincipals(person) = %+v, %v; want the renamed user", found, err)
	}
	wantErr(t, "SetDisplayName(unknown)", s.SetDisplayName(ctx, u.ID+other.ID+1000, "x"), store.ErrNotFound)
}

func testFindObjectByUID(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, c := newCalendar(t, s)
	second := newCollection(t, s, u.ID, store.KindCalendar, "second")
	other := newUser(t, s, "someone")
	otherCal := newCollection(t, s, other.ID, store.KindCalendar, "cal")
	putEvent(t, s, c.ID, "a.ics", "uid-a")
	putEvent(t, s, second.ID, "b name.ics", "uid-b")
	putEvent(t, s, otherCal.ID, "c.ics", "uid-c")
	o, err := s.FindObjectByUID(ctx, u.ID, store.KindCalendar, "uid-b")
	if err != nil || o.Name != "b name.ics" || o.CollectionID != second.ID || len(o.Body) == 0 {
		t.Errorf("FindObjectByUID(uid-b) = %+v, %v", o, err)
	}
	_, err = s.FindObjectByUID(ctx, u.ID, store.KindCalendar, "uid-c")
	wantErr(t, "FindObjectByUID(another owner's uid)", err, store.ErrNotFound)
	_, err = s.FindObjectByUID(ctx, u.ID, store.KindAddressBook, "uid-a")
	wantErr(t, "FindObjectByUID(other kind)", err, store.ErrNotFound)
}
