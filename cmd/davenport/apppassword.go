package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/store"
)

const appPasswordUsage = `Usage:
  davenport user app-password add NAME LABEL     create one for a device; prints it once
  davenport user app-password list NAME          labels, ids, created, last used
  davenport user app-password revoke NAME ID|LABEL
Each takes --database (or DAVENPORT_DATABASE).`

// userCommand parses the flags and positional arguments of a user
// subcommand that needs NAME and opens the store.
func userCommand(ctx context.Context, cmd, synopsis string, args []string, nargs int, stdout, stderr io.Writer, extra func(*flag.FlagSet)) (store.Store, *store.User, []string, error) {
	fs := flag.NewFlagSet("davenport user "+cmd, flag.ContinueOnError)
	database := fs.String("database", defaultDatabase, "postgres://… URL, or sqlite:PATH / PATH")
	if extra != nil {
		extra(fs)
	}
	// Flags may come before, between or after the positional arguments.
	var pos, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-"):
			rest = append(rest, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && fs.Lookup(strings.TrimLeft(a, "-")) != nil && !isBoolFlag(fs, a) {
				rest = append(rest, args[i+1])
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	if err := parseFlags(fs, synopsis, rest, stdout, stderr); err != nil {
		return nil, nil, nil, err
	}
	if len(pos) != nargs {
		return nil, nil, nil, fmt.Errorf("%w: user %s takes %d argument(s)", errUsage, cmd, nargs)
	}
	st, err := openCommandStore(ctx, *database, stderr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open database %s: %w", describeDatabase(*database), err)
	}
	u, err := st.GetUser(ctx, pos[0])
	if err != nil {
		st.Close()
		return nil, nil, nil, userErr(pos[0], err)
	}
	return st, u, pos[1:], nil
}

func isBoolFlag(fs *flag.FlagSet, a string) bool {
	f := fs.Lookup(strings.TrimLeft(a, "-"))
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// cmdAppPassword manages a user's app passwords: one per device, revocable
// on its own, stored as argon2id hashes like the account password.
func cmdAppPassword(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: missing app-password command\n%s", errUsage, appPasswordUsage)
	}
	sub, args := args[0], args[1:]
	nargs := map[string]int{"add": 2, "list": 1, "revoke": 2}[sub]
	if nargs == 0 {
		return fmt.Errorf("%w: unknown app-password command %q\n%s", errUsage, sub, appPasswordUsage)
	}
	synopsis := map[string]string{
		"add":    "davenport user app-password add NAME LABEL",
		"list":   "davenport user app-password list NAME",
		"revoke": "davenport user app-password revoke NAME ID|LABEL",
	}[sub]
	st, u, rest, err := userCommand(ctx, "app-password "+sub, synopsis, args, nargs, stdout, stderr, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "add":
		label := strings.TrimSpace(rest[0])
		if label == "" {
			return fmt.Errorf("%w: the LABEL names the device and cannot be empty", errUsage)
		}
		pw, p, err := auth.AddAppPassword(ctx, st, u.ID, label)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created app password %d (%s) for %s\npassword: %s\n(shown only now)\n", p.ID, label, u.Username, pw)
	case "list":
		ps, err := st.ListAppPasswords(ctx, u.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tLABEL\tCREATED\tLAST USED")
		for _, p := range ps {
			used := "never"
			if p.LastUsed != nil {
				used = p.LastUsed.UTC().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", p.ID, p.Label, p.Created.UTC().Format("2006-01-02 15:04"), used)
		}
		tw.Flush()
	case "revoke":
		ps, err := st.ListAppPasswords(ctx, u.ID)
		if err != nil {
			return err
		}
		var match []store.AppPassword
		for _, p := range ps {
			if strconv.FormatInt(p.ID, 10) == rest[0] || p.Label == rest[0] {
				match = append(match, p)
			}
		}
		switch len(match) {
		case 0:
			return fmt.Errorf("%s has no app password %q", u.Username, rest[0])
		case 1:
		default:
			return fmt.Errorf("%d app passwords of %s are labelled %q; revoke one by its ID (user app-password list)", len(match), u.Username, rest[0])
		}
		if err := st.DeleteAppPassword(ctx, u.ID, match[0].ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked app password %d (%s) of %s\n", match[0].ID, match[0].Label, u.Username)
	}
	return nil
}

// cmdSetAdmin grants the admin role (the web UI's administration pages), or
// withdraws it with --off.
func cmdSetAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var off *bool
	st, u, _, err := userCommand(ctx, "set-admin", "davenport user set-admin NAME [--off]", args, 1, stdout, stderr, func(fs *flag.FlagSet) {
		off = fs.Bool("off", false, "withdraw the admin role instead")
	})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.SetUserAdmin(ctx, u.ID, !*off); err != nil {
		return err
	}
	if *off {
		fmt.Fprintf(stdout, "%s is no longer an administrator\n", u.Username)
	} else {
		fmt.Fprintf(stdout, "%s is now an administrator\n", u.Username)
	}
	return nil
}
