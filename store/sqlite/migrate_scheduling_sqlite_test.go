package sqlite

import (
	"database/sql"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// TestMigrateSchedulingCollections upgrades a database from before
// migration 19 holding a user: they get an inbox and an outbox, the
// widened kind CHECK still refuses unknown kinds, and the file passes
// SQLite's integrity check after its schema was edited in place.
func TestMigrateSchedulingCollections(t *testing.T) {
	path := migratedTo(t, 18, "olduser")
	s := openT(t, path)
	u, err := s.GetUser(t.Context(), "olduser")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []store.Kind{store.KindInbox, store.KindOutbox} {
		if _, err := s.GetCollection(t.Context(), u.ID, k, string(k)); err != nil {
			t.Errorf("the %s of a user made before the upgrade: %v", k, err)
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO collections (owner_id, kind, name) VALUES ($1, 'bogus', 'x')`, u.ID); err == nil {
		t.Errorf("an unknown kind was accepted after the upgrade")
	}
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
}
