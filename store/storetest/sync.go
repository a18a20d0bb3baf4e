package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

var syncTests = []test{
	{"modseq_stamps", testSyncModSeqStamps},
	{"changes_since", testSyncChangesSince},
	{"changes_paging", testSyncChangesPaging},
	{"prune_tombstones", testSyncPruneTombstones},
	{"full_listing_under_writes", testSyncFullListingUnderWrites},
}

// history is a model of a collection's change log: the last stamp of each
// name, kept up to date by the operations that run through it.
type history struct {
	t      *testing.T
	s      store.Store
	c      *store.Collection
	modseq int64
	last   map[string]store.Change
	live   map[string]*store.Object
}

func newHistory(t *testing.T, s store.Store, c *store.Collection) *history {
	return &history{t: t, s: s, c: c, last: map[string]store.Change{}, live: map[string]*store.Object{}}
}

// stamp records that name was changed by the next modseq, and checks that
// the collection's modseq moved by exactly one.
func (h *history) stamp(name string, deleted bool) {
	h.t.Helper()
	h.modseq++
	h.last[name] = store.Change{Name: name, ModSeq: h.modseq, Deleted: deleted}
	if deleted {
		delete(h.live, name)
	}
}

func (h *history) check(what string) {
	h.t.Helper()
	if m := modSeq(h.t, h.s, h.c); m != h.modseq {
		h.t.Fatalf("after %s: collection ModSeq = %d, want %d", what, m, h.modseq)
	}
}

func (h *history) put(name, uid string) {
	h.t.Helper()
	o := event(h.c.ID, name, uid, fmt.Sprintf("%s version %d", name, h.modseq+1))
	put(h.t, h.s, o)
	h.stamp(name, false)
	if o.ModSeq != h.modseq {
		h.t.Fatalf("PutObject(%q) stamped %d, want %d", name, o.ModSeq, h.modseq)
	}
	h.live[name] = o
	h.check("put " + name)
}

func (h *history) delete(name string) {
	h.t.Helper()
	if err := h.s.DeleteObject(h.t.Context(), h.c.ID, name, store.DeleteObjectOptions{}); err != nil {
		h.t.Fatalf("DeleteObject(%q): %v", name, err)
	}
	h.stamp(name, true)
	h.check("delete " + name)
}

func (h *history) move(from, to string) {
	h.t.Helper()
	if _, err := h.s.MoveObject(h.t.Context(), h.c.ID, from, h.c.ID, to, store.MoveObjectOptions{Overwrite: true}); err != nil {
		h.t.Fatalf("MoveObject(%q → %q): %v", from, to, err)
	}
	o := h.live[from]
	h.stamp(from, true)
	h.stamp(to, false)
	moved := *o
	moved.Name, moved.ModSeq = to, h.modseq
	h.live[to] = &moved
	h.check("move " + from + " → " + to)
}

// since is the expected log after modseq, ordered by modseq.
func (h *history) since(modseq int64) []store.Change {
	var out []store.Change
	for _, c := range h.last {
		if c.ModSeq > modseq {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b store.Change) int { return int(a.ModSeq - b.ModSeq) })
	return out
}

// checkObjects compares the live entries' objects with what was written.
func (h *history) checkObjects(changes []store.Change, withBody bool) {
	h.t.Helper()
	for _, c := range changes {
		if c.Deleted {
			if c.Object != nil {
				h.t.Errorf("deleted %q carries an Object", c.Name)
			}
			continue
		}
		if c.Object == nil {
			h.t.Errorf("live %q has no Object", c.Name)
			continue
		}
		want := *h.live[c.Name]
		want.ID = c.Object.ID
		checkObject(h.t, c.Object, &want, withBody)
	}
}

