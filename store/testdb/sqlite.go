package testdb

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/sqlite"
)

// SQLite returns a fresh embedded store in a file under t.TempDir(), built by
// the real migrations and closed when the test ends.
func SQLite(t testing.TB) store.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "davenport.db")
	s, err := sqlite.Open(context.Background(), path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("testdb: open sqlite store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("testdb: close sqlite store: %v", err)
		}
	})
	return s
}
