package postgres_test

import (
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestMigrateSearchTerms upgrades a database from before migration 24
// holding a user and a group: both are found by search after it, and the
// user by email address.
func TestMigrateSearchTerms(t *testing.T) {
	ctx := t.Context()
	dsn := testdb.PostgresDSN(t)
	if err := newMigrate(t, dsn).Migrate(23); err != nil {
		t.Fatalf("migrate to 18: %v", err)
	}
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, `INSERT INTO users (username, display_name, email, password_hash) VALUES ('olduser', 'Old Timer', 'Old@Example.org', 'h')`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO groups (name, display_name) VALUES ('oldgroup', 'Veterans')`); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, dsn, discard)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	found, _, err := s.SearchPrincipals(ctx, store.SearchPrefix("time"), store.SearchName, 10)
	if err != nil || len(found) != 1 || found[0].User == nil || found[0].User.Username != "olduser" {
		t.Errorf("search after the upgrade: %+v, %v", found, err)
	}
	found, _, err = s.SearchPrincipals(ctx, store.SearchPrefix("veter"), store.SearchName, 10)
	if err != nil || len(found) != 1 || found[0].Group == nil {
		t.Errorf("group search after the upgrade: %+v, %v", found, err)
	}
	if u, err := s.GetUserByEmail(ctx, "old@example.org"); err != nil || u.Username != "olduser" {
		t.Errorf("GetUserByEmail after the upgrade: %v, %v", u, err)
	}
}
