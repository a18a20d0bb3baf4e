package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

var grantTests = []test{
	{"grants: strongest of user, groups and everyone", testGrantOf},
	{"grants: refusals and cascade", testGrantRefusals},
	{"public links", testPublicLinks},
}

func grantOf(t *testing.T, s store.Store, owner, user *store.User) store.GrantAccess {
	t.Helper()
	a, err := s.GrantOf(t.Context(), owner.ID, user.ID)
	if err != nil {
		t.Fatalf("GrantOf: %v", err)
	}
	return a
}

func testGrantOf(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob, carol := newUser(t, s, "alice"), newUser(t, s, "bob"), newUser(t, s, "carol")
	// By default every user sees every other's busy time, not their own
	// through a grant.
	if a := grantOf(t, s, alice, bob); a != store.GrantFreeBusy {
		t.Errorf("default: %q, want free-busy", a)
	}
	if a := grantOf(t, s, alice, alice); a != "" {
		t.Errorf("owner: %q, want none", a)
	}
	if err := s.SetFreeBusyEveryone(ctx, alice.ID, false); err != nil {
		t.Fatal(err)
	}
	if on, err := s.FreeBusyEveryone(ctx, alice.ID); err != nil || on {
		t.Errorf("FreeBusyEveryone after turning off: %v %v", on, err)
	}
	if a := grantOf(t, s, alice, bob); a != "" {
		t.Errorf("restricted: %q, want none", a)
	}
	g := &store.Grant{OwnerID: alice.ID, UserID: bob.ID, Access: store.GrantRead}
	if err := s.PutGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	fam := newGroup(t, s, "family", bob, carol)
	gg := &store.Grant{OwnerID: alice.ID, GroupID: fam.ID, Access: store.GrantReadWrite}
	if err := s.PutGrant(ctx, gg); err != nil {
		t.Fatal(err)
	}
	if a := grantOf(t, s, alice, bob); a != store.GrantReadWrite {
		t.Errorf("user read + group read-write: %q", a)
	}
	if a := grantOf(t, s, alice, carol); a != store.GrantReadWrite {
		t.Errorf("group read-write: %q", a)
	}
	if a := grantOf(t, s, bob, alice); a != store.GrantFreeBusy {
		t.Errorf("grants are one way: %q", a)
	}
	// Membership is read at each call.
	if err := s.RemoveGroupMember(ctx, fam.ID, carol.ID); err != nil {
		t.Fatal(err)
	}
	if a := grantOf(t, s, alice, carol); a != "" {
		t.Errorf("after leaving the group: %q", a)
	}
	// PutGrant again changes the access of the same grant.
	again := &store.Grant{OwnerID: alice.ID, UserID: bob.ID, Access: store.GrantFreeBusy}
	if err := s.PutGrant(ctx, again); err != nil || again.ID != g.ID {
		t.Fatalf("PutGrant again: %v, id %d want %d", err, again.ID, g.ID)
	}
	gs, err := s.ListGrants(ctx, alice.ID)
	if err != nil || len(gs) != 2 || gs[0].UserID != bob.ID || gs[0].Access != store.GrantFreeBusy || gs[1].GroupID != fam.ID {
		t.Fatalf("ListGrants: %+v %v", gs, err)
	}
	to, err := s.ListGrantsTo(ctx, bob.ID)
	if err != nil || len(to) != 2 {
		t.Fatalf("ListGrantsTo(bob): %+v %v", to, err)
	}
	if to, _ := s.ListGrantsTo(ctx, carol.ID); len(to) != 0 {
		t.Errorf("ListGrantsTo(carol) after leaving: %+v", to)
	}
	if err := s.DeleteGrant(ctx, bob.ID, gg.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteGrant by another owner: %v", err)
	}
	if err := s.DeleteGrant(ctx, alice.ID, gg.ID); err != nil {
		t.Fatal(err)
	}
	if a := grantOf(t, s, alice, bob); a != store.GrantFreeBusy {
		t.Errorf("after deleting the group grant: %q", a)
	}
}

func testGrantRefusals(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	for name, g := range map[string]store.Grant{
		"both":         {OwnerID: alice.ID, UserID: bob.ID, GroupID: 1, Access: store.GrantRead},
		"neither":      {OwnerID: alice.ID, Access: store.GrantRead},
		"bad access":   {OwnerID: alice.ID, UserID: bob.ID, Access: "all"},
		"self":         {OwnerID: alice.ID, UserID: alice.ID, Access: store.GrantRead},
		"unknown user": {OwnerID: alice.ID, UserID: bob.ID + 100, Access: store.GrantRead},
	} {
		if err := s.PutGrant(ctx, &g); err == nil {
			t.Errorf("%s: PutGrant succeeded", name)
		}
	}
	self := store.Grant{OwnerID: alice.ID, UserID: alice.ID, Access: store.GrantRead}
	if err := s.PutGrant(ctx, &self); !errors.Is(err, store.ErrConflict) {
		t.Errorf("self: %v, want ErrConflict", err)
	}
	unknown := store.Grant{OwnerID: alice.ID, UserID: bob.ID + 100, Access: store.GrantRead}
	if err := s.PutGrant(ctx, &unknown); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
	g := store.Grant{OwnerID: alice.ID, UserID: bob.ID, Access: store.GrantReadWrite}
	if err := s.PutGrant(ctx, &g); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if gs, err := s.ListGrants(ctx, alice.ID); err != nil || len(gs) != 0 {
		t.Errorf("grants of a deleted grantee: %+v %v", gs, err)
	}
}

func testPublicLinks(t *testing.T, s store.Store) {
	ctx := t.Context()
	owner, c := newCalendar(t, s)
	token := strings.Repeat("k", 43)
	l := &store.PublicLink{CollectionID: c.ID, Token: token}
	if err := s.CreatePublicLink(ctx, l); err != nil || l.ID == 0 || l.Created.IsZero() {
		t.Fatalf("CreatePublicLink: %v %+v", err, l)
	}
	got, col, err := s.GetPublicLink(ctx, token)
	if err != nil || got.ID != l.ID || col.ID != c.ID || col.OwnerID != owner.ID || col.Name != c.Name {
		t.Fatalf("GetPublicLink: %+v %+v %v", got, col, err)
	}
	for _, bad := range []string{"", token[:42], token + "k", strings.ToUpper(token)} {
		if _, _, err := s.GetPublicLink(ctx, bad); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetPublicLink(%q): %v, want ErrNotFound", bad, err)
		}
	}
	if ls, err := s.ListPublicLinks(ctx, c.ID); err != nil || len(ls) != 1 || ls[0].Token != token {
		t.Fatalf("ListPublicLinks: %+v %v", ls, err)
	}
	if err := s.CreatePublicLink(ctx, &store.PublicLink{CollectionID: c.ID + 100, Token: "other"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("link to an unknown collection: %v", err)
	}
	if err := s.DeletePublicLink(ctx, c.ID+1, l.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeletePublicLink of another collection: %v", err)
	}
	if err := s.DeletePublicLink(ctx, c.ID, l.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetPublicLink(ctx, token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked link: %v", err)
	}
	// A link goes with its collection.
	l2 := &store.PublicLink{CollectionID: c.ID, Token: token + "2"}
	if err := s.CreatePublicLink(ctx, l2); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCollection(ctx, owner.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetPublicLink(ctx, l2.Token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("link of a deleted collection: %v", err)
	}
}
