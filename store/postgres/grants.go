package postgres

import (
	"context"
	"crypto/subtle"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store"
)

// Grants (delegation and free-busy) and public links. The access one user
// has to another's calendars is computed in one query (GrantOf) from the
// grant to the user, the grants to their groups and the owner's free-busy
// setting, so resolving a delegated request costs one query.

const grantColumns = `id, owner_id, user_id, group_id, access, created`

func scanGrant(row pgx.Row) (store.Grant, error) {
	var g store.Grant
	var userID, groupID *int64
	err := row.Scan(&g.ID, &g.OwnerID, &userID, &groupID, &g.Access, &g.Created)
	if userID != nil {
		g.UserID = *userID
	}
	if groupID != nil {
		g.GroupID = *groupID
	}
	return g, err
}

// PutGrant creates or changes the owner's grant to one grantee.
func (s *Store) PutGrant(ctx context.Context, g *store.Grant) error {
	if err := store.CheckGrant(g); err != nil {
		return err
	}
	if g.UserID == g.OwnerID {
		return fmt.Errorf("store: put grant of user %d: %w", g.OwnerID, store.ErrConflict)
	}
	col, id := "user_id", g.UserID
	if g.GroupID != 0 {
		col, id = "group_id", g.GroupID
	}
	q := `
		INSERT INTO grants (owner_id, ` + col + `, access) VALUES ($1, $2, $3)
		ON CONFLICT (owner_id, ` + col + `) DO UPDATE SET access = EXCLUDED.access
		RETURNING id, created`
	err := s.pool.QueryRow(ctx, q, g.OwnerID, id, g.Access).Scan(&g.ID, &g.Created)
	if isForeignKeyViolation(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return errorf("store: put grant of user %d: %w", g.OwnerID, err)
	}
	return nil
}

// ListGrants returns the owner's grants.
func (s *Store) ListGrants(ctx context.Context, ownerID int64) ([]store.Grant, error) {
	return s.grants(ctx, `SELECT `+grantColumns+` FROM grants WHERE owner_id = $1
		ORDER BY user_id IS NULL, coalesce(user_id, group_id)`, ownerID)
}

// ListGrantsTo returns the grants made to the user or their groups.
func (s *Store) ListGrantsTo(ctx context.Context, userID int64) ([]store.Grant, error) {
	return s.grants(ctx, `SELECT `+grantColumns+` FROM grants
		WHERE user_id = $1 OR group_id IN (SELECT group_id FROM group_members WHERE user_id = $1)
		ORDER BY id`, userID)
}

func (s *Store) grants(ctx context.Context, q string, id int64) ([]store.Grant, error) {
	rows, _ := s.pool.Query(ctx, q, id)
	gs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Grant, error) { return scanGrant(row) })
	if err != nil {
		return nil, errorf("store: list grants: %w", err)
	}
	return gs, nil
}

// DeleteGrant removes one of the owner's grants.
func (s *Store) DeleteGrant(ctx context.Context, ownerID, id int64) error {
	return s.execRows(ctx, "delete grant", `DELETE FROM grants WHERE id = $1 AND owner_id = $2`, id, ownerID)
}

// grantOfSQL ranks what $1 grants $2: 3 read-write, 2 read, 1 free-busy.
const grantOfSQL = `
	SELECT coalesce(max(CASE access WHEN 'read-write' THEN 3 WHEN 'read' THEN 2 ELSE 1 END), 0)
	FROM (
		SELECT access FROM grants
		WHERE owner_id = $1 AND (user_id = $2 OR group_id IN (SELECT group_id FROM group_members WHERE user_id = $2))
		UNION ALL
		SELECT 'free-busy' FROM users WHERE id = $1 AND free_busy_everyone AND id <> $2
	) g`

// GrantOf returns the strongest access owner grants user.
func (s *Store) GrantOf(ctx context.Context, ownerID, userID int64) (store.GrantAccess, error) {
	var rank int
	if err := s.pool.QueryRow(ctx, grantOfSQL, ownerID, userID).Scan(&rank); err != nil {
		return "", errorf("store: grant of user %d to %d: %w", ownerID, userID, err)
	}
	return rankAccess(rank), nil
}

func rankAccess(rank int) store.GrantAccess {
	switch rank {
	case 3:
		return store.GrantReadWrite
	case 2:
		return store.GrantRead
	case 1:
		return store.GrantFreeBusy
	}
	return ""
}

// SetFreeBusyEveryone sets whether every user sees the user's busy time.
func (s *Store) SetFreeBusyEveryone(ctx context.Context, userID int64, everyone bool) error {
	return s.execRows(ctx, "set free-busy setting", `UPDATE users SET free_busy_everyone = $2 WHERE id = $1`, userID, everyone)
}

// FreeBusyEveryone reports the user's free-busy setting.
func (s *Store) FreeBusyEveryone(ctx context.Context, userID int64) (bool, error) {
	var v bool
	if err := s.pool.QueryRow(ctx, `SELECT free_busy_everyone FROM users WHERE id = $1`, userID).Scan(&v); err != nil {
		return false, errorf("store: free-busy setting of user %d: %w", userID, notFound(err))
	}
	return v, nil
}

// CreatePublicLink inserts a public link of a collection.
func (s *Store) CreatePublicLink(ctx context.Context, l *store.PublicLink) error {
	err := s.pool.QueryRow(ctx, `INSERT INTO public_links (collection_id, token, token_hash) VALUES ($1, $2, $3)
		RETURNING id, created`, l.CollectionID, l.Token, store.TokenHash(l.Token)).Scan(&l.ID, &l.Created)
	switch {
	case isForeignKeyViolation(err):
		err = store.ErrNotFound
	case isUniqueViolation(err, ""):
		err = store.ErrConflict
	}
	if err != nil {
		return errorf("store: create public link of collection %d: %w", l.CollectionID, err)
	}
	return nil
}

// ListPublicLinks returns the collection's public links.
func (s *Store) ListPublicLinks(ctx context.Context, collectionID int64) ([]store.PublicLink, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, collection_id, token, created FROM public_links WHERE collection_id = $1 ORDER BY id`, collectionID)
	ls, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.PublicLink, error) {
		var l store.PublicLink
		err := row.Scan(&l.ID, &l.CollectionID, &l.Token, &l.Created)
		return l, err
	})
	if err != nil {
		return nil, errorf("store: list public links: %w", err)
	}
	return ls, nil
}

// DeletePublicLink revokes a public link of the collection.
func (s *Store) DeletePublicLink(ctx context.Context, collectionID, id int64) error {
	return s.execRows(ctx, "delete public link", `DELETE FROM public_links WHERE id = $1 AND collection_id = $2`, id, collectionID)
}

// GetPublicLink finds a link by its token's digest.
func (s *Store) GetPublicLink(ctx context.Context, token string) (*store.PublicLink, *store.Collection, error) {
	var l store.PublicLink
	q := `WITH l AS (SELECT id AS link_id, collection_id AS link_collection, token, created AS link_created
			FROM public_links WHERE token_hash = $1)
		SELECT ` + collectionColumns + `, link_id, link_collection, token, link_created
		FROM l JOIN collections ON collections.id = l.link_collection`
	c, err := scanCollection(scanMore{s.pool.QueryRow(ctx, q, store.TokenHash(token)), []any{&l.ID, &l.CollectionID, &l.Token, &l.Created}})
	if err == nil && subtle.ConstantTimeCompare([]byte(l.Token), []byte(token)) != 1 {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return nil, nil, errorf("store: get public link: %w", notFound(err))
	}
	return &l, &c, nil
}
