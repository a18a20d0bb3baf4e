package postgres_test

import (
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestMigrateSchedulingCollections upgrades a database from before
// migration 18 holding a user: they get an inbox and an outbox, and the
// kind CHECK still refuses unknown kinds.
func TestMigrateSchedulingCollections(t *testing.T) {
	ctx := t.Context()
	dsn := testdb.PostgresDSN(t)
	if err := newMigrate(t, dsn).Migrate(17); err != nil {
		t.Fatalf("migrate to 17: %v", err)
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
	for _, k := range []store.Kind{store.KindInbox, store.KindOutbox} {
		if _, err := s.GetCollection(ctx, u.ID, k, string(k)); err != nil {
			t.Errorf("the %s of a user made before the upgrade: %v", k, err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO collections (owner_id, kind, name) VALUES ($1, 'bogus', 'x')`, u.ID); err == nil {
		t.Errorf("an unknown kind was accepted after the upgrade")
	}
}
