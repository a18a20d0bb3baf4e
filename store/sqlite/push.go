package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// EnsurePushKeys returns the stored VAPID key pair, storing gen's first.
func (s *Store) EnsurePushKeys(ctx context.Context, gen func() (string, string, error)) (string, string, error) {
	var priv, pub string
	err := s.r.QueryRowContext(ctx, `SELECT private_key, public_key FROM push_keys WHERE id = 1`).Scan(&priv, &pub)
	if err == nil {
		return priv, pub, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", "", wrap("read push keys", err)
	}
	gpriv, gpub, err := gen()
	if err != nil {
		return "", "", err
	}
	err = s.write(ctx, "store push keys", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO push_keys (id, private_key, public_key) VALUES (1, $1, $2)
			ON CONFLICT (id) DO NOTHING`, gpriv, gpub); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT private_key, public_key FROM push_keys WHERE id = 1`).Scan(&priv, &pub)
	})
	return priv, pub, err
}

const pushRegistrationColumns = `id, user_id, collection_id, push_resource, public_key, auth_secret,
	content_update, property_update, user_agent, expires, created, last_delivery, failures, last_error`

type scanner interface{ Scan(...any) error }

func scanPushRegistration(row scanner, r *store.PushRegistration, pre ...any) error {
	var (
		expires, created int64
		last             sql.NullInt64
	)
	dest := append(pre, &r.ID, &r.UserID, &r.CollectionID, &r.PushResource, &r.PublicKey, &r.AuthSecret,
		&r.ContentUpdate, &r.PropertyUpdate, &r.UserAgent, &expires, &created, &last, &r.Failures, &r.LastError)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	r.Expires, r.Created, r.LastDelivery = fromMicros(expires), fromMicros(created), fromNullMicros(last)
	return nil
}

