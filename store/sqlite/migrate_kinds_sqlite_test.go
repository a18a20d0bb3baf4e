package sqlite

import (
	"database/sql"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// checkWidenedKinds fails unless the database at path, whose kind CHECK a
// migration widened in place, still refuses an unknown kind for user u
// and passes SQLite's integrity check.
func checkWidenedKinds(t *testing.T, path string, u *store.User) {
	t.Helper()
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
	checkWidenedKinds(t, path, u)
}

// TestMigrateFilesHome upgrades a database from before migration 21
// holding a user: they get their files home (the folder named ""), files
// collections are accepted, and the file passes SQLite's integrity check
// after its schema was edited in place.
func TestMigrateFilesHome(t *testing.T) {
	path := migratedTo(t, 20, "olduser")
	s := openT(t, path)
	u, err := s.GetUser(t.Context(), "olduser")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetCollection(t.Context(), u.ID, store.KindFiles, ""); err != nil {
		t.Errorf("the files home of a user made before the upgrade: %v", err)
	}
	if err := s.CreateCollection(t.Context(), &store.Collection{OwnerID: u.ID, Kind: store.KindFiles, Name: "docs"}); err != nil {
		t.Errorf("a folder after the upgrade: %v", err)
	}
	checkWidenedKinds(t, path, u)
}
