package store

import "time"

// Session is a signed-in browser of the web UI.
type Session struct {
	// ID is the SHA-256 (hex) of the cookie's random token; the token itself
	// is never stored, so a copy of the sessions table signs nobody in.
	ID       string
	UserID   int64
	Created  time.Time
	LastSeen time.Time
}

// Account is a user as the web UI's pages show it: the role, the last
// sign-in and storage totals, which come from per-collection counters kept
// by the store (no scan of objects).
type Account struct {
	ID          int64
	Username    string
	DisplayName string
	Admin       bool
	LastLogin   *time.Time // nil when the user never signed in to the web UI
	Created     time.Time
	Objects     int64 // items over all the user's collections
	UsedBytes   int64
}

// CollectionTotals are a collection's item count and size.
type CollectionTotals struct {
	ID        int64
	Objects   int64
	UsedBytes int64
}
