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

func cmdGroup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var displayName, add, remove *string
	sub, pos, database, err := parseSub("group", groupCommands, groupNote, args, stdout, stderr, func(sub string, fs *flag.FlagSet) {
		switch sub {
		case "add":
			displayName = fs.String("display-name", "", "name shown in clients")
		case "members":
			add = fs.String("add", "", "comma-separated users to add")
			remove = fs.String("remove", "", "comma-separated users to remove")
		}
	})
	if err != nil {
		return err
	}
	if want := map[bool]int{true: 0, false: 1}[sub == "list"]; len(pos) != want {
		return fmt.Errorf("%w: group %s takes %d name(s)", errUsage, sub, want)
	}
	st, err := openCommandStore(ctx, database, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "add":
		g := &store.Group{Name: pos[0], DisplayName: *displayName}
		if err := st.CreateGroup(ctx, g); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("group %q already exists (group names are case-insensitive)", g.Name)
			}
			return err
		}
		fmt.Fprintf(stdout, "created group %s\n", g.Name)
		return nil
	case "list":
		gs, err := st.ListGroups(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tDISPLAY NAME")
		for _, g := range gs {
			fmt.Fprintf(tw, "%s\t%s\n", g.Name, g.DisplayName)
		}
		return tw.Flush()
	}
	g, err := st.GetGroup(ctx, pos[0])
	if err != nil {
		return groupErr(pos[0], err)
	}
	if sub == "delete" {
		if err := st.DeleteGroup(ctx, g.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted group %s and its shares\n", g.Name)
		return nil
	}
	for _, change := range []struct {
		names string
		apply func(groupID, userID int64) error
	}{
		{*add, func(gid, uid int64) error { return st.AddGroupMember(ctx, gid, uid) }},
		{*remove, func(gid, uid int64) error { return st.RemoveGroupMember(ctx, gid, uid) }},
	} {
		for _, name := range strings.Split(change.names, ",") {
			if name = strings.TrimSpace(name); name == "" {
				continue
			}
			u, err := st.GetUser(ctx, name)
			if err != nil {
				return userErr(name, err)
			}
			if err := change.apply(g.ID, u.ID); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("%s is not a member of %s", u.Username, g.Name)
				}
				return err
			}
		}
	}
	members, err := st.ListGroupMembers(ctx, g.ID)
	if err != nil {
		return err
	}
	for _, u := range members {
		fmt.Fprintln(stdout, u.Username)
	}
	return nil
}
