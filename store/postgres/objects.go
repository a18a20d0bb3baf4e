package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/davenport-dav/davenport/store"
)

// objectColumns is the column list scanObject reads, in order, before the
// body (which each query selects itself: body, or NULL when not wanted).
const objectColumns = `id, collection_id, name, uid, etag, content_type, component, size, modseq,
	first_start, last_end, search_text, created, updated, unscheduled`

func scanObject(row pgx.Row) (store.Object, error) {
	var o store.Object
	err := row.Scan(&o.ID, &o.CollectionID, &o.Name, &o.UID, &o.ETag, &o.ContentType, &o.Component,
		&o.Size, &o.ModSeq, &o.FirstStart, &o.LastEnd, &o.SearchText, &o.Created, &o.Updated, &o.Unscheduled, &o.Body)
	return o, err
}

// objectScanner reads rows of objectColumns and a body into objects: one
// scanner serves every row of a listing, reusing its destinations, and the
// instance span's times are kept a batch at a time, so a row allocates
// only the strings the object keeps.
type objectScanner struct {
	dest        []any
	first, last pgtype.Timestamptz
	times       []time.Time
}

// scan reads one row into o; lead are destinations of columns before
// objectColumns (a change's deleted flag).
func (sc *objectScanner) scan(row pgx.Row, o *store.Object, lead ...any) error {
	sc.dest = append(append(sc.dest[:0], lead...), &o.ID, &o.CollectionID, &o.Name, &o.UID, &o.ETag, &o.ContentType, &o.Component,
		&o.Size, &o.ModSeq, &sc.first, &sc.last, &o.SearchText, &o.Created, &o.Updated, &o.Unscheduled, &o.Body)
	if err := row.Scan(sc.dest...); err != nil {
		return err
	}
	o.FirstStart, o.LastEnd = sc.time(sc.first), sc.time(sc.last)
	return nil
}

func (sc *objectScanner) time(t pgtype.Timestamptz) *time.Time {
	if !t.Valid {
		return nil
	}
	if len(sc.times) == cap(sc.times) {
		sc.times = make([]time.Time, 0, min(max(2*cap(sc.times), 2), 128))
	}
	sc.times = append(sc.times, t.Time)
	return &sc.times[len(sc.times)-1]
}

// briefColumns are read by a brief listing (ListObjectsOptions.Brief).
const briefColumns = `id, collection_id, name, etag, content_type, size, modseq, created, updated`

// collectObjects reads every row into one slice; brief rows hold
// briefColumns.
func collectObjects(rows pgx.Rows, brief bool) ([]store.Object, error) {
	defer rows.Close()
	var (
		objs []store.Object
		sc   objectScanner
	)
	for rows.Next() {
		objs = append(objs, store.Object{})
		o := &objs[len(objs)-1]
		var err error
		if brief {
			sc.dest = append(sc.dest[:0], &o.ID, &o.CollectionID, &o.Name, &o.ETag, &o.ContentType, &o.Size, &o.ModSeq,
				&o.Created, &o.Updated)
			err = rows.Scan(sc.dest...)
		} else {
			err = sc.scan(rows, o)
		}
		if err != nil {
			return nil, err
		}
	}
	return objs, rows.Err()
}

// bodyColumn selects the body only when it is wanted; an unread bytea is
// never fetched from TOAST storage.
func bodyColumn(withBody bool) string {
	if withBody {
		return "body"
	}
	return "NULL::bytea"
}

// GetObject returns the object with its body.
func (s *Store) GetObject(ctx context.Context, collectionID int64, name string) (*store.Object, error) {
	const q = `SELECT ` + objectColumns + `, body
		FROM objects
		WHERE collection_id = $1 AND name = $2`
	o, err := scanObject(s.pool.QueryRow(ctx, q, collectionID, name))
	if err != nil {
		return nil, errorf("store: get object %q: %w", name, notFound(err))
	}
	return &o, nil
}

// GetObjects returns, with one query, the objects among names that exist.
func (s *Store) GetObjects(ctx context.Context, collectionID int64, names []string, withBody bool) ([]store.Object, error) {
	if len(names) == 0 {
		return nil, nil
	}
	rows, _ := s.pool.Query(ctx, getObjectsQuery(withBody), collectionID, names)
	objs, err := collectObjects(rows, false)
	if err != nil {
		return nil, errorf("store: get objects: %w", err)
	}
	return objs, nil
}

// getObjectsQuery is the query of GetObjects: $1 the collection, $2 the
// names.
func getObjectsQuery(withBody bool) string {
	return `SELECT ` + objectColumns + `, ` + bodyColumn(withBody) + `
		FROM objects
		WHERE collection_id = $1 AND name = ANY($2)`
}

