package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// historyCommands and trashCommands are the subcommands of davenport history
// and davenport trash with their usage lines.
var (
	historyCommands = []struct{ name, synopsis string }{
		{"list", "davenport history list USER [--collection calendar/NAME|addressbook/NAME [--item NAME]] [--client UA] [--since 1h] [--limit N]"},
		{"show", "davenport history show USER VERSION"},
		{"restore", "davenport history restore USER VERSION | davenport history restore USER --client UA [--since 1h]"},
	}
	trashCommands = []struct{ name, synopsis string }{
		{"list", "davenport trash list USER"},
		{"restore", "davenport trash restore USER VERSION | davenport trash restore USER --collection ID"},
		{"purge", "davenport trash purge USER"},
	}
)

// restoreAgent is the User-Agent the history records for the CLI's restores.
const restoreAgent = "davenport-cli"

func commandsUsage(cmds []struct{ name, synopsis string }, note string) string {
	var b strings.Builder
	b.WriteString("Usage:\n")
	for _, c := range cmds {
		b.WriteString("  " + c.synopsis + "\n")
	}
	b.WriteString(note)
	return b.String()
}

const historyNote = `Each takes --database (or DAVENPORT_DATABASE). A restore is a new change:
clients pick it up by their normal sync. "restore --client UA" undoes what the
client with exactly that User-Agent changed since --since (default 1h), as
"history list --client UA" shows it.
`

const trashNote = `Each takes --database (or DAVENPORT_DATABASE). Deleted items and collections
are kept for --history-retention (serve's flag, default 30 days).
`

// historyArgs are the parsed arguments of a history or trash subcommand.
type historyArgs struct {
	database, collection, item, client string
	since                              time.Duration
	limit                              int
	user, id                           string
}

func parseHistoryArgs(cmd, sub string, cmds []struct{ name, synopsis string }, note string, args []string, stdout, stderr io.Writer) (*historyArgs, error) {
	synopsis := ""
	for _, c := range cmds {
		if c.name == sub {
			synopsis = c.synopsis
		}
	}
	if synopsis == "" {
		return nil, fmt.Errorf("%w: unknown %s command %q\n%s", errUsage, cmd, sub, commandsUsage(cmds, note))
	}
	a := &historyArgs{}
	fs := flag.NewFlagSet("davenport "+cmd+" "+sub, flag.ContinueOnError)
	fs.StringVar(&a.database, "database", defaultDatabase, "postgres://… URL, or sqlite:PATH / PATH")
	switch {
	case cmd == "history" && sub == "list":
		fs.StringVar(&a.collection, "collection", "", "only this collection, as calendar/NAME or addressbook/NAME")
		fs.StringVar(&a.item, "item", "", "with --collection: only this item (its resource name)")
		fs.StringVar(&a.client, "client", "", "only changes made by the client with exactly this User-Agent")
		fs.DurationVar(&a.since, "since", 0, "only changes made in this past duration, e.g. 1h")
		fs.IntVar(&a.limit, "limit", 100, "most entries shown, newest first; 0 for all")
	case cmd == "history" && sub == "restore":
		fs.StringVar(&a.client, "client", "", "restore everything the client with exactly this User-Agent changed")
		fs.DurationVar(&a.since, "since", time.Hour, "with --client: how far back")
	case cmd == "trash" && sub == "restore":
		fs.StringVar(&a.collection, "collection", "", "restore the deleted collection with this trash ID")
	}
	// Positional arguments may come before or after the flags.
	var pos []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		pos, args = append(pos, args[0]), args[1:]
	}
	if err := parseFlags(fs, synopsis, args, stdout, stderr); err != nil {
		return nil, err
	}
	pos = append(pos, fs.Args()...)
	if len(pos) == 0 {
		return nil, fmt.Errorf("%w: %s %s needs a USER", errUsage, cmd, sub)
	}
	a.user = store.CanonicalUsername(pos[0])
	if len(pos) > 1 {
		a.id = pos[1]
	}
	return a, nil
}

func cmdHistory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return historyOrTrash(ctx, "history", historyCommands, historyNote, args, stdout, stderr)
}

func cmdTrash(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return historyOrTrash(ctx, "trash", trashCommands, trashNote, args, stdout, stderr)
}

