package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/davenport-dav/davenport/store"
)

// A command of a group (share, group): its name and usage line, as
// history.go's commandsUsage takes them.
type subcommand = struct{ name, synopsis string }

var shareCommands = []subcommand{
	{"add", "davenport share add OWNER COLLECTION (--user NAME | --group NAME) [--access read|read-write] [--addressbook] [--pending]"},
	{"list", "davenport share list OWNER [COLLECTION] [--addressbook]"},
	{"remove", "davenport share remove OWNER COLLECTION (--user NAME | --group NAME) [--addressbook]"},
}

var groupCommands = []subcommand{
	{"add", "davenport group add NAME [--display-name D]"},
	{"delete", "davenport group delete NAME"},
	{"members", "davenport group members NAME [--add USER,…] [--remove USER,…]"},
	{"list", "davenport group list"},
}

const shareNote = `COLLECTION is a calendar of OWNER (an address book with --addressbook). A
share made here with a user is accepted at once (--pending leaves it as an
invitation the user answers from a client). Each takes --database.
`

const groupNote = `A collection shared with a group is shared with whoever is a member at the
time. Group names are case-insensitive. Each takes --database.
`

// parseSub picks the subcommand from args, parses its flags with fs (made by
// flags for it) and returns the positional arguments given before or after
// the flags.
func parseSub(group string, cmds []subcommand, note string, args []string, stdout, stderr io.Writer,
	flags func(sub string, fs *flag.FlagSet)) (sub string, pos []string, database string, err error) {
	use := commandsUsage(cmds, note)
	if len(args) == 0 {
		return "", nil, "", fmt.Errorf("%w: missing %s command\n%s", errUsage, group, use)
	}
	sub, args = args[0], args[1:]
	switch sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, use)
		return "", nil, "", errHelp
	}
	synopsis := ""
	for _, c := range cmds {
		if c.name == sub {
			synopsis = c.synopsis
		}
	}
	if synopsis == "" {
		return "", nil, "", fmt.Errorf("%w: unknown %s command %q\n%s", errUsage, group, sub, use)
	}
	fs := flag.NewFlagSet("davenport "+group+" "+sub, flag.ContinueOnError)
	db := fs.String("database", defaultDatabase, "postgres://… URL, or sqlite:PATH / PATH")
	flags(sub, fs)
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		pos, args = append(pos, args[0]), args[1:]
	}
	if err := parseFlags(fs, synopsis, args, stdout, stderr); err != nil {
		return "", nil, "", err
	}
	return sub, append(pos, fs.Args()...), *db, nil
}

func cmdShare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var user, group, access *string
	var addressBook, pending *bool
	sub, pos, database, err := parseSub("share", shareCommands, shareNote, args, stdout, stderr, func(sub string, fs *flag.FlagSet) {
		addressBook = fs.Bool("addressbook", false, "COLLECTION is an address book")
		if sub != "list" {
			user = fs.String("user", "", "share with this user")
			group = fs.String("group", "", "share with this group")
		}
		if sub == "add" {
			access = fs.String("access", "read", "read or read-write")
			pending = fs.Bool("pending", false, "leave a user share as an invitation to accept")
		}
	})
	if err != nil {
		return err
	}
	want := 2
	if sub == "list" {
		want = 1
	}
	if len(pos) < want || len(pos) > 2 {
		return fmt.Errorf("%w: share %s needs OWNER%s", errUsage, sub, map[bool]string{true: " [COLLECTION]", false: " COLLECTION"}[sub == "list"])
	}
	if sub != "list" && (*user == "") == (*group == "") {
		return fmt.Errorf("%w: share %s needs one of --user and --group", errUsage, sub)
	}
	acc := store.AccessRead
	if access != nil {
		acc = store.Access(*access)
		if !acc.Valid() {
			return fmt.Errorf("%w: --access is read or read-write, not %q", errUsage, *access)
		}
	}
	kind := store.KindCalendar
	if *addressBook {
		kind = store.KindAddressBook
	}
	st, err := openCommandStore(ctx, database, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	owner, err := st.GetUser(ctx, pos[0])
	if err != nil {
		return userErr(pos[0], err)
	}
	var cols []store.Collection
	if len(pos) == 2 {
		c, err := st.GetCollection(ctx, owner.ID, kind, pos[1])
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%s has no %s %q", owner.Username, kind, pos[1])
			}
			return err
		}
		cols = []store.Collection{*c}
	} else if cols, err = st.ListCollections(ctx, owner.ID, kind); err != nil {
		return err
	}
	if sub == "list" {
		return listShares(ctx, st, cols, stdout)
	}
	sh := store.Share{CollectionID: cols[0].ID, Access: acc}
	var sharee string
	if sh.UserID, sh.GroupID, sharee, err = findGrantee(ctx, st, *user, *group); err != nil {
		return err
	}
	if sh.UserID != 0 && pending != nil && !*pending {
		sh.Status = store.ShareAccepted
	}
	if sub == "add" {
		if err := st.PutShare(ctx, &sh); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("%s owns %s: there is nothing to share", sharee, cols[0].Name)
			}
			return err
		}
		fmt.Fprintf(stdout, "shared %s/%s with %s (%s, %s)\n", owner.Username, cols[0].Name, sharee, sh.Access, sh.Status)
		return nil
	}
	shares, err := st.ListShares(ctx, sh.CollectionID)
	if err != nil {
		return err
	}
	for _, s := range shares {
		if s.UserID == sh.UserID && s.GroupID == sh.GroupID {
			if err := st.DeleteShare(ctx, s.CollectionID, s.ID); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "stopped sharing %s/%s with %s\n", owner.Username, cols[0].Name, sharee)
			return nil
		}
	}
	return fmt.Errorf("%s/%s is not shared with %s", owner.Username, cols[0].Name, sharee)
}

// listShares prints the shares of cols, naming each sharee.
func listShares(ctx context.Context, st store.Store, cols []store.Collection, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLLECTION\tSHAREE\tACCESS\tSTATUS")
	for _, c := range cols {
		shares, err := st.ListShares(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, s := range shares {
			name, err := shareeName(ctx, st, s)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, name, s.Access, s.Status)
		}
	}
	return tw.Flush()
}

func shareeName(ctx context.Context, st store.Store, s store.Share) (string, error) {
	if s.UserID != 0 {
		u, err := st.GetUserByID(ctx, s.UserID)
		if err != nil {
			return "", err
		}
		return "user " + u.Username, nil
	}
	gs, err := st.ListGroups(ctx)
	if err != nil {
		return "", err
	}
	for _, g := range gs {
		if g.ID == s.GroupID {
			return "group " + g.Name, nil
		}
	}
	return fmt.Sprintf("group #%d", s.GroupID), nil
}

// findGrantee finds the user named user, or else the group named group,
// for share and delegate: its id (the other is 0) and how to name it.
func findGrantee(ctx context.Context, st store.Store, user, group string) (userID, groupID int64, name string, err error) {
	if user != "" {
		u, err := st.GetUser(ctx, user)
		if err != nil {
			return 0, 0, "", userErr(user, err)
		}
		return u.ID, 0, "user " + u.Username, nil
	}
	g, err := st.GetGroup(ctx, group)
	if err != nil {
		return 0, 0, "", groupErr(group, err)
	}
	return 0, g.ID, "group " + g.Name, nil
}

func groupErr(name string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no group %q", name)
	}
	return err
}
