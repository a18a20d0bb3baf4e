package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/davenport-dav/davenport/store"
)

// Principal lookups: by email address through users_email_lower_idx, and
// the search by terms of store/search.go through principal_terms.

// termsJSON is terms as the JSON array of [term, field] pairs writeTerms
// reads with json_each: one statement per principal, whatever its terms.
func termsJSON(terms []store.Term) (string, error) {
	rows := make([][2]any, len(terms))
	for i, t := range terms {
		rows[i] = [2]any{t.Term, int(t.Field)}
	}
	b, err := json.Marshal(rows)
	return string(b), err
}

// writeTerms replaces the search terms of the principal whose id is in
// column col (user_id or group_id).
func writeTerms(ctx context.Context, tx *sql.Tx, col string, id int64, terms []store.Term) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM principal_terms WHERE `+col+` = $1`, id); err != nil {
		return err
	}
	js, err := termsJSON(terms)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO principal_terms (term, field, `+col+`)
		SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), $2 FROM json_each($1)`, js, id)
	return err
}

func writeUserTerms(ctx context.Context, tx *sql.Tx, u *store.User) error {
	return writeTerms(ctx, tx, "user_id", u.ID, store.UserTerms(u))
}

func writeGroupTerms(ctx context.Context, tx *sql.Tx, g *store.Group) error {
	return writeTerms(ctx, tx, "group_id", g.ID, store.GroupTerms(g))
}

// rebuildSearchTerms writes the search terms of every user and group
// anew: after the migration that makes the table, and after Load.
func rebuildSearchTerms(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM principal_terms`); err != nil {
		return err
	}
	users, err := queryAll(ctx, tx, `SELECT id, username, display_name, email FROM users`,
		func(row interface{ Scan(...any) error }) (store.User, error) {
			var u store.User
			err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email)
			return u, err
		})
	if err != nil {
		return err
	}
	groups, err := queryAll(ctx, tx, `SELECT `+groupColumns+` FROM groups`, scanGroup)
	if err != nil {
		return err
	}
	for i := range users {
		if err := writeUserTerms(ctx, tx, &users[i]); err != nil {
			return err
		}
	}
	for i := range groups {
		if err := writeGroupTerms(ctx, tx, &groups[i]); err != nil {
			return err
		}
	}
	return nil
}

// searchTermsVersion is the migration that makes principal_terms
// (000020_create_principal_terms).
const searchTermsVersion = 25

// backfillSearchTerms writes the terms of the principals that existed
// before migration searchTermsVersion, in one transaction on db.
func backfillSearchTerms(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("search terms: %w", err)
	}
	if err := rebuildSearchTerms(ctx, tx); err != nil {
		tx.Rollback()
		return fmt.Errorf("search terms: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("search terms: %w", err)
	}
	return nil
}

// GetUserByEmail returns the first user, by name, with that email address
// in any ASCII case.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*store.User, error) {
	if email == "" {
		return nil, wrap("get user by email", store.ErrNotFound)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	const q = `
		SELECT ` + userColumns + `
		FROM users
		WHERE lower(email) = lower($1)
		ORDER BY username
		LIMIT 1`
	u, err := scanUser(s.r.QueryRowContext(ctx, q, email))
	if err != nil {
		return nil, wrap("get user by email", err)
	}
	return u, nil
}

// searchQuery reads the principals of the terms in a prefix range
// ($1 ≤ term < $2) of the fields in $3, at most $4 of them, in term order:
// one ordered range scan of principal_terms_field_term_idx per field,
// each stopping at the LIMIT, merged (TestSearchPrincipalsPlan). A term
// has one field.
const searchQuery = `
	SELECT user_id, group_id FROM (
		SELECT term, user_id, group_id FROM (
			SELECT term, user_id, group_id FROM principal_terms
			WHERE field = 1 AND $3 & 1 <> 0 AND term >= $1 AND term < $2
			ORDER BY term LIMIT $4) AS by_name
		UNION ALL
		SELECT term, user_id, group_id FROM (
			SELECT term, user_id, group_id FROM principal_terms
			WHERE field = 2 AND $3 & 2 <> 0 AND term >= $1 AND term < $2
			ORDER BY term LIMIT $4) AS by_address
	) AS t
	ORDER BY term
	LIMIT $4`

// SearchPrincipals reads at most limit terms of the prefix range in index
// order, then the users and groups they name, in one read transaction.
func (s *Store) SearchPrincipals(ctx context.Context, prefix string, fields store.SearchField, limit int) ([]store.Principal, bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var (
		found []store.Principal
		more  bool
	)
	err := s.read(ctx, "search principals", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, searchQuery, prefix, store.PrefixEnd(prefix), int(fields), limit+1)
		if err != nil {
			return err
		}
		var userIDs, groupIDs []int64
		seen := map[[2]int64]bool{}
		n := 0
		for rows.Next() {
			var uid, gid sql.NullInt64
			if err := rows.Scan(&uid, &gid); err != nil {
				rows.Close()
				return err
			}
			if n++; n > limit {
				more = true
				break
			}
			k := [2]int64{uid.Int64, gid.Int64}
			if seen[k] {
				continue
			}
			seen[k] = true
			if uid.Valid {
				userIDs = append(userIDs, uid.Int64)
			} else {
				groupIDs = append(groupIDs, gid.Int64)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(userIDs) > 0 {
			ids, _ := json.Marshal(userIDs)
			users, err := queryAll(ctx, tx, `SELECT `+userColumns+` FROM users WHERE id IN (SELECT value FROM json_each($1))`, scanUser, string(ids))
			if err != nil {
				return err
			}
			for _, u := range users {
				found = append(found, store.Principal{User: u})
			}
		}
		if len(groupIDs) > 0 {
			ids, _ := json.Marshal(groupIDs)
			groups, err := queryAll(ctx, tx, `SELECT `+groupColumns+` FROM groups WHERE id IN (SELECT value FROM json_each($1))`, scanGroup, string(ids))
			if err != nil {
				return err
			}
			for i := range groups {
				found = append(found, store.Principal{Group: &groups[i]})
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return found, more, nil
}
