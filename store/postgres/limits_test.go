package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestStatementTimeout: a write that waits on a row lock held by another
// session is cancelled by statement_timeout and reported as
// store.ErrUnavailable, instead of holding its pool connection for as long
// as the other session likes.
func TestStatementTimeout(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.PostgresDSN(t)
	s, err := postgres.OpenOptions(ctx, dsn, discard, postgres.Options{StatementTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u := &store.User{Username: "alice", PasswordHash: "x"}
	if err := s.CreateUser(ctx, u, []store.Collection{{Kind: store.KindCalendar, Name: "c", Components: []string{"VEVENT"}}}); err != nil {
		t.Fatal(err)
	}
	c, err := s.GetCollection(ctx, u.ID, store.KindCalendar, "c")
	if err != nil {
		t.Fatal(err)
	}

	other, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT id FROM collections WHERE id = $1 FOR UPDATE`, c.ID); err != nil {
		t.Fatal(err)
	}

	body := []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	o := &store.Object{CollectionID: c.ID, Name: "a.ics", UID: "a", ETag: "e", ContentType: "text/calendar", Component: "VEVENT", Body: body}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err = s.PutObject(wctx, o, store.PutObjectOptions{})
	if took := time.Since(start); !errors.Is(err, store.ErrUnavailable) || took > 3*time.Second {
		t.Errorf("PutObject behind a held row lock = %v after %v, want store.ErrUnavailable within the 200ms timeout", err, took)
	}
	tx.Rollback(ctx)
	if _, err := s.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
		t.Errorf("PutObject once the lock is free: %v", err)
	}
}
