package postgres_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/storetest"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestDumpCoversEveryTable lists the tables the migrations make and fails
// on one a backup neither carries nor leaves out on purpose.
func TestDumpCoversEveryTable(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	s, err := postgres.Open(t.Context(), dsn, discard) // runs the migrations
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn := connect(t, dsn)
	rows, _ := conn.Query(t.Context(), `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) < 10 {
		t.Fatalf("tables = %v: not the migrated schema", tables)
	}
	storetest.CheckTablesDumped(t, tables, nil)
}
