package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"
)

// Sentinel errors. Backends wrap other failures with %w and context.
var (
	// ErrNotFound: the user, collection or object does not exist (or is not
	// visible to the caller).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a uniqueness rule was violated (a duplicate username,
	// collection name, or object UID).
	ErrConflict = errors.New("store: conflict")
	// ErrPreconditionFailed: an If-Match or If-None-Match condition did not
	// hold when the write was attempted.
	ErrPreconditionFailed = errors.New("store: precondition failed")
	// ErrUIDChanged: a write would replace the object at a name with one of
	// another UID. RFC 4791 §5.3.2.1 and RFC 6352 §6.3.2.1 (no-uid-conflict)
	// keep a resource's UID for its lifetime; the write changes nothing.
	ErrUIDChanged = errors.New("store: the object at that name has another UID")
	// ErrSchemaTooNew: the database was migrated by a newer Davenport.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")
	// ErrUnavailable: the database cannot be reached or refused the work
	// for a reason that passes (a restart, a lost connection, an I/O
	// error, a statement timeout, a full pool). Nothing was changed, or
	// the change was rolled back; the same request may succeed later.
	ErrUnavailable = errors.New("store: database unavailable")
	// ErrQuotaExceeded: the write would take the user's storage use past
	// their quota (RFC 4331); it changed nothing.
	ErrQuotaExceeded = errors.New("store: the storage quota would be exceeded")
)

// Unavailable returns err marked so that errors.Is(err, ErrUnavailable)
// holds, keeping err's own chain (and text) for the log. Backends call it
// on failures their driver reports at the connection level.
func Unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return &unavailableError{err}
}

// Errorf is fmt.Errorf for a backend's errors: the result is marked
// ErrUnavailable (see Unavailable) when the backend's classifier says the
// failure passes. Each backend returns its driver errors through it.
func Errorf(unavailable func(error) bool, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	if unavailable(err) {
		return Unavailable(err)
	}
	return err
}

type unavailableError struct{ err error }

func (e *unavailableError) Error() string        { return e.err.Error() }
func (e *unavailableError) Unwrap() error        { return e.err }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// UIDConflictError reports that another object in the same collection already
// uses the UID of the object being written. It matches ErrConflict with
// errors.Is, and carries the name of the resource that holds the UID so the
// protocol layer can name it in CALDAV:no-uid-conflict / CARDDAV:no-uid-conflict.
type UIDConflictError struct {
	UID  string
	Name string // the existing object's resource name
}

func (e *UIDConflictError) Error() string {
	return fmt.Sprintf("store: uid %q already used by %q", e.UID, e.Name)
}

// Is makes errors.Is(err, ErrConflict) true for a UIDConflictError.
func (e *UIDConflictError) Is(target error) bool { return target == ErrConflict }

// Kind is the kind of a collection.
type Kind string

const (
	KindCalendar    Kind = "calendar"
	KindAddressBook Kind = "addressbook"
	// KindInbox and KindOutbox are a user's schedule inbox and outbox (RFC
	// 6638 §2.1, §2.2): one of each per user, made with the user, never by
	// clients.
	KindInbox  Kind = "inbox"
	KindOutbox Kind = "outbox"
	// KindFiles is a plain WebDAV folder. Folders nest: a folder's Name is
	// its path below the user's files home, segments joined by "/", and the
	// home itself is the folder named "" (made with the user). A folder
	// exists only while its parent does.
	KindFiles Kind = "files"
	// KindBirthdays is the Birthdays calendar: read-only, derived from the
	// owner's address books (caldav.BirthdaysKind), in the calendar home.
	KindBirthdays Kind = "birthdays"
)

// User is an account.
type User struct {
	ID int64
	// Username is always canonical (CanonicalUsername): names are
	// case-insensitive and compared in NFC.
	Username     string
	DisplayName  string
	Email        string
	PasswordHash string // PHC-formatted argon2id hash; never logged
	Created      time.Time
	// UnlockedAt is when the user's failed logins were last forgiven
	// (UnlockUser); zero when never.
	UnlockedAt time.Time
}

// AppPassword is an extra password for one device, revocable on its own.
type AppPassword struct {
	ID           int64
	UserID       int64
	Label        string
	PasswordHash string
	Created      time.Time
	// LastUsed is when the password last authenticated a request, written
	// at most about once a minute; nil when never used.
	LastUsed *time.Time
}

