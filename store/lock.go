package store

import (
	"fmt"
	"strings"
	"time"
)

// Lock is a WebDAV write lock (RFC 4918 §6, §7). Locks are kept in the
// store so that every server instance sharing it sees the same locks; they
// expire at Expires and are ignored from then on (the hourly pruning
// deletes them).
//
// A lock is on a path, not on a row: it can cover a URL that is not mapped
// to anything yet (RFC 4918 §7.3) and, with Depth infinity, every member of
// a collection including those made later (§7.5). Root is the path in the
// server's canonical form, percent-encoded as the server writes hrefs; a
// collection's path ends in "/".
type Lock struct {
	// Token is the lock token, a URI (urn:uuid:…), unique.
	Token string
	// Root is the canonical path of the locked resource.
	Root string
	// UserID is who took the lock: only they may submit, refresh or
	// remove it (RFC 4918 §6.4).
	UserID int64
	// Infinite is Depth: infinity; else the lock is Depth 0.
	Infinite bool
	// Shared is a shared lock; else the lock is exclusive.
	Shared bool
	// Owner is the DAV:owner element the client sent, as XML; "" for none.
	Owner string
	// Timeout is how long the lock lasts from its creation or last refresh.
	Timeout time.Duration
	Created time.Time
	// Expires is when it stops counting: the last refresh plus Timeout.
	Expires time.Time
}

// LockConflictError reports that a lock cannot be taken because of an
// existing one. It matches ErrConflict with errors.Is, and names the root
// of the conflicting lock (for DAV:no-conflicting-lock, RFC 4918 §9.10.6).
type LockConflictError struct {
	Root string
}

func (e *LockConflictError) Error() string {
	return fmt.Sprintf("store: a lock on %q conflicts", e.Root)
}

// Is makes errors.Is(err, ErrConflict) true for a LockConflictError.
func (e *LockConflictError) Is(target error) bool { return target == ErrConflict }

// Covers reports whether the lock applies to the resource at path: it is
// the lock's root, or the root is a collection above it and the lock has
// Depth infinity.
func (l *Lock) Covers(path string) bool {
	return l.Root == path || l.Infinite && IsPathBelow(path, l.Root)
}

// Conflicts reports whether l and o cannot both be held (RFC 4918 §6.1,
// §7): their scopes overlap and at least one is exclusive.
func (l *Lock) Conflicts(o *Lock) bool {
	if l.Shared && o.Shared {
		return false
	}
	return l.Covers(o.Root) || o.Covers(l.Root)
}

// CheckConflicts returns a *LockConflictError naming the first of existing
// that conflicts with l, or nil: the check both stores make inside
// CreateLock's transaction.
func CheckConflicts(existing []Lock, l *Lock) error {
	for i := range existing {
		if existing[i].Conflicts(l) {
			return &LockConflictError{Root: existing[i].Root}
		}
	}
	return nil
}

// IsPathBelow reports whether path is strictly inside the collection at
// dir (a path ending in "/").
func IsPathBelow(path, dir string) bool {
	return strings.HasSuffix(dir, "/") && len(path) > len(dir) && strings.HasPrefix(path, dir)
}

// PathAncestors returns the collection paths above path, from the root
// "/" down to path's parent: the roots of the locks that may cover it.
func PathAncestors(path string) []string {
	var out []string
	p := strings.TrimSuffix(path, "/")
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			out = append(out, p[:i+1])
		}
	}
	return out
}

// LockQuery is the set of locks ListLocks returns for a path: those whose
// root is the path or one of its ancestors, and, when the path is a
// collection, those whose root is below it.
func LockQuery(path string) (roots []string, below string) {
	roots = append(PathAncestors(path), path)
	if strings.HasSuffix(path, "/") {
		below = path
	}
	return roots, below
}
