package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// storedBytes is the true storage use of the owner: the lengths of the
// bodies of every object in every one of their collections, read back from
// the store.
func storedBytes(t *testing.T, s store.Store, ownerID int64) int64 {
	t.Helper()
	ctx := t.Context()
	var n int64
	for _, kind := range []store.Kind{store.KindCalendar, store.KindAddressBook, store.KindFiles} {
		cols, err := s.ListCollections(ctx, ownerID, kind)
		if err != nil {
			t.Fatalf("ListCollections: %v", err)
		}
		for _, c := range cols {
			listed, err := s.ListObjects(ctx, c.ID, store.ListObjectsOptions{})
			if err != nil {
				t.Fatalf("ListObjects(%q): %v", c.Name, err)
			}
			if len(listed) == 0 {
				continue
			}
			objs, err := s.GetObjects(ctx, c.ID, names(listed), true)
			if err != nil {
				t.Fatalf("GetObjects(%q): %v", c.Name, err)
			}
			if len(objs) != len(listed) {
				t.Fatalf("GetObjects(%q) returned %d of %d objects", c.Name, len(objs), len(listed))
			}
			for _, o := range objs {
				n += int64(len(o.Body))
			}
		}
	}
	return n
}

// checkUsedBytes fails unless UsedBytes is want and want is what the owner's
// stored bodies add up to.
func checkUsedBytes(t *testing.T, s store.Store, what string, ownerID, want int64) {
	t.Helper()
	if truth := storedBytes(t, s, ownerID); truth != want {
		t.Fatalf("%s: the stored bodies of user %d add up to %d bytes, the test expected %d", what, ownerID, truth, want)
	}
	if n, err := s.UsedBytes(t.Context(), ownerID); err != nil || n != want {
		t.Errorf("%s: UsedBytes(user %d) = %d, %v; want %d", what, ownerID, n, err, want)
	}
}

// sizedEvent is an unsaved event whose body is exactly size bytes (at least
// the length of an empty summary's body).
func sizedEvent(collectionID int64, name, uid string, size int) *store.Object {
	o := event(collectionID, name, uid, "")
	pad := size - len(o.Body)
	if pad < 0 {
		panic(fmt.Sprintf("sizedEvent: %d bytes is below the minimum %d", size, len(o.Body)))
	}
	return event(collectionID, name, uid, strings.Repeat("s", pad))
}

var quotaTests = []test{
	{"exact", testQuotaExact},
	{"concurrent_writers", testQuotaConcurrent},
}

