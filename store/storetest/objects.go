package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

var objectTests = []test{
	{"put_get", testObjectPutGet},
	{"names", testObjectNames},
	{"body_bytes", testObjectBodyBytes},
	{"get_missing", testObjectGetMissing},
	{"get_objects", testObjectGetObjects},
	{"list_no_body", testObjectListNoBody},
	{"list_brief", testObjectListBrief},
	{"list_component", testObjectListComponent},
	{"list_time_range", testObjectListTimeRange},
	{"list_search", testObjectListSearch},
	{"list_paging", testObjectListPaging},
	{"put_missing_collection", testObjectPutMissingCollection},
	{"put_preconditions", testObjectPutPreconditions},
	{"delete_preconditions", testObjectDeletePreconditions},
	{"uid_conflict", testObjectUIDConflict},
	{"uid_changed", testObjectUIDChanged},
	{"tombstones", testObjectTombstones},
}

func testObjectPutGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	o := event(cal.ID, "event.ics", "uid-1", "Team meeting")
	o.FirstStart, o.LastEnd = date(2024, 1, 2), date(2024, 1, 3)
	o.Size = 12345 // the store sets Size from the body
	created, err := s.PutObject(ctx, o, store.PutObjectOptions{})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if !created {
		t.Error("PutObject of a new name reported created = false")
	}
	if o.ID == 0 || o.ModSeq != 1 || o.Size != int64(len(o.Body)) || o.Created.IsZero() || o.Updated.IsZero() {
		t.Errorf("PutObject set ID %d, ModSeq %d, Size %d, Created %v, Updated %v; want ID, 1, %d, now, now",
			o.ID, o.ModSeq, o.Size, o.Created, o.Updated, len(o.Body))
	}
	got, err := s.GetObject(ctx, cal.ID, "event.ics")
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	checkObject(t, got, o, true)
	if !got.Created.Equal(o.Created) {
		t.Errorf("Created = %v, PutObject said %v", got.Created, o.Created)
	}

	// Replace: same ID, Created kept, new everything else.
	time.Sleep(2 * time.Millisecond)
	o2 := event(cal.ID, "event.ics", "uid-1", "Team meeting, moved")
	o2.Component = "VTODO"
	o2.ContentType = "text/calendar"
	created, err = s.PutObject(ctx, o2, store.PutObjectOptions{})
	if err != nil {
		t.Fatalf("PutObject (replace): %v", err)
	}
	if created {
		t.Error("PutObject of an existing name reported created = true")
	}
	if o2.ID != o.ID || o2.ModSeq != 2 || !o2.Created.Equal(o.Created) || o2.Updated.Before(o.Updated) {
		t.Errorf("replace set ID %d, ModSeq %d, Created %v, Updated %v; want ID %d, 2, %v, >= %v",
			o2.ID, o2.ModSeq, o2.Created, o2.Updated, o.ID, o.Created, o.Updated)
	}
	got, err = s.GetObject(ctx, cal.ID, "event.ics")
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	checkObject(t, got, o2, true) // the span is now unbounded (nil)
	if c := getCollection(t, s, cal); c.ModSeq != 2 {
		t.Errorf("collection ModSeq = %d, want 2", c.ModSeq)
	}
}

func testObjectNames(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	ns := []string{
		"Ünïcode @ name.ics",
		"with space.ics",
		"a.ics",
		"A.ics",
		"a%20b.ics",
		"a b.ics",
		"emoji-😀.ics",
		"{3F2504E0-4F89-11D3-9A0C-0305E82C3301}.ics",
		"semi;colon,comma&amp=plus+.ics",
		"quote\"apos'.ics",
		strings.Repeat("long", 60) + ".ics",
		"no-extension",
	}
	want := map[string]*store.Object{}
	for i, n := range ns {
		o := event(cal.ID, n, "uid-"+string(rune('a'+i)), "name "+n)
		if created := put(t, s, o); !created {
			t.Errorf("PutObject(%q) created = false: names must not collide", n)
		}
		want[n] = o
	}
	for _, n := range ns {
		got, err := s.GetObject(ctx, cal.ID, n)
		if err != nil {
			t.Fatalf("GetObject(%q): %v", n, err)
		}
		checkObject(t, got, want[n], true)
	}
	objs, err := s.ListObjects(ctx, cal.ID, store.ListObjectsOptions{})
	if err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	sorted := slices.Clone(ns)
	slices.Sort(sorted) // bytewise
	if got := names(objs); !equalStrings(got, sorted) {
		t.Errorf("ListObjects names = %q,\n\twant (bytewise order) %q", got, sorted)
	}
}