func historyOrTrash(ctx context.Context, cmd string, cmds []struct{ name, synopsis string }, note string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: missing %s command\n%s", errUsage, cmd, commandsUsage(cmds, note))
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, commandsUsage(cmds, note))
		return errHelp
	}
	a, err := parseHistoryArgs(cmd, sub, cmds, note, args, stdout, stderr)
	if err != nil {
		return err
	}
	st, err := openCommandStore(ctx, a.database, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.GetUser(ctx, a.user)
	if err != nil {
		return userErr(a.user, err)
	}
	h := &historyCmd{ctx: ctx, st: st, u: u, out: stdout}
	switch cmd + " " + sub {
	case "history list":
		return h.list(a)
	case "history show":
		return h.show(a.id)
	case "history restore":
		if a.client != "" {
			return h.revert(a.client, a.since)
		}
		return h.restore(a.id)
	case "trash list":
		return h.trashList()
	case "trash restore":
		if a.collection != "" {
			return h.restoreCollection(a.collection)
		}
		return h.restore(a.id)
	case "trash purge":
		n, err := st.PurgeTrash(ctx, u.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "purged %d deleted items and collections of %s\n", n, u.Username)
	}
	return nil
}

// historyCmd runs one history or trash command for one user.
type historyCmd struct {
	ctx   context.Context
	st    store.Store
	u     *store.User
	out   io.Writer
	names map[int64]string // collection id → kind/name, live or trashed
}

// collectionName names a collection, live or trashed, as kind/name.
func (h *historyCmd) collectionName(id int64) string {
	if h.names == nil {
		h.names = make(map[int64]string)
		if ts, err := h.st.ListTrashedCollections(h.ctx, h.u.ID); err == nil {
			for _, t := range ts {
				h.names[t.Collection.ID] = string(t.Collection.Kind) + "/" + t.Collection.Name + " (deleted)"
			}
		}
		for _, k := range []store.Kind{store.KindCalendar, store.KindAddressBook} {
			cs, _ := h.st.ListCollections(h.ctx, h.u.ID, k)
			for _, c := range cs {
				h.names[c.ID] = string(k) + "/" + c.Name
			}
		}
	}
	if n, ok := h.names[id]; ok {
		return n
	}
	return "#" + strconv.FormatInt(id, 10) + " (gone)"
}

// collectionID finds a live collection given as kind/name.
func (h *historyCmd) collectionID(spec string) (int64, error) {
	kind, name, ok := strings.Cut(spec, "/")
	if !ok || (store.Kind(kind) != store.KindCalendar && store.Kind(kind) != store.KindAddressBook) {
		return 0, fmt.Errorf("%w: --collection %q: want calendar/NAME or addressbook/NAME", errUsage, spec)
	}
	c, err := h.st.GetCollection(h.ctx, h.u.ID, store.Kind(kind), name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, fmt.Errorf("%s has no %s", h.u.Username, spec)
		}
		return 0, err
	}
	return c.ID, nil
}

func (h *historyCmd) printVersions(vs []store.Version) {
	tw := tabwriter.NewWriter(h.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tCHANGED\tCHANGE\tCOLLECTION\tITEM\tUID\tPREVIOUS SIZE\tCLIENT")
	for _, v := range vs {
		size := "-"
		if v.Op != store.OpCreate {
			size = strconv.FormatInt(v.Size, 10)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.ChangedAt.Local().Format(time.DateTime), v.Op,
			h.collectionName(v.CollectionID), v.Name, v.UID, size, v.Actor.UserAgent)
	}
	tw.Flush()
}

func (h *historyCmd) list(a *historyArgs) error {
	f := store.HistoryFilter{UserAgent: a.client, Limit: a.limit}
	if a.collection != "" {
		id, err := h.collectionID(a.collection)
		if err != nil {
			return err
		}
		f.CollectionID, f.Name = id, a.item
	}
	if a.since > 0 {
		f.Since = time.Now().Add(-a.since)
	}
	vs, err := h.st.ListVersions(h.ctx, h.u.ID, f)
	if err != nil {
		return err
	}
	h.printVersions(vs)
	return nil
}

func (h *historyCmd) version(id string) (*store.Version, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: VERSION must be a number from \"history list\", not %q", errUsage, id)
	}
	v, err := h.st.GetVersion(h.ctx, h.u.ID, n)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%s has no version %d (it may have been pruned)", h.u.Username, n)
	}
	return v, err
}

// show prints a version's facts, then the previous bytes exactly.
func (h *historyCmd) show(id string) error {
	v, err := h.version(id)
	if err != nil {
		return err
	}
	fmt.Fprintf(h.out, "Version:    %d\nChange:     %s at %s by %s\nItem:       %s/%s\nUID:        %s\n",
		v.ID, v.Op, v.ChangedAt.Local().Format(time.DateTime), clientName(v.Actor.UserAgent),
		h.collectionName(v.CollectionID), v.Name, v.UID)
	if v.Op == store.OpCreate {
		fmt.Fprintln(h.out, "\nThe change created the item; before it the item did not exist.")
		return nil
	}
	fmt.Fprintf(h.out, "ETag:       %q\nSize:       %d\n\n", v.ETag, v.Size)
	_, err = h.out.Write(v.Body)
	return err
}

