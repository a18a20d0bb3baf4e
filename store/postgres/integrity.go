package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// integrityChecks are queries that each return one line per broken
// invariant of the schema that PostgreSQL does not enforce itself: the
// counts and sizes the triggers of migrations 8 and 15 keep, the modseq
// order sync tokens rely on (RFC 6578: a token names every change up to
// its collection's modseq), and the log's one entry per name.
var integrityChecks = []string{
	`SELECT 'collection ' || c.id || ': object_count ' || c.object_count || ', but ' || coalesce(o.n, 0) || ' objects'
	FROM collections c LEFT JOIN (SELECT collection_id, count(*) AS n FROM objects GROUP BY collection_id) o ON o.collection_id = c.id
	WHERE c.object_count <> coalesce(o.n, 0)
	ORDER BY c.id`,
	`SELECT 'collection ' || c.id || ': used_bytes ' || c.used_bytes || ', but its objects hold ' || coalesce(o.bytes, 0)
	FROM collections c LEFT JOIN (SELECT collection_id, sum(size) AS bytes FROM objects GROUP BY collection_id) o ON o.collection_id = c.id
	WHERE c.used_bytes <> coalesce(o.bytes, 0)
	ORDER BY c.id`,
	`SELECT 'collection ' || id || ': pruned_modseq ' || pruned_modseq || ' above modseq ' || modseq
	FROM collections WHERE pruned_modseq > modseq ORDER BY id`,
	`SELECT 'object ' || o.id || ' (' || o.name || '): modseq ' || o.modseq || ' above its collection''s ' || c.modseq
	FROM objects o JOIN collections c ON c.id = o.collection_id
	WHERE o.modseq > c.modseq ORDER BY o.id`,
	`SELECT 'object ' || id || ' (' || name || '): size ' || size || ', but the body has ' || octet_length(body) || ' bytes'
	FROM objects WHERE size <> octet_length(body) ORDER BY id`,
	`SELECT 'object ' || id || ' (' || name || '): empty ETag or UID'
	FROM objects WHERE etag = '' OR uid = '' ORDER BY id`,
	`SELECT 'tombstone ' || t.collection_id || '/' || t.name || ': modseq ' || t.modseq || ' above its collection''s ' || c.modseq
	FROM tombstones t JOIN collections c ON c.id = t.collection_id
	WHERE t.modseq > c.modseq ORDER BY t.collection_id, t.name`,
	`SELECT 'collection ' || t.collection_id || ': ' || t.name || ' is both live and deleted'
	FROM tombstones t JOIN objects o ON o.collection_id = t.collection_id AND o.name = t.name
	ORDER BY t.collection_id, t.name`,
}

// CheckIntegrity runs integrityChecks in one snapshot (a read-only
// REPEATABLE READ transaction), so that a write in progress cannot show as
// a mismatch. Constraints, foreign keys and the B-tree indexes are
// PostgreSQL's own to keep; it checks them on every write.
func (s *Store) CheckIntegrity(ctx context.Context) ([]string, error) {
	var problems []string
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := pgx.BeginTxFunc(ctx, s.pool, opts, func(tx pgx.Tx) error {
		for _, q := range integrityChecks {
			rows, _ := tx.Query(ctx, q)
			found, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			problems = append(problems, found...)
		}
		return nil
	})
	if err != nil {
		return nil, errorf("store: check integrity: %w", err)
	}
	return problems, nil
}
