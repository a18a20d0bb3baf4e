package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

var collectionTests = []test{
	{"create_get", testCollectionCreateGet},
	{"unique_names", testCollectionUniqueNames},
	{"unknown_owner", testCollectionUnknownOwner},
	{"owner_scoping", testCollectionOwnerScoping},
	{"update_patch", testCollectionUpdatePatch},
	{"update_atomic", testCollectionUpdateAtomic},
	{"dead_props", testCollectionDeadProps},
	{"delete_cascade", testCollectionDeleteCascade},
	{"updated_by_members", testCollectionUpdatedByMembers},
	{"move", testCollectionMove},
}

// testCollectionMove: MoveCollection renames a collection with its
// objects, change log and dead properties, under a new sync-token space
// (ModSeq bumped and PrunedModSeq raised to it); an existing destination
// fails without Overwrite and is replaced with it; other owners and kinds
// are untouched.
func testCollectionMove(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, c := newCalendar(t, s)
	other := newUser(t, s, "other")
	theirs := newCollection(t, s, other.ID, store.KindCalendar, "renamed")
	book := newCollection(t, s, u.ID, store.KindAddressBook, "renamed")
	a := putEvent(t, s, c.ID, "a.ics", "uid-a")
	putEvent(t, s, c.ID, "b.ics", "uid-b")
	wantErr(t, "DeleteObject", s.DeleteObject(ctx, c.ID, "b.ics", store.DeleteObjectOptions{}), nil)
	if err := s.UpdateCollection(ctx, u.ID, c.ID, store.CollectionPatch{DisplayName: ptr("Work"),
		DeadProps: []store.DeadProp{{Namespace: "urn:x", Name: "p", XML: `<p xmlns="urn:x">1</p>`}}}); err != nil {
		t.Fatal(err)
	}
	before := getCollection(t, s, c)

	created, err := s.MoveCollection(ctx, u.ID, c.ID, "renamed", store.MoveCollectionOptions{})
	if err != nil || !created {
		t.Fatalf("MoveCollection = %v, %v; want created", created, err)
	}
	_, err = s.GetCollection(ctx, u.ID, store.KindCalendar, c.Name)
	wantErr(t, "GetCollection of the old name", err, store.ErrNotFound)
	got, err := s.GetCollection(ctx, u.ID, store.KindCalendar, "renamed")
	if err != nil {
		t.Fatalf("GetCollection of the new name: %v", err)
	}
	if got.ID != c.ID || got.DisplayName != "Work" || got.ModSeq != before.ModSeq+1 || got.PrunedModSeq != got.ModSeq {
		t.Errorf("moved collection %+v; want ID %d, Work, ModSeq %d = PrunedModSeq", *got, c.ID, before.ModSeq+1)
	}
	if o, err := s.GetObject(ctx, c.ID, "a.ics"); err != nil {
		t.Errorf("the object did not move with its collection: %v", err)
	} else {
		checkObject(t, o, a, true)
	}
	if props, _ := s.ListDeadProps(ctx, c.ID); len(props) != 1 {
		t.Errorf("dead properties after the move: %v", props)
	}
	if ch := changesSince(t, s, got, 0); len(ch) != 2 {
		t.Errorf("change log after the move: %v, want a.ics and the tombstone of b.ics", ch)
	}
	for _, col := range []*store.Collection{theirs, book} {
		if g := getCollection(t, s, col); g.ID != col.ID {
			t.Errorf("%s of another owner or kind changed", col.Name)
		}
	}

	// Onto an existing collection: 412 without Overwrite, replaced with it.
	dst := newCollection(t, s, u.ID, store.KindCalendar, "dst")
	putEvent(t, s, dst.ID, "x.ics", "uid-x")
	_, err = s.MoveCollection(ctx, u.ID, c.ID, "dst", store.MoveCollectionOptions{})
	wantErr(t, "MoveCollection onto an existing name", err, store.ErrPreconditionFailed)
	if g := getCollection(t, s, got); g.ModSeq != got.ModSeq {
		t.Errorf("a refused move changed ModSeq from %d to %d", got.ModSeq, g.ModSeq)
	}
	created, err = s.MoveCollection(ctx, u.ID, c.ID, "dst", store.MoveCollectionOptions{Overwrite: true})
	if err != nil || created {
		t.Fatalf("MoveCollection with Overwrite = %v, %v; want replaced", created, err)
	}
	if g, err := s.GetCollection(ctx, u.ID, store.KindCalendar, "dst"); err != nil || g.ID != c.ID {
		t.Fatalf("dst after the overwrite: %+v, %v", g, err)
	}
	_, err = s.GetObject(ctx, dst.ID, "x.ics")
	wantErr(t, "GetObject of the replaced collection", err, store.ErrNotFound)
	// Another owner cannot move it, nor can a missing one be moved.
	_, err = s.MoveCollection(ctx, other.ID, c.ID, "stolen", store.MoveCollectionOptions{})
	wantErr(t, "MoveCollection by another owner", err, store.ErrNotFound)
}

