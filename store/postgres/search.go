package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store"
)

// Principal lookups: by email address through users_email_lower_idx, and
// the search by terms of store/search.go through principal_terms.

// termColumns splits terms into the arrays writeTerms unnests.
func termColumns(terms []store.Term) ([]string, []int16) {
	ts := make([]string, len(terms))
	fs := make([]int16, len(terms))
	for i, t := range terms {
		ts[i], fs[i] = t.Term, int16(t.Field)
	}
	return ts, fs
}

// writeTerms replaces the search terms of the principal whose id is in
// column col (user_id or group_id).
func writeTerms(ctx context.Context, tx pgx.Tx, col string, id int64, terms []store.Term) error {
	if _, err := tx.Exec(ctx, `DELETE FROM principal_terms WHERE `+col+` = $1`, id); err != nil {
		return err
	}
	ts, fs := termColumns(terms)
	_, err := tx.Exec(ctx, `
		INSERT INTO principal_terms (term, field, `+col+`)
		SELECT t, f, $3 FROM unnest($1::text[], $2::smallint[]) AS x(t, f)`, ts, fs, id)
	return err
}

// writeUserTerms replaces the search terms of u.
func writeUserTerms(ctx context.Context, tx pgx.Tx, u *store.User) error {
	return writeTerms(ctx, tx, "user_id", u.ID, store.UserTerms(u))
}

// writeGroupTerms replaces the search terms of g.
func writeGroupTerms(ctx context.Context, tx pgx.Tx, g *store.Group) error {
	return writeTerms(ctx, tx, "group_id", g.ID, store.GroupTerms(g))
}

// rebuildSearchTerms writes the search terms of every user and group
// anew, in one statement each: after the migration that makes the table,
// and after Load (a restore of many users).
func rebuildSearchTerms(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `DELETE FROM principal_terms`); err != nil {
		return err
	}
	var (
		terms  []string
		fields []int16
		ids    []int64
	)
	add := func(id int64, ts []store.Term) {
		for _, t := range ts {
			terms, fields, ids = append(terms, t.Term), append(fields, int16(t.Field)), append(ids, id)
		}
	}
	rows, _ := tx.Query(ctx, `SELECT id, username, display_name, email FROM users`)
	var u store.User
	if _, err := pgx.ForEachRow(rows, []any{&u.ID, &u.Username, &u.DisplayName, &u.Email}, func() error {
		add(u.ID, store.UserTerms(&u))
		return nil
	}); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO principal_terms (term, field, user_id)
		SELECT * FROM unnest($1::text[], $2::smallint[], $3::bigint[])`, terms, fields, ids); err != nil {
		return err
	}
	terms, fields, ids = nil, nil, nil
	rows, _ = tx.Query(ctx, `SELECT `+groupColumns+` FROM groups`)
	var g store.Group
	if _, err := pgx.ForEachRow(rows, []any{&g.ID, &g.Name, &g.DisplayName, &g.Created}, func() error {
		add(g.ID, store.GroupTerms(&g))
		return nil
	}); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO principal_terms (term, field, group_id)
		SELECT * FROM unnest($1::text[], $2::smallint[], $3::bigint[])`, terms, fields, ids); err != nil {
		return err
	}
	// The table was just written in bulk: without fresh statistics the
	// planner guesses a prefix range holds a tenth of the rows it does,
	// and reads a word most principals have ("example") with a bitmap
	// scan of every match and a sort, not the index scan that stops at
	// the LIMIT (25 ms instead of under one at 10,000 users).
	_, err := tx.Exec(ctx, `ANALYZE principal_terms`)
	return err
}

// searchTermsVersion is the migration that makes principal_terms
// (000019_create_principal_terms).
const searchTermsVersion = 24

// backfillSearchTerms writes the terms of the principals that existed
// before migration searchTermsVersion, in one transaction.
func backfillSearchTerms(ctx context.Context, cc *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("store: postgres: search terms: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return rebuildSearchTerms(ctx, tx) }); err != nil {
		return fmt.Errorf("store: postgres: search terms: %w", err)
	}
	return nil
}

// GetUserByEmail returns the first user, by name, with that email address
// in any ASCII case.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*store.User, error) {
	if email == "" {
		return nil, errorf("store: get user by email: %w", store.ErrNotFound)
	}
	const q = `
		SELECT ` + userColumns + `
		FROM users
		WHERE lower(email) = lower($1)
		ORDER BY username
		LIMIT 1`
	u, err := scanUser(s.pool.QueryRow(ctx, q, email))
	if err != nil {
		return nil, errorf("store: get user by email %q: %w", email, notFound(err))
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
			WHERE field = 1 AND $3::smallint & 1 <> 0 AND term >= $1 AND term < $2
			ORDER BY term LIMIT $4) AS by_name
		UNION ALL
		SELECT term, user_id, group_id FROM (
			SELECT term, user_id, group_id FROM principal_terms
			WHERE field = 2 AND $3::smallint & 2 <> 0 AND term >= $1 AND term < $2
			ORDER BY term LIMIT $4) AS by_address
	) AS t
	ORDER BY term
	LIMIT $4`

// SearchPrincipals reads at most limit terms of the prefix range in index
// order, then the users and groups they name, in one snapshot.
func (s *Store) SearchPrincipals(ctx context.Context, prefix string, fields store.SearchField, limit int) ([]store.Principal, bool, error) {
	var (
		found []store.Principal
		more  bool
	)
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, searchQuery, prefix, store.PrefixEnd(prefix), int16(fields), limit+1)
		var userIDs, groupIDs []int64
		seen := map[[2]int64]bool{}
		n := 0
		var uid, gid *int64
		_, err := pgx.ForEachRow(rows, []any{&uid, &gid}, func() error {
			if n++; n > limit {
				more = true
				return nil
			}
			var k [2]int64
			if uid != nil {
				k[0] = *uid
			} else {
				k[1] = *gid
			}
			if seen[k] {
				return nil
			}
			seen[k] = true
			if uid != nil {
				userIDs = append(userIDs, *uid)
			} else {
				groupIDs = append(groupIDs, *gid)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(userIDs) > 0 {
			rows, _ := tx.Query(ctx, `SELECT `+userColumns+` FROM users WHERE id = ANY($1)`, userIDs)
			users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.User, error) { return scanUser(row) })
			if err != nil {
				return err
			}
			for _, u := range users {
				found = append(found, store.Principal{User: u})
			}
		}
		if len(groupIDs) > 0 {
			rows, _ := tx.Query(ctx, `SELECT `+groupColumns+` FROM groups WHERE id = ANY($1)`, groupIDs)
			groups, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Group, error) { return scanGroup(row) })
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
		return nil, false, errorf("store: search principals %q: %w", prefix, err)
	}
	return found, more, nil
}
