package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
)

// Prepared statements.
//
// Parsing and planning a statement costs SQLite more than running most of
// ours: before this, about 40% of the CPU of a request went to
// sqlite3_prepare_v2, because every query was prepared anew. The statements
// of the request path are therefore prepared once, at Open, and reused. A
// *sql.Stmt prepares itself on each connection of its pool the first time it
// runs there and keeps that handle (database/sql); inside a transaction,
// tx.StmtContext finds the handle already prepared on the transaction's
// connection. SQLite re-prepares a statement by itself when the schema
// changes under it (sqlite3_prepare_v2).
//
// The *sql.Stmt values must exist before any transaction asks for them:
// preparing one through a pool waits for a free connection, and the
// writer's only connection is the one an open write transaction holds.
type statements struct {
	all []*sql.Stmt // every statement below but lists, for Close

	// On the reader pool.
	getUserCredentials                            *sql.Stmt
	getCollection, listCollections, listDeadProps *sql.Stmt
	usedBytes, collectionModSeq, getObject        *sql.Stmt
	getObjects, changes                           [2]*sql.Stmt // indexed by bodyIndex(withBody)
	shared                                        *sql.Stmt    // a user's shared collections: every request to one
	lists                                         *stmtCache   // ListObjects', by query text

	// On the writer.
	collectionExists, currentObject, checkUID, bump     *sql.Stmt
	queuePush                                           *sql.Stmt
	insertObject, updateObject, deleteObject, tombstone *sql.Stmt
	dropTombstone, insertVersion, createVersion         *sql.Stmt
}

// bodyIndex picks the variant of a statement that reads bodies (1) or not
// (0).
func bodyIndex(withBody bool) int {
	if withBody {
		return 1
	}
	return 0
}

// prepareStatements prepares the statements of s.st. On failure the
// statements prepared so far are left in s.st.all for Close.
func (s *Store) prepareStatements(ctx context.Context) error {
	st := &s.st
	st.lists = &stmtCache{db: s.r, m: make(map[string]*sql.Stmt)}
	for _, p := range []struct {
		dst   **sql.Stmt
		db    *sql.DB
		query string
	}{
		{&st.getUserCredentials, s.r, getUserCredentialsSQL},
		{&st.getCollection, s.r, getCollectionSQL},
		{&st.listCollections, s.r, listCollectionsSQL},
		{&st.listDeadProps, s.r, listDeadPropsSQL},
		{&st.usedBytes, s.r, usedBytesSQL},
		{&st.collectionModSeq, s.r, collectionModSeqSQL},
		{&st.getObject, s.r, getObjectSQL},
		{&st.getObjects[0], s.r, getObjectsSQL(false)},
		{&st.getObjects[1], s.r, getObjectsSQL(true)},
		{&st.changes[0], s.r, changesSQL(false)},
		{&st.changes[1], s.r, changesSQL(true)},
		{&st.shared, s.r, sharedSQL},

		{&st.collectionExists, s.w, collectionExistsSQL},
		{&st.currentObject, s.w, currentObjectSQL},
		{&st.checkUID, s.w, checkUIDSQL},
		{&st.bump, s.w, bumpSQL},
		{&st.queuePush, s.w, queuePushSQL},
		{&st.insertObject, s.w, insertObjectSQL},
		{&st.updateObject, s.w, updateObjectSQL},
		{&st.deleteObject, s.w, deleteObjectSQL},
		{&st.tombstone, s.w, tombstoneSQL},
		{&st.dropTombstone, s.w, dropTombstoneSQL},
		{&st.insertVersion, s.w, insertVersionSQL},
		{&st.createVersion, s.w, createVersionSQL},
	} {
		stmt, err := p.db.PrepareContext(ctx, p.query)
		if err != nil {
			return errorf("sqlite: prepare %q: %w", strings.Join(strings.Fields(p.query), " "), err)
		}
		*p.dst = stmt
		st.all = append(st.all, stmt)
	}
	return nil
}

// close closes every prepared statement; a statement still in use by a
// query is closed when that query ends (database/sql).
func (st *statements) close() error {
	var errs []error
	for _, stmt := range st.all {
		errs = append(errs, stmt.Close())
	}
	st.all = nil
	if st.lists != nil {
		errs = append(errs, st.lists.close())
	}
	return errors.Join(errs...)
}

// maxPreparedTerms bounds the search terms of a ListObjects whose statement
// is kept prepared. The query text depends on which options are set and on
// the number of terms, which a client chooses: keeping only the texts with at
// most this many terms bounds the cache by the few combinations of options
// times maxPreparedTerms+1, however clients query. A listing with more terms
// is prepared for its one run, as before.
const maxPreparedTerms = 4

// stmtCache keeps statements prepared on db on first use, by query text.
// Callers bound the number of distinct texts they pass.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	closed bool
}

// errStoreClosed is returned for a statement wanted after Close.
var errStoreClosed = errors.New("store is closed")

// get returns the statement for query, preparing it when it is new. It must
// not be called inside a transaction on c.db (see statements).
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	stmt, ok := c.m[query]
	closed := c.closed
	c.mu.Unlock()
	switch {
	case ok:
		return stmt, nil
	case closed:
		return nil, errStoreClosed
	}
	// Prepared without the lock, so that a slow preparation (waiting for
	// a connection) does not hold up the statements already cached.
	stmt, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok {
		stmt.Close() // another caller prepared it meanwhile
		return prev, nil
	}
	if c.closed {
		stmt.Close()
		return nil, errStoreClosed
	}
	c.m[query] = stmt
	return stmt, nil
}

// len is the number of cached statements.
func (c *stmtCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for q, stmt := range c.m {
		errs = append(errs, stmt.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}
