package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/davenport-dav/davenport/store"
)

// CreateUser inserts u and its initial collections in one transaction. It
// sets u.ID and u.Created, and the ID, owner and timestamps of each collection.
func (s *Store) CreateUser(ctx context.Context, u *store.User, collections []store.Collection) error {
	// Defence in depth: every caller should have checked already.
	if err := store.ValidateUsername(u.Username); err != nil {
		return fmt.Errorf("store: create user: %w", err)
	}
	u.Username = store.CanonicalUsername(u.Username)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		const q = `
			INSERT INTO users (username, display_name, email, password_hash)
			VALUES ($1, $2, $3, $4)
			RETURNING id, created`
		if err := tx.QueryRow(ctx, q, u.Username, u.DisplayName, u.Email, u.PasswordHash).
			Scan(&u.ID, &u.Created); err != nil {
			return err
		}
		if err := writeUserTerms(ctx, tx, u); err != nil {
			return err
		}
		for i := range collections {
			collections[i].OwnerID = u.ID
			if err := insertCollection(ctx, tx, &collections[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if isUniqueViolation(err, "") {
		return errorf("store: create user %q: %w", u.Username, store.ErrConflict)
	}
	if err != nil {
		return errorf("store: create user %q: %w", u.Username, err)
	}
	return nil
}

const userColumns = `id, username, display_name, email, password_hash, created, unlocked_at`

// scanUser reads the userColumns of one row.
func scanUser(row pgx.Row) (*store.User, error) {
	var (
		u  store.User
		ul pgtype.Timestamptz
	)
	if err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.PasswordHash, &u.Created, &ul); err != nil {
		return nil, err
	}
	if ul.Valid {
		u.UnlockedAt = ul.Time
	}
	return &u, nil
}

// GetUser returns the user with that username.
func (s *Store) GetUser(ctx context.Context, username string) (*store.User, error) {
	const q = `
		SELECT ` + userColumns + `
		FROM users
		WHERE username = $1`
	u, err := scanUser(s.pool.QueryRow(ctx, q, store.CanonicalUsername(username)))
	if err != nil {
		return nil, errorf("store: get user %q: %w", username, notFound(err))
	}
	return u, nil
}

// GetUserCredentials returns the user with that username and their app
// passwords, oldest first, with one query: one row per app password, or one
// row with NULL app-password columns for a user without any, and no row for
// an unknown user. One statement sees one snapshot, even at READ COMMITTED.
func (s *Store) GetUserCredentials(ctx context.Context, username string) (*store.User, []store.AppPassword, error) {
	const q = `
		SELECT u.id, u.username, u.display_name, u.email, u.password_hash, u.created, u.unlocked_at,
		       a.id, a.label, a.password_hash, a.created
		FROM users u
		LEFT JOIN app_passwords a ON a.user_id = u.id
		WHERE u.username = $1
		ORDER BY a.id`
	rows, _ := s.pool.Query(ctx, q, store.CanonicalUsername(username))
	defer rows.Close()
	var (
		u     store.User
		found bool
		ps    []store.AppPassword
		appID pgtype.Int8
		label pgtype.Text
		hash  pgtype.Text
		ac    pgtype.Timestamptz
		ul    pgtype.Timestamptz
	)
	for rows.Next() {
		// Every row repeats the user's columns; scanning them again just
		// overwrites u with the same values.
		if err := rows.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.PasswordHash, &u.Created, &ul,
			&appID, &label, &hash, &ac); err != nil {
			return nil, nil, errorf("store: get user credentials %q: %w", username, err)
		}
		found = true
		if appID.Valid {
			ps = append(ps, store.AppPassword{
				ID: appID.Int64, UserID: u.ID, Label: label.String, PasswordHash: hash.String, Created: ac.Time,
			})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, errorf("store: get user credentials %q: %w", username, err)
	}
	if !found {
		return nil, nil, errorf("store: get user credentials %q: %w", username, store.ErrNotFound)
	}
	if ul.Valid {
		u.UnlockedAt = ul.Time
	}
	return &u, ps, nil
}

// GetUserByID returns the user with that id.
func (s *Store) GetUserByID(ctx context.Context, id int64) (*store.User, error) {
	const q = `
		SELECT ` + userColumns + `
		FROM users
		WHERE id = $1`
	u, err := scanUser(s.pool.QueryRow(ctx, q, id))
	if err != nil {
		return nil, errorf("store: get user %d: %w", id, notFound(err))
	}
	return u, nil
}

// GetUsersByID returns the users of ids that exist.
func (s *Store) GetUsersByID(ctx context.Context, ids []int64) ([]store.User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE id = ANY($1)`, ids)
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.User, error) {
		u, err := scanUser(row)
		if err != nil {
			return store.User{}, err
		}
		return *u, nil
	})
	if err != nil {
		return nil, errorf("store: get users: %w", err)
	}
	return users, nil
}

// ListUsers returns every user ordered by username.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	const q = `
		SELECT ` + userColumns + `
		FROM users
		ORDER BY username`
	rows, _ := s.pool.Query(ctx, q)
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.User, error) {
		u, err := scanUser(row)
		if err != nil {
			return store.User{}, err
		}
		return *u, nil
	})
	if err != nil {
		return nil, errorf("store: list users: %w", err)
	}
	return users, nil
}

// CountUsers returns the number of users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, errorf("store: count users: %w", err)
	}
	return n, nil
}

// SetPasswordHash replaces the user's password hash.
func (s *Store) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	const q = `UPDATE users SET password_hash = $2 WHERE id = $1`
	tag, err := s.pool.Exec(ctx, q, userID, hash)
	if err != nil {
		return errorf("store: set password hash of user %d: %w", userID, err)
	}
	if tag.RowsAffected() == 0 {
		return errorf("store: set password hash of user %d: %w", userID, store.ErrNotFound)
	}
	return nil
}

// UnlockUser sets the user's unlocked_at to now.
func (s *Store) UnlockUser(ctx context.Context, userID int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET unlocked_at = clock_timestamp() WHERE id = $1`, userID)
	if err != nil {
		return errorf("store: unlock user %d: %w", userID, err)
	}
	if tag.RowsAffected() == 0 {
		return errorf("store: unlock user %d: %w", userID, store.ErrNotFound)
	}
	return nil
}

// DeleteUser removes the user; the schema cascades to their app passwords,
// collections, objects and tombstones.
func (s *Store) DeleteUser(ctx context.Context, userID int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, userID)
	if err != nil {
		return errorf("store: delete user %d: %w", userID, err)
	}
	if tag.RowsAffected() == 0 {
		return errorf("store: delete user %d: %w", userID, store.ErrNotFound)
	}
	return nil
}

