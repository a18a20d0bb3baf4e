package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store"
)

// Dump streams every record of the store from one REPEATABLE READ snapshot:
// the server's writers carry on, and the dump sees none of their changes.
func (s *Store) Dump(ctx context.Context, fn func(store.Record) error) error {
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := pgx.BeginTxFunc(ctx, s.pool, opts, func(tx pgx.Tx) error {
		each := func(q string, scan func(pgx.Row) (store.Record, error)) error {
			rows, err := tx.Query(ctx, q)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				rec, err := scan(rows)
				if err != nil {
					return err
				}
				if err := fn(rec); err != nil {
					return err
				}
			}
			return rows.Err()
		}
		if err := each(`SELECT `+userColumns+`, is_admin, last_login, free_busy_everyone FROM users ORDER BY id`, func(row pgx.Row) (store.Record, error) {
			var rec store.Record
			everyone := true
			u, err := scanUser(scanMore{row, []any{&rec.Admin, &rec.LastLogin, &everyone}})
			rec.User, rec.FreeBusyHidden = u, !everyone
			return rec, err
		}); err != nil {
			return err
		}
		if err := each(`SELECT id, user_id, label, password_hash, created, last_used FROM app_passwords ORDER BY id`,
			func(row pgx.Row) (store.Record, error) {
				var p store.AppPassword
				err := row.Scan(&p.ID, &p.UserID, &p.Label, &p.PasswordHash, &p.Created, &p.LastUsed)
				return store.Record{AppPassword: &p}, err
			}); err != nil {
			return err
		}
		// Dead properties are few; they are read first and handed out
		// with their collection or object.
		dead, err := allDeadProps(ctx, tx, "collection_properties", "collection_id")
		if err != nil {
			return err
		}
		objDead, err := allDeadProps(ctx, tx, "object_properties", "object_id")
		if err != nil {
			return err
		}
		if err := each(`SELECT `+collectionColumns+` FROM collections ORDER BY id`, func(row pgx.Row) (store.Record, error) {
			c, err := scanCollection(row)
			if len(c.Components) == 0 {
				c.Components = nil
			}
			return store.Record{Collection: &c, DeadProps: dead[c.ID]}, err
		}); err != nil {
			return err
		}
		if err := each(`SELECT `+objectColumns+`, body FROM objects ORDER BY id`, func(row pgx.Row) (store.Record, error) {
			o, err := scanObject(row)
			return store.Record{Object: &o, DeadProps: objDead[o.ID]}, err
		}); err != nil {
			return err
		}
		if err := each(`SELECT collection_id, name, modseq, deleted_at FROM tombstones ORDER BY collection_id, name`,
			func(row pgx.Row) (store.Record, error) {
				var t store.Tombstone
				err := row.Scan(&t.CollectionID, &t.Name, &t.ModSeq, &t.DeletedAt)
				return store.Record{Tombstone: &t}, err
			}); err != nil {
			return err
		}
		if err := each(trashedQuery+` ORDER BY t.id`, func(row pgx.Row) (store.Record, error) {
			t, err := scanTrashed(row)
			return store.Record{Trashed: &t}, err
		}); err != nil {
			return err
		}
		if err := each(`SELECT `+versionColumns+`, body FROM object_versions ORDER BY id`, func(row pgx.Row) (store.Record, error) {
			v, err := scanVersion(row)
			if v.Body == nil && v.Op != store.OpCreate {
				v.Body = []byte{}
			}
			return store.Record{Version: &v}, err
		}); err != nil {
			return err
		}
		if err := dumpSharing(each); err != nil {
			return err
		}
		return dumpQueues(each)
	})
	if err != nil {
		return errorf("store: dump: %w", err)
	}
	return nil
}

// dumpSharing dumps groups, their members, shares, share views, grants
// and public links, after everything they refer to.
func dumpSharing(each func(q string, scan func(pgx.Row) (store.Record, error)) error) error {
	if err := each(`SELECT `+groupColumns+` FROM groups ORDER BY id`, func(row pgx.Row) (store.Record, error) {
		g, err := scanGroup(row)
		return store.Record{Group: &g}, err
	}); err != nil {
		return err
	}
	if err := each(`SELECT group_id, user_id FROM group_members ORDER BY group_id, user_id`, func(row pgx.Row) (store.Record, error) {
		var m store.GroupMember
		err := row.Scan(&m.GroupID, &m.UserID)
		return store.Record{GroupMember: &m}, err
	}); err != nil {
		return err
	}
	if err := each(`SELECT `+shareColumns+` FROM shares ORDER BY id`, func(row pgx.Row) (store.Record, error) {
		sh, err := scanShare(row)
		return store.Record{Share: &sh}, err
	}); err != nil {
		return err
	}
	if err := each(`SELECT user_id, collection_id, display_name, color FROM share_views ORDER BY user_id, collection_id`, func(row pgx.Row) (store.Record, error) {
		var v store.SavedShareView
		err := row.Scan(&v.UserID, &v.CollectionID, &v.DisplayName, &v.Color)
		return store.Record{ShareView: &v}, err
	}); err != nil {
		return err
	}
	if err := each(`SELECT `+grantColumns+` FROM grants ORDER BY id`, func(row pgx.Row) (store.Record, error) {
		g, err := scanGrant(row)
		return store.Record{Grant: &g}, err
	}); err != nil {
		return err
	}
	return each(`SELECT id, collection_id, token, created FROM public_links ORDER BY id`, func(row pgx.Row) (store.Record, error) {
		var l store.PublicLink
		err := row.Scan(&l.ID, &l.CollectionID, &l.Token, &l.Created)
		return store.Record{PublicLink: &l}, err
	})
}

