package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store"
)

// subtree selects the owner's collection $3 of kind $2 and every
// collection below it: a folder "a" holds "a/…".
const subtree = `owner_id = $1 AND kind = $2 AND (name = $3 OR starts_with(name, $3 || '/'))`

// lockTree locks the rows of the collection name and those below it, in
// id order, and returns their ids and names; none is store.ErrNotFound.
func lockTree(ctx context.Context, tx pgx.Tx, ownerID int64, kind store.Kind, name string, deep bool) ([]int64, []string, error) {
	q := `SELECT id, name FROM collections WHERE ` + subtree + ` ORDER BY id FOR UPDATE`
	if !deep {
		q = `SELECT id, name FROM collections WHERE owner_id = $1 AND kind = $2 AND name = $3 FOR UPDATE`
	}
	rows, _ := tx.Query(ctx, q, ownerID, kind, name)
	var (
		ids   []int64
		names []string
		id    int64
		n     string
	)
	_, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error {
		ids, names = append(ids, id), append(names, n)
		return nil
	})
	if err == nil && len(ids) == 0 {
		err = store.ErrNotFound
	}
	return ids, names, err
}

// DeleteCollectionTree removes the collection name and those below it in
// one transaction, each to the trash while history is kept.
func (s *Store) DeleteCollectionTree(ctx context.Context, ownerID int64, kind store.Kind, name string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		return s.deleteTree(ctx, tx, ownerID, kind, name)
	})
	if err != nil {
		return errorf("store: delete collection tree %q: %w", name, err)
	}
	return nil
}

func (s *Store) deleteTree(ctx context.Context, tx pgx.Tx, ownerID int64, kind store.Kind, name string) error {
	ids, _, err := lockTree(ctx, tx, ownerID, kind, name, true)
	if err != nil {
		return err
	}
	if s.history() {
		for _, id := range ids {
			if err := trashCollection(ctx, tx, ownerID, id); err != nil {
				return err
			}
		}
	}
	_, err = tx.Exec(ctx, `DELETE FROM collections WHERE id = ANY($1)`, ids)
	return err
}

// ReplaceCollectionTree deletes the tree at to and moves or copies from
// there, in one transaction.
func (s *Store) ReplaceCollectionTree(ctx context.Context, ownerID int64, kind store.Kind, from, to string, opts store.TreeOptions) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := s.deleteTree(ctx, tx, ownerID, kind, to); err != nil {
			return err
		}
		if opts.Move {
			return moveTree(ctx, tx, ownerID, kind, from, to)
		}
		return copyTree(ctx, tx, ownerID, kind, from, to, opts.Deep)
	})
	if err != nil {
		return errorf("store: replace collection tree %q with %q: %w", to, from, err)
	}
	return nil
}

// MoveCollectionTree renames the collection from and those below it to the
// same places below to, in one statement.
func (s *Store) MoveCollectionTree(ctx context.Context, ownerID int64, kind store.Kind, from, to string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		return moveTree(ctx, tx, ownerID, kind, from, to)
	})
	if err != nil {
		return errorf("store: move collection tree %q to %q: %w", from, to, err)
	}
	return nil
}

func moveTree(ctx context.Context, tx pgx.Tx, ownerID int64, kind store.Kind, from, to string) error {
	if _, _, err := lockTree(ctx, tx, ownerID, kind, from, true); err != nil {
		return err
	}
	const q = `
		UPDATE collections
		SET name = $4 || substr(name, length($3) + 1),
			modseq = modseq + 1, pruned_modseq = modseq + 1, updated = now()
		WHERE ` + subtree
	_, err := tx.Exec(ctx, q, ownerID, kind, from, to)
	if isUniqueViolation(err, "collections_owner_id_kind_name_key") {
		return store.ErrPreconditionFailed
	}
	return err
}

