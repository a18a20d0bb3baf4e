package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// CreateCollection inserts c, setting its ID, ModSeq, PrunedModSeq, Created and
// Updated. The owner must exist (store.ErrNotFound); a collection of the same
// kind and name for that owner is store.ErrConflict.
func (s *Store) CreateCollection(ctx context.Context, c *store.Collection) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	t := now()
	return s.write(ctx, "create collection", func(tx *sql.Tx) error {
		return insertCollection(ctx, tx, c, t)
	})
}

func insertCollection(ctx context.Context, tx *sql.Tx, c *store.Collection, t time.Time) error {
	comps, err := encodeComponents(c.Components)
	if err != nil {
		return err
	}
	err = tx.QueryRowContext(ctx, `
		INSERT INTO collections (owner_id, kind, name, display_name, description, color,
			color_symbolic, sort_order, timezone, components, created, updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
		RETURNING id, modseq, pruned_modseq`,
		c.OwnerID, string(c.Kind), c.Name, c.DisplayName, c.Description, c.Color,
		c.ColorSymbolic, nullInt(c.Order), c.Timezone, comps, toMicros(t),
	).Scan(&c.ID, &c.ModSeq, &c.PrunedModSeq)
	if err != nil {
		return err
	}
	c.Created, c.Updated = t, t
	return nil
}

const collectionColumns = `id, owner_id, kind, name, display_name, description, color, color_symbolic,
	sort_order, timezone, components, modseq, pruned_modseq, created, updated,
	EXISTS (SELECT 1 FROM shares WHERE shares.collection_id = collections.id)`

func scanCollection(row interface{ Scan(...any) error }) (*store.Collection, error) {
	var (
		c                store.Collection
		kind, comps      string
		order            sql.NullInt64
		created, updated int64
	)
	err := row.Scan(&c.ID, &c.OwnerID, &kind, &c.Name, &c.DisplayName, &c.Description, &c.Color,
		&c.ColorSymbolic, &order, &c.Timezone, &comps, &c.ModSeq, &c.PrunedModSeq, &created, &updated, &c.Shared)
	if err != nil {
		return nil, err
	}
	c.Kind = store.Kind(kind)
	if order.Valid {
		o := int(order.Int64)
		c.Order = &o
	}
	if err := json.Unmarshal([]byte(comps), &c.Components); err != nil {
		return nil, fmt.Errorf("collection %d: components: %w", c.ID, err)
	}
	if len(c.Components) == 0 {
		c.Components = nil
	}
	c.Created, c.Updated = fromMicros(created), fromMicros(updated)
	return &c, nil
}

// getCollectionSQL is GetCollection's query (prepared at Open).
const getCollectionSQL = `
	SELECT ` + collectionColumns + `
	FROM collections WHERE owner_id = $1 AND kind = $2 AND name = $3`

// GetCollection returns the owner's collection of that kind and name.
func (s *Store) GetCollection(ctx context.Context, ownerID int64, kind store.Kind, name string) (*store.Collection, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	c, err := scanCollection(s.st.getCollection.QueryRowContext(ctx, ownerID, string(kind), name))
	if err != nil {
		return nil, wrap("get collection", err)
	}
	return c, nil
}

// listCollectionsSQL is ListCollections' query (prepared at Open).
const listCollectionsSQL = `
	SELECT ` + collectionColumns + `
	FROM collections WHERE owner_id = $1 AND kind = $2 ORDER BY name`

// ListCollections returns the owner's collections of that kind ordered by
// name.
func (s *Store) ListCollections(ctx context.Context, ownerID int64, kind store.Kind) ([]store.Collection, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.st.listCollections.QueryContext(ctx, ownerID, string(kind))
	if err != nil {
		return nil, wrap("list collections", err)
	}
	defer rows.Close()
	var cs []store.Collection
	for rows.Next() {
		c, err := scanCollection(rows)
		if err != nil {
			return nil, wrap("list collections", err)
		}
		cs = append(cs, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list collections", err)
	}
	return cs, nil
}

// UpdateCollection applies p to the owner's collection in one transaction.
// It changes neither the modseq (which tracks members) nor anything when the
// collection is not the owner's (store.ErrNotFound).
func (s *Store) UpdateCollection(ctx context.Context, ownerID, id int64, p store.CollectionPatch) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	for _, dp := range p.DeadProps {
		// RFC 4918 §4.3: a property is named by a namespace and a local
		// name; an element without a local name is not a property.
		if dp.Name == "" {
			return errorf("sqlite: update collection %d: dead property in namespace %q has no name", id, dp.Namespace)
		}
	}
	t := now()
	return s.write(ctx, "update collection", func(tx *sql.Tx) error {
		var order sql.NullInt64
		setOrder := p.Order != nil
		if setOrder {
			order = nullInt(*p.Order)
		}
		res, err := tx.ExecContext(ctx, `
			UPDATE collections SET
				display_name   = coalesce($3, display_name),
				description    = coalesce($4, description),
				color          = coalesce($5, color),
				color_symbolic = coalesce($6, color_symbolic),
				sort_order     = CASE WHEN $7 THEN $8 ELSE sort_order END,
				timezone       = coalesce($9, timezone),
				updated        = $10
			WHERE id = $1 AND owner_id = $2`,
			id, ownerID, nullString(p.DisplayName), nullString(p.Description), nullString(p.Color),
			nullString(p.ColorSymbolic), setOrder, order, nullString(p.Timezone), toMicros(t))
		if err := oneRow(res, err); err != nil {
			return err
		}
		if err := applyDeadProps(ctx, tx, "collection_properties", "collection_id", id, p.DeadProps); err != nil {
			return err
		}
		return s.queuePush(ctx, tx, id, true)
	})
}

