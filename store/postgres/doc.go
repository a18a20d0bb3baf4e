// Package postgres is the PostgreSQL implementation of store.Store, built on
// pgx/v5 and its connection pool.
//
// Storage model (DESIGN.md): users own collections; collections hold objects
// kept as the exact bytes the client sent plus their index. Every write to a
// member takes the collection row's lock by bumping collections.modseq
// (UPDATE … RETURNING modseq), stamps the new value on the object or on a
// tombstone, and commits both together; the row lock serializes the writers of
// one collection, so modseqs are gapless, each stamps one name, and they
// commit in order — which is what lets RFC 6578 sync-collection resume from
// any modseq without loss or repetition. If-Match and If-None-Match are
// checked inside the same transaction.
//
// The schema lives in migrations/postgres and is applied by golang-migrate
// when the store opens; a database migrated by a newer binary is refused.
//
// Imports: store (the contract it implements), migrations (the schema), pgx and golang-migrate.
package postgres
