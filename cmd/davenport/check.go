package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// errCheckFailed: davenport check found problems (exit code 1); they have
// been printed.
var errCheckFailed = errors.New("the store failed its integrity check")

// errDoctorFailed: davenport doctor found failures (exit code 1); they have
// been printed.
var errDoctorFailed = errors.New("the deployment has failures")

// cmdCheck reads the whole store and reports every broken invariant
// (store.Store.CheckIntegrity): after a crash, a restore, a disk scare or a
// hand edit. It changes nothing, but, like every command, it brings the
// schema up to date first; it refuses to create an embedded store that is
// not there. Safe to run next to a running server.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("davenport check", flag.ContinueOnError)
	database := fs.String("database", defaultDatabase, "postgres://… URL, or sqlite:PATH / PATH")
	if err := parseFlags(fs, "davenport check [--database D]", args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	db, err := parseDatabase(*database)
	if err != nil {
		return err
	}
	if !db.postgres {
		if _, err := os.Stat(db.dsn); err != nil {
			return fmt.Errorf("check %s: %w", describeDatabase(*database), err)
		}
	}
	st, err := openCommandStore(ctx, *database, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	t0 := time.Now()
	problems, err := st.CheckIntegrity(ctx)
	if err != nil {
		return fmt.Errorf("check %s: %w", describeDatabase(*database), err)
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stdout, "database %s: %d problems\n", describeDatabase(*database), len(problems))
		return errCheckFailed
	}
	fmt.Fprintf(stdout, "database %s: no problems found (%.1fs)\n", describeDatabase(*database), time.Since(t0).Seconds())
	return nil
}