// testQuotaExact: UsedBytes is the exact sum of the sizes of the
// owner's objects after every kind of write, including the ones that fail,
// and never counts another user's objects.
func testQuotaExact(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "quota")
	other := newUser(t, s, "other")
	cal := newCollection(t, s, u.ID, store.KindCalendar, "cal")
	cal2 := newCollection(t, s, u.ID, store.KindCalendar, "cal2")
	book := newCollection(t, s, u.ID, store.KindAddressBook, "book")
	otherCal := newCollection(t, s, other.ID, store.KindCalendar, "cal")

	// sizes models the store: the body size of every live object, by
	// owner, then collection and name.
	sizes := map[int64]map[int64]map[string]int{u.ID: {}, other.ID: {}}
	owners := map[int64]int64{cal.ID: u.ID, cal2.ID: u.ID, book.ID: u.ID, otherCal.ID: other.ID}
	set := func(collectionID int64, name string, size int) {
		m := sizes[owners[collectionID]]
		if m[collectionID] == nil {
			m[collectionID] = map[string]int{}
		}
		m[collectionID][name] = size
	}
	drop := func(collectionID int64, name string) { delete(sizes[owners[collectionID]][collectionID], name) }
	total := func(ownerID int64) int64 {
		var n int64
		for _, objs := range sizes[ownerID] {
			for _, size := range objs {
				n += int64(size)
			}
		}
		return n
	}
	putSized := func(collectionID int64, name, uid string, size int, opts store.PutObjectOptions) error {
		_, err := s.PutObject(ctx, sizedEvent(collectionID, name, uid, size), opts)
		if err == nil {
			set(collectionID, name, size)
		}
		return err
	}
	move := func(from int64, name string, to int64, newName string, overwrite bool) error {
		_, err := s.MoveObject(ctx, from, name, to, newName, store.MoveObjectOptions{Overwrite: overwrite})
		if err == nil {
			set(to, newName, sizes[owners[from]][from][name])
			drop(from, name)
		}
		return err
	}

	steps := []struct {
		name string
		do   func() error
		want error // the write's expected failure; a failed write counts nothing
	}{
		{"empty", func() error { return nil }, nil},
		{"create", func() error { return putSized(cal.ID, "a.ics", "a", 500, store.PutObjectOptions{}) }, nil},
		{"create second", func() error { return putSized(cal.ID, "b.ics", "b", 300, store.PutObjectOptions{}) }, nil},
		{"create card", func() error {
			card := []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:X\r\nEND:VCARD\r\n")
			_, err := s.PutObject(ctx, &store.Object{CollectionID: book.ID, Name: "x.vcf", UID: "x",
				ETag: etagOf(card), Component: "VCARD", Body: card}, store.PutObjectOptions{})
			if err == nil {
				set(book.ID, "x.vcf", len(card))
			}
			return err
		}, nil},
		{"create empty body", func() error {
			_, err := s.PutObject(ctx, &store.Object{CollectionID: cal.ID, Name: "empty.ics", UID: "empty",
				ETag: etagOf(nil)}, store.PutObjectOptions{})
			if err == nil {
				set(cal.ID, "empty.ics", 0)
			}
			return err
		}, nil},
		{"other user's objects", func() error {
			if err := putSized(otherCal.ID, "a.ics", "a", 4000, store.PutObjectOptions{}); err != nil {
				return err
			}
			return putSized(otherCal.ID, "o.ics", "o", 700, store.PutObjectOptions{})
		}, nil},
		{"replace larger", func() error { return putSized(cal.ID, "a.ics", "a", 2000, store.PutObjectOptions{}) }, nil},
		{"replace smaller", func() error { return putSized(cal.ID, "a.ics", "a", 450, store.PutObjectOptions{}) }, nil},
		{"replace same size", func() error {
			o := sizedEvent(cal.ID, "a.ics", "a", 450)
			o.Body = []byte(strings.Replace(string(o.Body), "sss", "ttt", 1))
			o.ETag = etagOf(o.Body)
			_, err := s.PutObject(ctx, o, store.PutObjectOptions{})
			return err
		}, nil},
		{"replace with a stale If-Match", func() error {
			return putSized(cal.ID, "a.ics", "a", 9000, store.PutObjectOptions{IfMatch: "stale"})
		}, store.ErrPreconditionFailed},
		{"create with If-None-Match on an existing name", func() error {
			return putSized(cal.ID, "b.ics", "b", 9000, store.PutObjectOptions{IfNoneMatch: true})
		}, store.ErrPreconditionFailed},
		{"create with a taken UID", func() error {
			return putSized(cal.ID, "dup.ics", "b", 9000, store.PutObjectOptions{})
		}, store.ErrConflict},
		{"rename within the collection", func() error { return move(cal.ID, "b.ics", cal.ID, "b2.ics", false) }, nil},
		{"move to another collection", func() error { return move(cal.ID, "b2.ics", cal2.ID, "b.ics", false) }, nil},
		// An overwriting move replaces a copy of the same event (same UID,
		// RFC 4791 §5.3.2.1) in another calendar.
		{"move onto an existing name without overwrite", func() error {
			if err := putSized(cal.ID, "c.ics", "b", 1200, store.PutObjectOptions{}); err != nil {
				return err
			}
			return move(cal.ID, "c.ics", cal2.ID, "b.ics", false)
		}, store.ErrPreconditionFailed},
		{"move over a smaller object", func() error { return move(cal.ID, "c.ics", cal2.ID, "b.ics", true) }, nil},
		{"move over a larger object", func() error {
			if err := putSized(cal2.ID, "d.ics", "a", 250, store.PutObjectOptions{}); err != nil {
				return err
			}
			return move(cal2.ID, "d.ics", cal.ID, "a.ics", true)
		}, nil},
		{"move over an object of another UID", func() error {
			return move(cal2.ID, "b.ics", cal.ID, "a.ics", true)
		}, store.ErrUIDChanged},
		{"delete", func() error {
			err := s.DeleteObject(ctx, cal.ID, "a.ics", store.DeleteObjectOptions{})
			if err == nil {
				drop(cal.ID, "a.ics")
			}
			return err
		}, nil},
		{"delete with a stale If-Match", func() error {
			return s.DeleteObject(ctx, cal.ID, "empty.ics", store.DeleteObjectOptions{IfMatch: "stale"})
		}, store.ErrPreconditionFailed},
		{"recreate a deleted name", func() error { return putSized(cal.ID, "a.ics", "a", 800, store.PutObjectOptions{}) }, nil},
		// cal2 holds only what moved into it: deleting it takes exactly
		// those bytes away, so the moves credited the right collection.
		{"delete a collection", func() error {
			err := s.DeleteCollection(ctx, u.ID, cal2.ID)
			if err == nil {
				delete(sizes[u.ID], cal2.ID)
			}
			return err
		}, nil},
		{"delete the other user's collection", func() error {
			err := s.DeleteCollection(ctx, other.ID, otherCal.ID)
			if err == nil {
				delete(sizes[other.ID], otherCal.ID)
			}
			return err
		}, nil},
		{"the other user's new collection", func() error {
			oc := newCollection(t, s, other.ID, store.KindCalendar, "again")
			owners[oc.ID] = other.ID
			return putSized(oc.ID, "n.ics", "n", 333, store.PutObjectOptions{})
		}, nil},
	}
	for _, st := range steps {
		err := st.do()
		wantErr(t, st.name, err, st.want)
		checkUsedBytes(t, s, st.name, u.ID, total(u.ID))
		checkUsedBytes(t, s, st.name, other.ID, total(other.ID))
	}
	if n := total(u.ID); n == 0 {
		t.Fatal("the sequence left the user nothing to count")
	}
}

