package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

var lockTests = []test{
	{"conflicts", testLockConflicts},
	{"list", testLockList},
	{"refresh_delete", testLockRefreshDelete},
	{"expiry", testLockExpiry},
	{"race", testLockRace},
}

func lockRoots(ls []store.Lock) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Root)
	}
	return out
}

// testLockConflicts: exclusive locks exclude every overlapping lock, shared
// ones only exclusive ones; depth infinity reaches members, depth 0 does not.
func testLockConflicts(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "locker")
	const col = "/dav/files/locker/a/"
	take := func(token, root string, infinite, shared bool) error {
		return s.CreateLock(ctx, &store.Lock{Token: token, Root: root, UserID: u.ID, Infinite: infinite, Shared: shared, Timeout: time.Hour, Owner: "<owner xmlns=\"DAV:\">me</owner>"})
	}
	if err := take("t1", col, true, false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		root             string
		infinite, shared bool
		conflict         bool
	}{
		{col, false, false, true},
		{col, false, true, true},
		{col + "x.txt", false, true, true},          // a member of an infinity lock
		{"/dav/files/locker/", true, true, true},    // its parent, depth infinity
		{"/dav/files/locker/", false, false, false}, // its parent, depth 0
		{"/dav/files/locker/b/", true, false, false},
		{"/dav/files/locker/a", false, false, false}, // not the collection: no slash
	} {
		err := take("t-"+tc.root, tc.root, tc.infinite, tc.shared)
		var lc *store.LockConflictError
		if got := errors.As(err, &lc); got != tc.conflict || (err != nil && !tc.conflict) {
			t.Errorf("lock %s infinite=%v shared=%v: err = %v, want conflict %v", tc.root, tc.infinite, tc.shared, err, tc.conflict)
		} else if got && (lc.Root != col || !errors.Is(err, store.ErrConflict)) {
			t.Errorf("conflict names %q (ErrConflict %v), want %q", lc.Root, errors.Is(err, store.ErrConflict), col)
		}
	}
	// Shared locks coexist.
	if err := take("s1", "/dav/files/locker/c.txt", false, true); err != nil {
		t.Fatal(err)
	}
	if err := take("s2", "/dav/files/locker/c.txt", false, true); err != nil {
		t.Errorf("second shared lock: %v", err)
	}
	wantErr(t, "CreateLock(duplicate token)", take("s2", "/dav/files/locker/d.txt", false, true), store.ErrConflict)
	wantErr(t, "CreateLock(unknown user)", s.CreateLock(ctx, &store.Lock{Token: "z", Root: "/z", UserID: u.ID + 1000, Timeout: time.Hour}), store.ErrNotFound)
}

