package storetest

import (
	"cmp"
	"errors"
	"slices"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

var shareTests = []test{
	{"groups and members", testGroups},
	{"user share invitation", testUserShare},
	{"group share follows membership", testGroupShare},
	{"strongest access wins", testShareAccess},
	{"share view is the sharee's own", testShareView},
	{"share refusals", testShareRefusals},
	{"shares go with their collection", testShareCascade},
	{"an owner's shares and their users in one read each", testOwnerShares},
}

func newGroup(t *testing.T, s store.Store, name string, members ...*store.User) *store.Group {
	t.Helper()
	g := &store.Group{Name: name, DisplayName: "Group " + name}
	if err := s.CreateGroup(t.Context(), g); err != nil {
		t.Fatalf("CreateGroup(%q): %v", name, err)
	}
	for _, u := range members {
		if err := s.AddGroupMember(t.Context(), g.ID, u.ID); err != nil {
			t.Fatalf("AddGroupMember: %v", err)
		}
	}
	return g
}

func putShare(t *testing.T, s store.Store, sh store.Share) *store.Share {
	t.Helper()
	if err := s.PutShare(t.Context(), &sh); err != nil {
		t.Fatalf("PutShare(%+v): %v", sh, err)
	}
	return &sh
}

// sharedNames lists the ids of the collections of kind shared with u, with
// their access.
func shared(t *testing.T, s store.Store, u *store.User, kind store.Kind) map[int64]store.Access {
	t.Helper()
	scs, err := s.ListSharedCollections(t.Context(), u.ID, kind)
	if err != nil {
		t.Fatalf("ListSharedCollections: %v", err)
	}
	m := map[int64]store.Access{}
	for _, sc := range scs {
		m[sc.Collection.ID] = sc.Access
	}
	return m
}

func testGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	g := newGroup(t, s, "Family", alice, bob)
	if g.Name != "family" {
		t.Errorf("group name = %q, want canonical %q", g.Name, "family")
	}
	if err := s.CreateGroup(ctx, &store.Group{Name: "FAMILY"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateGroup(duplicate in another case) = %v, want ErrConflict", err)
	}
	if err := s.AddGroupMember(ctx, g.ID, bob.ID); err != nil {
		t.Errorf("AddGroupMember twice = %v, want nil", err)
	}
	if err := s.AddGroupMember(ctx, g.ID, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddGroupMember(unknown user) = %v, want ErrNotFound", err)
	}
	got, err := s.GetGroup(ctx, "FaMiLy")
	if err != nil || got.ID != g.ID || got.DisplayName != "Group Family" {
		t.Fatalf("GetGroup = %+v, %v", got, err)
	}
	members, err := s.ListGroupMembers(ctx, g.ID)
	if err != nil || len(members) != 2 || members[0].Username != "alice" || members[1].Username != "bob" {
		t.Fatalf("ListGroupMembers = %+v, %v", members, err)
	}
	if err := s.RemoveGroupMember(ctx, g.ID, alice.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveGroupMember(ctx, g.ID, alice.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RemoveGroupMember(not a member) = %v, want ErrNotFound", err)
	}
	gs, err := s.ListUserGroups(ctx, bob.ID)
	if err != nil || len(gs) != 1 || gs[0].ID != g.ID {
		t.Errorf("ListUserGroups(bob) = %+v, %v", gs, err)
	}
	if gs, _ := s.ListUserGroups(ctx, alice.ID); len(gs) != 0 {
		t.Errorf("ListUserGroups(alice) = %+v, want none", gs)
	}
	newGroup(t, s, "ateam")
	all, err := s.ListGroups(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "ateam" || all[1].Name != "family" {
		t.Errorf("ListGroups = %+v, %v", all, err)
	}
	if err := s.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetGroup(ctx, "family"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetGroup after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteGroup(ctx, g.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteGroup twice = %v, want ErrNotFound", err)
	}
}

func testUserShare(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	cal := newCollection(t, s, alice.ID, store.KindCalendar, "household")
	sh := putShare(t, s, store.Share{CollectionID: cal.ID, UserID: bob.ID, Access: store.AccessRead})
	if sh.Status != store.SharePending || sh.ID == 0 || sh.Created.IsZero() {
		t.Fatalf("new user share = %+v, want pending with id and created", sh)
	}
	if got := shared(t, s, bob, store.KindCalendar); len(got) != 0 {
		t.Errorf("pending share listed: %v", got)
	}
	if c, _ := s.GetCollection(ctx, alice.ID, store.KindCalendar, "household"); c == nil || !c.Shared {
		t.Errorf("GetCollection of a shared collection: Shared = false")
	}
	if cs, _ := s.ListCollections(ctx, alice.ID, store.KindCalendar); len(cs) != 1 || !cs[0].Shared {
		t.Errorf("ListCollections of a shared collection: %+v", cs)
	}
	if _, err := s.GetSharedCollection(ctx, bob.ID, cal.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSharedCollection(pending) = %v, want ErrNotFound", err)
	}
	invites, err := s.ListInvitations(ctx, bob.ID)
	if err != nil || len(invites) != 1 || invites[0].Share.ID != sh.ID || invites[0].Share.Status != store.SharePending ||
		invites[0].Collection.ID != cal.ID || invites[0].Collection.Name != "household" ||
		invites[0].Owner != "alice" || invites[0].OwnerDisplayName != "User alice" {
		t.Fatalf("ListInvitations = %+v, %v", invites, err)
	}
	if err := s.SetShareStatus(ctx, sh.ID, store.ShareAccepted); err != nil {
		t.Fatal(err)
	}
	sc, err := s.GetSharedCollection(ctx, bob.ID, cal.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Owner != "alice" || sc.Access != store.AccessRead || sc.Collection.Name != "household" || sc.Collection.OwnerID != alice.ID {
		t.Errorf("shared collection = %+v", sc)
	}
	if got := shared(t, s, bob, store.KindCalendar); got[cal.ID] != store.AccessRead || len(got) != 1 {
		t.Errorf("ListSharedCollections = %v", got)
	}
	if got := shared(t, s, bob, store.KindAddressBook); len(got) != 0 {
		t.Errorf("calendar listed among address books: %v", got)
	}
	// Changing the access keeps the one share.
	again := putShare(t, s, store.Share{CollectionID: cal.ID, UserID: bob.ID, Access: store.AccessReadWrite, Status: store.ShareAccepted})
	if again.ID != sh.ID {
		t.Errorf("PutShare again made share %d, want %d updated", again.ID, sh.ID)
	}
	if got := shared(t, s, bob, store.KindCalendar); got[cal.ID] != store.AccessReadWrite {
		t.Errorf("access after update = %v", got)
	}
	if err := s.SetShareStatus(ctx, sh.ID, store.ShareDeclined); err != nil {
		t.Fatal(err)
	}
	if got := shared(t, s, bob, store.KindCalendar); len(got) != 0 {
		t.Errorf("declined share listed: %v", got)
	}
	if err := s.DeleteShare(ctx, cal.ID, sh.ID); err != nil {
		t.Fatal(err)
	}
	if shs, _ := s.ListShares(ctx, cal.ID); len(shs) != 0 {
		t.Errorf("shares after revoke = %+v", shs)
	}
	if err := s.DeleteShare(ctx, cal.ID, sh.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteShare twice = %v, want ErrNotFound", err)
	}
	if c, _ := s.GetCollection(ctx, alice.ID, store.KindCalendar, "household"); c == nil || c.Shared {
		t.Errorf("GetCollection after the last share went: Shared = true")
	}
}

func testGroupShare(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob, carol := newUser(t, s, "alice"), newUser(t, s, "bob"), newUser(t, s, "carol")
	book := newCollection(t, s, alice.ID, store.KindAddressBook, "family")
	g := newGroup(t, s, "family", alice, bob)
	sh := putShare(t, s, store.Share{CollectionID: book.ID, GroupID: g.ID, Access: store.AccessRead, Status: store.SharePending})
	if sh.Status != store.ShareAccepted {
		t.Errorf("group share status = %q, want accepted", sh.Status)
	}
	if got := shared(t, s, bob, store.KindAddressBook); got[book.ID] != store.AccessRead {
		t.Errorf("bob (member) sees %v", got)
	}
	if got := shared(t, s, alice, store.KindAddressBook); len(got) != 0 {
		t.Errorf("the owner, a member, sees her own book as shared: %v", got)
	}
	if got := shared(t, s, carol, store.KindAddressBook); len(got) != 0 {
		t.Errorf("carol (not a member) sees %v", got)
	}
	if err := s.AddGroupMember(ctx, g.ID, carol.ID); err != nil {
		t.Fatal(err)
	}
	if got := shared(t, s, carol, store.KindAddressBook); got[book.ID] != store.AccessRead {
		t.Errorf("carol after joining sees %v", got)
	}
	if err := s.RemoveGroupMember(ctx, g.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	if got := shared(t, s, bob, store.KindAddressBook); len(got) != 0 {
		t.Errorf("bob after leaving sees %v", got)
	}
	if err := s.SetShareStatus(ctx, sh.ID, store.ShareDeclined); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetShareStatus(group share) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if shs, _ := s.ListShares(ctx, book.ID); len(shs) != 0 {
		t.Errorf("shares of a deleted group remain: %+v", shs)
	}
}

func testShareAccess(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	cal := newCollection(t, s, alice.ID, store.KindCalendar, "work")
	g := newGroup(t, s, "team", bob)
	putShare(t, s, store.Share{CollectionID: cal.ID, UserID: bob.ID, Access: store.AccessRead, Status: store.ShareAccepted})
	gs := putShare(t, s, store.Share{CollectionID: cal.ID, GroupID: g.ID, Access: store.AccessReadWrite})
	if got := shared(t, s, bob, store.KindCalendar); got[cal.ID] != store.AccessReadWrite || len(got) != 1 {
		t.Errorf("user read + group read-write = %v, want one read-write", got)
	}
	shs, err := s.ListShares(ctx, cal.ID)
	if err != nil || len(shs) != 2 || shs[0].UserID != bob.ID || shs[1].GroupID != g.ID {
		t.Fatalf("ListShares = %+v, %v", shs, err)
	}
	if err := s.DeleteShare(ctx, cal.ID, gs.ID); err != nil {
		t.Fatal(err)
	}
	if got := shared(t, s, bob, store.KindCalendar); got[cal.ID] != store.AccessRead {
		t.Errorf("after revoking the group share = %v, want read", got)
	}
}

func testShareView(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob, carol := newUser(t, s, "alice"), newUser(t, s, "bob"), newUser(t, s, "carol")
	cal := newCollection(t, s, alice.ID, store.KindCalendar, "household")
	name, color := "Mum's", "#FF0000FF"
	if err := s.SetShareView(ctx, bob.ID, cal.ID, store.ShareView{DisplayName: &name}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetShareView before any share = %v, want ErrNotFound", err)
	}
	for _, u := range []*store.User{bob, carol} {
		putShare(t, s, store.Share{CollectionID: cal.ID, UserID: u.ID, Access: store.AccessRead, Status: store.ShareAccepted})
	}
	if err := s.SetShareView(ctx, bob.ID, cal.ID, store.ShareView{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetShareView(ctx, bob.ID, cal.ID, store.ShareView{Color: &color}); err != nil {
		t.Fatal(err)
	}
	sc, err := s.GetSharedCollection(ctx, bob.ID, cal.ID)
	if err != nil || sc.DisplayName != name || sc.Color != color {
		t.Errorf("bob's view = %+v, %v", sc, err)
	}
	if sc.Collection.DisplayName != "Collection household" {
		t.Errorf("owner's name changed to %q", sc.Collection.DisplayName)
	}
	sc, err = s.GetSharedCollection(ctx, carol.ID, cal.ID)
	if err != nil || sc.DisplayName != "" || sc.Color != "" {
		t.Errorf("carol's view = %+v, %v; want the owner's", sc, err)
	}
	if c, _ := s.GetCollection(ctx, alice.ID, store.KindCalendar, "household"); c.DisplayName != "Collection household" || c.Color != "" {
		t.Errorf("owner's collection = %+v", c)
	}
}

func testShareRefusals(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	cal := newCollection(t, s, alice.ID, store.KindCalendar, "c")
	for _, tc := range []struct {
		name string
		sh   store.Share
		want error
	}{
		{"with the owner", store.Share{CollectionID: cal.ID, UserID: alice.ID, Access: store.AccessRead}, store.ErrConflict},
		{"unknown collection", store.Share{CollectionID: 999999, UserID: bob.ID, Access: store.AccessRead}, store.ErrNotFound},
		{"unknown user", store.Share{CollectionID: cal.ID, UserID: 999999, Access: store.AccessRead}, store.ErrNotFound},
		{"unknown group", store.Share{CollectionID: cal.ID, GroupID: 999999, Access: store.AccessRead}, store.ErrNotFound},
		{"no sharee", store.Share{CollectionID: cal.ID, Access: store.AccessRead}, nil},
		{"user and group", store.Share{CollectionID: cal.ID, UserID: bob.ID, GroupID: 1, Access: store.AccessRead}, nil},
		{"bad access", store.Share{CollectionID: cal.ID, UserID: bob.ID, Access: "all"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.PutShare(ctx, &tc.sh)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("PutShare = %v, want %v", err, tc.want)
			}
		})
	}
	if shs, _ := s.ListShares(ctx, cal.ID); len(shs) != 0 {
		t.Errorf("refused shares were stored: %+v", shs)
	}
}

func testShareCascade(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	cal := newCollection(t, s, alice.ID, store.KindCalendar, "c")
	putShare(t, s, store.Share{CollectionID: cal.ID, UserID: bob.ID, Access: store.AccessRead, Status: store.ShareAccepted})
	if err := s.DeleteCollection(ctx, alice.ID, cal.ID); err != nil {
		t.Fatal(err)
	}
	if got := shared(t, s, bob, store.KindCalendar); len(got) != 0 {
		t.Errorf("deleted collection still shared: %v", got)
	}
	if shs, _ := s.ListInvitations(ctx, bob.ID); len(shs) != 0 {
		t.Errorf("shares of a deleted collection remain: %+v", shs)
	}
}

// testOwnerShares: ListOwnerShares returns the shares of all the owner's
// collections, by collection, each collection's as ListShares does, and
// nothing of another owner's; GetUsersByID returns the users that exist
// of the ids asked for.
func testOwnerShares(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice, bob, carol := newUser(t, s, "alice"), newUser(t, s, "bob"), newUser(t, s, "carol")
	team := newGroup(t, s, "team", bob)
	work := newCollection(t, s, alice.ID, store.KindCalendar, "work")
	home := newCollection(t, s, alice.ID, store.KindCalendar, "home")
	book := newCollection(t, s, alice.ID, store.KindAddressBook, "contacts")
	newCollection(t, s, alice.ID, store.KindCalendar, "private")
	bobs := newCollection(t, s, bob.ID, store.KindCalendar, "bobs")
	putShare(t, s, store.Share{CollectionID: work.ID, GroupID: team.ID, Access: store.AccessReadWrite})
	putShare(t, s, store.Share{CollectionID: work.ID, UserID: carol.ID, Access: store.AccessRead})
	putShare(t, s, store.Share{CollectionID: home.ID, UserID: bob.ID, Access: store.AccessRead, Status: store.ShareAccepted})
	putShare(t, s, store.Share{CollectionID: book.ID, UserID: carol.ID, Access: store.AccessRead})
	putShare(t, s, store.Share{CollectionID: bobs.ID, UserID: alice.ID, Access: store.AccessRead})
	got, err := s.ListOwnerShares(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	var want []store.Share
	for _, c := range []*store.Collection{work, home, book} {
		shs, err := s.ListShares(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, shs...)
	}
	slices.SortStableFunc(want, func(a, b store.Share) int { return cmp.Compare(a.CollectionID, b.CollectionID) })
	if len(got) != 4 || !slices.EqualFunc(got, want, func(a, b store.Share) bool { return a.ID == b.ID && a.Status == b.Status }) {
		t.Errorf("ListOwnerShares(alice) = %+v, want %+v", got, want)
	}
	users, err := s.GetUsersByID(ctx, []int64{carol.ID, alice.ID, 999999})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, u := range users {
		names = append(names, u.Username)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"alice", "carol"}) {
		t.Errorf("GetUsersByID = %v, want alice and carol", names)
	}
	if users, err := s.GetUsersByID(ctx, nil); err != nil || len(users) != 0 {
		t.Errorf("GetUsersByID(none) = %v, %v", users, err)
	}
}
