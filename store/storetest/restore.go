package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

var restoreTests = []test{
	{"update", testRestoreUpdate},
	{"deleted", testRestoreDeleted},
	{"name_taken", testRestoreNameTaken},
	{"uid_taken", testRestoreUIDTaken},
	{"revert_client", testRevertClient},
	{"collection", testRestoreCollection},
	{"collection_atomic", testRestoreCollectionAtomic},
	{"in_trashed_collection", testRestoreInTrashedCollection},
}

var restorer = store.Actor{UserAgent: "davenport-restore"}

// versionOf returns the newest version of the item with op.
func versionOf(t *testing.T, s store.Store, ownerID, collectionID int64, name string, op store.Op) store.Version {
	t.Helper()
	vs, err := s.ListVersions(t.Context(), ownerID, store.HistoryFilter{CollectionID: collectionID, Name: name, Op: op})
	if err != nil || len(vs) == 0 {
		t.Fatalf("ListVersions(%q, %s) = %d, %v", name, op, len(vs), err)
	}
	return vs[0]
}

// snapshot is a collection's members as name → ETag + body.
func snapshot(t *testing.T, s store.Store, collectionID int64) map[string]string {
	t.Helper()
	objs, err := s.ListObjects(t.Context(), collectionID, store.ListObjectsOptions{WithBody: true})
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]string, len(objs))
	for _, o := range objs {
		m[o.Name] = o.UID + " " + o.ETag + " " + string(o.Body)
	}
	return m
}

func wantSnapshot(t *testing.T, got, want map[string]string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("collection state:\n\tgot  %q\n\twant %q", got, want)
	}
}

func testRestoreUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	v1 := putEvent(t, s, cal.ID, "e.ics", "uid")
	v2 := event(cal.ID, "e.ics", "uid", "changed")
	put(t, s, v2)
	before := modSeq(t, s, cal)
	r, err := store.RestoreVersion(ctx, s, u.ID, versionOf(t, s, u.ID, cal.ID, "e.ics", store.OpUpdate).ID, restorer)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "e.ics" || r.Renamed || r.Deleted || r.Unchanged {
		t.Errorf("Restored = %+v", r)
	}
	got, err := s.GetObject(ctx, cal.ID, "e.ics")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Body, v1.Body) || got.ETag != v1.ETag || got.ModSeq <= before {
		t.Errorf("restored object: etag %s modseq %d (before %d), body %q", got.ETag, got.ModSeq, before, got.Body)
	}
	// The restore is a change like any: the sync log has it, and the
	// history keeps what it replaced.
	ch, err := s.ListChangesSince(ctx, cal.ID, before, 0, false)
	if err != nil || len(ch.Changes) != 1 || ch.Changes[0].Name != "e.ics" {
		t.Errorf("changes since the restore = %+v, %v", ch, err)
	}
	last := versionOf(t, s, u.ID, cal.ID, "e.ics", store.OpUpdate)
	if last.ETag != v2.ETag || last.Actor != restorer {
		t.Errorf("newest version = %s", versionSummary(last))
	}
}

