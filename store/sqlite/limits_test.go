package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// TestSynchronous checks the durability setting the writer really runs
// with: FULL by default (an acknowledged write is on disk before the
// answer, so a power loss cannot take it), NORMAL only when asked for.
func TestSynchronous(t *testing.T) {
	for _, tc := range []struct {
		opt  Synchronous
		want int // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{
		{"", 2},
		{SyncFull, 2},
		{SyncNormal, 1},
	} {
		t.Run(string(tc.opt), func(t *testing.T) {
			s, err := OpenOptions(context.Background(), filepath.Join(t.TempDir(), "d.db"), discard(), Options{Synchronous: tc.opt})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var got int
			if err := s.w.QueryRowContext(context.Background(), `PRAGMA synchronous`).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("writer synchronous = %d, want %d", got, tc.want)
			}
		})
	}
	if _, err := ParseSynchronous("off"); err == nil {
		t.Error(`ParseSynchronous("off") succeeded; only full and normal are offered`)
	}
}

// TestStatementTimeout: with the writer held by another process's
// transaction, a write waits for the lock (busy_timeout is 10 s); the
// statement timeout (1 s here) interrupts it well before, as
// store.ErrUnavailable; the bound leaves room for a loaded machine.
func TestStatementTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	s, err := OpenOptions(context.Background(), path, discard(), Options{StatementTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, c := seed(t, s)

	other, err := OpenOptions(context.Background(), path, discard(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.w.BeginTx(context.Background(), nil) // BEGIN IMMEDIATE: the file's write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()

	start := time.Now()
	_, err = s.PutObject(context.Background(), event(c, "a.ics", "a"), store.PutObjectOptions{})
	if took := time.Since(start); !errors.Is(err, store.ErrUnavailable) || took > 8*time.Second {
		t.Errorf("PutObject behind a held lock = %v after %v, want store.ErrUnavailable well before busy_timeout", err, took)
	}
	tx.Rollback()
	if _, err := s.PutObject(context.Background(), event(c, "a.ics", "a"), store.PutObjectOptions{}); err != nil {
		t.Errorf("PutObject once the lock is free: %v", err)
	}
}