// build runs a history with updates, deletes, re-creates and moves, so the
// log has names whose earlier stamps were superseded.
func (h *history) build() {
	for i := range 10 {
		h.put(fmt.Sprintf("n%d.ics", i), fmt.Sprintf("uid-%d", i))
	}
	h.put("n2.ics", "uid-2")
	h.put("n5.ics", "uid-5")
	h.delete("n3.ics")
	h.delete("n7.ics")
	h.move("n0.ics", "n10 moved.ics")
	h.put("n3.ics", "uid-3 again")
	h.delete("n9.ics")
	// An overwriting move within a collection would change the
	// destination's UID, which is refused (RFC 4791 §5.3.2.1); a move onto
	// a name just deleted supersedes its tombstone.
	h.delete("n2.ics")
	h.move("n1.ics", "n2.ics")
	h.put("n11.ics", "uid-11")
}

func testSyncModSeqStamps(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	h := newHistory(t, s, cal)
	h.build() // checks +1 per stamped name after every step

	// Failed writes stamp nothing.
	_, err := s.PutObject(ctx, event(cal.ID, "n2.ics", "uid-x", "x"), store.PutObjectOptions{IfNoneMatch: true})
	wantErr(t, "PutObject If-None-Match", err, store.ErrPreconditionFailed)
	// The move carried n1's UID to n2.ics.
	_, err = s.PutObject(ctx, event(cal.ID, "zz.ics", "uid-1", "x"), store.PutObjectOptions{})
	var uc *store.UIDConflictError
	if !errors.As(err, &uc) || uc.Name != "n2.ics" {
		t.Errorf("PutObject with uid-1: %v, want a UID conflict with n2.ics", err)
	}
	err = s.DeleteObject(ctx, cal.ID, "n9.ics", store.DeleteObjectOptions{})
	wantErr(t, "DeleteObject(deleted)", err, store.ErrNotFound)
	h.check("failed writes")

	// Every stamp in the log is unique and belongs to one name.
	all := changesSince(t, s, cal, 0)
	seen := map[string]bool{}
	for i, c := range all {
		if i > 0 && c.ModSeq <= all[i-1].ModSeq {
			t.Errorf("log not strictly increasing at %d: %d after %d", i, c.ModSeq, all[i-1].ModSeq)
		}
		if seen[c.Name] {
			t.Errorf("%q appears twice in the log", c.Name)
		}
		seen[c.Name] = true
	}
	checkChanges(t, "full log", all, h.since(0)...)

	// Another collection's writes are not in this log.
	other := newCollection(t, s, u.ID, store.KindCalendar, "other")
	putEvent(t, s, other.ID, "elsewhere.ics", "uid-1")
	h.check("write elsewhere")
	checkChanges(t, "full log", changesSince(t, s, cal, 0), h.since(0)...)
	checkChanges(t, "other log", changesSince(t, s, other, 0), store.Change{Name: "elsewhere.ics", ModSeq: 1})
}

func testSyncChangesSince(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	h := newHistory(t, s, cal)

	ch, err := s.ListChangesSince(ctx, cal.ID, 0, 0, false)
	if err != nil || len(ch.Changes) != 0 || ch.ModSeq != 0 || ch.Truncated {
		t.Fatalf("empty collection: %+v, %v; want no changes at 0", ch, err)
	}
	h.build()
	for since := int64(0); since <= h.modseq+1; since++ {
		for _, withBody := range []bool{false, true} {
			ch, err := s.ListChangesSince(ctx, cal.ID, since, 0, withBody)
			if err != nil {
				t.Fatalf("ListChangesSince(%d): %v", since, err)
			}
			what := fmt.Sprintf("since %d", since)
			checkChanges(t, what, ch.Changes, h.since(since)...)
			h.checkObjects(ch.Changes, withBody)
			if ch.ModSeq != h.modseq || ch.Truncated {
				t.Errorf("%s: ModSeq %d, Truncated %v; want %d, false", what, ch.ModSeq, ch.Truncated, h.modseq)
			}
		}
	}
	_, err = s.ListChangesSince(ctx, cal.ID+1000, 0, 0, false)
	wantErr(t, "ListChangesSince(missing collection)", err, store.ErrNotFound)
}

func testSyncChangesPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	h := newHistory(t, s, cal)
	h.build()
	full := h.since(0)

	for _, limit := range []int{1, 2, 3, 5, 7, len(full) - 1, len(full), len(full) + 1, 1000} {
		for _, start := range []int64{0, 4, 13} {
			what := fmt.Sprintf("limit %d from %d", limit, start)
			want := h.since(start)
			var got []store.Change
			since := start
			for page := 0; ; page++ {
				if page > len(full)+1 {
					t.Fatalf("%s: paging does not end", what)
				}
				ch, err := s.ListChangesSince(ctx, cal.ID, since, limit, page%2 == 0)
				if err != nil {
					t.Fatalf("%s: ListChangesSince(%d): %v", what, since, err)
				}
				h.checkObjects(ch.Changes, page%2 == 0)
				if len(ch.Changes) > limit {
					t.Fatalf("%s: %d changes, more than the limit", what, len(ch.Changes))
				}
				got = append(got, ch.Changes...)
				remaining := len(want) - len(got)
				if ch.Truncated != (remaining > 0) {
					t.Fatalf("%s: page %d Truncated = %v with %d changes left", what, page, ch.Truncated, remaining)
				}
				if ch.Truncated {
					if last := ch.Changes[len(ch.Changes)-1].ModSeq; ch.ModSeq != last {
						t.Fatalf("%s: truncated page ModSeq = %d, want its last change's %d", what, ch.ModSeq, last)
					}
				} else if ch.ModSeq != h.modseq {
					t.Fatalf("%s: last page ModSeq = %d, want the collection's %d", what, ch.ModSeq, h.modseq)
				}
				if ch.ModSeq < since {
					t.Fatalf("%s: ModSeq went back from %d to %d", what, since, ch.ModSeq)
				}
				since = ch.ModSeq
				if !ch.Truncated {
					break
				}
			}
			// Resuming from each page's ModSeq loses and repeats nothing.
			checkChanges(t, what, got, want...)
		}
	}

	// A change between pages lands on a later page, once.
	ch, err := s.ListChangesSince(ctx, cal.ID, 0, 3, false)
	if err != nil || !ch.Truncated {
		t.Fatalf("first page: %+v, %v", ch, err)
	}
	firstName := ch.Changes[0].Name
	h.put(firstName, h.live[firstName].UID)
	var rest []store.Change
	for since := ch.ModSeq; ; {
		page, err := s.ListChangesSince(ctx, cal.ID, since, 3, false)
		if err != nil {
			t.Fatalf("ListChangesSince: %v", err)
		}
		rest = append(rest, page.Changes...)
		since = page.ModSeq
		if !page.Truncated {
			break
		}
	}
	checkChanges(t, "after a write between pages", rest, h.since(ch.ModSeq)...)
	if rest[len(rest)-1].Name != firstName {
		t.Errorf("rewritten %q is not the last change", firstName)
	}
}

