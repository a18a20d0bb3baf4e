package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-webdav"
	gocaldav "github.com/emersion/go-webdav/caldav"
	gocarddav "github.com/emersion/go-webdav/carddav"

	"github.com/davenport-dav/davenport/caldav"
	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/ingest"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
)

const importSynopsis = `davenport import --user NAME --from URL [--remote-user R] [--password-stdin] [--dry-run]
       davenport import --user NAME --from-file FILE.ics|FILE.vcf|FILE.zip|DIR [--collection NAME] [--dry-run]`

const importNote = `
--from copies every calendar and address book of the account at URL (the
server's root or its principal; the account is found by
current-user-principal) into the local user's collection of the same name,
creating it with the remote name, colour, description, components and time
zone. Each item keeps its bytes, UID and, where free, its resource name. The
remote password comes from --password-stdin, else DAVENPORT_REMOTE_PASSWORD
(or DAVENPORT_REMOTE_PASSWORD_FILE), else a prompt on the terminal; it is
never printed or logged. Running it again writes only what changed; nothing
is deleted locally.

--from-file imports one .ics or .vcf file (into --collection, by default one
named after the file), a .zip of such files (a Nextcloud or Radicale export:
one collection per file), or a directory: its .ics/.vcf files, and each
subdirectory's (a Radicale storage folder or a vdirsyncer folder: one
collection per directory, with its .Radicale.props or displayname/color).
`

// importAgent is the User-Agent the history records for imported items and
// the one the import sends to the remote server.
func importAgent() string { return "davenport-import/" + version }

func cmdImport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var (
		database, user, from, fromFile, collection, remoteUser string
		passwordStdin, dryRun                                  bool
		maxSize                                                = byteSize(10 << 20)
	)
	fs := flag.NewFlagSet("davenport import", flag.ContinueOnError)
	fs.StringVar(&database, "database", defaultDatabase, "postgres://… URL, or sqlite:PATH / PATH")
	fs.StringVar(&user, "user", "", "the local user to import into")
	fs.StringVar(&from, "from", "", "URL of the CalDAV/CardDAV server to copy from")
	fs.StringVar(&fromFile, "from-file", "", "a .ics, .vcf or .zip file, or a directory of them, to import")
	fs.StringVar(&collection, "collection", "", "with --from-file FILE.ics|.vcf: the collection to import into")
	fs.StringVar(&remoteUser, "remote-user", "", "the account on the remote server (default: --user)")
	fs.BoolVar(&passwordStdin, "password-stdin", false, "read the remote password from standard input")
	fs.BoolVar(&dryRun, "dry-run", false, "say what would happen, change nothing")
	fs.Var(&maxSize, "max-resource-size", "largest item accepted (as serve's flag)")
	if err := parseFlags(fs, importSynopsis+"\n"+importNote, args, stdout, stderr); err != nil {
		return err
	}
	switch {
	case user == "":
		return fmt.Errorf("%w: --user is required", errUsage)
	case (from == "") == (fromFile == ""):
		return fmt.Errorf("%w: give one of --from and --from-file", errUsage)
	case collection != "" && from != "":
		return fmt.Errorf("%w: --collection goes with --from-file", errUsage)
	}
	var password string
	if from != "" {
		u, err := url.Parse(from)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: --from must be an http:// or https:// URL", errUsage)
		}
		if remoteUser == "" {
			remoteUser = user
		}
		// Before the database is opened: a missing password changes nothing.
		if password, err = remotePassword(passwordStdin, stdin, stderr, remoteUser); err != nil {
			return err
		}
	}
	st, err := openCommandStore(ctx, database, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.GetUser(ctx, store.CanonicalUsername(user))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %q", user)
	}
	if err != nil {
		return err
	}
	im := &importer{
		st: st, user: u, maxSize: int64(maxSize), dryRun: dryRun, out: stdout, progress: stderr,
		kinds: map[store.Kind]dav.Kind{},
	}
	for _, k := range server.Kinds(false) {
		im.kinds[k.StoreKind()] = k
	}
	if from != "" {
		err = im.fromURL(ctx, from, remoteUser, password)
	} else {
		err = im.fromFile(ctx, fromFile, collection)
	}
	if err != nil {
		return err
	}
	t := im.total
	verb := "imported"
	if dryRun {
		verb = "would import (dry run, nothing changed)"
	}
	fmt.Fprintf(stdout, "%s %d collections: %d items created, %d updated, %d unchanged, %d rejected\n",
		verb, im.collections, t.Created, t.Updated, t.Unchanged, t.RejectedCount)
	if t.RejectedCount > 0 {
		return fmt.Errorf("%d items were rejected (listed above)", t.RejectedCount)
	}
	return nil
}

