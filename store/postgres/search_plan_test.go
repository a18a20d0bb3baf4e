package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestSearchPrincipalsPlan: after a bulk load of 10,000 users, each with
// the word "example" in their address, the principal search for that word
// (every user) is an index-only scan of principal_terms_term_idx in term
// order that stops at the LIMIT, under a custom plan and under the generic
// plan a prepared statement switches to, for the first step's LIMIT (101)
// and the bounded read's (1001). Before Load analysed the table, the
// planner took the range for a tenth of its size and chose a bitmap scan
// of every match and a sort.
func TestSearchPrincipalsPlan(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.PostgresDSN(t)
	s, err := postgres.Open(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Load(ctx, func(yield func(store.Record, error) bool) {
		for i := range 10000 {
			u := &store.User{ID: int64(i + 1), Username: fmt.Sprintf("u%05d", i), DisplayName: fmt.Sprintf("Nora K%03dren", i%256),
				Email: fmt.Sprintf("nora.k%03d@example.org", i%256), PasswordHash: "x"}
			if !yield(store.Record{User: u}, nil) {
				return
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, "PREPARE q(text, text, smallint, bigint) AS "+postgres.SearchQuery); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{101, 1001} {
		for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
			if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
				t.Fatal(err)
			}
			var plan string
			execute := fmt.Sprintf("EXPLAIN (FORMAT JSON) EXECUTE q('example', '%s', %d, %d)", store.PrefixEnd("example"), store.SearchEmail, limit)
			if err := conn.QueryRow(ctx, execute).Scan(&plan); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(plan, `"Index Only Scan"`) || !strings.Contains(plan, `"principal_terms_term_idx"`) ||
				strings.Contains(plan, `"Sort"`) || strings.Contains(plan, "Bitmap") {
				t.Errorf("limit %d, %s: want an index-only scan of principal_terms_term_idx and no sort:\n%s", limit, mode, plan)
			}
		}
	}
}
