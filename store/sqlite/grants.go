package sqlite

import (
	"context"
	"crypto/subtle"
	"database/sql"

	"github.com/davenport-dav/davenport/store"
)

// Grants (delegation and free-busy) and public links. The access one user
// has to another's calendars is computed in one query (GrantOf) from the
// grant to the user, the grants to their groups and the owner's free-busy
// setting, so resolving a delegated request costs one query.

const grantColumns = `id, owner_id, user_id, group_id, access, created`

func scanGrant(row interface{ Scan(...any) error }) (store.Grant, error) {
	var g store.Grant
	var userID, groupID sql.NullInt64
	var access string
	var created int64
	err := row.Scan(&g.ID, &g.OwnerID, &userID, &groupID, &access, &created)
	g.UserID, g.GroupID = userID.Int64, groupID.Int64
	g.Access, g.Created = store.GrantAccess(access), fromMicros(created)
	return g, err
}

// PutGrant creates or changes the owner's grant to one grantee.
func (s *Store) PutGrant(ctx context.Context, g *store.Grant) error {
	if err := store.CheckGrant(g); err != nil {
		return err
	}
	t := now()
	return s.write(ctx, "put grant", func(tx *sql.Tx) error {
		if g.UserID == g.OwnerID {
			return store.ErrConflict
		}
		col, id := "user_id", g.UserID
		if g.GroupID != 0 {
			col, id = "group_id", g.GroupID
		}
		var created int64
		err := tx.QueryRowContext(ctx, `
			INSERT INTO grants (owner_id, `+col+`, access, created) VALUES ($1, $2, $3, $4)
			ON CONFLICT (owner_id, `+col+`) DO UPDATE SET access = excluded.access
			RETURNING id, created`, g.OwnerID, id, string(g.Access), toMicros(t)).Scan(&g.ID, &created)
		g.Created = fromMicros(created)
		return err
	})
}

// ListGrants returns the owner's grants.
func (s *Store) ListGrants(ctx context.Context, ownerID int64) ([]store.Grant, error) {
	return collect(ctx, s.r, "list grants", `SELECT `+grantColumns+` FROM grants WHERE owner_id = $1
		ORDER BY user_id IS NULL, coalesce(user_id, group_id)`, scanGrant, ownerID)
}

// ListGrantsTo returns the grants made to the user or their groups.
func (s *Store) ListGrantsTo(ctx context.Context, userID int64) ([]store.Grant, error) {
	return collect(ctx, s.r, "list grants", `SELECT `+grantColumns+` FROM grants
		WHERE user_id = $1 OR group_id IN (SELECT group_id FROM group_members WHERE user_id = $1)
		ORDER BY id`, scanGrant, userID)
}

// DeleteGrant removes one of the owner's grants.
func (s *Store) DeleteGrant(ctx context.Context, ownerID, id int64) error {
	return s.execOne(ctx, "delete grant", `DELETE FROM grants WHERE id = $1 AND owner_id = $2`, id, ownerID)
}

// GrantOf returns the strongest access owner grants user.
func (s *Store) GrantOf(ctx context.Context, ownerID, userID int64) (store.GrantAccess, error) {
	var rank int
	err := s.r.QueryRowContext(ctx, `
		SELECT coalesce(max(CASE access WHEN 'read-write' THEN 3 WHEN 'read' THEN 2 ELSE 1 END), 0)
		FROM (
			SELECT access FROM grants
			WHERE owner_id = $1 AND (user_id = $2 OR group_id IN (SELECT group_id FROM group_members WHERE user_id = $2))
			UNION ALL
			SELECT 'free-busy' FROM users WHERE id = $1 AND free_busy_everyone AND id <> $2
		)`, ownerID, userID).Scan(&rank)
	if err != nil {
		return "", wrap("grant of user", err)
	}
	switch rank {
	case 3:
		return store.GrantReadWrite, nil
	case 2:
		return store.GrantRead, nil
	case 1:
		return store.GrantFreeBusy, nil
	}
	return "", nil
}

// SetFreeBusyEveryone sets whether every user sees the user's busy time.
func (s *Store) SetFreeBusyEveryone(ctx context.Context, userID int64, everyone bool) error {
	return s.execOne(ctx, "set free-busy setting", `UPDATE users SET free_busy_everyone = $2 WHERE id = $1`, userID, everyone)
}

// FreeBusyEveryone reports the user's free-busy setting.
func (s *Store) FreeBusyEveryone(ctx context.Context, userID int64) (bool, error) {
	var v bool
	if err := s.r.QueryRowContext(ctx, `SELECT free_busy_everyone FROM users WHERE id = $1`, userID).Scan(&v); err != nil {
		return false, wrap("free-busy setting", err)
	}
	return v, nil
}

// CreatePublicLink inserts a public link of a collection.
func (s *Store) CreatePublicLink(ctx context.Context, l *store.PublicLink) error {
	t := now()
	return s.write(ctx, "create public link", func(tx *sql.Tx) error {
		l.Created = t
		return tx.QueryRowContext(ctx, `INSERT INTO public_links (collection_id, token, token_hash, created) VALUES ($1, $2, $3, $4)
			RETURNING id`, l.CollectionID, l.Token, store.TokenHash(l.Token), toMicros(t)).Scan(&l.ID)
	})
}

func scanLink(row interface{ Scan(...any) error }) (store.PublicLink, error) {
	var l store.PublicLink
	var created int64
	err := row.Scan(&l.ID, &l.CollectionID, &l.Token, &created)
	l.Created = fromMicros(created)
	return l, err
}

// ListPublicLinks returns the collection's public links.
func (s *Store) ListPublicLinks(ctx context.Context, collectionID int64) ([]store.PublicLink, error) {
	return collect(ctx, s.r, "list public links", `SELECT id, collection_id, token, created FROM public_links
		WHERE collection_id = $1 ORDER BY id`, scanLink, collectionID)
}

// DeletePublicLink revokes a public link of the collection.
func (s *Store) DeletePublicLink(ctx context.Context, collectionID, id int64) error {
	return s.execOne(ctx, "delete public link", `DELETE FROM public_links WHERE id = $1 AND collection_id = $2`, id, collectionID)
}

// GetPublicLink finds a link by its token's digest.
func (s *Store) GetPublicLink(ctx context.Context, token string) (*store.PublicLink, *store.Collection, error) {
	l, err := scanLink(s.r.QueryRowContext(ctx, `SELECT id, collection_id, token, created FROM public_links WHERE token_hash = $1`,
		store.TokenHash(token)))
	if err == nil && subtle.ConstantTimeCompare([]byte(l.Token), []byte(token)) != 1 {
		err = sql.ErrNoRows
	}
	if err != nil {
		return nil, nil, wrap("get public link", err)
	}
	c, err := scanCollection(s.r.QueryRowContext(ctx, `SELECT `+collectionColumns+` FROM collections WHERE id = $1`, l.CollectionID))
	if err != nil {
		return nil, nil, wrap("get public link", err)
	}
	return &l, c, nil
}
