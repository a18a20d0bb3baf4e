package storetest

import (
	"errors"
	"strconv"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

var moveTests = []test{
	{"within_collection", testMoveWithin},
	{"overwrite", testMoveOverwrite},
	{"across_collections", testMoveAcross},
	{"uid_conflict", testMoveUIDConflict},
	{"preconditions", testMovePreconditions},
	{"onto_tombstone", testMoveOntoTombstone},
}

// changesSince returns the change log after modseq, all of it.
func changesSince(t *testing.T, s store.Store, c *store.Collection, modseq int64) []store.Change {
	t.Helper()
	ch, err := s.ListChangesSince(t.Context(), c.ID, modseq, 0, false)
	if err != nil {
		t.Fatalf("ListChangesSince(%d): %v", modseq, err)
	}
	if ch.Truncated {
		t.Fatalf("ListChangesSince without limit truncated")
	}
	return ch.Changes
}

// checkChanges compares a change log's names, modseqs and deletion flags.
func checkChanges(t *testing.T, what string, got []store.Change, want ...store.Change) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		g, w := got[i], want[i]
		ok = g.Name == w.Name && g.ModSeq == w.ModSeq && g.Deleted == w.Deleted && (g.Object == nil) == g.Deleted
	}
	if !ok {
		t.Errorf("%s: changes =%s\n\twant%s", what, fmtChanges(got), fmtChanges(want))
	}
}

func fmtChanges(cs []store.Change) string {
	out := ""
	for _, c := range cs {
		state := "live"
		if c.Deleted {
			state = "deleted"
		}
		if c.Object == nil && !c.Deleted {
			state = "live without Object"
		}
		out += "\n\t\t" + c.Name + " @" + strconv.FormatInt(c.ModSeq, 10) + " " + state
	}
	if out == "" {
		return " none"
	}
	return out
}

func testMoveWithin(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	src := putEvent(t, s, cal.ID, "old name.ics", "uid-1")
	before := modSeq(t, s, cal)

	created, err := s.MoveObject(ctx, cal.ID, "old name.ics", cal.ID, "Neuer Name ü.ics", store.MoveObjectOptions{})
	if err != nil {
		t.Fatalf("MoveObject: %v", err)
	}
	if !created {
		t.Error("move to a new name reported created = false")
	}
	_, err = s.GetObject(ctx, cal.ID, "old name.ics")
	wantErr(t, "GetObject(source) after move", err, store.ErrNotFound)
	got, err := s.GetObject(ctx, cal.ID, "Neuer Name ü.ics")
	if err != nil {
		t.Fatalf("GetObject(destination): %v", err)
	}
	want := *src
	want.ID, want.Name, want.ModSeq = got.ID, "Neuer Name ü.ics", before+2
	checkObject(t, got, &want, true)

	// Two names changed, so two modseqs: the tombstone first, then the
	// new name.
	if m := modSeq(t, s, cal); m != before+2 {
		t.Errorf("ModSeq = %d after a move within the collection, want %d", m, before+2)
	}
	checkChanges(t, "after move", changesSince(t, s, cal, before),
		store.Change{Name: "old name.ics", ModSeq: before + 1, Deleted: true},
		store.Change{Name: "Neuer Name ü.ics", ModSeq: before + 2})
	// A client that synced between the two stamps still converges.
	checkChanges(t, "after the tombstone", changesSince(t, s, cal, before+1),
		store.Change{Name: "Neuer Name ü.ics", ModSeq: before + 2})
}