// Collection is a calendar or an address book.
type Collection struct {
	ID          int64
	OwnerID     int64
	Kind        Kind
	Name        string // the URL segment, unique per owner and kind
	DisplayName string
	Description string
	Color       string // Apple calendar-color value, e.g. "#FF2968FF"
	// ColorSymbolic keeps the symbolic-color attribute Apple sends with
	// calendar-color, so it can be returned as it came.
	ColorSymbolic string
	Order         *int   // Apple calendar-order; nil when never set
	Timezone      string // calendar-timezone: a VCALENDAR with one VTIMEZONE
	// Components lists the component names a calendar accepts (VEVENT,
	// VTODO, VJOURNAL); empty for address books.
	Components []string
	// ModSeq is the modseq of the last change to the collection's members.
	ModSeq int64
	// PrunedModSeq is the highest modseq whose tombstones may have been
	// pruned; a sync token below it can no longer be served (one equal to
	// it can: every change after it is still known).
	PrunedModSeq int64
	Created      time.Time
	// Updated is the time of the last change to the collection's
	// properties or members: every write that bumps ModSeq sets it too.
	Updated time.Time
	// Shared tells that the collection has at least one share (any
	// status); GetCollection, ListCollections and the shared-collection
	// calls fill it, in the same query.
	Shared bool
}

// CollectionPatch names the collection properties to change; nil fields are
// left alone. Order's outer pointer selects the field, the inner one may be nil
// to clear it.
type CollectionPatch struct {
	DisplayName   *string
	Description   *string
	Color         *string
	ColorSymbolic *string
	Order         **int
	Timezone      *string
	// DeadProps are set (XML non-empty) or removed (XML empty). A DeadProp
	// without a Name is invalid and fails the whole patch.
	DeadProps []DeadProp
}

// DeadProp is a property the server stores without interpreting it
// (RFC 4918 §4.2): identified by namespace and local name, kept as the raw XML
// of the whole property element.
type DeadProp struct {
	Namespace string
	Name      string
	XML       string
}

// Object is one calendar object resource or one vCard.
type Object struct {
	ID           int64
	CollectionID int64
	Name         string // the resource name, opaque, unique per collection
	UID          string // unique per collection
	ETag         string // strong ETag value without quotes
	ContentType  string // e.g. "text/calendar; charset=utf-8"
	Component    string // VEVENT, VTODO, VJOURNAL, VCARD …
	Size         int64
	ModSeq       int64
	// FirstStart and LastEnd bound the span of all instances, for SQL
	// narrowing of time-range queries. nil means unbounded on that side (an
	// open-ended RRULE has LastEnd nil).
	FirstStart *time.Time
	LastEnd    *time.Time
	// SearchText is normalised text for prefiltering address-book queries.
	SearchText string
	Created    time.Time
	Updated    time.Time
	// Body holds the raw bytes; only filled by calls that ask for bodies.
	Body []byte
	// Unscheduled is set by a writer that knows the body is not a
	// scheduling object resource (RFC 6638 §3.1: no ORGANIZER): a later
	// write over it need not read the old body for scheduling. False means
	// unknown, so a writer that does not look leaves it false.
	Unscheduled bool
}

// MaxMailCount bounds what CountMail counts.
const MaxMailCount = 100000

// Mail is one iMIP message (RFC 6047) in the outgoing queue: an iTIP
// message for a calendar user who is not a user of this server.
type Mail struct {
	ID     int64
	UserID int64  // the sending user: their copy of UID records the outcome
	UID    string // the UID of the event the message is about
	// From and To are calendar user addresses (mailto:…): the sender's (the
	// ORGANIZER, or the ATTENDEE replying) and the recipient's.
	From, To string
	Method   string // the iTIP method: REQUEST, CANCEL, REPLY, …
	Body     []byte // the iCalendar object, METHOD included
	// Attempts counts the claims so far (ClaimMail increments it).
	Attempts    int
	NextAttempt time.Time
	LastError   string
	Created     time.Time
}

// PutObjectOptions are the conditions of a write, checked inside the write
// transaction. An If-Match condition on a name that does not exist fails
// (RFC 9110 §13.1.1: there is no current representation to match), for
// writes, deletes and moves alike.
type PutObjectOptions struct {
	IfMatch     string // the ETag (without quotes) the current object must have; "" for none
	IfNoneMatch bool   // If-None-Match: * — the name must not exist
	Actor       Actor  // who writes, for the history
	// Mail is queued (see ClaimMail) in the write's transaction: it is
	// sent if and only if the write is stored.
	Mail []Mail
}

// DeleteObjectOptions are the conditions of a delete.
type DeleteObjectOptions struct {
	IfMatch string
	Actor   Actor
	Mail    []Mail // queued in the delete's transaction, as for PutObject
}

// TreeOptions say what ReplaceCollectionTree does.
type TreeOptions struct {
	Move bool // MOVE; else COPY
	Deep bool // a COPY with Depth: infinity (a MOVE always is)
}

