package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/davenport-dav/davenport/store/storetest"
)

// TestCheckIntegrityFindsDamage breaks each invariant CheckIntegrity
// checks with SQL behind the store's back (the triggers would otherwise
// keep them) and expects a line for each, SQLite's own checks included.
func TestCheckIntegrityFindsDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "davenport.db")
	s, err := Open(context.Background(), path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	storetest.CheckDamage(t, s, func(id int64) {
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1) // the PRAGMA below holds for its connection only
		for _, q := range []string{
			`UPDATE collections SET object_count = object_count + 1, used_bytes = used_bytes + 5 WHERE id = ?1`,
			`UPDATE objects SET modseq = modseq + 1000 WHERE collection_id = ?1 AND name = 'a.ics'`,
			// The size trigger moves used_bytes along: only the body disagrees.
			`UPDATE objects SET size = size + 1 WHERE collection_id = ?1 AND name = 'b.ics'`,
			`INSERT INTO tombstones (collection_id, name, modseq, deleted_at) VALUES (?1, 'b.ics', 1, 0)`,
			`UPDATE collections SET pruned_modseq = modseq + 7 WHERE id = ?1`,
			`DELETE FROM objects_span WHERE object_id = (SELECT id FROM objects WHERE collection_id = ?1 AND name = 'a.ics')`,
			// A member of a collection that is not there: SQLite checks
			// foreign keys only while they are on, per connection.
			`PRAGMA foreign_keys = OFF`,
			`INSERT INTO tombstones (collection_id, name, modseq, deleted_at) SELECT ?1 + 1000, 'orphan.ics', 1, 0`,
		} {
			if _, err := db.Exec(q, id); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}, []string{"object_count", "used_bytes", "(a.ics): modseq", "(b.ics): size", "b.ics is both live and deleted",
		"pruned_modseq", "(a.ics): no entry in objects_span", "foreign key: tombstones"})
}
