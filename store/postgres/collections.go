package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store"
)

// collectionColumns is the column list scanCollection reads, in order.
const collectionColumns = `id, owner_id, kind, name, display_name, description, color, color_symbolic,
	sort_order, timezone, components, modseq, pruned_modseq, created, updated,
	EXISTS (SELECT 1 FROM shares WHERE shares.collection_id = collections.id)`

func scanCollection(row pgx.Row) (store.Collection, error) {
	var c store.Collection
	err := row.Scan(&c.ID, &c.OwnerID, &c.Kind, &c.Name, &c.DisplayName, &c.Description, &c.Color,
		&c.ColorSymbolic, &c.Order, &c.Timezone, &c.Components, &c.ModSeq, &c.PrunedModSeq,
		&c.Created, &c.Updated, &c.Shared)
	return c, err
}

// CreateCollection inserts c, setting its ID, ModSeq, PrunedModSeq, Created
// and Updated.
func (s *Store) CreateCollection(ctx context.Context, c *store.Collection) error {
	if err := insertCollection(ctx, s.pool, c); err != nil {
		return errorf("store: create collection %q: %w", c.Name, err)
	}
	return nil
}

// querier is what pool and transaction have in common.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func insertCollection(ctx context.Context, q querier, c *store.Collection) error {
	switch c.Kind {
	case store.KindCalendar, store.KindAddressBook, store.KindInbox, store.KindOutbox, store.KindFiles, store.KindBirthdays:
	default:
		return fmt.Errorf("unknown collection kind %q", c.Kind)
	}
	components := c.Components
	if components == nil {
		components = []string{}
	}
	const sql = `
		INSERT INTO collections (owner_id, kind, name, display_name, description, color, color_symbolic,
			sort_order, timezone, components)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		RETURNING id, modseq, pruned_modseq, created, updated`
	err := q.QueryRow(ctx, sql, c.OwnerID, c.Kind, c.Name, c.DisplayName, c.Description, c.Color,
		c.ColorSymbolic, c.Order, c.Timezone, components).
		Scan(&c.ID, &c.ModSeq, &c.PrunedModSeq, &c.Created, &c.Updated)
	switch {
	case isUniqueViolation(err, "collections_owner_id_kind_name_key"):
		return store.ErrConflict
	case isForeignKeyViolation(err):
		return store.ErrNotFound // no such owner
	}
	return err
}

// GetCollection returns the owner's collection of that kind and name.
func (s *Store) GetCollection(ctx context.Context, ownerID int64, kind store.Kind, name string) (*store.Collection, error) {
	const q = `SELECT ` + collectionColumns + `
		FROM collections
		WHERE owner_id = $1 AND kind = $2 AND name = $3`
	c, err := scanCollection(s.pool.QueryRow(ctx, q, ownerID, kind, name))
	if err != nil {
		return nil, errorf("store: get collection %q: %w", name, notFound(err))
	}
	return &c, nil
}

// ListCollections returns the owner's collections of that kind ordered by
// name.
func (s *Store) ListCollections(ctx context.Context, ownerID int64, kind store.Kind) ([]store.Collection, error) {
	const q = `SELECT ` + collectionColumns + `
		FROM collections
		WHERE owner_id = $1 AND kind = $2
		ORDER BY name`
	rows, _ := s.pool.Query(ctx, q, ownerID, kind)
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Collection, error) {
		return scanCollection(row)
	})
	if err != nil {
		return nil, errorf("store: list collections: %w", err)
	}
	return cs, nil
}

