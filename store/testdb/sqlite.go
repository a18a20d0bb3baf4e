package testdb

import (
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// SQLite returns a fresh embedded store. (Placeholder until store/sqlite
// lands.)
func SQLite(t testing.TB) store.Store {
	t.Fatal("testdb: sqlite backend not implemented yet")
	return nil
}
