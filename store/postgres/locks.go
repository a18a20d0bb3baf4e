package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store"
)

// WebDAV locks (store.Lock). Expiry is judged by this process's clock, as
// the lock's times are set by it.

const lockColumns = `token, root, user_id, depth_infinity, shared, owner_xml, timeout_seconds, created, expires`

func scanLock(row pgx.Row) (store.Lock, error) {
	var l store.Lock
	var secs int64
	err := row.Scan(&l.Token, &l.Root, &l.UserID, &l.Infinite, &l.Shared, &l.Owner, &secs, &l.Created, &l.Expires)
	l.Timeout = time.Duration(secs) * time.Second
	return l, err
}

// lockAdvisoryKey serializes CreateLock across every connection and server
// instance: the conflict check and the insert must not interleave with
// another's. Locks are taken seldom, so one key for all is enough.
const lockAdvisoryKey = 0x6461766c6f636b // "davlock"

// CreateLock stores l unless an unexpired lock conflicts with it.
func (s *Store) CreateLock(ctx context.Context, l *store.Lock) error {
	l.Created = time.Now().Truncate(time.Microsecond)
	l.Expires = l.Created.Add(l.Timeout)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockAdvisoryKey)); err != nil {
			return err
		}
		existing, err := listLocks(ctx, tx, l.Root, l.Created)
		if err != nil {
			return err
		}
		if err := store.CheckConflicts(existing, l); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO locks (`+lockColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			l.Token, l.Root, l.UserID, l.Infinite, l.Shared, l.Owner, int64(l.Timeout/time.Second), l.Created, l.Expires)
		return err
	})
	switch {
	case isUniqueViolation(err, ""):
		return errorf("store: create lock: %w", store.ErrConflict)
	case isForeignKeyViolation(err):
		return errorf("store: create lock: %w", store.ErrNotFound)
	case err != nil:
		return errorf("store: create lock: %w", err)
	}
	return nil
}

// ListLocks returns the unexpired locks on path, above it and below it.
func (s *Store) ListLocks(ctx context.Context, path string) ([]store.Lock, error) {
	ls, err := listLocks(ctx, s.pool, path, time.Now())
	if err != nil {
		return nil, errorf("store: list locks: %w", err)
	}
	return ls, nil
}

// rowsQuerier is what pool and transaction have in common for queries of
// many rows.
type rowsQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func listLocks(ctx context.Context, db rowsQuerier, path string, now time.Time) ([]store.Lock, error) {
	roots, below := store.LockQuery(path)
	rows, err := db.Query(ctx, `SELECT `+lockColumns+` FROM locks
		WHERE expires > $3 AND (root = ANY($1) OR ($2 <> '' AND starts_with(root, $2)))
		ORDER BY root COLLATE "C", token COLLATE "C"`, roots, below, now)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Lock, error) { return scanLock(row) })
}

// RefreshLock restarts the lock's timeout.
func (s *Store) RefreshLock(ctx context.Context, token string, timeout time.Duration) (*store.Lock, error) {
	now := time.Now().Truncate(time.Microsecond)
	l, err := scanLock(s.pool.QueryRow(ctx, `UPDATE locks SET timeout_seconds = $2, expires = $3
		WHERE token = $1 AND expires > $4 RETURNING `+lockColumns,
		token, int64(timeout/time.Second), now.Add(timeout), now))
	if err != nil {
		return nil, errorf("store: refresh lock: %w", notFound(err))
	}
	return &l, nil
}

// DeleteLock removes one unexpired lock.
func (s *Store) DeleteLock(ctx context.Context, token string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM locks WHERE token = $1 AND expires > $2`, token, time.Now())
	if err != nil {
		return errorf("store: delete lock: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errorf("store: delete lock: %w", store.ErrNotFound)
	}
	return nil
}

// DeleteLocks removes the locks on path and below it.
func (s *Store) DeleteLocks(ctx context.Context, path string) (int64, error) {
	_, below := store.LockQuery(path)
	tag, err := s.pool.Exec(ctx, `DELETE FROM locks WHERE root = $1 OR ($2 <> '' AND starts_with(root, $2))`, path, below)
	if err != nil {
		return 0, errorf("store: delete locks: %w", err)
	}
	return tag.RowsAffected(), nil
}

// PruneLocks deletes the locks that expired before before.
func (s *Store) PruneLocks(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM locks WHERE expires < $1`, before)
	if err != nil {
		return 0, errorf("store: prune locks: %w", err)
	}
	return tag.RowsAffected(), nil
}
