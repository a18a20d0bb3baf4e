package storetest

import (
	"maps"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// Derived collections (the Birthdays calendar): a collection of their kind,
// and the cursors that say how far each source's change log is applied.
var derivedTests = []test{
	{"BirthdaysKind", testBirthdaysKind},
	{"DerivedCursors", testDerivedCursors},
}

func testBirthdaysKind(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := &store.User{Username: "bday", PasswordHash: testHash}
	cols := []store.Collection{{Kind: store.KindBirthdays, Name: "contact_birthdays", Components: []string{"VEVENT"}}}
	if err := s.CreateUser(ctx, u, cols); err != nil {
		t.Fatalf("CreateUser with a birthdays calendar: %v", err)
	}
	list, err := s.ListCollections(ctx, u.ID, store.KindBirthdays)
	if err != nil || len(list) != 1 || list[0].Kind != store.KindBirthdays {
		t.Fatalf("ListCollections(birthdays) = %v, %v; want one", list, err)
	}
	if cals, err := s.ListCollections(ctx, u.ID, store.KindCalendar); err != nil || len(cals) != 0 {
		t.Errorf("ListCollections(calendar) = %v, %v; the birthdays calendar is not among them", cals, err)
	}
	putEvent(t, s, list[0].ID, "b.ics", "b")
}

func testDerivedCursors(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, c := newCalendar(t, s)
	got, err := s.ListDerivedCursors(ctx, c.ID)
	if err != nil || len(got) != 0 {
		t.Fatalf("ListDerivedCursors on a new collection = %v, %v", got, err)
	}
	for _, step := range []struct{ src, modseq int64 }{{7, 3}, {9, 1}, {7, 5}} {
		if err := s.SetDerivedCursor(ctx, c.ID, step.src, step.modseq); err != nil {
			t.Fatalf("SetDerivedCursor(%d, %d): %v", step.src, step.modseq, err)
		}
	}
	if got, err = s.ListDerivedCursors(ctx, c.ID); err != nil || !maps.Equal(got, map[int64]int64{7: 5, 9: 1}) {
		t.Errorf("ListDerivedCursors = %v, %v; want 7→5, 9→1", got, err)
	}
	if err := s.DeleteDerivedCursor(ctx, c.ID, 9); err != nil {
		t.Fatal(err)
	}
	if got, err = s.ListDerivedCursors(ctx, c.ID); err != nil || !maps.Equal(got, map[int64]int64{7: 5}) {
		t.Errorf("after DeleteDerivedCursor: %v, %v; want 7→5", got, err)
	}
	// They go with their collection.
	if err := s.DeleteCollection(ctx, c.OwnerID, c.ID); err != nil {
		t.Fatal(err)
	}
	if got, err = s.ListDerivedCursors(ctx, c.ID); err != nil || len(got) != 0 {
		t.Errorf("after DeleteCollection: %v, %v", got, err)
	}
}
