package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
)

const userUsage = `Usage:
  davenport user add NAME [--password-stdin] [--email E] [--display-name D]
  davenport user passwd NAME [--password-stdin]
  davenport user delete NAME
  davenport user list
Each takes --database (or DAVENPORT_DATABASE).`

func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: missing user command\n%s", errUsage, userUsage)
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("davenport user "+sub, flag.ContinueOnError)
	database := fs.String("database", defaultDatabase, "postgres://… URL, or sqlite:PATH / PATH")
	var passwordStdin *bool
	var email, displayName *string
	switch sub {
	case "add":
		passwordStdin = fs.Bool("password-stdin", false, "read the password from standard input")
		email = fs.String("email", "", "e-mail address (calendar-user-address)")
		displayName = fs.String("display-name", "", "name shown in clients")
	case "passwd":
		passwordStdin = fs.Bool("password-stdin", false, "read the password from standard input")
	case "delete", "list":
	default:
		return fmt.Errorf("%w: unknown user command %q\n%s", errUsage, sub, userUsage)
	}
	// Flags may come before or after NAME.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	if sub != "list" && name == "" {
		return fmt.Errorf("%w: user %s needs a NAME", errUsage, sub)
	}
	logger, _ := newLogger(stderr, "warn", "text")
	st, err := openStore(ctx, *database, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	switch sub {
	case "add":
		pw, generated, err := readPassword(*passwordStdin, stdin)
		if err != nil {
			return err
		}
		if _, err := createUser(ctx, st, name, pw, *email, *displayName); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("user %q already exists", name)
			}
			return err
		}
		fmt.Fprintf(stdout, "created user %s\n", name)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n(shown only now)\n", pw)
		}
	case "passwd":
		u, err := st.GetUser(ctx, name)
		if err != nil {
			return userErr(name, err)
		}
		pw, generated, err := readPassword(*passwordStdin, stdin)
		if err != nil {
			return err
		}
		if err := auth.SetPassword(ctx, st, u, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password changed for %s\n", name)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n(shown only now)\n", pw)
		}
	case "delete":
		u, err := st.GetUser(ctx, name)
		if err != nil {
			return userErr(name, err)
		}
		if err := st.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted user %s and all of their calendars and address books\n", name)
	case "list":
		users, err := st.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tDISPLAY NAME\tEMAIL\tCREATED")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Username, u.DisplayName, u.Email, u.Created.Format("2006-01-02"))
		}
		tw.Flush()
	}
	return nil
}

func userErr(name string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %q", name)
	}
	return err
}

// readPassword reads one password from stdin (trailing newline removed), or
// generates one when fromStdin is false.
func readPassword(fromStdin bool, stdin io.Reader) (pw string, generated bool, err error) {
	if !fromStdin {
		return auth.GeneratePassword(), true, nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, 4096))
	if err != nil {
		return "", false, fmt.Errorf("read password: %w", err)
	}
	pw = strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", false, fmt.Errorf("%w: empty password on standard input", errUsage)
	}
	return pw, false, nil
}

// createUser makes an account with its default calendar and address book,
// in one transaction.
func createUser(ctx context.Context, st store.Store, name, password, email, displayName string) (*store.User, error) {
	if err := validUsername(name); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	u := &store.User{Username: name, DisplayName: displayName, Email: email, PasswordHash: hash}
	if err := st.CreateUser(ctx, u, server.DefaultCollections()); err != nil {
		return nil, err
	}
	return u, nil
}

// validUsername keeps user names usable in URLs and in Basic credentials.
func validUsername(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("%w: user name must be 1 to 64 characters", errUsage)
	}
	for _, r := range name {
		if r == ':' || r == '/' || r < 0x20 || r == 0x7f || r == ' ' {
			return fmt.Errorf("%w: user name %q may not contain spaces, ':', '/' or control characters", errUsage, name)
		}
	}
	return nil
}
