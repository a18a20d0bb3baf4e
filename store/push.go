package store

import (
	"errors"
	"time"
)

// ErrTooMany: a per-user bound would be exceeded (push registrations).
var ErrTooMany = errors.New("store: too many")

// PushRegistration is one WebDAV-Push subscription (draft
// github.com/bitfireAT/webdav-push §4): a Web Push resource (RFC 8030) to
// which changes of one collection are announced. It belongs to the user who
// made it, who may not own the collection (a shared one).
type PushRegistration struct {
	ID           int64
	UserID       int64
	CollectionID int64
	// PushResource is the push service's URL for the client (RFC 8030 §2).
	PushResource string
	// PublicKey (p256dh, uncompressed point) and AuthSecret are the
	// client's message encryption keys (RFC 8291 §2), base64url.
	PublicKey  string
	AuthSecret string
	// ContentUpdate and PropertyUpdate are the triggers asked for.
	ContentUpdate  bool
	PropertyUpdate bool
	UserAgent      string
	Expires        time.Time
	Created        time.Time
	// LastDelivery is when a message last reached the push service; nil
	// when never. Failures counts failed attempts since then.
	LastDelivery *time.Time
	Failures     int
	LastError    string
}

// PushDelivery is a message due to one registration: the collection
// changed up to ModSeq. A worker that claimed it holds it until Lease.
type PushDelivery struct {
	Registration PushRegistration
	ModSeq       int64
	Property     bool // a property change (not only content)
	Attempts     int
	// Changes counts the changes the message announces (more than one
	// when a burst was coalesced).
	Changes int
}

// PushResult is the outcome of the delivery of ModSeq to a registration.
type PushResult struct {
	RegistrationID int64
	ModSeq         int64
	PushOutcome
}

// PushOutcome is what became of a claimed delivery.
type PushOutcome struct {
	// Sent: the push service accepted the message. Else Err says why and
	// RetryAt when to try again (zero: give up on this message).
	Sent    bool
	Err     string
	RetryAt time.Time
	// Gone: the push service answered 404 or 410 (RFC 8030 §7.3): the
	// subscription is dropped.
	Gone bool
	// NextAt is the earliest time a further message may go to the
	// registration (bursts are coalesced into it).
	NextAt time.Time
}
