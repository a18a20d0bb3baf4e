package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/davenport-dav/davenport/store"
)

// Groups and shares. The access a user has to another's collection is
// computed in one query from their accepted user shares and the shares of
// the groups they are in (sharedSQL), so a home listing costs one query
// whatever the number of shares.

const groupColumns = `id, name, display_name, created`

func scanGroup(row interface{ Scan(...any) error }) (store.Group, error) {
	var g store.Group
	var created int64
	err := row.Scan(&g.ID, &g.Name, &g.DisplayName, &created)
	g.Created = fromMicros(created)
	return g, err
}

// CreateGroup inserts g with its name made canonical, setting ID and Created.
func (s *Store) CreateGroup(ctx context.Context, g *store.Group) error {
	g.Name = store.CanonicalUsername(g.Name)
	t := now()
	return s.write(ctx, "create group", func(tx *sql.Tx) error {
		g.Created = t
		if err := tx.QueryRowContext(ctx, `INSERT INTO groups (name, display_name, created) VALUES ($1, $2, $3) RETURNING id`,
			g.Name, g.DisplayName, toMicros(t)).Scan(&g.ID); err != nil {
			return err
		}
		return writeGroupTerms(ctx, tx, g)
	})
}

// GetGroup returns the group named name (in any case).
func (s *Store) GetGroup(ctx context.Context, name string) (*store.Group, error) {
	g, err := scanGroup(s.r.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM groups WHERE name = $1`, store.CanonicalUsername(name)))
	if err != nil {
		return nil, wrap("get group", err)
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
	return collect(ctx, s.r, "list groups", q, scanGroup, args...)
}

// collect runs a query on db and scans every row with scan.
func collect[T any](ctx context.Context, db *sql.DB, op, q string, scan func(interface{ Scan(...any) error }) (T, error), args ...any) ([]T, error) {
	out, err := queryAll(ctx, db, q, scan, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// queryAll runs a query on db (a *sql.DB or a *sql.Tx) and scans every row
// with scan.
func queryAll[T any](ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, q string, scan func(interface{ Scan(...any) error }) (T, error), args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// DeleteGroup removes the group; its memberships and shares go with it.
func (s *Store) DeleteGroup(ctx context.Context, id int64) error {
	return s.execOne(ctx, "delete group", `DELETE FROM groups WHERE id = $1`, id)
}

// AddGroupMember makes the user a member of the group (again: no error).
func (s *Store) AddGroupMember(ctx context.Context, groupID, userID int64) error {
	return s.write(ctx, "add group member", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, groupID, userID)
		return err
	})
}

// RemoveGroupMember ends the user's membership.
func (s *Store) RemoveGroupMember(ctx context.Context, groupID, userID int64) error {
	return s.execOne(ctx, "remove group member", `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, groupID, userID)
}

// ListGroupMembers returns the group's members by user name.
func (s *Store) ListGroupMembers(ctx context.Context, groupID int64) ([]store.User, error) {
	return collect(ctx, s.r, "list group members", `
		SELECT u.id, u.username, u.display_name, u.email, u.password_hash, u.created, u.unlocked_at
		FROM users u JOIN group_members m ON m.user_id = u.id
		WHERE m.group_id = $1 ORDER BY u.username`,
		func(row interface{ Scan(...any) error }) (store.User, error) {
			u, err := scanUser(row)
			if err != nil {
				return store.User{}, err
			}
			return *u, nil
		}, groupID)
}

// execOne runs a write that must change exactly one row; none is
// store.ErrNotFound.
func (s *Store) execOne(ctx context.Context, op, q string, args ...any) error {
	return s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		return oneRow(res, err)
	})
}

const shareColumns = `id, collection_id, user_id, group_id, access, status, created`

// shareScanner holds the shareColumns of a row while it is scanned.
type shareScanner struct {
	sh              store.Share
	userID, groupID sql.NullInt64
	access, status  string
	created         int64
}

func (r *shareScanner) dest() []any {
	return []any{&r.sh.ID, &r.sh.CollectionID, &r.userID, &r.groupID, &r.access, &r.status, &r.created}
}

