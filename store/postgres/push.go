package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/davenport-dav/davenport/store"
)

// EnsurePushKeys returns the stored VAPID key pair, storing gen's first.
// Two instances starting together both insert; ON CONFLICT keeps the first
// and both read it back.
func (s *Store) EnsurePushKeys(ctx context.Context, gen func() (string, string, error)) (string, string, error) {
	var priv, pub string
	err := s.pool.QueryRow(ctx, `SELECT private_key, public_key FROM push_keys WHERE id = 1`).Scan(&priv, &pub)
	if err == nil {
		return priv, pub, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", "", errorf("store: read push keys: %w", err)
	}
	gpriv, gpub, err := gen()
	if err != nil {
		return "", "", err
	}
	const q = `
		INSERT INTO push_keys (id, private_key, public_key) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`
	if _, err := s.pool.Exec(ctx, q, gpriv, gpub); err != nil {
		return "", "", errorf("store: store push keys: %w", err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT private_key, public_key FROM push_keys WHERE id = 1`).Scan(&priv, &pub); err != nil {
		return "", "", errorf("store: read push keys: %w", err)
	}
	return priv, pub, nil
}

const pushRegistrationColumns = `id, user_id, collection_id, push_resource, public_key, auth_secret,
	content_update, property_update, user_agent, expires, created, last_delivery, failures, last_error`

func scanPushRegistration(row pgx.Row, r *store.PushRegistration) error {
	return row.Scan(&r.ID, &r.UserID, &r.CollectionID, &r.PushResource, &r.PublicKey, &r.AuthSecret,
		&r.ContentUpdate, &r.PropertyUpdate, &r.UserAgent, &r.Expires, &r.Created, &r.LastDelivery,
		&r.Failures, &r.LastError)
}

// PutPushRegistration creates or refreshes r. The user's row lock
// serializes their registrations, so the cap holds under concurrency.
func (s *Store) PutPushRegistration(ctx context.Context, r *store.PushRegistration, maxPerUser int) (bool, error) {
	var created bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, r.UserID); err != nil {
			return err
		}
		const refresh = `
			UPDATE push_registrations SET public_key = $4, auth_secret = $5, content_update = $6,
				property_update = $7, user_agent = $8, expires = $9, failures = 0, last_error = ''
			WHERE user_id = $1 AND collection_id = $2 AND push_resource = $3
			RETURNING id, created`
		err := tx.QueryRow(ctx, refresh, r.UserID, r.CollectionID, r.PushResource, r.PublicKey, r.AuthSecret,
			r.ContentUpdate, r.PropertyUpdate, r.UserAgent, r.Expires).Scan(&r.ID, &r.Created)
		if err == nil {
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM push_registrations WHERE user_id = $1 AND expires > now()`,
			r.UserID).Scan(&n); err != nil {
			return err
		}
		if maxPerUser > 0 && n >= maxPerUser {
			return store.ErrTooMany
		}
		const insert = `
			INSERT INTO push_registrations (user_id, collection_id, push_resource, public_key, auth_secret,
				content_update, property_update, user_agent, expires)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			RETURNING id, created`
		created = true
		return tx.QueryRow(ctx, insert, r.UserID, r.CollectionID, r.PushResource, r.PublicKey, r.AuthSecret,
			r.ContentUpdate, r.PropertyUpdate, r.UserAgent, r.Expires).Scan(&r.ID, &r.Created)
	})
	if err != nil {
		if isUniqueViolation(err, "push_registrations_collection_id_push_resource_key") {
			// Another user registered the same push resource on the
			// collection: push resources are per client, so refuse.
			err = store.ErrConflict
		}
		return false, errorf("store: put push registration: %w", err)
	}
	return created, nil
}

// GetPushRegistration returns one of the user's registrations.
func (s *Store) GetPushRegistration(ctx context.Context, userID, id int64) (*store.PushRegistration, error) {
	var r store.PushRegistration
	err := scanPushRegistration(s.pool.QueryRow(ctx,
		`SELECT `+pushRegistrationColumns+` FROM push_registrations WHERE id = $1 AND user_id = $2`, id, userID), &r)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, errorf("store: get push registration %d: %w", id, err)
	}
	return &r, nil
}

