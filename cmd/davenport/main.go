package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/davenport-dav/davenport/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `Usage: davenport <command> [flags]

Commands:
  serve      run the CalDAV/CardDAV server
  user       manage accounts: user add|passwd|unlock|delete|list
  history    earlier versions of events and contacts: history list|show|restore
  trash      deleted items and collections: trash list|restore|purge
  backup     write a consistent archive of everything: backup FILE | backup verify FILE
  restore    load an archive into an empty store: restore FILE --database URL
  import     copy calendars and contacts from another server or from files
  share      share calendars and address books: share add|list|remove
  group      manage groups of users: group add|delete|members|list
  delegate   let others use all of a user's calendars: delegate add|list|remove|free-busy
  link       public read-only links to a calendar: link add|list|remove
  imip       scheduling by email: imip deliver (one message on stdin, for an MTA pipe)
  migrate    apply database migrations and exit
  check      verify the store's integrity (after a crash or a restore); exit 1 on problems
  doctor     check a deployment from outside, like a client: doctor URL [--user U --password-file F]
  version    print the version

Run "davenport <command> -h" for a command's flags. Every flag can also be
set as DAVENPORT_<FLAG> in the environment (e.g. DAVENPORT_DATABASE).
`

// exitError ends the process with its own code (a mail filter reads it:
// sysexits.h's EX_DATAERR refuses a message, EX_TEMPFAIL defers it).
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the process exit code: 0 on success,
// 2 for usage errors, 1 for everything else.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, stderr)
	case "user":
		err = cmdUser(ctx, args[1:], stdin, stdout, stderr)
	case "history":
		err = cmdHistory(ctx, args[1:], stdout, stderr)
	case "trash":
		err = cmdTrash(ctx, args[1:], stdout, stderr)
	case "backup":
		err = cmdBackup(ctx, args[1:], stdin, stdout, stderr)
	case "restore":
		err = cmdRestore(ctx, args[1:], stdin, stdout, stderr)
	case "import":
		err = cmdImport(ctx, args[1:], stdin, stdout, stderr)
	case "share":
		err = cmdShare(ctx, args[1:], stdout, stderr)
	case "group":
		err = cmdGroup(ctx, args[1:], stdout, stderr)
	case "delegate":
		err = cmdDelegate(ctx, args[1:], stdout, stderr)
	case "link":
		err = cmdLink(ctx, args[1:], stdout, stderr)
	case "imip":
		err = cmdIMIP(ctx, args[1:], stdin, stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], stdout, stderr)
	case "check":
		err = cmdCheck(ctx, args[1:], stdout, stderr)
	case "doctor":
		err = cmdDoctor(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "davenport", version)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "davenport: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var exit exitError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errCheckFailed), errors.Is(err, errDoctorFailed): // the problems are printed
		return 1
	case errors.As(err, &exit):
		fmt.Fprintln(stderr, "davenport:", exit.err)
		return exit.code
	case err == errUsage: // the flag package has said what is wrong
		return 2
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "davenport:", err)
		return 2
	case errors.Is(err, store.ErrSchemaTooNew):
		fmt.Fprintln(stderr, "davenport:", err)
		fmt.Fprintln(stderr, "davenport: this database was written by a newer Davenport; run that version (nothing was changed)")
		return 1
	default:
		fmt.Fprintln(stderr, "davenport:", err)
		return 1
	}
}
