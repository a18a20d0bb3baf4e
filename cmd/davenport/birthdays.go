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
	var tmpl store.Collection
	for _, c := range server.DefaultCollections() {
		if c.Kind == store.KindBirthdays {
			tmpl = c
		}
	}
	if err := store.SetBirthdays(ctx, st, u.ID, !*off, tmpl); err != nil {
		return err
	}
	state := "on"
	if *off {
		state = "off"
	}
	fmt.Fprintf(stdout, "the Birthdays calendar of %s is %s\n", u.Username, state)
	return nil
}