// testQuotaConcurrent: writers racing on two collections (creates,
// replacements, moves both ways, deletes) all succeed, and UsedBytes ends
// exact.
func testQuotaConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "racer")
	a := newCollection(t, s, u.ID, store.KindCalendar, "a")
	b := newCollection(t, s, u.ID, store.KindCalendar, "b")
	const rounds = 6
	errs := race(racers, func(i int) error {
		// Odd racers move from b to a, even ones from a to b, so moves
		// take the two collections in both orders at once.
		from, to := a, b
		if i%2 == 1 {
			from, to = b, a
		}
		for r := range rounds {
			name := fmt.Sprintf("r%d-%d.ics", i, r)
			uid := fmt.Sprintf("uid-%d-%d", i, r)
			if _, err := s.PutObject(ctx, sizedEvent(from.ID, name, uid, 400+i*10+r), store.PutObjectOptions{}); err != nil {
				return fmt.Errorf("create %s: %w", name, err)
			}
			if _, err := s.PutObject(ctx, sizedEvent(from.ID, name, uid, 1000+i*37+r), store.PutObjectOptions{}); err != nil {
				return fmt.Errorf("replace %s: %w", name, err)
			}
			if _, err := s.MoveObject(ctx, from.ID, name, to.ID, name, store.MoveObjectOptions{}); err != nil {
				return fmt.Errorf("move %s: %w", name, err)
			}
			if r%3 == 2 {
				if err := s.DeleteObject(ctx, to.ID, name, store.DeleteObjectOptions{}); err != nil {
					return fmt.Errorf("delete %s: %w", name, err)
				}
			}
		}
		return nil
	})
	var want int64
	for i, err := range errs {
		if err != nil {
			t.Errorf("racer %d: %v", i, err)
		}
		for r := range rounds {
			if r%3 != 2 {
				want += int64(1000 + i*37 + r)
			}
		}
	}
	checkUsedBytes(t, s, "after racing writers", u.ID, want)
}
