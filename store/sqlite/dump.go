package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// Dump streams every record of the store from one read transaction: a WAL
// snapshot, so the server's writers carry on and the dump sees none of
// their changes.
func (s *Store) Dump(ctx context.Context, fn func(store.Record) error) error {
	return s.read(ctx, "dump", func(tx *sql.Tx) error {
		each := func(q string, scan func(rows *sql.Rows) (store.Record, error)) error {
			rows, err := tx.QueryContext(ctx, q)
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
		if err := each(`SELECT `+userColumns+`, is_admin, last_login, free_busy_everyone FROM users ORDER BY id`, func(rows *sql.Rows) (store.Record, error) {
			var (
				admin, everyone int64
				login           sql.NullInt64
			)
			u, err := scanUser(scanMore{rows, []any{&admin, &login, &everyone}})
			return store.Record{User: u, Admin: admin != 0, LastLogin: fromNullMicros(login), FreeBusyHidden: everyone == 0}, err
		}); err != nil {
			return err
		}
		if err := each(`SELECT id, user_id, label, password_hash, created, last_used FROM app_passwords ORDER BY id`,
			func(rows *sql.Rows) (store.Record, error) {
				var (
					p       store.AppPassword
					created int64
					used    sql.NullInt64
				)
				err := rows.Scan(&p.ID, &p.UserID, &p.Label, &p.PasswordHash, &created, &used)
				p.Created, p.LastUsed = fromMicros(created), fromNullMicros(used)
				return store.Record{AppPassword: &p}, err
			}); err != nil {
			return err
		}
		// Dead properties are few; they are read first and handed out
		// with their collection.
		dead, err := allDeadProps(ctx, tx, "collection_properties", "collection_id")
		if err != nil {
			return err
		}
		objDead, err := allDeadProps(ctx, tx, "object_properties", "object_id")
		if err != nil {
			return err
		}
		if err := each(`SELECT `+collectionColumns+` FROM collections ORDER BY id`, func(rows *sql.Rows) (store.Record, error) {
			c, err := scanCollection(rows)
			if err != nil {
				return store.Record{}, err
			}
			return store.Record{Collection: c, DeadProps: dead[c.ID]}, nil
		}); err != nil {
			return err
		}
		var sc objectScanner
		if err := each(`SELECT `+objectSelect(true)+` FROM objects ORDER BY id`, func(rows *sql.Rows) (store.Record, error) {
			var o store.Object
			err := sc.scan(rows, &o, true)
			return store.Record{Object: &o, DeadProps: objDead[o.ID]}, err
		}); err != nil {
			return err
		}
		if err := each(`SELECT collection_id, name, modseq, deleted_at FROM tombstones ORDER BY collection_id, name`,
			func(rows *sql.Rows) (store.Record, error) {
				var (
					t       store.Tombstone
					deleted int64
				)
				err := rows.Scan(&t.CollectionID, &t.Name, &t.ModSeq, &deleted)
				t.DeletedAt = fromMicros(deleted)
				return store.Record{Tombstone: &t}, err
			}); err != nil {
			return err
		}
		if err := each(trashedQuery+` ORDER BY t.id`, func(rows *sql.Rows) (store.Record, error) {
			t, err := scanTrashed(rows)
			return store.Record{Trashed: &t}, err
		}); err != nil {
			return err
		}
		if err := each(`SELECT `+versionColumns+`, body FROM object_versions ORDER BY id`, func(rows *sql.Rows) (store.Record, error) {
			v, err := scanVersion(rows, true)
			return store.Record{Version: &v}, err
		}); err != nil {
			return err
		}
		if err := dumpSharing(each); err != nil {
			return err
		}
		return dumpQueues(each)
	})
}

// dumpQueues dumps the derived cursors, the mail queue, the push keys and
// registrations, and the unexpired locks.
func dumpQueues(each func(q string, scan func(rows *sql.Rows) (store.Record, error)) error) error {
	if err := each(`SELECT collection_id, source_id, modseq FROM derived_cursors ORDER BY collection_id, source_id`, func(rows *sql.Rows) (store.Record, error) {
		var c store.DerivedCursor
		err := rows.Scan(&c.CollectionID, &c.SourceID, &c.ModSeq)
		return store.Record{DerivedCursor: &c}, err
	}); err != nil {
		return err
	}
	if err := each(`SELECT `+mailColumns+` FROM mail_queue ORDER BY id`, func(rows *sql.Rows) (store.Record, error) {
		m, err := scanOneMail(rows)
		return store.Record{Mail: &m}, err
	}); err != nil {
		return err
	}
	if err := each(`SELECT private_key, public_key, created FROM push_keys`, func(rows *sql.Rows) (store.Record, error) {
		var (
			k       store.PushKeys
			created int64
		)
		err := rows.Scan(&k.Private, &k.Public, &created)
		k.Created = fromMicros(created)
		return store.Record{PushKeys: &k}, err
	}); err != nil {
		return err
	}
	if err := each(`SELECT `+pushRegistrationColumns+` FROM push_registrations ORDER BY id`, func(rows *sql.Rows) (store.Record, error) {
		var r store.PushRegistration
		err := scanPushRegistration(rows, &r)
		return store.Record{PushRegistration: &r}, err
	}); err != nil {
		return err
	}
	q := `SELECT ` + lockColumns + ` FROM locks WHERE expires > ` + strconv.FormatInt(toMicros(now()), 10) + ` ORDER BY token`
	return each(q, func(rows *sql.Rows) (store.Record, error) {
		l, err := scanLock(rows)
		return store.Record{Lock: &l}, err
	})
}

// dumpSharing dumps groups, their members, shares, share views, grants
// and public links, after everything they refer to.
func dumpSharing(each func(q string, scan func(rows *sql.Rows) (store.Record, error)) error) error {
	if err := each(`SELECT `+groupColumns+` FROM groups ORDER BY id`, func(rows *sql.Rows) (store.Record, error) {
		g, err := scanGroup(rows)
		return store.Record{Group: &g}, err
	}); err != nil {
		return err
	}
	if err := each(`SELECT group_id, user_id FROM group_members ORDER BY group_id, user_id`, func(rows *sql.Rows) (store.Record, error) {
		var m store.GroupMember
		err := rows.Scan(&m.GroupID, &m.UserID)
		return store.Record{GroupMember: &m}, err
	}); err != nil {
		return err
	}
	if err := each(`SELECT `+shareColumns+` FROM shares ORDER BY id`, func(rows *sql.Rows) (store.Record, error) {
		sh, err := scanShare(rows)
		return store.Record{Share: &sh}, err
	}); err != nil {
		return err
	}
	if err := each(`SELECT user_id, collection_id, display_name, color FROM share_views ORDER BY user_id, collection_id`, func(rows *sql.Rows) (store.Record, error) {
		var v store.SavedShareView
		err := rows.Scan(&v.UserID, &v.CollectionID, &v.DisplayName, &v.Color)
		return store.Record{ShareView: &v}, err
	}); err != nil {
		return err
	}
	if err := each(`SELECT `+grantColumns+` FROM grants ORDER BY id`, func(rows *sql.Rows) (store.Record, error) {
		g, err := scanGrant(rows)
		return store.Record{Grant: &g}, err
	}); err != nil {
		return err
	}
	return each(`SELECT id, collection_id, token, created FROM public_links ORDER BY id`, func(rows *sql.Rows) (store.Record, error) {
		l, err := scanLink(rows)
		return store.Record{PublicLink: &l}, err
	})
}

// scanMore scans a row's first columns with a scan function of fixed
// columns and the rest into more.
type scanMore struct {
	rows *sql.Rows
	more []any
}

func (r scanMore) Scan(dest ...any) error { return r.rows.Scan(append(dest, r.more...)...) }

// allDeadProps returns every collection's (or object's) dead properties,
// from table by its owner column.
func allDeadProps(ctx context.Context, tx *sql.Tx, table, owner string) (map[int64][]store.DeadProp, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+owner+`, namespace, name, xml FROM `+table+` ORDER BY `+owner+`, namespace, name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	dead := make(map[int64][]store.DeadProp)
	for rows.Next() {
		var (
			id int64
			dp store.DeadProp
		)
		if err := rows.Scan(&id, &dp.Namespace, &dp.Name, &dp.XML); err != nil {
			return nil, err
		}
		dead[id] = append(dead[id], dp)
	}
	return dead, rows.Err()
}

// inserter inserts rows into tables of one write transaction, with one
// statement per table prepared on first use.
type inserter struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (in *inserter) insert(table string, cols []string, row ...any) error {
	stmt, ok := in.stmts[table]
	if !ok {
		ph := make([]string, len(cols))
		for i := range ph {
			ph[i] = fmt.Sprintf("$%d", i+1)
		}
		var err error
		stmt, err = in.tx.PrepareContext(in.ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)",
			table, strings.Join(cols, ", "), strings.Join(ph, ", ")))
		if err != nil {
			return err
		}
		in.stmts[table] = stmt
	}
	if _, err := stmt.ExecContext(in.ctx, row...); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
}

func (in *inserter) close() {
	for _, st := range in.stmts {
		st.Close()
	}
}

// Load inserts a dump into an empty store in one write transaction.
func (s *Store) Load(ctx context.Context, records iter.Seq2[store.Record, error]) error {
	return s.write(ctx, "load", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return store.ErrNotEmpty
		}
		in := &inserter{ctx: ctx, tx: tx, stmts: make(map[string]*sql.Stmt)}
		defer in.close()
		for rec, err := range records {
			if err != nil {
				return err
			}
			if err := loadRecord(in, rec); err != nil {
				return err
			}
		}
		return rebuildSearchTerms(ctx, tx)
	})
}

func loadRecord(in *inserter, rec store.Record) error {
	switch {
	case rec.User != nil:
		u := rec.User
		var unlocked sql.NullInt64
		if !u.UnlockedAt.IsZero() {
			unlocked = sql.NullInt64{Int64: toMicros(u.UnlockedAt), Valid: true}
		}
		admin := 0
		if rec.Admin {
			admin = 1
		}
		return in.insert("users", []string{"id", "username", "display_name", "email", "password_hash", "created", "unlocked_at",
			"is_admin", "last_login", "free_busy_everyone"},
			u.ID, u.Username, u.DisplayName, u.Email, u.PasswordHash, toMicros(u.Created), unlocked,
			admin, toNullMicros(rec.LastLogin), !rec.FreeBusyHidden)
	case rec.AppPassword != nil:
		p := rec.AppPassword
		return in.insert("app_passwords", []string{"id", "user_id", "label", "password_hash", "created", "last_used"},
			p.ID, p.UserID, p.Label, p.PasswordHash, toMicros(p.Created), toNullMicros(p.LastUsed))
	case rec.Collection != nil:
		c := rec.Collection
		comps, err := encodeComponents(c.Components)
		if err != nil {
			return err
		}
		err = in.insert("collections", []string{"id", "owner_id", "kind", "name", "display_name", "description", "color",
			"color_symbolic", "sort_order", "timezone", "components", "modseq", "pruned_modseq", "created", "updated"},
			c.ID, c.OwnerID, string(c.Kind), c.Name, c.DisplayName, c.Description, c.Color, c.ColorSymbolic,
			nullInt(c.Order), c.Timezone, comps, c.ModSeq, c.PrunedModSeq, toMicros(c.Created), toMicros(c.Updated))
		if err != nil {
			return err
		}
		for _, dp := range rec.DeadProps {
			if err := in.insert("collection_properties", []string{"collection_id", "namespace", "name", "xml"},
				c.ID, dp.Namespace, dp.Name, dp.XML); err != nil {
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
		err := in.insert("objects", []string{"id", "collection_id", "name", "uid", "etag", "content_type", "component",
			"size", "modseq", "first_start", "last_end", "search_text", "created", "updated", "body"},
			o.ID, o.CollectionID, o.Name, o.UID, o.ETag, o.ContentType, o.Component, int64(len(body)), o.ModSeq,
			toNullMicros(o.FirstStart), toNullMicros(o.LastEnd), o.SearchText, toMicros(o.Created), toMicros(o.Updated), body)
		if err != nil {
			return err
		}
		for _, dp := range rec.DeadProps {
			if err := in.insert("object_properties", []string{"object_id", "namespace", "name", "xml"},
				o.ID, dp.Namespace, dp.Name, dp.XML); err != nil {
				return err
			}
		}
		return nil
	case rec.Tombstone != nil:
		t := rec.Tombstone
		return in.insert("tombstones", []string{"collection_id", "name", "modseq", "deleted_at"},
			t.CollectionID, t.Name, t.ModSeq, toMicros(t.DeletedAt))
	case rec.Trashed != nil:
		t := rec.Trashed
		c := t.Collection
		comps, err := encodeComponents(c.Components)
		if err != nil {
			return err
		}
		dead := make([]map[string]string, len(t.DeadProps))
		for i, p := range t.DeadProps {
			dead[i] = map[string]string{"namespace": p.Namespace, "name": p.Name, "xml": p.XML}
		}
		deadJSON, err := json.Marshal(dead)
		if err != nil {
			return err
		}
		return in.insert("collection_trash", []string{"id", "owner_id", "collection_id", "kind", "name", "display_name",
			"description", "color", "color_symbolic", "sort_order", "timezone", "components", "dead_props", "created",
			"deleted_at", "user_id", "user_agent"},
			t.ID, c.OwnerID, c.ID, string(c.Kind), c.Name, c.DisplayName, c.Description, c.Color, c.ColorSymbolic,
			nullInt(c.Order), c.Timezone, comps, string(deadJSON), toMicros(c.Created), toMicros(t.DeletedAt),
			t.Actor.UserID, t.Actor.UserAgent)
	case rec.Version != nil:
		v := rec.Version
		var trash sql.NullInt64
		if v.TrashID != 0 {
			trash = sql.NullInt64{Int64: v.TrashID, Valid: true}
		}
		var body any
		if v.Op != store.OpCreate {
			b := v.Body
			if b == nil {
				b = []byte{}
			}
			body = b
		}
		return in.insert("object_versions", []string{"id", "owner_id", "collection_id", "trash_id", "name", "op", "uid",
			"etag", "content_type", "component", "size", "first_start", "last_end", "search_text", "changed_at",
			"user_id", "user_agent", "body"},
			v.ID, v.OwnerID, v.CollectionID, trash, v.Name, string(v.Op), v.UID, v.ETag, v.ContentType, v.Component,
			v.Size, toNullMicros(v.FirstStart), toNullMicros(v.LastEnd), v.SearchText, toMicros(v.ChangedAt),
			v.Actor.UserID, v.Actor.UserAgent, body)
	case rec.Group != nil:
		g := rec.Group
		return in.insert("groups", []string{"id", "name", "display_name", "created"}, g.ID, g.Name, g.DisplayName, toMicros(g.Created))
	case rec.GroupMember != nil:
		return in.insert("group_members", []string{"group_id", "user_id"}, rec.GroupMember.GroupID, rec.GroupMember.UserID)
	case rec.Share != nil:
		sh := rec.Share
		return in.insert("shares", []string{"id", "collection_id", "user_id", "group_id", "access", "status", "created"},
			sh.ID, sh.CollectionID, nullID(sh.UserID), nullID(sh.GroupID), string(sh.Access), string(sh.Status), toMicros(sh.Created))
	case rec.ShareView != nil:
		v := rec.ShareView
		return in.insert("share_views", []string{"user_id", "collection_id", "display_name", "color"},
			v.UserID, v.CollectionID, v.DisplayName, v.Color)
	case rec.Grant != nil:
		g := rec.Grant
		return in.insert("grants", []string{"id", "owner_id", "user_id", "group_id", "access", "created"},
			g.ID, g.OwnerID, nullID(g.UserID), nullID(g.GroupID), string(g.Access), toMicros(g.Created))
	case rec.PublicLink != nil:
		l := rec.PublicLink
		return in.insert("public_links", []string{"id", "collection_id", "token", "token_hash", "created"},
			l.ID, l.CollectionID, l.Token, store.TokenHash(l.Token), toMicros(l.Created))
	case rec.DerivedCursor != nil:
		d := rec.DerivedCursor
		return in.insert("derived_cursors", []string{"collection_id", "source_id", "modseq"}, d.CollectionID, d.SourceID, d.ModSeq)
	case rec.Mail != nil:
		m := rec.Mail
		body := m.Body
		if body == nil {
			body = []byte{}
		}
		return in.insert("mail_queue", []string{"id", "user_id", "uid", "sender", "recipient", "method", "body", "attempts",
			"next_attempt", "last_error", "created"},
			m.ID, m.UserID, m.UID, m.From, m.To, m.Method, body, m.Attempts, toMicros(m.NextAttempt), m.LastError,
			toMicros(m.Created))
	case rec.PushKeys != nil:
		k := rec.PushKeys
		return in.insert("push_keys", []string{"id", "private_key", "public_key", "created"}, 1, k.Private, k.Public,
			toMicros(k.Created))
	case rec.PushRegistration != nil:
		r := rec.PushRegistration
		return in.insert("push_registrations", []string{"id", "user_id", "collection_id", "push_resource", "public_key",
			"auth_secret", "content_update", "property_update", "user_agent", "expires", "created", "last_delivery",
			"failures", "last_error"},
			r.ID, r.UserID, r.CollectionID, r.PushResource, r.PublicKey, r.AuthSecret, r.ContentUpdate, r.PropertyUpdate,
			r.UserAgent, toMicros(r.Expires), toMicros(r.Created), toNullMicros(r.LastDelivery), r.Failures, r.LastError)
	case rec.Lock != nil:
		l := rec.Lock
		return in.insert("locks", []string{"token", "root", "user_id", "depth_infinity", "shared", "owner_xml",
			"timeout_seconds", "created", "expires"},
			l.Token, l.Root, l.UserID, l.Infinite, l.Shared, l.Owner, int64(l.Timeout/time.Second), toMicros(l.Created),
			toMicros(l.Expires))
	}
	return fmt.Errorf("empty record")
}

// nullID is an optional reference: NULL for 0.
func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }
