package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
)

// userCommands are the user subcommands with their usage lines.
var userCommands = []struct{ name, synopsis string }{
	{"add", "davenport user add NAME [--password-stdin [--allow-weak]] [--email E] [--display-name D] [--admin]"},
	{"passwd", "davenport user passwd NAME [--password-stdin [--allow-weak]]"},
	{"set-email", "davenport user set-email NAME EMAIL (\"\" clears it)"},
	{"unlock", "davenport user unlock NAME"},
	{"delete", "davenport user delete NAME"},
	{"list", "davenport user list"},
	{"set-admin", "davenport user set-admin NAME [--off]"},
	{"birthdays", "davenport user birthdays NAME [--off]   (the Birthdays calendar; on by default)"},
	{"app-password", "davenport user app-password add|list|revoke NAME …"},
}

func userUsage() string {
	var b strings.Builder
	b.WriteString("Usage:\n")
	for _, c := range userCommands {
		b.WriteString("  " + c.synopsis + "\n")
	}
	b.WriteString(`Each takes --database (or DAVENPORT_DATABASE). User names are case-insensitive.
Run "davenport user COMMAND -h" for a command's flags.
`)
	return b.String()
}

func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: missing user command\n%s", errUsage, userUsage())
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "app-password":
		return cmdAppPassword(ctx, args, stdout, stderr)
	case "set-admin":
		return cmdSetAdmin(ctx, args, stdout, stderr)
	case "birthdays":
		return cmdBirthdays(ctx, args, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, userUsage())
		return errHelp
	}
	synopsis := ""
	for _, c := range userCommands {
		if c.name == sub {
			synopsis = c.synopsis
		}
	}
	if synopsis == "" {
		return fmt.Errorf("%w: unknown user command %q\n%s", errUsage, sub, userUsage())
	}
	fs := flag.NewFlagSet("davenport user "+sub, flag.ContinueOnError)
	database := fs.String("database", defaultDatabase, "postgres://… URL, or sqlite:PATH / PATH")
	var passwordStdin, allowWeak *bool
	var email, displayName *string
	switch sub {
	case "add", "passwd":
		passwordStdin = fs.Bool("password-stdin", false, "read the password from standard input (else one is generated and printed once)")
		allowWeak = fs.Bool("allow-weak", false, fmt.Sprintf("accept a password shorter than %d characters", minPasswordLen))
	}
	var admin *bool
	if sub == "add" {
		admin = fs.Bool("admin", false, "give the user the admin role (the web UI's administration pages)")
		email = fs.String("email", "", "e-mail address (calendar-user-address)")
		displayName = fs.String("display-name", "", "name shown in clients")
	}
	// Flags may come before or after NAME.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	var emailArg []string // set-email's EMAIL, which may come before the flags too
	if sub == "set-email" && name != "" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		emailArg, args = args[:1], args[1:]
	}
	if err := parseFlags(fs, synopsis, args, stdout, stderr); err != nil {
		return err
	}
	rest := append(emailArg, fs.Args()...)
	if name == "" && len(rest) > 0 {
		name, rest = rest[0], rest[1:]
	}
	if email != nil && *email != "" && !validEmail(*email) {
		return fmt.Errorf("%w: %q is not an email address", errUsage, *email)
	}
	var newEmail string
	if sub == "set-email" {
		if len(rest) != 1 {
			return fmt.Errorf("%w: user set-email needs NAME and EMAIL", errUsage)
		}
		if newEmail = strings.TrimPrefix(strings.TrimSpace(rest[0]), "mailto:"); newEmail != "" && !validEmail(newEmail) {
			return fmt.Errorf("%w: %q is not an email address", errUsage, rest[0])
		}
	}
	if sub != "list" && name == "" {
		return fmt.Errorf("%w: user %s needs a NAME", errUsage, sub)
	}
	if sub == "add" {
		// As typed: canonicalising would hide invalid UTF-8.
		if err := store.ValidateUsername(name); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	// Names are case-insensitive; say the one the store keeps.
	name = store.CanonicalUsername(name)
	var pw string
	var generated bool
	if passwordStdin != nil {
		// Before the database is opened: a refused password changes nothing.
		var err error
		if pw, generated, err = readPassword(*passwordStdin, *allowWeak, stdin); err != nil {
			return err
		}
	}
	st, err := openCommandStore(ctx, *database, stderr)
	if err != nil {
		return err
	}
	defer st.Close()

	// passwd, unlock and delete act on an existing user.
	var u *store.User
	if sub != "add" && sub != "list" {
		if u, err = st.GetUser(ctx, name); err != nil {
			return userErr(name, err)
		}
	}
	switch sub {
	case "add":
		if u, err = createUser(ctx, st, name, pw, *email, *displayName); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("user %q already exists (user names are case-insensitive)", name)
			}
			return err
		}
		if *admin {
			if err := st.SetUserAdmin(ctx, u.ID, true); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "created user %s\n", name)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n(shown only now)\n", pw)
		}
	case "passwd":
		if err := auth.SetPassword(ctx, st, u, pw); err != nil {
			return err
		}
		// A new password also forgives the failed logins counted against
		// the old one (auth: the stored hash is part of the throttle's
		// epoch).
		fmt.Fprintf(stdout, "password changed for %s\n", name)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n(shown only now)\n", pw)
		}
	case "set-email":
		if err := st.SetEmail(ctx, u.ID, newEmail); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "email of %s set to %q (its calendar user address for invitations)\n", name, newEmail)
	case "unlock":
		if err := st.UnlockUser(ctx, u.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "unlocked %s: failed logins before now no longer count (every server on this database sees it at the next attempt)\n", name)
	case "delete":
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

// minPasswordLen is the shortest password user add and user passwd accept
// without --allow-weak: auth.MinPasswordLen, the policy the web UI applies
// too. Generated passwords are long and random, and are not checked.
const minPasswordLen = auth.MinPasswordLen

// readPassword reads one password from stdin (trailing newline removed), or
// generates one when fromStdin is false. A chosen password shorter than
// minPasswordLen characters is refused unless allowWeak.
func readPassword(fromStdin, allowWeak bool, stdin io.Reader) (pw string, generated bool, err error) {
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
	if n := utf8.RuneCountInString(pw); n < minPasswordLen && !allowWeak {
		return "", false, fmt.Errorf("%w: the password has %d characters; use at least %d (or pass --allow-weak)",
			errUsage, n, minPasswordLen)
	}
	return pw, false, nil
}

// createUser makes an account with its default calendar and address book,
// in one transaction.
func createUser(ctx context.Context, st store.Store, name, password, email, displayName string) (*store.User, error) {
	if err := store.ValidateUsername(name); err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
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

// validEmail accepts one plain address: a calendar user address (RFC 6638
// §2.4.1) written into iCalendar and, later, mail headers, so no spaces,
// controls, angle brackets or commas.
func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || len(s) > 254 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("<>,;:\"\\()[]", r) {
			return false
		}
	}
	return true
}