// testCollectionUpdatedByMembers: a write to a member is a change of the
// collection, so its Updated (DAV:getlastmodified) moves with each put,
// move and delete, never backwards.
func testCollectionUpdatedByMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, c := newCalendar(t, s)
	other := newCollection(t, s, u.ID, store.KindCalendar, "other")
	last := getCollection(t, s, c).Updated
	step := func(what string, cols ...*store.Collection) {
		t.Helper()
		for _, col := range cols {
			got := getCollection(t, s, col).Updated
			if !got.After(last) {
				t.Errorf("after %s, %s Updated %v, not after %v", what, col.Name, got, last)
			}
		}
		last = getCollection(t, s, c).Updated
	}
	time.Sleep(5 * time.Millisecond)
	o := putEvent(t, s, c.ID, "a.ics", "uid-a")
	if got := getCollection(t, s, c).Updated; got.Before(o.Updated) {
		t.Errorf("collection Updated %v before its new member's %v", got, o.Updated)
	}
	step("a put", c)
	time.Sleep(5 * time.Millisecond)
	if _, err := s.MoveObject(ctx, c.ID, "a.ics", other.ID, "a.ics", store.MoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	step("a move out", c, other)
	time.Sleep(5 * time.Millisecond)
	putEvent(t, s, c.ID, "b.ics", "uid-b")
	step("a second put", c)
	time.Sleep(5 * time.Millisecond)
	wantErr(t, "DeleteObject", s.DeleteObject(ctx, c.ID, "b.ics", store.DeleteObjectOptions{}), nil)
	step("a delete", c)
}

func ptr[T any](v T) *T { return &v }

func checkCollection(t *testing.T, got, want *store.Collection) {
	t.Helper()
	orderEq := (got.Order == nil) == (want.Order == nil) && (got.Order == nil || *got.Order == *want.Order)
	if got.ID != want.ID || got.OwnerID != want.OwnerID || got.Kind != want.Kind || got.Name != want.Name ||
		got.DisplayName != want.DisplayName || got.Description != want.Description || got.Color != want.Color ||
		got.ColorSymbolic != want.ColorSymbolic || !orderEq || got.Timezone != want.Timezone ||
		!equalStrings(got.Components, want.Components) || got.ModSeq != want.ModSeq ||
		got.PrunedModSeq != want.PrunedModSeq || !got.Created.Equal(want.Created) {
		t.Errorf("collection = %+v (order %v),\n\twant %+v (order %v)", *got, deref(got.Order), *want, deref(want.Order))
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func testCollectionCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "owner")
	before := time.Now()
	tz := "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n"
	c := &store.Collection{
		OwnerID: u.ID, Kind: store.KindCalendar, Name: "Work Ä", DisplayName: "Wörk 📅",
		Description: "the job", Color: "#FF2968FF", ColorSymbolic: "red", Order: ptr(-3),
		Timezone: tz, Components: []string{"VEVENT", "VTODO", "VJOURNAL"},
	}
	if err := s.CreateCollection(ctx, c); err != nil {
		t.Fatalf("CreateCollection: %v", err)
	}
	if c.ID == 0 || c.Created.IsZero() || c.Updated.IsZero() {
		t.Fatalf("CreateCollection did not set ID, Created and Updated: %+v", c)
	}
	if c.Created.Before(before.Add(-time.Minute)) {
		t.Errorf("Created = %v, want about %v", c.Created, before)
	}
	if c.ModSeq != 0 || c.PrunedModSeq != 0 {
		t.Errorf("new collection ModSeq %d, PrunedModSeq %d; want 0, 0", c.ModSeq, c.PrunedModSeq)
	}
	checkCollection(t, getCollection(t, s, c), c)

	ab := &store.Collection{OwnerID: u.ID, Kind: store.KindAddressBook, Name: "contacts"}
	if err := s.CreateCollection(ctx, ab); err != nil {
		t.Fatalf("CreateCollection(address book): %v", err)
	}
	got := getCollection(t, s, ab)
	if got.Order != nil || len(got.Components) != 0 {
		t.Errorf("address book: Order %v, Components %q; want nil and none", deref(got.Order), got.Components)
	}
	ab.Components = got.Components // nil and empty are both fine
	checkCollection(t, got, ab)

	cals, err := s.ListCollections(ctx, u.ID, store.KindCalendar)
	if err != nil || len(cals) != 1 {
		t.Fatalf("ListCollections(calendar) = %v, %v; want one", cals, err)
	}
	checkCollection(t, &cals[0], c)
	abs, err := s.ListCollections(ctx, u.ID, store.KindAddressBook)
	if err != nil || len(abs) != 1 || abs[0].ID != ab.ID {
		t.Fatalf("ListCollections(addressbook) = %v, %v; want only %d", abs, err, ab.ID)
	}
	_, err = s.GetCollection(ctx, u.ID, store.KindAddressBook, "Work Ä")
	wantErr(t, "GetCollection with the wrong kind", err, store.ErrNotFound)
}

