package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/davenport-dav/davenport/store/storetest"
)

// TestDumpCoversEveryTable lists the tables the migrations make and fails
// on one a backup neither carries nor leaves out on purpose.
func TestDumpCoversEveryTable(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "d.db"))
	rows, err := s.r.QueryContext(t.Context(), `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 10 {
		t.Fatalf("tables = %v: not the migrated schema", tables)
	}
	storetest.CheckTablesDumped(t, tables, internalTables)
}

// internalTables are the embedded store's own bookkeeping, which triggers
// derive from the dumped rows as Load inserts them.
var internalTables = map[string]string{
	"objects_search":         "the FTS5 trigram index of objects.search_text (and its shadow tables below)",
	"objects_search_config":  "FTS5 shadow table",
	"objects_search_data":    "FTS5 shadow table",
	"objects_search_docsize": "FTS5 shadow table",
	"objects_search_idx":     "FTS5 shadow table",
	"objects_span":           "the R*Tree of object spans (and its shadow tables below)",
	"objects_span_node":      "R*Tree shadow table",
	"objects_span_parent":    "R*Tree shadow table",
	"objects_span_rowid":     "R*Tree shadow table",
	"sqlite_sequence":        "SQLite's AUTOINCREMENT counters, raised by the inserts of the loaded ids",
}
