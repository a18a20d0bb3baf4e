package main

import (
	"archive/zip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// importTZ is a calendar-timezone value.
const importTZ = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" +
	"BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n" +
	"END:VTIMEZONE\r\nEND:VCALENDAR\r\n"

// The items of the source account: a recurring event in a time zone with
// an override, a name with a space, a task, a contact with a photo.
var importItems = map[string]string{
	"/dav/calendars/alice/work/weekly.ics": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" +
		strings.TrimPrefix(strings.TrimSuffix(importTZ, "END:VCALENDAR\r\n"), "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n") +
		"BEGIN:VEVENT\r\nUID:weekly@example.org\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20250106T090000\r\n" +
		"DURATION:PT30M\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\nSUMMARY:Stand-up\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:weekly@example.org\r\nDTSTAMP:20250101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Berlin:20250113T090000\r\n" +
		"DTSTART;TZID=Europe/Berlin:20250113T100000\r\nDURATION:PT30M\r\nSUMMARY:Stand-up, later\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
	"/dav/calendars/alice/work/lunch with bob.ics": historyEvent("lunch-1", "Lunch"),
	"/dav/calendars/alice/tasks/task-1.ics": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\n" +
		"UID:task-1\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:File taxes\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
	"/dav/addressbooks/alice/friends/carol.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:carol\r\nFN:Carol\r\nN:;Carol;;;\r\n" +
		"PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/\r\n" +
		"BDAY:19800412\r\nEND:VCARD\r\n",
}

// addBob makes user bob in db and opens db: the store and bob.
func addBob(t *testing.T, db string) (store.Store, *store.User) {
	t.Helper()
	if code, _, errs := runCmd(t, "bob-password-1\n", "user", "add", "bob", "--password-stdin", "--database", db); code != 0 {
		t.Fatalf("user add: %d %s", code, errs)
	}
	ctx := context.Background()
	st, err := openStore(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bob, err := st.GetUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	return st, bob
}

// davDo sends one request as alice and wants status want.
func davDo(t *testing.T, base, method, path, body string, want int) {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	req.SetBasicAuth("alice", "alice-password")
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
}

// TestImportFromServer copies an account from another server — our own,
// on the embedded store, driven through go-webdav's client exactly as a
// Radicale or Xandikos would be — into each store: collections with their
// properties, every item byte for byte under its name, a rejected item
// with its reason; a second run changes nothing (same sync token), and a
// third copies only the item changed in between.
func TestImportFromServer(t *testing.T) {
	srcDB := filepath.Join(t.TempDir(), "source.db")
	if code, _, errs := runCmd(t, "alice-password\n", "user", "add", "alice", "--password-stdin", "--database", srcDB); code != 0 {
		t.Fatalf("user add: %d %s", code, errs)
	}
	src := startServe(t, nil, "--database", srcDB)
	davDo(t, src.url, "MKCALENDAR", "/dav/calendars/alice/work/", `<?xml version="1.0"?>
<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:a="http://apple.com/ns/ical/"><d:set><d:prop>
<d:displayname>Work</d:displayname><c:calendar-description>Office hours</c:calendar-description>
<a:calendar-color>#FF2968FF</a:calendar-color><c:calendar-timezone><![CDATA[`+importTZ+`]]></c:calendar-timezone>
<c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set>
</d:prop></d:set></c:mkcalendar>`, http.StatusCreated)
	davDo(t, src.url, "MKCALENDAR", "/dav/calendars/alice/tasks/", "", http.StatusCreated)
	davDo(t, src.url, "MKCOL", "/dav/addressbooks/alice/friends/", `<?xml version="1.0"?>
<d:mkcol xmlns:d="DAV:" xmlns:cr="urn:ietf:params:xml:ns:carddav"><d:set><d:prop>
<d:resourcetype><d:collection/><cr:addressbook/></d:resourcetype><d:displayname>Friends</d:displayname>
</d:prop></d:set></d:mkcol>`, http.StatusCreated)
	setup, _ := davClients(t, src.url, "Setup/1.0")
	for p, body := range importItems {
		davPut(t, setup, p, body)
	}
	srcState := map[string]map[string]string{}
	for _, c := range []string{"/dav/calendars/alice/work/", "/dav/calendars/alice/tasks/", "/dav/addressbooks/alice/friends/"} {
		srcState[c] = davState(t, setup, c)
	}

	testdbEach(t, func(t *testing.T, db string) {
		st, bob := addBob(t, db)
		ctx := context.Background()
		// Bob already has a "tasks" calendar, for events only: the
		// task cannot go in, and the import says why.
		if err := st.CreateCollection(ctx, &store.Collection{OwnerID: bob.ID, Kind: store.KindCalendar, Name: "tasks", Components: []string{"VEVENT"}}); err != nil {
			t.Fatal(err)
		}
		imp := func() (int, string, string) {
			return runCmd(t, "alice-password\n", "import", "--from", src.url+"/", "--user", "bob",
				"--remote-user", "alice", "--password-stdin", "--database", db)
		}
		code, out, errs := imp()
		if code != 1 || !strings.Contains(errs, "1 items were rejected") {
			t.Fatalf("first import: exit %d, want 1 (one rejected)\n%s%s", code, out, errs)
		}
		for _, want := range []string{
			`(?m)^calendar work \(new\) from /dav/calendars/alice/work/: 2 items: 2 created, 0 updated, 0 unchanged, 0 skipped, 0 rejected;`,
			`(?m)^calendar tasks \(existing\) from /dav/calendars/alice/tasks/: 1 items: 0 created, 0 updated, 0 unchanged, 0 skipped, 1 rejected;`,
			`(?m)^  rejected task-1\.ics: .*supported-calendar-component`,
			`(?m)^addressbook friends \(new\) from /dav/addressbooks/alice/friends/: 1 items: 1 created,`,
			`(?m)^calendar /dav/calendars/alice/contact_birthdays/ skipped: a Birthdays calendar`,
		} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("output does not match %s:\n%s", want, out)
			}
		}
		if strings.Contains(out+errs, "alice-password") {
			t.Error("the remote password was printed")
		}

		work, err := st.GetCollection(ctx, bob.ID, store.KindCalendar, "work")
		if err != nil {
			t.Fatal(err)
		}
		if work.DisplayName != "Work" || work.Description != "Office hours" || work.Color != "#FF2968FF" ||
			work.Timezone != importTZ || strings.Join(work.Components, ",") != "VEVENT" {
			t.Errorf("work = %q %q %q %v, timezone %q", work.DisplayName, work.Description, work.Color, work.Components, work.Timezone)
		}
		book, err := st.GetCollection(ctx, bob.ID, store.KindAddressBook, "friends")
		if err != nil || book.DisplayName != "Friends" {
			t.Fatalf("friends: %+v %v", book, err)
		}
		// Byte for byte, under the same names.
		same := func(c *store.Collection, srcPath string) {
			t.Helper()
			objs, err := st.ListObjects(ctx, c.ID, store.ListObjectsOptions{WithBody: true})
			if err != nil {
				t.Fatal(err)
			}
			want := srcState[srcPath]
			if len(objs) != len(want) {
				t.Errorf("%s: %d items, want %d", c.Name, len(objs), len(want))
			}
			for _, o := range objs {
				if body, ok := importItems[srcPath+o.Name]; !ok || string(o.Body) != body {
					t.Errorf("%s/%s: %q, want %q", c.Name, o.Name, o.Body, body)
				}
			}
		}
		same(work, "/dav/calendars/alice/work/")
		same(book, "/dav/addressbooks/alice/friends/")

		// Again: nothing changes, not even the sync token.
		code, out, errs = imp()
		if code != 1 || !strings.Contains(out, "imported 5 collections: 0 items created, 0 updated, 3 unchanged, 1 rejected") {
			t.Errorf("second import: exit %d\n%s%s", code, out, errs)
		}
		again, _ := st.GetCollection(ctx, bob.ID, store.KindCalendar, "work")
		if again.ModSeq != work.ModSeq {
			t.Errorf("a second import moved the sync token: modseq %d → %d", work.ModSeq, again.ModSeq)
		}

		// One item changed at the source: only it is copied.
		changed := historyEvent("lunch-1", "Lunch, moved")
		davPut(t, setup, "/dav/calendars/alice/work/lunch with bob.ics", changed)
		t.Cleanup(func() {
			davPut(t, setup, "/dav/calendars/alice/work/lunch with bob.ics", importItems["/dav/calendars/alice/work/lunch with bob.ics"])
		})
		code, out, _ = imp()
		if !strings.Contains(out, "imported 5 collections: 0 items created, 1 updated, 2 unchanged, 1 rejected") {
			t.Errorf("third import: exit %d\n%s", code, out)
		}
		o, err := st.GetObject(ctx, work.ID, "lunch with bob.ics")
		if err != nil || string(o.Body) != changed {
			t.Errorf("after the change: %v %q", err, o.Body)
		}
		vs, err := st.ListVersions(ctx, bob.ID, store.HistoryFilter{UserAgent: importAgent()})
		if err != nil || len(vs) == 0 {
			t.Errorf("the history names the import as the client: %d versions, %v", len(vs), err)
		}
	})
}