// UpdateCollection applies p to the owner's collection in one transaction:
// the properties and every dead property change, or nothing.
func (s *Store) UpdateCollection(ctx context.Context, ownerID, id int64, p store.CollectionPatch) error {
	for _, dp := range p.DeadProps {
		if dp.Name == "" {
			return errorf("store: update collection %d: dead property in namespace %q without a name", id, dp.Namespace)
		}
	}
	var order *int
	if p.Order != nil {
		order = *p.Order
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// COALESCE keeps the fields the patch leaves nil; sort_order is
		// nullable, so $9 says whether to set it.
		const q = `
			UPDATE collections SET
				display_name = COALESCE($3, display_name),
				description = COALESCE($4, description),
				color = COALESCE($5, color),
				color_symbolic = COALESCE($6, color_symbolic),
				timezone = COALESCE($7, timezone),
				sort_order = CASE WHEN $9 THEN $8 ELSE sort_order END,
				updated = now()
			WHERE id = $1 AND owner_id = $2`
		tag, err := tx.Exec(ctx, q, id, ownerID, p.DisplayName, p.Description, p.Color,
			p.ColorSymbolic, p.Timezone, order, p.Order != nil)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		if err := applyDeadProps(ctx, tx, "collection_properties", "collection_id", id, p.DeadProps); err != nil {
			return err
		}
		return queuePropertyPush(ctx, tx, id)
	})
	if err != nil {
		return errorf("store: update collection %d: %w", id, err)
	}
	return nil
}

// DeleteCollection removes the owner's collection; the schema cascades to its
// objects, tombstones and dead properties.
func (s *Store) DeleteCollection(ctx context.Context, ownerID, id int64) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// The row lock orders this after the collection's writers.
		if _, err := bumpModSeq(ctx, tx, id); err != nil {
			return err
		}
		if s.history() {
			if err := trashCollection(ctx, tx, ownerID, id); err != nil {
				return err
			}
		}
		const q = `DELETE FROM collections WHERE id = $1 AND owner_id = $2`
		tag, err := tx.Exec(ctx, q, id, ownerID)
		if err == nil && tag.RowsAffected() == 0 {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return errorf("store: delete collection %d: %w", id, err)
	}
	return nil
}

// MoveCollection renames the owner's collection in one transaction,
// starting a new sync-token space (modseq bumped, pruned_modseq raised to
// it).
func (s *Store) MoveCollection(ctx context.Context, ownerID, id int64, newName string, opts store.MoveCollectionOptions) (bool, error) {
	created := true
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// The destination, if any, goes first (it cascades to its
		// members); without Overwrite it fails the move.
		const dst = `
			DELETE FROM collections d
			USING collections c
			WHERE c.id = $1 AND c.owner_id = $2 AND d.owner_id = c.owner_id AND d.kind = c.kind
				AND d.name = $3 AND d.id <> c.id AND $4`
		tag, err := tx.Exec(ctx, dst, id, ownerID, newName, opts.Overwrite)
		if err != nil {
			return err
		}
		created = tag.RowsAffected() == 0
		const q = `
			UPDATE collections SET name = $3, modseq = modseq + 1, pruned_modseq = modseq + 1, updated = now()
			WHERE id = $1 AND owner_id = $2`
		tag, err = tx.Exec(ctx, q, id, ownerID, newName)
		switch {
		case isUniqueViolation(err, "collections_owner_id_kind_name_key"):
			return store.ErrPreconditionFailed
		case err != nil:
			return err
		case tag.RowsAffected() == 0:
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: move collection %d to %q: %w", id, newName, err)
	}
	return created, nil
}

// ListDeadProps returns the collection's dead properties ordered by namespace,
// then name.
func (s *Store) ListDeadProps(ctx context.Context, collectionID int64) ([]store.DeadProp, error) {
	const q = `
		SELECT namespace, name, xml
		FROM collection_properties
		WHERE collection_id = $1
		ORDER BY namespace, name`
	props, err := collectDeadProps(s.pool.Query(ctx, q, collectionID))
	if err != nil {
		return nil, errorf("store: list dead properties of collection %d: %w", collectionID, err)
	}
	return props, nil
}

