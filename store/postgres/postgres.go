package postgres

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/davenport-dav/davenport/store"
)

// Store is a PostgreSQL-backed store.Store.
type Store struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	// connConfig opens connections outside the pool (WatchCredentials).
	connConfig *pgx.ConnConfig
	// noHistory turns the version history and trash off (SetHistory).
	noHistory atomic.Bool
}

// SetHistory turns the version history and trash on (the default) or off.
// Off, writes keep no previous versions and deleted collections are gone at
// once; what is kept already stays until pruned.
func (s *Store) SetHistory(on bool) { s.noHistory.Store(!on) }

func (s *Store) history() bool { return !s.noHistory.Load() }

var _ store.Store = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or key=value
// string; a search_path parameter selects the schema), migrates its schema up
// to the embedded version and returns the store. A schema newer than this
// binary's is refused with store.ErrSchemaTooNew and left untouched.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	return OpenOptions(ctx, dsn, logger, Options{})
}

// Options tune the PostgreSQL store.
type Options struct {
	// StatementTimeout is the statement_timeout of every pooled
	// connection: PostgreSQL cancels a statement running longer (SQLSTATE
	// 57014, reported as store.ErrUnavailable), so one slow query cannot
	// hold a pool connection and the row locks it took. 0 keeps the
	// server's setting. A statement_timeout given in the DSN wins.
	StatementTimeout time.Duration
}

// OpenOptions is Open with options.
func OpenOptions(ctx context.Context, dsn string, logger *slog.Logger, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errorf("store: postgres: parse dsn: %w", err)
	}
	from, to, err := migrateUp(ctx, cfg.ConnConfig, logger)
	if err != nil {
		return nil, err
	}
	if from != to {
		logger.Info("migrated database schema", "from_version", from, "to_version", to)
	}
	// After the migrations, which may rightly run long (an index build).
	if _, set := cfg.ConnConfig.RuntimeParams["statement_timeout"]; !set && opts.StatementTimeout > 0 {
		// Milliseconds, at least 1: "0" would mean no limit.
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(max(opts.StatementTimeout.Milliseconds(), 1), 10)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, errorf("store: postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, errorf("store: postgres: ping: %w", err)
	}
	return &Store{pool: pool, logger: logger, connConfig: cfg.ConnConfig.Copy()}, nil
}

// Migrate applies every pending migration to the database at dsn and reports
// the schema version before and after; `davenport migrate` calls it. It
// refuses a newer schema like Open does.
func Migrate(ctx context.Context, dsn string) (from, to uint, err error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return 0, 0, errorf("store: postgres: parse dsn: %w", err)
	}
	return migrateUp(ctx, cfg, nil)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return errorf("store: ping: %w", err)
	}
	return nil
}

// Close closes every connection of the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// tx runs fn in a transaction, committed when fn returns nil and rolled back
// otherwise. fn's error is returned unchanged.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// PostgreSQL error codes (Appendix A of the PostgreSQL manual).
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// errorf is fmt.Errorf for the errors the store returns: a failure that
// passes (see unavailable) is also marked store.ErrUnavailable, so the HTTP
// layer answers 503 with Retry-After instead of 500.
func errorf(format string, args ...any) error {
	return store.Errorf(unavailable, format, args...)
}

// unavailable reports whether err means the database could not do the work
// for a reason that passes, rather than that the work was wrong: the
// connection could not be made or was lost (a restart, a network cut), the
// server is shutting down or starting (SQLSTATE 57P01-57P03), refuses more
// connections (53300), a connection-class error (08xxx), or a statement or
// pool wait ran out of time (57014 query_canceled, which statement_timeout
// raises; a context deadline). A request the client itself abandoned
// (context.Canceled) is not one: nobody waits for the answer.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch c := pgErr.Code; {
		case strings.HasPrefix(c, "08"), c == "57P01", c == "57P02", c == "57P03", c == "53300", c == "57014":
			return true
		}
		// Any other server error is an answer to the statement: the
		// database is there.
		var ce *pgconn.ConnectError
		return errors.As(err, &ce)
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded)
}

// pgError returns the server error with the given code in err's chain.
func pgError(err error, code string) (*pgconn.PgError, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == code {
		return pgErr, true
	}
	return nil, false
}

// isUniqueViolation reports whether err violates the named unique constraint,
// or any unique constraint when constraint is "".
func isUniqueViolation(err error, constraint string) bool {
	pgErr, ok := pgError(err, codeUniqueViolation)
	return ok && (constraint == "" || pgErr.ConstraintName == constraint)
}

// isForeignKeyViolation reports whether err references a missing row.
func isForeignKeyViolation(err error) bool {
	_, ok := pgError(err, codeForeignKeyViolation)
	return ok
}

// notFound turns pgx.ErrNoRows into store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
