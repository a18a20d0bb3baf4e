package sqlite_test

import (
	"testing"

	"github.com/davenport-dav/davenport/store/storetest"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestStore runs the behavioural suite shared with store/postgres.
func TestStore(t *testing.T) { storetest.Run(t, testdb.SQLite) }