func testObjectBodyBytes(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	large := bytes.Repeat([]byte("DESCRIPTION:0123456789abcdef ÄÖÜ\r\n"), 8000)
	bodies := []struct {
		name string
		body []byte
	}{
		{"crlf", []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")},
		{"bare-lf", []byte("BEGIN:VCALENDAR\nEND:VCALENDAR\n")},
		{"trailing-space", []byte("BEGIN:VCALENDAR \r\n \r\nEND:VCALENDAR\r\n\r\n  ")},
		{"folded", []byte("BEGIN:VCALENDAR\r\nDESCRIPTION:a\r\n  folded line\r\n\tand tab\r\nEND:VCALENDAR\r\n")},
		{"not-utf8", []byte("X-BIN:\xff\xfe\x00\x01\x80\r\n")},
		{"utf8-bom", []byte("\xef\xbb\xbfBEGIN:VCARD\r\nFN:Zoë\r\nEND:VCARD\r\n")},
		{"empty", []byte{}},
		{"large", large},
	}
	want := map[string]*store.Object{}
	for _, b := range bodies {
		o := &store.Object{
			CollectionID: cal.ID, Name: b.name + ".ics", UID: "uid-" + b.name, ETag: etagOf(b.body),
			ContentType: "text/calendar", Component: "VEVENT", Body: b.body,
		}
		put(t, s, o)
		if o.Size != int64(len(b.body)) {
			t.Errorf("%s: Size = %d, want %d", b.name, o.Size, len(b.body))
		}
		want[o.Name] = o
	}
	var all []string
	for _, b := range bodies {
		got, err := s.GetObject(ctx, cal.ID, b.name+".ics")
		if err != nil {
			t.Fatalf("GetObject(%s): %v", b.name, err)
		}
		checkObject(t, got, want[b.name+".ics"], true)
		all = append(all, b.name+".ics")
	}
	objs, err := s.GetObjects(ctx, cal.ID, all, true)
	if err != nil || len(objs) != len(all) {
		t.Fatalf("GetObjects = %d objects, %v; want %d", len(objs), err, len(all))
	}
	for i := range objs {
		checkObject(t, &objs[i], want[objs[i].Name], true)
	}
	objs, err = s.ListObjects(ctx, cal.ID, store.ListObjectsOptions{WithBody: true})
	if err != nil || len(objs) != len(all) {
		t.Fatalf("ListObjects = %d objects, %v; want %d", len(objs), err, len(all))
	}
	for i := range objs {
		checkObject(t, &objs[i], want[objs[i].Name], true)
	}
	ch, err := s.ListChangesSince(ctx, cal.ID, 0, 0, true)
	if err != nil || len(ch.Changes) != len(all) {
		t.Fatalf("ListChangesSince = %+v, %v; want %d changes", ch, err, len(all))
	}
	for _, c := range ch.Changes {
		checkObject(t, c.Object, want[c.Name], true)
	}
}

func testObjectGetMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	other := newCollection(t, s, u.ID, store.KindCalendar, "other")
	putEvent(t, s, other.ID, "only-there.ics", "x")
	_, err := s.GetObject(ctx, cal.ID, "nothing.ics")
	wantErr(t, "GetObject(missing)", err, store.ErrNotFound)
	_, err = s.GetObject(ctx, cal.ID, "only-there.ics")
	wantErr(t, "GetObject of another collection's name", err, store.ErrNotFound)
}

func testObjectGetObjects(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	other := newCollection(t, s, u.ID, store.KindCalendar, "other")
	a := putEvent(t, s, cal.ID, "a.ics", "a")
	putEvent(t, s, cal.ID, "b.ics", "b")
	c := putEvent(t, s, cal.ID, "c d.ics", "c")
	putEvent(t, s, other.ID, "e.ics", "e")
	want := map[string]*store.Object{"a.ics": a, "c d.ics": c}

	for _, withBody := range []bool{false, true} {
		objs, err := s.GetObjects(ctx, cal.ID, []string{"c d.ics", "missing.ics", "a.ics", "e.ics", "a.ics"}, withBody)
		if err != nil {
			t.Fatalf("GetObjects: %v", err)
		}
		got := names(objs)
		slices.Sort(got)
		if !equalStrings(got, []string{"a.ics", "c d.ics"}) {
			t.Fatalf("GetObjects(withBody=%v) = %q, want a.ics and c d.ics once each", withBody, got)
		}
		for i := range objs {
			checkObject(t, &objs[i], want[objs[i].Name], withBody)
		}
	}
	objs, err := s.GetObjects(ctx, cal.ID, nil, true)
	if err != nil || len(objs) != 0 {
		t.Errorf("GetObjects(no names) = %v, %v; want nothing", names(objs), err)
	}
}

