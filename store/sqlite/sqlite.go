package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-migrate/migrate/v4"
	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/davenport-dav/davenport/migrations"
	"github.com/davenport-dav/davenport/store"
)

// busyTimeout bounds how long a connection waits for a lock held by another
// process on the same file before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Synchronous is SQLite's synchronous setting for the write-ahead log
// (https://sqlite.org/pragma.html#pragma_synchronous).
type Synchronous string

const (
	// SyncFull syncs the log to disk at every commit: an acknowledged
	// write survives a power loss or an operating-system crash. The
	// default.
	SyncFull Synchronous = "full"
	// SyncNormal syncs only at checkpoints: faster writes, still safe
	// against a crash of Davenport itself, but the last commits before a
	// power loss or kernel crash can vanish although they were
	// acknowledged.
	SyncNormal Synchronous = "normal"
)

// ParseSynchronous reads "full" or "normal" (any case).
func ParseSynchronous(v string) (Synchronous, error) {
	switch s := Synchronous(strings.ToLower(strings.TrimSpace(v))); s {
	case SyncFull, SyncNormal:
		return s, nil
	}
	return "", fmt.Errorf("sqlite: synchronous %q: want full or normal", v)
}

// Options tune the embedded store. The zero value is the safe default.
type Options struct {
	// Synchronous is SyncFull when empty.
	Synchronous Synchronous
	// StatementTimeout bounds the database work of one store call: when
	// it runs out the statement is interrupted (sqlite3_interrupt, through
	// the context) and the call fails with store.ErrUnavailable, so one
	// slow query cannot hold the writer or a reader. 0 means no bound.
	StatementTimeout time.Duration
}

// Store is the embedded implementation of store.Store.
type Store struct {
	path    string
	timeout time.Duration
	w       *sql.DB // one connection; every write transaction
	r       *sql.DB // query_only pool; reads
	st      statements
	logger  *slog.Logger
	// noHistory turns the version history and trash off (SetHistory).
	noHistory atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it when missing) the database at path, applies the
// embedded migrations and returns the store. It creates the parent directory
// (mode 0700) when needed. It refuses, changing nothing, a file that is not a
// SQLite database, a database that fails SQLite's integrity check, a
// database of another application, one left dirty by a failed migration, and
// one whose schema is newer than this binary (store.ErrSchemaTooNew).
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	return OpenOptions(ctx, path, logger, Options{})
}

