package storetest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

var historyTests = []test{
	{"put_update_delete", testHistoryPutUpdateDelete},
	{"move", testHistoryMove},
	{"filters", testHistoryFilters},
	{"owner_scoped", testHistoryOwnerScoped},
	{"trash_collection", testHistoryTrashCollection},
	{"purge_trash", testHistoryPurgeTrash},
	{"prune", testHistoryPrune},
	{"off", testHistoryOff},
}

// versionSummary is what a history test compares of a version.
func versionSummary(v store.Version) string {
	return fmt.Sprintf("%s %s uid=%s etag=%s size=%d by=%d/%s", v.Op, v.Name, v.UID, v.ETag, v.Size,
		v.Actor.UserID, v.Actor.UserAgent)
}

func listVersions(t *testing.T, s store.Store, ownerID int64, f store.HistoryFilter) []string {
	t.Helper()
	vs, err := s.ListVersions(t.Context(), ownerID, f)
	if err != nil {
		t.Fatalf("ListVersions(%+v): %v", f, err)
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		if v.Body != nil {
			t.Errorf("ListVersions returned the body of version %d", v.ID)
		}
		out[i] = versionSummary(v)
	}
	return out
}

func wantVersions(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !equalStrings(got, want) {
		t.Errorf("versions:\n\tgot  %q\n\twant %q", got, want)
	}
}

func testHistoryPutUpdateDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	a := store.Actor{UserID: u.ID, UserAgent: "phone/1.0"}
	b := store.Actor{UserID: u.ID, UserAgent: "laptop/2.0"}
	c := store.Actor{UserID: u.ID, UserAgent: "broken-sync/0.1"}

	v1 := event(cal.ID, "e.ics", "uid-1", "first")
	v1.FirstStart, v1.LastEnd = date(2024, 1, 2), date(2024, 1, 3)
	if _, err := s.PutObject(ctx, v1, store.PutObjectOptions{Actor: a}); err != nil {
		t.Fatal(err)
	}
	v2 := event(cal.ID, "e.ics", "uid-1", "second")
	if _, err := s.PutObject(ctx, v2, store.PutObjectOptions{IfMatch: v1.ETag, Actor: b}); err != nil {
		t.Fatal(err)
	}
	// A failed write keeps nothing.
	v3 := event(cal.ID, "e.ics", "uid-1", "third")
	_, err := s.PutObject(ctx, v3, store.PutObjectOptions{IfMatch: v1.ETag, Actor: c})
	wantErr(t, "PutObject with a stale If-Match", err, store.ErrPreconditionFailed)
	wantErr(t, "DeleteObject with a stale If-Match",
		s.DeleteObject(ctx, cal.ID, "e.ics", store.DeleteObjectOptions{IfMatch: v1.ETag, Actor: c}), store.ErrPreconditionFailed)
	if err := s.DeleteObject(ctx, cal.ID, "e.ics", store.DeleteObjectOptions{Actor: c}); err != nil {
		t.Fatal(err)
	}

	got := listVersions(t, s, u.ID, store.HistoryFilter{CollectionID: cal.ID, Name: "e.ics"})
	wantVersions(t, got,
		fmt.Sprintf("delete e.ics uid=uid-1 etag=%s size=%d by=%d/broken-sync/0.1", v2.ETag, len(v2.Body), u.ID),
		fmt.Sprintf("update e.ics uid=uid-1 etag=%s size=%d by=%d/laptop/2.0", v1.ETag, len(v1.Body), u.ID),
		fmt.Sprintf("create e.ics uid=uid-1 etag= size=0 by=%d/phone/1.0", u.ID),
	)

	vs, err := s.ListVersions(ctx, u.ID, store.HistoryFilter{CollectionID: cal.ID, Name: "e.ics"})
	if err != nil || len(vs) != 3 {
		t.Fatalf("ListVersions = %d, %v", len(vs), err)
	}
	for i, want := range []*store.Object{v2, v1, nil} {
		v, err := s.GetVersion(ctx, u.ID, vs[i].ID)
		if err != nil {
			t.Fatalf("GetVersion(%d): %v", vs[i].ID, err)
		}
		if v.OwnerID != u.ID || v.CollectionID != cal.ID || v.TrashID != 0 {
			t.Errorf("version %d: owner %d collection %d trash %d", v.ID, v.OwnerID, v.CollectionID, v.TrashID)
		}
		if v.ChangedAt.IsZero() || time.Since(v.ChangedAt) > time.Hour || time.Until(v.ChangedAt) > time.Minute {
			t.Errorf("version %d: ChangedAt %v, want about now", v.ID, v.ChangedAt)
		}
		if want == nil {
			if v.Body != nil {
				t.Errorf("create version has a body: %q", v.Body)
			}
			continue
		}
		if !bytes.Equal(v.Body, want.Body) {
			t.Errorf("version %d body = %q, want %q", v.ID, v.Body, want.Body)
		}
		if v.ContentType != want.ContentType || v.Component != want.Component || v.SearchText != want.SearchText ||
			!sameTime(v.FirstStart, want.FirstStart) || !sameTime(v.LastEnd, want.LastEnd) {
			t.Errorf("version %d index = %q %q %q %s %s, want %q %q %q %s %s", v.ID,
				v.ContentType, v.Component, v.SearchText, fmtTime(v.FirstStart), fmtTime(v.LastEnd),
				want.ContentType, want.Component, want.SearchText, fmtTime(want.FirstStart), fmtTime(want.LastEnd))
		}
	}
	_, err = s.GetVersion(ctx, u.ID, vs[0].ID+1000)
	wantErr(t, "GetVersion of a missing id", err, store.ErrNotFound)
}

