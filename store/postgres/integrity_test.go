package postgres_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/storetest"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestCheckIntegrityFindsDamage breaks each invariant CheckIntegrity
// checks with SQL behind the store's back (the triggers would otherwise
// keep them) and expects a line for each.
func TestCheckIntegrityFindsDamage(t *testing.T) {
	dsn := testdb.PostgresDSN(t)
	s, err := postgres.Open(context.Background(), dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	storetest.CheckDamage(t, s, func(id int64) {
		conn, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		for _, q := range []string{
			`UPDATE collections SET object_count = object_count + 1, used_bytes = used_bytes + 5 WHERE id = $1`,
			`UPDATE objects SET modseq = modseq + 1000 WHERE collection_id = $1 AND name = 'a.ics'`,
			// The size trigger moves used_bytes along: only the body disagrees.
			`UPDATE objects SET size = size + 1 WHERE collection_id = $1 AND name = 'b.ics'`,
			`INSERT INTO tombstones (collection_id, name, modseq) VALUES ($1, 'b.ics', 1)`,
			`UPDATE collections SET pruned_modseq = modseq + 7 WHERE id = $1`,
		} {
			if _, err := conn.Exec(t.Context(), q, id); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}, []string{"object_count", "used_bytes", "(a.ics): modseq", "(b.ics): size", "b.ics is both live and deleted", "pruned_modseq"})
}
