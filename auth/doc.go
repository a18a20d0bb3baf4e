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
// cached; they are counted per user and client address and per client
// address, and past a limit the client is refused without any password check
// until old failures age out of the window. The failures of one user are
// counted against that user's credentials as they stood (the stored hash
// and UnlockedAt): when `davenport user passwd` or `user unlock`, in any
// process, changes them, the next throttled attempt rereads the user's row,
// sees the change, and forgets the older failures.
//
// Imports: store (users and app passwords) and the standard library's HTTP; nothing of dav, caldav,
// carddav or server.
package auth