// remotePassword reads the remote account's password: from standard
// input, from DAVENPORT_REMOTE_PASSWORD(_FILE), or from a prompt on the
// terminal without echo. It is never logged. "" means no credentials.
func remotePassword(fromStdin bool, stdin io.Reader, stderr io.Writer, remoteUser string) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read the password from standard input: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	if pw, ok, err := lookupEnv(envPrefix + "REMOTE_PASSWORD"); err != nil || ok {
		return pw, err
	}
	return promptPassword(stdin, stderr, fmt.Sprintf("Password of %s on the remote server (empty for none): ", remoteUser))
}

// importer copies collections into one user's account.
type importer struct {
	st       store.Store
	user     *store.User
	kinds    map[store.Kind]dav.Kind
	maxSize  int64
	dryRun   bool
	out      io.Writer // the summary lines
	progress io.Writer // progress while a collection is copied

	collections int
	total       ingest.Result
}

// collection returns the user's collection like want (same kind and
// name), creating it or bringing its properties in line. In a dry run a
// missing collection is returned unsaved, with ID 0.
func (im *importer) collection(ctx context.Context, want store.Collection) (*store.Collection, string, error) {
	want.OwnerID = im.user.ID
	c, err := im.st.GetCollection(ctx, im.user.ID, want.Kind, want.Name)
	if errors.Is(err, store.ErrNotFound) {
		if im.dryRun {
			return &want, "new", nil
		}
		if err := im.st.CreateCollection(ctx, &want); err != nil {
			return nil, "", fmt.Errorf("create %s %q: %w", want.Kind, want.Name, err)
		}
		return &want, "new", nil
	}
	if err != nil {
		return nil, "", err
	}
	var p store.CollectionPatch
	changed := false
	set := func(dst **string, have, to string) {
		if to != "" && to != have {
			*dst, changed = &to, true
		}
	}
	set(&p.DisplayName, c.DisplayName, want.DisplayName)
	set(&p.Description, c.Description, want.Description)
	set(&p.Color, c.Color, want.Color)
	set(&p.Timezone, c.Timezone, want.Timezone)
	if changed && !im.dryRun {
		if err := im.st.UpdateCollection(ctx, im.user.ID, c.ID, p); err != nil {
			return nil, "", err
		}
	}
	return c, "existing", nil
}

func (im *importer) target(c *store.Collection) *ingest.Target {
	return &ingest.Target{
		Store: im.st, Kind: im.kinds[c.Kind], User: im.user, Collection: c, MaxResourceSize: im.maxSize,
		Actor: store.Actor{UserID: im.user.ID, UserAgent: importAgent()}, DryRun: im.dryRun,
	}
}

// report prints a collection's summary line and its rejected items.
func (im *importer) report(c *store.Collection, state, source string, items int, res *ingest.Result, took time.Duration) {
	im.collections++
	im.total.Add(res)
	rate := float64(items) / max(took.Seconds(), 1e-3)
	fmt.Fprintf(im.out, "%s %s (%s) from %s: %d items: %d created, %d updated, %d unchanged, %d skipped, %d rejected; %.1fs, %.0f items/s\n",
		c.Kind, c.Name, state, source, items, res.Created, res.Updated, res.Unchanged, res.Skipped, res.RejectedCount, took.Seconds(), rate)
	for _, r := range res.Rejected {
		fmt.Fprintf(im.out, "  rejected %s: %s\n", r.UID, r.Reason)
	}
	if res.RejectedCount > len(res.Rejected) {
		fmt.Fprintf(im.out, "  … and %d more rejected\n", res.RejectedCount-len(res.Rejected))
	}
}

// progressMeter prints items/s and the time left every few seconds.
type progressMeter struct {
	w      io.Writer
	label  string
	total  int
	start  time.Time
	last   time.Time
	done   int
	enable bool
}

func (p *progressMeter) step() {
	p.done++
	now := time.Now()
	if !p.enable || now.Sub(p.last) < 2*time.Second {
		return
	}
	p.last = now
	rate := float64(p.done) / now.Sub(p.start).Seconds()
	eta := time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second)
	fmt.Fprintf(p.w, "%s: %d/%d items, %.0f items/s, about %s left\n", p.label, p.done, p.total, rate, eta)
}

// --- from another server --------------------------------------------------

