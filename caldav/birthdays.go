package caldav

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/internal/contentline"
	"github.com/davenport-dav/davenport/store"
)

// The Birthdays calendar (issue 17): one read-only calendar per user in the
// calendar home, holding a yearly all-day event for every BDAY and
// ANNIVERSARY of the cards in their address books. It is derived, not
// edited: the engine calls Refresh before serving it, and Refresh applies
// only what each address book's change log (the same modseqs and
// tombstones sync-collection reads, RFC 6578) says changed since the cursor
// kept for it (store.ListDerivedCursors), so an unchanged address book
// costs nothing but comparing two numbers. Its own objects are ordinary
// calendar objects: they carry modseqs, so sync-collection, calendar-query
// and getctag work as on any calendar.

// BirthdaysKind is the Birthdays calendar's kind: a calendar in every way
// but that its members are derived (dav.Derived).
type BirthdaysKind struct{ Kind }

var (
	_ dav.Kind     = BirthdaysKind{}
	_ dav.Derived  = BirthdaysKind{}
	_ dav.Reporter = BirthdaysKind{}
	_ dav.Like     = BirthdaysKind{}
)

// BirthdaysName is the Birthdays calendar's URL segment: the name Nextcloud
// gives its own, so clients that know one treat the other alike.
const BirthdaysName = "contact_birthdays"

// birthdaysAgent is the client the history names for derived changes.
const birthdaysAgent = "davenport-birthdays"

// BirthdaysCollection is the collection every user starts with.
func BirthdaysCollection() store.Collection {
	return store.Collection{Kind: store.KindBirthdays, Name: BirthdaysName, DisplayName: "Birthdays", Components: []string{"VEVENT"}}
}

func (BirthdaysKind) StoreKind() store.Kind { return store.KindBirthdays }

// Properties: the calendar kind registers them, and they apply here too
// (dav.Like).
func (BirthdaysKind) Properties() []*dav.Property { return nil }

// Source: the Birthdays calendar follows the address books.
func (BirthdaysKind) Source() store.Kind { return store.KindAddressBook }

// Like makes the calendar's collection properties its own: those of the
// calendar kind it embeds, which must be the one the server registers.
func (b BirthdaysKind) Like() dav.Kind { return b.Kind }

// NewCollection: the server makes the Birthdays calendar, clients never do.
func (BirthdaysKind) NewCollection(*dav.Request, string, []xml.Name) (*store.Collection, bool) {
	return nil, false
}

// PrepareObject refuses every write: the events follow the contacts. The
// engine refuses PUT before this for want of DAV:write-content; this covers
// any other way in.
func (BirthdaysKind) PrepareObject(*dav.Request, *store.Collection, []byte, string) (*store.Object, error) {
	return nil, &dav.Error{Status: http.StatusForbidden,
		Condition: dav.NewElement(dav.Name("need-privileges")),
		Message:   "caldav: the Birthdays calendar is read-only; edit the contact's birthday instead"}
}

