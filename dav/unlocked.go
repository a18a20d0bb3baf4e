package dav

import (
	"context"
	"errors"
	"fmt"

	"github.com/davenport-dav/davenport/store"
)

// Writes made outside the protocol — the web UI, an import, a scheduling
// delivery — cannot submit a lock token, so they honour locks by not
// changing what a lock covers (RFC 4918 §7: "a write lock ... prevents a
// principal without the lock from successfully executing a PUT, POST,
// PROPPATCH, LOCK, UNLOCK, MOVE, DELETE, or MKCOL on the locked
// resource"). They check with LocksAt, once per collection or home, and
// Locks.Check, once per resource; with no lock held (the usual case) that
// costs one indexed query.

// ErrLocked: a write from outside WebDAV would change a locked resource.
var ErrLocked = errors.New("dav: the resource is locked")

// LockedError names the root of the lock that refused a write; it matches
// ErrLocked.
type LockedError struct {
	Root string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("dav: %s is locked by a WebDAV client", e.Root)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Locks are the unexpired locks on a path, its ancestors and below it.
type Locks []store.Lock

// LocksAt returns the locks that may bind writes at href (as ObjectHref,
// CollectionHref or HomeHref make it) or, for a collection or home, below
// it.
func LocksAt(ctx context.Context, st store.Store, href string) (Locks, error) {
	ls, err := st.ListLocks(ctx, href)
	return Locks(ls), err
}

// Check returns a *LockedError when a write to href must hold a lock's
// token: a lock covers href; with bind (the write creates or removes href)
// also a lock on the collection that holds it (§7.4: its membership
// changes); with subtree (href is a collection removed or replaced with its
// members) also a lock below it.
func (ls Locks) Check(href string, bind, subtree bool) error {
	parent := parentPath(href)
	for _, l := range ls {
		if l.Covers(href) || bind && l.Root == parent || subtree && store.IsPathBelow(l.Root, href) {
			return &LockedError{Root: l.Root}
		}
	}
	return nil
}

// CheckUnlocked is LocksAt and Check for one write.
func CheckUnlocked(ctx context.Context, st store.Store, href string, bind, subtree bool) error {
	ls, err := LocksAt(ctx, st, href)
	if err != nil {
		return err
	}
	return ls.Check(href, bind, subtree)
}
