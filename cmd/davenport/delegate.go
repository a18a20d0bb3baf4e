package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
)

var delegateCommands = []subcommand{
	{"add", "davenport delegate add OWNER (--user NAME | --group NAME) [--access read|read-write|free-busy]"},
	{"list", "davenport delegate list OWNER"},
	{"remove", "davenport delegate remove OWNER (--user NAME | --group NAME)"},
	{"free-busy", "davenport delegate free-busy OWNER everyone|granted"},
}

const delegateNote = `A delegate reaches all of OWNER's calendars: read, or read-write (they also
write, and schedule as OWNER); free-busy lets them see OWNER's busy time
only. free-busy everyone (the default) lets every user see OWNER's busy
time; granted, only delegates and free-busy grantees. The same as the
calendar-proxy-read/-write groups clients set. Each takes --database.
`

var linkCommands = []subcommand{
	{"add", "davenport link add OWNER CALENDAR [--base-url URL]"},
	{"list", "davenport link list OWNER CALENDAR [--base-url URL]"},
	{"remove", "davenport link remove OWNER CALENDAR ID"},
}

const linkNote = `A public link serves CALENDAR read-only to anybody who has its URL, without
signing in, with private events masked; remove revokes it. Each takes
--database.
`

func cmdDelegate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var user, group, access *string
	sub, pos, database, err := parseSub("delegate", delegateCommands, delegateNote, args, stdout, stderr, func(sub string, fs *flag.FlagSet) {
		if sub == "add" || sub == "remove" {
			user = fs.String("user", "", "the delegate user")
			group = fs.String("group", "", "the delegate group")
		}
		if sub == "add" {
			access = fs.String("access", "read", "read, read-write or free-busy")
		}
	})
	if err != nil {
		return err
	}
	want := map[string]int{"add": 1, "list": 1, "remove": 1, "free-busy": 2}[sub]
	if len(pos) != want {
		return fmt.Errorf("%w: delegate %s takes %d argument(s)", errUsage, sub, want)
	}
	if user != nil && (*user == "") == (*group == "") {
		return fmt.Errorf("%w: delegate %s needs one of --user and --group", errUsage, sub)
	}
	acc := store.GrantRead
	if access != nil {
		if acc = store.GrantAccess(*access); !acc.Valid() {
			return fmt.Errorf("%w: --access is read, read-write or free-busy, not %q", errUsage, *access)
		}
	}
	if sub == "free-busy" && pos[1] != "everyone" && pos[1] != "granted" {
		return fmt.Errorf("%w: delegate free-busy takes everyone or granted, not %q", errUsage, pos[1])
	}
	st, owner, err := openOwner(ctx, database, pos[0], stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "free-busy":
		if err := st.SetFreeBusyEveryone(ctx, owner.ID, pos[1] == "everyone"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "free-busy of %s: %s\n", owner.Username, pos[1])
		return nil
	case "list":
		grants, err := st.ListGrants(ctx, owner.ID)
		if err != nil {
			return err
		}
		everyone, err := st.FreeBusyEveryone(ctx, owner.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DELEGATE\tACCESS")
		for _, g := range grants {
			name, err := shareeName(ctx, st, store.Share{UserID: g.UserID, GroupID: g.GroupID})
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\n", name, g.Access)
		}
		if everyone {
			fmt.Fprintf(tw, "everyone\t%s\n", store.GrantFreeBusy)
		}
		return tw.Flush()
	}
	g := store.Grant{OwnerID: owner.ID, Access: acc}
	var name string
	if g.UserID, g.GroupID, name, err = findGrantee(ctx, st, *user, *group); err != nil {
		return err
	}
	if sub == "add" {
		if err := st.PutGrant(ctx, &g); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("%s cannot be their own delegate", owner.Username)
			}
			return err
		}
		fmt.Fprintf(stdout, "%s is a %s delegate of %s\n", name, g.Access, owner.Username)
		return nil
	}
	grants, err := st.ListGrants(ctx, owner.ID)
	if err != nil {
		return err
	}
	for _, old := range grants {
		if old.UserID == g.UserID && old.GroupID == g.GroupID {
			if err := st.DeleteGrant(ctx, owner.ID, old.ID); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s is no longer a delegate of %s\n", name, owner.Username)
			return nil
		}
	}
	return fmt.Errorf("%s is not a delegate of %s", name, owner.Username)
}

func cmdLink(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var base *string
	sub, pos, database, err := parseSub("link", linkCommands, linkNote, args, stdout, stderr, func(sub string, fs *flag.FlagSet) {
		if sub != "remove" {
			base = fs.String("base-url", "", "the server's public URL, to print whole links")
		}
	})
	if err != nil {
		return err
	}
	want := map[string]int{"add": 2, "list": 2, "remove": 3}[sub]
	if len(pos) != want {
		return fmt.Errorf("%w: link %s takes %d arguments", errUsage, sub, want)
	}
	st, owner, err := openOwner(ctx, database, pos[0], stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := st.GetCollection(ctx, owner.ID, store.KindCalendar, pos[1])
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s has no calendar %q", owner.Username, pos[1])
		}
		return err
	}
	switch sub {
	case "add":
		l, err := dav.NewPublicLink(ctx, st, c.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d\t%s\n", l.ID, *base+dav.PublicLinkPath(l.Token))
		return nil
	case "list":
		links, err := st.ListPublicLinks(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, l := range links {
			fmt.Fprintf(stdout, "%d\t%s\t%s\n", l.ID, *base+dav.PublicLinkPath(l.Token), l.Created.UTC().Format("2006-01-02 15:04"))
		}
		return nil
	}
	id, err := strconv.ParseInt(pos[2], 10, 64)
	if err != nil {
		return fmt.Errorf("%w: link remove takes the link's ID, not %q", errUsage, pos[2])
	}
	if err := st.DeletePublicLink(ctx, c.ID, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s/%s has no link %d", owner.Username, c.Name, id)
		}
		return err
	}
	fmt.Fprintf(stdout, "revoked link %d of %s/%s\n", id, owner.Username, c.Name)
	return nil
}

// openOwner opens the store and finds the user a command acts for.
func openOwner(ctx context.Context, database, username string, stderr io.Writer) (store.Store, *store.User, error) {
	st, err := openCommandStore(ctx, database, stderr)
	if err != nil {
		return nil, nil, err
	}
	owner, err := st.GetUser(ctx, username)
	if err != nil {
		st.Close()
		return nil, nil, userErr(username, err)
	}
	return st, owner, nil
}
