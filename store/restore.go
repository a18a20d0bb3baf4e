package store

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// Restored reports what a restore did to one item. A restore is a new change
// made through PutObject or DeleteObject: it gets a new modseq, so clients
// pick it up by their normal sync, and it is itself kept in the history.
type Restored struct {
	VersionID    int64
	CollectionID int64
	Name         string // where the item is now (its old name unless Renamed)
	UID          string
	// Renamed: the item's old name now holds another item (another UID),
	// so it was restored under Name instead.
	Renamed bool
	// Deleted: the version recorded the item's creation; restoring the
	// state before it removed the item.
	Deleted bool
	// Unchanged: the item already was in the version's state.
	Unchanged bool
	// Skipped says why nothing was done, when something was not.
	Skipped string
}

// ErrInTrashedCollection: the version belongs to a deleted collection, which
// must be restored first (RestoreCollection).
var ErrInTrashedCollection = errors.New("store: the item's collection is in the trash")

// RestoreVersion brings back the state a version recorded: the item's
// previous bytes under its old name and UID, or, for a creation, the item's
// absence. When the name is now taken by another item the restored copy gets
// a new name (Restored.Renamed); when another item holds the UID it fails
// with *UIDConflictError naming it. Concurrent writers are detected by the
// ETag preconditions of the write, never overwritten blindly.
func RestoreVersion(ctx context.Context, st Store, ownerID, id int64, a Actor) (*Restored, error) {
	v, err := st.GetVersion(ctx, ownerID, id)
	if err != nil {
		return nil, err
	}
	return restoreVersion(ctx, st, v, a)
}

func restoreVersion(ctx context.Context, st Store, v *Version, a Actor) (*Restored, error) {
	r := &Restored{VersionID: v.ID, CollectionID: v.CollectionID, Name: v.Name, UID: v.UID}
	if v.TrashID != 0 {
		return nil, fmt.Errorf("store: restore %q: %w", v.Name, ErrInTrashedCollection)
	}
	cur, err := st.GetObject(ctx, v.CollectionID, v.Name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if v.Op == OpCreate {
		switch {
		case cur == nil:
			r.Unchanged = true
		case cur.UID != v.UID:
			r.Skipped = fmt.Sprintf("the name now holds another item (UID %q)", cur.UID)
		default:
			err := st.DeleteObject(ctx, v.CollectionID, v.Name, DeleteObjectOptions{IfMatch: cur.ETag, Actor: a})
			if err != nil {
				return nil, fmt.Errorf("store: restore %q: %w", v.Name, err)
			}
			r.Deleted = true
		}
		return r, nil
	}
	opts := PutObjectOptions{Actor: a, IfNoneMatch: true}
	switch {
	case cur != nil && cur.ETag == v.ETag && cur.UID == v.UID:
		r.Unchanged = true
		return r, nil
	case cur != nil && cur.UID == v.UID:
		opts = PutObjectOptions{Actor: a, IfMatch: cur.ETag}
	case cur != nil:
		name, err := freeName(ctx, st, v.CollectionID, v.Name)
		if err != nil {
			return nil, err
		}
		r.Name, r.Renamed = name, true
	}
	if _, err := st.PutObject(ctx, v.Object(v.CollectionID, r.Name), opts); err != nil {
		return nil, fmt.Errorf("store: restore %q: %w", v.Name, err)
	}
	return r, nil
}

// freeName finds an unused name next to name: "a.ics" → "a-restored.ics",
// "a-restored-2.ics", …
func freeName(ctx context.Context, st Store, collectionID int64, name string) (string, error) {
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 1; ; i++ {
		cand := base + "-restored" + ext
		if i > 1 {
			cand = base + "-restored-" + strconv.Itoa(i) + ext
		}
		_, err := st.GetObject(ctx, collectionID, cand)
		switch {
		case errors.Is(err, ErrNotFound):
			return cand, nil
		case err != nil:
			return "", err
		}
	}
}

// RevertClient undoes what one client (by its exact User-Agent) changed in
// the owner's collections since a time: each item it touched goes back to
// the state it had before the client's first change in the window, as new
// changes made by a. Items the client created are removed first, so that
// UIDs they took (a move) are free for the items put back. Changes made by
// other clients to the same items after that are undone too. Items of
// collections now in the trash are left alone (restore the collection).
func RevertClient(ctx context.Context, st Store, ownerID int64, userAgent string, since time.Time, a Actor) ([]Restored, error) {
	if userAgent == "" {
		return nil, errors.New("store: revert client: no User-Agent given")
	}
	vs, err := st.ListVersions(ctx, ownerID, HistoryFilter{UserAgent: userAgent, Since: since})
	if err != nil {
		return nil, err
	}
	type item struct {
		collectionID int64
		name         string
	}
	seen := make(map[item]bool)
	var removals, puts []Version
	for i := len(vs) - 1; i >= 0; i-- { // oldest first
		v := vs[i]
		k := item{v.CollectionID, v.Name}
		if seen[k] || v.TrashID != 0 {
			continue
		}
		seen[k] = true
		if v.Op == OpCreate {
			removals = append(removals, v)
		} else {
			puts = append(puts, v)
		}
	}
	var out []Restored
	for _, v := range append(removals, puts...) {
		if v.Op != OpCreate {
			full, err := st.GetVersion(ctx, ownerID, v.ID)
			if err != nil {
				return out, err
			}
			v = *full
		}
		r, err := restoreVersion(ctx, st, &v, a)
		if err != nil {
			return out, err
		}
		out = append(out, *r)
	}
	return out, nil
}

// RestoreCollection brings a trashed collection back with its properties and
// members, as a new collection (clients see it appear, and sync it in full),
// all of it or nothing (Store.RestoreTrashedCollection). When its name is
// taken it gets a new one: the returned collection says which.
func RestoreCollection(ctx context.Context, st Store, ownerID, trashID int64, opts RestoreCollectionOptions) (*Collection, error) {
	c, err := st.RestoreTrashedCollection(ctx, ownerID, trashID, opts)
	if err != nil {
		return nil, fmt.Errorf("store: restore trashed collection %d: %w", trashID, err)
	}
	return c, nil
}

// FreeCollectionName returns name, or when taken says it is,
// name-restored, name-restored-2, …: the name a restored collection gets.
func FreeCollectionName(name string, taken func(string) (bool, error)) (string, error) {
	for i := 1; ; i++ {
		cand := name
		if i > 1 {
			cand += "-restored"
			if i > 2 {
				cand += "-" + strconv.Itoa(i-1)
			}
		}
		t, err := taken(cand)
		if err != nil || !t {
			return cand, err
		}
	}
}