func testObjectListNoBody(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	want := map[string]*store.Object{}
	for _, n := range []string{"b.ics", "a.ics", "c.ics"} {
		want[n] = putEvent(t, s, cal.ID, n, "uid-"+n)
	}
	for _, withBody := range []bool{false, true} {
		objs, err := s.ListObjects(ctx, cal.ID, store.ListObjectsOptions{WithBody: withBody})
		if err != nil {
			t.Fatalf("ListObjects: %v", err)
		}
		if got := names(objs); !equalStrings(got, []string{"a.ics", "b.ics", "c.ics"}) {
			t.Fatalf("ListObjects = %q", got)
		}
		for i := range objs {
			checkObject(t, &objs[i], want[objs[i].Name], withBody)
		}
	}
}

// testObjectListBrief: a brief listing has the listing fields of every
// object, in name order across pages, and nothing else.
func testObjectListBrief(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	want := map[string]*store.Object{}
	for _, n := range []string{"b.ics", "a b.ics", "c.ics"} {
		want[n] = putEvent(t, s, cal.ID, n, "uid-"+n)
	}
	var got []store.Object
	opts := store.ListObjectsOptions{Brief: true, Limit: 2}
	for {
		page, err := s.ListObjects(ctx, cal.ID, opts)
		if err != nil {
			t.Fatalf("ListObjects: %v", err)
		}
		got = append(got, page...)
		if len(page) < opts.Limit {
			break
		}
		opts.After = page[len(page)-1].Name
	}
	if names := names(got); !equalStrings(names, []string{"a b.ics", "b.ics", "c.ics"}) {
		t.Fatalf("ListObjects = %q", names)
	}
	for i := range got {
		g, w := &got[i], want[got[i].Name]
		brief := store.Object{ID: w.ID, CollectionID: w.CollectionID, Name: w.Name, ETag: w.ETag, ContentType: w.ContentType,
			Size: int64(len(w.Body)), ModSeq: w.ModSeq, Created: g.Created, Updated: g.Updated}
		if g.ID != brief.ID || g.CollectionID != brief.CollectionID || g.Name != brief.Name || g.ETag != brief.ETag ||
			g.ContentType != brief.ContentType || g.Size != brief.Size || g.ModSeq != brief.ModSeq {
			t.Errorf("brief %q = %+v, want %+v", g.Name, *g, brief)
		}
		if !g.Created.Equal(w.Created) || !g.Updated.Equal(w.Updated) || g.Updated.IsZero() {
			t.Errorf("brief %q: created %v, updated %v; want %v, %v", g.Name, g.Created, g.Updated, w.Created, w.Updated)
		}
		if g.UID != "" || g.Component != "" || g.SearchText != "" || g.FirstStart != nil || g.LastEnd != nil || g.Body != nil {
			t.Errorf("brief %q carries more than the listing fields: %+v", g.Name, *g)
		}
	}
}

func testObjectListComponent(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	for i, comp := range []string{"VEVENT", "VTODO", "VEVENT", "VJOURNAL", "VTODO"} {
		o := event(cal.ID, string(rune('a'+i))+".ics", string(rune('a'+i)), comp)
		o.Component = comp
		put(t, s, o)
	}
	for comp, want := range map[string][]string{
		"":         {"a.ics", "b.ics", "c.ics", "d.ics", "e.ics"},
		"VEVENT":   {"a.ics", "c.ics"},
		"VTODO":    {"b.ics", "e.ics"},
		"VJOURNAL": {"d.ics"},
		"VCARD":    nil,
	} {
		objs, err := s.ListObjects(ctx, cal.ID, store.ListObjectsOptions{Component: comp})
		if err != nil {
			t.Fatalf("ListObjects(%q): %v", comp, err)
		}
		if got := names(objs); !equalStrings(got, want) {
			t.Errorf("ListObjects(component %q) = %q, want %q", comp, got, want)
		}
	}
}