func testCollectionUniqueNames(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newUser(t, s, "a")
	b := newUser(t, s, "b")
	newCollection(t, s, a.ID, store.KindCalendar, "home")
	err := s.CreateCollection(ctx, &store.Collection{OwnerID: a.ID, Kind: store.KindCalendar, Name: "home"})
	wantErr(t, "duplicate calendar", err, store.ErrConflict)

	// The same name is fine for another kind, another owner, or another
	// case (names are URL segments and compare exactly).
	newCollection(t, s, a.ID, store.KindAddressBook, "home")
	newCollection(t, s, b.ID, store.KindCalendar, "home")
	newCollection(t, s, a.ID, store.KindCalendar, "Home")

	cals, err := s.ListCollections(ctx, a.ID, store.KindCalendar)
	if err != nil {
		t.Fatalf("ListCollections: %v", err)
	}
	var got []string
	for _, c := range cals {
		got = append(got, c.Name)
	}
	slices.Sort(got)
	if want := []string{"Home", "home"}; !equalStrings(got, want) {
		t.Errorf("calendars = %q, want %q", got, want)
	}
}

func testCollectionUnknownOwner(t *testing.T, s store.Store) {
	u := newUser(t, s, "someone")
	err := s.CreateCollection(t.Context(), &store.Collection{OwnerID: u.ID + 1000, Kind: store.KindCalendar, Name: "x"})
	wantErr(t, "CreateCollection for a missing owner", err, store.ErrNotFound)
}

func testCollectionOwnerScoping(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newUser(t, s, "alice")
	b := newUser(t, s, "mallory")
	c := newCollection(t, s, a.ID, store.KindCalendar, "private")
	c = getCollection(t, s, c)

	_, err := s.GetCollection(ctx, b.ID, store.KindCalendar, "private")
	wantErr(t, "GetCollection by another user", err, store.ErrNotFound)
	err = s.UpdateCollection(ctx, b.ID, c.ID, store.CollectionPatch{
		DisplayName: ptr("pwned"),
		DeadProps:   []store.DeadProp{{Namespace: "urn:x", Name: "evil", XML: `<evil xmlns="urn:x"/>`}},
	})
	wantErr(t, "UpdateCollection by another user", err, store.ErrNotFound)
	err = s.DeleteCollection(ctx, b.ID, c.ID)
	wantErr(t, "DeleteCollection by another user", err, store.ErrNotFound)
	if cs, err := s.ListCollections(ctx, b.ID, store.KindCalendar); err != nil || len(cs) != 0 {
		t.Errorf("ListCollections(other user) = %v, %v; want none", cs, err)
	}

	checkCollection(t, getCollection(t, s, c), c)
	if props, _ := s.ListDeadProps(ctx, c.ID); len(props) != 0 {
		t.Errorf("dead properties written by another user's update: %v", props)
	}
}

func testCollectionUpdatePatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "patcher")
	c := getCollection(t, s, newCollection(t, s, u.ID, store.KindCalendar, "cal"))
	update := func(p store.CollectionPatch) *store.Collection {
		t.Helper()
		if err := s.UpdateCollection(ctx, u.ID, c.ID, p); err != nil {
			t.Fatalf("UpdateCollection: %v", err)
		}
		got := getCollection(t, s, c)
		if got.Updated.Before(c.Updated) {
			t.Errorf("Updated went back from %v to %v", c.Updated, got.Updated)
		}
		return got
	}

	tz := "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n"
	got := update(store.CollectionPatch{
		DisplayName: ptr("Renamed"), Description: ptr("desc"), Color: ptr("#112233FF"),
		ColorSymbolic: ptr("blue"), Order: ptr(ptr(7)), Timezone: ptr(tz),
	})
	want := *c
	want.DisplayName, want.Description, want.Color, want.ColorSymbolic = "Renamed", "desc", "#112233FF", "blue"
	want.Order, want.Timezone = ptr(7), tz
	checkCollection(t, got, &want)

	// Only the named fields change.
	got = update(store.CollectionPatch{Description: ptr("")})
	want.Description = ""
	checkCollection(t, got, &want)

	// Order: the outer pointer selects the field, a nil inner one clears it.
	got = update(store.CollectionPatch{Order: ptr((*int)(nil))})
	want.Order = nil
	checkCollection(t, got, &want)
	got = update(store.CollectionPatch{Order: ptr(ptr(0))})
	want.Order = ptr(0)
	checkCollection(t, got, &want)
	got = update(store.CollectionPatch{DisplayName: ptr("again")})
	want.DisplayName = "again"
	checkCollection(t, got, &want)

	// Property changes are not member changes.
	if got.ModSeq != c.ModSeq {
		t.Errorf("ModSeq changed from %d to %d by a property update", c.ModSeq, got.ModSeq)
	}

	err := s.UpdateCollection(ctx, u.ID, c.ID+1000, store.CollectionPatch{DisplayName: ptr("x")})
	wantErr(t, "UpdateCollection(unknown)", err, store.ErrNotFound)
}

func testCollectionUpdateAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "atomic")
	c := getCollection(t, s, newCollection(t, s, u.ID, store.KindCalendar, "cal"))
	old := store.DeadProp{Namespace: "urn:x", Name: "old", XML: `<old xmlns="urn:x">1</old>`}
	if err := s.UpdateCollection(ctx, u.ID, c.ID, store.CollectionPatch{DeadProps: []store.DeadProp{old}}); err != nil {
		t.Fatalf("UpdateCollection: %v", err)
	}

	// The invalid dead property comes last: everything before it must be
	// rolled back.
	err := s.UpdateCollection(ctx, u.ID, c.ID, store.CollectionPatch{
		DisplayName: ptr("changed"),
		Order:       ptr(ptr(3)),
		DeadProps: []store.DeadProp{
			{Namespace: "urn:x", Name: "new", XML: `<new xmlns="urn:x"/>`},
			{Namespace: "urn:x", Name: "old"},
			{Namespace: "urn:x", Name: "", XML: `<x/>`},
		},
	})
	if err == nil {
		t.Fatal("UpdateCollection with a nameless dead property succeeded")
	}
	checkCollection(t, getCollection(t, s, c), c)
	props, err := s.ListDeadProps(ctx, c.ID)
	if err != nil {
		t.Fatalf("ListDeadProps: %v", err)
	}
	if len(props) != 1 || props[0] != old {
		t.Errorf("dead properties after a failed patch = %+v, want only %+v", props, old)
	}
}

func testCollectionDeadProps(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "props")
	c := newCollection(t, s, u.ID, store.KindCalendar, "cal")
	other := newCollection(t, s, u.ID, store.KindAddressBook, "book")
	set := func(c *store.Collection, props ...store.DeadProp) {
		t.Helper()
		if err := s.UpdateCollection(ctx, u.ID, c.ID, store.CollectionPatch{DeadProps: props}); err != nil {
			t.Fatalf("UpdateCollection: %v", err)
		}
	}
	check := func(c *store.Collection, want map[[2]string]string) {
		t.Helper()
		got, err := s.ListDeadProps(ctx, c.ID)
		if err != nil {
			t.Fatalf("ListDeadProps: %v", err)
		}
		var keys [][2]string
		for k := range want {
			keys = append(keys, k)
		}
		// Ordered by namespace, then name, comparing bytes.
		slices.SortFunc(keys, func(a, b [2]string) int {
			if c := strings.Compare(a[0], b[0]); c != 0 {
				return c
			}
			return strings.Compare(a[1], b[1])
		})
		if len(got) != len(keys) {
			t.Fatalf("ListDeadProps = %+v, want %d properties %v", got, len(keys), keys)
		}
		for i, k := range keys {
			if got[i].Namespace != k[0] || got[i].Name != k[1] || got[i].XML != want[k] {
				t.Errorf("property %d = %+v, want {%q %q %q}", i, got[i], k[0], k[1], want[k])
			}
		}
	}

	props := []store.DeadProp{
		{Namespace: "http://apple.com/ns/ical/", Name: "calendar-order", XML: `<calendar-order xmlns="http://apple.com/ns/ical/">2</calendar-order>`},
		{Namespace: "DAV:", Name: "group", XML: `<D:group xmlns:D="DAV:"><D:href>/p/</D:href></D:group>`},
		{Namespace: "urn:x-example:ÿ", Name: "Zebra", XML: "<X:Zebra xmlns:X=\"urn:x-example:ÿ\"  a='1'>\n  ü &amp; <b/>\t</X:Zebra>"},
		{Namespace: "urn:x-example:ÿ", Name: "apple", XML: `<X:apple xmlns:X="urn:x-example:ÿ"/>`},
		{Namespace: "", Name: "bare", XML: `<bare xmlns="">text</bare>`},
	}
	set(c, props...)
	want := map[[2]string]string{}
	for _, p := range props {
		want[[2]string{p.Namespace, p.Name}] = p.XML
	}
	check(c, want)
	check(other, nil)

	// Setting replaces, an empty XML removes, removing a missing one is
	// nothing.
	set(c,
		store.DeadProp{Namespace: "DAV:", Name: "group", XML: `<D:group xmlns:D="DAV:"/>`},
		store.DeadProp{Namespace: "urn:x-example:ÿ", Name: "apple"},
		store.DeadProp{Namespace: "urn:none", Name: "missing"},
	)
	want[[2]string{"DAV:", "group"}] = `<D:group xmlns:D="DAV:"/>`
	delete(want, [2]string{"urn:x-example:ÿ", "apple"})
	check(c, want)
	check(other, nil)
}

