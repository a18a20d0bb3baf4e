package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/postgres"
)

// Environment variables that control the PostgreSQL tests.
const (
	// EnvDatabaseURL names the server to test against; each test gets its
	// own schema in that database.
	EnvDatabaseURL = "DAVENPORT_TEST_DATABASE_URL"
	// EnvRequireDB, like a non-empty CI, turns a missing database into a
	// test failure instead of a skip; scripts/test.sh sets it.
	EnvRequireDB = "DAVENPORT_REQUIRE_DB"
)

// Postgres returns a PostgreSQL store on a fresh schema built by the real
// migrations. The store is closed and the schema dropped when t ends.
func Postgres(t testing.TB) store.Store {
	t.Helper()
	dsn := PostgresDSN(t)
	s, err := postgres.Open(context.Background(), dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("testdb: open postgres store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// PostgresDSN creates an empty schema and returns a connection string whose
// search_path selects it, for tests that drive migrations themselves. The
// schema is dropped when t ends (after cleanups registered later, such as
// closing a store opened on it).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvDatabaseURL)
	if base == "" {
		if os.Getenv("CI") != "" || os.Getenv(EnvRequireDB) != "" {
			t.Fatalf("testdb: %s is not set, and CI or %s requires PostgreSQL; run scripts/test.sh, which starts a throwaway cluster",
				EnvDatabaseURL, EnvRequireDB)
		}
		t.Skipf("testdb: SKIPPING PostgreSQL test: %s is not set (scripts/test.sh starts a throwaway cluster)", EnvDatabaseURL)
	}

	var b [8]byte
	rand.Read(b[:])
	schema := "davenport_test_" + hex.EncodeToString(b[:])
	ident := pgx.Identifier{schema}.Sanitize()

	exec(t, base, "CREATE SCHEMA "+ident)
	t.Cleanup(func() { exec(t, base, "DROP SCHEMA "+ident+" CASCADE") })
	return withSearchPath(t, base, schema)
}

// exec runs one statement on its own short-lived connection.
func exec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("testdb: connect to %s: %v", EnvDatabaseURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("testdb: %s: %v", sql, err)
	}
}

// withSearchPath adds search_path to a URL or key=value connection string;
// pgx sends it as a run-time parameter on every connection.
func withSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("testdb: parse %s: %v", EnvDatabaseURL, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}