// ListObjects returns the collection's objects that pass opts, ordered by
// name. The time range is matched against the stored instance span through
// its GiST index; both ends are taken as inclusive, so the answer is a
// superset of the exact RFC 4791 §9.9 test, which the caller applies.
func (s *Store) ListObjects(ctx context.Context, collectionID int64, opts store.ListObjectsOptions) ([]store.Object, error) {
	if opts.Start != nil && opts.End != nil && opts.End.Before(*opts.Start) {
		return nil, nil // an empty range overlaps nothing
	}
	for _, term := range opts.SearchText {
		if !utf8.ValidString(term) {
			return nil, nil // text columns hold UTF-8 only, so no text contains it
		}
	}
	query, args := listQuery(collectionID, opts)
	if opts.Start != nil || opts.End != nil {
		// Planned for its own range each time. A cached statement gets a
		// generic plan after five runs, and for "range overlaps … ORDER BY
		// name LIMIT" that plan walks the (collection_id, name) index
		// through the whole collection: 0.5 s for a 100-minute range of
		// 100,000 events, against under a millisecond through the GiST
		// index.
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	rows, _ := s.pool.Query(ctx, query, args...)
	objs, err := collectObjects(rows, opts.Brief && !opts.WithBody)
	if err != nil {
		return nil, errorf("store: list objects: %w", err)
	}
	return objs, nil
}

// listQuery builds the query of ListObjects.
func listQuery(collectionID int64, opts store.ListObjectsOptions) (string, []any) {
	var q strings.Builder
	args := []any{collectionID}
	param := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if opts.Brief && !opts.WithBody {
		q.WriteString(`SELECT ` + briefColumns)
	} else {
		q.WriteString(`SELECT ` + objectColumns + `, ` + bodyColumn(opts.WithBody))
	}
	q.WriteString(`
		FROM objects
		WHERE collection_id = $1`)
	if opts.Component != "" {
		q.WriteString(` AND component = ` + param(opts.Component))
	}
	if opts.Start != nil || opts.End != nil {
		// NULL bounds are infinite on both sides of &&, which is exactly
		// "unbounded" for the object and "no limit" for the query.
		fmt.Fprintf(&q, ` AND tstzrange(first_start, last_end, '[]') && tstzrange(%s::timestamptz, %s::timestamptz, '[]')`,
			param(opts.Start), param(opts.End))
	}
	for _, term := range opts.SearchText {
		if utf8.RuneCountInString(term) >= 3 {
			// LIKE, which the trigram index of migration 9 answers,
			// with the term's own % _ and \ escaped: still a literal
			// substring test. "<> ''" repeats the partial index's
			// predicate, which the planner cannot derive from LIKE.
			q.WriteString(` AND search_text <> '' AND search_text LIKE ` + param("%"+likeEscaper.Replace(term)+"%"))
		} else {
			// A term without a trigram cannot use the index, and the
			// planner could pick a scan of all of it.
			q.WriteString(` AND strpos(search_text, ` + param(term) + `) > 0`)
		}
	}
	if opts.After != "" {
		// Keyset paging on the (collection_id, name) key; names compare
		// bytewise (COLLATE "C").
		q.WriteString(` AND name > ` + param(opts.After))
	}
	q.WriteString(` ORDER BY name`)
	if opts.Limit > 0 {
		q.WriteString(` LIMIT ` + param(opts.Limit))
	}
	return q.String(), args
}

// likeEscaper makes a string match itself literally in a LIKE pattern
// (backslash is PostgreSQL's default escape character).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// errUIDTaken marks a write that hit objects_collection_id_uid_key; the
// transaction is aborted by then, so the holder is looked up afterwards.
var errUIDTaken = errors.New("uid taken")

// PutObject creates or replaces o by collection and name. The collection's
// modseq is bumped first, which locks the collection row: the preconditions
// and the write that follows see no concurrent writer of the collection.
func (s *Store) PutObject(ctx context.Context, o *store.Object, opts store.PutObjectOptions) (bool, error) {
	var created bool
	size := int64(len(o.Body))
	body := o.Body
	if body == nil {
		body = []byte{} // an empty body, not a missing one
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		modseq, err := bumpModSeq(ctx, tx, o.CollectionID)
		if err != nil {
			return err
		}
		if !opts.IfNoneMatch {
			// RFC 9110 §13.1.1: with If-Match the write happens only if
			// the current ETag matches; the etag test is part of the UPDATE.
			// So is the UID: RFC 4791 §5.3.2.1 and RFC 6352 §6.3.2.1 do
			// not let an overwrite change it. The collection row is locked,
			// so what the UPDATE skipped is classified below without a
			// race, and only on that rare path. The previous version goes
			// to the history in the same statement: one round trip, the
			// row as the UPDATE found it.
			const update = `
				WITH prev AS (
					INSERT INTO object_versions (owner_id, collection_id, name, op, uid, etag,
						content_type, component, body, size, first_start, last_end, search_text,
						user_id, user_agent)
					SELECT c.owner_id, o.collection_id, o.name, 'update', o.uid, o.etag,
						o.content_type, o.component, o.body, o.size, o.first_start, o.last_end,
						o.search_text, $14, $15
					FROM objects o JOIN collections c ON c.id = o.collection_id
					WHERE o.collection_id = $1 AND o.name = $2 AND o.uid = $3 AND ($13 = '' OR o.etag = $13) AND $16
				)
				UPDATE objects SET etag = $4, content_type = $5, component = $6, body = $7,
					size = $8, modseq = $9, first_start = $10, last_end = $11, search_text = $12,
					updated = now(), unscheduled = $17
				WHERE collection_id = $1 AND name = $2 AND uid = $3 AND ($13 = '' OR etag = $13)
				RETURNING id, created, updated`
			err := tx.QueryRow(ctx, update, o.CollectionID, o.Name, o.UID, o.ETag, o.ContentType,
				o.Component, body, size, modseq, o.FirstStart, o.LastEnd, o.SearchText, opts.IfMatch,
				opts.Actor.UserID, opts.Actor.UserAgent, s.history(), o.Unscheduled).
				Scan(&o.ID, &o.Created, &o.Updated)
			if err == nil {
				o.Size, o.ModSeq = size, modseq
				return queueMail(ctx, tx, opts.Mail)
			}
			if isUniqueViolation(err, "objects_collection_id_uid_key") {
				return errUIDTaken
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		if opts.IfMatch != "" {
			// Nothing matched: the name is missing, has another ETag
			// (or If-None-Match: * was given too), or holds another UID.
			var etag string
			err := tx.QueryRow(ctx, `SELECT etag FROM objects WHERE collection_id = $1 AND name = $2`,
				o.CollectionID, o.Name).Scan(&etag)
			if err == nil && etag == opts.IfMatch && !opts.IfNoneMatch {
				return uidChanged(ctx, tx, o.CollectionID, o.UID, 0)
			}
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			return store.ErrPreconditionFailed
		}
		// The name's tombstone, if any, goes in the same statement: one
		// round trip less while the collection row is locked.
		const insert = `
			WITH ins AS (
				INSERT INTO objects (collection_id, name, uid, etag, content_type, component, body, size,
					modseq, first_start, last_end, search_text, unscheduled)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $16)
				ON CONFLICT (collection_id, name) DO NOTHING
				RETURNING id, created, updated
			), revived AS (
				DELETE FROM tombstones
				WHERE collection_id = $1 AND name = $2 AND EXISTS (SELECT FROM ins)
			), hist AS (
				INSERT INTO object_versions (owner_id, collection_id, name, op, uid, user_id, user_agent)
				SELECT c.owner_id, $1, $2, 'create', $3, $13, $14
				FROM ins, collections c WHERE c.id = $1 AND $15
			)
			SELECT id, created, updated FROM ins`
		err = tx.QueryRow(ctx, insert, o.CollectionID, o.Name, o.UID, o.ETag, o.ContentType,
			o.Component, body, size, modseq, o.FirstStart, o.LastEnd, o.SearchText,
			opts.Actor.UserID, opts.Actor.UserAgent, s.history(), o.Unscheduled).
			Scan(&o.ID, &o.Created, &o.Updated)
		switch {
		case isUniqueViolation(err, "objects_collection_id_uid_key"):
			return errUIDTaken
		case errors.Is(err, pgx.ErrNoRows) && opts.IfNoneMatch:
			// The name exists: If-None-Match: * fails (RFC 9110 §13.1.2).
			return store.ErrPreconditionFailed
		case errors.Is(err, pgx.ErrNoRows):
			// The name exists, and the UPDATE, under the same lock,
			// skipped it: it holds another UID.
			return uidChanged(ctx, tx, o.CollectionID, o.UID, 0)
		case err != nil:
			return err
		}
		o.Size, o.ModSeq = size, modseq
		created = true
		return queueMail(ctx, tx, opts.Mail)
	})
	if errors.Is(err, errUIDTaken) {
		err = s.uidConflict(ctx, o.CollectionID, o.UID)
	}
	if err != nil {
		return false, errorf("store: put object %q: %w", o.Name, err)
	}
	return created, nil
}

// uidChanged is the error of a write that would give an existing name
// another UID: a *UIDConflictError when another object of the collection
// (other than the one with id except) already holds uid — the more useful
// answer, since it names that object — else ErrUIDChanged.
func uidChanged(ctx context.Context, tx pgx.Tx, collectionID int64, uid string, except int64) error {
	const q = `SELECT name FROM objects WHERE collection_id = $1 AND uid = $2 AND id <> $3`
	var name string
	err := tx.QueryRow(ctx, q, collectionID, uid, except).Scan(&name)
	switch {
	case err == nil:
		return &store.UIDConflictError{UID: uid, Name: name}
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrUIDChanged
	}
	return err
}

// uidConflict names the object that holds uid in the collection.
func (s *Store) uidConflict(ctx context.Context, collectionID int64, uid string) error {
	const q = `SELECT name FROM objects WHERE collection_id = $1 AND uid = $2`
	var name string
	if err := s.pool.QueryRow(ctx, q, collectionID, uid).Scan(&name); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			// The holder went away after our write failed; the
			// conflict stands for this attempt.
			return store.ErrConflict
		}
		return err
	}
	return &store.UIDConflictError{UID: uid, Name: name}
}

