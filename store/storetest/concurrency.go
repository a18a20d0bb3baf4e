package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

var concurrencyTests = []test{
	{"same_if_match", testConcurrentSameIfMatch},
	{"same_if_none_match", testConcurrentSameIfNoneMatch},
	{"same_delete", testConcurrentSameDelete},
	{"same_move", testConcurrentSameMove},
	{"many_writers", testConcurrentManyWriters},
}

const racers = 8

// race runs f(i) for i in [0, n) in goroutines released together and
// returns their errors by index.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one error is nil and all others match loser;
// it returns the winner's index.
func oneWinner(t *testing.T, what string, errs []error, loser error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("%s: both %d and %d won", what, winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, loser):
			t.Errorf("%s: racer %d: %v, want %v", what, i, err, loser)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: nobody won", what)
	}
	return winner
}

// testConcurrentSameIfMatch: writers holding the same ETag cannot both win
// (the lost-update problem, RFC 9110 §13.1.1).
func testConcurrentSameIfMatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	base := putEvent(t, s, cal.ID, "shared.ics", "uid-shared")
	objs := make([]*store.Object, racers)
	for i := range objs {
		objs[i] = event(cal.ID, "shared.ics", "uid-shared", fmt.Sprintf("edit by writer %d", i))
	}
	errs := race(racers, func(i int) error {
		_, err := s.PutObject(ctx, objs[i], store.PutObjectOptions{IfMatch: base.ETag})
		return err
	})
	w := oneWinner(t, "PutObject If-Match", errs, store.ErrPreconditionFailed)
	got, err := s.GetObject(ctx, cal.ID, "shared.ics")
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	checkObject(t, got, objs[w], true)
	if m := modSeq(t, s, cal); m != base.ModSeq+1 {
		t.Errorf("ModSeq = %d, want %d: only the winner stamps", m, base.ModSeq+1)
	}
}

func testConcurrentSameIfNoneMatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	objs := make([]*store.Object, racers)
	for i := range objs {
		objs[i] = event(cal.ID, "new.ics", fmt.Sprintf("uid-%d", i), fmt.Sprintf("creator %d", i))
	}
	created := make([]bool, racers)
	errs := race(racers, func(i int) error {
		var err error
		created[i], err = s.PutObject(ctx, objs[i], store.PutObjectOptions{IfNoneMatch: true})
		return err
	})
	w := oneWinner(t, "PutObject If-None-Match", errs, store.ErrPreconditionFailed)
	if !created[w] {
		t.Error("the winner reported created = false")
	}
	got, err := s.GetObject(ctx, cal.ID, "new.ics")
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	checkObject(t, got, objs[w], true)
	if m := modSeq(t, s, cal); m != 1 {
		t.Errorf("ModSeq = %d, want 1", m)
	}
}

func testConcurrentSameDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	o := putEvent(t, s, cal.ID, "x.ics", "uid-x")
	errs := race(racers, func(int) error {
		return s.DeleteObject(ctx, cal.ID, "x.ics", store.DeleteObjectOptions{IfMatch: o.ETag})
	})
	oneWinner(t, "DeleteObject If-Match", errs, store.ErrPreconditionFailed)
	checkChanges(t, "after racing deletes", changesSince(t, s, cal, 0),
		store.Change{Name: "x.ics", ModSeq: 2, Deleted: true})
}

func testConcurrentSameMove(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	to := newCollection(t, s, u.ID, store.KindCalendar, "target")
	putEvent(t, s, cal.ID, "x.ics", "uid-x")
	errs := race(racers, func(i int) error {
		dst, dstName := cal, fmt.Sprintf("x-%d.ics", i)
		if i%2 == 1 {
			dst = to
		}
		_, err := s.MoveObject(ctx, cal.ID, "x.ics", dst.ID, dstName, store.MoveObjectOptions{})
		return err
	})
	w := oneWinner(t, "MoveObject", errs, store.ErrNotFound)
	all := changesSince(t, s, cal, 0)
	objs, _ := s.ListObjects(ctx, cal.ID, store.ListObjectsOptions{})
	moved, _ := s.ListObjects(ctx, to.ID, store.ListObjectsOptions{})
	if n := len(objs) + len(moved); n != 1 {
		t.Errorf("%d objects after racing moves, want 1: %q %q", n, names(objs), names(moved))
	}
	want := fmt.Sprintf("x-%d.ics", w)
	if w%2 == 1 {
		checkChanges(t, "source", all, store.Change{Name: "x.ics", ModSeq: 2, Deleted: true})
		checkChanges(t, "target", changesSince(t, s, to, 0), store.Change{Name: want, ModSeq: 1})
	} else {
		checkChanges(t, "source", all,
			store.Change{Name: "x.ics", ModSeq: 2, Deleted: true}, store.Change{Name: want, ModSeq: 3})
	}
}

// testConcurrentManyWriters: unconditional writers on one collection get
// distinct modseqs, one per write, with no gaps.
func testConcurrentManyWriters(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	const writers, perWriter = 4, 15
	modseqs := make([][]int64, writers)
	errs := race(writers, func(w int) error {
		for i := range perWriter {
			// Each writer cycles over its own few names: creates, then
			// updates.
			o := event(cal.ID, fmt.Sprintf("w%d-%d.ics", w, i%4), fmt.Sprintf("uid-%d-%d", w, i%4), fmt.Sprintf("write %d", i))
			if _, err := s.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
				return err
			}
			modseqs[w] = append(modseqs[w], o.ModSeq)
		}
		return nil
	})
	for w, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", w, err)
		}
	}
	var all []int64
	for w, ms := range modseqs {
		if !slices.IsSorted(ms) {
			t.Errorf("writer %d saw modseqs go back: %v", w, ms)
		}
		all = append(all, ms...)
	}
	slices.Sort(all)
	for i, m := range all {
		if m != int64(i+1) {
			t.Fatalf("modseqs are not 1..%d without gaps or repeats: %v", writers*perWriter, all)
		}
	}
	if m := modSeq(t, s, cal); m != writers*perWriter {
		t.Errorf("collection ModSeq = %d, want %d", m, writers*perWriter)
	}
	log := changesSince(t, s, cal, 0)
	if len(log) != writers*4 {
		t.Errorf("log has %d names, want %d", len(log), writers*4)
	}
	if last := log[len(log)-1].ModSeq; last != writers*perWriter {
		t.Errorf("last change at %d, want %d", last, writers*perWriter)
	}
}
