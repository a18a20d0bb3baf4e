package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// versionInsert and versionCopy fill a row of object_versions from an object
// row (aliased o) and its collection (c); the statements add op, the time,
// the actor and the trash entry after them.
const (
	versionInsert = `INSERT INTO object_versions (owner_id, collection_id, name, uid, etag, content_type,
	component, body, size, first_start, last_end, search_text, op, changed_at, user_id, user_agent, trash_id)`
	versionCopy = `c.owner_id, o.collection_id, o.name, o.uid, o.etag, o.content_type, o.component,
	o.body, o.size, o.first_start, o.last_end, o.search_text`
)

// insertVersionSQL keeps the object with id $1 as a version of op $2
// (prepared at Open on the writer).
const insertVersionSQL = versionInsert + `
	SELECT ` + versionCopy + `, $2, $3, $4, $5, NULL
	FROM objects o JOIN collections c ON c.id = o.collection_id
	WHERE o.id = $1`

// createVersionSQL records that name $2 of collection $1 was created with
// uid $3 (prepared at Open on the writer).
const createVersionSQL = `
	INSERT INTO object_versions (owner_id, collection_id, name, op, uid, changed_at, user_id, user_agent)
	SELECT owner_id, id, $2, 'create', $3, $4, $5, $6 FROM collections WHERE id = $1`

// SetHistory turns the version history and trash on (the default) or off.
// Off, writes keep no previous versions and deleted collections are gone at
// once; what is kept already stays until pruned.
func (s *Store) SetHistory(on bool) { s.noHistory.Store(!on) }

// keepVersion keeps the object with id objectID as a version of op, when
// history is on. tx is a write transaction.
func (s *Store) keepVersion(ctx context.Context, tx *sql.Tx, op store.Op, objectID int64, t time.Time, a store.Actor) error {
	if s.noHistory.Load() {
		return nil
	}
	_, err := tx.StmtContext(ctx, s.st.insertVersion).ExecContext(ctx, objectID, op, toMicros(t), a.UserID, a.UserAgent)
	return err
}

// keepCreation records the creation of name, when history is on.
func (s *Store) keepCreation(ctx context.Context, tx *sql.Tx, collectionID int64, name, uid string, t time.Time, a store.Actor) error {
	if s.noHistory.Load() {
		return nil
	}
	_, err := tx.StmtContext(ctx, s.st.createVersion).ExecContext(ctx, collectionID, name, uid, toMicros(t), a.UserID, a.UserAgent)
	return err
}

// trashCollection keeps the owner's collection id, its dead properties and
// its members in the trash, ahead of its deletion.
func trashCollection(ctx context.Context, tx *sql.Tx, ownerID, id int64, t time.Time) error {
	const q = `
		INSERT INTO collection_trash (owner_id, collection_id, kind, name, display_name, description,
			color, color_symbolic, sort_order, timezone, components, dead_props, created, deleted_at)
		SELECT owner_id, id, kind, name, display_name, description, color, color_symbolic,
			sort_order, timezone, components,
			(SELECT json_group_array(json_object('namespace', namespace, 'name', name, 'xml', xml))
			 FROM (SELECT namespace, name, xml FROM collection_properties
			       WHERE collection_id = collections.id ORDER BY namespace, name)),
			created, $3
		FROM collections WHERE id = $1 AND owner_id = $2
		RETURNING id`
	var trashID int64
	if err := tx.QueryRowContext(ctx, q, id, ownerID, toMicros(t)).Scan(&trashID); err != nil {
		return err
	}
	const qv = versionInsert + `
		SELECT ` + versionCopy + `, 'delete', $3, 0, '', $2
		FROM objects o JOIN collections c ON c.id = o.collection_id
		WHERE o.collection_id = $1`
	_, err := tx.ExecContext(ctx, qv, id, trashID, toMicros(t))
	return err
}

// versionColumns is the column list scanVersion reads, before the body.
const versionColumns = `id, owner_id, collection_id, COALESCE(trash_id, 0), name, op, uid, etag,
	content_type, component, size, first_start, last_end, search_text, changed_at, user_id, user_agent`

func scanVersion(row interface{ Scan(...any) error }, withBody bool) (store.Version, error) {
	var (
		v           store.Version
		op          string
		first, last sql.NullInt64
		changed     int64
	)
	dest := []any{&v.ID, &v.OwnerID, &v.CollectionID, &v.TrashID, &v.Name, &op, &v.UID, &v.ETag,
		&v.ContentType, &v.Component, &v.Size, &first, &last, &v.SearchText, &changed,
		&v.Actor.UserID, &v.Actor.UserAgent}
	if withBody {
		dest = append(dest, &v.Body)
	}
	if err := row.Scan(dest...); err != nil {
		return v, err
	}
	v.Op = store.Op(op)
	v.FirstStart, v.LastEnd = fromNullMicros(first), fromNullMicros(last)
	v.ChangedAt = fromMicros(changed)
	if withBody && v.Body == nil && v.Op != store.OpCreate {
		v.Body = []byte{}
	}
	return v, nil
}