// RestoreCollectionOptions are the conditions of RestoreTrashedCollection.
type RestoreCollectionOptions struct {
	Actor Actor // who restores, for the history
	// Quota bounds the owner's storage use in bytes after the restore
	// (RFC 4331); 0 means none.
	Quota int64
}

// MoveObjectOptions are the conditions of a move.
type MoveObjectOptions struct {
	IfMatch   string // condition on the source
	Overwrite bool   // replace an existing destination (RFC 4918 §10.6)
	Actor     Actor
}

// MoveCollectionOptions are the conditions of a collection move.
type MoveCollectionOptions struct {
	Overwrite bool // replace an existing collection at the new name (RFC 4918 §9.9.3)
}

// ListObjectsOptions narrow a listing. Zero values mean no narrowing.
type ListObjectsOptions struct {
	// WithBody loads Body; listings that need only names and ETags leave it off.
	WithBody bool
	// Brief loads only what a listing of members writes: ID,
	// CollectionID, Name, ETag, ContentType, Size, ModSeq, Created and
	// Updated; the other fields are left zero. A PROPFIND Depth 1 of
	// 100,000 members so reads 9 columns a row instead of 16. Ignored
	// with WithBody.
	Brief bool
	// Component keeps only objects of this component (e.g. "VTODO").
	Component string
	// Start and End keep objects whose instance span overlaps [Start, End).
	Start, End *time.Time
	// SearchText keeps objects whose SearchText contains every one of these
	// (already normalised) substrings.
	SearchText []string
	// After keeps only objects whose name sorts (bytewise) after it, and
	// Limit, when positive, returns at most that many: together they page
	// through a large collection in name order, so no request holds a whole
	// collection in memory.
	After string
	Limit int
}

// Change is one entry of a collection's change log since a modseq.
type Change struct {
	Name    string
	ModSeq  int64
	Deleted bool
	Object  *Object // nil for a deletion; Body filled only when asked
}

// Changes is the answer to ListChangesSince.
type Changes struct {
	Changes []Change // ordered by ModSeq ascending
	// ModSeq is the modseq up to which Changes is complete: the collection's
	// modseq when nothing was cut off, else the modseq of the last change
	// returned.
	ModSeq    int64
	Truncated bool
}

// Store is the storage contract. Every method is safe for concurrent use.
type Store interface {
	Ping(ctx context.Context) error
	Close() error
	// CheckIntegrity reads the whole store and reports every broken
	// invariant it finds, one line each, none when the store is sound: the
	// database engine's own checks, and the ones of this schema that the
	// engine does not enforce (collections' object counts and sizes against
	// their members, members and tombstones stamped after their
	// collection's modseq, a name both live and deleted, a size that is
	// not its body's). It changes nothing; the error is for failing to
	// read, not for what was found.
	CheckIntegrity(ctx context.Context) ([]string, error)

	// Users.
	// CreateUser inserts u (setting ID and Created, and Username to its
	// canonical form) together with its initial collections, in one
	// transaction. A name outside ValidateUsername's rule is
	// ErrInvalidUsername; a name equal to an existing one after
	// CanonicalUsername is ErrConflict.
	CreateUser(ctx context.Context, u *User, collections []Collection) error
	// GetUser returns the user whose name is username in any case or
	// Unicode form (it is looked up as CanonicalUsername(username)).
	GetUser(ctx context.Context, username string) (*User, error)
	// GetUserCredentials returns the user with that username together with
	// their app passwords, oldest first, as GetUser and ListAppPasswords
	// would, but read in one query: one round trip and one snapshot, so a
	// password change or revocation is seen whole or not at all. It is the
	// lookup that authenticates every request; it reads the database each
	// time, never a cache, so a change made by any process is seen by the
	// next request. username is looked up as GetUser does; an unknown one
	// is ErrNotFound.
	GetUserCredentials(ctx context.Context, username string) (*User, []AppPassword, error)
	// WatchCredentials calls changed with a user's id each time, in any
	// process using this store's database, the user's password or name
	// changes, the user is deleted, or one of their app passwords is
	// revoked or replaced; and with 0 when any user's may have changed
	// unseen: once it is watching, and again after each lost and restored
	// connection (notifications sent meanwhile are lost). It blocks until
	// ctx ends, then returns nil; a lost connection is retried with back-off,
	// never returned. Holders of anything derived from credentials (the
	// authentication cache) drop it when told. A store only one process
	// uses at a time (the embedded one) has nothing to report: it calls
	// changed(0) once and waits for ctx.
	WatchCredentials(ctx context.Context, changed func(userID int64)) error
	GetUserByID(ctx context.Context, id int64) (*User, error)
	// GetUsersByID returns the users of those ids that exist, in no
	// particular order, in one query.
	GetUsersByID(ctx context.Context, ids []int64) ([]User, error)
	ListUsers(ctx context.Context) ([]User, error)
	CountUsers(ctx context.Context) (int, error)
	SetPasswordHash(ctx context.Context, userID int64, hash string) error
	// SetEmail replaces the user's email address (their calendar user
	// address for scheduling, RFC 6638 §2.4.1).
	SetEmail(ctx context.Context, userID int64, email string) error
	// SetDisplayName replaces the user's display name (a directory sign-in
	// keeps it as the directory has it).
	SetDisplayName(ctx context.Context, userID int64, displayName string) error
	// UnlockUser sets the user's UnlockedAt to now: servers stop counting
	// the failed logins made before it (see package auth).
	UnlockUser(ctx context.Context, userID int64) error
	// DeleteUser removes the user with all their collections and objects.
	DeleteUser(ctx context.Context, userID int64) error

	CreateAppPassword(ctx context.Context, p *AppPassword) error
	ListAppPasswords(ctx context.Context, userID int64) ([]AppPassword, error)
	DeleteAppPassword(ctx context.Context, userID, id int64) error

	// Collections, always scoped to their owner.
	CreateCollection(ctx context.Context, c *Collection) error
	GetCollection(ctx context.Context, ownerID int64, kind Kind, name string) (*Collection, error)
	ListCollections(ctx context.Context, ownerID int64, kind Kind) ([]Collection, error)
	// UpdateCollection applies p atomically: all of it or none. In the same
	// transaction it queues a WebDAV-Push property-update for the
	// collection's registrations, as PutShare, SetShareStatus and
	// DeleteShare do (the share list is a property).
	UpdateCollection(ctx context.Context, ownerID, id int64, p CollectionPatch) error
	// DeleteCollection removes the collection; while history is kept it
	// goes to the trash with its members (ListTrashedCollections).
	DeleteCollection(ctx context.Context, ownerID, id int64) error
	// MoveCollection renames the owner's collection to newName among the
	// owner's collections of its kind, in one transaction, keeping its ID,
	// objects, tombstones and dead properties. The rename starts a new
	// sync-token space: ModSeq is bumped and PrunedModSeq raised to it, so
	// no token issued before the rename is valid after it. An existing
	// collection at newName is ErrPreconditionFailed, unless
	// opts.Overwrite, when it is deleted first (created is then false).
	MoveCollection(ctx context.Context, ownerID, id int64, newName string, opts MoveCollectionOptions) (created bool, err error)
	// ListDeadProps returns the collection's dead properties ordered by
	// namespace, then name (bytewise).
	ListDeadProps(ctx context.Context, collectionID int64) ([]DeadProp, error)
	// UsedBytes is the sum of the sizes of all objects the user owns.
	UsedBytes(ctx context.Context, ownerID int64) (int64, error)

	// Objects. Collection IDs come from an owner-scoped GetCollection.
	// GetObject returns the object with its body.
	GetObject(ctx context.Context, collectionID int64, name string) (*Object, error)
	// GetObjects returns the objects among names that exist, in no
	// particular order, with one query.
	GetObjects(ctx context.Context, collectionID int64, names []string, withBody bool) ([]Object, error)
	// ListObjects returns objects ordered by name (bytewise).
	ListObjects(ctx context.Context, collectionID int64, opts ListObjectsOptions) ([]Object, error)
	// PutObject creates or replaces o (by CollectionID and Name), bumping the
	// collection's modseq. It sets o's ID, Size (len(Body)), ModSeq, Created
	// and Updated, and reports whether the object was created. It returns
	// ErrPreconditionFailed when opts do not hold, *UIDConflictError when
	// another name holds o.UID, and ErrUIDChanged when the name holds an
	// object with another UID (checked inside the write transaction).
	PutObject(ctx context.Context, o *Object, opts PutObjectOptions) (created bool, err error)
	// DeleteObject removes the object and leaves a tombstone. A missing name
	// is ErrNotFound, or ErrPreconditionFailed when opts.IfMatch is set.
	DeleteObject(ctx context.Context, collectionID int64, name string, opts DeleteObjectOptions) error
	// MoveObject moves an object to another name, possibly in another
	// collection of the same kind, in one transaction: a tombstone at the
	// source, a change at the destination. A missing source is ErrNotFound
	// (ErrPreconditionFailed when opts.IfMatch is set), an existing
	// destination without opts.Overwrite is ErrPreconditionFailed, an
	// existing destination with another UID is ErrUIDChanged (except in
	// a KindFiles folder, whose UIDs are the store's own), and another
	// name holding the UID in the destination is *UIDConflictError.
	MoveObject(ctx context.Context, fromCollectionID int64, name string, toCollectionID int64, newName string, opts MoveObjectOptions) (created bool, err error)

	// Groups. Names are looked up as CanonicalUsername(name); a duplicate is
	// ErrConflict.
	CreateGroup(ctx context.Context, g *Group) error
	GetGroup(ctx context.Context, name string) (*Group, error)
	ListGroups(ctx context.Context) ([]Group, error)
	// DeleteGroup removes the group, its memberships and its shares.
	DeleteGroup(ctx context.Context, id int64) error
	// AddGroupMember is idempotent; an unknown group or user is ErrNotFound.
	AddGroupMember(ctx context.Context, groupID, userID int64) error
	// RemoveGroupMember of a user who is not a member is ErrNotFound.
	RemoveGroupMember(ctx context.Context, groupID, userID int64) error
	// ListGroupMembers returns the members ordered by user name.
	ListGroupMembers(ctx context.Context, groupID int64) ([]User, error)
	// ListUserGroups returns the groups the user is a member of, by name.
	ListUserGroups(ctx context.Context, userID int64) ([]Group, error)

	// Principal lookups (search.go).
	// GetUserByEmail returns the user whose email address is email,
	// compared without regard to ASCII case, through an index; when
	// several users share it, the first by user name. An empty email or
	// none matching is ErrNotFound.
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	// SearchPrincipals returns the users and groups that have a search
	// term (UserTerms, GroupTerms) of one of fields starting with prefix
	// ("" for any), each once. It reads the matching terms in index order
	// and stops after limit of them, so its work is bounded by limit, not
	// by the number of principals; more reports that it stopped with terms
	// left. The order of the answer is unspecified.
	SearchPrincipals(ctx context.Context, prefix string, fields SearchField, limit int) (found []Principal, more bool, err error)

	// Shares.
	// PutShare creates the share of s.CollectionID with s.UserID or
	// s.GroupID, or when one exists for that sharee changes its Access and
	// Status; it sets s.ID and s.Created. A group share is always accepted.
	// Sharing with the collection's owner is ErrConflict; an unknown
	// collection, user or group is ErrNotFound.
	PutShare(ctx context.Context, s *Share) error
	// ListShares returns the collection's shares, user shares then group
	// shares, each by sharee id.
	ListShares(ctx context.Context, collectionID int64) ([]Share, error)
	// ListOwnerShares returns the shares of every collection of the
	// owner, by collection, each collection's in ListShares' order: what
	// a listing of the owner's home names in DAV:acl and CS:invite, in one
	// query.
	ListOwnerShares(ctx context.Context, ownerID int64) ([]Share, error)
	// ListInvitations returns the user's own (not group) shares in any
	// status, by share id, each with its collection and owner: the
	// invitations a sharee answers.
	ListInvitations(ctx context.Context, userID int64) ([]Invitation, error)
	// SetShareStatus records a sharee's answer to a user share.
	SetShareStatus(ctx context.Context, shareID int64, status ShareStatus) error
	// DeleteShare revokes one share of the collection.
	DeleteShare(ctx context.Context, collectionID, shareID int64) error
	// ListSharedCollections returns the collections of that kind others
	// share with the user (accepted user shares and group shares), by
	// collection id, in one query.
	ListSharedCollections(ctx context.Context, userID int64, kind Kind) ([]SharedCollection, error)
	// GetSharedCollection returns one collection as ListSharedCollections
	// would; ErrNotFound when it is not shared with the user (or is theirs).
	GetSharedCollection(ctx context.Context, userID, collectionID int64) (*SharedCollection, error)
	// SetShareView changes the user's own name and colour of a collection
	// shared with them; ErrNotFound when it is not.
	SetShareView(ctx context.Context, userID, collectionID int64, v ShareView) error

	// Grants: delegation (CalendarServer calendar proxies) and free-busy.
	// PutGrant creates the owner's grant to g.UserID or g.GroupID, or
	// changes the access of the one that exists; it sets g.ID and
	// g.Created. A grant to the owner is ErrConflict; an unknown user or
	// group is ErrNotFound.
	PutGrant(ctx context.Context, g *Grant) error
	// ListGrants returns the owner's grants, user grants then group
	// grants, each by grantee id.
	ListGrants(ctx context.Context, ownerID int64) ([]Grant, error)
	// ListGrantsTo returns the grants that reach the user, made to them or
	// to a group they are a member of, by id.
	ListGrantsTo(ctx context.Context, userID int64) ([]Grant, error)
	// DeleteGrant removes one of the owner's grants.
	DeleteGrant(ctx context.Context, ownerID, id int64) error
	// GrantOf is the strongest access owner grants user, in one query: the
	// user's own grant, their groups', and GrantFreeBusy when the owner
	// lets everyone see their busy time; "" when none (and for the owner).
	GrantOf(ctx context.Context, ownerID, userID int64) (GrantAccess, error)
	// SetFreeBusyEveryone sets whether every user may see the user's busy
	// time (the default for a new user is true).
	SetFreeBusyEveryone(ctx context.Context, userID int64, everyone bool) error
	// FreeBusyEveryone reports the user's setting.
	FreeBusyEveryone(ctx context.Context, userID int64) (bool, error)

	// Public links.
	// CreatePublicLink inserts l (Token set by the caller), setting ID and
	// Created; an unknown collection is ErrNotFound.
	CreatePublicLink(ctx context.Context, l *PublicLink) error
	// ListPublicLinks returns the collection's links by id.
	ListPublicLinks(ctx context.Context, collectionID int64) ([]PublicLink, error)
	// DeletePublicLink revokes one link of the collection.
	DeletePublicLink(ctx context.Context, collectionID, id int64) error
	// GetPublicLink returns the link whose token is token, found by
	// TokenHash and compared in constant time, with its collection;
	// ErrNotFound when there is none.
	GetPublicLink(ctx context.Context, token string) (*PublicLink, *Collection, error)
	// Folders (KindFiles): trees of collections named by their paths.
	// Each call works on the collection name and every collection below
	// it ("a" and "a/…") in one transaction.
	// DeleteCollectionTree removes the owner's collection name of kind and
	// everything below it, each to the trash as DeleteCollection does.
	// A missing name is ErrNotFound.
	DeleteCollectionTree(ctx context.Context, ownerID int64, kind Kind, name string) error
	// MoveCollectionTree renames the owner's collection from, and every
	// collection below it, to the same places below to; each keeps its ID,
	// members and dead properties and starts a new sync-token space, as
	// MoveCollection does. An existing to is ErrPreconditionFailed (the
	// caller deletes what it overwrites first); a missing from is
	// ErrNotFound.
	MoveCollectionTree(ctx context.Context, ownerID int64, kind Kind, from, to string) error
	// CopyCollectionTree copies the owner's collection from with its dead
	// properties to a new collection to; when deep, with its members and
	// theirs, and every collection below from too (else, RFC 4918 §9.8.3,
	// the collection alone). Copied members get new UIDs. An existing to
	// is ErrPreconditionFailed; a missing from is ErrNotFound.
	CopyCollectionTree(ctx context.Context, ownerID int64, kind Kind, from, to string, deep bool) error
	// ReplaceCollectionTree is a COPY or MOVE of the owner's collection
	// from onto the existing collection to with Overwrite: T (RFC 4918
	// §9.8.4, §9.9.3), all of it or nothing: to and every collection
	// below it are deleted as DeleteCollectionTree does, then from is
	// moved (MoveCollectionTree) or copied (CopyCollectionTree) there, in
	// one transaction; on any failure the destination is as it was. A
	// missing to or from is ErrNotFound.
	ReplaceCollectionTree(ctx context.Context, ownerID int64, kind Kind, from, to string, opts TreeOptions) error
	// ListObjectDeadProps returns the object's dead properties ordered by
	// namespace, then name (bytewise). They stay with the object when it is
	// replaced by PutObject or moved by MoveObject, and go with it.
	ListObjectDeadProps(ctx context.Context, objectID int64) ([]DeadProp, error)
	// UpdateObjectDeadProps sets (XML non-empty) or removes (XML empty) the
	// dead properties of the object at name, atomically; a missing object
	// is ErrNotFound.
	UpdateObjectDeadProps(ctx context.Context, collectionID int64, name string, props []DeadProp) error

	// FindObjectByUID returns the object with that UID, with its body, in
	// any of the owner's collections of kind, or ErrNotFound. Scheduling
	// finds an attendee's or organizer's copy of an event with it (RFC 6638
	// §3.1: copies are matched by UID, wherever the user keeps them).
	FindObjectByUID(ctx context.Context, ownerID int64, kind Kind, uid string) (*Object, error)

	// The iMIP mail queue. Messages enter it with the writes that cause
	// them (PutObjectOptions.Mail, DeleteObjectOptions.Mail).
	// ClaimMail takes up to limit messages due at now, oldest first, and
	// makes them due again only at now+lease (so a sender that dies
	// mid-send leaves them to another), incrementing Attempts: concurrent
	// callers, in this process or another, never claim the same message.
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Mail, error)
	// RetryMail makes a claimed message due again at at, with the reason.
	RetryMail(ctx context.Context, id int64, at time.Time, lastError string) error
	// DeleteMail removes a message that was sent or given up.
	DeleteMail(ctx context.Context, id int64) error
	// ListMail returns the queued messages, oldest first.
	ListMail(ctx context.Context) ([]Mail, error)
	// CountMail counts the queued messages for monitoring: due ones (at
	// now, including those whose lease ran out) and waiting ones (retried
	// later or claimed by a sender). It counts at most MaxMailCount rows,
	// so a huge backlog costs a bounded query.
	CountMail(ctx context.Context, now time.Time) (due, waiting int, err error)
	// QueueMail queues messages that no object write causes (answers to
	// messages that came in), due now; it sets their IDs.
	QueueMail(ctx context.Context, mail []Mail) error

	// Sync.
	// ListChangesSince lists the members changed after modseq (live objects
	// and tombstones), at most limit of them when limit > 0.
	// ListDerivedCursors returns, for a derived collection (the Birthdays
	// calendar), the modseq of each source collection up to which its
	// change log has been applied, by source collection ID.
	ListDerivedCursors(ctx context.Context, collectionID int64) (map[int64]int64, error)
	// SetDerivedCursor records that source's changes up to modseq are
	// applied to collection.
	SetDerivedCursor(ctx context.Context, collectionID, sourceID, modseq int64) error
	// DeleteDerivedCursor forgets a source (a deleted address book).
	DeleteDerivedCursor(ctx context.Context, collectionID, sourceID int64) error

	ListChangesSince(ctx context.Context, collectionID int64, modseq int64, limit int, withBody bool) (*Changes, error)
	// PruneTombstones deletes tombstones older than before and raises each
	// affected collection's PrunedModSeq. It returns how many were removed.
	PruneTombstones(ctx context.Context, before time.Time) (int64, error)

	// History and trash. While history is kept (the default), every
	// PutObject, DeleteObject and MoveObject adds one Version in its own
	// transaction, and DeleteCollection keeps the collection in the trash.
	// Nothing else reads these tables: listings, queries and sync never
	// touch them.
	// ListVersions returns the owner's versions that pass f, newest first,
	// without bodies.
	ListVersions(ctx context.Context, ownerID int64, f HistoryFilter) ([]Version, error)
	// GetVersion returns one of the owner's versions with its body.
	GetVersion(ctx context.Context, ownerID, id int64) (*Version, error)
	// ListTrashedCollections returns the owner's deleted collections, newest
	// first.
	ListTrashedCollections(ctx context.Context, ownerID int64) ([]TrashedCollection, error)
	// DeleteTrashedCollection forgets a trashed collection and its versions.
	DeleteTrashedCollection(ctx context.Context, ownerID, id int64) error
	// RestoreTrashedCollection brings the owner's trashed collection id
	// back in one transaction, all of it or nothing: a new collection
	// (new ID, new sync-token space) with the properties and dead
	// properties it had, named as it was or, when that name is taken,
	// NAME-restored, NAME-restored-2, …; every member it had, with its
	// bytes, name and UID, each a creation made by opts.Actor in the
	// history; and the trash entry gone. An unknown id is ErrNotFound; a
	// restore that would take the owner's storage use past opts.Quota is
	// ErrQuotaExceeded.
	RestoreTrashedCollection(ctx context.Context, ownerID, id int64, opts RestoreCollectionOptions) (*Collection, error)
	// PurgeTrash forgets the owner's deleted items and collections (the
	// versions of OpDelete and the trashed collections) and returns how
	// many entries went.
	PurgeTrash(ctx context.Context, ownerID int64) (int64, error)
	// PruneHistory forgets versions and trashed collections from before
	// before, and the versions of an item beyond its newest maxPerItem
	// (when positive). It returns how many entries went.
	PruneHistory(ctx context.Context, before time.Time, maxPerItem int) (int64, error)

	// Backup and restore.
	// Dump calls fn with every record of the store, all read in one
	// consistent snapshot while writers carry on, in Record's order and by
	// ascending ID within a kind. Memory does not grow with the store: rows
	// are streamed. fn's error stops the dump and is returned.
	Dump(ctx context.Context, fn func(Record) error) error
	// Load inserts the records, with their IDs, modseqs, times and bytes as
	// they are, into a store without users (else ErrNotEmpty), in one
	// transaction: all of them or none. Sync tokens issued by the dumped
	// store stay valid in the loaded one.
	Load(ctx context.Context, records iter.Seq2[Record, error]) error

	// TouchAppPassword records that the user's app password id
	// authenticated a request at at.
	TouchAppPassword(ctx context.Context, userID, id int64, at time.Time) error

	// Accounts, for the web UI.
	// GetAccount returns the user's account summary; ListAccounts every
	// user's, ordered by username.
	GetAccount(ctx context.Context, userID int64) (*Account, error)
	ListAccounts(ctx context.Context) ([]Account, error)
	SetUserAdmin(ctx context.Context, userID int64, admin bool) error
	// RecordLogin sets the user's last sign-in time.
	RecordLogin(ctx context.Context, userID int64, at time.Time) error
	// ListCollectionTotals returns the item count and size of each of the
	// owner's collections, read from counters the store maintains.
	ListCollectionTotals(ctx context.Context, ownerID int64) ([]CollectionTotals, error)

	// Locks (RFC 4918 §6, §7; see Lock). Expired locks count nowhere:
	// every call below ignores them.
	// CreateLock stores l, setting Created and Expires (Created plus
	// Timeout), unless an unexpired lock conflicts with it (Lock.Conflicts),
	// which is *LockConflictError. The check and the insert are one
	// transaction, serialized against every other CreateLock, so two server
	// instances cannot both take conflicting locks. A duplicate token is
	// ErrConflict.
	CreateLock(ctx context.Context, l *Lock) error
	// ListLocks returns the locks whose root is path or one of its
	// ancestors, and those whose root is below path when it is a collection
	// (LockQuery), ordered by root, then token.
	ListLocks(ctx context.Context, path string) ([]Lock, error)
	// RefreshLock restarts the timeout of the lock with token, now set to
	// timeout, and returns the lock; ErrNotFound when there is none.
	RefreshLock(ctx context.Context, token string, timeout time.Duration) (*Lock, error)
	// DeleteLock removes the lock with token; ErrNotFound when none.
	DeleteLock(ctx context.Context, token string) error
	// DeleteLocks removes the locks whose root is path, or below it when it
	// is a collection, and returns how many (a DELETE or MOVE of a locked
	// resource ends its locks, RFC 4918 §7.4, §9.9.2).
	DeleteLocks(ctx context.Context, path string) (int64, error)
	// PruneLocks deletes the locks that expired before before and returns
	// how many.
	PruneLocks(ctx context.Context, before time.Time) (int64, error)

	// Sessions of the web UI.
	// CreateSession inserts s; Created and LastSeen are set when zero.
	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns the session with that id (ErrNotFound if none).
	GetSession(ctx context.Context, id string) (*Session, error)
	// TouchSession sets the session's LastSeen.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// DeleteSession removes one session; a missing one is not an error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions removes every session of the user except keepID
	// (a password change signs the other browsers out).
	DeleteUserSessions(ctx context.Context, userID int64, keepID string) error
	// PruneSessions deletes sessions last seen before idleBefore or created
	// before createdBefore, and returns how many.
	PruneSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int64, error)
	// Push (WebDAV-Push). Every write that bumps a collection's modseq
	// queues, in its own transaction, a message for the collection's push
	// registrations (at most one pending per collection: bursts coalesce).
	// EnsurePushKeys returns the server's VAPID key pair, storing the one
	// gen makes when there is none yet: every instance sharing the store
	// uses the same keys, across restarts.
	EnsurePushKeys(ctx context.Context, gen func() (private, public string, err error)) (private, public string, err error)
	// PutPushRegistration creates r, or when the user has one for the same
	// collection and push resource refreshes it (keys, triggers, expiry);
	// it sets r.ID and r.Created and reports whether it was created. A new
	// registration beyond maxPerUser of the user's unexpired ones is
	// ErrTooMany.
	PutPushRegistration(ctx context.Context, r *PushRegistration, maxPerUser int) (created bool, err error)
	// GetPushRegistration returns the user's registration id.
	GetPushRegistration(ctx context.Context, userID, id int64) (*PushRegistration, error)
	// ListPushRegistrations returns the user's registrations by id.
	ListPushRegistrations(ctx context.Context, userID int64) ([]PushRegistration, error)
	// DeletePushRegistration removes the user's registration id.
	DeletePushRegistration(ctx context.Context, userID, id int64) error
	// QueuePush queues a message for the collection's registrations in a
	// transaction of its own, for a change the store did not make; the
	// store's own changes queue theirs in their transaction. property
	// tells a property change.
	QueuePush(ctx context.Context, collectionID int64, property bool) error
	// ClaimPushDeliveries turns queued collection changes into deliveries
	// and claims up to limit deliveries due at now for this caller until
	// lease (no other claimer sees them before). Expired registrations are
	// deleted, not delivered to.
	ClaimPushDeliveries(ctx context.Context, now, lease time.Time, limit int) ([]PushDelivery, error)
	// FinishPushDeliveries records the outcomes of claimed deliveries, in
	// one transaction (a worker's batch costs one commit, not one per
	// subscription). A delivery whose collection changed again meanwhile
	// stays due at NextAt (or RetryAt).
	FinishPushDeliveries(ctx context.Context, results []PushResult) error
}