// testObjectListTimeRange checks the span narrowing. A backend may return a
// superset near the edges (the exact RFC 4791 §9.9 test runs later), so each
// case lists the names that must be in and the names that must be out.
func testObjectListTimeRange(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	spans := []struct {
		name        string
		start, end  *time.Time
		component   string
		searchTexts string
	}{
		{"jan.ics", date(2024, 1, 10), date(2024, 1, 11), "VEVENT", "alpha"},
		{"until-feb.ics", nil, date(2024, 2, 1), "VEVENT", "beta"}, // unbounded start
		{"from-mar.ics", date(2024, 3, 1), nil, "VEVENT", "gamma"}, // open-ended RRULE
		{"always.ics", nil, nil, "VTODO", "delta"},                 // no span known
		{"jun-point.ics", date(2024, 6, 1), date(2024, 6, 1), "VTODO", "alpha"},
		{"year.ics", date(2024, 1, 1), date(2025, 1, 1), "VJOURNAL", "beta"},
	}
	for _, sp := range spans {
		o := event(cal.ID, sp.name, "uid-"+sp.name, sp.searchTexts)
		o.FirstStart, o.LastEnd, o.Component = sp.start, sp.end, sp.component
		put(t, s, o)
	}
	cases := []struct {
		name       string
		opts       store.ListObjectsOptions
		in, out    []string
		exactNames bool // in lists every name the answer may hold
	}{
		{"no range", store.ListObjectsOptions{},
			[]string{"always.ics", "from-mar.ics", "jan.ics", "jun-point.ics", "until-feb.ics", "year.ics"}, nil, true},
		{"january", store.ListObjectsOptions{Start: date(2024, 1, 5), End: date(2024, 1, 20)},
			[]string{"jan.ics", "until-feb.ics", "always.ics", "year.ics"}, []string{"from-mar.ics", "jun-point.ics"}, false},
		{"april", store.ListObjectsOptions{Start: date(2024, 4, 1), End: date(2024, 5, 1)},
			[]string{"from-mar.ics", "always.ics", "year.ics"}, []string{"jan.ics", "until-feb.ics", "jun-point.ics"}, false},
		{"around the point", store.ListObjectsOptions{Start: date(2024, 5, 31), End: date(2024, 6, 2)},
			[]string{"jun-point.ics", "from-mar.ics", "always.ics", "year.ics"}, []string{"jan.ics", "until-feb.ics"}, false},
		{"inside jan", store.ListObjectsOptions{Start: ptr(date(2024, 1, 10).Add(time.Hour)), End: ptr(date(2024, 1, 10).Add(2 * time.Hour))},
			[]string{"jan.ics", "until-feb.ics", "always.ics", "year.ics"}, []string{"from-mar.ics", "jun-point.ics"}, false},
		{"2030, start only", store.ListObjectsOptions{Start: date(2030, 1, 1)},
			[]string{"from-mar.ics", "always.ics"}, []string{"jan.ics", "until-feb.ics", "jun-point.ics", "year.ics"}, false},
		{"2020, end only", store.ListObjectsOptions{End: date(2020, 1, 1)},
			[]string{"until-feb.ics", "always.ics"}, []string{"jan.ics", "from-mar.ics", "jun-point.ics", "year.ics"}, false},
		{"end only, mid 2024", store.ListObjectsOptions{End: date(2024, 2, 15)},
			[]string{"until-feb.ics", "always.ics", "jan.ics", "year.ics"}, []string{"from-mar.ics", "jun-point.ics"}, false},
		{"1999", store.ListObjectsOptions{Start: date(1999, 1, 1), End: date(2000, 1, 1)},
			[]string{"until-feb.ics", "always.ics"}, []string{"jan.ics", "from-mar.ics", "jun-point.ics", "year.ics"}, false},
		{"april VTODO", store.ListObjectsOptions{Start: date(2024, 4, 1), End: date(2024, 5, 1), Component: "VTODO"},
			[]string{"always.ics"}, []string{"from-mar.ics", "year.ics", "jun-point.ics", "jan.ics", "until-feb.ics"}, false},
		{"june VTODO alpha", store.ListObjectsOptions{Start: date(2024, 5, 1), End: date(2024, 7, 1), Component: "VTODO", SearchText: []string{"alp"}},
			[]string{"jun-point.ics"}, []string{"always.ics", "jan.ics", "from-mar.ics", "year.ics", "until-feb.ics"}, false},
		{"january beta", store.ListObjectsOptions{Start: date(2024, 1, 5), End: date(2024, 1, 20), SearchText: []string{"beta"}},
			[]string{"until-feb.ics", "year.ics"}, []string{"jan.ics", "always.ics", "from-mar.ics", "jun-point.ics"}, false},
	}
	for _, tc := range cases {
		objs, err := s.ListObjects(ctx, cal.ID, tc.opts)
		if err != nil {
			t.Fatalf("%s: ListObjects: %v", tc.name, err)
		}
		got := names(objs)
		if !slices.IsSorted(got) {
			t.Errorf("%s: ListObjects not ordered by name: %q", tc.name, got)
		}
		for _, n := range tc.in {
			if !slices.Contains(got, n) {
				t.Errorf("%s: ListObjects = %q, missing %q", tc.name, got, n)
			}
		}
		for _, n := range tc.out {
			if slices.Contains(got, n) {
				t.Errorf("%s: ListObjects = %q, must not hold %q", tc.name, got, n)
			}
		}
		if tc.exactNames && len(got) != len(tc.in) {
			t.Errorf("%s: ListObjects = %q, want exactly %q", tc.name, got, tc.in)
		}
	}
}