// testLockList: ListLocks finds the locks on a path, its ancestors and (for
// a collection) its members, and nothing beside; fields round-trip.
func testLockList(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "lister")
	owner := `<owner xmlns="DAV:"><href>mailto:lister@example.org</href></owner>`
	roots := []string{"/dav/files/lister/", "/dav/files/lister/a%20b/", "/dav/files/lister/a%20b/c%25d.txt", "/dav/files/lister/a%20bc/", "/dav/files/other/"}
	for i, r := range roots {
		if err := s.CreateLock(ctx, &store.Lock{Token: "urn:uuid:" + r, Root: r, UserID: u.ID, Shared: true, Infinite: i == 0, Owner: owner, Timeout: 90 * time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/dav/files/lister/a%20b/", roots[:3]},
		{"/dav/files/lister/a%20b/c%25d.txt", roots[:3]},
		{"/dav/files/lister/", roots[:4]},
		{"/dav/files/lister/zz", roots[:1]},
		{"/dav/", nil}, // not a collection path below? it is: everything under it
	} {
		got, err := s.ListLocks(ctx, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if tc.path == "/dav/" {
			tc.want = slices.Clone(roots)
			slices.Sort(tc.want)
		}
		if !slices.Equal(lockRoots(got), tc.want) {
			t.Errorf("ListLocks(%s) = %q, want %q", tc.path, lockRoots(got), tc.want)
		}
	}
	got, err := s.ListLocks(ctx, roots[2])
	if err != nil {
		t.Fatal(err)
	}
	l := got[2]
	if l.Token != "urn:uuid:"+roots[2] || l.UserID != u.ID || l.Infinite || !l.Shared || l.Owner != owner ||
		l.Timeout != 90*time.Second || l.Expires.Sub(l.Created) != 90*time.Second || time.Since(l.Created) > time.Minute {
		t.Errorf("lock read back = %+v", l)
	}
}

func testLockRefreshDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "refresher")
	l := &store.Lock{Token: "r1", Root: "/dav/files/refresher/x/", UserID: u.ID, Infinite: true, Timeout: time.Minute}
	if err := s.CreateLock(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLock(ctx, &store.Lock{Token: "r2", Root: "/dav/files/refresher/x/y/z", UserID: u.ID, Timeout: time.Minute}); err == nil {
		t.Fatal("lock inside an exclusive depth-infinity lock was granted")
	}
	got, err := s.RefreshLock(ctx, "r1", 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got.Timeout != 2*time.Hour || got.Expires.Before(l.Expires.Add(time.Hour)) || got.Root != l.Root {
		t.Errorf("RefreshLock = %+v, want a 2h timeout from now", got)
	}
	_, err = s.RefreshLock(ctx, "nope", time.Hour)
	wantErr(t, "RefreshLock(unknown)", err, store.ErrNotFound)
	if err := s.DeleteLock(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteLock(gone)", s.DeleteLock(ctx, "r1"), store.ErrNotFound)

	// DeleteLocks removes a subtree's locks, nothing beside.
	for _, r := range []string{"/dav/files/refresher/x/", "/dav/files/refresher/x/a", "/dav/files/refresher/x/b/c", "/dav/files/refresher/xy", "/dav/files/refresher/"} {
		if err := s.CreateLock(ctx, &store.Lock{Token: "d" + r, Root: r, UserID: u.ID, Shared: true, Timeout: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteLocks(ctx, "/dav/files/refresher/x/")
	if err != nil || n != 3 {
		t.Errorf("DeleteLocks = %d, %v; want 3", n, err)
	}
	if n, err := s.DeleteLocks(ctx, "/dav/files/refresher/xy"); err != nil || n != 1 {
		t.Errorf("DeleteLocks(object) = %d, %v; want 1", n, err)
	}
	left, _ := s.ListLocks(ctx, "/dav/files/refresher/")
	if !slices.Equal(lockRoots(left), []string{"/dav/files/refresher/"}) {
		t.Errorf("locks left = %q", lockRoots(left))
	}
	// Deleting the user deletes their locks.
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.ListLocks(ctx, "/dav/files/refresher/"); len(left) != 0 {
		t.Errorf("locks of a deleted user: %q", lockRoots(left))
	}
}

// testLockExpiry: an expired lock conflicts with nothing, is listed
// nowhere, cannot be refreshed or removed, and PruneLocks deletes it.
func testLockExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "expirer")
	if err := s.CreateLock(ctx, &store.Lock{Token: "e1", Root: "/e/", UserID: u.ID, Infinite: true, Timeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLock(ctx, &store.Lock{Token: "e2", Root: "/f", UserID: u.ID, Timeout: time.Hour}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if ls, _ := s.ListLocks(ctx, "/e/x"); len(ls) != 0 {
		t.Errorf("expired lock listed: %q", lockRoots(ls))
	}
	_, err := s.RefreshLock(ctx, "e1", time.Hour)
	wantErr(t, "RefreshLock(expired)", err, store.ErrNotFound)
	if err := s.CreateLock(ctx, &store.Lock{Token: "e3", Root: "/e/x", UserID: u.ID, Timeout: time.Hour}); err != nil {
		t.Errorf("lock under an expired one: %v", err)
	}
	n, err := s.PruneLocks(ctx, time.Now())
	if err != nil || n != 1 {
		t.Errorf("PruneLocks = %d, %v; want 1", n, err)
	}
	if ls, _ := s.ListLocks(ctx, "/"); !slices.Equal(lockRoots(ls), []string{"/e/x", "/f"}) {
		t.Errorf("after pruning: %q", lockRoots(ls))
	}
}

// testLockRace: of many concurrent exclusive locks on one path, exactly one
// is granted.
func testLockRace(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "racer")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			root := "/race/"
			if i%2 == 1 {
				root = "/race/member" // covered by the others' depth infinity
			}
			errs[i] = s.CreateLock(ctx, &store.Lock{Token: "race" + string(rune('a'+i)), Root: root, UserID: u.ID, Infinite: true, Timeout: time.Hour})
		}()
	}
	wg.Wait()
	granted := 0
	for _, err := range errs {
		switch {
		case err == nil:
			granted++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("CreateLock: %v", err)
		}
	}
	if granted != 1 {
		t.Errorf("%d of %d conflicting locks granted, want 1", granted, n)
	}
}
