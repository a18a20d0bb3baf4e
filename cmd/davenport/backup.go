package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/store"
)

const backupUsage = `Usage:
  davenport backup FILE [--database URL]      write a consistent archive of everything while the server runs
  davenport backup verify FILE                check an archive's checksums and completeness
  davenport restore FILE --database URL       load an archive into an empty store of either kind
FILE "-" is standard output (backup) or standard input (verify, restore).
The archive format is described in docs/backup-format.md.
`

// errStop ends an archive read early without an error of its own.
var errStop = errors.New("stop")

func cmdBackup(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "verify" {
		return cmdBackupVerify(args[1:], stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("davenport backup", flag.ContinueOnError)
	database := fs.String("database", defaultDatabase, "postgres://… URL, or sqlite:PATH / PATH")
	file, err := fileArg(fs, "davenport backup FILE [--database URL]", args, stdout, stderr)
	if err != nil {
		return err
	}
	db, err := parseDatabase(*database)
	if err != nil {
		return err
	}
	st, err := openCommandStore(ctx, *database, stderr)
	if err != nil {
		return err
	}
	defer st.Close()

	// Write next to the target and rename at the end: a failed backup
	// never leaves a partial file under the name of a good one.
	var (
		out    io.Writer = stdout
		report           = stdout
		tmp    *os.File
	)
	if file == "-" {
		report = stderr
	} else {
		tmp, err = os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".tmp-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		out = tmp
	}
	source := "sqlite"
	if db.postgres {
		source = "postgres"
	}
	start := time.Now()
	t, err := writeBackup(ctx, st, out, manifest{Format: archiveFormat, Version: archiveVersion, Created: start.UTC(),
		Source: source, Davenport: version})
	if err != nil {
		return err
	}
	if tmp != nil {
		if err := tmp.Sync(); err != nil {
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), file); err != nil {
			return err
		}
	}
	elapsed := time.Since(start)
	fmt.Fprintf(report, "backed up %s in %s (%.0f items/s)\n", describeRecords(t.Records), elapsed.Round(time.Millisecond),
		float64(t.Records[kindObjects])/elapsed.Seconds())
	return nil
}

// writeBackup dumps st into an archive on w.
func writeBackup(ctx context.Context, st store.Store, w io.Writer, m manifest) (trailer, error) {
	aw, err := newArchiveWriter(w, m)
	if err != nil {
		return trailer{}, err
	}
	if err := st.Dump(ctx, aw.record); err != nil {
		return trailer{}, err
	}
	return aw.close()
}

func cmdBackupVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("davenport backup verify", flag.ContinueOnError)
	file, err := fileArg(fs, "davenport backup verify FILE", args, stdout, stderr)
	if err != nil {
		return err
	}
	r, closeFn, err := openArchive(file, stdin)
	if err != nil {
		return err
	}
	defer closeFn()
	m, t, err := readArchive(r, func(store.Record) error { return nil })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: a complete %s archive (format %d) of a %s store, written %s by davenport %s: %s; every checksum matches\n",
		file, archiveFormat, m.Version, m.Source, m.Created.Format(time.RFC3339), m.Davenport, describeRecords(t.Records))
	return nil
}

func cmdRestore(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("davenport restore", flag.ContinueOnError)
	database := fs.String("database", defaultDatabase, "the empty store to load: postgres://… URL, or sqlite:PATH / PATH")
	file, err := fileArg(fs, "davenport restore FILE --database URL", args, stdout, stderr)
	if err != nil {
		return err
	}
	r, closeFn, err := openArchive(file, stdin)
	if err != nil {
		return err
	}
	defer closeFn()
	st, err := openCommandStore(ctx, *database, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	var t trailer
	records := func(yield func(store.Record, error) bool) {
		var err error
		_, t, err = readArchive(r, func(rec store.Record) error {
			if !yield(rec, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(store.Record{}, err)
		}
	}
	if err := st.Load(ctx, records); err != nil {
		if errors.Is(err, store.ErrNotEmpty) {
			return fmt.Errorf("%s already has users; restore loads only into an empty store (nothing was changed)", describeDatabase(*database))
		}
		return fmt.Errorf("%w (nothing was changed)", err)
	}
	elapsed := time.Since(start)
	fmt.Fprintf(stdout, "restored %s into %s in %s (%.0f items/s)\n", describeRecords(t.Records), describeDatabase(*database),
		elapsed.Round(time.Millisecond), float64(t.Records[kindObjects])/elapsed.Seconds())
	return nil
}

// fileArg parses fs and returns the one FILE argument, which may come
// before or after the flags.
func fileArg(fs *flag.FlagSet, synopsis string, args []string, stdout, stderr io.Writer) (string, error) {
	var file string
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || args[0] == "-") {
		file, args = args[0], args[1:]
	}
	if err := parseFlags(fs, synopsis, args, stdout, stderr); err != nil {
		return "", err
	}
	if file == "" && fs.NArg() > 0 {
		file = fs.Arg(0)
	}
	if file == "" {
		return "", fmt.Errorf("%w: a FILE is needed\n%s", errUsage, backupUsage)
	}
	return file, nil
}

func openArchive(file string, stdin io.Reader) (io.Reader, func(), error) {
	if file == "-" {
		return stdin, func() {}, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

func describeRecords(counts map[string]int64) string {
	return fmt.Sprintf("%d users, %d app passwords, %d collections, %d items, %d tombstones, %d trashed collections, %d versions",
		counts[kindUsers], counts[kindAppPasswords], counts[kindCollections], counts[kindObjects],
		counts[kindTombstones], counts[kindTrash], counts[kindVersions])
}