// dumpQueues dumps the derived cursors, the mail queue, the push keys and
// registrations, and the unexpired locks.
func dumpQueues(each func(q string, scan func(pgx.Row) (store.Record, error)) error) error {
	if err := each(`SELECT collection_id, source_id, modseq FROM derived_cursors ORDER BY collection_id, source_id`, func(row pgx.Row) (store.Record, error) {
		var c store.DerivedCursor
		err := row.Scan(&c.CollectionID, &c.SourceID, &c.ModSeq)
		return store.Record{DerivedCursor: &c}, err
	}); err != nil {
		return err
	}
	if err := each(`SELECT `+mailColumns+` FROM mail_queue ORDER BY id`, func(row pgx.Row) (store.Record, error) {
		m, err := scanMail(row.(pgx.CollectableRow))
		return store.Record{Mail: &m}, err
	}); err != nil {
		return err
	}
	if err := each(`SELECT private_key, public_key, created FROM push_keys`, func(row pgx.Row) (store.Record, error) {
		var k store.PushKeys
		err := row.Scan(&k.Private, &k.Public, &k.Created)
		return store.Record{PushKeys: &k}, err
	}); err != nil {
		return err
	}
	if err := each(`SELECT `+pushRegistrationColumns+` FROM push_registrations ORDER BY id`, func(row pgx.Row) (store.Record, error) {
		var r store.PushRegistration
		err := scanPushRegistration(row, &r)
		return store.Record{PushRegistration: &r}, err
	}); err != nil {
		return err
	}
	return each(`SELECT `+lockColumns+` FROM locks WHERE expires > now() ORDER BY token`, func(row pgx.Row) (store.Record, error) {
		l, err := scanLock(row)
		return store.Record{Lock: &l}, err
	})
}

// allDeadProps returns every collection's (or object's) dead properties,
// from table by its owner column.
func allDeadProps(ctx context.Context, tx pgx.Tx, table, owner string) (map[int64][]store.DeadProp, error) {
	dead := make(map[int64][]store.DeadProp)
	rows, _ := tx.Query(ctx, `SELECT `+owner+`, namespace, name, xml FROM `+table+` ORDER BY `+owner+`, namespace, name`)
	var (
		id int64
		dp store.DeadProp
	)
	_, err := pgx.ForEachRow(rows, []any{&id, &dp.Namespace, &dp.Name, &dp.XML}, func() error {
		dead[id] = append(dead[id], dp)
		return nil
	})
	return dead, err
}

// scanMore scans a row's first columns with a scan function of fixed
// columns and the rest into more.
type scanMore struct {
	row  pgx.Row
	more []any
}

func (r scanMore) Scan(dest ...any) error { return r.row.Scan(append(dest, r.more...)...) }

// loadBatch is how many rows Load sends with one COPY.
const loadBatch = 500

// copier gathers rows of one table and sends them with COPY.
type copier struct {
	ctx   context.Context
	tx    pgx.Tx
	table string
	cols  []string
	rows  [][]any
}

func (c *copier) add(table string, cols []string, row ...any) error {
	if table != c.table || len(c.rows) >= loadBatch {
		if err := c.flush(); err != nil {
			return err
		}
		c.table, c.cols = table, cols
	}
	c.rows = append(c.rows, row)
	return nil
}

func (c *copier) flush() error {
	if len(c.rows) == 0 {
		return nil
	}
	_, err := c.tx.CopyFrom(c.ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows))
	if err != nil {
		return fmt.Errorf("%s: %w", c.table, err)
	}
	c.rows = c.rows[:0]
	return nil
}

