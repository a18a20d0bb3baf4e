package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/davenport-dav/davenport/store"
)

// objectColumns are read by listings; the body is appended only when asked
// for, so a listing never reads the body's pages.
const objectColumns = `id, collection_id, name, uid, etag, content_type, component, size, modseq,
	first_start, last_end, search_text, created, updated, unscheduled`

// briefColumns are read by a brief listing (ListObjectsOptions.Brief).
const briefColumns = `id, collection_id, name, etag, content_type, size, modseq, created, updated`

func objectSelect(withBody bool) string {
	if withBody {
		return objectColumns + `, body`
	}
	return objectColumns
}

func scanObject(row interface{ Scan(...any) error }, withBody bool) (*store.Object, error) {
	var (
		o    store.Object
		scan objectScanner
	)
	if err := scan.scan(row, &o, withBody); err != nil {
		return nil, err
	}
	return &o, nil
}

// objectScanner reads rows of objectSelect into store.Objects; one scanner
// serves every row of a listing, so the per-row work allocates only what
// the object keeps.
type objectScanner struct {
	first, last      sql.NullInt64
	created, updated int64
	dest             []any
	times            []time.Time // FirstStart and LastEnd point here, a batch at a time
}

// nullTime is fromNullMicros with the time kept in the scanner's batch.
func (sc *objectScanner) nullTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	if len(sc.times) == cap(sc.times) {
		sc.times = make([]time.Time, 0, min(max(2*cap(sc.times), 2), 128))
	}
	sc.times = append(sc.times, fromMicros(v.Int64))
	return &sc.times[len(sc.times)-1]
}

func (sc *objectScanner) scan(row interface{ Scan(...any) error }, o *store.Object, withBody bool) error {
	sc.dest = append(sc.dest[:0], &o.ID, &o.CollectionID, &o.Name, &o.UID, &o.ETag, &o.ContentType, &o.Component,
		&o.Size, &o.ModSeq, &sc.first, &sc.last, &o.SearchText, &sc.created, &sc.updated, &o.Unscheduled)
	if withBody {
		sc.dest = append(sc.dest, &o.Body)
	}
	if err := row.Scan(sc.dest...); err != nil {
		return err
	}
	o.FirstStart, o.LastEnd = sc.nullTime(sc.first), sc.nullTime(sc.last)
	o.Created, o.Updated = fromMicros(sc.created), fromMicros(sc.updated)
	if withBody && o.Body == nil {
		o.Body = []byte{}
	}
	return nil
}

// scanBrief reads a row of briefColumns.
func (sc *objectScanner) scanBrief(row interface{ Scan(...any) error }, o *store.Object) error {
	sc.dest = append(sc.dest[:0], &o.ID, &o.CollectionID, &o.Name, &o.ETag, &o.ContentType, &o.Size, &o.ModSeq,
		&sc.created, &sc.updated)
	if err := row.Scan(sc.dest...); err != nil {
		return err
	}
	o.Created, o.Updated = fromMicros(sc.created), fromMicros(sc.updated)
	return nil
}

// scanChange reads a row of changesSQL: whether it is a tombstone, then
// the columns scan reads, then the body (NULL without one).
func (sc *objectScanner) scanChange(row interface{ Scan(...any) error }, deleted *bool, o *store.Object, withBody bool) error {
	sc.dest = append(sc.dest[:0], deleted, &o.ID, &o.CollectionID, &o.Name, &o.UID, &o.ETag, &o.ContentType, &o.Component,
		&o.Size, &o.ModSeq, &sc.first, &sc.last, &o.SearchText, &sc.created, &sc.updated, &o.Unscheduled, &o.Body)
	if err := row.Scan(sc.dest...); err != nil {
		return err
	}
	if *deleted {
		return nil
	}
	o.FirstStart, o.LastEnd = sc.nullTime(sc.first), sc.nullTime(sc.last)
	o.Created, o.Updated = fromMicros(sc.created), fromMicros(sc.updated)
	if !withBody {
		o.Body = nil
	} else if o.Body == nil {
		o.Body = []byte{}
	}
	return nil
}