func testObjectListSearch(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "searcher")
	book := newCollection(t, s, u.ID, store.KindAddressBook, "contacts")
	cards := map[string]string{
		"alice.vcf":   "alice smith alice@example.com +1 555 0100",
		"bob.vcf":     "bob jones bob@example.org",
		"mueller.vcf": "jürgen müller j.mueller@example.de",
		"percent.vcf": "100% sure under_score",
		"quote.vcf":   `say "hi" and or not`,
		"empty.vcf":   "",
	}
	for n, text := range cards {
		body := []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:" + n + "\r\nFN:" + text + "\r\nEND:VCARD\r\n")
		put(t, s, &store.Object{
			CollectionID: book.ID, Name: n, UID: n, ETag: etagOf(body), ContentType: "text/vcard",
			Component: "VCARD", Body: body, SearchText: text,
		})
	}
	cases := []struct {
		terms []string
		want  []string
	}{
		{nil, []string{"alice.vcf", "bob.vcf", "empty.vcf", "mueller.vcf", "percent.vcf", "quote.vcf"}},
		{[]string{"alice"}, []string{"alice.vcf"}},
		{[]string{"lic"}, []string{"alice.vcf"}},
		{[]string{"alice", "smith"}, []string{"alice.vcf"}},
		{[]string{"alice", "jones"}, nil},
		{[]string{"example."}, []string{"alice.vcf", "bob.vcf", "mueller.vcf"}},
		{[]string{"müller"}, []string{"mueller.vcf"}},
		{[]string{"ü"}, []string{"mueller.vcf"}},
		{[]string{"Alice"}, nil}, // terms arrive normalised; matching is exact
		// Terms are literal: no LIKE wildcards.
		{[]string{"100%"}, []string{"percent.vcf"}},
		{[]string{"%"}, []string{"percent.vcf"}},
		{[]string{"_"}, []string{"percent.vcf"}},
		{[]string{"a%e"}, nil},
		{[]string{"b_b"}, nil},
		{[]string{"+1 555"}, []string{"alice.vcf"}},
		{[]string{`\`}, nil},
		// Quotes and query-language words are literal too.
		{[]string{`"hi"`}, []string{"quote.vcf"}},
		{[]string{`say "`}, []string{"quote.vcf"}},
		{[]string{"and or"}, []string{"quote.vcf"}},
		{[]string{"AND"}, nil},
		{[]string{"\xff\xfe"}, nil},
		// Every trigram present, but not as one substring.
		{[]string{"alice@jones"}, nil},
		{[]string{"smithalice"}, nil},
	}
	search := func(terms []string, want ...string) {
		t.Helper()
		objs, err := s.ListObjects(ctx, book.ID, store.ListObjectsOptions{SearchText: terms})
		if err != nil {
			t.Fatalf("ListObjects(%q): %v", terms, err)
		}
		if got := names(objs); !equalStrings(got, want) {
			t.Errorf("search %q = %q, want %q", terms, got, want)
		}
	}
	for _, tc := range cases {
		search(tc.terms, tc.want...)
	}

	// Another address book's cards are never found, and a card is found
	// by its current text only.
	other := newCollection(t, s, u.ID, store.KindAddressBook, "other")
	body := []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:x\r\nFN:alice\r\nEND:VCARD\r\n")
	put(t, s, &store.Object{CollectionID: other.ID, Name: "x.vcf", UID: "x", ETag: etagOf(body), ContentType: "text/vcard",
		Component: "VCARD", Body: body, SearchText: "alice smith"})
	search([]string{"alice smith"}, "alice.vcf")
	body = []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:alice.vcf\r\nFN:alicia\r\nEND:VCARD\r\n")
	put(t, s, &store.Object{CollectionID: book.ID, Name: "alice.vcf", UID: "alice.vcf", ETag: etagOf(body), ContentType: "text/vcard",
		Component: "VCARD", Body: body, SearchText: "alicia jones"})
	search([]string{"alice"})
	search([]string{"alicia"}, "alice.vcf")
	search([]string{"jones"}, "alice.vcf", "bob.vcf")
	if err := s.DeleteObject(ctx, book.ID, "alice.vcf", store.DeleteObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	search([]string{"alicia"})
	search([]string{"jones"}, "bob.vcf")
	if _, err := s.MoveObject(ctx, other.ID, "x.vcf", book.ID, "moved.vcf", store.MoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	search([]string{"alice smith"}, "moved.vcf")
}

func testObjectPutMissingCollection(t *testing.T, s store.Store) {
	_, cal := newCalendar(t, s)
	_, err := s.PutObject(t.Context(), event(cal.ID+1000, "a.ics", "a", "a"), store.PutObjectOptions{})
	wantErr(t, "PutObject into a missing collection", err, store.ErrNotFound)
}

func testObjectPutPreconditions(t *testing.T, s store.Store) {
	cases := []struct {
		name        string
		exists      bool
		opts        func(etag string) store.PutObjectOptions
		wantErr     error
		wantCreated bool
	}{
		{"none/new", false, func(string) store.PutObjectOptions { return store.PutObjectOptions{} }, nil, true},
		{"none/existing", true, func(string) store.PutObjectOptions { return store.PutObjectOptions{} }, nil, false},
		{"if-none-match/new", false, func(string) store.PutObjectOptions { return store.PutObjectOptions{IfNoneMatch: true} }, nil, true},
		{"if-none-match/existing", true, func(string) store.PutObjectOptions { return store.PutObjectOptions{IfNoneMatch: true} },
			store.ErrPreconditionFailed, false},
		{"if-match/matching", true, func(e string) store.PutObjectOptions { return store.PutObjectOptions{IfMatch: e} }, nil, false},
		{"if-match/stale", true, func(e string) store.PutObjectOptions { return store.PutObjectOptions{IfMatch: "stale" + e} },
			store.ErrPreconditionFailed, false},
		{"if-match/new", false, func(e string) store.PutObjectOptions { return store.PutObjectOptions{IfMatch: "some-etag"} },
			store.ErrPreconditionFailed, false},
		{"both/existing", true, func(e string) store.PutObjectOptions { return store.PutObjectOptions{IfMatch: e, IfNoneMatch: true} },
			store.ErrPreconditionFailed, false},
		{"both/new", false, func(e string) store.PutObjectOptions { return store.PutObjectOptions{IfMatch: "x", IfNoneMatch: true} },
			store.ErrPreconditionFailed, false},
	}
	ctx := t.Context()
	u := newUser(t, s, "preconditions")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cal := newCollection(t, s, u.ID, store.KindCalendar, tc.name)
			var old *store.Object
			etag := "no-etag"
			if tc.exists {
				old = putEvent(t, s, cal.ID, "x.ics", "uid-x")
				etag = old.ETag
			}
			before := modSeq(t, s, cal)
			o := event(cal.ID, "x.ics", "uid-x", "new version")
			created, err := s.PutObject(ctx, o, tc.opts(etag))
			wantErr(t, "PutObject", err, tc.wantErr)
			if created != tc.wantCreated {
				t.Errorf("created = %v, want %v", created, tc.wantCreated)
			}
			after := modSeq(t, s, cal)
			got, getErr := s.GetObject(ctx, cal.ID, "x.ics")
			if tc.wantErr != nil {
				// Nothing changed: not the object, not the modseq.
				if after != before {
					t.Errorf("failed PutObject moved ModSeq from %d to %d", before, after)
				}
				if old == nil {
					wantErr(t, "GetObject after failed create", getErr, store.ErrNotFound)
				} else if getErr != nil {
					t.Fatalf("GetObject: %v", getErr)
				} else {
					checkObject(t, got, old, true)
				}
				return
			}
			if after != before+1 {
				t.Errorf("ModSeq went from %d to %d, want +1", before, after)
			}
			if getErr != nil {
				t.Fatalf("GetObject: %v", getErr)
			}
			checkObject(t, got, o, true)
		})
	}
}

