package postgres_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/testdb"
)

// upgradedUser migrates a new database to version from, adds a user there,
// and opens it (which migrates it to the latest version): the user as the
// store then has them, the store, and a connection to the database.
func upgradedUser(t *testing.T, from uint) (*store.User, *postgres.Store, *pgx.Conn) {
	t.Helper()
	ctx := t.Context()
	dsn := testdb.PostgresDSN(t)
	if err := newMigrate(t, dsn).Migrate(from); err != nil {
		t.Fatalf("migrate to %d: %v", from, err)
	}
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, `INSERT INTO users (username, password_hash) VALUES ('olduser', 'h')`); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, dsn, discard)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	u, err := s.GetUser(ctx, "olduser")
	if err != nil {
		t.Fatal(err)
	}
	return u, s, conn
}

// TestMigrateSchedulingCollections upgrades a database from before
// migration 18 holding a user: they get an inbox and an outbox, and the
// kind CHECK still refuses unknown kinds.
func TestMigrateSchedulingCollections(t *testing.T) {
	u, s, conn := upgradedUser(t, 17)
	for _, k := range []store.Kind{store.KindInbox, store.KindOutbox} {
		if _, err := s.GetCollection(t.Context(), u.ID, k, string(k)); err != nil {
			t.Errorf("the %s of a user made before the upgrade: %v", k, err)
		}
	}
	if _, err := conn.Exec(t.Context(), `INSERT INTO collections (owner_id, kind, name) VALUES ($1, 'bogus', 'x')`, u.ID); err == nil {
		t.Errorf("an unknown kind was accepted after the upgrade")
	}
}

// TestMigrateFilesHome upgrades a database from before migration 20
// holding a user: they get their files home (the folder named ""), and
// the kind CHECK accepts folders but still refuses unknown kinds.
func TestMigrateFilesHome(t *testing.T) {
	ctx := t.Context()
	u, s, conn := upgradedUser(t, 19)
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
