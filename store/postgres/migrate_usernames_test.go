package postgres_test

import (
	"errors"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/storetest"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestMigrateCanonicalUsernames upgrades a schema from before migration 10
// holding mixed-case and decomposed names: each becomes its canonical form
// and is found in any case, and the new check refuses a capital written
// behind the store's back.
func TestMigrateCanonicalUsernames(t *testing.T) {
	ctx := t.Context()
	dsn := testdb.PostgresDSN(t)
	if err := newMigrate(t, dsn).Migrate(9); err != nil {
		t.Fatalf("migrate to 9: %v", err)
	}
	conn := connect(t, dsn)
	for _, n := range storetest.LegacyUsernames {
		if _, err := conn.Exec(ctx, `INSERT INTO users (username, password_hash) VALUES ($1, 'h')`, n); err != nil {
			t.Fatal(err)
		}
	}
	s, err := postgres.Open(ctx, dsn, discard)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	storetest.CheckLegacyUsernames(t, s)
	if _, err := conn.Exec(ctx, `INSERT INTO users (username) VALUES ('Dave')`); err == nil {
		t.Errorf("a capital written directly was accepted after the upgrade")
	}
}

// TestMigrateRefusesUsernameTwins: names that differ only in case (or
// Unicode form) cannot both survive; the upgrade is refused with a message
// naming them, and the database is left as it was, at its old version and
// not dirty.
func TestMigrateRefusesUsernameTwins(t *testing.T) {
	ctx := t.Context()
	dsn := testdb.PostgresDSN(t)
	if err := newMigrate(t, dsn).Migrate(9); err != nil {
		t.Fatalf("migrate to 9: %v", err)
	}
	conn := connect(t, dsn)
	for _, n := range []string{"Alice", "alice", "Bob", "zo\u00eb", "zoe\u0308"} {
		if _, err := conn.Exec(ctx, `INSERT INTO users (username, password_hash) VALUES ($1, 'h')`, n); err != nil {
			t.Fatal(err)
		}
	}
	_, err := postgres.Open(ctx, dsn, discard)
	var twins *store.UsernameTwinsError
	if !errors.As(err, &twins) || len(twins.Groups) != 2 {
		t.Fatalf("Open = %v; want a UsernameTwinsError with two groups", err)
	}
	t.Log(err)
	if v, dirty := schemaVersion(t, conn); v != 9 || dirty {
		t.Errorf("schema version %d dirty=%v after the refusal; want 9, clean", v, dirty)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM users WHERE username IN ('Alice', 'Bob')`).Scan(&n); err != nil || n != 2 {
		t.Errorf("names were changed by a refused upgrade (%d of 2 left, %v)", n, err)
	}
}
