package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// TouchAppPassword records the last use of one of the user's app passwords.
func (s *Store) TouchAppPassword(ctx context.Context, userID, id int64, at time.Time) error {
	return s.write(ctx, "touch app password", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE app_passwords SET last_used = $3 WHERE id = $1 AND user_id = $2`,
			id, userID, toMicros(at))
		return err
	})
}

// accountSQL sums the per-collection counters (kept by triggers on objects)
// of each user, never scanning objects.
const accountSQL = `
	SELECT u.id, u.username, u.display_name, u.is_admin, u.last_login, u.created,
	       coalesce(sum(c.object_count), 0), coalesce(sum(c.used_bytes), 0)
	FROM users u
	LEFT JOIN collections c ON c.owner_id = u.id`

func scanAccount(row interface{ Scan(...any) error }) (store.Account, error) {
	var (
		a              store.Account
		login          sql.NullInt64
		created, admin int64
	)
	if err := row.Scan(&a.ID, &a.Username, &a.DisplayName, &admin, &login, &created, &a.Objects, &a.UsedBytes); err != nil {
		return a, err
	}
	a.Admin = admin != 0
	a.LastLogin = fromNullMicros(login)
	a.Created = fromMicros(created)
	return a, nil
}

// GetAccount returns the user's account summary.
func (s *Store) GetAccount(ctx context.Context, userID int64) (*store.Account, error) {
	a, err := scanAccount(s.r.QueryRowContext(ctx, accountSQL+` WHERE u.id = $1 GROUP BY u.id`, userID))
	if err != nil {
		return nil, wrap("get account", err)
	}
	return &a, nil
}

// ListAccounts returns every user's account summary ordered by username.
func (s *Store) ListAccounts(ctx context.Context) ([]store.Account, error) {
	rows, err := s.r.QueryContext(ctx, accountSQL+` GROUP BY u.id ORDER BY u.username`)
	if err != nil {
		return nil, wrap("list accounts", err)
	}
	defer rows.Close()
	var as []store.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, wrap("list accounts", err)
		}
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list accounts", err)
	}
	return as, nil
}

// SetUserAdmin grants or withdraws the admin role.
func (s *Store) SetUserAdmin(ctx context.Context, userID int64, admin bool) error {
	v := 0
	if admin {
		v = 1
	}
	return s.updateOne(ctx, "set admin", `UPDATE users SET is_admin = $2 WHERE id = $1`, userID, v)
}

// RecordLogin sets the user's last sign-in time.
func (s *Store) RecordLogin(ctx context.Context, userID int64, at time.Time) error {
	return s.updateOne(ctx, "record login", `UPDATE users SET last_login = $2 WHERE id = $1`, userID, toMicros(at))
}

// updateOne runs an UPDATE that must change exactly one row.
func (s *Store) updateOne(ctx context.Context, op, q string, args ...any) error {
	return s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// ListCollectionTotals returns each of the owner's collections' counters.
func (s *Store) ListCollectionTotals(ctx context.Context, ownerID int64) ([]store.CollectionTotals, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, object_count, used_bytes FROM collections WHERE owner_id = $1 ORDER BY id`, ownerID)
	if err != nil {
		return nil, wrap("list collection totals", err)
	}
	defer rows.Close()
	var ts []store.CollectionTotals
	for rows.Next() {
		var t store.CollectionTotals
		if err := rows.Scan(&t.ID, &t.Objects, &t.UsedBytes); err != nil {
			return nil, wrap("list collection totals", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list collection totals", err)
	}
	return ts, nil
}

// CreateSession inserts a browser session.
func (s *Store) CreateSession(ctx context.Context, ss *store.Session) error {
	if ss.Created.IsZero() {
		ss.Created = now()
	}
	if ss.LastSeen.IsZero() {
		ss.LastSeen = ss.Created
	}
	return s.write(ctx, "create session", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created, last_seen) VALUES ($1, $2, $3, $4)`,
			ss.ID, ss.UserID, toMicros(ss.Created), toMicros(ss.LastSeen))
		return err
	})
}

// GetSession returns the session with that id.
func (s *Store) GetSession(ctx context.Context, id string) (*store.Session, error) {
	var (
		ss              store.Session
		created, seenAt int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT id, user_id, created, last_seen FROM sessions WHERE id = $1`, id).
		Scan(&ss.ID, &ss.UserID, &created, &seenAt)
	if err != nil {
		return nil, wrap("get session", err)
	}
	ss.Created, ss.LastSeen = fromMicros(created), fromMicros(seenAt)
	return &ss, nil
}

// TouchSession sets the session's last-seen time.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	return s.exec(ctx, "touch session", `UPDATE sessions SET last_seen = $2 WHERE id = $1`, id, toMicros(at))
}

// DeleteSession removes one session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.exec(ctx, "delete session", `DELETE FROM sessions WHERE id = $1`, id)
}

// DeleteUserSessions removes the user's sessions but keepID.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keepID string) error {
	return s.exec(ctx, "delete user sessions", `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, keepID)
}

// exec runs one statement in a write transaction.
func (s *Store) exec(ctx context.Context, op, q string, args ...any) error {
	return s.write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
}

// PruneSessions deletes idle and too old sessions.
func (s *Store) PruneSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, "prune sessions", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen < $1 OR created < $2`,
			toMicros(idleBefore), toMicros(createdBefore))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
