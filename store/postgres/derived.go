package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ListDerivedCursors implements store.Store.
func (s *Store) ListDerivedCursors(ctx context.Context, collectionID int64) (map[int64]int64, error) {
	const q = `SELECT source_id, modseq FROM derived_cursors WHERE collection_id = $1`
	rows, _ := s.pool.Query(ctx, q, collectionID)
	out := map[int64]int64{}
	var src, modseq int64
	_, err := pgx.ForEachRow(rows, []any{&src, &modseq}, func() error {
		out[src] = modseq
		return nil
	})
	if err != nil {
		return nil, errorf("store: list derived cursors of collection %d: %w", collectionID, err)
	}
	return out, nil
}

// SetDerivedCursor implements store.Store.
func (s *Store) SetDerivedCursor(ctx context.Context, collectionID, sourceID, modseq int64) error {
	const q = `
		INSERT INTO derived_cursors (collection_id, source_id, modseq) VALUES ($1, $2, $3)
		ON CONFLICT (collection_id, source_id) DO UPDATE SET modseq = excluded.modseq`
	if _, err := s.pool.Exec(ctx, q, collectionID, sourceID, modseq); err != nil {
		return errorf("store: set derived cursor of collection %d: %w", collectionID, err)
	}
	return nil
}

// DeleteDerivedCursor implements store.Store.
func (s *Store) DeleteDerivedCursor(ctx context.Context, collectionID, sourceID int64) error {
	const q = `DELETE FROM derived_cursors WHERE collection_id = $1 AND source_id = $2`
	if _, err := s.pool.Exec(ctx, q, collectionID, sourceID); err != nil {
		return errorf("store: delete derived cursor of collection %d: %w", collectionID, err)
	}
	return nil
}
