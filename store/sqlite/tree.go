package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// subtree selects the owner's collection $3 of kind $2 and every
// collection below it: a folder "a" holds "a/…".
const subtree = `owner_id = $1 AND kind = $2 AND (name = $3 OR substr(name, 1, length($3) + 1) = $3 || '/')`

// treeRows returns the ids and names of the collection name and, when
// deep, those below it, in id order; none is store.ErrNotFound. tx is a
// write transaction, which holds the database's only write lock.
func treeRows(ctx context.Context, tx *sql.Tx, ownerID int64, kind store.Kind, name string, deep bool) ([]int64, []string, error) {
	q := `SELECT id, name FROM collections WHERE ` + subtree + ` ORDER BY id`
	if !deep {
		q = `SELECT id, name FROM collections WHERE owner_id = $1 AND kind = $2 AND name = $3`
	}
	rows, err := tx.QueryContext(ctx, q, ownerID, string(kind), name)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		ids   []int64
		names []string
	)
	for rows.Next() {
		var (
			id int64
			n  string
		)
		if err := rows.Scan(&id, &n); err != nil {
			return nil, nil, err
		}
		ids, names = append(ids, id), append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if len(ids) == 0 {
		return nil, nil, store.ErrNotFound
	}
	return ids, names, nil
}

// collectionNamed fails with store.ErrPreconditionFailed when the owner
// has a collection of kind named name.
func collectionNamed(ctx context.Context, tx *sql.Tx, ownerID int64, kind store.Kind, name string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM collections WHERE owner_id = $1 AND kind = $2 AND name = $3`,
		ownerID, string(kind), name).Scan(&one)
	switch {
	case err == nil:
		return store.ErrPreconditionFailed
	case errors.Is(err, sql.ErrNoRows):
		return nil
	}
	return err
}

// DeleteCollectionTree removes the collection name and those below it in
// one transaction, each to the trash while history is kept.
func (s *Store) DeleteCollectionTree(ctx context.Context, ownerID int64, kind store.Kind, name string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	t := now()
	return s.write(ctx, "delete collection tree", func(tx *sql.Tx) error {
		return s.deleteTree(ctx, tx, ownerID, kind, name, t)
	})
}

func (s *Store) deleteTree(ctx context.Context, tx *sql.Tx, ownerID int64, kind store.Kind, name string, t time.Time) error {
	ids, _, err := treeRows(ctx, tx, ownerID, kind, name, true)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !s.noHistory.Load() {
			if err := trashCollection(ctx, tx, ownerID, id, t); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM collections WHERE id = $1`, id); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceCollectionTree deletes the tree at to and moves or copies from
// there, in one write transaction.
func (s *Store) ReplaceCollectionTree(ctx context.Context, ownerID int64, kind store.Kind, from, to string, opts store.TreeOptions) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	t := now()
	return s.write(ctx, "replace collection tree", func(tx *sql.Tx) error {
		if err := s.deleteTree(ctx, tx, ownerID, kind, to, t); err != nil {
			return err
		}
		if opts.Move {
			return moveTree(ctx, tx, ownerID, kind, from, to, t)
		}
		return copyTree(ctx, tx, ownerID, kind, from, to, opts.Deep, t)
	})
}

// MoveCollectionTree renames the collection from and those below it to the
// same places below to, in one transaction.
func (s *Store) MoveCollectionTree(ctx context.Context, ownerID int64, kind store.Kind, from, to string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	t := now()
	return s.write(ctx, "move collection tree", func(tx *sql.Tx) error {
		return moveTree(ctx, tx, ownerID, kind, from, to, t)
	})
}

func moveTree(ctx context.Context, tx *sql.Tx, ownerID int64, kind store.Kind, from, to string, t time.Time) error {
	if _, _, err := treeRows(ctx, tx, ownerID, kind, from, true); err != nil {
		return err
	}
	if err := collectionNamed(ctx, tx, ownerID, kind, to); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `
		UPDATE collections
		SET name = $4 || substr(name, length($3) + 1),
			modseq = modseq + 1, pruned_modseq = modseq + 1, updated = $5
		WHERE `+subtree, ownerID, string(kind), from, to, toMicros(t))
	return err
}