func clientName(ua string) string {
	if ua == "" {
		return "(no User-Agent)"
	}
	return ua
}

func (h *historyCmd) actor() store.Actor {
	return store.Actor{UserID: h.u.ID, UserAgent: restoreAgent}
}

func (h *historyCmd) report(r *store.Restored) {
	where := h.collectionName(r.CollectionID) + "/" + r.Name
	switch {
	case r.Skipped != "":
		fmt.Fprintf(h.out, "left %s alone: %s\n", where, r.Skipped)
	case r.Unchanged:
		fmt.Fprintf(h.out, "%s already is as version %d had it\n", where, r.VersionID)
	case r.Deleted:
		fmt.Fprintf(h.out, "removed %s (version %d recorded its creation)\n", where, r.VersionID)
	case r.Renamed:
		fmt.Fprintf(h.out, "restored version %d as %s: its old name now holds another item\n", r.VersionID, where)
	default:
		fmt.Fprintf(h.out, "restored %s from version %d\n", where, r.VersionID)
	}
}

func (h *historyCmd) restore(id string) error {
	if id == "" {
		return fmt.Errorf("%w: restore needs a VERSION (or --client)", errUsage)
	}
	v, err := h.version(id)
	if err != nil {
		return err
	}
	r, err := store.RestoreVersion(h.ctx, h.st, h.u.ID, v.ID, h.actor())
	if err != nil {
		return restoreErr(err)
	}
	h.report(r)
	return nil
}

// restoreErr explains why a restore could not be made.
func restoreErr(err error) error {
	var uc *store.UIDConflictError
	switch {
	case errors.As(err, &uc):
		return fmt.Errorf("not restored: its UID %q is now used by %q; delete or move that item first", uc.UID, uc.Name)
	case errors.Is(err, store.ErrInTrashedCollection):
		return errors.New("not restored: its collection was deleted; restore the collection first (davenport trash list)")
	case errors.Is(err, store.ErrPreconditionFailed):
		return errors.New("not restored: the item changed meanwhile; try again")
	}
	return err
}

func (h *historyCmd) revert(client string, since time.Duration) error {
	rs, err := store.RevertClient(h.ctx, h.st, h.u.ID, client, time.Now().Add(-since), h.actor())
	for i := range rs {
		h.report(&rs[i])
	}
	if err != nil {
		return restoreErr(err)
	}
	fmt.Fprintf(h.out, "%d items of %s put back as they were before %q changed them in the last %s\n",
		len(rs), h.u.Username, client, since)
	return nil
}

func (h *historyCmd) trashList() error {
	ts, err := h.st.ListTrashedCollections(h.ctx, h.u.ID)
	if err != nil {
		return err
	}
	vs, err := h.st.ListVersions(h.ctx, h.u.ID, store.HistoryFilter{Op: store.OpDelete})
	if err != nil {
		return err
	}
	items := vs[:0]
	for _, v := range vs {
		if v.TrashID == 0 {
			items = append(items, v)
		}
	}
	fmt.Fprintf(h.out, "Deleted collections (restore with --collection ID):\n")
	tw := tabwriter.NewWriter(h.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDELETED\tCOLLECTION\tDISPLAY NAME\tITEMS")
	for _, t := range ts {
		fmt.Fprintf(tw, "%d\t%s\t%s/%s\t%s\t%d\n", t.ID, t.DeletedAt.Local().Format(time.DateTime),
			t.Collection.Kind, t.Collection.Name, t.Collection.DisplayName, t.Items)
	}
	tw.Flush()
	fmt.Fprintf(h.out, "\nDeleted items (restore with VERSION):\n")
	h.printVersions(items)
	return nil
}

func (h *historyCmd) restoreCollection(id string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: --collection must be an ID from \"trash list\", not %q", errUsage, id)
	}
	// The administrator restores: no quota stops them.
	c, err := store.RestoreCollection(h.ctx, h.st, h.u.ID, n, store.RestoreCollectionOptions{Actor: h.actor()})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s has no deleted collection %d in the trash", h.u.Username, n)
	}
	if err != nil {
		return restoreErr(err)
	}
	fmt.Fprintf(h.out, "restored %s/%s\n", c.Kind, c.Name)
	return nil
}