// ListVersions returns the owner's versions that pass f, newest first.
func (s *Store) ListVersions(ctx context.Context, ownerID int64, f store.HistoryFilter) ([]store.Version, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var q strings.Builder
	args := []any{ownerID}
	param := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	q.WriteString(`SELECT ` + versionColumns + ` FROM object_versions WHERE owner_id = $1`)
	if f.CollectionID != 0 {
		q.WriteString(` AND collection_id = ` + param(f.CollectionID))
		if f.Name != "" {
			q.WriteString(` AND name = ` + param(f.Name))
		}
	}
	if f.TrashID != 0 {
		q.WriteString(` AND trash_id = ` + param(f.TrashID))
	}
	if f.Op != "" {
		q.WriteString(` AND op = ` + param(string(f.Op)))
	}
	if f.UserAgent != "" {
		q.WriteString(` AND user_agent = ` + param(f.UserAgent))
	}
	if !f.Since.IsZero() {
		q.WriteString(` AND changed_at >= ` + param(toMicros(f.Since)))
	}
	q.WriteString(` ORDER BY id DESC`)
	if f.Limit > 0 {
		q.WriteString(` LIMIT ` + param(f.Limit))
	}
	var vs []store.Version
	err := s.read(ctx, "list versions", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q.String(), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanVersion(rows, false)
			if err != nil {
				return err
			}
			vs = append(vs, v)
		}
		return rows.Err()
	})
	return vs, err
}

// GetVersion returns one of the owner's versions with its body.
func (s *Store) GetVersion(ctx context.Context, ownerID, id int64) (*store.Version, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	const q = `SELECT ` + versionColumns + `, body FROM object_versions WHERE owner_id = $1 AND id = $2`
	v, err := scanVersion(s.r.QueryRowContext(ctx, q, ownerID, id), true)
	if err != nil {
		return nil, wrap(fmt.Sprintf("get version %d", id), err)
	}
	return &v, nil
}

// trashedQuery selects what scanTrashed reads, from collection_trash t.
const trashedQuery = `
	SELECT t.id, t.owner_id, t.collection_id, t.kind, t.name, t.display_name, t.description, t.color,
		t.color_symbolic, t.sort_order, t.timezone, t.components, t.dead_props, t.created,
		t.deleted_at, t.user_id, t.user_agent,
		(SELECT count(*) FROM object_versions v WHERE v.trash_id = t.id)
	FROM collection_trash t`

func scanTrashed(row interface{ Scan(...any) error }) (store.TrashedCollection, error) {
	var (
		t                 store.TrashedCollection
		c                 = &t.Collection
		kind, comps, dead string
		order             sql.NullInt64
		created, deleted  int64
	)
	err := row.Scan(&t.ID, &c.OwnerID, &c.ID, &kind, &c.Name, &c.DisplayName, &c.Description, &c.Color,
		&c.ColorSymbolic, &order, &c.Timezone, &comps, &dead, &created,
		&deleted, &t.Actor.UserID, &t.Actor.UserAgent, &t.Items)
	if err != nil {
		return t, err
	}
	c.Kind = store.Kind(kind)
	if order.Valid {
		o := int(order.Int64)
		c.Order = &o
	}
	if err := json.Unmarshal([]byte(comps), &c.Components); err != nil {
		return t, err
	}
	if len(c.Components) == 0 {
		c.Components = nil
	}
	if err := json.Unmarshal([]byte(dead), &t.DeadProps); err != nil {
		return t, err
	}
	if len(t.DeadProps) == 0 {
		t.DeadProps = nil
	}
	c.Created, t.DeletedAt = fromMicros(created), fromMicros(deleted)
	return t, nil
}

// ListTrashedCollections returns the owner's deleted collections, newest
// first.
func (s *Store) ListTrashedCollections(ctx context.Context, ownerID int64) ([]store.TrashedCollection, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var ts []store.TrashedCollection
	err := s.read(ctx, "list trashed collections", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, trashedQuery+` WHERE t.owner_id = $1 ORDER BY t.id DESC`, ownerID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTrashed(rows)
			if err != nil {
				return err
			}
			ts = append(ts, t)
		}
		return rows.Err()
	})
	return ts, err
}

