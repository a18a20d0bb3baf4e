package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/davenport-dav/davenport/store"
)

// CreateUser inserts u and its initial collections in one transaction, setting
// u.ID and u.Created and each collection's ID, OwnerID and times.
func (s *Store) CreateUser(ctx context.Context, u *store.User, collections []store.Collection) error {
	// Defence in depth: every caller should have checked already.
	if err := store.ValidateUsername(u.Username); err != nil {
		return fmt.Errorf("store: create user: %w", err)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	u.Username = store.CanonicalUsername(u.Username)
	t := now()
	return s.write(ctx, "create user", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO users (username, display_name, email, password_hash, created)
			VALUES ($1, $2, $3, $4, $5)
			RETURNING id`,
			u.Username, u.DisplayName, u.Email, u.PasswordHash, toMicros(t)).Scan(&u.ID)
		if err != nil {
			return err
		}
		if err := writeUserTerms(ctx, tx, u); err != nil {
			return err
		}
		for i := range collections {
			collections[i].OwnerID = u.ID
			if err := insertCollection(ctx, tx, &collections[i], t); err != nil {
				return fmt.Errorf("collection %q: %w", collections[i].Name, err)
			}
		}
		u.Created = t
		return nil
	})
}

const userColumns = `id, username, display_name, email, password_hash, created, unlocked_at`

func scanUser(row interface{ Scan(...any) error }) (*store.User, error) {
	var (
		u        store.User
		created  int64
		unlocked sql.NullInt64
	)
	if err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.PasswordHash, &created, &unlocked); err != nil {
		return nil, err
	}
	u.Created = fromMicros(created)
	if unlocked.Valid {
		u.UnlockedAt = fromMicros(unlocked.Int64)
	}
	return &u, nil
}

// getUserSQL is GetUser's query. The request path authenticates through
// GetUserCredentials; this one serves the CLI, so it is not kept prepared.
const getUserSQL = `SELECT ` + userColumns + ` FROM users WHERE username = $1`

// GetUser returns the user with that username.
func (s *Store) GetUser(ctx context.Context, username string) (*store.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	u, err := scanUser(s.r.QueryRowContext(ctx, getUserSQL, store.CanonicalUsername(username)))
	if err != nil {
		return nil, wrap("get user", err)
	}
	return u, nil
}

// getUserCredentialsSQL is GetUserCredentials' query (prepared at Open: it
// authenticates every request). One row per app password, or one row with
// NULL app-password columns for a user without any; no row for an unknown
// user. One statement reads one snapshot: SQLite runs it in a single read
// transaction.
const getUserCredentialsSQL = `
	SELECT u.id, u.username, u.display_name, u.email, u.password_hash, u.created, u.unlocked_at,
	       a.id, a.label, a.password_hash, a.created
	FROM users u
	LEFT JOIN app_passwords a ON a.user_id = u.id
	WHERE u.username = $1
	ORDER BY a.id`

// GetUserCredentials returns the user with that username and their app
// passwords, oldest first, with one query.
func (s *Store) GetUserCredentials(ctx context.Context, username string) (*store.User, []store.AppPassword, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.st.getUserCredentials.QueryContext(ctx, store.CanonicalUsername(username))
	if err != nil {
		return nil, nil, wrap("get user credentials", err)
	}
	defer rows.Close()
	var (
		u     store.User
		found bool
		ps    []store.AppPassword
		uc    int64
		ul    sql.NullInt64
		appID sql.NullInt64
		label sql.NullString
		hash  sql.NullString
		ac    sql.NullInt64
	)
	for rows.Next() {
		// Every row repeats the user's columns; scanning them again just
		// overwrites u with the same values.
		if err := rows.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.PasswordHash, &uc, &ul,
			&appID, &label, &hash, &ac); err != nil {
			return nil, nil, wrap("get user credentials", err)
		}
		found = true
		if appID.Valid {
			ps = append(ps, store.AppPassword{
				ID: appID.Int64, UserID: u.ID, Label: label.String, PasswordHash: hash.String,
				Created: fromMicros(ac.Int64),
			})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, wrap("get user credentials", err)
	}
	if !found {
		return nil, nil, wrap("get user credentials", sql.ErrNoRows)
	}
	u.Created = fromMicros(uc)
	if ul.Valid {
		u.UnlockedAt = fromMicros(ul.Int64)
	}
	return &u, ps, nil
}

// GetUserByID returns the user with that id.
func (s *Store) GetUserByID(ctx context.Context, id int64) (*store.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, wrap("get user", err)
	}
	return u, nil
}

// GetUsersByID returns the users of ids that exist.
func (s *Store) GetUsersByID(ctx context.Context, ids []int64) ([]store.User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	list, _ := json.Marshal(ids)
	users, err := queryAll(ctx, s.r, `SELECT `+userColumns+` FROM users WHERE id IN (SELECT value FROM json_each($1))`,
		func(row interface{ Scan(...any) error }) (store.User, error) {
			u, err := scanUser(row)
			if err != nil {
				return store.User{}, err
			}
			return *u, nil
		}, string(list))
	if err != nil {
		return nil, wrap("get users", err)
	}
	return users, nil
}

// ListUsers returns every user ordered by username.
func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, wrap("list users", err)
	}
	defer rows.Close()
	var users []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap("list users", err)
		}
		users = append(users, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list users", err)
	}
	return users, nil
}

// CountUsers returns the number of users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, wrap("count users", err)
	}
	return n, nil
}

// SetPasswordHash replaces the user's password hash.
func (s *Store) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.write(ctx, "set password hash", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID)
		return oneRow(res, err)
	})
}

// UnlockUser sets the user's unlocked_at to now.
func (s *Store) UnlockUser(ctx context.Context, userID int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	t := now()
	return s.write(ctx, "unlock user", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET unlocked_at = $1 WHERE id = $2`, toMicros(t), userID)
		return oneRow(res, err)
	})
}