func (r *shareScanner) share() store.Share {
	sh := r.sh
	sh.UserID, sh.GroupID = r.userID.Int64, r.groupID.Int64
	sh.Access, sh.Status = store.Access(r.access), store.ShareStatus(r.status)
	sh.Created = fromMicros(r.created)
	return sh
}

func scanShare(row interface{ Scan(...any) error }) (store.Share, error) {
	var r shareScanner
	err := row.Scan(r.dest()...)
	return r.share(), err
}

// PutShare creates or updates the share of a collection with one sharee.
func (s *Store) PutShare(ctx context.Context, sh *store.Share) error {
	if err := store.CheckShare(sh); err != nil {
		return err
	}
	t := now()
	return s.write(ctx, "put share", func(tx *sql.Tx) error {
		var owner int64
		if err := tx.QueryRowContext(ctx, `SELECT owner_id FROM collections WHERE id = $1`, sh.CollectionID).Scan(&owner); err != nil {
			return err
		}
		if sh.UserID == owner {
			return store.ErrConflict
		}
		col, id := "user_id", sh.UserID
		if sh.GroupID != 0 {
			col, id = "group_id", sh.GroupID
		}
		var created int64
		err := tx.QueryRowContext(ctx, `
			INSERT INTO shares (collection_id, `+col+`, access, status, created) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (collection_id, `+col+`) DO UPDATE SET access = excluded.access, status = excluded.status
			RETURNING id, created`, sh.CollectionID, id, string(sh.Access), string(sh.Status), toMicros(t)).Scan(&sh.ID, &created)
		sh.Created = fromMicros(created)
		if err != nil {
			return err
		}
		// The share list (CS:invite) is a property of the collection.
		return s.queuePush(ctx, tx, sh.CollectionID, true)
	})
}

// ListShares returns the collection's shares.
func (s *Store) ListShares(ctx context.Context, collectionID int64) ([]store.Share, error) {
	return collect(ctx, s.r, "list shares", `SELECT `+shareColumns+` FROM shares WHERE collection_id = $1
		ORDER BY user_id IS NULL, coalesce(user_id, group_id)`, scanShare, collectionID)
}

// ListOwnerShares returns the shares of the owner's collections.
func (s *Store) ListOwnerShares(ctx context.Context, ownerID int64) ([]store.Share, error) {
	return collect(ctx, s.r, "list owner shares", `SELECT s.id, s.collection_id, s.user_id, s.group_id, s.access, s.status, s.created
		FROM shares s JOIN collections c ON c.id = s.collection_id
		WHERE c.owner_id = $1
		ORDER BY s.collection_id, s.user_id IS NULL, coalesce(s.user_id, s.group_id)`, scanShare, ownerID)
}

// ListInvitations returns the shares made with the user directly, with
// their collections and owners.
func (s *Store) ListInvitations(ctx context.Context, userID int64) ([]store.Invitation, error) {
	return collect(ctx, s.r, "list invitations", `
		SELECT c.id, c.owner_id, c.kind, c.name, c.display_name, c.description, c.color, c.color_symbolic,
		       c.sort_order, c.timezone, c.components, c.modseq, c.pruned_modseq, c.created, c.updated, 1,
		       s.id, s.collection_id, s.user_id, s.group_id, s.access, s.status, s.created,
		       u.username, u.display_name
		FROM shares s
		JOIN collections c ON c.id = s.collection_id
		JOIN users u ON u.id = c.owner_id
		WHERE s.user_id = $1
		ORDER BY s.id`, func(row interface{ Scan(...any) error }) (store.Invitation, error) {
		var inv store.Invitation
		var shareRow shareScanner
		c, err := scanCollection(withExtra{row, append(shareRow.dest(), &inv.Owner, &inv.OwnerDisplayName)})
		if err != nil {
			return inv, err
		}
		inv.Collection, inv.Share = *c, shareRow.share()
		return inv, nil
	}, userID)
}

