package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store"
)

// TouchAppPassword records the last use of one of the user's app passwords.
func (s *Store) TouchAppPassword(ctx context.Context, userID, id int64, at time.Time) error {
	const q = `UPDATE app_passwords SET last_used = $3 WHERE id = $1 AND user_id = $2`
	if _, err := s.pool.Exec(ctx, q, id, userID, at); err != nil {
		return fmt.Errorf("store: touch app password %d: %w", id, err)
	}
	return nil
}

// accountQuery sums the per-collection counters (kept by triggers on
// objects) of each user: one index range per user, never a scan of objects.
const accountQuery = `
	SELECT u.id, u.username, u.display_name, u.is_admin, u.last_login, u.created,
	       COALESCE(sum(c.object_count), 0)::bigint, COALESCE(sum(c.used_bytes), 0)::bigint
	FROM users u
	LEFT JOIN collections c ON c.owner_id = u.id`

func scanAccount(row pgx.Row) (store.Account, error) {
	var a store.Account
	err := row.Scan(&a.ID, &a.Username, &a.DisplayName, &a.Admin, &a.LastLogin, &a.Created, &a.Objects, &a.UsedBytes)
	return a, err
}

// GetAccount returns the user's account summary.
func (s *Store) GetAccount(ctx context.Context, userID int64) (*store.Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, accountQuery+` WHERE u.id = $1 GROUP BY u.id`, userID))
	if err != nil {
		return nil, fmt.Errorf("store: get account %d: %w", userID, notFound(err))
	}
	return &a, nil
}

// ListAccounts returns every user's account summary ordered by username.
func (s *Store) ListAccounts(ctx context.Context) ([]store.Account, error) {
	rows, _ := s.pool.Query(ctx, accountQuery+` GROUP BY u.id ORDER BY u.username`)
	as, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Account, error) { return scanAccount(row) })
	if err != nil {
		return nil, fmt.Errorf("store: list accounts: %w", err)
	}
	return as, nil
}

// SetUserAdmin grants or withdraws the admin role.
func (s *Store) SetUserAdmin(ctx context.Context, userID int64, admin bool) error {
	return s.execOne(ctx, "set admin of user", userID, `UPDATE users SET is_admin = $2 WHERE id = $1`, userID, admin)
}

// RecordLogin sets the user's last sign-in time.
func (s *Store) RecordLogin(ctx context.Context, userID int64, at time.Time) error {
	return s.execOne(ctx, "record login of user", userID, `UPDATE users SET last_login = $2 WHERE id = $1`, userID, at)
}

// execOne runs an UPDATE that must change exactly the one row of id.
func (s *Store) execOne(ctx context.Context, op string, id int64, q string, args ...any) error {
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: %s %d: %w", op, id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: %s %d: %w", op, id, store.ErrNotFound)
	}
	return nil
}

// ListCollectionTotals returns each of the owner's collections' counters.
func (s *Store) ListCollectionTotals(ctx context.Context, ownerID int64) ([]store.CollectionTotals, error) {
	const q = `SELECT id, object_count, used_bytes FROM collections WHERE owner_id = $1 ORDER BY id`
	rows, _ := s.pool.Query(ctx, q, ownerID)
	ts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.CollectionTotals, error) {
		var t store.CollectionTotals
		err := row.Scan(&t.ID, &t.Objects, &t.UsedBytes)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list collection totals of user %d: %w", ownerID, err)
	}
	return ts, nil
}

// CreateSession inserts a browser session.
func (s *Store) CreateSession(ctx context.Context, ss *store.Session) error {
	if ss.Created.IsZero() {
		ss.Created = time.Now()
	}
	if ss.LastSeen.IsZero() {
		ss.LastSeen = ss.Created
	}
	const q = `INSERT INTO sessions (id, user_id, created, last_seen) VALUES ($1, $2, $3, $4)`
	_, err := s.pool.Exec(ctx, q, ss.ID, ss.UserID, ss.Created, ss.LastSeen)
	switch {
	case isUniqueViolation(err, ""):
		return fmt.Errorf("store: create session: %w", store.ErrConflict)
	case isForeignKeyViolation(err):
		return fmt.Errorf("store: create session: %w", store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// GetSession returns the session with that id.
func (s *Store) GetSession(ctx context.Context, id string) (*store.Session, error) {
	const q = `SELECT id, user_id, created, last_seen FROM sessions WHERE id = $1`
	var ss store.Session
	if err := s.pool.QueryRow(ctx, q, id).Scan(&ss.ID, &ss.UserID, &ss.Created, &ss.LastSeen); err != nil {
		return nil, fmt.Errorf("store: get session: %w", notFound(err))
	}
	return &ss, nil
}

// TouchSession sets the session's last-seen time.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE sessions SET last_seen = $2 WHERE id = $1`, id, at); err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// DeleteSession removes one session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions removes the user's sessions but keepID.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keepID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, keepID); err != nil {
		return fmt.Errorf("store: delete sessions of user %d: %w", userID, err)
	}
	return nil
}

// PruneSessions deletes idle and too old sessions.
func (s *Store) PruneSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE last_seen < $1 OR created < $2`, idleBefore, createdBefore)
	if err != nil {
		return 0, fmt.Errorf("store: prune sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