// PutPushRegistration creates or refreshes r; the write transaction
// serializes registrations, so the cap holds.
func (s *Store) PutPushRegistration(ctx context.Context, r *store.PushRegistration, maxPerUser int) (bool, error) {
	var created bool
	t := now()
	err := s.write(ctx, "put push registration", func(tx *sql.Tx) error {
		var c int64
		err := tx.QueryRowContext(ctx, `
			UPDATE push_registrations SET public_key = $4, auth_secret = $5, content_update = $6,
				property_update = $7, user_agent = $8, expires = $9, failures = 0, last_error = ''
			WHERE user_id = $1 AND collection_id = $2 AND push_resource = $3
			RETURNING id, created`, r.UserID, r.CollectionID, r.PushResource, r.PublicKey, r.AuthSecret,
			r.ContentUpdate, r.PropertyUpdate, r.UserAgent, toMicros(r.Expires)).Scan(&r.ID, &c)
		if err == nil {
			r.Created = fromMicros(c)
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM push_registrations WHERE user_id = $1 AND expires > $2`,
			r.UserID, toMicros(t)).Scan(&n); err != nil {
			return err
		}
		if maxPerUser > 0 && n >= maxPerUser {
			return store.ErrTooMany
		}
		created = true
		r.Created = t
		return tx.QueryRowContext(ctx, `
			INSERT INTO push_registrations (user_id, collection_id, push_resource, public_key, auth_secret,
				content_update, property_update, user_agent, expires, created)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			RETURNING id`, r.UserID, r.CollectionID, r.PushResource, r.PublicKey, r.AuthSecret,
			r.ContentUpdate, r.PropertyUpdate, r.UserAgent, toMicros(r.Expires), toMicros(t)).Scan(&r.ID)
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

// GetPushRegistration returns one of the user's registrations.
func (s *Store) GetPushRegistration(ctx context.Context, userID, id int64) (*store.PushRegistration, error) {
	var r store.PushRegistration
	err := scanPushRegistration(s.r.QueryRowContext(ctx,
		`SELECT `+pushRegistrationColumns+` FROM push_registrations WHERE id = $1 AND user_id = $2`, id, userID), &r)
	if err != nil {
		return nil, wrap("get push registration", err)
	}
	return &r, nil
}

// ListPushRegistrations returns the user's registrations by id.
func (s *Store) ListPushRegistrations(ctx context.Context, userID int64) ([]store.PushRegistration, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT `+pushRegistrationColumns+` FROM push_registrations WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, wrap("list push registrations", err)
	}
	defer rows.Close()
	var rs []store.PushRegistration
	for rows.Next() {
		var r store.PushRegistration
		if err := scanPushRegistration(rows, &r); err != nil {
			return nil, wrap("list push registrations", err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list push registrations", err)
	}
	return rs, nil
}

// DeletePushRegistration removes one of the user's registrations.
func (s *Store) DeletePushRegistration(ctx context.Context, userID, id int64) error {
	return s.write(ctx, "delete push registration", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM push_registrations WHERE id = $1 AND user_id = $2`, id, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		return nil
	})
}

// queuePushSQL records that collection $1 changed up to modseq $2 when it
// has registrations; one row per collection, so a burst updates one row.
const queuePushSQL = `
	INSERT INTO push_pending (collection_id, modseq, property, content)
	SELECT $1, $2, $3, NOT $3 WHERE EXISTS (SELECT 1 FROM push_registrations WHERE collection_id = $1)
	ON CONFLICT (collection_id) DO UPDATE
	SET modseq = max(push_pending.modseq, excluded.modseq), property = push_pending.property OR excluded.property,
		changes = push_pending.changes + 1, content = push_pending.content OR excluded.content`

// QueuePush queues a message for the collection at its current modseq.
func (s *Store) QueuePush(ctx context.Context, collectionID int64, property bool) error {
	return s.write(ctx, "queue push", func(tx *sql.Tx) error { return s.queuePush(ctx, tx, collectionID, property) })
}

// queuePush queues a message for the collection at its current modseq in
// tx, the transaction of the change (PROPPATCH, sharing): the message goes
// exactly when the change commits.
func (s *Store) queuePush(ctx context.Context, tx *sql.Tx, collectionID int64, property bool) error {
	var modseq int64
	err := tx.QueryRowContext(ctx, `SELECT modseq FROM collections WHERE id = $1`, collectionID).Scan(&modseq)
	if err != nil {
		return err
	}
	_, err = tx.StmtContext(ctx, s.st.queuePush).ExecContext(ctx, collectionID, modseq, property)
	return err
}

// ClaimPushDeliveries fans queued changes out to deliveries and claims due
// ones; SQLite's one writer makes the claim exclusive. Every step is one
// statement whatever the number of registrations, since writers wait for
// the write lock this holds; and a collection is fanned out only once one
// of its registrations may be sent to again (see the PostgreSQL store).
func (s *Store) ClaimPushDeliveries(ctx context.Context, now, lease time.Time, limit int) ([]store.PushDelivery, error) {
	var ds []store.PushDelivery
	err := s.write(ctx, "claim push deliveries", func(tx *sql.Tx) error {
		n := toMicros(now)
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_registrations WHERE expires <= $1`, n); err != nil {
			return err
		}
		const ready = `coalesce((SELECT min(coalesce(r2.not_before, 0)) FROM push_registrations r2
			WHERE r2.collection_id = p.collection_id), 0) <= $1`
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO push_deliveries (registration_id, modseq, property, due, changes)
			SELECT r.id, p.modseq, p.property, max($1, coalesce(r.not_before, $1)), p.changes FROM push_pending p JOIN push_registrations r ON r.collection_id = p.collection_id
			WHERE ((p.content AND r.content_update) OR (p.property AND r.property_update)) AND `+ready+`
			ON CONFLICT (registration_id) DO UPDATE
			SET modseq = max(push_deliveries.modseq, excluded.modseq),
				property = push_deliveries.property OR excluded.property,
				changes = push_deliveries.changes + excluded.changes`, n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_pending AS p WHERE `+ready, n); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT d.modseq, d.property, d.attempts + 1, d.changes, `+prefixed("r.", pushRegistrationColumns)+`
			FROM push_deliveries d JOIN push_registrations r ON r.id = d.registration_id
			WHERE d.due <= $1 ORDER BY d.due LIMIT $2`, n, limit)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var d store.PushDelivery
			if err := scanPushRegistration(rows, &d.Registration, &d.ModSeq, &d.Property, &d.Attempts, &d.Changes); err != nil {
				rows.Close()
				return err
			}
			ds = append(ds, d)
			ids = append(ids, d.Registration.ID)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		js, _ := json.Marshal(ids)
		_, err = tx.ExecContext(ctx, `UPDATE push_deliveries SET due = $2, attempts = attempts + 1, changes = 0
			WHERE registration_id IN (SELECT value FROM json_each($1))`, string(js), toMicros(lease))
		return err
	})
	return ds, err
}

