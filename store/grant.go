package store

import (
	"crypto/sha256"
	"fmt"
	"time"
)

// GrantAccess is what a grant lets its grantee do with all of the owner's
// calendars at once: the CalendarServer calendar proxies (delegation) and
// RFC 4791 §6.1.1's CALDAV:read-free-busy.
type GrantAccess string

const (
	// GrantFreeBusy lets the grantee see the owner's busy time (free-busy
	// requests and free-busy-query), never the events.
	GrantFreeBusy GrantAccess = "free-busy"
	// GrantRead makes the grantee a read proxy (calendar-proxy-read):
	// they read every calendar of the owner.
	GrantRead GrantAccess = "read"
	// GrantReadWrite makes the grantee a write proxy
	// (calendar-proxy-write): they also change the owner's calendars,
	// and schedule as the owner when they do.
	GrantReadWrite GrantAccess = "read-write"
)

// Valid reports whether a is one of the defined grant levels.
func (a GrantAccess) Valid() bool {
	return a == GrantFreeBusy || a == GrantRead || a == GrantReadWrite
}

// Rank orders the levels: 0 for none, then free-busy, read, read-write.
// Each level includes those below it.
func (a GrantAccess) Rank() int {
	switch a {
	case GrantFreeBusy:
		return 1
	case GrantRead:
		return 2
	case GrantReadWrite:
		return 3
	}
	return 0
}

// Grant lets one user (UserID) or the members of one group (GroupID) at
// the owner's calendars; exactly one of the two is set. An owner has at
// most one grant per grantee.
type Grant struct {
	ID      int64
	OwnerID int64
	UserID  int64
	GroupID int64
	Access  GrantAccess
	Created time.Time
}

// CheckGrant validates a grant before a backend writes it.
func CheckGrant(g *Grant) error {
	if (g.UserID == 0) == (g.GroupID == 0) {
		return fmt.Errorf("store: grant of user %d: exactly one of user and group must be set", g.OwnerID)
	}
	if !g.Access.Valid() {
		return fmt.Errorf("store: grant of user %d: invalid access %q", g.OwnerID, g.Access)
	}
	return nil
}

// PublicLink is a secret, read-only subscription URL of a collection: who
// holds Token reads the collection without signing in, as an anonymous
// sharee would (private events masked).
type PublicLink struct {
	ID           int64
	CollectionID int64
	// Token is the URL's secret (at least 32 random bytes, encoded).
	Token   string
	Created time.Time
}

// TokenHash is the digest a public link's token is looked up by: the
// index compares digests, so how long a lookup takes tells nothing of the
// stored tokens.
func TokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