// TestImportFromFile: a .ics into a named collection, run twice; a .zip of
// a calendar and an address book (one collection each); a Radicale-style
// directory with its .Radicale.props; a dry run that changes nothing.
func TestImportFromFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "files.db")
	st, bob := addBob(t, db)
	dir := t.TempDir()
	ics := filepath.Join(dir, "export.ics")
	os.WriteFile(ics, []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nMETHOD:PUBLISH\r\n"+
		"BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250102T100000Z\r\nSUMMARY:A\r\nEND:VEVENT\r\n"+
		"BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250103T100000Z\r\nSUMMARY:B\r\nEND:VEVENT\r\n"+
		"BEGIN:VEVENT\r\nUID:bad\r\nSUMMARY:no start, no stamp\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\nEND:VEVENT\r\n"+
		"END:VCALENDAR\r\n"), 0o600)

	code, out, errs := runCmd(t, "", "import", "--from-file", ics, "--collection", "holidays", "--user", "bob", "--dry-run", "--database", db)
	if code != 1 || !strings.Contains(out, "calendar holidays (new) from "+ics+": 3 items: 2 created") || !strings.Contains(out, "would import") {
		t.Errorf("dry run: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCmd(t, "", "import", "--from-file", ics, "--collection", "holidays", "--user", "bob", "--database", db)
	if code != 1 || !strings.Contains(out, "calendar holidays (new) from "+ics+": 3 items: 2 created, 0 updated, 0 unchanged, 0 skipped, 1 rejected") ||
		!regexp.MustCompile(`(?m)^  rejected bad: `).MatchString(out) {
		t.Errorf("import: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCmd(t, "", "import", "--from-file", ics, "--collection", "holidays", "--user", "bob", "--database", db)
	if !strings.Contains(out, "3 items: 0 created, 0 updated, 2 unchanged, 0 skipped, 1 rejected") {
		t.Errorf("second import: exit %d\n%s", code, out)
	}

	zpath := filepath.Join(dir, "nextcloud.zip")
	zf, _ := os.Create(zpath)
	zw := zip.NewWriter(zf)
	w, _ := zw.Create("personal-2025-01-01.ics")
	io.WriteString(w, historyEvent("z-1", "From the zip"))
	w, _ = zw.Create("Contacts.vcf")
	io.WriteString(w, historyCard("c-1", "Dora")+historyCard("c-2", "Emil"))
	zw.Close()
	zf.Close()
	code, out, errs = runCmd(t, "", "import", "--from-file", zpath, "--user", "bob", "--database", db)
	if code != 0 || !strings.Contains(out, "calendar personal-2025-01-01 (new)") || !strings.Contains(out, "addressbook Contacts (new) from Contacts.vcf: 2 items: 2 created") {
		t.Errorf("zip: exit %d\n%s%s", code, out, errs)
	}

	// A Radicale storage folder: collection-root/USER/COLLECTION/ITEM.
	root := filepath.Join(dir, "collection-root", "bob")
	coll := filepath.Join(root, "f3e1c6a2")
	os.MkdirAll(coll, 0o700)
	os.WriteFile(filepath.Join(coll, ".Radicale.props"), []byte(`{"D:displayname": "Family", "ICAL:calendar-color": "#00FF00", "tag": "VCALENDAR", "C:supported-calendar-component-set": "VEVENT,VTODO"}`), 0o600)
	os.WriteFile(filepath.Join(coll, "e1.ics"), []byte(historyEvent("r-1", "Radicale one")), 0o600)
	os.WriteFile(filepath.Join(coll, "e2.ics"), []byte(historyEvent("r-2", "Radicale two")), 0o600)
	code, out, errs = runCmd(t, "", "import", "--from-file", root, "--user", "bob", "--database", db)
	if code != 0 || !strings.Contains(out, "calendar f3e1c6a2 (new) from "+coll+": 2 items: 2 created") {
		t.Errorf("directory: exit %d\n%s%s", code, out, errs)
	}
	ctx := context.Background()
	c, err := st.GetCollection(ctx, bob.ID, store.KindCalendar, "f3e1c6a2")
	if err != nil || c.DisplayName != "Family" || c.Color != "#00FF00" || strings.Join(c.Components, ",") != "VEVENT,VTODO" {
		t.Errorf("radicale collection: %+v %v", c, err)
	}
	o, err := st.GetObject(ctx, c.ID, "e1.ics")
	if err != nil || string(o.Body) != historyEvent("r-1", "Radicale one") {
		t.Errorf("e1.ics (the file's name kept): %v %q", err, o.Body)
	}
}

// TestUserBirthdays: the Birthdays calendar is on for a new user; "user
// birthdays --off" removes it without leaving it in the trash, and "user
// birthdays" brings it back.
func TestUserBirthdays(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bday.db")
	st, bob := addBob(t, db)
	count := func() (int, int) {
		t.Helper()
		ctx := context.Background()
		cols, err := st.ListCollections(ctx, bob.ID, store.KindBirthdays)
		if err != nil {
			t.Fatal(err)
		}
		trash, err := st.ListTrashedCollections(ctx, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(cols), len(trash)
	}
	if n, _ := count(); n != 1 {
		t.Fatalf("a new user has %d Birthdays calendars, want 1", n)
	}
	for _, step := range []struct {
		args        []string
		want, trash int
		out         string
	}{
		{[]string{"--off"}, 0, 0, "is off"},
		{[]string{"--off"}, 0, 0, "is off"},
		{nil, 1, 0, "is on"},
		{nil, 1, 0, "is on"},
	} {
		code, out, errs := runCmd(t, "", append([]string{"user", "birthdays", "bob", "--database", db}, step.args...)...)
		if code != 0 || !strings.Contains(out, step.out) {
			t.Fatalf("user birthdays %v: %d %s%s", step.args, code, out, errs)
		}
		if n, tr := count(); n != step.want || tr != step.trash {
			t.Errorf("after user birthdays %v: %d calendars, %d in the trash; want %d, %d", step.args, n, tr, step.want, step.trash)
		}
	}
}