// Refresh applies the address books' changes since the cursors (see the
// top of the file) and returns c as it now is.
func (k BirthdaysKind) Refresh(ctx context.Context, st store.Store, c *store.Collection) (*store.Collection, error) {
	books, err := st.ListCollections(ctx, c.OwnerID, store.KindAddressBook)
	if err != nil {
		return nil, err
	}
	cursors, err := st.ListDerivedCursors(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	r := &refresher{st: st, c: c, year: time.Now().Year()}
	// Source 0 holds the year the ages were written for: a new year
	// rewrites every event once (the ages in the summaries move on), and
	// so does a calendar without cursors (new, or restored from a backup),
	// removing what no card makes any more.
	full := cursors[0] != int64(r.year)
	if full {
		r.made = map[string]bool{}
	}
	live := map[int64]bool{}
	for i := range books {
		b := &books[i]
		live[b.ID] = true
		from, ok := cursors[b.ID]
		switch {
		case full:
			from = 0
		case !ok:
			from = 0
		case b.ModSeq <= from:
			continue // nothing changed
		case from < b.PrunedModSeq:
			// The deletions since the cursor are no longer known: start
			// this book over.
			if err := r.dropSource(ctx, b.ID); err != nil {
				return nil, err
			}
			from = 0
		}
		if err := r.apply(ctx, b.ID, from); err != nil {
			return nil, err
		}
	}
	for src := range cursors {
		if src != 0 && !live[src] { // an address book that is gone
			if err := r.dropSource(ctx, src); err != nil {
				return nil, err
			}
			if err := st.DeleteDerivedCursor(ctx, c.ID, src); err != nil {
				return nil, err
			}
		}
	}
	if full {
		if err := r.dropUnmade(ctx); err != nil {
			return nil, err
		}
		if err := st.SetDerivedCursor(ctx, c.ID, 0, int64(r.year)); err != nil {
			return nil, err
		}
	}
	if !r.changed {
		return c, nil
	}
	return st.GetCollection(ctx, c.OwnerID, c.Kind, c.Name)
}

// refresher is one Refresh at work.
type refresher struct {
	st      store.Store
	c       *store.Collection
	year    int
	made    map[string]bool // names written by a full pass
	changed bool
}

func (r *refresher) actor() store.Actor {
	return store.Actor{UserID: r.c.OwnerID, UserAgent: birthdaysAgent}
}

// apply reads book's changes after modseq from and applies them, moving the
// cursor as it goes: one query reads the current events of a whole page of
// changed cards, not one per card.
func (r *refresher) apply(ctx context.Context, bookID, from int64) error {
	for {
		ch, err := r.st.ListChangesSince(ctx, bookID, from, 500, true)
		if err != nil {
			return err
		}
		names := make([]string, 0, 2*len(ch.Changes))
		for _, change := range ch.Changes {
			for _, what := range cardWhats {
				names = append(names, eventName(bookID, what, change.Name))
			}
		}
		etags := map[string]string{}
		if len(names) > 0 {
			cur, err := r.st.GetObjects(ctx, r.c.ID, names, false)
			if err != nil {
				return err
			}
			for _, o := range cur {
				etags[o.Name] = o.ETag
			}
		}
		for _, change := range ch.Changes {
			var card []byte
			if !change.Deleted && change.Object != nil {
				card = change.Object.Body
			}
			if err := r.applyCard(ctx, bookID, change.Name, card, etags); err != nil {
				return err
			}
		}
		if err := r.st.SetDerivedCursor(ctx, r.c.ID, bookID, ch.ModSeq); err != nil {
			return err
		}
		if !ch.Truncated {
			return nil
		}
		from = ch.ModSeq
	}
}

// cardWhats are the dates of a card that make events.
var cardWhats = [...]string{"bday", "anniversary"}

// applyCard makes the events of one card (nil: deleted) match it, writing
// only what differs from etags, the current events' ETags by name.
func (r *refresher) applyCard(ctx context.Context, bookID int64, cardName string, card []byte, etags map[string]string) error {
	dates := map[string]*cardDate{}
	var name string
	if card != nil {
		name, dates["bday"], dates["anniversary"] = cardDates(card)
	}
	for _, what := range cardWhats {
		objName := eventName(bookID, what, cardName)
		if r.made != nil && dates[what] != nil {
			r.made[objName] = true
		}
		etag, exists := etags[objName]
		switch d := dates[what]; {
		case d == nil && exists:
			if err := r.delete(ctx, objName); err != nil {
				return err
			}
		case d != nil:
			body := birthdayEvent(strings.TrimSuffix(objName, ".ics"), what, name, d, r.year)
			if err := r.put(ctx, objName, body, etag, exists); err != nil {
				return err
			}
		}
	}
	return nil
}

// put writes one event unless it is there as it is; curETag is the
// current one's when exists.
func (r *refresher) put(ctx context.Context, name string, body []byte, curETag string, exists bool) error {
	etag := dav.BodyETag(body)
	if exists && curETag == etag {
		return nil
	}
	p, err := ParseObject(body, "", []string{"VEVENT"})
	if err != nil {
		return fmt.Errorf("caldav: birthday event %s: %w", name, err)
	}
	o := &store.Object{
		CollectionID: r.c.ID, Name: name, UID: p.UID, Component: p.Component,
		ContentType: "text/calendar; charset=utf-8; component=vevent", FirstStart: p.FirstStart, LastEnd: p.LastEnd,
		Body: body, Size: int64(len(body)), ETag: etag,
	}
	opts := store.PutObjectOptions{IfNoneMatch: true, Actor: r.actor()}
	if exists {
		opts = store.PutObjectOptions{IfMatch: curETag, Actor: r.actor()}
	}
	_, err = r.st.PutObject(ctx, o, opts)
	if errors.Is(err, store.ErrPreconditionFailed) {
		return nil // another request's refresh wrote it first
	}
	if err == nil {
		r.changed = true
	}
	return err
}

func (r *refresher) delete(ctx context.Context, name string) error {
	err := r.st.DeleteObject(ctx, r.c.ID, name, store.DeleteObjectOptions{Actor: r.actor()})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err == nil:
		r.changed = true
	}
	return err
}