var (
	userCols = []string{"id", "username", "display_name", "email", "password_hash", "created", "unlocked_at",
		"is_admin", "last_login", "free_busy_everyone"}
	appPwCols      = []string{"id", "user_id", "label", "password_hash", "created", "last_used"}
	collectionCols = []string{"id", "owner_id", "kind", "name", "display_name", "description", "color",
		"color_symbolic", "sort_order", "timezone", "components", "modseq", "pruned_modseq", "created", "updated"}
	deadPropCols   = []string{"collection_id", "namespace", "name", "xml"}
	objectPropCols = []string{"object_id", "namespace", "name", "xml"}
	objectCols     = []string{"id", "collection_id", "name", "uid", "etag", "content_type", "component", "body",
		"size", "modseq", "first_start", "last_end", "search_text", "created", "updated"}
	tombstoneCols = []string{"collection_id", "name", "modseq", "deleted_at"}
	trashCols     = []string{"id", "owner_id", "collection_id", "kind", "name", "display_name", "description",
		"color", "color_symbolic", "sort_order", "timezone", "components", "dead_props", "created", "deleted_at",
		"user_id", "user_agent"}
	versionCols = []string{"id", "owner_id", "collection_id", "trash_id", "name", "op", "uid", "etag",
		"content_type", "component", "body", "size", "first_start", "last_end", "search_text", "changed_at",
		"user_id", "user_agent"}
)

// identityTables are the tables whose ids Load sets, so their identity
// sequences are moved past the highest id afterwards.
var identityTables = []string{"users", "app_passwords", "collections", "objects", "collection_trash", "object_versions",
	"groups", "shares", "grants", "public_links", "mail_queue", "push_registrations"}

