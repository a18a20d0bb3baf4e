package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// WebDAV locks (store.Lock). Writes are serialized by the single writer
// connection, so CreateLock's check and insert cannot interleave with
// another's.

const lockColumns = `token, root, user_id, depth_infinity, shared, owner_xml, timeout_seconds, created, expires`

func scanLock(row interface{ Scan(...any) error }) (store.Lock, error) {
	var (
		l                      store.Lock
		secs, created, expires int64
	)
	err := row.Scan(&l.Token, &l.Root, &l.UserID, &l.Infinite, &l.Shared, &l.Owner, &secs, &created, &expires)
	l.Timeout = time.Duration(secs) * time.Second
	l.Created, l.Expires = fromMicros(created), fromMicros(expires)
	return l, err
}

// CreateLock stores l unless an unexpired lock conflicts with it.
func (s *Store) CreateLock(ctx context.Context, l *store.Lock) error {
	l.Created = now()
	l.Expires = l.Created.Add(l.Timeout)
	return s.write(ctx, "create lock", func(tx *sql.Tx) error {
		existing, err := listLocks(ctx, tx, l.Root, l.Created)
		if err != nil {
			return err
		}
		if err := store.CheckConflicts(existing, l); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO locks (`+lockColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			l.Token, l.Root, l.UserID, l.Infinite, l.Shared, l.Owner, int64(l.Timeout/time.Second), toMicros(l.Created), toMicros(l.Expires))
		return err
	})
}

// ListLocks returns the unexpired locks on path, above it and below it.
func (s *Store) ListLocks(ctx context.Context, path string) ([]store.Lock, error) {
	ls, err := listLocks(ctx, s.r, path, time.Now())
	if err != nil {
		return nil, wrap("list locks", err)
	}
	return ls, nil
}

type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func listLocks(ctx context.Context, db rowsQuerier, path string, at time.Time) ([]store.Lock, error) {
	roots, below := store.LockQuery(path)
	args := []any{toMicros(at), below}
	var in strings.Builder
	for i, r := range roots {
		if i > 0 {
			in.WriteString(", ")
		}
		in.WriteString("$" + strconv.Itoa(len(args)+1))
		args = append(args, r)
	}
	rows, err := db.QueryContext(ctx, `SELECT `+lockColumns+` FROM locks
		WHERE expires > $1 AND (root IN (`+in.String()+`) OR ($2 <> '' AND substr(root, 1, length($2)) = $2))
		ORDER BY root, token`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Lock
	for rows.Next() {
		l, err := scanLock(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// RefreshLock restarts the lock's timeout.
func (s *Store) RefreshLock(ctx context.Context, token string, timeout time.Duration) (*store.Lock, error) {
	t := now()
	var l store.Lock
	err := s.write(ctx, "refresh lock", func(tx *sql.Tx) error {
		var err error
		l, err = scanLock(tx.QueryRowContext(ctx, `UPDATE locks SET timeout_seconds = $2, expires = $3
			WHERE token = $1 AND expires > $4 RETURNING `+lockColumns,
			token, int64(timeout/time.Second), toMicros(t.Add(timeout)), toMicros(t)))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// DeleteLock removes one unexpired lock.
func (s *Store) DeleteLock(ctx context.Context, token string) error {
	return s.write(ctx, "delete lock", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM locks WHERE token = $1 AND expires > $2`, token, toMicros(time.Now()))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = sql.ErrNoRows
			}
			return err
		}
		return nil
	})
}

// DeleteLocks removes the locks on path and below it.
func (s *Store) DeleteLocks(ctx context.Context, path string) (int64, error) {
	_, below := store.LockQuery(path)
	return s.deleteLocks(ctx, "delete locks", `DELETE FROM locks WHERE root = $1 OR ($2 <> '' AND substr(root, 1, length($2)) = $2)`, path, below)
}

// PruneLocks deletes the locks that expired before before.
func (s *Store) PruneLocks(ctx context.Context, before time.Time) (int64, error) {
	return s.deleteLocks(ctx, "prune locks", `DELETE FROM locks WHERE expires < $1`, toMicros(before))
}

func (s *Store) deleteLocks(ctx context.Context, op, q string, args ...any) (int64, error) {
	var n int64
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
