// Package auth authenticates Davenport's users: argon2id password hashing in
// the PHC string format, HTTP Basic authentication (RFC 7617) as middleware,
// a short-lived in-memory cache of successful verifications, and throttling
// of failed attempts.
//
// Basic authentication sends the password with every request, and argon2id is
// slow on purpose (tens of milliseconds). So a success is remembered for a few
// minutes under an HMAC of the username, the password and the user's stored
// hashes, with a per-process secret. Every request still reads the user row
// and its app passwords (one indexed query, store.GetUserCredentials), and
// the stored hashes are part of the cache key: a password changed or an app
// password revoked by any process stops matching on the very next request,
// in every process, and a deleted user is refused. Failed attempts are never
// cached, and only they are throttled: a request in flight or a cached
// success never counts. Wrong passwords are counted per user and client
// address; past a few, that pair alone backs off exponentially (30 s,
// 1 min, 2 min, …), so a guesser cannot lock anyone else out, nor the same user at
// another address. Failures for names that do not exist are capped per
// address, which bounds password spraying without refusing the address's
// real users. The failures of one user are counted against that user's
// credentials as they stood (the stored hash and UnlockedAt): when
// `davenport user passwd` or `user unlock`, in any process, changes them,
// the next throttled attempt rereads the user's row, sees the change, and
// forgets the older failures.
//
// Users without a local password may come from a Directory (LDAP, RFC
// 4511/4513/4515: ldap.go): checked by a bind, provisioned on first sign-in
// with their default collections, their display name, email and groups
// kept as the directory has them (directory.go). Those successes are cached
// like local ones, and kept for a grace period to let the users the
// directory vouched for in while it is down; others get
// ErrDirectoryUnavailable (503).
//
// Imports: store (users and app passwords) and the standard library's HTTP; go-ldap; nothing of dav, caldav,
// carddav or server.
package auth