// ListPushRegistrations returns the user's registrations by id.
func (s *Store) ListPushRegistrations(ctx context.Context, userID int64) ([]store.PushRegistration, error) {
	rows, _ := s.pool.Query(ctx,
		`SELECT `+pushRegistrationColumns+` FROM push_registrations WHERE user_id = $1 ORDER BY id`, userID)
	rs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.PushRegistration, error) {
		var r store.PushRegistration
		err := scanPushRegistration(row, &r)
		return r, err
	})
	if err != nil {
		return nil, errorf("store: list push registrations of user %d: %w", userID, err)
	}
	return rs, nil
}

// DeletePushRegistration removes one of the user's registrations.
func (s *Store) DeletePushRegistration(ctx context.Context, userID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM push_registrations WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return errorf("store: delete push registration %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return errorf("store: delete push registration %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// queuePushSQL records a change of collection $1 at its current modseq
// when it has registrations ($2: a property change, else content); one row
// per collection, so a burst updates one row.
const queuePushSQL = `
	INSERT INTO push_pending (collection_id, modseq, property, content)
	SELECT c.id, c.modseq, $2, NOT $2 FROM collections c
	WHERE c.id = $1 AND EXISTS (SELECT 1 FROM push_registrations WHERE collection_id = $1)
	ON CONFLICT (collection_id) DO UPDATE
	SET modseq = GREATEST(push_pending.modseq, excluded.modseq), property = push_pending.property OR excluded.property,
		changes = push_pending.changes + 1, content = push_pending.content OR excluded.content`

// QueuePush queues a message for the collection at its current modseq.
func (s *Store) QueuePush(ctx context.Context, collectionID int64, property bool) error {
	if _, err := s.pool.Exec(ctx, queuePushSQL, collectionID, property); err != nil {
		return errorf("store: queue push for collection %d: %w", collectionID, err)
	}
	return nil
}

// queuePropertyPush queues a WebDAV-Push property-update for the
// collection in the transaction of the change (PROPPATCH, sharing), so the
// message goes exactly when the change commits.
func queuePropertyPush(ctx context.Context, tx pgx.Tx, collectionID int64) error {
	_, err := tx.Exec(ctx, queuePushSQL, collectionID, true)
	return err
}

// ClaimPushDeliveries fans queued changes out to deliveries and claims due
// ones. Both steps skip rows another instance holds (FOR UPDATE SKIP
// LOCKED), and a claimed delivery's due time moves to the lease, so each
// change is sent by one instance.
//
// Writers upsert a collection's push_pending row in their transaction, so
// while the fan-out holds that row they wait: each step is one statement,
// its own transaction, holding the row only for that statement. And a
// collection is fanned out only once one of its registrations may be sent
// to again: during a registration's coalescing interval (not_before) the
// changes gather in the one pending row instead of rewriting a delivery
// row per registration at every poll (a collection left without
// registrations is cleared at once).
func (s *Store) ClaimPushDeliveries(ctx context.Context, now, lease time.Time, limit int) ([]store.PushDelivery, error) {
	if _, err := s.pool.Exec(ctx, `DELETE FROM push_registrations WHERE expires <= $1`, now); err != nil {
		return nil, errorf("store: expire push registrations: %w", err)
	}
	const fanout = `
		WITH p AS (
			DELETE FROM push_pending WHERE collection_id IN (
				SELECT p.collection_id FROM push_pending p
				WHERE coalesce((SELECT min(coalesce(r.not_before, '-infinity')) FROM push_registrations r
					WHERE r.collection_id = p.collection_id), '-infinity') <= $1
				FOR UPDATE OF p SKIP LOCKED LIMIT 1000)
			RETURNING collection_id, modseq, property, changes, content)
		INSERT INTO push_deliveries (registration_id, modseq, property, due, changes)
		SELECT r.id, p.modseq, p.property, GREATEST($1, r.not_before), p.changes FROM p JOIN push_registrations r ON r.collection_id = p.collection_id
		WHERE (p.content AND r.content_update) OR (p.property AND r.property_update)
		ON CONFLICT (registration_id) DO UPDATE
		SET modseq = GREATEST(push_deliveries.modseq, excluded.modseq),
			property = push_deliveries.property OR excluded.property,
			changes = push_deliveries.changes + excluded.changes`
	if _, err := s.pool.Exec(ctx, fanout, now); err != nil {
		return nil, errorf("store: fan out push messages: %w", err)
	}
	const claim = `
		UPDATE push_deliveries d SET due = $2, attempts = d.attempts + 1, changes = 0
		FROM (SELECT registration_id, changes FROM push_deliveries WHERE due <= $1 ORDER BY due
			FOR UPDATE SKIP LOCKED LIMIT $3) c, push_registrations r
		WHERE d.registration_id = c.registration_id AND r.id = d.registration_id
		RETURNING d.modseq, d.property, d.attempts, c.changes, r.id, r.user_id, r.collection_id, r.push_resource,
			r.public_key, r.auth_secret, r.content_update, r.property_update, r.user_agent, r.expires,
			r.created, r.last_delivery, r.failures, r.last_error`
	rows, _ := s.pool.Query(ctx, claim, now, lease, limit)
	ds, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.PushDelivery, error) {
		var d store.PushDelivery
		r := &d.Registration
		err := row.Scan(&d.ModSeq, &d.Property, &d.Attempts, &d.Changes,
			&r.ID, &r.UserID, &r.CollectionID, &r.PushResource, &r.PublicKey, &r.AuthSecret,
			&r.ContentUpdate, &r.PropertyUpdate, &r.UserAgent, &r.Expires, &r.Created, &r.LastDelivery,
			&r.Failures, &r.LastError)
		return d, err
	})
	if err != nil {
		return nil, errorf("store: claim push deliveries: %w", err)
	}
	return ds, nil
}