func testRestoreDeleted(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	o := putEvent(t, s, cal.ID, "a b@c.ics", "uid")
	if err := s.DeleteObject(ctx, cal.ID, o.Name, store.DeleteObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	before := modSeq(t, s, cal)
	r, err := store.RestoreVersion(ctx, s, u.ID, versionOf(t, s, u.ID, cal.ID, o.Name, store.OpDelete).ID, restorer)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != o.Name || r.UID != "uid" || r.Renamed {
		t.Errorf("Restored = %+v", r)
	}
	wantSnapshot(t, snapshot(t, s, cal.ID), map[string]string{o.Name: "uid " + o.ETag + " " + string(o.Body)})
	ch, err := s.ListChangesSince(ctx, cal.ID, before, 0, false)
	if err != nil || len(ch.Changes) != 1 || ch.Changes[0].Deleted {
		t.Errorf("changes since the restore = %+v, %v", ch, err)
	}
}

func testRestoreNameTaken(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	o := putEvent(t, s, cal.ID, "a.ics", "uid-a")
	if err := s.DeleteObject(ctx, cal.ID, "a.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	other := putEvent(t, s, cal.ID, "a.ics", "uid-other")
	r, err := store.RestoreVersion(ctx, s, u.ID, versionOf(t, s, u.ID, cal.ID, "a.ics", store.OpDelete).ID, restorer)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Renamed || r.Name != "a-restored.ics" {
		t.Errorf("Restored = %+v, want renamed to a-restored.ics", r)
	}
	wantSnapshot(t, snapshot(t, s, cal.ID), map[string]string{
		"a.ics":          "uid-other " + other.ETag + " " + string(other.Body),
		"a-restored.ics": "uid-a " + o.ETag + " " + string(o.Body),
	})
}

func testRestoreUIDTaken(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	putEvent(t, s, cal.ID, "a.ics", "uid-a")
	if err := s.DeleteObject(ctx, cal.ID, "a.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	putEvent(t, s, cal.ID, "b.ics", "uid-a")
	_, err := store.RestoreVersion(ctx, s, u.ID, versionOf(t, s, u.ID, cal.ID, "a.ics", store.OpDelete).ID, restorer)
	var uc *store.UIDConflictError
	if !errors.As(err, &uc) || uc.Name != "b.ics" {
		t.Errorf("RestoreVersion with the UID taken = %v, want a UID conflict naming b.ics", err)
	}
}

func testRevertClient(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	book := newCollection(t, s, u.ID, store.KindAddressBook, "contacts")
	good := store.Actor{UserID: u.ID, UserAgent: "good/1"}
	bad := store.Actor{UserID: u.ID, UserAgent: "bad/1"}
	for i := range 5 {
		o := event(cal.ID, fmt.Sprintf("%d.ics", i), fmt.Sprint("uid-", i), "event")
		if _, err := s.PutObject(ctx, o, store.PutObjectOptions{Actor: good}); err != nil {
			t.Fatal(err)
		}
	}
	card := event(book.ID, "c.vcf", "card", "card")
	card.Component = "VCARD"
	if _, err := s.PutObject(ctx, card, store.PutObjectOptions{Actor: good}); err != nil {
		t.Fatal(err)
	}
	wantCal, wantBook := snapshot(t, s, cal.ID), snapshot(t, s, book.ID)
	since := time.Now().Add(-time.Minute)

	// The bad client rewrites one item twice, deletes two, moves one,
	// creates one and wipes the address book.
	for _, summary := range []string{"broken", "more broken"} {
		if _, err := s.PutObject(ctx, event(cal.ID, "0.ics", "uid-0", summary), store.PutObjectOptions{Actor: bad}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"1.ics", "2.ics"} {
		if err := s.DeleteObject(ctx, cal.ID, name, store.DeleteObjectOptions{Actor: bad}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.MoveObject(ctx, cal.ID, "3.ics", cal.ID, "moved.ics", store.MoveObjectOptions{Actor: bad}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, event(cal.ID, "junk.ics", "junk", "junk"), store.PutObjectOptions{Actor: bad}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteObject(ctx, book.ID, "c.vcf", store.DeleteObjectOptions{Actor: bad}); err != nil {
		t.Fatal(err)
	}
	// A good client's later change to an untouched item stays.
	if _, err := s.PutObject(ctx, event(cal.ID, "4.ics", "uid-4", "kept"), store.PutObjectOptions{Actor: good}); err != nil {
		t.Fatal(err)
	}
	kept := snapshot(t, s, cal.ID)["4.ics"]
	wantCal["4.ics"] = kept

	rs, err := store.RevertClient(ctx, s, u.ID, "bad/1", since, restorer)
	if err != nil {
		t.Fatal(err)
	}
	wantSnapshot(t, snapshot(t, s, cal.ID), wantCal)
	wantSnapshot(t, snapshot(t, s, book.ID), wantBook)
	var got []string
	for _, r := range rs {
		got = append(got, fmt.Sprintf("%s deleted=%v", r.Name, r.Deleted))
	}
	slices.Sort(got)
	want := []string{"0.ics deleted=false", "1.ics deleted=false", "2.ics deleted=false", "3.ics deleted=false",
		"c.vcf deleted=false", "junk.ics deleted=true", "moved.ics deleted=true"}
	if !equalStrings(got, want) {
		t.Errorf("restored %q, want %q", got, want)
	}
	// Reverting again finds the client's changes already undone.
	if _, err := store.RevertClient(ctx, s, u.ID, "bad/1", since, restorer); err != nil {
		t.Fatal(err)
	}
	wantSnapshot(t, snapshot(t, s, cal.ID), wantCal)
}

func testRestoreCollection(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	desc := "desc"
	if err := s.UpdateCollection(ctx, u.ID, cal.ID, store.CollectionPatch{
		Description: &desc,
		DeadProps:   []store.DeadProp{{Namespace: "urn:x", Name: "a", XML: `<a xmlns="urn:x">1</a>`}},
	}); err != nil {
		t.Fatal(err)
	}
	putEvent(t, s, cal.ID, "a.ics", "uid-a")
	putEvent(t, s, cal.ID, "b.ics", "uid-b")
	want := snapshot(t, s, cal.ID)
	if err := s.DeleteCollection(ctx, u.ID, cal.ID); err != nil {
		t.Fatal(err)
	}
	ts, err := s.ListTrashedCollections(ctx, u.ID)
	if err != nil || len(ts) != 1 {
		t.Fatalf("ListTrashedCollections = %d, %v", len(ts), err)
	}
	// The name was taken meanwhile: the collection comes back next to it.
	newCollection(t, s, u.ID, store.KindCalendar, "calendar")
	c, err := store.RestoreCollection(ctx, s, u.ID, ts[0].ID, store.RestoreCollectionOptions{Actor: restorer})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "calendar-restored" {
		t.Errorf("restored as %q, want calendar-restored", c.Name)
	}
	got := getCollection(t, s, c)
	if got.Description != desc || got.DisplayName != cal.DisplayName || !equalStrings(got.Components, cal.Components) {
		t.Errorf("restored collection = %+v", got)
	}
	dead, err := s.ListDeadProps(ctx, c.ID)
	if err != nil || len(dead) != 1 || dead[0].XML != `<a xmlns="urn:x">1</a>` {
		t.Errorf("restored dead props = %v, %v", dead, err)
	}
	wantSnapshot(t, snapshot(t, s, c.ID), want)
	if ts, err := s.ListTrashedCollections(ctx, u.ID); err != nil || len(ts) != 0 {
		t.Errorf("trash after restore: %d, %v", len(ts), err)
	}
}

func testRestoreInTrashedCollection(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	putEvent(t, s, cal.ID, "a.ics", "uid-a")
	if err := s.DeleteCollection(ctx, u.ID, cal.ID); err != nil {
		t.Fatal(err)
	}
	ts, err := s.ListTrashedCollections(ctx, u.ID)
	if err != nil || len(ts) != 1 {
		t.Fatalf("ListTrashedCollections = %d, %v", len(ts), err)
	}
	vs, err := s.ListVersions(ctx, u.ID, store.HistoryFilter{TrashID: ts[0].ID})
	if err != nil || len(vs) != 1 {
		t.Fatalf("ListVersions = %d, %v", len(vs), err)
	}
	_, err = store.RestoreVersion(ctx, s, u.ID, vs[0].ID, restorer)
	wantErr(t, "RestoreVersion in a trashed collection", err, store.ErrInTrashedCollection)
}

// testRestoreCollectionAtomic: a restore that fails after its members went
// in (here, past the quota) leaves everything as it was: no collection, no
// items, no history, the trash entry still there; the same restore within
// the quota then brings back all of it.
func testRestoreCollectionAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	for i := range 4 {
		putEvent(t, s, cal.ID, fmt.Sprintf("%d.ics", i), fmt.Sprint("uid-", i))
	}
	want := snapshot(t, s, cal.ID)
	trashBytes, err := s.UsedBytes(ctx, u.ID) // the calendar's
	if err != nil || trashBytes == 0 {
		t.Fatalf("UsedBytes = %d, %v", trashBytes, err)
	}
	if err := s.DeleteCollection(ctx, u.ID, cal.ID); err != nil {
		t.Fatal(err)
	}
	ts, err := s.ListTrashedCollections(ctx, u.ID)
	if err != nil || len(ts) != 1 || ts[0].Items != 4 {
		t.Fatalf("ListTrashedCollections = %+v, %v", ts, err)
	}
	other := newCollection(t, s, u.ID, store.KindCalendar, "other")
	putEvent(t, s, other.ID, "o.ics", "uid-o")
	used, err := s.UsedBytes(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	before := func() string {
		cols, err := s.ListCollections(ctx, u.ID, store.KindCalendar)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := s.ListVersions(ctx, u.ID, store.HistoryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		ts, err := s.ListTrashedCollections(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.UsedBytes(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range cols {
			names = append(names, c.Name)
		}
		return fmt.Sprintf("collections %v, %d versions, %d trashed, %d bytes", names, len(vs), len(ts), n)
	}
	was := before()
	// Room for half the items: the first ones fit, the rest do not.
	_, err = store.RestoreCollection(ctx, s, u.ID, ts[0].ID, store.RestoreCollectionOptions{Actor: restorer, Quota: used + trashBytes/2})
	wantErr(t, "RestoreCollection past the quota", err, store.ErrQuotaExceeded)
	if got := before(); got != was {
		t.Errorf("after a failed restore: %s\nwant what was before: %s", got, was)
	}
	c, err := store.RestoreCollection(ctx, s, u.ID, ts[0].ID, store.RestoreCollectionOptions{Actor: restorer, Quota: used + trashBytes})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "calendar" {
		t.Errorf("restored as %q, want calendar", c.Name)
	}
	wantSnapshot(t, snapshot(t, s, c.ID), want)
	vs, err := s.ListVersions(ctx, u.ID, store.HistoryFilter{UserAgent: restorer.UserAgent})
	if err != nil || len(vs) != 4 {
		t.Errorf("the restore's history: %d versions, %v; want 4 creations", len(vs), err)
	}
	_, err = store.RestoreCollection(ctx, s, u.ID, ts[0].ID, store.RestoreCollectionOptions{Actor: restorer})
	wantErr(t, "RestoreCollection a second time", err, store.ErrNotFound)
}