// DeleteObject removes the object and leaves a tombstone stamped with a new
// modseq.
func (s *Store) DeleteObject(ctx context.Context, collectionID int64, name string, opts store.DeleteObjectOptions) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		modseq, err := bumpModSeq(ctx, tx, collectionID)
		if err != nil {
			return err
		}
		// The deleted version goes to the history (the trash) in the
		// same statement.
		const del = `
			WITH del AS (
				DELETE FROM objects WHERE collection_id = $1 AND name = $2 AND ($3 = '' OR etag = $3)
				RETURNING collection_id, name, uid, etag, content_type, component, body, size,
					first_start, last_end, search_text
			), hist AS (
				INSERT INTO object_versions (owner_id, collection_id, name, op, uid, etag,
					content_type, component, body, size, first_start, last_end, search_text,
					user_id, user_agent)
				SELECT c.owner_id, d.collection_id, d.name, 'delete', d.uid, d.etag,
					d.content_type, d.component, d.body, d.size, d.first_start, d.last_end,
					d.search_text, $4, $5
				FROM del d JOIN collections c ON c.id = d.collection_id
				WHERE $6
			)
			SELECT count(*) FROM del`
		var n int64
		err = tx.QueryRow(ctx, del, collectionID, name, opts.IfMatch,
			opts.Actor.UserID, opts.Actor.UserAgent, s.history()).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			if opts.IfMatch != "" {
				return store.ErrPreconditionFailed
			}
			return store.ErrNotFound
		}
		if err := insertTombstone(ctx, tx, collectionID, name, modseq); err != nil {
			return err
		}
		return queueMail(ctx, tx, opts.Mail)
	})
	if err != nil {
		return errorf("store: delete object %q: %w", name, err)
	}
	return nil
}

