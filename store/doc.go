// Package store defines Davenport's storage contract: the domain types, the
// Store interface and the sentinel errors that every backend returns.
//
// Storage model (DESIGN.md): users own collections (calendars and address
// books); collections hold objects, each kept as the exact bytes the client
// sent together with an index (UID, component, instance span, search text).
// Every write to a collection bumps the collection's modseq inside the same
// transaction and stamps it on the changed object, or on a tombstone when a
// name is deleted; sync tokens and getctag are built from that modseq
// (RFC 6578). A modseq value stamps exactly one name in a collection: a write
// that changes two names (a move within one collection) bumps the modseq once
// for each, so a change log cut after any entry resumes without loss or
// repetition. Tombstones older than a retention window are pruned and the
// collection's PrunedModSeq raised, so older tokens can be refused.
//
// History (issue 17): every object write also keeps, in the same transaction
// and with one insert, the state the name had before it (object_versions:
// bytes, ETag and index, when, and the Actor — user and User-Agent — that
// made the change); a deleted collection goes to collection_trash with its
// members. Nothing on the request path reads these tables. They are pruned
// by age and by count per item (PruneHistory); restores are new writes made
// through the Store interface (restore.go).
//
// Dump and Load move a whole store, IDs, modseqs and bytes as they are, so
// that sync tokens stay valid across a backup and restore, also from one
// backend to the other.
//
// The package imports nothing from HTTP, XML or configuration. Backends live in
// store/postgres (production) and store/sqlite (embedded default); both pass
// the behavioural suite in store/storetest.
//
// Imports: nothing of Davenport's; the standard library only.
package store
