package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/storetest"
)

// TestMigrateCanonicalUsernames upgrades a database from before migration
// 11 holding mixed-case and decomposed names: each becomes its canonical
// form and is found in any case, and the new triggers refuse a capital
// written behind the store's back.
func TestMigrateCanonicalUsernames(t *testing.T) {
	path := migratedTo(t, 10, storetest.LegacyUsernames...)
	storetest.CheckLegacyUsernames(t, openT(t, path))
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO users (username) VALUES ('Dave')`); err == nil {
		t.Errorf("a capital written directly was accepted after the upgrade")
	}
	if _, err := db.Exec(`UPDATE users SET username = 'Carol' WHERE username = 'carol'`); err == nil {
		t.Errorf("a capital written directly by UPDATE was accepted after the upgrade")
	}
}

// TestMigrateRefusesUsernameTwins: names that differ only in case (or
// Unicode form) cannot both survive; the upgrade is refused with a message
// naming them and the file is left as it was, at its old version.
func TestMigrateRefusesUsernameTwins(t *testing.T) {
	path := migratedTo(t, 10, "Alice", "alice", "Bob", "zo\u00eb", "zoe\u0308")
	before := readFile(t, path)
	_, err := Open(t.Context(), path, discard())
	var twins *store.UsernameTwinsError
	if !errors.As(err, &twins) || len(twins.Groups) != 2 {
		t.Fatalf("Open = %v; want a UsernameTwinsError with two groups", err)
	}
	t.Log(err)
	if after := readFile(t, path); !slices.Equal(before, after) {
		t.Errorf("a refused upgrade changed the file")
	}
}

// migratedTo makes a database at schema version v holding users with the
// given names, written directly.
func migratedTo(t *testing.T, v uint, names ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "davenport.db")
	db, err := sql.Open("sqlite", dsn(path, "rwc", writerParams()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	m := newMigrate(t, path)
	if err := m.Migrate(v); err != nil {
		t.Fatalf("migrate to %d: %v", v, err)
	}
	if srcErr, dbErr := m.Close(); srcErr != nil || dbErr != nil {
		t.Fatalf("close migrations: %v, %v", srcErr, dbErr)
	}
	for _, n := range names {
		if _, err := db.Exec(`INSERT INTO users (username, password_hash) VALUES ($1, 'h')`, n); err != nil {
			t.Fatal(err)
		}
	}
	return path
}
