package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/sqlite"
)

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("davenport migrate", flag.ContinueOnError)
	database := fs.String("database", defaultDatabase, "postgres://… URL, or sqlite:PATH / PATH")
	if err := parseFlags(fs, "davenport migrate [--database D]", args, stdout, stderr); err != nil {
		return err
	}
	db, err := parseDatabase(*database)
	if err != nil {
		return err
	}
	var from, to uint
	if db.postgres {
		from, to, err = postgres.Migrate(ctx, db.dsn)
	} else {
		from, to, err = sqlite.Migrate(ctx, db.dsn)
	}
	if err != nil {
		return fmt.Errorf("migrate %s: %w", describeDatabase(*database), err)
	}
	if from == to {
		fmt.Fprintf(stdout, "database %s is at schema version %d; nothing to do\n", describeDatabase(*database), to)
	} else {
		fmt.Fprintf(stdout, "migrated %s from schema version %d to %d\n", describeDatabase(*database), from, to)
	}
	return nil
}