func testObjectDeletePreconditions(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	o := putEvent(t, s, cal.ID, "x.ics", "uid-x")
	before := modSeq(t, s, cal)

	err := s.DeleteObject(ctx, cal.ID, "x.ics", store.DeleteObjectOptions{IfMatch: "stale"})
	wantErr(t, "DeleteObject with a stale If-Match", err, store.ErrPreconditionFailed)
	err = s.DeleteObject(ctx, cal.ID, "missing.ics", store.DeleteObjectOptions{})
	wantErr(t, "DeleteObject(missing)", err, store.ErrNotFound)
	err = s.DeleteObject(ctx, cal.ID, "missing.ics", store.DeleteObjectOptions{IfMatch: o.ETag})
	wantErr(t, "DeleteObject(missing) with If-Match", err, store.ErrPreconditionFailed)
	err = s.DeleteObject(ctx, cal.ID+1000, "x.ics", store.DeleteObjectOptions{})
	wantErr(t, "DeleteObject in a missing collection", err, store.ErrNotFound)
	if got := modSeq(t, s, cal); got != before {
		t.Errorf("failed deletes moved ModSeq from %d to %d", before, got)
	}
	if _, err := s.GetObject(ctx, cal.ID, "x.ics"); err != nil {
		t.Fatalf("object gone after failed deletes: %v", err)
	}

	if err := s.DeleteObject(ctx, cal.ID, "x.ics", store.DeleteObjectOptions{IfMatch: o.ETag}); err != nil {
		t.Fatalf("DeleteObject with a matching If-Match: %v", err)
	}
	_, err = s.GetObject(ctx, cal.ID, "x.ics")
	wantErr(t, "GetObject after delete", err, store.ErrNotFound)
	if got := modSeq(t, s, cal); got != before+1 {
		t.Errorf("ModSeq = %d after delete, want %d", got, before+1)
	}
}

func testObjectUIDConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	other := newCollection(t, s, u.ID, store.KindCalendar, "other")
	putEvent(t, s, cal.ID, "a.ics", "shared-uid")
	b := putEvent(t, s, cal.ID, "b.ics", "b-uid")
	before := modSeq(t, s, cal)

	checkConflict := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("%s: %v, want ErrConflict", what, err)
		}
		var uc *store.UIDConflictError
		if !errors.As(err, &uc) {
			t.Fatalf("%s: %v is not a *UIDConflictError", what, err)
		}
		if uc.UID != "shared-uid" || uc.Name != "a.ics" {
			t.Errorf("%s: UIDConflictError{UID %q, Name %q}, want shared-uid held by a.ics", what, uc.UID, uc.Name)
		}
	}
	// A new name with a taken UID.
	_, err := s.PutObject(ctx, event(cal.ID, "c.ics", "shared-uid", "c"), store.PutObjectOptions{})
	checkConflict("new object", err)
	_, err = s.GetObject(ctx, cal.ID, "c.ics")
	wantErr(t, "GetObject of the refused object", err, store.ErrNotFound)
	// An existing name changing to a taken UID.
	_, err = s.PutObject(ctx, event(cal.ID, "b.ics", "shared-uid", "b2"), store.PutObjectOptions{IfMatch: b.ETag})
	checkConflict("update", err)
	if got, _ := s.GetObject(ctx, cal.ID, "b.ics"); got == nil || got.UID != "b-uid" || got.ETag != b.ETag {
		t.Errorf("b.ics changed by a refused update: %+v", got)
	}
	if got := modSeq(t, s, cal); got != before {
		t.Errorf("refused writes moved ModSeq from %d to %d", before, got)
	}

	// Rewriting the holder itself is fine, and so is the UID elsewhere.
	a2 := event(cal.ID, "a.ics", "shared-uid", "a again")
	if created := put(t, s, a2); created {
		t.Error("rewriting a.ics reported created")
	}
	putEvent(t, s, other.ID, "c.ics", "shared-uid")
	// Once the holder is gone the UID is free.
	if err := s.DeleteObject(ctx, cal.ID, "a.ics", store.DeleteObjectOptions{IfMatch: a2.ETag}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	putEvent(t, s, cal.ID, "c.ics", "shared-uid")
}

func testObjectTombstones(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	putEvent(t, s, cal.ID, "keep.ics", "keep")
	putEvent(t, s, cal.ID, "gone.ics", "gone")
	before := modSeq(t, s, cal)
	if err := s.DeleteObject(ctx, cal.ID, "gone.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	ch, err := s.ListChangesSince(ctx, cal.ID, before, 0, false)
	if err != nil {
		t.Fatalf("ListChangesSince: %v", err)
	}
	if len(ch.Changes) != 1 || ch.Changes[0] != (store.Change{Name: "gone.ics", ModSeq: before + 1, Deleted: true}) {
		t.Fatalf("changes after delete = %+v, want one tombstone for gone.ics at %d", ch.Changes, before+1)
	}
	if ch.ModSeq != before+1 || ch.Truncated {
		t.Errorf("Changes.ModSeq %d, Truncated %v; want %d, false", ch.ModSeq, ch.Truncated, before+1)
	}
	err = s.DeleteObject(ctx, cal.ID, "gone.ics", store.DeleteObjectOptions{})
	wantErr(t, "DeleteObject twice", err, store.ErrNotFound)

	// Re-creating the name replaces its tombstone with the live object.
	back := putEvent(t, s, cal.ID, "gone.ics", "gone-again")
	ch, err = s.ListChangesSince(ctx, cal.ID, 0, 0, false)
	if err != nil {
		t.Fatalf("ListChangesSince: %v", err)
	}
	var seen []string
	for _, c := range ch.Changes {
		seen = append(seen, c.Name)
		if c.Name == "gone.ics" {
			if c.Deleted || c.Object == nil || c.ModSeq != back.ModSeq {
				t.Errorf("gone.ics change = %+v, want live at %d", c, back.ModSeq)
			} else {
				checkObject(t, c.Object, back, false)
			}
		}
	}
	if !equalStrings(seen, []string{"keep.ics", "gone.ics"}) {
		t.Errorf("changes since 0 = %q, want keep.ics then gone.ics once", seen)
	}
}

// testObjectListPaging: After and Limit page through a collection in
// bytewise name order; the pages joined are the whole listing, under a
// filter too.
func testObjectListPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, cal := newCalendar(t, s)
	var all []string
	for i := 0; i < 23; i++ {
		n := fmt.Sprintf("p%02d.ics", i)
		switch i % 4 {
		case 1:
			n = "Ä" + n // sorts after every ASCII name
		case 2:
			n = "a b " + n
		}
		o := event(cal.ID, n, fmt.Sprintf("uid-%d", i), "paging "+n)
		if i%3 == 0 {
			o.Component = "VTODO"
		}
		put(t, s, o)
		all = append(all, n)
	}
	slices.Sort(all)
	for _, opts := range []store.ListObjectsOptions{{}, {Component: "VTODO"}} {
		whole, err := s.ListObjects(ctx, cal.ID, opts)
		if err != nil {
			t.Fatal(err)
		}
		var paged []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > 30 {
				t.Fatalf("paging does not end: %q", paged)
			}
			o := opts
			o.After, o.Limit = after, 5
			page, err := s.ListObjects(ctx, cal.ID, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > 5 {
				t.Fatalf("Limit 5 returned %d objects", len(page))
			}
			paged = append(paged, names(page)...)
			if len(page) < 5 {
				break
			}
			after = page[len(page)-1].Name
		}
		if !equalStrings(paged, names(whole)) {
			t.Errorf("component %q: pages %q,\n\twant %q", opts.Component, paged, names(whole))
		}
	}
	if got, _ := s.ListObjects(ctx, cal.ID, store.ListObjectsOptions{After: all[len(all)-1]}); len(got) != 0 {
		t.Errorf("After the last name: %q, want none", names(got))
	}
	if got, _ := s.ListObjects(ctx, cal.ID, store.ListObjectsOptions{After: all[10]}); !equalStrings(names(got), all[11:]) {
		t.Errorf("After %q: %q, want %q", all[10], names(got), all[11:])
	}
}