// agentClient sends every request with one User-Agent, as a sync client
// does: the remote's logs (and a Davenport source's history) name it.
type agentClient struct {
	webdav.HTTPClient
	agent string
}

func (c agentClient) Do(req *http.Request) (*http.Response, error) {
	req.Header.Set("User-Agent", c.agent)
	return c.HTTPClient.Do(req)
}

// remoteCollection is one calendar or address book found on the remote.
type remoteCollection struct {
	kind store.Kind
	path string
	want store.Collection
}

func (im *importer) fromURL(ctx context.Context, from, remoteUser, password string) error {
	base, _ := url.Parse(from)
	shown := base.Redacted()
	var hc webdav.HTTPClient = agentClient{&http.Client{Timeout: 5 * time.Minute}, importAgent()}
	if password != "" {
		hc = webdav.HTTPClientWithBasicAuth(hc, remoteUser, password)
	}
	wc, err := webdav.NewClient(hc, from)
	if err != nil {
		return err
	}
	principal, err := wc.FindCurrentUserPrincipal(ctx)
	if err != nil {
		return fmt.Errorf("find the account at %s (current-user-principal): %w", shown, err)
	}
	var found []remoteCollection
	cc, err := gocaldav.NewClient(hc, from)
	if err != nil {
		return err
	}
	if home, err := cc.FindCalendarHomeSet(ctx, principal); err != nil {
		fmt.Fprintf(im.progress, "no calendars: %s has no calendar-home-set (%v)\n", principal, err)
	} else {
		cals, err := cc.FindCalendars(ctx, home)
		if err != nil {
			return fmt.Errorf("list the calendars in %s: %w", home, err)
		}
		for _, c := range cals {
			if localName(c.Path) == caldav.BirthdaysName {
				// Nextcloud's and Davenport's Birthdays calendar: derived
				// from the contacts, which come along; ours follows them.
				fmt.Fprintf(im.out, "calendar %s skipped: a Birthdays calendar, made here from the imported contacts\n", c.Path)
				continue
			}
			found = append(found, remoteCollection{kind: store.KindCalendar, path: c.Path, want: store.Collection{
				Kind: store.KindCalendar, DisplayName: c.Name, Description: c.Description, Components: c.SupportedComponentSet,
			}})
		}
	}
	ac, err := gocarddav.NewClient(hc, from)
	if err != nil {
		return err
	}
	if home, err := ac.FindAddressBookHomeSet(ctx, principal); err != nil {
		fmt.Fprintf(im.progress, "no address books: %s has no addressbook-home-set (%v)\n", principal, err)
	} else {
		books, err := ac.FindAddressBooks(ctx, home)
		if err != nil {
			return fmt.Errorf("list the address books in %s: %w", home, err)
		}
		for _, b := range books {
			found = append(found, remoteCollection{kind: store.KindAddressBook, path: b.Path, want: store.Collection{
				Kind: store.KindAddressBook, DisplayName: b.Name, Description: b.Description,
			}})
		}
	}
	for _, rc := range found {
		if err := im.copyRemote(ctx, hc, wc, base, rc); err != nil {
			return fmt.Errorf("copy %s: %w", rc.path, err)
		}
	}
	return nil
}

