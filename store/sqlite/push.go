package sqlite

import (
	"context"
	"database/sql"
	"errors"
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
	return s.write(ctx, "queue push", func(tx *sql.Tx) error {
		var modseq int64
		err := tx.QueryRowContext(ctx, `SELECT modseq FROM collections WHERE id = $1`, collectionID).Scan(&modseq)
		if err != nil {
			return err
		}
		_, err = tx.StmtContext(ctx, s.st.queuePush).ExecContext(ctx, collectionID, modseq, property)
		return err
	})
}

// ClaimPushDeliveries fans queued changes out to deliveries and claims due
// ones; SQLite's one writer makes the claim exclusive.
func (s *Store) ClaimPushDeliveries(ctx context.Context, now, lease time.Time, limit int) ([]store.PushDelivery, error) {
	var ds []store.PushDelivery
	err := s.write(ctx, "claim push deliveries", func(tx *sql.Tx) error {
		n := toMicros(now)
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_registrations WHERE expires <= $1`, n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO push_deliveries (registration_id, modseq, property, due, changes)
			SELECT r.id, p.modseq, p.property, max($1, coalesce(r.not_before, $1)), p.changes FROM push_pending p JOIN push_registrations r ON r.collection_id = p.collection_id
			WHERE (p.content AND r.content_update) OR (p.property AND r.property_update)
			ON CONFLICT (registration_id) DO UPDATE
			SET modseq = max(push_deliveries.modseq, excluded.modseq),
				property = push_deliveries.property OR excluded.property,
				changes = push_deliveries.changes + excluded.changes`, n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_pending`); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT registration_id, modseq, property, attempts + 1, changes FROM push_deliveries
			WHERE due <= $1 ORDER BY due LIMIT $2`, n, limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d store.PushDelivery
			if err := rows.Scan(&d.Registration.ID, &d.ModSeq, &d.Property, &d.Attempts, &d.Changes); err != nil {
				rows.Close()
				return err
			}
			ds = append(ds, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range ds {
			d := &ds[i]
			if _, err := tx.ExecContext(ctx, `UPDATE push_deliveries SET due = $2, attempts = attempts + 1, changes = 0
				WHERE registration_id = $1`, d.Registration.ID, toMicros(lease)); err != nil {
				return err
			}
			if err := scanPushRegistration(tx.QueryRowContext(ctx,
				`SELECT `+pushRegistrationColumns+` FROM push_registrations WHERE id = $1`, d.Registration.ID),
				&d.Registration); err != nil {
				return err
			}
		}
		return nil
	})
	return ds, err
}

// FinishPushDeliveries records the outcomes of claimed deliveries.
func (s *Store) FinishPushDeliveries(ctx context.Context, results []store.PushResult) error {
	return s.write(ctx, "finish push deliveries", func(tx *sql.Tx) error {
		for _, r := range results {
			if err := finishPushDelivery(ctx, tx, r.RegistrationID, r.ModSeq, r.PushOutcome); err != nil {
				return err
			}
		}
		return nil
	})
}

func finishPushDelivery(ctx context.Context, tx *sql.Tx, registrationID, modseq int64, o store.PushOutcome) error {
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	switch {
	case o.Gone:
		return exec(`DELETE FROM push_registrations WHERE id = $1`, registrationID)
	case o.Sent:
		if err := exec(`UPDATE push_registrations SET last_delivery = $2, failures = 0, last_error = '', not_before = $3
			WHERE id = $1`, registrationID, toMicros(now()), toMicros(o.NextAt)); err != nil {
			return err
		}
		if err := exec(`DELETE FROM push_deliveries WHERE registration_id = $1 AND modseq <= $2`,
			registrationID, modseq); err != nil {
			return err
		}
		return exec(`UPDATE push_deliveries SET due = $2, attempts = 0, property = 0 WHERE registration_id = $1`,
			registrationID, toMicros(o.NextAt))
	}
	if err := exec(`UPDATE push_registrations SET failures = failures + 1, last_error = $2 WHERE id = $1`,
		registrationID, o.Err); err != nil {
		return err
	}
	if o.RetryAt.IsZero() {
		return exec(`DELETE FROM push_deliveries WHERE registration_id = $1`, registrationID)
	}
	return exec(`UPDATE push_deliveries SET due = $2 WHERE registration_id = $1`, registrationID, toMicros(o.RetryAt))
}