// CreateAppPassword inserts p, setting its ID and Created. The user must
// exist.
func (s *Store) CreateAppPassword(ctx context.Context, p *store.AppPassword) error {
	const q = `
		INSERT INTO app_passwords (user_id, label, password_hash)
		VALUES ($1, $2, $3)
		RETURNING id, created`
	err := s.pool.QueryRow(ctx, q, p.UserID, p.Label, p.PasswordHash).Scan(&p.ID, &p.Created)
	if isForeignKeyViolation(err) {
		return errorf("store: create app password for user %d: %w", p.UserID, store.ErrNotFound)
	}
	if err != nil {
		return errorf("store: create app password for user %d: %w", p.UserID, err)
	}
	return nil
}

// ListAppPasswords returns the user's app passwords, oldest first.
func (s *Store) ListAppPasswords(ctx context.Context, userID int64) ([]store.AppPassword, error) {
	const q = `
		SELECT id, user_id, label, password_hash, created, last_used
		FROM app_passwords
		WHERE user_id = $1
		ORDER BY id`
	rows, _ := s.pool.Query(ctx, q, userID)
	ps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AppPassword, error) {
		var p store.AppPassword
		err := row.Scan(&p.ID, &p.UserID, &p.Label, &p.PasswordHash, &p.Created, &p.LastUsed)
		return p, err
	})
	if err != nil {
		return nil, errorf("store: list app passwords of user %d: %w", userID, err)
	}
	return ps, nil
}

// DeleteAppPassword removes one of the user's app passwords.
func (s *Store) DeleteAppPassword(ctx context.Context, userID, id int64) error {
	const q = `DELETE FROM app_passwords WHERE id = $1 AND user_id = $2`
	tag, err := s.pool.Exec(ctx, q, id, userID)
	if err != nil {
		return errorf("store: delete app password %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return errorf("store: delete app password %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// SetEmail replaces the user's email address.
func (s *Store) SetDisplayName(ctx context.Context, userID int64, displayName string) error {
	return s.setUserText(ctx, "display name", "display_name", userID, displayName)
}

func (s *Store) SetEmail(ctx context.Context, userID int64, email string) error {
	return s.setUserText(ctx, "email", "email", userID, email)
}

// setUserText sets one text column of users (display_name or email) and
// rewrites the user's search terms, which both feed.
func (s *Store) setUserText(ctx context.Context, what, column string, userID int64, value string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		u := store.User{ID: userID}
		q := `UPDATE users SET ` + column + ` = $2 WHERE id = $1 RETURNING username, display_name, email`
		if err := tx.QueryRow(ctx, q, userID, value).Scan(&u.Username, &u.DisplayName, &u.Email); err != nil {
			return notFound(err)
		}
		return writeUserTerms(ctx, tx, &u)
	})
	if err != nil {
		return errorf("store: set %s of user %d: %w", what, userID, err)
	}
	return nil
}
