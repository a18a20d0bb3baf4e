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
// links, derived cursors, queued mail, the push keys, push registrations,
// locks; so every record follows those it refers to.
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
	DerivedCursor  *DerivedCursor
	Mail           *Mail // with Body: a queued iMIP message
	// PushKeys is the server's VAPID key pair: a restore keeps it, else
	// every push registration would have to be made again (RFC 8292 §2:
	// the push service checks the key the subscription was made with).
	PushKeys         *PushKeys
	PushRegistration *PushRegistration
	Lock             *Lock // an unexpired one
}

// DerivedCursor is how far a derived collection (the Birthdays calendar)
// has applied one source collection's change log (SetDerivedCursor).
type DerivedCursor struct {
	CollectionID, SourceID, ModSeq int64
}

// PushKeys is the server's VAPID key pair (EnsurePushKeys).
type PushKeys struct {
	Private, Public string
	Created         time.Time
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

// Tables a dump leaves out, and why; every other table of a store is
// dumped. Each store's tests list its tables and fail on one that is in
// neither DumpedTables nor UndumpedTables, so a new table cannot be left
// out of backups silently.
var UndumpedTables = map[string]string{
	"sessions": "web UI sessions are ephemeral credentials: a restore signs everyone out of the web UI " +
		"rather than let a session outlive the server that issued it",
	"principal_terms": "the principal search index, derived from users and groups and rebuilt by Load",
	"push_pending": "the push fan-out queue: a hint that a collection changed, not data; clients that miss " +
		"a push find the change at their next sync",
	"push_deliveries":   "the push delivery queue, as push_pending",
	"schema_migrations": "the schema version, set by the migrations that built the store",
}

// DumpedTables are the tables a dump carries, each in the record kinds
// named in Record.
var DumpedTables = []string{"users", "app_passwords", "collections", "collection_properties", "objects",
	"object_properties", "tombstones", "collection_trash", "object_versions", "groups", "group_members",
	"shares", "share_views", "grants", "public_links", "derived_cursors", "mail_queue", "push_keys",
	"push_registrations", "locks"}

// ErrNotEmpty: Load was given a store that already holds users.
var ErrNotEmpty = errors.New("store: the store is not empty")
