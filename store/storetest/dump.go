package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

var dumpTests = []test{
	{"not_empty", testLoadNotEmpty},
	{"fn_error", testDumpFnError},
}

var pairTests = []pairTest{
	{"round_trip", testDumpRoundTrip},
}

// The last sign-in and app password use fillForDump records.
var (
	dumpLastLogin = time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
	dumpLastUsed  = time.Date(2026, 5, 7, 8, 9, 10, 654321000, time.UTC)
)

// fillForDump gives s one of everything a dump carries.
func fillForDump(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	if err := s.UnlockUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	phone := &store.AppPassword{UserID: u.ID, Label: "phone", PasswordHash: testHash}
	if err := s.CreateAppPassword(ctx, phone); err != nil {
		t.Fatal(err)
	}
	// What the web UI adds to an account: the admin role, the last
	// sign-in, an app password's last use.
	if err := s.SetUserAdmin(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordLogin(ctx, u.ID, dumpLastLogin); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchAppPassword(ctx, u.ID, phone.ID, dumpLastUsed); err != nil {
		t.Fatal(err)
	}
	other := newUser(t, s, "other")
	book := newCollection(t, s, other.ID, store.KindAddressBook, "book")
	order, color := 2, "#00FF00FF"
	orderp := &order
	if err := s.UpdateCollection(ctx, u.ID, cal.ID, store.CollectionPatch{Color: &color, Order: &orderp,
		DeadProps: []store.DeadProp{{Namespace: "urn:x", Name: "p", XML: `<p xmlns="urn:x">v</p>`}}}); err != nil {
		t.Fatal(err)
	}
	a := store.Actor{UserID: u.ID, UserAgent: "client/1"}
	for i := range 5 {
		o := event(cal.ID, fmt.Sprintf("%d é.ics", i), fmt.Sprint("uid-", i), "s")
		o.FirstStart, o.LastEnd = date(2024, 1, i+1), date(2024, 1, i+2)
		if _, err := s.PutObject(ctx, o, store.PutObjectOptions{Actor: a}); err != nil {
			t.Fatal(err)
		}
	}
	put(t, s, event(cal.ID, "0 é.ics", "uid-0", "changed"))
	if err := s.DeleteObject(ctx, cal.ID, "1 é.ics", store.DeleteObjectOptions{Actor: a}); err != nil {
		t.Fatal(err)
	}
	card := event(book.ID, "c.vcf", "card", "card")
	card.Component, card.Body = "VCARD", []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card\r\nFN:X\r\nEND:VCARD\r\n")
	card.ETag = etagOf(card.Body)
	put(t, s, card)
	newCollection(t, s, u.ID, store.KindCalendar, "empty")
	gone := newCollection(t, s, u.ID, store.KindCalendar, "gone")
	putEvent(t, s, gone.ID, "g.ics", "uid-g")
	if err := s.DeleteCollection(ctx, u.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PruneTombstones(ctx, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Sharing: a group, shares with a user (with their own view) and the
	// group, delegations, a hidden free/busy and a public link.
	g := newGroup(t, s, "family", u, other)
	putShare(t, s, store.Share{CollectionID: book.ID, UserID: u.ID, Access: store.AccessReadWrite, Status: store.ShareAccepted})
	putShare(t, s, store.Share{CollectionID: cal.ID, GroupID: g.ID, Access: store.AccessRead})
	name := "Theirs"
	if err := s.SetShareView(ctx, u.ID, book.ID, store.ShareView{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	for _, gr := range []store.Grant{{OwnerID: u.ID, UserID: other.ID, Access: store.GrantReadWrite}, {OwnerID: other.ID, GroupID: g.ID, Access: store.GrantFreeBusy}} {
		if err := s.PutGrant(ctx, &gr); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetFreeBusyEveryone(ctx, other.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePublicLink(ctx, &store.PublicLink{CollectionID: cal.ID, Token: dumpToken}); err != nil {
		t.Fatal(err)
	}
	// A file of the files home, with a dead property.
	home := newCollection(t, s, other.ID, store.KindFiles, "")
	put(t, s, file(home.ID, "notes.txt", "plain bytes"))
	if err := s.UpdateObjectDeadProps(ctx, home.ID, "notes.txt", []store.DeadProp{{Namespace: "urn:f", Name: "tag", XML: `<tag xmlns="urn:f" xml:lang="de">Notiz</tag>`}}); err != nil {
		t.Fatal(err)
	}
	// What is under way: a derived calendar's cursor, an iMIP message
	// waiting for a retry, the VAPID keys with a push registration, a lock.
	if err := s.SetDerivedCursor(ctx, cal.ID, book.ID, 3); err != nil {
		t.Fatal(err)
	}
	mail := []store.Mail{{UserID: u.ID, UID: "uid-2", From: "mailto:owner@example.com", To: "mailto:guest@example.net",
		Method: "REQUEST", Body: []byte("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n")}}
	if err := s.QueueMail(ctx, mail); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryMail(ctx, mail[0].ID, dumpLastUsed, "relay said no"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.EnsurePushKeys(ctx, func() (string, string, error) { return dumpVAPIDPrivate, dumpVAPIDPublic, nil }); err != nil {
		t.Fatal(err)
	}
	reg := &store.PushRegistration{UserID: u.ID, CollectionID: cal.ID, PushResource: "https://push.example/abc",
		PublicKey: "BPk", AuthSecret: "c2VjcmV0", ContentUpdate: true, UserAgent: "DAVx5/4",
		Expires: time.Now().Add(72 * time.Hour).UTC().Truncate(time.Microsecond)}
	if _, err := s.PutPushRegistration(ctx, reg, 10); err != nil {
		t.Fatal(err)
	}
	for _, l := range []store.Lock{
		{Token: "urn:uuid:dump-lock", Root: "/dav/files/other/notes.txt", UserID: other.ID, Owner: "<D:href xmlns:D=\"DAV:\">me</D:href>", Timeout: time.Hour},
		{Token: "urn:uuid:expired-lock", Root: "/dav/files/other/gone.txt", UserID: other.ID, Timeout: time.Microsecond},
	} {
		if err := s.CreateLock(ctx, &l); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Millisecond) // the second lock expires: a dump leaves it out
}

// The VAPID key pair fillForDump stores.
const (
	dumpVAPIDPrivate = "vapid-private"
	dumpVAPIDPublic  = "vapid-public"
)

// dumpToken is the public link fillForDump makes.
const dumpToken = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"

// dumpAll returns s's dump as canonical JSON lines.
func dumpAll(t *testing.T, s store.Store) ([]store.Record, []string) {
	t.Helper()
	var recs []store.Record
	var lines []string
	err := s.Dump(t.Context(), func(r store.Record) error {
		recs = append(recs, r)
		lines = append(lines, canonicalRecord(t, r))
		return nil
	})
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	return recs, lines
}

// canonicalRecord renders a record for comparison: times in UTC, nil and
// empty slices alike.
func canonicalRecord(t *testing.T, r store.Record) string {
	t.Helper()
	utc := func(p *time.Time) {
		if p != nil && !p.IsZero() {
			*p = p.UTC()
		}
	}
	switch {
	case r.User != nil:
		u := *r.User
		utc(&u.Created)
		utc(&u.UnlockedAt)
		r.User = &u
		if r.LastLogin != nil {
			login := r.LastLogin.UTC()
			r.LastLogin = &login
		}
	case r.AppPassword != nil:
		p := *r.AppPassword
		utc(&p.Created)
		if p.LastUsed != nil {
			used := p.LastUsed.UTC()
			p.LastUsed = &used
		}
		r.AppPassword = &p
	case r.Collection != nil:
		c := *r.Collection
		utc(&c.Created)
		utc(&c.Updated)
		if len(c.Components) == 0 {
			c.Components = nil
		}
		r.Collection = &c
	case r.Object != nil:
		o := *r.Object
		utc(&o.Created)
		utc(&o.Updated)
		utc(o.FirstStart)
		utc(o.LastEnd)
		r.Object = &o
	case r.Tombstone != nil:
		tb := *r.Tombstone
		utc(&tb.DeletedAt)
		r.Tombstone = &tb
	case r.Trashed != nil:
		tr := *r.Trashed
		utc(&tr.DeletedAt)
		utc(&tr.Collection.Created)
		r.Trashed = &tr
	case r.Version != nil:
		v := *r.Version
		utc(&v.ChangedAt)
		utc(v.FirstStart)
		utc(v.LastEnd)
		r.Version = &v
	case r.Group != nil:
		g := *r.Group
		utc(&g.Created)
		r.Group = &g
	case r.Share != nil:
		sh := *r.Share
		utc(&sh.Created)
		r.Share = &sh
	case r.Grant != nil:
		g := *r.Grant
		utc(&g.Created)
		r.Grant = &g
	case r.PublicLink != nil:
		l := *r.PublicLink
		utc(&l.Created)
		r.PublicLink = &l
	case r.Mail != nil:
		m := *r.Mail
		utc(&m.NextAttempt)
		utc(&m.Created)
		r.Mail = &m
	case r.PushKeys != nil:
		k := *r.PushKeys
		utc(&k.Created)
		r.PushKeys = &k
	case r.PushRegistration != nil:
		pr := *r.PushRegistration
		utc(&pr.Expires)
		utc(&pr.Created)
		utc(pr.LastDelivery)
		r.PushRegistration = &pr
	case r.Lock != nil:
		l := *r.Lock
		utc(&l.Created)
		utc(&l.Expires)
		r.Lock = &l
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func records(recs []store.Record) iter.Seq2[store.Record, error] {
	return func(yield func(store.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func testDumpRoundTrip(t *testing.T, s store.Store, newStore func(t testing.TB) store.Store) {
	ctx := t.Context()
	fillForDump(t, s)
	recs, want := dumpAll(t, s)
	kinds := map[string]int{}
	for _, r := range recs {
		switch {
		case r.User != nil:
			kinds["user"]++
		case r.AppPassword != nil:
			kinds["app"]++
		case r.Collection != nil:
			kinds["collection"]++
			if len(r.DeadProps) > 0 {
				kinds["dead"]++
			}
		case r.Object != nil:
			kinds["object"]++
			if len(r.DeadProps) > 0 {
				kinds["objdead"]++
			}
			if r.Object.Body == nil {
				t.Errorf("object %q dumped without its body", r.Object.Name)
			}
		case r.Tombstone != nil:
			kinds["tombstone"]++
		case r.Trashed != nil:
			kinds["trash"]++
		case r.Version != nil:
			kinds["version"]++
		case r.Group != nil:
			kinds["group"]++
		case r.GroupMember != nil:
			kinds["member"]++
		case r.Share != nil:
			kinds["share"]++
		case r.ShareView != nil:
			kinds["view"]++
		case r.Grant != nil:
			kinds["grant"]++
		case r.PublicLink != nil:
			kinds["link"]++
		case r.DerivedCursor != nil:
			kinds["cursor"]++
		case r.Mail != nil:
			kinds["mail"]++
		case r.PushKeys != nil:
			kinds["vapid"]++
		case r.PushRegistration != nil:
			kinds["push"]++
		case r.Lock != nil:
			kinds["lock"]++
		}
		if r.User != nil && r.FreeBusyHidden {
			kinds["hidden"]++
		}
	}
	if fmt.Sprint(kinds) != "map[app:1 collection:4 cursor:1 dead:1 grant:2 group:1 hidden:1 link:1 lock:1 mail:1 member:2 objdead:1 object:6 push:1 share:2 tombstone:1 trash:1 user:2 vapid:1 version:11 view:1]" {
		t.Errorf("dumped kinds = %v", kinds)
	}

	// Into a fresh store of the same kind (the cross-store round trip is
	// cmd/davenport's TestBackupAcrossStores).
	fresh := newStore(t)
	if err := fresh.Load(ctx, records(recs)); err != nil {
		t.Fatalf("Load: %v", err)
	}
	_, got := dumpAll(t, fresh)
	if !slices.Equal(got, want) {
		for i := range max(len(got), len(want)) {
			var g, w string
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("record %d:\n\tgot  %s\n\twant %s", i, g, w)
			}
		}
	}
	// What the server writes next gets fresh ids after the loaded ones.
	u, err := fresh.GetUser(ctx, "cal-owner")
	if err != nil {
		t.Fatal(err)
	}
	c := newCollection(t, fresh, u.ID, store.KindCalendar, "after-load")
	o := putEvent(t, fresh, c.ID, "n.ics", "n")
	for _, r := range recs {
		if r.Collection != nil && r.Collection.ID >= c.ID || r.Object != nil && r.Object.ID >= o.ID {
			t.Errorf("an id from before the load was handed out again: collection %d, object %d", c.ID, o.ID)
		}
	}
	third := newUser(t, fresh, "third")
	// Sharing came along and works: delegations, the free/busy setting,
	// the public link (found by its token), and new rows get fresh ids.
	other, err := fresh.GetUser(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	if a, err := fresh.GrantOf(ctx, u.ID, other.ID); err != nil || a != store.GrantReadWrite {
		t.Errorf("loaded delegation: %q %v", a, err)
	}
	if a, err := fresh.GrantOf(ctx, other.ID, third.ID); err != nil || a != "" {
		t.Errorf("loaded free-busy setting lets a stranger in: %q %v", a, err)
	}
	if _, lc, err := fresh.GetPublicLink(ctx, dumpToken); err != nil || lc.ID != cal0(recs).ID {
		t.Errorf("loaded public link: %v", err)
	}
	if err := fresh.PutGrant(ctx, &store.Grant{OwnerID: u.ID, UserID: third.ID, Access: store.GrantRead}); err != nil {
		t.Errorf("a grant after the load: %v", err)
	}
	if err := fresh.CreatePublicLink(ctx, &store.PublicLink{CollectionID: c.ID, Token: "after-load"}); err != nil {
		t.Errorf("a public link after the load: %v", err)
	}
	if _, err := fresh.ListShares(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := fresh.PutShare(ctx, &store.Share{CollectionID: c.ID, UserID: third.ID, Access: store.AccessRead}); err != nil {
		t.Errorf("a share after the load: %v", err)
	}
	g2 := &store.Group{Name: "after-load"}
	if err := fresh.CreateGroup(ctx, g2); err != nil {
		t.Errorf("a group after the load: %v", err)
	}
	// The account as the web UI shows it came along: the role (else nobody
	// is admin after a restore), the last sign-in, the app password's last
	// use.
	accs, err := fresh.ListAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, acc := range accs {
		wantAdmin, wantLogin := acc.ID == u.ID, (*time.Time)(nil)
		if wantAdmin {
			wantLogin = &dumpLastLogin
		}
		if acc.Admin != wantAdmin || (acc.LastLogin == nil) != (wantLogin == nil) ||
			acc.LastLogin != nil && !acc.LastLogin.Equal(*wantLogin) {
			t.Errorf("loaded account %q: admin %v, last login %v; want %v, %v", acc.Username, acc.Admin, acc.LastLogin,
				wantAdmin, wantLogin)
		}
	}
	ps, err := fresh.ListAppPasswords(ctx, u.ID)
	if err != nil || len(ps) != 1 || ps[0].LastUsed == nil || !ps[0].LastUsed.Equal(dumpLastUsed) {
		t.Errorf("loaded app passwords = %+v, %v; want one last used %v", ps, err, dumpLastUsed)
	}
	// What was under way came along: the VAPID keys (else every push
	// subscription breaks), the registration, the queued mail with its
	// retry state, the lock (its holder can still unlock), the cursor.
	priv, pub, err := fresh.EnsurePushKeys(ctx, func() (string, string, error) { return "new", "new", nil })
	if err != nil || priv != dumpVAPIDPrivate || pub != dumpVAPIDPublic {
		t.Errorf("loaded VAPID keys = %q, %q, %v; want the dumped ones", priv, pub, err)
	}
	if regs, err := fresh.ListPushRegistrations(ctx, u.ID); err != nil || len(regs) != 1 || regs[0].PushResource != "https://push.example/abc" {
		t.Errorf("loaded push registrations = %+v, %v", regs, err)
	}
	if mail, err := fresh.ListMail(ctx); err != nil || len(mail) != 1 || mail[0].LastError != "relay said no" || !mail[0].NextAttempt.Equal(dumpLastUsed) {
		t.Errorf("loaded mail = %+v, %v", mail, err)
	}
	if err := fresh.QueueMail(ctx, []store.Mail{{UserID: u.ID, UID: "x", From: "mailto:a@b", To: "mailto:c@d", Method: "REPLY", Body: []byte("x")}}); err != nil {
		t.Errorf("mail after the load: %v", err)
	}
	if _, err := fresh.PutPushRegistration(ctx, &store.PushRegistration{UserID: u.ID, CollectionID: c.ID, PushResource: "https://push.example/new",
		Expires: time.Now().Add(time.Hour)}, 10); err != nil {
		t.Errorf("a push registration after the load: %v", err)
	}
	if locks, err := fresh.ListLocks(ctx, "/dav/files/other/notes.txt"); err != nil || len(locks) != 1 {
		t.Errorf("loaded locks = %+v, %v", locks, err)
	}
	if err := fresh.DeleteLock(ctx, "urn:uuid:dump-lock"); err != nil {
		t.Errorf("unlock after the load: %v", err)
	}
	if cur, err := fresh.ListDerivedCursors(ctx, cal0(recs).ID); err != nil || len(cur) != 1 {
		t.Errorf("loaded derived cursors = %v, %v", cur, err)
	}
	// Sync state came along: the change log and the pruned modseq answer
	// as in the dumped store.
	cal := getCollection(t, fresh, &store.Collection{OwnerID: u.ID, Kind: store.KindCalendar, Name: "calendar"})
	ch, err := fresh.ListChangesSince(ctx, cal.ID, cal.PrunedModSeq, 0, false)
	if err != nil || len(ch.Changes) != 5 || ch.ModSeq != cal.ModSeq {
		t.Errorf("changes of the loaded calendar = %+v, %v", ch, err)
	}
}

// cal0 is the first calendar of a dump: fillForDump's "calendar".
func cal0(recs []store.Record) *store.Collection {
	for _, r := range recs {
		if r.Collection != nil && r.Collection.Kind == store.KindCalendar {
			return r.Collection
		}
	}
	return &store.Collection{}
}

func testLoadNotEmpty(t *testing.T, s store.Store) {
	newUser(t, s, "someone")
	err := s.Load(t.Context(), records(nil))
	if !errors.Is(err, store.ErrNotEmpty) {
		t.Errorf("Load into a store with users = %v, want ErrNotEmpty", err)
	}
}

func testDumpFnError(t *testing.T, s store.Store) {
	fillForDump(t, s)
	stop := errors.New("stop")
	n := 0
	err := s.Dump(t.Context(), func(store.Record) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("Dump with a failing fn = %v after %d records", err, n)
	}
}

// CheckTablesDumped fails for every table of tables (a store's own list of
// its tables) that a dump neither carries (store.DumpedTables) nor leaves
// out on purpose (store.UndumpedTables, or internal: the store's own
// bookkeeping, such as an index kept in tables, each with why), and for every
// listed table the store does not have: so a new table cannot be left out of
// backups silently.
func CheckTablesDumped(t *testing.T, tables []string, internal map[string]string) {
	t.Helper()
	have := make(map[string]bool, len(tables))
	for _, tb := range tables {
		have[tb] = true
		_, skipped := store.UndumpedTables[tb]
		_, own := internal[tb]
		if !slices.Contains(store.DumpedTables, tb) && !skipped && !own {
			t.Errorf("table %s is neither backed up (store.DumpedTables, with a Record kind) nor left out "+
				"on purpose (store.UndumpedTables, with the reason)", tb)
		}
	}
	for _, tb := range store.DumpedTables {
		if !have[tb] {
			t.Errorf("store.DumpedTables names %s, which the store does not have", tb)
		}
	}
}