// testObjectUIDChanged: RFC 4791 §5.3.2.1 and RFC 6352 §6.3.2.1 forbid
// overwriting a resource with one of another UID. PutObject and MoveObject
// refuse it with ErrUIDChanged inside their transaction, and nothing changes.
func testObjectUIDChanged(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cal := newCalendar(t, s)
	other := newCollection(t, s, u.ID, store.KindCalendar, "other")
	a := putEvent(t, s, cal.ID, "a.ics", "uid-a")
	b := putEvent(t, s, cal.ID, "b.ics", "uid-b")
	elsewhere := putEvent(t, s, other.ID, "a.ics", "uid-elsewhere")
	before, otherBefore := modSeq(t, s, cal), modSeq(t, s, other)
	unchanged := func(what string) {
		t.Helper()
		for _, want := range []*store.Object{a, b, elsewhere} {
			got, err := s.GetObject(ctx, want.CollectionID, want.Name)
			if err != nil {
				t.Fatalf("%s: GetObject(%q): %v", what, want.Name, err)
			}
			checkObject(t, got, want, true)
		}
		if m := modSeq(t, s, cal); m != before {
			t.Errorf("%s moved ModSeq from %d to %d", what, before, m)
		}
		if m := modSeq(t, s, other); m != otherBefore {
			t.Errorf("%s moved the other ModSeq from %d to %d", what, otherBefore, m)
		}
	}
	for _, opts := range []store.PutObjectOptions{{}, {IfMatch: a.ETag}} {
		_, err := s.PutObject(ctx, event(cal.ID, "a.ics", "uid-new", "new"), opts)
		wantErr(t, fmt.Sprintf("PutObject with another UID (%+v)", opts), err, store.ErrUIDChanged)
		unchanged("a refused put")
	}
	// A stale If-Match is reported as such, whatever the UID.
	_, err := s.PutObject(ctx, event(cal.ID, "a.ics", "uid-new", "new"), store.PutObjectOptions{IfMatch: "stale"})
	wantErr(t, "PutObject with another UID and a stale If-Match", err, store.ErrPreconditionFailed)
	// A copy (a put at another name) onto an object of another UID.
	_, err = s.PutObject(ctx, event(other.ID, "a.ics", "uid-a", "copy"), store.PutObjectOptions{})
	wantErr(t, "copy onto another UID", err, store.ErrUIDChanged)
	unchanged("a refused copy")
	// Moves onto an object of another UID, in the same collection and across.
	_, err = s.MoveObject(ctx, cal.ID, "b.ics", cal.ID, "a.ics", store.MoveObjectOptions{Overwrite: true})
	wantErr(t, "MoveObject onto another UID in the collection", err, store.ErrUIDChanged)
	unchanged("a refused move")
	_, err = s.MoveObject(ctx, cal.ID, "a.ics", other.ID, "a.ics", store.MoveObjectOptions{Overwrite: true})
	wantErr(t, "MoveObject onto another UID across collections", err, store.ErrUIDChanged)
	unchanged("a refused move across")
	// The same UID may be overwritten: an update, and a move onto a copy.
	a2 := event(cal.ID, "a.ics", "uid-a", "a again")
	if _, err := s.PutObject(ctx, a2, store.PutObjectOptions{IfMatch: a.ETag}); err != nil {
		t.Fatalf("PutObject with the same UID: %v", err)
	}
	put(t, s, event(other.ID, "copy.ics", "uid-a", "copy"))
	if _, err := s.MoveObject(ctx, cal.ID, "a.ics", other.ID, "copy.ics", store.MoveObjectOptions{Overwrite: true}); err != nil {
		t.Fatalf("MoveObject onto the same UID: %v", err)
	}
}
