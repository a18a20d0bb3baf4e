package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/sqlite"
)

// errUsage marks a command-line mistake (exit code 2).
var errUsage = errors.New("usage")

// errHelp means the usage was asked for (-h, --help) and printed: exit 0.
var errHelp = errors.New("help requested")

// envPrefix prefixes every environment variable: --log-level is
// DAVENPORT_LOG_LEVEL.
const envPrefix = "DAVENPORT_"

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// lookupEnv reads DAVENPORT_<NAME>, or the file named by DAVENPORT_<NAME>_FILE
// (for secrets in container set-ups); setting both is an error.
func lookupEnv(name string) (string, bool, error) {
	v, ok := os.LookupEnv(name)
	file, fok := os.LookupEnv(name + "_FILE")
	switch {
	case ok && fok:
		return "", false, fmt.Errorf("both %s and %s_FILE are set; use one", name, name)
	case fok:
		b, err := os.ReadFile(file)
		if err != nil {
			return "", false, fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimRight(string(b), "\r\n"), true, nil
	}
	return v, ok, nil
}

// applyEnv sets every flag of fs that was not given on the command line
// from its environment variable: flags win over the environment, which wins
// over defaults.
func applyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		v, ok, e := lookupEnv(envName(f.Name))
		if e != nil {
			err = e
			return
		}
		if ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %v", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// parseFlags parses args and then the environment. synopsis is the
// command's usage line. -h or --help prints the usage to stdout and returns
// errHelp; a mistake prints the flag package's message and the usage to
// stderr and returns errUsage.
func parseFlags(fs *flag.FlagSet, synopsis string, args []string, stdout, stderr io.Writer) error {
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below, to the right stream
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, fs, synopsis)
			return errHelp
		}
		printUsage(stderr, fs, synopsis)
		return errUsage
	}
	if err := applyEnv(fs); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

// printUsage writes a command's usage line and its flags.
func printUsage(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "Usage: %s\n\nFlags (each can also be set as %s<FLAG> in the environment):\n", synopsis, envPrefix)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// defaultDatabase is the embedded store a first run uses with no set-up.
const defaultDatabase = "./data/davenport.db"

// dbTarget is a parsed --database value: a PostgreSQL URL or the path of
// the embedded store's file.
type dbTarget struct {
	postgres bool
	dsn      string // the URL as given, or the file path
}

// parseDatabase reads a --database value: postgres:// or postgresql:// URLs
// select PostgreSQL; "sqlite:PATH" or a plain path the embedded store.
// Anything else that looks like a URL (it contains "://") is refused, before
// anything is created: a mistyped scheme (postgress://, mysql://) must not
// quietly become a SQLite file in a folder named after the URL.
func parseDatabase(dsn string) (dbTarget, error) {
	switch {
	case dsn == "":
		return dbTarget{}, fmt.Errorf("%w: no database given (--database or %s)", errUsage, envName("database"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return dbTarget{postgres: true, dsn: dsn}, nil
	case strings.HasPrefix(dsn, "sqlite://"):
		return dbTarget{}, errors.New(`database "sqlite://…" is not a form Davenport reads: ` +
			`write sqlite:PATH (for example sqlite:/data/davenport.db) or just the path`)
	case strings.Contains(dsn, "://"):
		// Only the scheme: the rest may hold a password.
		scheme, _, _ := strings.Cut(dsn, "://")
		return dbTarget{}, fmt.Errorf("database URL scheme %q is not supported: use postgres://… (or postgresql://…) "+
			"for PostgreSQL, or sqlite:PATH or a plain path for the embedded store", scheme+"://")
	}
	return dbTarget{dsn: filepath.Clean(strings.TrimPrefix(dsn, "sqlite:"))}, nil
}

// openStore opens the store named by dsn (see parseDatabase). Either store
// runs its migrations first and refuses a newer schema.
func openStore(ctx context.Context, dsn string, logger *slog.Logger) (store.Store, error) {
	return openStoreWith(ctx, dsn, logger, storeOptions{})
}

// storeOptions are the store settings `serve` takes; the zero value is each
// backend's default (no statement timeout, synchronous=FULL).
type storeOptions struct {
	statementTimeout time.Duration
	synchronous      sqlite.Synchronous
}

// openCommandStore opens the store for a one-shot command, which logs only
// warnings, as text on stderr.
func openCommandStore(ctx context.Context, dsn string, stderr io.Writer) (store.Store, error) {
	logger, _ := newLogger(stderr, "warn", "text")
	return openStore(ctx, dsn, logger)
}

// openStoreWith is openStore with options.
func openStoreWith(ctx context.Context, dsn string, logger *slog.Logger, opts storeOptions) (store.Store, error) {
	db, err := parseDatabase(dsn)
	if err != nil {
		return nil, err
	}
	var st store.Store
	if db.postgres {
		st, err = postgres.OpenOptions(ctx, db.dsn, logger, postgres.Options{StatementTimeout: opts.statementTimeout})
	} else {
		st, err = sqlite.OpenOptions(ctx, db.dsn, logger,
			sqlite.Options{Synchronous: opts.synchronous, StatementTimeout: opts.statementTimeout})
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", describeDatabase(dsn), err)
	}
	return st, nil
}

// describeDatabase names a database for messages without its password.
func describeDatabase(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if at := strings.LastIndex(dsn, "@"); at >= 0 {
			return "postgres://…@" + dsn[at+1:]
		}
		return dsn
	}
	return strings.TrimPrefix(dsn, "sqlite:")
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("%w: log level %q (debug, info, warn, error)", errUsage, level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch format {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("%w: log format %q (text, json)", errUsage, format)
	}
	return slog.New(server.ContextHandler{Handler: h}), nil
}

// byteSize is a flag value such as 10MiB, 512KiB or 1048576.
type byteSize int64

// sizeUnits are the suffixes byteSize reads, largest first within each
// family; String writes the largest binary one that divides the size.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}

// String writes the size as it is typed: 10MiB, not 10485760.
func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range sizeUnits[:3] {
		if n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// Set reads a positive size. Its error names the whole input, not what is
// left after the unit.
func (b *byteSize) Set(in string) error {
	s := strings.TrimSpace(in)
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("not a size: %q (a positive number of bytes, optionally with B, KiB, MiB, GiB, KB, MB or GB)", in)
	}
	*b = byteSize(n * mult)
	return nil
}