// collectDeadProps reads the rows of a dead-property query (namespace,
// name, xml).
func collectDeadProps(rows pgx.Rows, _ error) ([]store.DeadProp, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.DeadProp, error) {
		var p store.DeadProp
		err := row.Scan(&p.Namespace, &p.Name, &p.XML)
		return p, err
	})
}

// applyDeadProps sets (XML non-empty) or removes the dead properties of
// the collection or object id in table, whose owner column is owner.
func applyDeadProps(ctx context.Context, tx pgx.Tx, table, owner string, id int64, props []store.DeadProp) error {
	for _, dp := range props {
		if dp.XML == "" {
			del := `DELETE FROM ` + table + ` WHERE ` + owner + ` = $1 AND namespace = $2 AND name = $3`
			if _, err := tx.Exec(ctx, del, id, dp.Namespace, dp.Name); err != nil {
				return err
			}
			continue
		}
		set := `
			INSERT INTO ` + table + ` (` + owner + `, namespace, name, xml)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (` + owner + `, namespace, name) DO UPDATE SET xml = EXCLUDED.xml`
		if _, err := tx.Exec(ctx, set, id, dp.Namespace, dp.Name, dp.XML); err != nil {
			return err
		}
	}
	return nil
}

// UsedBytes is the total size of the objects in all of the owner's
// collections. It reads each collection's used_bytes, which triggers on
// objects keep equal to the sum of its members' sizes (migration 000008), so
// it costs one row per collection however many objects there are.
func (s *Store) UsedBytes(ctx context.Context, ownerID int64) (int64, error) {
	const q = `SELECT COALESCE(sum(used_bytes), 0)::bigint FROM collections WHERE owner_id = $1`
	var n int64
	if err := s.pool.QueryRow(ctx, q, ownerID).Scan(&n); err != nil {
		return 0, errorf("store: used bytes of user %d: %w", ownerID, err)
	}
	return n, nil
}

// lockCollections locks the collections' rows in id order, so writers that
// touch two collections cannot deadlock, and returns their kinds. A missing
// collection is store.ErrNotFound.
func lockCollections(ctx context.Context, tx pgx.Tx, ids ...int64) (map[int64]store.Kind, error) {
	const q = `SELECT id, kind FROM collections WHERE id = ANY($1) ORDER BY id FOR UPDATE`
	rows, _ := tx.Query(ctx, q, ids)
	kinds := make(map[int64]store.Kind, len(ids))
	var (
		id   int64
		kind store.Kind
	)
	_, err := pgx.ForEachRow(rows, []any{&id, &kind}, func() error {
		kinds[id] = kind
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, ok := kinds[id]; !ok {
			return nil, store.ErrNotFound
		}
	}
	return kinds, nil
}

// bumpModSeq increments the collection's modseq and returns the new value.
// The UPDATE takes the row lock that serializes the collection's writers
// until the transaction ends. It is the one place a collection's sync
// token advances, so it also queues the WebDAV-Push message for the
// collection's registrations, in the same statement (one round trip) and
// transaction: a change is announced exactly when it commits.
func bumpModSeq(ctx context.Context, tx pgx.Tx, collectionID int64) (int64, error) {
	const q = `
		WITH c AS (UPDATE collections SET modseq = modseq + 1, updated = now() WHERE id = $1 RETURNING modseq),
		p AS (
			INSERT INTO push_pending (collection_id, modseq)
			SELECT $1, c.modseq FROM c WHERE EXISTS (SELECT 1 FROM push_registrations WHERE collection_id = $1)
			ON CONFLICT (collection_id) DO UPDATE
			SET modseq = GREATEST(push_pending.modseq, excluded.modseq), changes = push_pending.changes + 1, content = true)
		SELECT modseq FROM c`
	var modseq int64
	if err := tx.QueryRow(ctx, q, collectionID).Scan(&modseq); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, store.ErrNotFound
		}
		return 0, err
	}
	return modseq, nil
}
