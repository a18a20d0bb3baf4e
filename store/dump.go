package store

import (
	"errors"
	"time"
)

// Tombstone is a deleted name a collection remembers for incremental sync
// (RFC 6578): the modseq of the deletion and when it happened.
type Tombstone struct {
	CollectionID int64
	Name         string
	ModSeq       int64
	DeletedAt    time.Time
}

// Record is one entry of a whole-store dump: exactly one field is set
// (DeadProps goes with Collection or Object; Admin, LastLogin and FreeBusyHidden with
// User). Dump produces, and Load takes, records in this order: users, app
// passwords, collections, objects, tombstones, trashed collections,
// versions, groups, group members, shares, share views, grants, public
// links; so every record follows those it refers to.
type Record struct {
	User      *User
	Admin     bool       // of User: the web UI's admin role
	LastLogin *time.Time // of User: the last web sign-in; nil when never
	// FreeBusyHidden (of User): the user turned FreeBusyEveryone off.
	FreeBusyHidden bool
	AppPassword    *AppPassword
	Collection     *Collection
	DeadProps      []DeadProp // of Collection or Object
	Object         *Object    // with Body
	Tombstone      *Tombstone
	Trashed        *TrashedCollection
	Version        *Version // with Body
	Group          *Group
	GroupMember    *GroupMember
	Share          *Share
	ShareView      *SavedShareView
	Grant          *Grant
	PublicLink     *PublicLink
}

// GroupMember is one membership of a dump.
type GroupMember struct {
	GroupID, UserID int64
}

// SavedShareView is one sharee's own name and colour of a collection, as a
// dump holds it.
type SavedShareView struct {
	UserID, CollectionID int64
	DisplayName, Color   string
}

// Web sessions and WebDAV locks are not part of a dump: they are
// ephemeral, and a restored store signs everyone out of the web UI and
// starts with no locks (clients lock again).

// ErrNotEmpty: Load was given a store that already holds users.
var ErrNotEmpty = errors.New("store: the store is not empty")