// pageRows bounds the objects a listing allocates at once.
const pageRows = 512

// getObjectSQL is GetObject's query (prepared at Open).
const getObjectSQL = `SELECT ` + objectColumns + `, body FROM objects WHERE collection_id = $1 AND name = $2`

// GetObject returns the object with its body.
func (s *Store) GetObject(ctx context.Context, collectionID int64, name string) (*store.Object, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	o, err := scanObject(s.st.getObject.QueryRowContext(ctx, collectionID, name), true)
	if err != nil {
		return nil, wrap("get object", err)
	}
	return o, nil
}

// getObjectsSQL is GetObjects' query (prepared at Open, once without and
// once with the body). The names travel as one JSON array parameter: the
// text does not depend on their number, so one prepared statement serves
// every call, and their number is not bounded by SQLite's limit on bound
// parameters. The plan looks each name up in the (collection_id, name)
// unique index (TestPreparedQueriesUseIndexes).
func getObjectsSQL(withBody bool) string {
	return `
	SELECT ` + objectSelect(withBody) + `
	FROM objects
	WHERE collection_id = $1
	  AND name IN (SELECT CAST(unhex(value) AS TEXT) FROM json_each($2))`
}

// GetObjects returns the objects among names that exist, with one query.
// Each name is hex-encoded in the JSON array, because JSON would replace
// bytes that are not UTF-8 and names are opaque.
func (s *Store) GetObjects(ctx context.Context, collectionID int64, names []string, withBody bool) ([]store.Object, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	hexed := make([]string, len(names))
	for i, n := range names {
		hexed[i] = hex.EncodeToString([]byte(n))
	}
	list, err := json.Marshal(hexed)
	if err != nil {
		return nil, errorf("sqlite: get objects: %w", err)
	}
	rows, err := s.st.getObjects[bodyIndex(withBody)].QueryContext(ctx, collectionID, string(list))
	if err != nil {
		return nil, wrap("get objects", err)
	}
	objs, err := collectObjects(rows, withBody, len(names), false)
	if err != nil {
		return nil, wrap("get objects", err)
	}
	return objs, nil
}

// ListObjects returns the collection's objects ordered by name (bytewise),
// narrowed by opts.
func (s *Store) ListObjects(ctx context.Context, collectionID int64, opts store.ListObjectsOptions) ([]store.Object, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	query, args := listQuery(collectionID, opts)
	rows, err := s.listRows(ctx, query, args, len(opts.SearchText) <= maxPreparedTerms)
	if err != nil {
		return nil, wrap("list objects", err)
	}
	objs, err := collectObjects(rows, opts.WithBody, opts.Limit, brief(opts))
	if err != nil {
		return nil, wrap("list objects", err)
	}
	return objs, nil
}

// listRows runs a query built by listQuery on the reader pool, on a
// statement kept prepared when keep is set.
func (s *Store) listRows(ctx context.Context, query string, args []any, keep bool) (*sql.Rows, error) {
	if !keep {
		return s.r.QueryContext(ctx, query, args...)
	}
	stmt, err := s.st.lists.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return stmt.QueryContext(ctx, args...)
}

