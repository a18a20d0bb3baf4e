package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store"
)

// Groups and shares. The access a user has to another's collection is
// computed in one query from their accepted user shares and the shares of
// the groups they are in (sharedSQL), so a home listing costs one query
// whatever the number of shares.

const groupColumns = `id, name, display_name, created`

func scanGroup(row pgx.Row) (store.Group, error) {
	var g store.Group
	err := row.Scan(&g.ID, &g.Name, &g.DisplayName, &g.Created)
	return g, err
}

// CreateGroup inserts g with its name made canonical, setting ID and Created.
func (s *Store) CreateGroup(ctx context.Context, g *store.Group) error {
	g.Name = store.CanonicalUsername(g.Name)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		const q = `INSERT INTO groups (name, display_name) VALUES ($1, $2) RETURNING id, created`
		if err := tx.QueryRow(ctx, q, g.Name, g.DisplayName).Scan(&g.ID, &g.Created); err != nil {
			return err
		}
		return writeGroupTerms(ctx, tx, g)
	})
	if isUniqueViolation(err, "groups_name_key") {
		err = store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: create group %q: %w", g.Name, err)
	}
	return nil
}

// GetGroup returns the group named name (in any case).
func (s *Store) GetGroup(ctx context.Context, name string) (*store.Group, error) {
	g, err := scanGroup(s.pool.QueryRow(ctx, `SELECT `+groupColumns+` FROM groups WHERE name = $1`, store.CanonicalUsername(name)))
	if err != nil {
		return nil, fmt.Errorf("store: get group %q: %w", name, notFound(err))
	}
	return &g, nil
}

// ListGroups returns every group by name.
func (s *Store) ListGroups(ctx context.Context) ([]store.Group, error) {
	return s.groups(ctx, `SELECT `+groupColumns+` FROM groups ORDER BY name`)
}

// ListUserGroups returns the user's groups by name.
func (s *Store) ListUserGroups(ctx context.Context, userID int64) ([]store.Group, error) {
	return s.groups(ctx, `
		SELECT g.id, g.name, g.display_name, g.created
		FROM groups g JOIN group_members m ON m.group_id = g.id
		WHERE m.user_id = $1 ORDER BY g.name`, userID)
}

func (s *Store) groups(ctx context.Context, q string, args ...any) ([]store.Group, error) {
	rows, _ := s.pool.Query(ctx, q, args...)
	gs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Group, error) { return scanGroup(row) })
	if err != nil {
		return nil, fmt.Errorf("store: list groups: %w", err)
	}
	return gs, nil
}

// DeleteGroup removes the group; its memberships and shares go with it.
func (s *Store) DeleteGroup(ctx context.Context, id int64) error {
	return s.execRows(ctx, "delete group", `DELETE FROM groups WHERE id = $1`, id)
}

// AddGroupMember makes the user a member of the group (again: no error).
func (s *Store) AddGroupMember(ctx context.Context, groupID, userID int64) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)
		ON CONFLICT DO NOTHING`, groupID, userID)
	if isForeignKeyViolation(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: add member %d to group %d: %w", userID, groupID, err)
	}
	return nil
}

// RemoveGroupMember ends the user's membership.
func (s *Store) RemoveGroupMember(ctx context.Context, groupID, userID int64) error {
	return s.execRows(ctx, "remove group member", `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, groupID, userID)
}

// ListGroupMembers returns the group's members by user name.
func (s *Store) ListGroupMembers(ctx context.Context, groupID int64) ([]store.User, error) {
	const q = `
		SELECT u.id, u.username, u.display_name, u.email, u.password_hash, u.created, u.unlocked_at
		FROM users u JOIN group_members m ON m.user_id = u.id
		WHERE m.group_id = $1 ORDER BY u.username`
	rows, _ := s.pool.Query(ctx, q, groupID)
	us, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.User, error) {
		u, err := scanUser(row)
		if err != nil {
			return store.User{}, err
		}
		return *u, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list members of group %d: %w", groupID, err)
	}
	return us, nil
}

// execRows runs a statement that must change exactly one row; none is
// store.ErrNotFound.
func (s *Store) execRows(ctx context.Context, op, q string, args ...any) error {
	tag, err := s.pool.Exec(ctx, q, args...)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return nil
}

const shareColumns = `id, collection_id, user_id, group_id, access, status, created`

