package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/golang-migrate/migrate/v4"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/davenport-dav/davenport/migrations"
	"github.com/davenport-dav/davenport/store"
)

// migrateUp brings the schema selected by cc up to the newest embedded
// migration. It refuses, before changing anything, a dirty schema and one
// newer than the embedded migrations.
func migrateUp(ctx context.Context, cc *pgx.ConnConfig, logger *slog.Logger) (from, to uint, err error) {
	unlock, err := lockMigrations(ctx, cc)
	if err != nil {
		return 0, 0, err
	}
	defer unlock()
	m, latest, err := newMigrate(cc, logger)
	if err != nil {
		return 0, 0, err
	}
	defer closeMigrate(m, &err)

	from, err = schemaVersion(m)
	if err != nil {
		return 0, 0, err
	}
	if from > latest {
		return from, from, fmt.Errorf("store: postgres: schema version %d, this binary knows up to %d: %w",
			from, latest, store.ErrSchemaTooNew)
	}

	if from >= 1 && from < canonicalUsernamesVersion {
		if err := canonicalizeUsernames(ctx, cc); err != nil {
			return from, from, err
		}
	}

	// golang-migrate takes no context; ask it to stop between migrations
	// when ctx ends.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			m.GracefulStop <- true
		case <-done:
		}
	}()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return from, from, fmt.Errorf("store: postgres: migrate from version %d: %w", from, err)
	}
	if err := ctx.Err(); err != nil {
		return from, from, fmt.Errorf("store: postgres: migrate: %w", err)
	}
	to, err = schemaVersion(m)
	if err != nil {
		return from, 0, err
	}
	if from >= 1 && from < searchTermsVersion && to >= searchTermsVersion {
		if err := backfillSearchTerms(ctx, cc); err != nil {
			return from, to, err
		}
	}
	return from, to, nil
}

// lockMigrations takes a session advisory lock of this schema's for the
// whole of migrateUp, on a connection of its own, and returns its release.
// golang-migrate's own lock covers only m.Up: without this one, an instance
// starting while another migrates reads the version the other has marked
// dirty for the migration in progress (and refuses to start, as if a
// migration had failed), and two instances upgrading at once both run the
// data rewrites around the migrations (backfillSearchTerms would insert
// every term twice). The key is per schema, so that stores in other
// schemas of one database (tests, side-by-side installations) do not wait
// for each other.
func lockMigrations(ctx context.Context, cc *pgx.ConnConfig) (func(), error) {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, errorf("store: postgres: migrations: connect: %w", err)
	}
	const lock = `SELECT pg_advisory_lock(hashtextextended('davenport migrations ' || current_schema(), 0))`
	if _, err := conn.Exec(ctx, lock); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, errorf("store: postgres: migrations: lock: %w", err)
	}
	return func() {
		// Closing the session releases the lock; unlocking first frees
		// it even if the close is slow.
		c := context.WithoutCancel(ctx)
		conn.Exec(c, `SELECT pg_advisory_unlock_all()`)
		conn.Close(c)
	}, nil
}

// canonicalUsernamesVersion is the migration that makes user names
// case-insensitive (000010_canonical_usernames).
const canonicalUsernamesVersion = 10

// canonicalizeUsernames rewrites every user name to store.CanonicalUsername
// in one transaction, before migration canonicalUsernamesVersion adds its
// check; names that would collide are refused with the
// *store.UsernameTwinsError, and nothing changes. Running it twice is
// harmless.
func canonicalizeUsernames(ctx context.Context, cc *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("store: postgres: canonical user names: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT id, username FROM users FOR UPDATE`)
		names := map[int64]string{}
		var (
			id   int64
			name string
		)
		if _, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error {
			names[id] = name
			return nil
		}); err != nil {
			return err
		}
		renames, err := store.CanonicalRenames(names)
		if err != nil {
			return err
		}
		for id, name := range renames {
			if _, err := tx.Exec(ctx, `UPDATE users SET username = $2 WHERE id = $1`, id, name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: postgres: canonical user names: %w", err)
	}
	return nil
}

// newMigrate opens a golang-migrate instance on the embedded PostgreSQL
// migrations and a dedicated connection, and returns the newest embedded
// version. Opening creates the schema_migrations table when it is missing.
func newMigrate(cc *pgx.ConnConfig, logger *slog.Logger) (*migrate.Migrate, uint, error) {
	src, err := iofs.New(migrations.Postgres, "postgres")
	if err != nil {
		return nil, 0, fmt.Errorf("store: postgres: migrations: %w", err)
	}
	latest, err := latestVersion(src)
	if err != nil {
		src.Close()
		return nil, 0, err
	}
	db := stdlib.OpenDB(*cc)
	drv, err := pgxmigrate.WithInstance(db, &pgxmigrate.Config{})
	if err != nil {
		src.Close()
		db.Close()
		return nil, 0, fmt.Errorf("store: postgres: migrations: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		src.Close()
		drv.Close()
		return nil, 0, fmt.Errorf("store: postgres: migrations: %w", err)
	}
	if logger != nil {
		m.Log = migrateLogger{logger}
	}
	return m, latest, nil
}

// closeMigrate closes m's source and connection, reporting a close failure
// into *err when nothing else failed.
func closeMigrate(m *migrate.Migrate, err *error) {
	srcErr, dbErr := m.Close()
	if *err == nil {
		if e := errors.Join(srcErr, dbErr); e != nil {
			*err = fmt.Errorf("store: postgres: close migrations: %w", e)
		}
	}
}

// schemaVersion is the applied schema version, 0 for an empty database. A
// dirty version (a migration that failed halfway) is an error: it needs a
// person to repair the schema and force the version.
func schemaVersion(m *migrate.Migrate) (uint, error) {
	v, dirty, err := m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: postgres: read schema version: %w", err)
	}
	if dirty {
		return v, fmt.Errorf("store: postgres: schema version %d is dirty: a migration failed halfway; repair the schema by hand, then mark the version clean in schema_migrations", v)
	}
	return v, nil
}

// latestVersion is the highest version among the embedded migrations.
func latestVersion(src source.Driver) (uint, error) {
	v, err := src.First()
	if err != nil {
		return 0, fmt.Errorf("store: postgres: migrations: %w", err)
	}
	for {
		next, err := src.Next(v)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, fs.ErrNotExist) {
			return v, nil
		}
		if err != nil {
			return 0, fmt.Errorf("store: postgres: migrations: %w", err)
		}
		v = next
	}
}

// migrateLogger adapts slog to golang-migrate's logger.
type migrateLogger struct{ logger *slog.Logger }

func (l migrateLogger) Printf(format string, v ...any) {
	l.logger.Debug(fmt.Sprintf(format, v...), "component", "migrate")
}

func (l migrateLogger) Verbose() bool { return false }