// Load inserts a dump into an empty store in one transaction, with COPY in
// batches of loadBatch rows.
func (s *Store) Load(ctx context.Context, records iter.Seq2[store.Record, error]) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return store.ErrNotEmpty
		}
		c := &copier{ctx: ctx, tx: tx}
		for rec, err := range records {
			if err != nil {
				return err
			}
			if err := loadRecord(c, rec); err != nil {
				return err
			}
		}
		if err := c.flush(); err != nil {
			return err
		}
		if err := rebuildSearchTerms(ctx, tx); err != nil {
			return err
		}
		for _, t := range identityTables {
			q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%[1]s', 'id'), GREATEST((SELECT max(id) FROM %[1]s), 1),
				(SELECT max(id) FROM %[1]s) IS NOT NULL)`, t)
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return errorf("store: load: %w", err)
	}
	return nil
}

func loadRecord(c *copier, rec store.Record) error {
	switch {
	case rec.User != nil:
		u := rec.User
		var unlocked any
		if !u.UnlockedAt.IsZero() {
			unlocked = u.UnlockedAt
		}
		return c.add("users", userCols, u.ID, u.Username, u.DisplayName, u.Email, u.PasswordHash, u.Created, unlocked,
			rec.Admin, rec.LastLogin, !rec.FreeBusyHidden)
	case rec.AppPassword != nil:
		p := rec.AppPassword
		return c.add("app_passwords", appPwCols, p.ID, p.UserID, p.Label, p.PasswordHash, p.Created, p.LastUsed)
	case rec.Collection != nil:
		col := rec.Collection
		if err := c.add("collections", collectionCols, col.ID, col.OwnerID, string(col.Kind), col.Name, col.DisplayName,
			col.Description, col.Color, col.ColorSymbolic, col.Order, col.Timezone, components(col.Components),
			col.ModSeq, col.PrunedModSeq, col.Created, col.Updated); err != nil {
			return err
		}
		// The collection must exist before its properties refer to it.
		if len(rec.DeadProps) > 0 {
			if err := c.flush(); err != nil {
				return err
			}
		}
		for _, dp := range rec.DeadProps {
			if err := c.add("collection_properties", deadPropCols, col.ID, dp.Namespace, dp.Name, dp.XML); err != nil {
				return err
			}
		}
		return nil
	case rec.Object != nil:
		o := rec.Object
		body := o.Body
		if body == nil {
			body = []byte{}
		}
		if err := c.add("objects", objectCols, o.ID, o.CollectionID, o.Name, o.UID, o.ETag, o.ContentType, o.Component,
			body, int64(len(body)), o.ModSeq, o.FirstStart, o.LastEnd, o.SearchText, o.Created, o.Updated); err != nil {
			return err
		}
		// The object must exist before its properties refer to it.
		if len(rec.DeadProps) > 0 {
			if err := c.flush(); err != nil {
				return err
			}
		}
		for _, dp := range rec.DeadProps {
			if err := c.add("object_properties", objectPropCols, o.ID, dp.Namespace, dp.Name, dp.XML); err != nil {
				return err
			}
		}
		return nil
	case rec.Tombstone != nil:
		t := rec.Tombstone
		return c.add("tombstones", tombstoneCols, t.CollectionID, t.Name, t.ModSeq, t.DeletedAt)
	case rec.Trashed != nil:
		t := rec.Trashed
		col := t.Collection
		dead, err := json.Marshal(deadPropsJSON(t.DeadProps))
		if err != nil {
			return err
		}
		return c.add("collection_trash", trashCols, t.ID, col.OwnerID, col.ID, string(col.Kind), col.Name,
			col.DisplayName, col.Description, col.Color, col.ColorSymbolic, col.Order, col.Timezone,
			components(col.Components), string(dead), col.Created, t.DeletedAt, t.Actor.UserID, t.Actor.UserAgent)
	case rec.Version != nil:
		v := rec.Version
		var trash, body any
		if v.TrashID != 0 {
			trash = v.TrashID
		}
		if v.Op != store.OpCreate {
			b := v.Body
			if b == nil {
				b = []byte{}
			}
			body = b
		}
		return c.add("object_versions", versionCols, v.ID, v.OwnerID, v.CollectionID, trash, v.Name, string(v.Op),
			v.UID, v.ETag, v.ContentType, v.Component, body, v.Size, v.FirstStart, v.LastEnd, v.SearchText,
			v.ChangedAt, v.Actor.UserID, v.Actor.UserAgent)
	case rec.Group != nil:
		g := rec.Group
		return c.add("groups", []string{"id", "name", "display_name", "created"}, g.ID, g.Name, g.DisplayName, g.Created)
	case rec.GroupMember != nil:
		return c.add("group_members", []string{"group_id", "user_id"}, rec.GroupMember.GroupID, rec.GroupMember.UserID)
	case rec.Share != nil:
		sh := rec.Share
		return c.add("shares", []string{"id", "collection_id", "user_id", "group_id", "access", "status", "created"},
			sh.ID, sh.CollectionID, nullID(sh.UserID), nullID(sh.GroupID), string(sh.Access), string(sh.Status), sh.Created)
	case rec.ShareView != nil:
		v := rec.ShareView
		return c.add("share_views", []string{"user_id", "collection_id", "display_name", "color"},
			v.UserID, v.CollectionID, v.DisplayName, v.Color)
	case rec.Grant != nil:
		g := rec.Grant
		return c.add("grants", []string{"id", "owner_id", "user_id", "group_id", "access", "created"},
			g.ID, g.OwnerID, nullID(g.UserID), nullID(g.GroupID), string(g.Access), g.Created)
	case rec.PublicLink != nil:
		l := rec.PublicLink
		return c.add("public_links", []string{"id", "collection_id", "token", "token_hash", "created"},
			l.ID, l.CollectionID, l.Token, store.TokenHash(l.Token), l.Created)
	case rec.DerivedCursor != nil:
		d := rec.DerivedCursor
		return c.add("derived_cursors", []string{"collection_id", "source_id", "modseq"}, d.CollectionID, d.SourceID, d.ModSeq)
	case rec.Mail != nil:
		m := rec.Mail
		body := m.Body
		if body == nil {
			body = []byte{}
		}
		return c.add("mail_queue", []string{"id", "user_id", "uid", "sender", "recipient", "method", "body", "attempts",
			"next_attempt", "last_error", "created"},
			m.ID, m.UserID, m.UID, m.From, m.To, m.Method, body, m.Attempts, m.NextAttempt, m.LastError, m.Created)
	case rec.PushKeys != nil:
		k := rec.PushKeys
		return c.add("push_keys", []string{"id", "private_key", "public_key", "created"}, 1, k.Private, k.Public, k.Created)
	case rec.PushRegistration != nil:
		r := rec.PushRegistration
		return c.add("push_registrations", []string{"id", "user_id", "collection_id", "push_resource", "public_key",
			"auth_secret", "content_update", "property_update", "user_agent", "expires", "created", "last_delivery",
			"failures", "last_error"},
			r.ID, r.UserID, r.CollectionID, r.PushResource, r.PublicKey, r.AuthSecret, r.ContentUpdate, r.PropertyUpdate,
			r.UserAgent, r.Expires, r.Created, r.LastDelivery, r.Failures, r.LastError)
	case rec.Lock != nil:
		l := rec.Lock
		return c.add("locks", []string{"token", "root", "user_id", "depth_infinity", "shared", "owner_xml",
			"timeout_seconds", "created", "expires"},
			l.Token, l.Root, l.UserID, l.Infinite, l.Shared, l.Owner, int64(l.Timeout/time.Second), l.Created, l.Expires)
	}
	return fmt.Errorf("empty record")
}

// nullID is an optional reference: NULL for 0.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func components(cs []string) []string {
	if cs == nil {
		return []string{}
	}
	return cs
}

// deadPropsJSON is the dead_props column's form of ps, as trashCollection
// writes it.
func deadPropsJSON(ps []store.DeadProp) []map[string]string {
	out := make([]map[string]string, len(ps))
	for i, p := range ps {
		out[i] = map[string]string{"namespace": p.Namespace, "name": p.Name, "xml": p.XML}
	}
	return out
}
