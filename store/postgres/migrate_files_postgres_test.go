package postgres_test

import (
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestMigrateFilesHome upgrades a database from before migration 20
// holding a user: they get their files home (the folder named ""), and
// the kind CHECK accepts folders but still refuses unknown kinds.
func TestMigrateFilesHome(t *testing.T) {
	ctx := t.Context()
	dsn := testdb.PostgresDSN(t)
	if err := newMigrate(t, dsn).Migrate(19); err != nil {
		t.Fatalf("migrate to 19: %v", err)
	}
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, `INSERT INTO users (username, password_hash) VALUES ('olduser', 'h')`); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, dsn, discard)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	u, err := s.GetUser(ctx, "olduser")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetCollection(ctx, u.ID, store.KindFiles, ""); err != nil {
		t.Errorf("the files home of a user made before the upgrade: %v", err)
	}
	if err := s.CreateCollection(ctx, &store.Collection{OwnerID: u.ID, Kind: store.KindFiles, Name: "docs"}); err != nil {
		t.Errorf("a folder after the upgrade: %v", err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO collections (owner_id, kind, name) VALUES ($1, 'bogus', 'x')`, u.ID); err == nil {
		t.Errorf("an unknown kind was accepted after the upgrade")
	}
}
