package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// integrityChecks are queries that each return one line per broken
// invariant. The first ones are SQLite's own: the file's structure and
// every index (integrity_check), the foreign keys, which SQLite enforces
// only while foreign_keys is on (foreign_key_check), and the derived
// tables that triggers keep (the R*Tree of migration 8, the FTS5 index of
// migration 10). The rest are the schema's: the counts and sizes the
// triggers of migrations 9 and 16 keep, the modseq order sync tokens rely
// on (RFC 6578: a token names every change up to its collection's modseq),
// and the log's one entry per name.
var integrityChecks = []string{
	`SELECT 'integrity_check: ' || integrity_check FROM pragma_integrity_check WHERE integrity_check <> 'ok'`,
	`SELECT 'foreign key: ' || "table" || ' row ' || coalesce(rowid, '?') || ' points at a missing ' || parent FROM pragma_foreign_key_check`,
	`SELECT 'object ' || o.id || ' (' || o.name || '): no entry in objects_span'
	FROM objects o WHERE NOT EXISTS (SELECT 1 FROM objects_span s WHERE s.object_id = o.id) ORDER BY o.id`,
	`SELECT 'objects_span ' || s.object_id || ': no such object'
	FROM objects_span s WHERE NOT EXISTS (SELECT 1 FROM objects o WHERE o.id = s.object_id) ORDER BY s.object_id`,
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
	`SELECT 'object ' || id || ' (' || name || '): size ' || size || ', but the body has ' || length(CAST(body AS BLOB)) || ' bytes'
	FROM objects WHERE size <> length(CAST(body AS BLOB)) ORDER BY id`,
	`SELECT 'object ' || id || ' (' || name || '): empty ETag or UID'
	FROM objects WHERE etag = '' OR uid = '' ORDER BY id`,
	`SELECT 'tombstone ' || t.collection_id || '/' || t.name || ': modseq ' || t.modseq || ' above its collection''s ' || c.modseq
	FROM tombstones t JOIN collections c ON c.id = t.collection_id
	WHERE t.modseq > c.modseq ORDER BY t.collection_id, t.name`,
	`SELECT 'collection ' || t.collection_id || ': ' || t.name || ' is both live and deleted'
	FROM tombstones t JOIN objects o ON o.collection_id = t.collection_id AND o.name = t.name
	ORDER BY t.collection_id, t.name`,
}

// CheckIntegrity runs integrityChecks in one read transaction (one WAL
// snapshot), then FTS5's own check of the search index. It has no
// statement timeout: integrity_check reads the whole file.
func (s *Store) CheckIntegrity(ctx context.Context) ([]string, error) {
	var problems []string
	err := s.read(ctx, "check integrity", func(tx *sql.Tx) error {
		for _, q := range integrityChecks {
			rows, err := tx.QueryContext(ctx, q)
			if err != nil {
				return err
			}
			for rows.Next() {
				var p string
				if err := rows.Scan(&p); err != nil {
					rows.Close()
					return err
				}
				problems = append(problems, p)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The FTS5 'integrity-check' command is an INSERT, so it runs on the
	// writer; it changes nothing and fails with SQLITE_CORRUPT_VTAB when
	// the index does not match what it was given.
	if _, err := s.w.ExecContext(ctx, `INSERT INTO objects_search (objects_search) VALUES ('integrity-check')`); err != nil {
		if ctx.Err() != nil {
			return nil, errorf("sqlite: check integrity: %w", err)
		}
		problems = append(problems, fmt.Sprintf("objects_search: %v", err))
	}
	return problems, nil
}