// copyRemote copies one remote collection: its properties, then every item
// by GET (the bytes as stored there; a REPORT's calendar-data would come
// through an XML parser, which turns CRLF into LF).
func (im *importer) copyRemote(ctx context.Context, hc webdav.HTTPClient, wc *webdav.Client, base *url.URL, rc remoteCollection) error {
	start := time.Now()
	extra, err := remoteProps(ctx, hc, base.ResolveReference(&url.URL{Path: rc.path}))
	if err != nil {
		return err
	}
	want := rc.want
	want.Name = localName(rc.path)
	want.Color, want.Timezone = extra.Color, extra.Timezone
	if want.DisplayName == "" {
		want.DisplayName = extra.DisplayName
	}
	if want.Description == "" {
		want.Description = extra.Description
	}
	c, state, err := im.collection(ctx, want)
	if err != nil {
		return err
	}
	list, err := wc.ReadDir(ctx, rc.path, false)
	if err != nil {
		return fmt.Errorf("list the items: %w", err)
	}
	var items []webdav.FileInfo
	for _, fi := range list {
		if !fi.IsDir {
			items = append(items, fi)
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Path < items[j].Path })

	// A few GETs in flight, one writer: memory is a handful of bodies.
	type fetched struct {
		name string
		body []byte
		err  error
	}
	jobs := make(chan webdav.FileInfo)
	results := make(chan fetched, 8)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fi := range jobs {
				f := fetched{name: path.Base(fi.Path)}
				if fi.Size > im.maxSize {
					f.err = fmt.Errorf("larger than %d bytes, the most one item may be", im.maxSize)
				} else {
					f.body, f.err = fetch(fctx, wc, fi.Path, im.maxSize)
				}
				select {
				case results <- f:
				case <-fctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, fi := range items {
			select {
			case jobs <- fi:
			case <-fctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	res := &ingest.Result{}
	t := im.target(c)
	pm := &progressMeter{w: im.progress, label: string(c.Kind) + " " + c.Name, total: len(items), start: start, last: start, enable: true}
	for f := range results {
		switch {
		case f.err != nil && ctx.Err() != nil:
			return ctx.Err()
		case f.err != nil:
			res.Reject(f.name, f.err.Error())
		default:
			if err := t.Put(ctx, f.name, f.body, res); err != nil {
				return err
			}
		}
		pm.step()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	im.report(c, state, rc.path, len(items), res, time.Since(start))
	return nil
}

// fetch GETs one item, at most limit bytes of it.
func fetch(ctx context.Context, wc *webdav.Client, p string, limit int64) ([]byte, error) {
	rc, err := wc.Open(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("GET: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes, the most one item may be", limit)
	}
	return b, nil
}

// localName is the local collection name for a remote collection's path:
// its last segment, as it was (names are opaque).
func localName(p string) string {
	n := path.Base(strings.TrimSuffix(p, "/"))
	if n == "." || n == "/" || n == "" || !utf8.ValidString(n) {
		return "imported"
	}
	return n
}

// remoteCollectionProps are the properties of a remote collection that go-webdav's
// client does not read.
type remoteCollectionProps struct {
	DisplayName, Description, Color, Timezone string
}

// remoteProps asks a remote collection for its colour and time zone (and
// display name and description, which go-webdav reads only for
// calendars), in one PROPFIND (RFC 4918 §9.1) of Depth 0. A server that
// lacks one leaves it empty.
func remoteProps(ctx context.Context, hc webdav.HTTPClient, u *url.URL) (remoteCollectionProps, error) {
	const body = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cr="urn:ietf:params:xml:ns:carddav" xmlns:a="http://apple.com/ns/ical/">
<d:prop><d:displayname/><c:calendar-description/><cr:addressbook-description/><a:calendar-color/><c:calendar-timezone/></d:prop>
</d:propfind>`
	var p remoteCollectionProps
	req, err := http.NewRequestWithContext(ctx, "PROPFIND", u.String(), strings.NewReader(body))
	if err != nil {
		return p, err
	}
	req.Header.Set("Depth", "0")
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	resp, err := hc.Do(req)
	if err != nil {
		return p, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		return p, fmt.Errorf("PROPFIND %s: %s", u.Redacted(), resp.Status)
	}
	var ms struct {
		Responses []struct {
			Propstats []struct {
				Status string `xml:"DAV: status"`
				Prop   struct {
					DisplayName  string `xml:"DAV: displayname"`
					CalDesc      string `xml:"urn:ietf:params:xml:ns:caldav calendar-description"`
					CardDesc     string `xml:"urn:ietf:params:xml:ns:carddav addressbook-description"`
					Color        string `xml:"http://apple.com/ns/ical/ calendar-color"`
					CalendarZone string `xml:"urn:ietf:params:xml:ns:caldav calendar-timezone"`
				} `xml:"DAV: prop"`
			} `xml:"DAV: propstat"`
		} `xml:"DAV: response"`
	}
	if err := xml.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ms); err != nil {
		return p, fmt.Errorf("PROPFIND %s: %w", u.Redacted(), err)
	}
	for _, r := range ms.Responses {
		for _, ps := range r.Propstats {
			if !strings.Contains(ps.Status, " 200") {
				continue
			}
			pr := ps.Prop
			p.DisplayName = cmp.Or(p.DisplayName, strings.TrimSpace(pr.DisplayName))
			p.Description = cmp.Or(p.Description, strings.TrimSpace(pr.CalDesc), strings.TrimSpace(pr.CardDesc))
			p.Color = cmp.Or(p.Color, strings.TrimSpace(pr.Color))
			p.Timezone = cmp.Or(p.Timezone, crlfText(pr.CalendarZone))
		}
	}
	return p, nil
}

// crlfText gives back the line breaks an XML parser took out of an
// iCalendar text (XML 1.0 §2.11 turns CRLF into LF; RFC 5545 §3.1 wants
// CRLF).
func crlfText(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n") + "\r\n"
}