// OpenOptions is Open with options.
func OpenOptions(ctx context.Context, path string, logger *slog.Logger, opts Options) (*Store, error) {
	if opts.Synchronous == "" {
		opts.Synchronous = SyncFull
	}
	if _, err := ParseSynchronous(string(opts.Synchronous)); err != nil {
		return nil, err
	}
	if logger == nil {
		return nil, errors.New("sqlite: open: nil logger")
	}
	abs, from, to, err := migrateFile(ctx, path, logger)
	if err != nil {
		return nil, err
	}
	if from != to {
		logger.Info("sqlite: schema migrated", "path", abs, "from", from, "to", to)
	}

	w, err := sql.Open("sqlite", dsn(abs, "rwc", writerParamsSync(opts.Synchronous)))
	if err != nil {
		return nil, errorf("sqlite: open %s: %w", abs, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	r, err := sql.Open("sqlite", dsn(abs, "rw", readerParams(opts.Synchronous)))
	if err != nil {
		w.Close()
		return nil, errorf("sqlite: open %s: %w", abs, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)

	s := &Store{path: abs, timeout: opts.StatementTimeout, w: w, r: r, logger: logger}
	// Opening is not one store call: the first connections run their pragmas
	// under the caller's context alone, not the statement timeout.
	if err := s.ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepareStatements(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Migrate applies the embedded migrations to the database at path (creating
// it when missing) and reports the schema version before and after. It
// refuses the same files Open refuses.
func Migrate(ctx context.Context, path string) (from, to uint, err error) {
	_, from, to, err = migrateFile(ctx, path, nil)
	return from, to, err
}

// Ping checks that both the writer and a reader connection answer.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.ping(ctx)
}

func (s *Store) ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return errorf("sqlite: ping %s: %w", s.path, err)
	}
	if err := s.r.PingContext(ctx); err != nil {
		return errorf("sqlite: ping %s: %w", s.path, err)
	}
	return nil
}

// Close closes the prepared statements, the readers, then the writer; the
// last connection to close checkpoints the write-ahead log into the database
// file.
func (s *Store) Close() error {
	return errors.Join(s.st.close(), s.r.Close(), s.w.Close())
}

// Connection parameters. Pragmas given in the DSN run on every new
// connection. journal_mode=WAL is persistent in the file; it is set by the
// writer (and by the migration connection, the first to touch a new file).
// Durability: in WAL mode synchronous=FULL syncs the log at every commit,
// so a write Davenport acknowledged survives a power loss; NORMAL syncs at
// checkpoints only (see SyncNormal), which an operator may choose for speed.
func writerParams() []string { return writerParamsSync(SyncFull) }

func writerParamsSync(sync Synchronous) []string {
	return []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=journal_mode(WAL)",
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(" + strings.ToUpper(string(sync)) + ")",
		// The writer starts every transaction with BEGIN IMMEDIATE: it
		// takes the write lock up front, so a transaction that reads and
		// then writes can never fail half-way on a lock upgrade.
		"_txlock=immediate",
	}
}

func readerParams(sync Synchronous) []string {
	return []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(" + strings.ToUpper(string(sync)) + ")",
		"_pragma=query_only(1)",
	}
}

// dsn builds a SQLite URI for path (absolute). The characters SQLite's URI
// parser gives a meaning to are percent-escaped so any file name works.
func dsn(path, mode string, params []string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	return "file:" + esc + "?mode=" + mode + "&" + strings.Join(params, "&")
}

// sqliteHeader is the magic string every SQLite 3 database file starts with.
const sqliteHeader = "SQLite format 3\x00"

// migrateFile checks the file at path and brings its schema to the embedded
// version. It returns the absolute path and the versions before and after.
func migrateFile(ctx context.Context, path string, logger *slog.Logger) (abs string, from, to uint, err error) {
	if path == "" {
		return "", 0, 0, errors.New("sqlite: open: empty database path")
	}
	abs, err = filepath.Abs(path)
	if err != nil {
		return "", 0, 0, errorf("sqlite: open %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return abs, 0, 0, errorf("sqlite: cannot create database directory %s: %w", dir, err)
	}
	if err := checkWritable(abs); err != nil {
		return abs, 0, 0, err
	}

	src, err := iofs.New(migrations.SQLite, "sqlite")
	if err != nil {
		return abs, 0, 0, errorf("sqlite: read embedded migrations: %w", err)
	}
	defer src.Close()
	latest, err := latestVersion(src)
	if err != nil {
		return abs, 0, 0, errorf("sqlite: read embedded migrations: %w", err)
	}

	// Inspect an existing file read-only before anything may write to it.
	from, err = inspect(ctx, abs, latest)
	if err != nil {
		return abs, 0, 0, err
	}
	if from == latest {
		return abs, from, from, nil
	}

	// A connection of its own for golang-migrate: its driver closes the
	// *sql.DB it is given.
	db, err := sql.Open("sqlite", dsn(abs, "rwc", writerParams()))
	if err != nil {
		return abs, 0, 0, errorf("sqlite: open %s: %w", abs, err)
	}
	db.SetMaxOpenConns(1)
	drv, err := migratesqlite.WithInstance(db, &migratesqlite.Config{})
	if err != nil {
		db.Close()
		return abs, 0, 0, errorf("sqlite: open %s: %w", abs, err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "sqlite", drv)
	if err != nil {
		drv.Close()
		return abs, 0, 0, errorf("sqlite: migrate %s: %w", abs, err)
	}
	if logger != nil {
		m.Log = migrateLogger{logger}
	}
	defer m.Close()
	if from >= 1 && from < canonicalUsernamesVersion {
		if err := canonicalizeUsernames(ctx, db); err != nil {
			return abs, from, from, fmt.Errorf("sqlite: %s: %w", abs, err)
		}
	}
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return abs, from, 0, errorf("sqlite: migrate %s from version %d: %w", abs, from, err)
	}
	v, dirty, err := m.Version()
	if err != nil {
		return abs, from, 0, errorf("sqlite: migrate %s: read version: %w", abs, err)
	}
	if dirty {
		return abs, from, v, errorf("sqlite: migrate %s: version %d left dirty", abs, v)
	}
	if from >= 1 && from < searchTermsVersion && v >= searchTermsVersion {
		if err := backfillSearchTerms(ctx, db); err != nil {
			return abs, from, v, errorf("sqlite: %s: %w", abs, err)
		}
	}
	return abs, from, v, nil
}

// checkWritable fails with a message naming the path when the database file
// or its directory cannot be written: SQLite's own "unable to open database
// file" names neither.
func checkWritable(abs string) error {
	fi, err := os.Stat(abs)
	switch {
	case err == nil:
		if !fi.Mode().IsRegular() {
			return errorf("sqlite: open %s: not a regular file", abs)
		}
		f, err := os.OpenFile(abs, os.O_RDWR, 0)
		if err != nil {
			return errorf("sqlite: database file %s is not writable: %w", abs, err)
		}
		f.Close()
	case !errors.Is(err, fs.ErrNotExist):
		return errorf("sqlite: open %s: %w", abs, err)
	}
	// The write-ahead log and shared-memory index live next to the file.
	dir := filepath.Dir(abs)
	f, err := os.CreateTemp(dir, ".davenport-probe-*")
	if err != nil {
		return errorf("sqlite: database directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// inspect opens an existing, non-empty database file read-only and returns its
// schema version (0 for a file without tables). It fails, having written
// nothing to the file, when the file is not a SQLite database, does not pass
// quick_check, belongs to another application, is dirty, or is newer than
// latest.
func inspect(ctx context.Context, abs string, latest uint) (uint, error) {
	f, err := os.Open(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, errorf("sqlite: open %s: %w", abs, err)
	}
	head := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, head)
	f.Close()
	switch {
	case n == 0 && errors.Is(err, io.EOF):
		return 0, nil // an empty file is an empty database
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return 0, errorf("sqlite: read %s: %w", abs, err)
	case string(head[:n]) != sqliteHeader:
		return 0, errorf("sqlite: %s is not a SQLite database (corrupt or foreign file); refusing to open it", abs)
	}

	db, err := sql.Open("sqlite", dsn(abs, "ro", []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=query_only(1)",
	}))
	if err != nil {
		return 0, errorf("sqlite: open %s: %w", abs, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	corrupt := func(err error) error {
		return errorf("sqlite: %s is corrupt or not a SQLite database; refusing to open it: %w", abs, err)
	}
	// quick_check reads every page (it skips matching indexes against
	// their tables): measured 0.10-0.14 s for a 119 MB file (30,000
	// objects, warm cache), once per start.
	rows, err := db.QueryContext(ctx, `PRAGMA quick_check(5)`)
	if err != nil {
		return 0, corrupt(err)
	}
	var problems []string
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			rows.Close()
			return 0, corrupt(err)
		}
		if msg != "ok" {
			problems = append(problems, msg)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, corrupt(err)
	}
	if len(problems) > 0 {
		return 0, corrupt(errors.New(strings.Join(problems, "; ")))
	}

	var tables, hasVersion int
	err = db.QueryRowContext(ctx, `
		SELECT count(*), count(*) FILTER (WHERE name = 'schema_migrations')
		FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).Scan(&tables, &hasVersion)
	if err != nil {
		return 0, corrupt(err)
	}
	if hasVersion == 0 {
		if tables > 0 {
			return 0, errorf("sqlite: %s holds tables but no schema_migrations: not a Davenport database; refusing to open it", abs)
		}
		return 0, nil
	}
	var (
		version int64
		dirty   bool
	)
	err = db.QueryRowContext(ctx, `SELECT version, dirty FROM schema_migrations LIMIT 1`).Scan(&version, &dirty)
	if errors.Is(err, sql.ErrNoRows) {
		if tables > 1 {
			return 0, errorf("sqlite: %s has tables but no schema version; refusing to open it", abs)
		}
		return 0, nil
	}
	if err != nil {
		return 0, errorf("sqlite: read schema version of %s: %w", abs, err)
	}
	if version < 0 {
		return 0, errorf("sqlite: %s: invalid schema version %d", abs, version)
	}
	v := uint(version)
	if v > latest {
		return v, errorf("sqlite: %s is at schema version %d, this binary knows up to %d: %w", abs, v, latest, store.ErrSchemaTooNew)
	}
	if dirty {
		return v, errorf("sqlite: %s: migration to version %d failed half-way (dirty); restore a backup", abs, v)
	}
	return v, nil
}

// latestVersion is the highest migration version in src.
func latestVersion(src interface {
	First() (uint, error)
	Next(uint) (uint, error)
}) (uint, error) {
	v, err := src.First()
	if err != nil {
		return 0, err
	}
	for {
		next, err := src.Next(v)
		if errors.Is(err, fs.ErrNotExist) {
			return v, nil
		}
		if err != nil {
			return 0, err
		}
		v = next
	}
}

// migrateLogger routes golang-migrate's messages to slog at debug level.
type migrateLogger struct{ l *slog.Logger }

func (m migrateLogger) Printf(format string, v ...any) {
	m.l.Debug("sqlite: migrate: " + strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (m migrateLogger) Verbose() bool { return false }

// bound gives ctx the store's statement timeout. Every exported method that
// touches the database calls it first: database/sql and the driver
// interrupt the running statement when the deadline passes.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}

// write runs f in a write transaction on the writer connection (BEGIN
// IMMEDIATE) and commits it when f returns nil. op names the operation in
// errors; store sentinels pass through.
func (s *Store) write(ctx context.Context, op string, f func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return errorf("sqlite: %s: begin: %w", op, err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return wrap(op, err)
	}
	if err := tx.Commit(); err != nil {
		return errorf("sqlite: %s: commit: %w", op, err)
	}
	return nil
}

// read runs f in a read transaction on a reader connection: every query in
// it sees the same snapshot of the database.
func (s *Store) read(ctx context.Context, op string, f func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return errorf("sqlite: %s: begin: %w", op, err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return wrap(op, err)
	}
	return nil
}

// wrap gives err the operation's context. Errors that are already store
// errors keep their sentinel; constraint violations become store.ErrConflict.
func wrap(op string, err error) error {
	var uidErr *store.UIDConflictError
	switch {
	case errors.As(err, &uidErr):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return errorf("sqlite: %s: %w", op, store.ErrNotFound)
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE), isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		return errorf("sqlite: %s: %w: %v", op, store.ErrConflict, err)
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY):
		// A row pointed at a user or collection that does not exist.
		return errorf("sqlite: %s: %w: %v", op, store.ErrNotFound, err)
	}
	return errorf("sqlite: %s: %w", op, err)
}

// errorf is fmt.Errorf for the errors the store returns: a failure that
// passes (see unavailable) is also marked store.ErrUnavailable, so the HTTP
// layer answers 503 with Retry-After instead of 500.
func errorf(format string, args ...any) error {
	return store.Errorf(unavailable, format, args...)
}

// unavailable reports whether err means the file could not serve the
// request for now rather than that the request was wrong: an I/O error
// (SQLITE_IOERR_*: a disk gone or failing), a file that cannot be opened
// (SQLITE_CANTOPEN), a full disk (SQLITE_FULL), a lock not granted within
// busy_timeout (SQLITE_BUSY, SQLITE_LOCKED), or a statement interrupted
// because the request's deadline passed (SQLITE_INTERRUPT; the statement
// timeout). A request the client abandoned (context.Canceled) is not one.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var e *sqlitedrv.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_INTERRUPT:
			return true
		}
		return false
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// isConstraint reports whether err is a SQLite error with the given extended
// result code.
func isConstraint(err error, code int) bool {
	var e *sqlitedrv.Error
	return errors.As(err, &e) && e.Code() == code
}

// Times are stored as unix microseconds, UTC.

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func toMicros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func toNullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}
