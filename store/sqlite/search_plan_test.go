package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// TestSearchPrincipalsPlan: the principal search reads, for each field, a
// prefix range of principal_terms_field_term_idx, which covers the query
// and is in term order, so each scan stops at the LIMIT: no table read and
// no sort of the matches (a "TEMP B-TREE FOR ORDER BY" inside a field's
// scan would read every match first; the one merging the two fields'
// answers sorts at most twice the LIMIT).
func TestSearchPrincipalsPlan(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "davenport.db"))
	plan := queryPlan(t, s, searchQuery, "example", store.PrefixEnd("example"), int(store.SearchEmail), 101)
	const scan = "USING COVERING INDEX principal_terms_field_term_idx (field=? AND term>? AND term<?)"
	if strings.Count(plan, scan) != 2 || strings.Count(plan, "TEMP B-TREE") > 1 {
		t.Errorf("principal search plan:\n%s\nwant two covering range searches of principal_terms_field_term_idx and no sort in them", plan)
	}
}