func testMoveOverwrite(t *testing.T, s store.Store) {
	ctx := t.Context()
	// An overwrite keeps the destination's UID (RFC 4791 §5.3.2.1), so the
	// object replaced is the same event in another calendar; a UID is
	// unique within one, so an overwrite never stays inside a collection.
	u, cal := newCalendar(t, s)
	to := newCollection(t, s, u.ID, store.KindCalendar, "target")
	src := putEvent(t, s, cal.ID, "src.ics", "uid-src")
	dst := event(to.ID, "dst.ics", "uid-src", "older copy")
	put(t, s, dst)
	before, toBefore := modSeq(t, s, cal), modSeq(t, s, to)

	// RFC 4918 §9.9.3: Overwrite: F and an existing destination → 412.
	_, err := s.MoveObject(ctx, cal.ID, "src.ics", to.ID, "dst.ics", store.MoveObjectOptions{})
	wantErr(t, "MoveObject onto an existing name without Overwrite", err, store.ErrPreconditionFailed)
	if m := modSeq(t, s, cal); m != before {
		t.Errorf("refused move moved ModSeq from %d to %d", before, m)
	}
	if got, err := s.GetObject(ctx, to.ID, "dst.ics"); err != nil {
		t.Fatalf("GetObject(dst): %v", err)
	} else {
		checkObject(t, got, dst, true)
	}
	if _, err := s.GetObject(ctx, cal.ID, "src.ics"); err != nil {
		t.Fatalf("source gone after a refused move: %v", err)
	}

	created, err := s.MoveObject(ctx, cal.ID, "src.ics", to.ID, "dst.ics", store.MoveObjectOptions{Overwrite: true})
	if err != nil {
		t.Fatalf("MoveObject with Overwrite: %v", err)
	}
	if created {
		t.Error("move onto an existing name reported created = true")
	}
	got, err := s.GetObject(ctx, to.ID, "dst.ics")
	if err != nil {
		t.Fatalf("GetObject(dst): %v", err)
	}
	want := *src
	want.ID, want.CollectionID, want.Name, want.ModSeq = got.ID, to.ID, "dst.ics", toBefore+1
	checkObject(t, got, &want, true)
	checkChanges(t, "source after overwrite", changesSince(t, s, cal, before),
		store.Change{Name: "src.ics", ModSeq: before + 1, Deleted: true})
	checkChanges(t, "destination after overwrite", changesSince(t, s, to, toBefore),
		store.Change{Name: "dst.ics", ModSeq: toBefore + 1})
	// The UID left the source calendar with the object.
	putEvent(t, s, cal.ID, "new.ics", "uid-src")
}

func testMoveAcross(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, from := newCalendar(t, s)
	to := newCollection(t, s, u.ID, store.KindCalendar, "target")
	src := putEvent(t, s, from.ID, "e.ics", "uid-e")
	putEvent(t, s, to.ID, "other.ics", "uid-other")
	fromBefore, toBefore := modSeq(t, s, from), modSeq(t, s, to)

	created, err := s.MoveObject(ctx, from.ID, "e.ics", to.ID, "e.ics", store.MoveObjectOptions{IfMatch: src.ETag})
	if err != nil {
		t.Fatalf("MoveObject: %v", err)
	}
	if !created {
		t.Error("move to a new name reported created = false")
	}
	_, err = s.GetObject(ctx, from.ID, "e.ics")
	wantErr(t, "GetObject(source)", err, store.ErrNotFound)
	got, err := s.GetObject(ctx, to.ID, "e.ics")
	if err != nil {
		t.Fatalf("GetObject(destination): %v", err)
	}
	want := *src
	want.ID, want.CollectionID, want.ModSeq = got.ID, to.ID, toBefore+1
	checkObject(t, got, &want, true)
	if m := modSeq(t, s, from); m != fromBefore+1 {
		t.Errorf("source ModSeq = %d, want %d", m, fromBefore+1)
	}
	if m := modSeq(t, s, to); m != toBefore+1 {
		t.Errorf("destination ModSeq = %d, want %d", m, toBefore+1)
	}
	checkChanges(t, "source", changesSince(t, s, from, fromBefore),
		store.Change{Name: "e.ics", ModSeq: fromBefore + 1, Deleted: true})
	checkChanges(t, "destination", changesSince(t, s, to, toBefore),
		store.Change{Name: "e.ics", ModSeq: toBefore + 1})

	// The UID left the source collection with the object.
	putEvent(t, s, from.ID, "again.ics", "uid-e")

	// Overwriting an object that has the same UID (the same event) works.
	putEvent(t, s, to.ID, "dup.ics", "uid-dup")
	putEvent(t, s, from.ID, "dup.ics", "uid-dup2")
	dup := event(from.ID, "dup2.ics", "uid-dup", "dup")
	put(t, s, dup)
	created, err = s.MoveObject(ctx, from.ID, "dup2.ics", to.ID, "dup.ics", store.MoveObjectOptions{Overwrite: true})
	if err != nil || created {
		t.Fatalf("MoveObject onto the same UID with Overwrite = %v, %v; want false, nil", created, err)
	}
}

func testMoveUIDConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, from := newCalendar(t, s)
	to := newCollection(t, s, u.ID, store.KindCalendar, "target")
	src := putEvent(t, s, from.ID, "e.ics", "uid-e")
	putEvent(t, s, to.ID, "holder.ics", "uid-e")
	putEvent(t, s, to.ID, "dst.ics", "uid-dst")
	fromBefore, toBefore := modSeq(t, s, from), modSeq(t, s, to)

	for _, opts := range []store.MoveObjectOptions{{}, {Overwrite: true}} {
		dest := "new.ics"
		if opts.Overwrite {
			dest = "dst.ics"
		}
		_, err := s.MoveObject(ctx, from.ID, "e.ics", to.ID, dest, opts)
		var uc *store.UIDConflictError
		if !errors.Is(err, store.ErrConflict) || !errors.As(err, &uc) {
			t.Fatalf("MoveObject to %s with the UID held there: %v, want *UIDConflictError", dest, err)
		}
		if uc.UID != "uid-e" || uc.Name != "holder.ics" {
			t.Errorf("UIDConflictError{%q, %q}, want uid-e held by holder.ics", uc.UID, uc.Name)
		}
	}
	// Nothing happened anywhere.
	if got, err := s.GetObject(ctx, from.ID, "e.ics"); err != nil {
		t.Fatalf("source gone after a refused move: %v", err)
	} else {
		checkObject(t, got, src, true)
	}
	if _, err := s.GetObject(ctx, to.ID, "dst.ics"); err != nil {
		t.Fatalf("overwritten destination gone after a refused move: %v", err)
	}
	if m := modSeq(t, s, from); m != fromBefore {
		t.Errorf("source ModSeq moved from %d to %d", fromBefore, m)
	}
	if m := modSeq(t, s, to); m != toBefore {
		t.Errorf("destination ModSeq moved from %d to %d", toBefore, m)
	}
}

func testMovePreconditions(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	to := newCollection(t, s, u.ID, store.KindCalendar, "target")
	src := putEvent(t, s, cal.ID, "src.ics", "uid-src")
	before, toBefore := modSeq(t, s, cal), modSeq(t, s, to)

	_, err := s.MoveObject(ctx, cal.ID, "src.ics", to.ID, "x.ics", store.MoveObjectOptions{IfMatch: "stale"})
	wantErr(t, "MoveObject with a stale If-Match", err, store.ErrPreconditionFailed)
	_, err = s.MoveObject(ctx, cal.ID, "missing.ics", to.ID, "x.ics", store.MoveObjectOptions{})
	wantErr(t, "MoveObject(missing)", err, store.ErrNotFound)
	_, err = s.MoveObject(ctx, cal.ID, "missing.ics", to.ID, "x.ics", store.MoveObjectOptions{IfMatch: src.ETag})
	wantErr(t, "MoveObject(missing) with If-Match", err, store.ErrPreconditionFailed)
	_, err = s.MoveObject(ctx, cal.ID, "src.ics", to.ID+1000, "x.ics", store.MoveObjectOptions{})
	wantErr(t, "MoveObject to a missing collection", err, store.ErrNotFound)
	if m := modSeq(t, s, cal); m != before {
		t.Errorf("refused moves moved the source ModSeq from %d to %d", before, m)
	}
	if m := modSeq(t, s, to); m != toBefore {
		t.Errorf("refused moves moved the destination ModSeq from %d to %d", toBefore, m)
	}
	if got, err := s.GetObject(ctx, cal.ID, "src.ics"); err != nil {
		t.Fatalf("source gone after refused moves: %v", err)
	} else {
		checkObject(t, got, src, true)
	}
	if created, err := s.MoveObject(ctx, cal.ID, "src.ics", to.ID, "x.ics", store.MoveObjectOptions{IfMatch: src.ETag}); err != nil || !created {
		t.Fatalf("MoveObject with a matching If-Match = %v, %v", created, err)
	}
}

func testMoveOntoTombstone(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	putEvent(t, s, cal.ID, "a.ics", "uid-a")
	putEvent(t, s, cal.ID, "b.ics", "uid-b")
	if err := s.DeleteObject(ctx, cal.ID, "b.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	if _, err := s.MoveObject(ctx, cal.ID, "a.ics", cal.ID, "b.ics", store.MoveObjectOptions{}); err != nil {
		t.Fatalf("MoveObject onto a deleted name: %v", err)
	}
	// b.ics is live once, a.ics deleted once; the old b.ics tombstone is
	// gone.
	checkChanges(t, "since 0", changesSince(t, s, cal, 0),
		store.Change{Name: "a.ics", ModSeq: 4, Deleted: true},
		store.Change{Name: "b.ics", ModSeq: 5})
}
