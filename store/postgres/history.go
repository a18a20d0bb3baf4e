package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store"
)

// versionCopy is the column list of object_versions filled from an object
// row (aliased o) and its collection (c), after op and before the actor.
const versionCopy = `c.owner_id, o.collection_id, o.name, o.uid, o.etag, o.content_type, o.component,
	o.body, o.size, o.first_start, o.last_end, o.search_text`

const versionInsert = `INSERT INTO object_versions (owner_id, collection_id, name, uid, etag, content_type,
	component, body, size, first_start, last_end, search_text, op, user_id, user_agent, trash_id)`

// insertVersion keeps the object with id objectID as a version of op.
// trashID, when not 0, ties it to a trashed collection.
func insertVersion(ctx context.Context, tx pgx.Tx, op store.Op, objectID, trashID int64, a store.Actor) error {
	q := versionInsert + `
		SELECT ` + versionCopy + `, $2, $3, $4, NULLIF($5, 0)
		FROM objects o JOIN collections c ON c.id = o.collection_id
		WHERE o.id = $1`
	_, err := tx.Exec(ctx, q, objectID, op, a.UserID, a.UserAgent, trashID)
	return err
}

// insertVersionAt keeps the object at (collectionID, name), if any, as a
// version of op.
func insertVersionAt(ctx context.Context, tx pgx.Tx, op store.Op, collectionID int64, name string, a store.Actor) error {
	q := versionInsert + `
		SELECT ` + versionCopy + `, $3, $4, $5, NULL
		FROM objects o JOIN collections c ON c.id = o.collection_id
		WHERE o.collection_id = $1 AND o.name = $2`
	_, err := tx.Exec(ctx, q, collectionID, name, op, a.UserID, a.UserAgent)
	return err
}

// insertCreateVersion records that name was created with uid.
func insertCreateVersion(ctx context.Context, tx pgx.Tx, collectionID int64, name, uid string, a store.Actor) error {
	const q = `
		INSERT INTO object_versions (owner_id, collection_id, name, op, uid, user_id, user_agent)
		SELECT owner_id, id, $2, 'create', $3, $4, $5 FROM collections WHERE id = $1`
	_, err := tx.Exec(ctx, q, collectionID, name, uid, a.UserID, a.UserAgent)
	return err
}

// trashCollection keeps the owner's collection id, its dead properties and
// its members in the trash, ahead of its deletion.
func trashCollection(ctx context.Context, tx pgx.Tx, ownerID, id int64) error {
	const q = `
		INSERT INTO collection_trash (owner_id, collection_id, kind, name, display_name, description,
			color, color_symbolic, sort_order, timezone, components, dead_props, created)
		SELECT owner_id, id, kind, name, display_name, description, color, color_symbolic,
			sort_order, timezone, components,
			COALESCE((SELECT json_agg(json_build_object('namespace', p.namespace, 'name', p.name, 'xml', p.xml)
				ORDER BY p.namespace, p.name)
				FROM collection_properties p WHERE p.collection_id = collections.id)::text, '[]'),
			created
		FROM collections WHERE id = $1 AND owner_id = $2
		RETURNING id`
	var trashID int64
	if err := tx.QueryRow(ctx, q, id, ownerID).Scan(&trashID); err != nil {
		return notFound(err)
	}
	qv := versionInsert + `
		SELECT ` + versionCopy + `, 'delete', 0, '', $2
		FROM objects o JOIN collections c ON c.id = o.collection_id
		WHERE o.collection_id = $1`
	_, err := tx.Exec(ctx, qv, id, trashID)
	return err
}

// versionColumns is the column list scanVersion reads, before the body.
const versionColumns = `id, owner_id, collection_id, COALESCE(trash_id, 0), name, op, uid, etag,
	content_type, component, size, first_start, last_end, search_text, changed_at, user_id, user_agent`

func scanVersion(row pgx.Row) (store.Version, error) {
	var v store.Version
	err := row.Scan(&v.ID, &v.OwnerID, &v.CollectionID, &v.TrashID, &v.Name, &v.Op, &v.UID, &v.ETag,
		&v.ContentType, &v.Component, &v.Size, &v.FirstStart, &v.LastEnd, &v.SearchText, &v.ChangedAt,
		&v.Actor.UserID, &v.Actor.UserAgent, &v.Body)
	return v, err
}

// ListVersions returns the owner's versions that pass f, newest first.
func (s *Store) ListVersions(ctx context.Context, ownerID int64, f store.HistoryFilter) ([]store.Version, error) {
	var q strings.Builder
	args := []any{ownerID}
	param := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	q.WriteString(`SELECT ` + versionColumns + `, NULL::bytea FROM object_versions WHERE owner_id = $1`)
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
		q.WriteString(` AND changed_at >= ` + param(f.Since))
	}
	q.WriteString(` ORDER BY id DESC`)
	if f.Limit > 0 {
		q.WriteString(` LIMIT ` + param(f.Limit))
	}
	rows, _ := s.pool.Query(ctx, q.String(), args...)
	vs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Version, error) { return scanVersion(row) })
	if err != nil {
		return nil, errorf("store: list versions: %w", err)
	}
	return vs, nil
}