// MoveObject moves an object to newName in toCollectionID (which may be the
// source collection) in one transaction. The source name gets a tombstone,
// then the destination name the object, each stamped with its own modseq.
func (s *Store) MoveObject(ctx context.Context, fromCollectionID int64, name string, toCollectionID int64, newName string, opts store.MoveObjectOptions) (bool, error) {
	var (
		created bool
		uid     string
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		kinds, err := lockCollections(ctx, tx, fromCollectionID, toCollectionID)
		if err != nil {
			return err
		}
		if kinds[fromCollectionID] != kinds[toCollectionID] {
			return fmt.Errorf("move between a %s and a %s: %w", kinds[fromCollectionID], kinds[toCollectionID], store.ErrConflict)
		}

		var (
			srcID int64
			etag  string
		)
		const src = `SELECT id, uid, etag FROM objects WHERE collection_id = $1 AND name = $2`
		if err := tx.QueryRow(ctx, src, fromCollectionID, name).Scan(&srcID, &uid, &etag); err != nil {
			if errors.Is(err, pgx.ErrNoRows) && opts.IfMatch != "" {
				return store.ErrPreconditionFailed
			}
			return notFound(err)
		}
		if opts.IfMatch != "" && opts.IfMatch != etag {
			return store.ErrPreconditionFailed
		}
		if fromCollectionID == toCollectionID && name == newName {
			return fmt.Errorf("source and destination are the same: %w", store.ErrConflict)
		}

		// The history records the source's version as deleted from its
		// name and the destination's (when replaced) as overwritten.
		if s.history() {
			if err := insertVersion(ctx, tx, store.OpDelete, srcID, 0, opts.Actor); err != nil {
				return err
			}
			if opts.Overwrite {
				if err := insertVersionAt(ctx, tx, store.OpUpdate, toCollectionID, newName, opts.Actor); err != nil {
					return err
				}
			}
		}

		// RFC 4918 §9.9.3: with Overwrite: F an existing destination
		// fails the move; with T it is replaced. The replaced name stays
		// live, so it needs no tombstone.
		// RFC 4791 §5.3.2.1, RFC 6352 §6.3.2.1: the replaced object must
		// have the moved one's UID; otherwise the DELETE is rolled back.
		const dst = `DELETE FROM objects WHERE collection_id = $1 AND name = $2 AND $3 RETURNING uid`
		var dstUID string
		err = tx.QueryRow(ctx, dst, toCollectionID, newName, opts.Overwrite).Scan(&dstUID)
		replaced := err == nil
		switch {
		case replaced && dstUID != uid && kinds[toCollectionID] != store.KindFiles:
			// A file's UID is the store's own, not the client's: a file
			// replaces any other.
			return uidChanged(ctx, tx, toCollectionID, uid, srcID)
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if !opts.Overwrite {
			var exists bool
			const q = `SELECT EXISTS (SELECT 1 FROM objects WHERE collection_id = $1 AND name = $2)`
			if err := tx.QueryRow(ctx, q, toCollectionID, newName).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return store.ErrPreconditionFailed
			}
		}
		created = !replaced
		if created && s.history() {
			if err := insertCreateVersion(ctx, tx, toCollectionID, newName, uid, opts.Actor); err != nil {
				return err
			}
		}

		srcModSeq, err := bumpModSeq(ctx, tx, fromCollectionID)
		if err != nil {
			return err
		}
		if err := insertTombstone(ctx, tx, fromCollectionID, name, srcModSeq); err != nil {
			return err
		}
		dstModSeq, err := bumpModSeq(ctx, tx, toCollectionID)
		if err != nil {
			return err
		}
		const move = `
			UPDATE objects SET collection_id = $2, name = $3, modseq = $4, updated = now()
			WHERE id = $1`
		if _, err := tx.Exec(ctx, move, srcID, toCollectionID, newName, dstModSeq); err != nil {
			switch {
			case isUniqueViolation(err, "objects_collection_id_uid_key"):
				return errUIDTaken
			case isUniqueViolation(err, "objects_collection_id_name_key"):
				return store.ErrConflict
			}
			return err
		}
		return deleteTombstone(ctx, tx, toCollectionID, newName)
	})
	if errors.Is(err, errUIDTaken) {
		err = s.uidConflict(ctx, toCollectionID, uid)
	}
	if err != nil {
		return false, errorf("store: move object %q: %w", name, err)
	}
	return created, nil
}

