package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestOpenConcurrentlyOnEmptySchema starts several stores at once on one
// empty schema, as instances started together behind a load balancer do:
// every one comes up, the migrations ran once (golang-migrate's pgx driver
// holds a session advisory lock, keyed by database, schema and table, from
// creating schema_migrations to the last migration; the others wait for it
// and then find nothing to do), and the schema is clean at the newest
// version.
func TestOpenConcurrentlyOnEmptySchema(t *testing.T) {
	const n = 4
	dsn := testdb.PostgresDSN(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, n)
	stores := make([]*postgres.Store, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgres.Open(ctx, dsn, discard)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("store %d: %v", i, err)
			continue
		}
		defer stores[i].Close()
		if err := stores[i].Ping(ctx); err != nil {
			t.Errorf("store %d: ping: %v", i, err)
		}
	}
	conn := connect(t, dsn)
	if v, dirty := schemaVersion(t, conn); v != int64(latest(t)) || dirty {
		t.Errorf("schema version %d (dirty %v); want %d, clean", v, dirty, latest(t))
	}
	// Each migration ran once: a second run of 000001 would have failed
	// on its CREATE TABLE, and left the store that ran it with an error.
	if got := len(tables(t, conn)); got == 0 {
		t.Error("no tables after the concurrent migrations")
	}
}

// TestUpgradeConcurrently starts several stores at once on a schema from
// before migration 24, as instances upgraded together do: each finds the
// search terms to backfill, and the backfills must not interleave (each
// deletes every term and inserts them all again; two at once would both
// insert, leaving every term twice).
func TestUpgradeConcurrently(t *testing.T) {
	const n = 3
	ctx := context.Background()
	dsn := testdb.PostgresDSN(t)
	if err := newMigrate(t, dsn).Migrate(23); err != nil {
		t.Fatalf("migrate to 23: %v", err)
	}
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, `INSERT INTO users (username, display_name, email, password_hash)
		SELECT 'user' || i, 'User Number ' || i, 'user' || i || '@example.org', 'h' FROM generate_series(1, 2000) i`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			s, err := postgres.Open(ctx, dsn, discard)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("store %d: %v", i, err)
		}
	}
	var rows, distinct int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT (term, field, user_id, group_id)) FROM principal_terms`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != distinct {
		t.Errorf("%d search terms, %d distinct; want each once", rows, distinct)
	}
}
