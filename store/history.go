package store

import (
	"time"
)

// Actor is who made a change: the authenticated user and the client they
// used, as its User-Agent named itself. Writes carry it into the history.
type Actor struct {
	UserID    int64
	UserAgent string
}

// Op is the kind of change a history entry records.
type Op string

const (
	// OpCreate: the name did not exist before the change; the entry has
	// no previous body.
	OpCreate Op = "create"
	// OpUpdate: the name held the entry's version and was overwritten.
	OpUpdate Op = "update"
	// OpDelete: the name held the entry's version and was deleted (or
	// moved away, or its collection was deleted: TrashID is set then).
	OpDelete Op = "delete"
)

// Version is one entry of an item's history: a change made to the name at
// ChangedAt by Actor, with the state the name had just before it. For
// OpCreate the previous state is "absent" and only UID is filled (the UID
// the change created).
type Version struct {
	ID           int64
	OwnerID      int64
	CollectionID int64 // the collection the name belongs (or belonged) to
	// TrashID is the trashed collection this version was kept with when
	// its collection was deleted; 0 otherwise.
	TrashID     int64
	Name        string
	Op          Op
	UID         string
	ETag        string
	ContentType string
	Component   string
	Size        int64
	FirstStart  *time.Time
	LastEnd     *time.Time
	SearchText  string
	ChangedAt   time.Time
	Actor       Actor
	// Body holds the previous bytes; only filled by GetVersion.
	Body []byte
}

// Object returns the version as an object of collectionID, ready for
// PutObject (its index travels with it, so no parsing is needed).
func (v *Version) Object(collectionID int64, name string) *Object {
	return &Object{
		CollectionID: collectionID,
		Name:         name,
		UID:          v.UID,
		ETag:         v.ETag,
		ContentType:  v.ContentType,
		Component:    v.Component,
		Size:         int64(len(v.Body)),
		FirstStart:   v.FirstStart,
		LastEnd:      v.LastEnd,
		SearchText:   v.SearchText,
		Body:         v.Body,
	}
}

// HistoryFilter narrows ListVersions; zero fields do not narrow.
type HistoryFilter struct {
	CollectionID int64
	Name         string // with CollectionID: one item's history
	TrashID      int64  // only the versions kept with this trashed collection
	Op           Op
	UserAgent    string    // exactly this client
	Since        time.Time // changed at or after
	Limit        int       // at most this many, newest first
}

// TrashedCollection is a deleted collection kept in the trash: its
// properties as they were, and Items, the number of its members kept.
type TrashedCollection struct {
	ID         int64 // the trash entry
	Collection Collection
	DeadProps  []DeadProp
	Items      int
	DeletedAt  time.Time
	Actor      Actor
}