// insertTombstone records that name was deleted at modseq.
func insertTombstone(ctx context.Context, tx pgx.Tx, collectionID int64, name string, modseq int64) error {
	const q = `
		INSERT INTO tombstones (collection_id, name, modseq, deleted_at)
		VALUES ($1, $2, $3, now())
		ON CONFLICT (collection_id, name) DO UPDATE SET modseq = EXCLUDED.modseq, deleted_at = EXCLUDED.deleted_at`
	_, err := tx.Exec(ctx, q, collectionID, name, modseq)
	return err
}

// deleteTombstone forgets the deletion of a name that exists again: its
// change is now the live object's.
func deleteTombstone(ctx context.Context, tx pgx.Tx, collectionID int64, name string) error {
	const q = `DELETE FROM tombstones WHERE collection_id = $1 AND name = $2`
	_, err := tx.Exec(ctx, q, collectionID, name)
	return err
}

// FindObjectByUID returns the owner's object with that UID in a collection
// of kind; the (collection_id, uid) unique index answers it per collection.
func (s *Store) FindObjectByUID(ctx context.Context, ownerID int64, kind store.Kind, uid string) (*store.Object, error) {
	const q = `SELECT o.id, o.collection_id, o.name, o.uid, o.etag, o.content_type, o.component, o.size, o.modseq,
		o.first_start, o.last_end, o.search_text, o.created, o.updated, o.unscheduled, o.body
		FROM objects o JOIN collections c ON c.id = o.collection_id
		WHERE c.owner_id = $1 AND c.kind = $2 AND o.uid = $3
		ORDER BY c.id LIMIT 1`
	o, err := scanObject(s.pool.QueryRow(ctx, q, ownerID, string(kind), uid))
	if err != nil {
		return nil, errorf("store: find object by uid %q: %w", uid, notFound(err))
	}
	return &o, nil
}
