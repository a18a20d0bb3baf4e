package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/davenport-dav/davenport/store"
)

const mailColumns = `id, user_id, uid, sender, recipient, method, body, attempts, next_attempt, last_error, created`

func scanMail(rows *sql.Rows) ([]store.Mail, error) {
	defer rows.Close()
	var out []store.Mail
	for rows.Next() {
		m, err := scanOneMail(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// scanOneMail scans one row of mailColumns.
func scanOneMail(row scanner) (store.Mail, error) {
	var (
		m             store.Mail
		next, created int64
	)
	err := row.Scan(&m.ID, &m.UserID, &m.UID, &m.From, &m.To, &m.Method, &m.Body, &m.Attempts,
		&next, &m.LastError, &created)
	m.NextAttempt, m.Created = fromMicros(next), fromMicros(created)
	return m, err
}

// queueMail inserts mail in tx, the transaction of the write that causes it,
// due at t.
func queueMail(ctx context.Context, tx *sql.Tx, mail []store.Mail, t time.Time) error {
	for i := range mail {
		m := &mail[i]
		const q = `INSERT INTO mail_queue (user_id, uid, sender, recipient, method, body, next_attempt, created)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`
		if err := tx.QueryRowContext(ctx, q, m.UserID, m.UID, m.From, m.To, m.Method, m.Body, toMicros(t)).Scan(&m.ID); err != nil {
			return fmt.Errorf("queue mail: %w", err)
		}
		m.NextAttempt, m.Created = t, t
	}
	return nil
}

// ClaimMail takes due messages in one write transaction: SQLite runs one
// writer at a time, so two senders never claim the same row.
func (s *Store) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Mail, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var mail []store.Mail
	err := s.write(ctx, "claim mail", func(tx *sql.Tx) error {
		const q = `
			UPDATE mail_queue SET next_attempt = $2, attempts = attempts + 1
			WHERE id IN (SELECT id FROM mail_queue WHERE next_attempt <= $1 ORDER BY next_attempt, id LIMIT $3)
			RETURNING ` + mailColumns
		rows, err := tx.QueryContext(ctx, q, toMicros(now), toMicros(now.Add(lease)), limit)
		if err != nil {
			return err
		}
		mail, err = scanMail(rows)
		return err
	})
	return mail, err
}

// RetryMail makes a claimed message due again at at.
func (s *Store) RetryMail(ctx context.Context, id int64, at time.Time, lastError string) error {
	return s.mailExec(ctx, "retry mail", `UPDATE mail_queue SET next_attempt = $2, last_error = $3 WHERE id = $1`, id, toMicros(at), lastError)
}

// DeleteMail removes a message from the queue.
func (s *Store) DeleteMail(ctx context.Context, id int64) error {
	return s.mailExec(ctx, "delete mail", `DELETE FROM mail_queue WHERE id = $1`, id)
}

func (s *Store) mailExec(ctx context.Context, op, q string, args ...any) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// CountMail counts the queue by state, over at most store.MaxMailCount rows.
func (s *Store) CountMail(ctx context.Context, now time.Time) (due, waiting int, err error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err = s.read(ctx, "count mail", func(tx *sql.Tx) error {
		const q = `
			SELECT coalesce(sum(next_attempt <= $1), 0), coalesce(sum(next_attempt > $1), 0)
			FROM (SELECT next_attempt FROM mail_queue LIMIT $2)`
		return tx.QueryRowContext(ctx, q, toMicros(now), store.MaxMailCount).Scan(&due, &waiting)
	})
	return due, waiting, err
}

// ListMail returns the queue, oldest first.
func (s *Store) ListMail(ctx context.Context) ([]store.Mail, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var mail []store.Mail
	err := s.read(ctx, "list mail", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+mailColumns+` FROM mail_queue ORDER BY id`)
		if err != nil {
			return err
		}
		mail, err = scanMail(rows)
		return err
	})
	return mail, err
}

// QueueMail queues mail on its own.
func (s *Store) QueueMail(ctx context.Context, mail []store.Mail) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.write(ctx, "queue mail", func(tx *sql.Tx) error { return queueMail(ctx, tx, mail, now()) })
}