// dropSource deletes every event made from address book id.
func (r *refresher) dropSource(ctx context.Context, id int64) error {
	prefix := strconv.FormatInt(id, 10) + "-"
	return r.dropWhere(ctx, func(name string) bool { return strings.HasPrefix(name, prefix) })
}

// dropUnmade deletes every event a full pass did not write.
func (r *refresher) dropUnmade(ctx context.Context) error {
	return r.dropWhere(ctx, func(name string) bool { return !r.made[name] })
}

func (r *refresher) dropWhere(ctx context.Context, drop func(name string) bool) error {
	var names []string
	after := ""
	for {
		page, err := r.st.ListObjects(ctx, r.c.ID, store.ListObjectsOptions{After: after, Limit: 500})
		if err != nil {
			return err
		}
		for _, o := range page {
			if drop(o.Name) {
				names = append(names, o.Name)
			}
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].Name
	}
	for _, n := range names {
		if err := r.delete(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// eventName is the resource name of a card's event: the address book, what
// the date is, and a hash of the card's name (any bytes) — stable, so that
// the card's next change finds it.
func eventName(bookID int64, what, cardName string) string {
	h := sha256.Sum256([]byte(cardName))
	return fmt.Sprintf("%d-%s-%s.ics", bookID, what, hex.EncodeToString(h[:8]))
}

// cardDate is a date of a card; Year is 0 when the card does not say it.
type cardDate struct{ Year, Month, Day int }

// cardDates reads a card's display name, birthday and anniversary (RFC 6350
// §6.2.5 BDAY, §6.2.6 ANNIVERSARY; vCard 3's BDAY, RFC 2426 §3.1.5, and
// the X-ANNIVERSARY of vCard 3 clients).
func cardDates(card []byte) (name string, bday, anniversary *cardDate) {
	var n string
	rd := contentline.NewReader(string(card))
	for rd.Next() {
		l, err := contentline.Parse(rd.Line())
		if err != nil {
			continue
		}
		_, prop := contentline.SplitGroup(l.Name)
		switch strings.ToUpper(prop) {
		case "FN":
			if name == "" {
				name = contentline.UnescapeText(l.Value)
			}
		case "N":
			if n == "" {
				parts := contentline.SplitEscaped(l.Value, ';')
				var given []string
				for _, i := range []int{3, 1, 2, 0, 4} { // prefix, given, additional, family, suffix
					if i < len(parts) && strings.TrimSpace(parts[i]) != "" {
						given = append(given, contentline.UnescapeText(parts[i]))
					}
				}
				n = strings.Join(given, " ")
			}
		case "BDAY":
			if bday == nil {
				bday = parseCardDate(&l)
			}
		case "ANNIVERSARY", "X-ANNIVERSARY":
			if anniversary == nil {
				anniversary = parseCardDate(&l)
			}
		}
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = n
	}
	if name == "" {
		name = "Unnamed contact"
	}
	return name, bday, anniversary
}

// parseCardDate reads the date forms of vCard 4 (RFC 6350 §4.3.1:
// 19850412, 1985-04-12, --0412, --04-12, each perhaps with a time after
// "T") and vCard 3 (1985-04-12, 19850412). Apple writes an unknown year as
// 1604 and says so with X-APPLE-OMIT-YEAR. Text values, reduced dates
// without a day (1985-04, ---12) and impossible dates give nil.
func parseCardDate(l *contentline.Line) *cardDate {
	if strings.EqualFold(l.Param("VALUE"), "text") {
		return nil
	}
	v := strings.TrimSpace(l.Value)
	if i := strings.IndexAny(v, "Tt"); i >= 0 {
		v = v[:i]
	}
	year := 0
	var md string
	switch {
	case strings.HasPrefix(v, "--") && !strings.HasPrefix(v, "---"):
		md = strings.ReplaceAll(v[2:], "-", "")
	case len(v) == 8 && !strings.Contains(v, "-"):
		year, md = atoi(v[:4]), v[4:]
	case len(v) == 10 && v[4] == '-' && v[7] == '-':
		year, md = atoi(v[:4]), v[5:7]+v[8:]
	default:
		return nil
	}
	if len(md) != 4 || year < 0 {
		return nil
	}
	d := &cardDate{Year: year, Month: atoi(md[:2]), Day: atoi(md[2:])}
	if omit := l.Param("X-APPLE-OMIT-YEAR"); omit != "" && atoi(omit) == year {
		d.Year = 0
	}
	// Is it a date at all? Unknown years check against a leap year, so
	// that --0229 stands.
	y := d.Year
	if y == 0 {
		y = 2000
	}
	if d.Month < 1 || d.Month > 12 || d.Day < 1 ||
		time.Date(y, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC).Day() != d.Day {
		return nil
	}
	return d
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// birthdayEvent is the event of one date: an all-day event recurring every
// year on it (RFC 5545 §3.3.10; February 29 on February's last day in
// other years), transparent to free-busy, and — when the year is known —
// with the age in the summaries of this year's and next year's instances
// (overrides, §3.8.4.4), so that each shows what it is.
func birthdayEvent(uid, what, name string, d *cardDate, year int) []byte {
	label := "Birthday"
	if what == "anniversary" {
		label = "Anniversary"
	}
	startYear := d.Year
	if startYear == 0 {
		startYear = 1970
		if d.Month == 2 && d.Day == 29 {
			startYear = 1972
		}
	}
	rule := "FREQ=YEARLY"
	if d.Month == 2 && d.Day == 29 {
		rule = "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1"
	}
	var b strings.Builder
	line := func(s string) { contentline.WriteFolded(&b, s) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Davenport//Birthdays//EN")
	vevent := func(start time.Time, summary string, override bool) {
		day := start.Format("20060102")
		line("BEGIN:VEVENT")
		line("UID:" + uid)
		line("DTSTAMP:19700101T000000Z")
		if override {
			line("RECURRENCE-ID;VALUE=DATE:" + day)
		}
		line("DTSTART;VALUE=DATE:" + day)
		line("DTEND;VALUE=DATE:" + start.AddDate(0, 0, 1).Format("20060102"))
		if !override {
			line("RRULE:" + rule)
		}
		line("SUMMARY:" + contentline.EscapeText(summary))
		line("TRANSP:TRANSPARENT")
		line("CATEGORIES:" + contentline.EscapeText(label))
		line("END:VEVENT")
	}
	vevent(time.Date(startYear, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC), label+": "+name, false)
	if d.Year > 0 {
		for y := year; y <= year+1; y++ {
			if y <= d.Year {
				continue
			}
			day := d.Day
			if d.Month == 2 && d.Day == 29 && time.Date(y, 3, 0, 0, 0, 0, 0, time.UTC).Day() == 28 {
				day = 28
			}
			vevent(time.Date(y, time.Month(d.Month), day, 0, 0, 0, 0, time.UTC), fmt.Sprintf("%s: %s (%d)", label, name, y-d.Year), true)
		}
	}
	line("END:VCALENDAR")
	return []byte(b.String())
}