// DeleteTrashedCollection forgets a trashed collection and its versions.
func (s *Store) DeleteTrashedCollection(ctx context.Context, ownerID, id int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.write(ctx, "delete trashed collection", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM collection_trash WHERE owner_id = $1 AND id = $2`, ownerID, id)
		return oneRow(res, err)
	})
}

// PurgeTrash forgets the owner's deleted items and collections.
func (s *Store) PurgeTrash(ctx context.Context, ownerID int64) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int64
	err := s.write(ctx, "purge trash", func(tx *sql.Tx) (err error) {
		n, err = execCount(ctx, tx, []any{ownerID},
			`DELETE FROM object_versions WHERE owner_id = $1 AND op = 'delete'`,
			`DELETE FROM collection_trash WHERE owner_id = $1`)
		return err
	})
	return n, err
}

// PruneHistory forgets what is older than before, and the versions of an
// item beyond its newest maxPerItem.
func (s *Store) PruneHistory(ctx context.Context, before time.Time, maxPerItem int) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int64
	err := s.write(ctx, "prune history", func(tx *sql.Tx) (err error) {
		// maxPerItem <= 0 keeps every version: no row number exceeds
		// the largest integer.
		limit := int64(maxPerItem)
		if limit <= 0 {
			limit = math.MaxInt64
		}
		n, err = execCount(ctx, tx, []any{toMicros(before), limit},
			`DELETE FROM collection_trash WHERE deleted_at < $1`,
			`DELETE FROM object_versions WHERE changed_at < $1`,
			`DELETE FROM object_versions WHERE id IN (
				SELECT id FROM (
					SELECT id, row_number() OVER (PARTITION BY collection_id, name ORDER BY id DESC) AS n
					FROM object_versions
				) WHERE n > $2
			)`)
		return err
	})
	return n, err
}

// execCount runs each statement with args (numbered parameters a statement
// does not use are ignored) and returns the rows they affected in all.
func execCount(ctx context.Context, tx *sql.Tx, args []any, stmts ...string) (int64, error) {
	var n int64
	for _, q := range stmts {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return n, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// RestoreTrashedCollection brings a trashed collection back in one write
// transaction.
func (s *Store) RestoreTrashedCollection(ctx context.Context, ownerID, id int64, opts store.RestoreCollectionOptions) (*store.Collection, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	t := now()
	var c store.Collection
	err := s.write(ctx, "restore trashed collection", func(tx *sql.Tx) error {
		tc, err := scanTrashed(tx.QueryRowContext(ctx, trashedQuery+` WHERE t.owner_id = $1 AND t.id = $2`, ownerID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		c = tc.Collection
		taken := func(name string) (bool, error) {
			var n int
			err := tx.QueryRowContext(ctx, `SELECT count(*) FROM collections WHERE owner_id = $1 AND kind = $2 AND name = $3`,
				ownerID, string(c.Kind), name).Scan(&n)
			return n > 0, err
		}
		if c.Name, err = store.FreeCollectionName(tc.Collection.Name, taken); err != nil {
			return err
		}
		if err := insertCollection(ctx, tx, &c, t); err != nil {
			return err
		}
		if err := applyDeadProps(ctx, tx, "collection_properties", "collection_id", c.ID, tc.DeadProps); err != nil {
			return err
		}
		modseq, err := s.bump(ctx, tx, c.ID, t)
		if err != nil {
			return err
		}
		c.ModSeq = modseq
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO objects (collection_id, name, uid, etag, content_type, component, size,
				modseq, first_start, last_end, search_text, created, updated, body)
			SELECT $1, name, uid, etag, content_type, component, size, $2, first_start, last_end, search_text,
				$3, $3, body
			FROM object_versions WHERE trash_id = $4 ORDER BY id`, c.ID, modseq, toMicros(t), id); err != nil {
			return err
		}
		if !s.noHistory.Load() {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO object_versions (owner_id, collection_id, name, op, uid, changed_at, user_id, user_agent)
				SELECT $1, $2, name, 'create', uid, $3, $4, $5 FROM object_versions WHERE trash_id = $6 ORDER BY id`,
				ownerID, c.ID, toMicros(t), opts.Actor.UserID, opts.Actor.UserAgent, id); err != nil {
				return err
			}
		}
		if opts.Quota > 0 {
			var used int64
			if err := tx.QueryRowContext(ctx, usedBytesSQL, ownerID).Scan(&used); err != nil {
				return err
			}
			if used > opts.Quota {
				return store.ErrQuotaExceeded
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM collection_trash WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.Created, c.Updated = t, t
	return &c, nil
}