// CopyCollectionTree copies the collection from with its dead properties
// (and, when deep, its members and the collections below it) to to, in one transaction.
// The copies' members get UIDs of their own, so a member moved back next
// to its original meets no UID conflict.
func (s *Store) CopyCollectionTree(ctx context.Context, ownerID int64, kind store.Kind, from, to string, deep bool) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	t := now()
	return s.write(ctx, "copy collection tree", func(tx *sql.Tx) error {
		return copyTree(ctx, tx, ownerID, kind, from, to, deep, t)
	})
}

func copyTree(ctx context.Context, tx *sql.Tx, ownerID int64, kind store.Kind, from, to string, deep bool, now time.Time) error {
	t := toMicros(now)
	ids, names, err := treeRows(ctx, tx, ownerID, kind, from, deep)
	if err != nil {
		return err
	}
	if err := collectionNamed(ctx, tx, ownerID, kind, to); err != nil {
		return err
	}
	for i, id := range ids {
		var newID int64
		err := tx.QueryRowContext(ctx, `
			INSERT INTO collections (owner_id, kind, name, display_name, description, color, color_symbolic,
				sort_order, timezone, components, modseq, created, updated)
			SELECT owner_id, kind, $2, display_name, description, color, color_symbolic,
				sort_order, timezone, components, 1, $3, $3
			FROM collections WHERE id = $1
			RETURNING id`, id, to+names[i][len(from):], t).Scan(&newID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO collection_properties (collection_id, namespace, name, xml)
			SELECT $2, namespace, name, xml FROM collection_properties WHERE collection_id = $1`, id, newID); err != nil {
			return err
		}
		if !deep {
			// RFC 4918 §9.8.3: Depth 0 copies the collection and its
			// properties, not its members.
			break
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO objects (collection_id, name, uid, etag, content_type, component, size,
				modseq, first_start, last_end, search_text, created, updated, body)
			SELECT $2, name, lower(hex(randomblob(16))), etag, content_type, component, size,
				1, first_start, last_end, search_text, $3, $3, body
			FROM objects WHERE collection_id = $1`, id, newID, t); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO object_properties (object_id, namespace, name, xml)
			SELECT n.id, p.namespace, p.name, p.xml
			FROM object_properties p
			JOIN objects o ON o.id = p.object_id
			JOIN objects n ON n.collection_id = $2 AND n.name = o.name
			WHERE o.collection_id = $1`, id, newID); err != nil {
			return err
		}
	}
	return nil
}

// ListObjectDeadProps returns the object's dead properties ordered by
// namespace, then name (bytewise).
func (s *Store) ListObjectDeadProps(ctx context.Context, objectID int64) ([]store.DeadProp, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var props []store.DeadProp
	err := s.read(ctx, "list object dead properties", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT namespace, name, xml FROM object_properties
			WHERE object_id = $1 ORDER BY namespace, name`, objectID)
		props, err = scanDeadProps(rows, err)
		return err
	})
	return props, err
}

// UpdateObjectDeadProps applies props to the object at name in one write
// transaction.
func (s *Store) UpdateObjectDeadProps(ctx context.Context, collectionID int64, name string, props []store.DeadProp) error {
	for _, dp := range props {
		if dp.Name == "" {
			return errorf("sqlite: update object %q: dead property in namespace %q without a name", name, dp.Namespace)
		}
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.write(ctx, "update object dead properties", func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM objects WHERE collection_id = $1 AND name = $2`, collectionID, name).Scan(&id)
		if err != nil {
			return err
		}
		return applyDeadProps(ctx, tx, "object_properties", "object_id", id, props)
	})
}
