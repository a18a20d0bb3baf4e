package postgres

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// credentialsChannel is the channel migration 000028's triggers notify on
// when credentials change; the payload is "SCHEMA USER_ID".
const credentialsChannel = "davenport_credentials"

// Back-off between attempts to restore the listening connection.
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 10 * time.Second
)

// WatchCredentials listens on a connection of its own, outside the pool (a
// LISTEN holds its session for as long as it listens, and a pooled
// connection may be handed to anyone): a pooler in transaction mode
// between Davenport and PostgreSQL would break it, so the DSN must reach
// PostgreSQL or a pooler in session mode (docs/scaling.md). Notifications
// for other schemas of the same database are ignored.
func (s *Store) WatchCredentials(ctx context.Context, changed func(userID int64)) error {
	wait := listenRetryMin
	for {
		err := s.listen(ctx, changed, func() { wait = listenRetryMin })
		if ctx.Err() != nil {
			return nil
		}
		s.logger.Warn("store: postgres: listening for credential changes failed; retrying", "err", err, "retry_in", wait)
		// Up to half again, so that instances cut off together do not all
		// come back in the same instant.
		d := wait + rand.N(wait/2+1)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
		wait = min(2*wait, listenRetryMax)
	}
}

// listen connects, listens, reports changed(0) (whatever happened while
// nobody listened is unknown), calls connected, then reports each
// notification for this schema until the connection or ctx ends.
func (s *Store) listen(ctx context.Context, changed func(userID int64), connected func()) error {
	cc := s.connConfig.Copy()
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	// Named for pg_stat_activity: an operator (or a test) can tell it
	// from the pool's connections.
	if _, err := conn.Exec(ctx, `SELECT set_config('application_name', $1, false)`, listenerName(schema)); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+credentialsChannel); err != nil {
		return err
	}
	changed(0)
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		i := strings.LastIndexByte(n.Payload, ' ')
		if i < 0 || n.Payload[:i] != schema {
			continue
		}
		uid, err := strconv.ParseInt(n.Payload[i+1:], 10, 64)
		if err != nil {
			s.logger.Warn("store: postgres: malformed credentials notification", "payload", n.Payload)
			uid = 0
		}
		changed(uid)
	}
}

// listenerName is the application_name of the listening connection.
func listenerName(schema string) string {
	return "davenport credentials listener " + schema
}