// SetShareStatus records the sharee's answer to a user share.
func (s *Store) SetShareStatus(ctx context.Context, shareID int64, status store.ShareStatus) error {
	if !status.Valid() {
		return fmt.Errorf("sqlite: set share status: invalid status %q", status)
	}
	return s.write(ctx, "set share status", func(tx *sql.Tx) error {
		var collectionID int64
		err := tx.QueryRowContext(ctx, `UPDATE shares SET status = $2 WHERE id = $1 AND user_id IS NOT NULL RETURNING collection_id`,
			shareID, string(status)).Scan(&collectionID)
		if err != nil {
			return err
		}
		return s.queuePush(ctx, tx, collectionID, true)
	})
}

// DeleteShare revokes a share of the collection.
func (s *Store) DeleteShare(ctx context.Context, collectionID, shareID int64) error {
	return s.write(ctx, "delete share", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM shares WHERE id = $1 AND collection_id = $2`, shareID, collectionID)
		if err := oneRow(res, err); err != nil {
			return err
		}
		return s.queuePush(ctx, tx, collectionID, true)
	})
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
	       c.sort_order, c.timezone, c.components, c.modseq, c.pruned_modseq, c.created, c.updated, 1,
	       u.username, g.level, coalesce(v.display_name, ''), coalesce(v.color, '')
	FROM granted g
	JOIN collections c ON c.id = g.collection_id
	JOIN users u ON u.id = c.owner_id
	LEFT JOIN share_views v ON v.user_id = $1 AND v.collection_id = c.id
	WHERE c.owner_id <> $1 AND ($2 IS NULL OR c.kind = $2) AND ($3 IS NULL OR c.id = $3)
	ORDER BY c.id`

// withExtra scans a row's leading columns with the caller's destinations
// and the trailing ones into extra.
type withExtra struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

func scanShared(row interface{ Scan(...any) error }) (store.SharedCollection, error) {
	var sc store.SharedCollection
	var level int
	c, err := scanCollection(withExtra{row, []any{&sc.Owner, &level, &sc.DisplayName, &sc.Color}})
	if err != nil {
		return sc, err
	}
	sc.Collection = *c
	sc.Access = store.AccessRead
	if level == 2 {
		sc.Access = store.AccessReadWrite
	}
	return sc, nil
}

// ListSharedCollections returns the collections of kind shared with the user.
func (s *Store) ListSharedCollections(ctx context.Context, userID int64, kind store.Kind) ([]store.SharedCollection, error) {
	rows, err := s.st.shared.QueryContext(ctx, userID, string(kind), nil)
	if err != nil {
		return nil, wrap("list shared collections", err)
	}
	defer rows.Close()
	var out []store.SharedCollection
	for rows.Next() {
		sc, err := scanShared(rows)
		if err != nil {
			return nil, wrap("list shared collections", err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list shared collections", err)
	}
	return out, nil
}

// GetSharedCollection returns one collection shared with the user.
func (s *Store) GetSharedCollection(ctx context.Context, userID, collectionID int64) (*store.SharedCollection, error) {
	sc, err := scanShared(s.st.shared.QueryRowContext(ctx, userID, nil, collectionID))
	if err != nil {
		return nil, wrap("get shared collection", err)
	}
	return &sc, nil
}

// SetShareView changes the sharee's own name and colour of a shared
// collection.
func (s *Store) SetShareView(ctx context.Context, userID, collectionID int64, v store.ShareView) error {
	return s.write(ctx, "set share view", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (`+sharedSQL+`)`, userID, nil, collectionID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO share_views (user_id, collection_id, display_name, color)
			VALUES ($1, $2, coalesce($3, ''), coalesce($4, ''))
			ON CONFLICT (user_id, collection_id) DO UPDATE SET
				display_name = coalesce($3, display_name),
				color = coalesce($4, color)`, userID, collectionID, nullStr(v.DisplayName), nullStr(v.Color))
		return err
	})
}

func nullStr(p *string) sql.NullString {
	if p == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *p, Valid: true}
}
