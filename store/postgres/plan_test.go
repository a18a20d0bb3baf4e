package postgres_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/storetest"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestListingsReadNoBody: listings (PROPFIND Depth 1, sync-collection, a
// multiget of etags) never read the body column, so their cost does not
// depend on how large the items are, and a body kept out of line in TOAST
// is never fetched. PostgreSQL's verbose plan names every column each step
// outputs; the same queries asking for the body must name it, so the test
// can tell.
func TestListingsReadNoBody(t *testing.T) {
	ctx := t.Context()
	dsn := testdb.PostgresDSN(t)
	if _, _, err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, dsn)
	for _, withBody := range []bool{false, true} {
		type query struct {
			name string
			sql  string
			args []any
		}
		var queries []query
		for _, c := range storetest.ListingShapes(withBody) {
			q, args := postgres.ListQuery(1, c.Opts)
			queries = append(queries, query{c.Name, q, args})
		}
		queries = append(queries,
			query{"changes", postgres.ChangesQuery(withBody), []any{1, 0, 10, 100}},
			query{"get objects", postgres.GetObjectsQuery(withBody), []any{1, []string{"a.ics"}}},
		)
		for _, q := range queries {
			var plan string
			if err := conn.QueryRow(ctx, "EXPLAIN (VERBOSE, FORMAT JSON) "+q.sql, q.args...).Scan(&plan); err != nil {
				t.Fatalf("%s: %v", q.name, err)
			}
			outputs := planOutputs(t, plan)
			reads := strings.Contains(strings.Join(outputs, " "), "body")
			if reads != withBody {
				t.Errorf("%s (withBody %v): plan reads the body = %v; outputs %q", q.name, withBody, reads, outputs)
			}
		}
	}
}

// planOutputs collects the Output column lists of every node of a plan in
// EXPLAIN (VERBOSE, FORMAT JSON) form.
func planOutputs(t *testing.T, plan string) []string {
	t.Helper()
	var doc []struct {
		Plan json.RawMessage `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(plan), &doc); err != nil || len(doc) != 1 {
		t.Fatalf("plan %s: %v", plan, err)
	}
	type node struct {
		Output []string `json:"Output"`
		Plans  []node   `json:"Plans"`
	}
	var root node
	if err := json.Unmarshal(doc[0].Plan, &root); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(n node)
	walk = func(n node) {
		out = append(out, n.Output...)
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(root)
	return out
}