func testSyncPruneTombstones(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "pruner")
	a := newCollection(t, s, u.ID, store.KindCalendar, "a")
	b := newCollection(t, s, u.ID, store.KindAddressBook, "b")
	c := newCollection(t, s, u.ID, store.KindCalendar, "c")
	for _, col := range []*store.Collection{a, b, c} {
		for _, n := range []string{"1", "2", "3"} {
			putEvent(t, s, col.ID, n+".ics", "uid-"+n)
		}
	}
	del := func(col *store.Collection, name string) {
		t.Helper()
		if err := s.DeleteObject(ctx, col.ID, name, store.DeleteObjectOptions{}); err != nil {
			t.Fatalf("DeleteObject: %v", err)
		}
	}
	del(a, "1.ics") // a: 4
	del(a, "3.ics") // a: 5
	putEvent(t, s, a.ID, "4.ics", "uid-4")
	del(b, "2.ics") // b: 4
	// c has no tombstones.

	// Recent tombstones stay.
	n, err := s.PruneTombstones(ctx, time.Now().Add(-time.Hour))
	if err != nil || n != 0 {
		t.Fatalf("PruneTombstones(an hour ago) = %d, %v; want 0", n, err)
	}
	if got := changesSince(t, s, a, 0); len(got) != 4 {
		t.Fatalf("tombstones gone after a no-op prune: %s", fmtChanges(got))
	}

	n, err = s.PruneTombstones(ctx, time.Now().Add(time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("PruneTombstones(in an hour) = %d, %v; want 3", n, err)
	}
	for _, tc := range []struct {
		col            *store.Collection
		modseq, pruned int64
	}{{a, 6, 5}, {b, 4, 4}, {c, 3, 0}} {
		got := getCollection(t, s, tc.col)
		if got.ModSeq != tc.modseq || got.PrunedModSeq != tc.pruned {
			t.Errorf("collection %s: ModSeq %d, PrunedModSeq %d; want %d, %d",
				tc.col.Name, got.ModSeq, got.PrunedModSeq, tc.modseq, tc.pruned)
		}
	}
	// Live objects are untouched; only their changes remain.
	checkChanges(t, "a after prune", changesSince(t, s, a, 0),
		store.Change{Name: "2.ics", ModSeq: 2}, store.Change{Name: "4.ics", ModSeq: 6})
	checkChanges(t, "b after prune", changesSince(t, s, b, 0),
		store.Change{Name: "1.ics", ModSeq: 1}, store.Change{Name: "3.ics", ModSeq: 3})

	// Nothing left to prune: PrunedModSeq stays.
	if n, err := s.PruneTombstones(ctx, time.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("second PruneTombstones = %d, %v; want 0", n, err)
	}
	if got := getCollection(t, s, a); got.PrunedModSeq != 5 {
		t.Errorf("PrunedModSeq = %d after an empty prune, want 5", got.PrunedModSeq)
	}
	// A later deletion, pruned, raises it further.
	del(a, "2.ics") // a: 7
	if n, err := s.PruneTombstones(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("third PruneTombstones = %d, %v; want 1", n, err)
	}
	if got := getCollection(t, s, a); got.PrunedModSeq != 7 || got.ModSeq != 7 {
		t.Errorf("ModSeq %d, PrunedModSeq %d; want 7, 7", got.ModSeq, got.PrunedModSeq)
	}
}

// testSyncFullListingUnderWrites lists a collection's changes from the
// start (a sync-collection with an empty token, RFC 6578 §3.8: every member)
// while another writer keeps updating its members: each listing is the
// state at its token, so it holds every member exactly once, none stamped
// after the token. Found by `davbench soak`: PostgreSQL read the token and
// the members in two snapshots, and a member updated in between was left
// out of an initial sync.
func testSyncFullListingUnderWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	const members = 20
	for i := range members {
		putEvent(t, s, cal.ID, fmt.Sprintf("m%d.ics", i), fmt.Sprintf("uid-m%d", i))
	}
	stop := make(chan struct{})
	writerErr := make(chan error, 1)
	go func() {
		for n := 0; ; n++ {
			select {
			case <-stop:
				writerErr <- nil
				return
			default:
			}
			i := n % members
			o := event(cal.ID, fmt.Sprintf("m%d.ics", i), fmt.Sprintf("uid-m%d", i), fmt.Sprintf("revision %d", n))
			if _, err := s.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
				writerErr <- err
				return
			}
		}
	}()
	deadline := time.Now().Add(1500 * time.Millisecond)
	listings := 0
	for ; time.Now().Before(deadline) && !t.Failed(); listings++ {
		ch, err := s.ListChangesSince(ctx, cal.ID, 0, 0, false)
		if err != nil {
			t.Fatalf("ListChangesSince: %v", err)
		}
		seen := map[string]bool{}
		for _, c := range ch.Changes {
			switch {
			case c.Deleted:
				t.Errorf("listing %d: %s reported deleted", listings, c.Name)
			case seen[c.Name]:
				t.Errorf("listing %d: %s twice", listings, c.Name)
			case c.ModSeq > ch.ModSeq:
				t.Errorf("listing %d: %s stamped %d after the token %d", listings, c.Name, c.ModSeq, ch.ModSeq)
			}
			seen[c.Name] = true
		}
		if len(seen) != members {
			t.Errorf("listing %d at token %d: %d members, want %d", listings, ch.ModSeq, len(seen), members)
		}
	}
	close(stop)
	if err := <-writerErr; err != nil {
		t.Fatalf("writer: %v", err)
	}
	t.Logf("%d listings", listings)
}
