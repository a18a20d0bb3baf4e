package testdb

import (
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// Postgres returns a fresh PostgreSQL-backed store. (Placeholder until
// store/postgres lands.)
func Postgres(t testing.TB) store.Store {
	t.Fatal("testdb: postgres backend not implemented yet")
	return nil
}