func scanShare(row pgx.Row) (store.Share, error) {
	var sh store.Share
	var userID, groupID *int64
	err := row.Scan(&sh.ID, &sh.CollectionID, &userID, &groupID, &sh.Access, &sh.Status, &sh.Created)
	if userID != nil {
		sh.UserID = *userID
	}
	if groupID != nil {
		sh.GroupID = *groupID
	}
	return sh, err
}

// PutShare creates or updates the share of a collection with one sharee.
func (s *Store) PutShare(ctx context.Context, sh *store.Share) error {
	if err := store.CheckShare(sh); err != nil {
		return err
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var owner int64
		if err := tx.QueryRow(ctx, `SELECT owner_id FROM collections WHERE id = $1`, sh.CollectionID).Scan(&owner); err != nil {
			return notFound(err)
		}
		if sh.UserID == owner {
			return store.ErrConflict
		}
		col, id := "user_id", sh.UserID
		if sh.GroupID != 0 {
			col, id = "group_id", sh.GroupID
		}
		q := `
			INSERT INTO shares (collection_id, ` + col + `, access, status) VALUES ($1, $2, $3, $4)
			ON CONFLICT (collection_id, ` + col + `) DO UPDATE SET access = EXCLUDED.access, status = EXCLUDED.status
			RETURNING id, created`
		err := tx.QueryRow(ctx, q, sh.CollectionID, id, sh.Access, sh.Status).Scan(&sh.ID, &sh.Created)
		if isForeignKeyViolation(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		// The share list (CS:invite) is a property of the collection.
		return queuePropertyPush(ctx, tx, sh.CollectionID)
	})
	if err != nil {
		return fmt.Errorf("store: put share of collection %d: %w", sh.CollectionID, err)
	}
	return nil
}

// ListShares returns the collection's shares.
func (s *Store) ListShares(ctx context.Context, collectionID int64) ([]store.Share, error) {
	return s.shares(ctx, `SELECT `+shareColumns+` FROM shares WHERE collection_id = $1
		ORDER BY user_id IS NULL, coalesce(user_id, group_id)`, collectionID)
}

// ListOwnerShares returns the shares of the owner's collections.
func (s *Store) ListOwnerShares(ctx context.Context, ownerID int64) ([]store.Share, error) {
	return s.shares(ctx, `SELECT s.id, s.collection_id, s.user_id, s.group_id, s.access, s.status, s.created
		FROM shares s JOIN collections c ON c.id = s.collection_id
		WHERE c.owner_id = $1
		ORDER BY s.collection_id, s.user_id IS NULL, coalesce(s.user_id, s.group_id)`, ownerID)
}

// ListInvitations returns the shares made with the user directly, with
// their collections and owners.
func (s *Store) ListInvitations(ctx context.Context, userID int64) ([]store.Invitation, error) {
	const q = `
		SELECT s.id, s.collection_id, s.user_id, s.group_id, s.access, s.status, s.created,
		       c.id, c.owner_id, c.kind, c.name, c.display_name, c.description, c.color, c.color_symbolic,
		       c.sort_order, c.timezone, c.components, c.modseq, c.pruned_modseq, c.created, c.updated,
		       u.username, u.display_name
		FROM shares s
		JOIN collections c ON c.id = s.collection_id
		JOIN users u ON u.id = c.owner_id
		WHERE s.user_id = $1
		ORDER BY s.id`
	rows, _ := s.pool.Query(ctx, q, userID)
	invs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Invitation, error) {
		var inv store.Invitation
		var userID, groupID *int64
		sh, c := &inv.Share, &inv.Collection
		err := row.Scan(&sh.ID, &sh.CollectionID, &userID, &groupID, &sh.Access, &sh.Status, &sh.Created,
			&c.ID, &c.OwnerID, &c.Kind, &c.Name, &c.DisplayName, &c.Description, &c.Color,
			&c.ColorSymbolic, &c.Order, &c.Timezone, &c.Components, &c.ModSeq, &c.PrunedModSeq,
			&c.Created, &c.Updated, &inv.Owner, &inv.OwnerDisplayName)
		if userID != nil {
			sh.UserID = *userID
		}
		c.Shared = true
		return inv, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list invitations: %w", err)
	}
	return invs, nil
}

func (s *Store) shares(ctx context.Context, q string, id int64) ([]store.Share, error) {
	rows, _ := s.pool.Query(ctx, q, id)
	shs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Share, error) { return scanShare(row) })
	if err != nil {
		return nil, fmt.Errorf("store: list shares: %w", err)
	}
	return shs, nil
}