// CopyCollectionTree copies the collection from with its dead properties
// (and, when deep, its members and the collections below it) to to, in one transaction.
// The copies' members get UIDs of their own, so a member moved back next
// to its original meets no UID conflict.
func (s *Store) CopyCollectionTree(ctx context.Context, ownerID int64, kind store.Kind, from, to string, deep bool) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		return copyTree(ctx, tx, ownerID, kind, from, to, deep)
	})
	if err != nil {
		return errorf("store: copy collection tree %q to %q: %w", from, to, err)
	}
	return nil
}

func copyTree(ctx context.Context, tx pgx.Tx, ownerID int64, kind store.Kind, from, to string, deep bool) error {
	ids, names, err := lockTree(ctx, tx, ownerID, kind, from, deep)
	if err != nil {
		return err
	}
	for i, id := range ids {
		var newID int64
		const col = `
			INSERT INTO collections (owner_id, kind, name, display_name, description, color, color_symbolic,
				sort_order, timezone, components, modseq)
			SELECT owner_id, kind, $2, display_name, description, color, color_symbolic,
				sort_order, timezone, components, 1
			FROM collections WHERE id = $1
			RETURNING id`
		err := tx.QueryRow(ctx, col, id, to+names[i][len(from):]).Scan(&newID)
		if isUniqueViolation(err, "collections_owner_id_kind_name_key") {
			return store.ErrPreconditionFailed
		}
		if err != nil {
			return err
		}
		const props = `
			INSERT INTO collection_properties (collection_id, namespace, name, xml)
			SELECT $2, namespace, name, xml FROM collection_properties WHERE collection_id = $1`
		if _, err := tx.Exec(ctx, props, id, newID); err != nil {
			return err
		}
		if !deep {
			// RFC 4918 §9.8.3: Depth 0 copies the collection and its
			// properties, not its members.
			break
		}
		const objs = `
			INSERT INTO objects (collection_id, name, uid, etag, content_type, component, body, size,
				modseq, first_start, last_end, search_text)
			SELECT $2, name, gen_random_uuid()::text, etag, content_type, component, body, size,
				1, first_start, last_end, search_text
			FROM objects WHERE collection_id = $1`
		if _, err := tx.Exec(ctx, objs, id, newID); err != nil {
			return err
		}
		const oprops = `
			INSERT INTO object_properties (object_id, namespace, name, xml)
			SELECT n.id, p.namespace, p.name, p.xml
			FROM object_properties p
			JOIN objects o ON o.id = p.object_id
			JOIN objects n ON n.collection_id = $2 AND n.name = o.name
			WHERE o.collection_id = $1`
		if _, err := tx.Exec(ctx, oprops, id, newID); err != nil {
			return err
		}
	}
	return nil
}

// ListObjectDeadProps returns the object's dead properties ordered by
// namespace, then name.
func (s *Store) ListObjectDeadProps(ctx context.Context, objectID int64) ([]store.DeadProp, error) {
	const q = `
		SELECT namespace, name, xml FROM object_properties
		WHERE object_id = $1
		ORDER BY namespace, name`
	props, err := collectDeadProps(s.pool.Query(ctx, q, objectID))
	if err != nil {
		return nil, errorf("store: list dead properties of object %d: %w", objectID, err)
	}
	return props, nil
}

// UpdateObjectDeadProps applies props to the object at name in one
// transaction.
func (s *Store) UpdateObjectDeadProps(ctx context.Context, collectionID int64, name string, props []store.DeadProp) error {
	for _, dp := range props {
		if dp.Name == "" {
			return errorf("store: update object %q: dead property in namespace %q without a name", name, dp.Namespace)
		}
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var id int64
		const obj = `SELECT id FROM objects WHERE collection_id = $1 AND name = $2 FOR UPDATE`
		if err := tx.QueryRow(ctx, obj, collectionID, name).Scan(&id); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		}
		return applyDeadProps(ctx, tx, "object_properties", "object_id", id, props)
	})
	if err != nil {
		return errorf("store: update dead properties of object %q: %w", name, err)
	}
	return nil
}
