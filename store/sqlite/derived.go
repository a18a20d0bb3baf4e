package sqlite

import (
	"context"
	"database/sql"
)

// ListDerivedCursors implements store.Store.
func (s *Store) ListDerivedCursors(ctx context.Context, collectionID int64) (map[int64]int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	out := map[int64]int64{}
	err := s.read(ctx, "list derived cursors", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT source_id, modseq FROM derived_cursors WHERE collection_id = $1`, collectionID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var src, modseq int64
			if err := rows.Scan(&src, &modseq); err != nil {
				return err
			}
			out[src] = modseq
		}
		return rows.Err()
	})
	return out, err
}

// SetDerivedCursor implements store.Store.
func (s *Store) SetDerivedCursor(ctx context.Context, collectionID, sourceID, modseq int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.write(ctx, "set derived cursor", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO derived_cursors (collection_id, source_id, modseq) VALUES ($1, $2, $3)
			ON CONFLICT (collection_id, source_id) DO UPDATE SET modseq = excluded.modseq`,
			collectionID, sourceID, modseq)
		return err
	})
}

// DeleteDerivedCursor implements store.Store.
func (s *Store) DeleteDerivedCursor(ctx context.Context, collectionID, sourceID int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.write(ctx, "delete derived cursor", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM derived_cursors WHERE collection_id = $1 AND source_id = $2`, collectionID, sourceID)
		return err
	})
}
