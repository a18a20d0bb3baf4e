package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
)

// cmdBirthdays turns a user's Birthdays calendar (issue 17) on or off. Off
// removes the calendar for good (its events are derived: nothing goes to
// the trash); on makes it again, and it fills from the address books on
// its first use.
func cmdBirthdays(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var off *bool
	st, u, _, err := userCommand(ctx, "birthdays", "davenport user birthdays NAME [--off]", args, 1, stdout, stderr, func(fs *flag.FlagSet) {
		off = fs.Bool("off", false, "turn the Birthdays calendar off instead")
	})
	if err != nil {
		return err
	}
	defer st.Close()
	cols, err := st.ListCollections(ctx, u.ID, store.KindBirthdays)
	if err != nil {
		return err
	}
	switch {
	case *off && len(cols) == 0, !*off && len(cols) > 0:
		// Already so.
	case *off:
		for _, c := range cols {
			if err := st.DeleteCollection(ctx, u.ID, c.ID); err != nil {
				return err
			}
		}
		trash, err := st.ListTrashedCollections(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, tc := range trash {
			if tc.Collection.Kind == store.KindBirthdays {
				if err := st.DeleteTrashedCollection(ctx, u.ID, tc.ID); err != nil {
					return err
				}
			}
		}
	default:
		for _, c := range server.DefaultCollections() {
			if c.Kind == store.KindBirthdays {
				c.OwnerID = u.ID
				if err := st.CreateCollection(ctx, &c); err != nil {
					return err
				}
			}
		}
	}
	state := "on"
	if *off {
		state = "off"
	}
	fmt.Fprintf(stdout, "the Birthdays calendar of %s is %s\n", u.Username, state)
	return nil
}