// GetVersion returns one of the owner's versions with its body.
func (s *Store) GetVersion(ctx context.Context, ownerID, id int64) (*store.Version, error) {
	const q = `SELECT ` + versionColumns + `, body FROM object_versions WHERE owner_id = $1 AND id = $2`
	v, err := scanVersion(s.pool.QueryRow(ctx, q, ownerID, id))
	if err != nil {
		return nil, errorf("store: get version %d: %w", id, notFound(err))
	}
	if v.Body == nil && v.Op != store.OpCreate {
		v.Body = []byte{}
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

func scanTrashed(row pgx.Row) (store.TrashedCollection, error) {
	var (
		t    store.TrashedCollection
		c    = &t.Collection
		dead string
	)
	err := row.Scan(&t.ID, &c.OwnerID, &c.ID, &c.Kind, &c.Name, &c.DisplayName, &c.Description, &c.Color,
		&c.ColorSymbolic, &c.Order, &c.Timezone, &c.Components, &dead, &c.Created,
		&t.DeletedAt, &t.Actor.UserID, &t.Actor.UserAgent, &t.Items)
	if err != nil {
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
	return t, nil
}

// ListTrashedCollections returns the owner's deleted collections, newest
// first.
func (s *Store) ListTrashedCollections(ctx context.Context, ownerID int64) ([]store.TrashedCollection, error) {
	rows, _ := s.pool.Query(ctx, trashedQuery+` WHERE t.owner_id = $1 ORDER BY t.id DESC`, ownerID)
	ts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.TrashedCollection, error) {
		return scanTrashed(row)
	})
	if err != nil {
		return nil, errorf("store: list trashed collections: %w", err)
	}
	return ts, nil
}

// DeleteTrashedCollection forgets a trashed collection and its versions.
func (s *Store) DeleteTrashedCollection(ctx context.Context, ownerID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM collection_trash WHERE owner_id = $1 AND id = $2`, ownerID, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return errorf("store: delete trashed collection %d: %w", id, err)
	}
	return nil
}

// PurgeTrash forgets the owner's deleted items and collections.
func (s *Store) PurgeTrash(ctx context.Context, ownerID int64) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM object_versions WHERE owner_id = $1 AND op = 'delete'`, ownerID)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		tag, err = tx.Exec(ctx, `DELETE FROM collection_trash WHERE owner_id = $1`, ownerID)
		n += tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, errorf("store: purge trash: %w", err)
	}
	return n, nil
}

// PruneHistory forgets what is older than before, and the versions of an
// item beyond its newest maxPerItem.
func (s *Store) PruneHistory(ctx context.Context, before time.Time, maxPerItem int) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM collection_trash WHERE deleted_at < $1`, before)
		if err != nil {
			return err
		}
		n += tag.RowsAffected()
		tag, err = tx.Exec(ctx, `DELETE FROM object_versions WHERE changed_at < $1`, before)
		if err != nil {
			return err
		}
		n += tag.RowsAffected()
		if maxPerItem <= 0 {
			return nil
		}
		const excess = `
			DELETE FROM object_versions WHERE id IN (
				SELECT id FROM (
					SELECT id, row_number() OVER (PARTITION BY collection_id, name ORDER BY id DESC) AS n
					FROM object_versions
				) r WHERE n > $1
			)`
		tag, err = tx.Exec(ctx, excess, maxPerItem)
		n += tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, errorf("store: prune history: %w", err)
	}
	return n, nil
}

// RestoreTrashedCollection brings a trashed collection back in one
// transaction. The trash entry's row is locked first, so two restores of
// it cannot both succeed.
func (s *Store) RestoreTrashedCollection(ctx context.Context, ownerID, id int64, opts store.RestoreCollectionOptions) (*store.Collection, error) {
	var c store.Collection
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM collection_trash WHERE owner_id = $1 AND id = $2 FOR UPDATE`, ownerID, id); err != nil {
			return err
		}
		tc, err := scanTrashed(tx.QueryRow(ctx, trashedQuery+` WHERE t.owner_id = $1 AND t.id = $2`, ownerID, id))
		if err != nil {
			return notFound(err)
		}
		c = tc.Collection
		taken := func(name string) (bool, error) {
			var n int
			err := tx.QueryRow(ctx, `SELECT count(*) FROM collections WHERE owner_id = $1 AND kind = $2 AND name = $3`,
				ownerID, c.Kind, name).Scan(&n)
			return n > 0, err
		}
		if c.Name, err = store.FreeCollectionName(tc.Collection.Name, taken); err != nil {
			return err
		}
		if err := insertCollection(ctx, tx, &c); err != nil {
			return err
		}
		if err := applyDeadProps(ctx, tx, "collection_properties", "collection_id", c.ID, tc.DeadProps); err != nil {
			return err
		}
		modseq, err := bumpModSeq(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		c.ModSeq = modseq
		const q = `
			WITH ins AS (
				INSERT INTO objects (collection_id, name, uid, etag, content_type, component, body, size,
					modseq, first_start, last_end, search_text)
				SELECT $1, name, uid, etag, content_type, component, body, size, $2, first_start, last_end, search_text
				FROM object_versions WHERE trash_id = $3 ORDER BY id
				RETURNING name, uid
			)
			INSERT INTO object_versions (owner_id, collection_id, name, op, uid, user_id, user_agent)
			SELECT $4, $1, name, 'create', uid, $5, $6 FROM ins WHERE $7`
		if _, err := tx.Exec(ctx, q, c.ID, modseq, id, ownerID, opts.Actor.UserID, opts.Actor.UserAgent, s.history()); err != nil {
			return err
		}
		if opts.Quota > 0 {
			var used int64
			if err := tx.QueryRow(ctx, `SELECT COALESCE(sum(used_bytes), 0)::bigint FROM collections WHERE owner_id = $1`, ownerID).Scan(&used); err != nil {
				return err
			}
			if used > opts.Quota {
				return store.ErrQuotaExceeded
			}
		}
		_, err = tx.Exec(ctx, `DELETE FROM collection_trash WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return nil, errorf("store: restore trashed collection %d: %w", id, err)
	}
	return &c, nil
}