// DeleteUser removes the user; the schema cascades to app passwords,
// collections, objects, tombstones and dead properties.
func (s *Store) DeleteUser(ctx context.Context, userID int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.write(ctx, "delete user", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, userID)
		return oneRow(res, err)
	})
}

// CreateAppPassword inserts p, setting p.ID and p.Created.
func (s *Store) CreateAppPassword(ctx context.Context, p *store.AppPassword) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	t := now()
	return s.write(ctx, "create app password", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO app_passwords (user_id, label, password_hash, created)
			VALUES ($1, $2, $3, $4)
			RETURNING id`,
			p.UserID, p.Label, p.PasswordHash, toMicros(t)).Scan(&p.ID)
		if err != nil {
			return err
		}
		p.Created = t
		return nil
	})
}

// listAppPasswordsSQL is ListAppPasswords' query, for the CLI and tests (the
// request path reads app passwords through GetUserCredentials).
const listAppPasswordsSQL = `
	SELECT id, user_id, label, password_hash, created, last_used
	FROM app_passwords WHERE user_id = $1 ORDER BY id`

// ListAppPasswords returns the user's app passwords in order of creation.
func (s *Store) ListAppPasswords(ctx context.Context, userID int64) ([]store.AppPassword, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.r.QueryContext(ctx, listAppPasswordsSQL, userID)
	if err != nil {
		return nil, wrap("list app passwords", err)
	}
	defer rows.Close()
	var ps []store.AppPassword
	for rows.Next() {
		var (
			p       store.AppPassword
			created int64
			used    sql.NullInt64
		)
		if err := rows.Scan(&p.ID, &p.UserID, &p.Label, &p.PasswordHash, &created, &used); err != nil {
			return nil, wrap("list app passwords", err)
		}
		p.Created = fromMicros(created)
		p.LastUsed = fromNullMicros(used)
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list app passwords", err)
	}
	return ps, nil
}

// DeleteAppPassword removes one of the user's app passwords.
func (s *Store) DeleteAppPassword(ctx context.Context, userID, id int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.write(ctx, "delete app password", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM app_passwords WHERE id = $1 AND user_id = $2`, id, userID)
		return oneRow(res, err)
	})
}

// oneRow turns an Exec result that touched no row into store.ErrNotFound.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// canonicalUsernamesVersion is the migration that makes user names
// case-insensitive (000011_canonical_usernames).
const canonicalUsernamesVersion = 11

// canonicalizeUsernames rewrites every user name to store.CanonicalUsername
// in one transaction, before migration canonicalUsernamesVersion adds its
// triggers; names that would collide are refused with the
// *store.UsernameTwinsError, and nothing changes. Running it twice is
// harmless.
func canonicalizeUsernames(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("canonical user names: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id, username FROM users`)
	if err != nil {
		return fmt.Errorf("canonical user names: %w", err)
	}
	names := map[int64]string{}
	for rows.Next() {
		var (
			id   int64
			name string
		)
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return fmt.Errorf("canonical user names: %w", err)
		}
		names[id] = name
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("canonical user names: %w", err)
	}
	renames, err := store.CanonicalRenames(names)
	if err != nil {
		return fmt.Errorf("canonical user names: %w", err)
	}
	for id, name := range renames {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET username = $1 WHERE id = $2`, name, id); err != nil {
			return fmt.Errorf("canonical user names: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("canonical user names: %w", err)
	}
	return nil
}

// SetEmail replaces the user's email address.
func (s *Store) SetDisplayName(ctx context.Context, userID int64, displayName string) error {
	return s.setUserText(ctx, "set display name", "display_name", userID, displayName)
}

func (s *Store) SetEmail(ctx context.Context, userID int64, email string) error {
	return s.setUserText(ctx, "set email", "email", userID, email)
}

// setUserText sets one text column of users (display_name or email) and
// rewrites the user's search terms, which both feed.
func (s *Store) setUserText(ctx context.Context, op, column string, userID int64, value string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.write(ctx, op, func(tx *sql.Tx) error {
		u := store.User{ID: userID}
		q := `UPDATE users SET ` + column + ` = $1 WHERE id = $2 RETURNING username, display_name, email`
		if err := tx.QueryRowContext(ctx, q, value, userID).Scan(&u.Username, &u.DisplayName, &u.Email); err != nil {
			return err
		}
		return writeUserTerms(ctx, tx, &u)
	})
}
