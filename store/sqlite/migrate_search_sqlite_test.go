package sqlite

import (
	"database/sql"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// TestMigrateSearchTerms upgrades a database from before migration 25
// holding a user and a group: both are found by search after it, and the
// user by email address.
func TestMigrateSearchTerms(t *testing.T) {
	path := migratedTo(t, 24, "olduser")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE users SET display_name = 'Old Timer', email = 'Old@Example.org'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO groups (name, display_name) VALUES ('oldgroup', 'Veterans')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := openT(t, path)
	ctx := t.Context()
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