// listQuery builds the query of ListObjects.
func listQuery(collectionID int64, opts store.ListObjectsOptions) (string, []any) {
	var (
		q    strings.Builder
		args = []any{collectionID}
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	match := trigramQuery(opts.SearchText)
	// A page of bodies is read in two steps: the inner query finds the
	// page's ids from the index alone, the outer one reads those rows. In
	// one step SQLite would sort every candidate row, body and all, to
	// keep the first Limit, so paging through a large range re-read every
	// remaining body on every page.
	pageIDs := opts.WithBody && opts.Limit > 0
	sel := objectSelect(opts.WithBody)
	if brief(opts) {
		sel = briefColumns
	}
	if pageIDs {
		sel = `objects.id`
	}
	switch {
	case opts.Start != nil || opts.End != nil:
		// A time range is searched in the R*Tree objects_span first
		// (migration 8), both bounds at once; CROSS JOIN keeps it the
		// outer loop, so objects is only read by rowid for the entries
		// found. The tree rounds outward, so the exact test follows.
		q.WriteString(`SELECT ` + sel + ` FROM objects_span AS s CROSS JOIN objects ON objects.id = s.object_id` +
			` WHERE s.collection_lo <= $1 AND s.collection_hi >= $1 AND objects.collection_id = $1`)
	case match != "":
		// Search terms are looked up in the trigram index objects_search
		// (migration 10) first, the same way; it finds a superset, the
		// exact substring test follows.
		q.WriteString(`SELECT ` + sel + ` FROM objects_search AS f CROSS JOIN objects ON objects.id = f.rowid` +
			` WHERE f.objects_search MATCH ` + arg(match) + ` AND objects.collection_id = $1`)
	default:
		q.WriteString(`SELECT ` + sel + ` FROM objects WHERE collection_id = $1`)
	}
	if opts.Component != "" {
		q.WriteString(` AND component = ` + arg(opts.Component))
	}
	// The instance span [first_start, last_end] must meet the range; the
	// bounds are inclusive so the prefilter never drops an instance the
	// exact RFC 4791 §9.9 test (done by the caller) would keep, such as a
	// zero-duration event at the range's start. NULL is unbounded.
	if opts.Start != nil {
		start := arg(toMicros(*opts.Start))
		q.WriteString(` AND s.span_hi >= ` + start + ` AND (last_end IS NULL OR last_end >= ` + start + `)`)
	}
	if opts.End != nil {
		end := arg(toMicros(*opts.End))
		q.WriteString(` AND s.span_lo <= ` + end + ` AND (first_start IS NULL OR first_start <= ` + end + `)`)
	}
	for _, term := range opts.SearchText {
		q.WriteString(` AND instr(search_text, ` + arg(term) + `) > 0`)
	}
	if opts.After != "" {
		// Keyset paging on the (collection_id, name) key; TEXT compares
		// bytewise (BINARY collation), as ORDER BY name does.
		q.WriteString(` AND name > ` + arg(opts.After))
	}
	q.WriteString(` ORDER BY name`)
	if opts.Limit > 0 {
		q.WriteString(` LIMIT ` + arg(opts.Limit))
	}
	if pageIDs {
		return `SELECT ` + objectSelect(true) + ` FROM objects WHERE id IN (` + q.String() + `) ORDER BY name`, args
	}
	return q.String(), args
}

// maxTrigrams bounds the trigrams trigramQuery asks the index for: a few
// already narrow a search to the rows worth the exact test.
const maxTrigrams = 12

// trigramQuery is the FTS5 query on objects_search that every object whose
// search text contains all of terms satisfies: each distinct trigram of each
// term, ANDed. The index stores no positions (detail=none), so the order of
// the trigrams is not checked; the exact test on objects does that. Terms
// shorter than three characters have no trigram and terms that are not
// valid UTF-8 might be split differently from the text, so neither is
// looked up; "" means that no term can be.
func trigramQuery(terms []string) string {
	var (
		q    strings.Builder
		seen = map[string]bool{}
	)
	for _, term := range terms {
		if !utf8.ValidString(term) {
			continue
		}
		runes := []rune(term)
		for i := 0; i+3 <= len(runes) && len(seen) < maxTrigrams; i++ {
			tri := string(runes[i : i+3])
			if seen[tri] {
				continue
			}
			seen[tri] = true
			if q.Len() > 0 {
				q.WriteString(" AND ")
			}
			q.WriteString(`"` + strings.ReplaceAll(tri, `"`, `""`) + `"`)
		}
	}
	return q.String()
}

// collectObjects reads every row; capacity is the number expected when
// known (at most 128 are reserved up front).
func collectObjects(rows *sql.Rows, withBody bool, capacity int, brief bool) ([]store.Object, error) {
	defer rows.Close()
	objs := make([]store.Object, 0, min(capacity, 128))
	var scan objectScanner
	for rows.Next() {
		objs = append(objs, store.Object{})
		o := &objs[len(objs)-1]
		var err error
		if brief {
			err = scan.scanBrief(rows, o)
		} else {
			err = scan.scan(rows, o, withBody)
		}
		if err != nil {
			return nil, err
		}
	}
	return objs, rows.Err()
}

// brief reports whether a listing under opts reads briefColumns.
func brief(opts store.ListObjectsOptions) bool { return opts.Brief && !opts.WithBody }

// Statements of PutObject (prepared at Open on the writer).
const (
	updateObjectSQL = `
	UPDATE objects SET uid = $2, etag = $3, content_type = $4, component = $5,
		size = $6, modseq = $7, first_start = $8, last_end = $9, search_text = $10,
		updated = $11, body = $12, unscheduled = $13
	WHERE id = $1`
	insertObjectSQL = `
	INSERT INTO objects (collection_id, name, uid, etag, content_type, component, size,
		modseq, first_start, last_end, search_text, created, updated, body, unscheduled)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14)
	RETURNING id`
)

// PutObject creates or replaces o by (CollectionID, Name). The conditions in
// opts, the UID check and the modseq bump all happen inside one write
// transaction, so two writers with the same If-Match cannot both win.
func (s *Store) PutObject(ctx context.Context, o *store.Object, opts store.PutObjectOptions) (created bool, err error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	t := now()
	size := int64(len(o.Body))
	body := o.Body
	if body == nil {
		body = []byte{}
	}
	err = s.write(ctx, "put object", func(tx *sql.Tx) error {
		if err := s.collectionExists(ctx, tx, o.CollectionID); err != nil {
			return err
		}
		cur, err := s.currentObject(ctx, tx, o.CollectionID, o.Name)
		if err != nil {
			return err
		}
		if err := checkMatch(cur, opts.IfMatch, opts.IfNoneMatch); err != nil {
			return err
		}
		var self int64
		if cur != nil {
			self = cur.id
		}
		if err := s.checkUID(ctx, tx, o.CollectionID, o.UID, self); err != nil {
			return err
		}
		// RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1: an overwrite keeps the
		// UID (a UID held by another name is reported first, above).
		if cur != nil && cur.uid != o.UID {
			return fmt.Errorf("object %q: %w", o.Name, store.ErrUIDChanged)
		}
		modseq, err := s.bump(ctx, tx, o.CollectionID, t)
		if err != nil {
			return err
		}
		createdAt := t
		if cur != nil {
			createdAt = cur.created
			if err := s.keepVersion(ctx, tx, store.OpUpdate, cur.id, t, opts.Actor); err != nil {
				return err
			}
			_, err = tx.StmtContext(ctx, s.st.updateObject).ExecContext(ctx,
				cur.id, o.UID, o.ETag, o.ContentType, o.Component, size, modseq,
				toNullMicros(o.FirstStart), toNullMicros(o.LastEnd), o.SearchText, toMicros(t), body, o.Unscheduled)
			if err != nil {
				return err
			}
			o.ID = cur.id
		} else {
			err = tx.StmtContext(ctx, s.st.insertObject).QueryRowContext(ctx,
				o.CollectionID, o.Name, o.UID, o.ETag, o.ContentType, o.Component, size, modseq,
				toNullMicros(o.FirstStart), toNullMicros(o.LastEnd), o.SearchText, toMicros(t), body, o.Unscheduled,
			).Scan(&o.ID)
			if err != nil {
				return err
			}
			if err := s.dropTombstone(ctx, tx, o.CollectionID, o.Name); err != nil {
				return err
			}
			if err := s.keepCreation(ctx, tx, o.CollectionID, o.Name, o.UID, t, opts.Actor); err != nil {
				return err
			}
		}
		o.Size, o.ModSeq, o.Created, o.Updated = size, modseq, createdAt, t
		created = cur == nil
		return queueMail(ctx, tx, opts.Mail, t)
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

// deleteObjectSQL removes one object by id (prepared at Open on the writer).
const deleteObjectSQL = `DELETE FROM objects WHERE id = $1`

// DeleteObject removes the object, leaving a tombstone stamped with a fresh
// modseq.
func (s *Store) DeleteObject(ctx context.Context, collectionID int64, name string, opts store.DeleteObjectOptions) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	t := now()
	return s.write(ctx, "delete object", func(tx *sql.Tx) error {
		cur, err := s.currentObject(ctx, tx, collectionID, name)
		if err != nil {
			return err
		}
		// If-Match is tested first: RFC 9110 §13.1.1 makes it fail (412)
		// when there is no current representation.
		if err := checkMatch(cur, opts.IfMatch, false); err != nil {
			return err
		}
		if cur == nil {
			return fmt.Errorf("object %q: %w", name, store.ErrNotFound)
		}
		if err := s.keepVersion(ctx, tx, store.OpDelete, cur.id, t, opts.Actor); err != nil {
			return err
		}
		if _, err := tx.StmtContext(ctx, s.st.deleteObject).ExecContext(ctx, cur.id); err != nil {
			return err
		}
		if err := s.tombstone(ctx, tx, collectionID, name, t); err != nil {
			return err
		}
		return queueMail(ctx, tx, opts.Mail, t)
	})
}

// MoveObject moves an object to newName in toCollectionID (which may be the
// same collection) in one transaction. The source name gets a tombstone with
// one modseq of its collection, then the destination name gets the object
// with the next modseq of its collection: a modseq stamps exactly one name.
// RFC 4918 §9.9.4: with Overwrite false, an existing destination fails the
// move (412); with Overwrite true it is replaced.
func (s *Store) MoveObject(ctx context.Context, fromCollectionID int64, name string, toCollectionID int64, newName string, opts store.MoveObjectOptions) (created bool, err error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	t := now()
	err = s.write(ctx, "move object", func(tx *sql.Tx) error {
		var fromKind, toKind string
		err := tx.QueryRowContext(ctx, `SELECT kind FROM collections WHERE id = $1`, fromCollectionID).Scan(&fromKind)
		if err != nil {
			return fmt.Errorf("source collection %d: %w", fromCollectionID, err)
		}
		err = tx.QueryRowContext(ctx, `SELECT kind FROM collections WHERE id = $1`, toCollectionID).Scan(&toKind)
		if err != nil {
			return fmt.Errorf("destination collection %d: %w", toCollectionID, err)
		}
		if fromKind != toKind {
			return fmt.Errorf("move from a %s to a %s: %w", fromKind, toKind, store.ErrConflict)
		}
		src, err := s.currentObject(ctx, tx, fromCollectionID, name)
		if err != nil {
			return err
		}
		if err := checkMatch(src, opts.IfMatch, false); err != nil {
			return err
		}
		if src == nil {
			return fmt.Errorf("object %q: %w", name, store.ErrNotFound)
		}
		if fromCollectionID == toCollectionID && name == newName {
			// RFC 4918 §9.9.4: 403 when source and destination are the same.
			return fmt.Errorf("move %q onto itself: %w", name, store.ErrConflict)
		}
		dst, err := s.currentObject(ctx, tx, toCollectionID, newName)
		if err != nil {
			return err
		}
		if dst != nil && !opts.Overwrite {
			return fmt.Errorf("destination %q exists: %w", newName, store.ErrPreconditionFailed)
		}
		uid := src.uid
		// The moved object keeps its UID; another member of the destination
		// holding it (other than the one being overwritten) is a conflict.
		var conflict string
		err = tx.QueryRowContext(ctx, `
			SELECT name FROM objects
			WHERE collection_id = $1 AND uid = $2 AND id <> $3 AND name <> $4`,
			toCollectionID, uid, src.id, newName).Scan(&conflict)
		switch {
		case err == nil:
			return &store.UIDConflictError{UID: uid, Name: conflict}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		// RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1: the replaced object must
		// have the moved one's UID. A file's UID is the store's own, not
		// the client's: a file replaces any other.
		if dst != nil && dst.uid != uid && toKind != string(store.KindFiles) {
			return fmt.Errorf("destination %q: %w", newName, store.ErrUIDChanged)
		}

		// The history records the source's version as deleted from its
		// name and the destination's as overwritten, or created.
		if err := s.keepVersion(ctx, tx, store.OpDelete, src.id, t, opts.Actor); err != nil {
			return err
		}
		if dst != nil {
			if err := s.keepVersion(ctx, tx, store.OpUpdate, dst.id, t, opts.Actor); err != nil {
				return err
			}
			if _, err := tx.StmtContext(ctx, s.st.deleteObject).ExecContext(ctx, dst.id); err != nil {
				return err
			}
		} else if err := s.keepCreation(ctx, tx, toCollectionID, newName, uid, t, opts.Actor); err != nil {
			return err
		}
		if err := s.tombstone(ctx, tx, fromCollectionID, name, t); err != nil {
			return err
		}
		modseq, err := s.bump(ctx, tx, toCollectionID, t)
		if err != nil {
			return err
		}
		// The row itself moves (same id, body untouched), stamped with the
		// destination's modseq.
		_, err = tx.ExecContext(ctx, `
			UPDATE objects SET collection_id = $2, name = $3, modseq = $4, updated = $5
			WHERE id = $1`,
			src.id, toCollectionID, newName, modseq, toMicros(t))
		if err != nil {
			return err
		}
		if err := s.dropTombstone(ctx, tx, toCollectionID, newName); err != nil {
			return err
		}
		created = dst == nil
		return nil
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

// current is the state of an existing object that a write checks against.
type current struct {
	id      int64
	uid     string
	etag    string
	created time.Time
}

// currentObjectSQL is currentObject's query (prepared at Open on the writer).
const currentObjectSQL = `SELECT id, uid, etag, created FROM objects WHERE collection_id = $1 AND name = $2`

// currentObject returns the object at (collectionID, name), or nil. tx is a
// write transaction.
func (s *Store) currentObject(ctx context.Context, tx *sql.Tx, collectionID int64, name string) (*current, error) {
	var (
		c       current
		created int64
	)
	err := tx.StmtContext(ctx, s.st.currentObject).QueryRowContext(ctx, collectionID, name).
		Scan(&c.id, &c.uid, &c.etag, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.created = fromMicros(created)
	return &c, nil
}

// checkMatch applies If-Match and If-None-Match: * to the current object (nil
// when the name does not exist). RFC 9110 §13.1.1: If-Match fails when no
// current representation has a matching ETag; §13.1.2: If-None-Match: *
// fails when a current representation exists. ifMatch is one ETag value,
// compared exactly, as in store/postgres; the protocol layer resolves
// "If-Match: *" and ETag lists before calling the store.
func checkMatch(cur *current, ifMatch string, ifNoneMatch bool) error {
	if ifNoneMatch && cur != nil {
		return fmt.Errorf("if-none-match: the resource exists: %w", store.ErrPreconditionFailed)
	}
	if ifMatch == "" {
		return nil
	}
	if cur == nil {
		return fmt.Errorf("if-match: no current resource: %w", store.ErrPreconditionFailed)
	}
	if cur.etag != ifMatch {
		return fmt.Errorf("if-match: etag differs: %w", store.ErrPreconditionFailed)
	}
	return nil
}

// checkUIDSQL is checkUID's query (prepared at Open on the writer).
const checkUIDSQL = `SELECT name FROM objects WHERE collection_id = $1 AND uid = $2 AND id <> $3`

// checkUID returns a *store.UIDConflictError when an object of the collection
// other than self (0 for none) uses uid. tx is a write transaction.
func (s *Store) checkUID(ctx context.Context, tx *sql.Tx, collectionID int64, uid string, self int64) error {
	var name string
	err := tx.StmtContext(ctx, s.st.checkUID).QueryRowContext(ctx, collectionID, uid, self).Scan(&name)
	switch {
	case err == nil:
		return &store.UIDConflictError{UID: uid, Name: name}
	case errors.Is(err, sql.ErrNoRows):
		return nil
	}
	return err
}

// bumpSQL is bump's statement (prepared at Open on the writer).
const bumpSQL = `UPDATE collections SET modseq = modseq + 1, updated = $2 WHERE id = $1 RETURNING modseq`

// bump raises the collection's modseq by one, stamps the collection as
// updated at t (a change of a member is a change of the collection), and
// returns the new modseq. The write transaction tx holds SQLite's write
// lock, so modseqs are handed out one at a time.
func (s *Store) bump(ctx context.Context, tx *sql.Tx, collectionID int64, t time.Time) (int64, error) {
	var modseq int64
	err := tx.StmtContext(ctx, s.st.bump).QueryRowContext(ctx, collectionID, toMicros(t)).Scan(&modseq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("collection %d: %w", collectionID, store.ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	// The one place a collection's sync token advances: queue the
	// WebDAV-Push message for its registrations in the same transaction.
	if _, err := tx.StmtContext(ctx, s.st.queuePush).ExecContext(ctx, collectionID, modseq, false); err != nil {
		return 0, err
	}
	return modseq, nil
}

// tombstoneSQL is tombstone's statement (prepared at Open on the writer).
const tombstoneSQL = `
	INSERT INTO tombstones (collection_id, name, modseq, deleted_at) VALUES ($1, $2, $3, $4)
	ON CONFLICT (collection_id, name) DO UPDATE SET modseq = excluded.modseq, deleted_at = excluded.deleted_at`

// tombstone records the deletion of name with a fresh modseq. tx is a write
// transaction.
func (s *Store) tombstone(ctx context.Context, tx *sql.Tx, collectionID int64, name string, t time.Time) error {
	modseq, err := s.bump(ctx, tx, collectionID, t)
	if err != nil {
		return err
	}
	_, err = tx.StmtContext(ctx, s.st.tombstone).ExecContext(ctx, collectionID, name, modseq, toMicros(t))
	return err
}

// dropTombstoneSQL is dropTombstone's statement (prepared at Open on the
// writer).
const dropTombstoneSQL = `DELETE FROM tombstones WHERE collection_id = $1 AND name = $2`

// dropTombstone forgets an earlier deletion of a name that exists again. tx
// is a write transaction.
func (s *Store) dropTombstone(ctx context.Context, tx *sql.Tx, collectionID int64, name string) error {
	_, err := tx.StmtContext(ctx, s.st.dropTombstone).ExecContext(ctx, collectionID, name)
	return err
}

// FindObjectByUID returns the owner's object with that UID in a collection
// of kind; the (collection_id, uid) unique index answers it per collection.
func (s *Store) FindObjectByUID(ctx context.Context, ownerID int64, kind store.Kind, uid string) (*store.Object, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	const q = `SELECT o.id, o.collection_id, o.name, o.uid, o.etag, o.content_type, o.component, o.size, o.modseq,
		o.first_start, o.last_end, o.search_text, o.created, o.updated, o.unscheduled, o.body
		FROM objects o JOIN collections c ON c.id = o.collection_id
		WHERE c.owner_id = $1 AND c.kind = $2 AND o.uid = $3
		ORDER BY c.id LIMIT 1`
	o, err := scanObject(s.r.QueryRowContext(ctx, q, ownerID, string(kind), uid), true)
	if err != nil {
		return nil, wrap("find object by uid", err)
	}
	return o, nil
}
