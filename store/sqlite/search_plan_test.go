package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// TestSearchPrincipalsPlan: the principal search reads a prefix range of
// principal_terms_term_idx, which covers the query and is in the order it
// asks for, so the scan stops at the LIMIT: no table read, no sort (a
// "TEMP B-TREE FOR ORDER BY" would read every match first).
func TestSearchPrincipalsPlan(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "davenport.db"))
	plan := queryPlan(t, s, searchQuery, "example", store.PrefixEnd("example"), int(store.SearchEmail), 101)
	if !strings.Contains(plan, "USING COVERING INDEX principal_terms_term_idx (term>? AND term<?)") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("principal search plan:\n%s\nwant a covering range search of principal_terms_term_idx and no sort", plan)
	}
}