func testCollectionDeleteCascade(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "deleter")
	c := newCollection(t, s, u.ID, store.KindCalendar, "doomed")
	keep := newCollection(t, s, u.ID, store.KindCalendar, "kept")
	putEvent(t, s, c.ID, "a.ics", "a")
	putEvent(t, s, c.ID, "b.ics", "b")
	if err := s.DeleteObject(ctx, c.ID, "b.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	if err := s.UpdateCollection(ctx, u.ID, c.ID, store.CollectionPatch{
		DeadProps: []store.DeadProp{{Namespace: "urn:x", Name: "p", XML: `<p xmlns="urn:x"/>`}},
	}); err != nil {
		t.Fatalf("UpdateCollection: %v", err)
	}
	kept := putEvent(t, s, keep.ID, "a.ics", "a")

	if err := s.DeleteCollection(ctx, u.ID, c.ID); err != nil {
		t.Fatalf("DeleteCollection: %v", err)
	}
	_, err := s.GetCollection(ctx, u.ID, store.KindCalendar, "doomed")
	wantErr(t, "GetCollection after delete", err, store.ErrNotFound)
	_, err = s.GetObject(ctx, c.ID, "a.ics")
	wantErr(t, "GetObject after delete", err, store.ErrNotFound)
	if objs, err := s.ListObjects(ctx, c.ID, store.ListObjectsOptions{}); err != nil || len(objs) != 0 {
		t.Errorf("ListObjects after delete = %v, %v; want none", names(objs), err)
	}
	if props, err := s.ListDeadProps(ctx, c.ID); err != nil || len(props) != 0 {
		t.Errorf("ListDeadProps after delete = %v, %v", props, err)
	}
	_, err = s.ListChangesSince(ctx, c.ID, 0, 0, false)
	wantErr(t, "ListChangesSince after delete", err, store.ErrNotFound)
	_, err = s.PutObject(ctx, event(c.ID, "c.ics", "c", "c"), store.PutObjectOptions{})
	wantErr(t, "PutObject into a deleted collection", err, store.ErrNotFound)
	if n, err := s.UsedBytes(ctx, u.ID); err != nil || n != int64(len(kept.Body)) {
		t.Errorf("UsedBytes = %d, %v; want %d", n, err, len(kept.Body))
	}
	got, err := s.GetObject(ctx, keep.ID, "a.ics")
	if err != nil {
		t.Fatalf("object of the other collection: %v", err)
	}
	checkObject(t, got, kept, true)
	err = s.DeleteCollection(ctx, u.ID, c.ID)
	wantErr(t, "DeleteCollection twice", err, store.ErrNotFound)

	// The name can be used again, from scratch.
	again := newCollection(t, s, u.ID, store.KindCalendar, "doomed")
	if again.ModSeq != 0 {
		t.Errorf("re-created collection ModSeq = %d, want 0", again.ModSeq)
	}
	ch, err := s.ListChangesSince(ctx, again.ID, 0, 0, false)
	if err != nil || len(ch.Changes) != 0 {
		t.Errorf("re-created collection changes = %+v, %v; want none", ch, err)
	}
}
