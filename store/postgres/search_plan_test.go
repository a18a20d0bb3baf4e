package postgres_test

import (
	"context"
	"encoding/json"
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
// reads, under a custom plan and under the generic plan a prepared
// statement switches to, ordered index-only scans of
// principal_terms_field_term_idx that stop at the LIMIT: for the address
// field (every user matches) at most LIMIT entries, for the name field (no
// user matches) none, with nothing read and then filtered out. Before, the
// planner took the range for a tenth of its size after a bulk load and
// chose a bitmap scan of all 10,000 matches and a sort; and with the term
// alone as the key a search of the name field walked all 10,000 address
// entries to find none.
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
	for _, fields := range []store.SearchField{store.SearchEmail, store.SearchName, store.SearchName | store.SearchEmail} {
		for _, limit := range []int{101, 1001} {
			for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
				if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
					t.Fatal(err)
				}
				var plan string
				execute := fmt.Sprintf("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE q('example', '%s', %d, %d)", store.PrefixEnd("example"), fields, limit)
				if err := conn.QueryRow(ctx, execute).Scan(&plan); err != nil {
					t.Fatal(err)
				}
				for _, n := range planNodes(t, plan) {
					if !strings.Contains(n.Type, "Scan") || n.Type == "Subquery Scan" {
						continue
					}
					if n.Type != "Index Only Scan" || n.Index != "principal_terms_field_term_idx" || n.Rows > float64(limit) || n.Removed > 0 {
						t.Errorf("fields %d, limit %d, %s: %s on %q read %v rows and filtered out %v; want index-only scans of principal_terms_field_term_idx that stop at the limit:\n%s",
							fields, limit, mode, n.Type, n.Index, n.Rows, n.Removed, plan)
					}
				}
			}
		}
	}
}

// scanNode is what TestSearchPrincipalsPlan checks of a plan node.
type scanNode struct {
	Type    string  `json:"Node Type"`
	Index   string  `json:"Index Name"`
	Rows    float64 `json:"Actual Rows"`
	Removed float64 `json:"Rows Removed by Filter"`
	Plans   []scanNode
}

// planNodes are the nodes of a plan in EXPLAIN (ANALYZE, FORMAT JSON) form.
func planNodes(t *testing.T, plan string) []scanNode {
	t.Helper()
	var doc []struct{ Plan scanNode }
	if err := json.Unmarshal([]byte(plan), &doc); err != nil || len(doc) != 1 {
		t.Fatalf("plan %s: %v", plan, err)
	}
	var out []scanNode
	var walk func(n scanNode)
	walk = func(n scanNode) {
		out = append(out, n)
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(doc[0].Plan)
	return out
}