// SetShareStatus records the sharee's answer to a user share.
func (s *Store) SetShareStatus(ctx context.Context, shareID int64, status store.ShareStatus) error {
	if !status.Valid() {
		return fmt.Errorf("store: set share status: invalid status %q", status)
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var collectionID int64
		err := tx.QueryRow(ctx, `UPDATE shares SET status = $2 WHERE id = $1 AND user_id IS NOT NULL RETURNING collection_id`,
			shareID, status).Scan(&collectionID)
		if err != nil {
			return notFound(err)
		}
		return queuePropertyPush(ctx, tx, collectionID)
	})
	if err != nil {
		return fmt.Errorf("store: set share status: %w", err)
	}
	return nil
}

// DeleteShare revokes a share of the collection.
func (s *Store) DeleteShare(ctx context.Context, collectionID, shareID int64) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM shares WHERE id = $1 AND collection_id = $2`, shareID, collectionID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		return queuePropertyPush(ctx, tx, collectionID)
	})
	if err != nil {
		return fmt.Errorf("store: delete share: %w", err)
	}
	return nil
}

// sharedSQL selects the collections shared with user $1: the strongest
// access of the accepted user shares and group shares of each, the owner's
// name and the sharee's own view. $2 narrows by kind, $3 (when not NULL) to
// one collection.
const sharedSQL = `
	WITH granted AS (
		SELECT collection_id, max(CASE WHEN access = 'read-write' THEN 2 ELSE 1 END) AS level
		FROM shares
		WHERE (user_id = $1 AND status = 'accepted')
		   OR group_id IN (SELECT group_id FROM group_members WHERE user_id = $1)
		GROUP BY collection_id
	)
	SELECT c.id, c.owner_id, c.kind, c.name, c.display_name, c.description, c.color, c.color_symbolic,
	       c.sort_order, c.timezone, c.components, c.modseq, c.pruned_modseq, c.created, c.updated,
	       u.username, g.level, coalesce(v.display_name, ''), coalesce(v.color, '')
	FROM granted g
	JOIN collections c ON c.id = g.collection_id
	JOIN users u ON u.id = c.owner_id
	LEFT JOIN share_views v ON v.user_id = $1 AND v.collection_id = c.id
	WHERE c.owner_id <> $1 AND ($2::text IS NULL OR c.kind = $2) AND ($3::bigint IS NULL OR c.id = $3)
	ORDER BY c.id`

func scanShared(row pgx.Row) (store.SharedCollection, error) {
	var sc store.SharedCollection
	c := &sc.Collection
	var level int
	err := row.Scan(&c.ID, &c.OwnerID, &c.Kind, &c.Name, &c.DisplayName, &c.Description, &c.Color,
		&c.ColorSymbolic, &c.Order, &c.Timezone, &c.Components, &c.ModSeq, &c.PrunedModSeq,
		&c.Created, &c.Updated, &sc.Owner, &level, &sc.DisplayName, &sc.Color)
	c.Shared = true
	sc.Access = store.AccessRead
	if level == 2 {
		sc.Access = store.AccessReadWrite
	}
	return sc, err
}

// ListSharedCollections returns the collections of kind shared with the user.
func (s *Store) ListSharedCollections(ctx context.Context, userID int64, kind store.Kind) ([]store.SharedCollection, error) {
	rows, _ := s.pool.Query(ctx, sharedSQL, userID, kind, nil)
	scs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.SharedCollection, error) { return scanShared(row) })
	if err != nil {
		return nil, fmt.Errorf("store: list shared collections: %w", err)
	}
	return scs, nil
}

// GetSharedCollection returns one collection shared with the user.
func (s *Store) GetSharedCollection(ctx context.Context, userID, collectionID int64) (*store.SharedCollection, error) {
	sc, err := scanShared(s.pool.QueryRow(ctx, sharedSQL, userID, nil, collectionID))
	if err != nil {
		return nil, fmt.Errorf("store: get shared collection %d: %w", collectionID, notFound(err))
	}
	return &sc, nil
}

// SetShareView changes the sharee's own name and colour of a shared
// collection.
func (s *Store) SetShareView(ctx context.Context, userID, collectionID int64, v store.ShareView) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM (`+sharedSQL+`) x`, userID, nil, collectionID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO share_views (user_id, collection_id, display_name, color)
			VALUES ($1, $2, coalesce($3, ''), coalesce($4, ''))
			ON CONFLICT (user_id, collection_id) DO UPDATE SET
				display_name = coalesce($3, share_views.display_name),
				color = coalesce($4, share_views.color)`, userID, collectionID, v.DisplayName, v.Color)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set share view of collection %d: %w", collectionID, err)
	}
	return nil
}
