package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store"
)

const mailColumns = `id, user_id, uid, sender, recipient, method, body, attempts, next_attempt, last_error, created`

func scanMail(row pgx.CollectableRow) (store.Mail, error) {
	var m store.Mail
	err := row.Scan(&m.ID, &m.UserID, &m.UID, &m.From, &m.To, &m.Method, &m.Body, &m.Attempts,
		&m.NextAttempt, &m.LastError, &m.Created)
	return m, err
}

// queueMail inserts mail in tx, the transaction of the write that causes it.
func queueMail(ctx context.Context, tx pgx.Tx, mail []store.Mail) error {
	for i := range mail {
		m := &mail[i]
		const q = `INSERT INTO mail_queue (user_id, uid, sender, recipient, method, body)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, next_attempt, created`
		if err := tx.QueryRow(ctx, q, m.UserID, m.UID, m.From, m.To, m.Method, m.Body).
			Scan(&m.ID, &m.NextAttempt, &m.Created); err != nil {
			return err
		}
	}
	return nil
}

// ClaimMail takes due messages with FOR UPDATE SKIP LOCKED: a row another
// transaction is claiming is skipped, not waited for, and once claimed its
// next_attempt is in the future, so no other sender takes it.
func (s *Store) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Mail, error) {
	const q = `
		WITH due AS (
			SELECT id FROM mail_queue WHERE next_attempt <= $1
			ORDER BY next_attempt, id LIMIT $3
			FOR UPDATE SKIP LOCKED
		)
		UPDATE mail_queue m SET next_attempt = $2, attempts = m.attempts + 1
		FROM due WHERE m.id = due.id
		RETURNING m.id, m.user_id, m.uid, m.sender, m.recipient, m.method, m.body,
			m.attempts, m.next_attempt, m.last_error, m.created`
	rows, _ := s.pool.Query(ctx, q, now, now.Add(lease), limit)
	mail, err := pgx.CollectRows(rows, scanMail)
	if err != nil {
		return nil, errorf("store: claim mail: %w", err)
	}
	return mail, nil
}

// RetryMail makes a claimed message due again at at.
func (s *Store) RetryMail(ctx context.Context, id int64, at time.Time, lastError string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE mail_queue SET next_attempt = $2, last_error = $3 WHERE id = $1`, id, at, lastError)
	if err != nil {
		return errorf("store: retry mail: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errorf("store: retry mail %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// DeleteMail removes a message from the queue.
func (s *Store) DeleteMail(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM mail_queue WHERE id = $1`, id)
	if err != nil {
		return errorf("store: delete mail: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errorf("store: delete mail %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// ListMail returns the queue, oldest first.
func (s *Store) ListMail(ctx context.Context) ([]store.Mail, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+mailColumns+` FROM mail_queue ORDER BY id`)
	mail, err := pgx.CollectRows(rows, scanMail)
	if err != nil {
		return nil, errorf("store: list mail: %w", err)
	}
	return mail, nil
}

// CountMail counts the queue by state, over at most store.MaxMailCount rows.
func (s *Store) CountMail(ctx context.Context, now time.Time) (due, waiting int, err error) {
	const q = `
		SELECT count(*) FILTER (WHERE next_attempt <= $1), count(*) FILTER (WHERE next_attempt > $1)
		FROM (SELECT next_attempt FROM mail_queue LIMIT $2) m`
	if err := s.pool.QueryRow(ctx, q, now, store.MaxMailCount).Scan(&due, &waiting); err != nil {
		return 0, 0, errorf("store: count mail: %w", err)
	}
	return due, waiting, nil
}

// QueueMail queues mail on its own.
func (s *Store) QueueMail(ctx context.Context, mail []store.Mail) error {
	if err := s.tx(ctx, func(tx pgx.Tx) error { return queueMail(ctx, tx, mail) }); err != nil {
		return errorf("store: queue mail: %w", err)
	}
	return nil
}