// applyDeadProps sets (XML non-empty) or removes the dead properties of
// the collection or object id in table, whose owner column is owner.
func applyDeadProps(ctx context.Context, tx *sql.Tx, table, owner string, id int64, props []store.DeadProp) error {
	for _, dp := range props {
		var err error
		if dp.XML == "" {
			_, err = tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+owner+` = $1 AND namespace = $2 AND name = $3`,
				id, dp.Namespace, dp.Name)
		} else {
			_, err = tx.ExecContext(ctx, `
				INSERT INTO `+table+` (`+owner+`, namespace, name, xml) VALUES ($1, $2, $3, $4)
				ON CONFLICT (`+owner+`, namespace, name) DO UPDATE SET xml = excluded.xml`,
				id, dp.Namespace, dp.Name, dp.XML)
		}
		if err != nil {
			return fmt.Errorf("dead property {%s}%s: %w", dp.Namespace, dp.Name, err)
		}
	}
	return nil
}

// DeleteCollection removes the owner's collection with its objects,
// tombstones and dead properties.
func (s *Store) DeleteCollection(ctx context.Context, ownerID, id int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	t := now()
	return s.write(ctx, "delete collection", func(tx *sql.Tx) error {
		if !s.noHistory.Load() {
			if err := trashCollection(ctx, tx, ownerID, id, t); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM collections WHERE id = $1 AND owner_id = $2`, id, ownerID)
		return oneRow(res, err)
	})
}

// MoveCollection renames the owner's collection in one write transaction,
// starting a new sync-token space (modseq bumped, pruned_modseq raised to
// it).
func (s *Store) MoveCollection(ctx context.Context, ownerID, id int64, newName string, opts store.MoveCollectionOptions) (bool, error) {
	t := now()
	created := true
	err := s.write(ctx, "move collection", func(tx *sql.Tx) error {
		var kind string
		err := tx.QueryRowContext(ctx, `SELECT kind FROM collections WHERE id = $1 AND owner_id = $2`, id, ownerID).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		var dst int64
		err = tx.QueryRowContext(ctx, `SELECT id FROM collections WHERE owner_id = $1 AND kind = $2 AND name = $3 AND id <> $4`,
			ownerID, kind, newName, id).Scan(&dst)
		switch {
		case err == nil && !opts.Overwrite:
			return store.ErrPreconditionFailed
		case err == nil:
			// The destination goes first; the schema cascades to its members.
			if _, err := tx.ExecContext(ctx, `DELETE FROM collections WHERE id = $1`, dst); err != nil {
				return err
			}
			created = false
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		res, err := tx.ExecContext(ctx, `
			UPDATE collections SET name = $3, modseq = modseq + 1, pruned_modseq = modseq + 1, updated = $4
			WHERE id = $1 AND owner_id = $2`, id, ownerID, newName, toMicros(t))
		return oneRow(res, err)
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

// listDeadPropsSQL is ListDeadProps' query (prepared at Open).
const listDeadPropsSQL = `
	SELECT namespace, name, xml FROM collection_properties
	WHERE collection_id = $1 ORDER BY namespace, name`

// ListDeadProps returns the collection's dead properties ordered by namespace,
// then name (bytewise).
func (s *Store) ListDeadProps(ctx context.Context, collectionID int64) ([]store.DeadProp, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var props []store.DeadProp
	err := s.read(ctx, "list dead properties", func(tx *sql.Tx) error {
		rows, err := tx.StmtContext(ctx, s.st.listDeadProps).QueryContext(ctx, collectionID)
		props, err = scanDeadProps(rows, err)
		return err
	})
	return props, err
}

// scanDeadProps reads the rows of a dead-property query (namespace, name,
// xml) and closes them.
func scanDeadProps(rows *sql.Rows, err error) ([]store.DeadProp, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var props []store.DeadProp
	for rows.Next() {
		var p store.DeadProp
		if err := rows.Scan(&p.Namespace, &p.Name, &p.XML); err != nil {
			return nil, err
		}
		props = append(props, p)
	}
	return props, rows.Err()
}

// usedBytesSQL is UsedBytes' query (prepared at Open). Each collection's
// used_bytes is kept equal to the sum of its members' sizes by triggers on
// objects (migration 000009), so this reads one row per collection however
// many objects there are.
const usedBytesSQL = `SELECT coalesce(sum(used_bytes), 0) FROM collections WHERE owner_id = $1`

// UsedBytes sums the sizes of all objects in the owner's collections.
func (s *Store) UsedBytes(ctx context.Context, ownerID int64) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int64
	err := s.st.usedBytes.QueryRowContext(ctx, ownerID).Scan(&n)
	if err != nil {
		return 0, wrap("used bytes", err)
	}
	return n, nil
}

// collectionExistsSQL is collectionExists' query (prepared at Open on the
// writer).
const collectionExistsSQL = `SELECT 1 FROM collections WHERE id = $1`

// collectionExists returns store.ErrNotFound when there is no collection with
// that id. tx is a write transaction.
func (s *Store) collectionExists(ctx context.Context, tx *sql.Tx, id int64) error {
	var one int
	err := tx.StmtContext(ctx, s.st.collectionExists).QueryRowContext(ctx, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("collection %d: %w", id, store.ErrNotFound)
	}
	return err
}

func encodeComponents(comps []string) (string, error) {
	if len(comps) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(comps)
	if err != nil {
		return "", fmt.Errorf("components: %w", err)
	}
	return string(b), nil
}

func nullInt(p *int) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(*p), Valid: true}
}

func nullString(p *string) sql.NullString {
	if p == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *p, Valid: true}
}
