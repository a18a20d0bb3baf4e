package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

var integrityTests = []test{
	{"clean_after_every_kind_of_write", testIntegrityClean},
}

// testIntegrityClean: after creations, updates, deletions (tombstones),
// re-creations, moves between collections and a deleted collection, the
// store's own invariants hold: CheckIntegrity finds nothing. Each backend's
// tests break an invariant by hand and check that it is found.
func testIntegrityClean(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	other := newCollection(t, s, u.ID, store.KindCalendar, "other")
	gone := newCollection(t, s, u.ID, store.KindCalendar, "gone")
	for i := range 6 {
		putEvent(t, s, cal.ID, fmt.Sprintf("e%d.ics", i), fmt.Sprintf("uid-e%d", i))
		putEvent(t, s, gone.ID, fmt.Sprintf("g%d.ics", i), fmt.Sprintf("uid-g%d", i))
	}
	put(t, s, event(cal.ID, "e1.ics", "uid-e1", "a longer summary than before, so the size changes"))
	if err := s.DeleteObject(ctx, cal.ID, "e2.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	if err := s.DeleteObject(ctx, cal.ID, "e3.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	putEvent(t, s, cal.ID, "e3.ics", "uid-e3") // re-created: its tombstone goes
	if _, err := s.MoveObject(ctx, cal.ID, "e4.ics", other.ID, "moved.ics", store.MoveObjectOptions{}); err != nil {
		t.Fatalf("MoveObject: %v", err)
	}
	if err := s.DeleteCollection(ctx, u.ID, gone.ID); err != nil {
		t.Fatalf("DeleteCollection: %v", err)
	}
	problems, err := s.CheckIntegrity(ctx)
	if err != nil {
		t.Fatalf("CheckIntegrity: %v", err)
	}
	for _, p := range problems {
		t.Errorf("CheckIntegrity: %s", p)
	}
}

// CheckDamage is for each backend's own tests: it stores a calendar with
// a.ics and b.ics live and c.ics deleted, calls damage with the calendar's
// id to break invariants by hand (with the backend's SQL, behind the
// store's back), and checks that CheckIntegrity reports a line containing
// each of want, and that it found nothing before the damage.
func CheckDamage(t *testing.T, s store.Store, damage func(collectionID int64), want []string) {
	t.Helper()
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	for _, n := range []string{"a", "b", "c"} {
		putEvent(t, s, cal.ID, n+".ics", "uid-"+n)
	}
	if err := s.DeleteObject(ctx, cal.ID, "c.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	if problems, err := s.CheckIntegrity(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("CheckIntegrity before the damage = %q, %v", problems, err)
	}
	damage(cal.ID)
	problems, err := s.CheckIntegrity(ctx)
	if err != nil {
		t.Fatalf("CheckIntegrity: %v", err)
	}
	for _, w := range want {
		found := false
		for _, p := range problems {
			found = found || strings.Contains(p, w)
		}
		if !found {
			t.Errorf("CheckIntegrity did not report %q; it said %q", w, problems)
		}
	}
}
