// Package sqlite implements store.Store on an embedded SQLite database, the
// zero-set-up default: one file, no server, pure Go (modernc.org/sqlite, no
// cgo).
//
// Storage model: the tables of DESIGN.md, created by the migrations embedded in
// package migrations (migrations/sqlite) and applied by golang-migrate at Open.
// Times are stored as INTEGER unix microseconds in UTC. Each write to a
// collection's members bumps the collection's modseq in the same transaction
// and stamps it on the object or tombstone (RFC 6578 sync tokens).
//
// Connections: the database runs in WAL mode, so readers never block the
// writer nor each other. All write transactions go through one dedicated
// connection (a *sql.DB with one open connection, every transaction BEGIN
// IMMEDIATE): writers queue in Go, in FIFO order and honouring their contexts,
// instead of polling SQLite's file lock under busy_timeout, and SQLITE_BUSY
// cannot surface between two writers of this process. Reads go through a
// separate pool of query_only connections. busy_timeout still covers another
// process (a `davenport user` command) writing the same file.
//
// Imports: store (the contract it implements), migrations (the schema), modernc.org/sqlite and
// golang-migrate.
package sqlite