// FinishPushDeliveries records the outcomes of claimed deliveries: one
// statement per kind of outcome, whatever their number, sent in one round
// trip.
func (s *Store) FinishPushDeliveries(ctx context.Context, results []store.PushResult) error {
	var (
		gone                 []int64
		sentIDs, sentModSeqs []int64
		sentNext             []time.Time
		failIDs              []int64
		failErrs             []string
		failRetry            []pgtype.Timestamptz
	)
	for _, r := range results {
		switch {
		case r.Gone:
			gone = append(gone, r.RegistrationID)
		case r.Sent:
			sentIDs, sentModSeqs = append(sentIDs, r.RegistrationID), append(sentModSeqs, r.ModSeq)
			sentNext = append(sentNext, r.NextAt)
		default:
			failIDs, failErrs = append(failIDs, r.RegistrationID), append(failErrs, r.Err)
			failRetry = append(failRetry, pgtype.Timestamptz{Time: r.RetryAt, Valid: !r.RetryAt.IsZero()})
		}
	}
	var b pgx.Batch
	if len(gone) > 0 {
		b.Queue(`DELETE FROM push_registrations WHERE id = ANY($1)`, gone)
	}
	if len(sentIDs) > 0 {
		// Done, unless the collection changed again meanwhile: then the
		// next message waits for next_at, gathering the burst. The
		// DELETE and the UPDATE touch disjoint rows (modseq <= or >),
		// as one statement must.
		b.Queue(`
			WITH v AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS v (id, modseq, next_at)),
			r AS (UPDATE push_registrations r SET last_delivery = now(), failures = 0, last_error = '', not_before = v.next_at
				FROM v WHERE r.id = v.id),
			d AS (DELETE FROM push_deliveries d USING v WHERE d.registration_id = v.id AND d.modseq <= v.modseq)
			UPDATE push_deliveries d SET due = v.next_at, attempts = 0, property = false
			FROM v WHERE d.registration_id = v.id AND d.modseq > v.modseq`, sentIDs, sentModSeqs, sentNext)
	}
	if len(failIDs) > 0 {
		// A null retry_at gives up on the message.
		b.Queue(`
			WITH v AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS v (id, err, retry_at)),
			r AS (UPDATE push_registrations r SET failures = r.failures + 1, last_error = v.err FROM v WHERE r.id = v.id),
			d AS (DELETE FROM push_deliveries d USING v WHERE d.registration_id = v.id AND v.retry_at IS NULL)
			UPDATE push_deliveries d SET due = v.retry_at FROM v WHERE d.registration_id = v.id AND v.retry_at IS NOT NULL`,
			failIDs, failErrs, failRetry)
	}
	if b.Len() == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx pgx.Tx) error { return tx.SendBatch(ctx, &b).Close() })
	if err != nil {
		return errorf("store: finish %d push deliveries: %w", len(results), err)
	}
	return nil
}