func testHistoryMove(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	other := newCollection(t, s, u.ID, store.KindCalendar, "other")
	a := store.Actor{UserID: u.ID, UserAgent: "mover"}
	src := putEvent(t, s, cal.ID, "a.ics", "uid-a")
	// RFC 4791 §5.3.2.1: an overwritten destination has the same UID.
	dst := putEvent(t, s, other.ID, "b.ics", "uid-a")
	if _, err := s.MoveObject(ctx, cal.ID, "a.ics", other.ID, "b.ics", store.MoveObjectOptions{Overwrite: true, Actor: a}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MoveObject(ctx, other.ID, "b.ics", other.ID, "c.ics", store.MoveObjectOptions{Actor: a}); err != nil {
		t.Fatal(err)
	}
	got := listVersions(t, s, u.ID, store.HistoryFilter{UserAgent: "mover"})
	by := fmt.Sprintf("by=%d/mover", u.ID)
	n := len(src.Body)
	if len(got) != 4 {
		t.Fatalf("versions of two moves = %q, want 4", got)
	}
	// Order within one move is the backend's; compare as sets per move.
	want := map[string]bool{
		fmt.Sprintf("delete a.ics uid=uid-a etag=%s size=%d %s", src.ETag, n, by):             true,
		fmt.Sprintf("update b.ics uid=uid-a etag=%s size=%d %s", dst.ETag, len(dst.Body), by): true,
		fmt.Sprintf("delete b.ics uid=uid-a etag=%s size=%d %s", src.ETag, n, by):             true,
		fmt.Sprintf("create c.ics uid=uid-a etag= size=0 %s", by):                             true,
	}
	for _, g := range got {
		if !want[g] {
			t.Errorf("unexpected version %q; all: %q", g, got)
		}
	}
}

func testHistoryFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	book := newCollection(t, s, u.ID, store.KindAddressBook, "contacts")
	phone := store.Actor{UserID: u.ID, UserAgent: "phone"}
	web := store.Actor{UserID: u.ID, UserAgent: "web"}
	for i, a := range []store.Actor{phone, web, phone} {
		o := event(cal.ID, fmt.Sprintf("%d.ics", i), fmt.Sprintf("uid-%d", i), "x")
		if _, err := s.PutObject(ctx, o, store.PutObjectOptions{Actor: a}); err != nil {
			t.Fatal(err)
		}
	}
	card := event(book.ID, "c.vcf", "card", "y")
	card.Component = "VCARD"
	if _, err := s.PutObject(ctx, card, store.PutObjectOptions{Actor: web}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteObject(ctx, cal.ID, "1.ics", store.DeleteObjectOptions{Actor: phone}); err != nil {
		t.Fatal(err)
	}
	by := func(a store.Actor) string { return fmt.Sprintf("by=%d/%s", u.ID, a.UserAgent) }
	wantVersions(t, listVersions(t, s, u.ID, store.HistoryFilter{UserAgent: "phone"}),
		fmt.Sprintf("delete 1.ics uid=uid-1 etag=%s size=%d %s", etagOf(ics("uid-1", "x")), len(ics("uid-1", "x")), by(phone)),
		"create 2.ics uid=uid-2 etag= size=0 "+by(phone),
		"create 0.ics uid=uid-0 etag= size=0 "+by(phone),
	)
	wantVersions(t, listVersions(t, s, u.ID, store.HistoryFilter{CollectionID: book.ID}),
		"create c.vcf uid=card etag= size=0 "+by(web))
	wantVersions(t, listVersions(t, s, u.ID, store.HistoryFilter{Op: store.OpDelete}),
		fmt.Sprintf("delete 1.ics uid=uid-1 etag=%s size=%d %s", etagOf(ics("uid-1", "x")), len(ics("uid-1", "x")), by(phone)))
	if got := listVersions(t, s, u.ID, store.HistoryFilter{Limit: 2}); len(got) != 2 {
		t.Errorf("Limit 2 gave %d versions", len(got))
	}
	if got := listVersions(t, s, u.ID, store.HistoryFilter{}); len(got) != 5 {
		t.Errorf("all versions = %q, want 5", got)
	}
	if got := listVersions(t, s, u.ID, store.HistoryFilter{Since: time.Now().Add(time.Hour)}); len(got) != 0 {
		t.Errorf("versions since an hour ahead = %q, want none", got)
	}
	if got := listVersions(t, s, u.ID, store.HistoryFilter{Since: time.Now().Add(-time.Hour)}); len(got) != 5 {
		t.Errorf("versions of the last hour = %q, want 5", got)
	}
}

func testHistoryOwnerScoped(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	other := newUser(t, s, "someone-else")
	o := putEvent(t, s, cal.ID, "e.ics", "uid")
	if err := s.DeleteObject(ctx, cal.ID, o.Name, store.DeleteObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	vs, err := s.ListVersions(ctx, u.ID, store.HistoryFilter{})
	if err != nil || len(vs) != 2 {
		t.Fatalf("ListVersions = %d, %v; want 2", len(vs), err)
	}
	if got := listVersions(t, s, other.ID, store.HistoryFilter{}); len(got) != 0 {
		t.Errorf("another user sees %q", got)
	}
	_, err = s.GetVersion(ctx, other.ID, vs[0].ID)
	wantErr(t, "GetVersion by another user", err, store.ErrNotFound)
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetVersion(ctx, u.ID, vs[0].ID)
	wantErr(t, "GetVersion after DeleteUser", err, store.ErrNotFound)
}

func testHistoryTrashCollection(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	order := 3
	desc, color, sym, tz := "work things", "#FF2968FF", "red", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
	orderp := &order
	if err := s.UpdateCollection(ctx, u.ID, cal.ID, store.CollectionPatch{
		Description: &desc, Color: &color, ColorSymbolic: &sym, Order: &orderp, Timezone: &tz,
		DeadProps: []store.DeadProp{
			{Namespace: "urn:x", Name: "b", XML: `<b xmlns="urn:x">2</b>`},
			{Namespace: "urn:x", Name: "a", XML: `<a xmlns="urn:x">1</a>`},
		},
	}); err != nil {
		t.Fatal(err)
	}
	a := putEvent(t, s, cal.ID, "a.ics", "uid-a")
	b := putEvent(t, s, cal.ID, "b.ics", "uid-b")
	if err := s.DeleteCollection(ctx, u.ID, cal.ID); err != nil {
		t.Fatal(err)
	}
	ts, err := s.ListTrashedCollections(ctx, u.ID)
	if err != nil || len(ts) != 1 {
		t.Fatalf("ListTrashedCollections = %d, %v; want 1", len(ts), err)
	}
	tc := ts[0]
	c := tc.Collection
	if c.ID != cal.ID || c.OwnerID != u.ID || c.Kind != store.KindCalendar || c.Name != "calendar" ||
		c.DisplayName != cal.DisplayName || c.Description != desc || c.Color != color || c.ColorSymbolic != sym ||
		c.Order == nil || *c.Order != 3 || c.Timezone != tz || !equalStrings(c.Components, []string{"VEVENT", "VTODO"}) {
		t.Errorf("trashed collection = %+v", c)
	}
	if tc.Items != 2 || tc.DeletedAt.IsZero() {
		t.Errorf("trashed collection: Items %d, DeletedAt %v", tc.Items, tc.DeletedAt)
	}
	wantDead := []store.DeadProp{
		{Namespace: "urn:x", Name: "a", XML: `<a xmlns="urn:x">1</a>`},
		{Namespace: "urn:x", Name: "b", XML: `<b xmlns="urn:x">2</b>`},
	}
	if fmt.Sprint(tc.DeadProps) != fmt.Sprint(wantDead) {
		t.Errorf("dead props = %v, want %v", tc.DeadProps, wantDead)
	}
	vs, err := s.ListVersions(ctx, u.ID, store.HistoryFilter{TrashID: tc.ID})
	if err != nil || len(vs) != 2 {
		t.Fatalf("versions of the trashed collection = %d, %v", len(vs), err)
	}
	bodies := map[string][]byte{}
	for _, v := range vs {
		full, err := s.GetVersion(ctx, u.ID, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if full.Op != store.OpDelete || full.TrashID != tc.ID {
			t.Errorf("version %s: op %s trash %d", full.Name, full.Op, full.TrashID)
		}
		bodies[full.Name] = full.Body
	}
	if !bytes.Equal(bodies["a.ics"], a.Body) || !bytes.Equal(bodies["b.ics"], b.Body) {
		t.Errorf("trashed bodies = %q", bodies)
	}
	// The name is free again at once.
	newCollection(t, s, u.ID, store.KindCalendar, "calendar")

	if err := s.DeleteTrashedCollection(ctx, u.ID, tc.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteTrashedCollection again", s.DeleteTrashedCollection(ctx, u.ID, tc.ID), store.ErrNotFound)
	if got := listVersions(t, s, u.ID, store.HistoryFilter{TrashID: tc.ID}); len(got) != 0 {
		t.Errorf("versions left after DeleteTrashedCollection: %q", got)
	}
	wantErr(t, "DeleteCollection of a missing collection", s.DeleteCollection(ctx, u.ID, cal.ID), store.ErrNotFound)
}

func testHistoryPurgeTrash(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	other := newCollection(t, s, u.ID, store.KindCalendar, "other")
	putEvent(t, s, cal.ID, "a.ics", "uid-a")
	putEvent(t, s, cal.ID, "b.ics", "uid-b")
	putEvent(t, s, other.ID, "c.ics", "uid-c")
	if err := s.DeleteObject(ctx, cal.ID, "a.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCollection(ctx, u.ID, other.ID); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeTrash(ctx, u.ID)
	if err != nil || n < 2 {
		t.Fatalf("PurgeTrash = %d, %v; want at least 2", n, err)
	}
	if ts, err := s.ListTrashedCollections(ctx, u.ID); err != nil || len(ts) != 0 {
		t.Errorf("trashed collections after purge: %d, %v", len(ts), err)
	}
	// Creations stay: only the trash went.
	wantVersions(t, listVersions(t, s, u.ID, store.HistoryFilter{}),
		"create c.ics uid=uid-c etag= size=0 by=0/",
		"create b.ics uid=uid-b etag= size=0 by=0/",
		"create a.ics uid=uid-a etag= size=0 by=0/")
}

func testHistoryPrune(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	putEvent(t, s, cal.ID, "e.ics", "uid")
	for i := range 5 {
		put(t, s, event(cal.ID, "e.ics", "uid", fmt.Sprint("v", i)))
	}
	putEvent(t, s, cal.ID, "f.ics", "uid-f")
	// At most 3 per item, nothing too old.
	n, err := s.PruneHistory(ctx, time.Now().Add(-time.Hour), 3)
	if err != nil || n != 3 {
		t.Fatalf("PruneHistory(max 3) = %d, %v; want 3", n, err)
	}
	if got := listVersions(t, s, u.ID, store.HistoryFilter{CollectionID: cal.ID, Name: "e.ics"}); len(got) != 3 {
		t.Errorf("e.ics keeps %q, want 3 versions", got)
	}
	if got := listVersions(t, s, u.ID, store.HistoryFilter{CollectionID: cal.ID, Name: "f.ics"}); len(got) != 1 {
		t.Errorf("f.ics keeps %q, want 1 version", got)
	}
	if err := s.DeleteCollection(ctx, u.ID, cal.ID); err != nil {
		t.Fatal(err)
	}
	n, err = s.PruneHistory(ctx, time.Now().Add(time.Minute), 0)
	if err != nil || n < 1 {
		t.Fatalf("PruneHistory(everything) = %d, %v", n, err)
	}
	if got := listVersions(t, s, u.ID, store.HistoryFilter{}); len(got) != 0 {
		t.Errorf("versions after pruning everything: %q", got)
	}
	if ts, err := s.ListTrashedCollections(ctx, u.ID); err != nil || len(ts) != 0 {
		t.Errorf("trash after pruning everything: %d, %v", len(ts), err)
	}
}

// historySwitch is implemented by the backends: history can be turned off.
type historySwitch interface{ SetHistory(on bool) }

func testHistoryOff(t *testing.T, s store.Store) {
	ctx := t.Context()
	hs, ok := s.(historySwitch)
	if !ok {
		t.Fatalf("%T has no SetHistory", s)
	}
	hs.SetHistory(false)
	u, cal := newCalendar(t, s)
	o := putEvent(t, s, cal.ID, "e.ics", "uid")
	put(t, s, event(cal.ID, "e.ics", "uid", "again"))
	if _, err := s.MoveObject(ctx, cal.ID, o.Name, cal.ID, "f.ics", store.MoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteObject(ctx, cal.ID, "f.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCollection(ctx, u.ID, cal.ID); err != nil {
		t.Fatal(err)
	}
	if got := listVersions(t, s, u.ID, store.HistoryFilter{}); len(got) != 0 {
		t.Errorf("history off kept %q", got)
	}
	if ts, err := s.ListTrashedCollections(ctx, u.ID); err != nil || len(ts) != 0 {
		t.Errorf("history off trashed %d collections, %v", len(ts), err)
	}
	hs.SetHistory(true)
}

// HistoryBody is the i-th version of a 1.1 KiB event, the size of most of a
// real calendar, and HistoryAgent a User-Agent of DAVx5's length: what the
// stores' history benchmarks write.
func HistoryBody(uid string, i int) []byte {
	return fmt.Appendf(nil, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\n"+
		"DTSTAMP:20250101T000000Z\r\nDTSTART:20250102T100000Z\r\nDURATION:PT1H\r\nSUMMARY:Meeting %08d\r\nDESCRIPTION:%s"+
		"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", uid, i, strings.Repeat("Agenda item, notes and a link to the minutes. ", 21))
}

// HistoryAgent: see HistoryBody.
const HistoryAgent = "DAVx5/4.4.3.2-ose (2024/10/21; dav4jvm; okhttp/4.12.0) Android/14"