// prefixed qualifies each of a comma-separated column list with p.
func prefixed(p, columns string) string {
	cs := strings.Split(columns, ",")
	for i, c := range cs {
		cs[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(cs, ", ")
}

// pushOutcome is one result as the JSON FinishPushDeliveries passes to
// json_each: registration, modseq, next or retry time (micros; 0: none)
// and error text.
type pushOutcome struct {
	ID     int64  `json:"id"`
	ModSeq int64  `json:"modseq"`
	At     int64  `json:"at"`
	Err    string `json:"err"`
}

// FinishPushDeliveries records the outcomes of claimed deliveries, a few
// statements whatever their number: the write lock is held briefly.
func (s *Store) FinishPushDeliveries(ctx context.Context, results []store.PushResult) error {
	var gone, sent, failed []pushOutcome
	for _, r := range results {
		switch {
		case r.Gone:
			gone = append(gone, pushOutcome{ID: r.RegistrationID})
		case r.Sent:
			sent = append(sent, pushOutcome{ID: r.RegistrationID, ModSeq: r.ModSeq, At: toMicros(r.NextAt)})
		default:
			o := pushOutcome{ID: r.RegistrationID, Err: r.Err}
			if !r.RetryAt.IsZero() {
				o.At = toMicros(r.RetryAt)
			}
			failed = append(failed, o)
		}
	}
	const v = `(SELECT value->>'id' AS id, value->>'modseq' AS modseq, value->>'at' AS at, value->>'err' AS err
		FROM json_each($1)) AS v`
	steps := []struct {
		rs []pushOutcome
		q  []string
	}{
		{gone, []string{`DELETE FROM push_registrations WHERE id IN (SELECT id FROM ` + v + `)`}},
		// Done, unless the collection changed again meanwhile: then
		// the next message waits for at, gathering the burst.
		{sent, []string{
			`UPDATE push_registrations SET last_delivery = $2, failures = 0, last_error = '', not_before = v.at
				FROM ` + v + ` WHERE push_registrations.id = v.id`,
			`DELETE FROM push_deliveries WHERE EXISTS (SELECT 1 FROM ` + v + `
				WHERE v.id = push_deliveries.registration_id AND push_deliveries.modseq <= v.modseq)`,
			`UPDATE push_deliveries SET due = v.at, attempts = 0, property = 0
				FROM ` + v + ` WHERE push_deliveries.registration_id = v.id`,
		}},
		// A zero at gives up on the message.
		{failed, []string{
			`UPDATE push_registrations SET failures = failures + 1, last_error = v.err
				FROM ` + v + ` WHERE push_registrations.id = v.id`,
			`DELETE FROM push_deliveries WHERE registration_id IN (SELECT id FROM ` + v + ` WHERE v.at = 0)`,
			`UPDATE push_deliveries SET due = v.at FROM ` + v + ` WHERE push_deliveries.registration_id = v.id AND v.at <> 0`,
		}},
	}
	t := toMicros(now())
	return s.write(ctx, "finish push deliveries", func(tx *sql.Tx) error {
		for _, st := range steps {
			if len(st.rs) == 0 {
				continue
			}
			js, err := json.Marshal(st.rs)
			if err != nil {
				return err
			}
			for _, q := range st.q {
				args := []any{string(js)}
				if strings.Contains(q, "$2") {
					args = append(args, t)
				}
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
