package store

import (
	"fmt"
	"time"
)

// Access is what a share lets its sharees do with a collection.
type Access string

const (
	// AccessRead lets sharees read the collection and its members.
	AccessRead Access = "read"
	// AccessReadWrite lets sharees also create, change and delete members.
	AccessReadWrite Access = "read-write"
)

// Valid reports whether a is one of the defined access levels.
func (a Access) Valid() bool { return a == AccessRead || a == AccessReadWrite }

// ShareStatus is where a user share's invitation stands. A share with a
// group needs no answer: it is in force for every member at once.
type ShareStatus string

const (
	SharePending  ShareStatus = "pending"
	ShareAccepted ShareStatus = "accepted"
	ShareDeclined ShareStatus = "declined"
)

// Valid reports whether s is one of the defined statuses.
func (s ShareStatus) Valid() bool {
	return s == SharePending || s == ShareAccepted || s == ShareDeclined
}

// Group is a named set of users; a collection shared with a group is shared
// with whoever is a member at the time of each request.
type Group struct {
	ID int64
	// Name is canonical like a user name (CanonicalUsername).
	Name        string
	DisplayName string
	Created     time.Time
}

// Share grants one user (UserID) or one group (GroupID) access to a
// collection; exactly one of the two is set.
type Share struct {
	ID           int64
	CollectionID int64
	UserID       int64
	GroupID      int64
	Access       Access
	// Status is the sharee's answer to a user share; group shares are
	// always ShareAccepted.
	Status  ShareStatus
	Created time.Time
}

// SharedCollection is a collection another user shares, as one sharee sees
// it: the strongest access of the user's accepted shares and group shares,
// and the sharee's own name and colour for it.
type SharedCollection struct {
	Collection Collection
	// Owner is the owner's user name.
	Owner  string
	Access Access
	// DisplayName and Color are the sharee's own, "" when never set (the
	// owner's then apply).
	DisplayName string
	Color       string
}

// Invitation is a user share as its sharee sees it: the share, the
// collection (as its owner keeps it) and the owner.
type Invitation struct {
	Share      Share
	Collection Collection
	// Owner and OwnerDisplayName name the collection's owner.
	Owner            string
	OwnerDisplayName string
}

// ShareView is a sharee's own presentation of a shared collection; nil
// fields are left alone, "" clears.
type ShareView struct {
	DisplayName *string
	Color       *string
}

// CheckShare validates a share before a backend writes it and fills the
// status a share without one gets: a user share starts pending, a group
// share is always accepted.
func CheckShare(s *Share) error {
	if (s.UserID == 0) == (s.GroupID == 0) {
		return fmt.Errorf("store: share of collection %d: exactly one of user and group must be set", s.CollectionID)
	}
	if !s.Access.Valid() {
		return fmt.Errorf("store: share of collection %d: invalid access %q", s.CollectionID, s.Access)
	}
	switch {
	case s.GroupID != 0:
		s.Status = ShareAccepted
	case s.Status == "":
		s.Status = SharePending
	case !s.Status.Valid():
		return fmt.Errorf("store: share of collection %d: invalid status %q", s.CollectionID, s.Status)
	}
	return nil
}
