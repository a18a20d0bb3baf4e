package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-webdav"
	gocarddav "github.com/emersion/go-webdav/carddav"
)

// davState reads a collection through go-webdav's client: href → ETag and
// the exact bytes.
func davState(t *testing.T, c *webdav.Client, path string) map[string]string {
	t.Helper()
	ctx := context.Background()
	infos, err := c.ReadDir(ctx, path, false)
	if err != nil {
		t.Fatalf("ReadDir %s: %v", path, err)
	}
	m := map[string]string{}
	for _, fi := range infos {
		if fi.IsDir {
			continue
		}
		r, err := c.Open(ctx, fi.Path)
		if err != nil {
			t.Fatalf("GET %s: %v", fi.Path, err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		m[fi.Path] = fi.ETag + " " + string(b)
	}
	return m
}

// davClients are go-webdav's WebDAV and CardDAV clients for alice, sending
// agent as their User-Agent.
func davClients(t *testing.T, url, agent string) (*webdav.Client, *gocarddav.Client) {
	t.Helper()
	hc := agentClient{webdav.HTTPClientWithBasicAuth(http.DefaultClient, "alice", "alice-password"), agent}
	c, err := webdav.NewClient(hc, url)
	if err != nil {
		t.Fatal(err)
	}
	cards, err := gocarddav.NewClient(hc, url)
	if err != nil {
		t.Fatal(err)
	}
	return c, cards
}

// davPut stores body at path with a plain PUT.
func davPut(t *testing.T, c *webdav.Client, path, body string) {
	t.Helper()
	w, err := c.Create(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, body)
	if err := w.Close(); err != nil {
		t.Fatalf("PUT %s: %v", path, err)
	}
}

// wantDAVState compares alice's calendar and address book with a state
// davState read before.
func wantDAVState(t *testing.T, c *webdav.Client, when string, wantCal, wantBook map[string]string) {
	t.Helper()
	if got := davState(t, c, historyCalendar); !maps.Equal(got, wantCal) {
		t.Errorf("calendar %s:\n%q\nwant\n%q", when, got, wantCal)
	}
	if got := davState(t, c, historyBook); !maps.Equal(got, wantBook) {
		t.Errorf("address book %s:\n%q\nwant\n%q", when, got, wantBook)
	}
}

// updatedPaths are the hrefs a sync reported changed, sorted.
func updatedPaths(sync *gocarddav.SyncResponse) []string {
	var out []string
	for _, ao := range sync.Updated {
		out = append(out, ao.Path)
	}
	slices.Sort(out)
	return out
}

const (
	historyCalendar = "/dav/calendars/alice/personal/"
	historyBook     = "/dav/addressbooks/alice/contacts/"
)

func historyEvent(uid, summary string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//history//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250102T100000Z\r\nDURATION:PT1H\r\nSUMMARY:" + summary +
		"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

func historyCard(uid, name string) string {
	return "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:" + uid + "\r\nFN:" + name + "\r\nEND:VCARD\r\n"
}

// TestRestoreWhatAClientDestroyed is issue 17's recovery story on both
// stores: a sync client (go-webdav's, with its own User-Agent) deletes every
// event and contact of a user while the server runs; "davenport history
// restore --client" puts back exactly the previous state (names, ETags,
// bytes), and the client's incremental sync-collection sees every item come
// back.
func TestRestoreWhatAClientDestroyed(t *testing.T) {
	testdbEach(t, func(t *testing.T, db string) {
		if code, _, errs := runCmd(t, "alice-password\n", "user", "add", "alice", "--password-stdin", "--database", db); code != 0 {
			t.Fatalf("user add: %d %s", code, errs)
		}
		s := startServe(t, nil, "--database", db)
		ctx := context.Background()
		newClient := func(agent string) *webdav.Client {
			c, _ := davClients(t, s.url, agent)
			return c
		}
		put := func(c *webdav.Client, path, body string) { davPut(t, c, path, body) }
		setup := newClient("Setup/1.0")
		for i := range 4 {
			put(setup, fmt.Sprintf("%sevent %d.ics", historyCalendar, i), historyEvent(fmt.Sprint("ev-", i), fmt.Sprint("Event ", i)))
			put(setup, fmt.Sprintf("%scard-%d.vcf", historyBook, i), historyCard(fmt.Sprint("card-", i), fmt.Sprint("Person ", i)))
		}
		// One item was edited by a second device before the wipe.
		put(newClient("Laptop/2.0"), historyCalendar+"event 0.ics", historyEvent("ev-0", "Event 0, moved"))
		wantCal, wantBook := davState(t, setup, historyCalendar), davState(t, setup, historyBook)
		if len(wantCal) != 4 || len(wantBook) != 4 {
			t.Fatalf("set-up state: %d events, %d cards", len(wantCal), len(wantBook))
		}

		// The broken client syncs, then deletes everything.
		bad, cardClient := davClients(t, s.url, "BrokenSync/0.9")
		// The ETags the client's sync reported before the wipe (of the
		// representation it asks for, which may differ from the
		// stored bytes' ETag).
		before, err := cardClient.SyncCollection(ctx, historyBook, &gocarddav.SyncQuery{})
		if err != nil || len(before.Updated) != len(wantBook) {
			t.Fatalf("sync before the wipe: %d cards, %v", len(before.Updated), err)
		}
		syncETags := map[string]string{}
		for _, ao := range before.Updated {
			syncETags[ao.Path] = ao.ETag
		}
		for _, p := range slices.Concat(slices.Sorted(maps.Keys(wantCal)), slices.Sorted(maps.Keys(wantBook))) {
			if err := bad.RemoveAll(ctx, p); err != nil {
				t.Fatalf("DELETE %s: %v", p, err)
			}
		}
		wiped, err := cardClient.SyncCollection(ctx, historyBook, &gocarddav.SyncQuery{})
		if err != nil || len(wiped.Updated) != 0 {
			t.Fatalf("sync after the wipe: %d cards, %v", len(wiped.Updated), err)
		}

		// The other devices' history stays out of it.
		code, out, errs := runCmd(t, "", "history", "list", "alice", "--client", "BrokenSync/0.9", "--database", db)
		if code != 0 || strings.Count(out, "delete") != 8 || strings.Contains(out, "Setup/1.0") {
			t.Fatalf("history list --client: %d %s\n%s", code, errs, out)
		}
		code, out, errs = runCmd(t, "", "history", "restore", "alice", "--client", "BrokenSync/0.9", "--since", "1h", "--database", db)
		if code != 0 {
			t.Fatalf("history restore --client: %d %s\n%s", code, errs, out)
		}
		if !strings.Contains(out, "8 items of alice put back") {
			t.Errorf("restore said:\n%s", out)
		}
		wantDAVState(t, setup, "after restore", wantCal, wantBook)
		delta, err := cardClient.SyncCollection(ctx, historyBook, &gocarddav.SyncQuery{SyncToken: wiped.SyncToken})
		if err != nil {
			t.Fatalf("incremental sync after the restore: %v", err)
		}
		for _, ao := range delta.Updated {
			if want := syncETags[ao.Path]; ao.ETag != want {
				t.Errorf("sync: %s ETag %q, want %q", ao.Path, ao.ETag, want)
			}
		}
		back := updatedPaths(delta)
		if !slices.Equal(back, slices.Sorted(maps.Keys(wantBook))) || len(delta.Deleted) != 0 {
			t.Errorf("incremental sync: updated %q deleted %q, want every card back", back, delta.Deleted)
		}

		// The restore is history too, made by the CLI.
		code, out, _ = runCmd(t, "", "history", "list", "alice", "--client", "davenport-cli", "--database", db)
		if code != 0 || strings.Count(out, "create") != 8 {
			t.Errorf("history of the restore: %d\n%s", code, out)
		}
		s.stop()
	})
}

// TestHistoryAndTrashCommands walks the CLI: history list and show, restore
// of one version, the trash with a deleted collection, and purge.
func TestHistoryAndTrashCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "trash.db")
	if code, _, errs := runCmd(t, "alice-password\n", "user", "add", "alice", "--password-stdin", "--database", db); code != 0 {
		t.Fatalf("user add: %d %s", code, errs)
	}
	s := startServe(t, nil, "--database", db)
	put := func(path, body string) {
		req, _ := http.NewRequest("PUT", s.url+path, strings.NewReader(body))
		req.SetBasicAuth("alice", "alice-password")
		req.Header.Set("User-Agent", "Phone/3")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("PUT %s: %d", path, resp.StatusCode)
		}
	}
	del := func(path string) {
		req, _ := http.NewRequest("DELETE", s.url+path, nil)
		req.SetBasicAuth("alice", "alice-password")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE %s: %d", path, resp.StatusCode)
		}
	}
	first := historyEvent("uid-1", "First")
	put(historyCalendar+"e.ics", first)
	put(historyCalendar+"e.ics", historyEvent("uid-1", "Second"))

	code, out, errs := runCmd(t, "", "history", "list", "alice", "--collection", "calendar/personal", "--item", "e.ics", "--database", db)
	if code != 0 {
		t.Fatalf("history list: %d %s", code, errs)
	}
	m := regexp.MustCompile(`(?m)^(\d+)\s.*\bupdate\s+calendar/personal\s+e\.ics\s+uid-1\s+\d+\s+Phone/3$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("history list shows no update of e.ics:\n%s", out)
	}
	code, out, _ = runCmd(t, "", "history", "show", "alice", m[1], "--database", db)
	if code != 0 || !strings.HasSuffix(out, "\n\n"+first) || !strings.Contains(out, "by Phone/3") {
		t.Errorf("history show: %d\n%s", code, out)
	}
	if code, out, errs = runCmd(t, "", "history", "restore", "alice", m[1], "--database", db); code != 0 || !strings.Contains(out, "restored calendar/personal/e.ics") {
		t.Errorf("history restore: %d %s\n%s", code, errs, out)
	}
	if code, _, _ = runCmd(t, "", "history", "show", "alice", "999999", "--database", db); code != 1 {
		t.Errorf("history show of a missing version: exit %d, want 1", code)
	}
	if code, _, _ = runCmd(t, "", "history", "show", "alice", "x", "--database", db); code != 2 {
		t.Errorf("history show of a bad version: exit %d, want 2", code)
	}

	// A deleted item and a deleted address book land in the trash.
	put(historyBook+"c.vcf", historyCard("c", "Carol"))
	del(historyCalendar + "e.ics")
	del(historyBook)
	code, out, _ = runCmd(t, "", "trash", "list", "alice", "--database", db)
	mc := regexp.MustCompile(`(?m)^(\d+)\s.*addressbook/contacts\s+Contacts\s+1$`).FindStringSubmatch(out)
	mi := regexp.MustCompile(`(?m)^(\d+)\s.*\bdelete\s+calendar/personal\s+e\.ics\s`).FindStringSubmatch(out)
	if code != 0 || mc == nil || mi == nil {
		t.Fatalf("trash list: %d\n%s", code, out)
	}
	if code, out, errs = runCmd(t, "", "trash", "restore", "alice", "--collection", mc[1], "--database", db); code != 0 || !strings.Contains(out, "restored addressbook/contacts") {
		t.Errorf("trash restore --collection: %d %s\n%s", code, errs, out)
	}
	if code, out, errs = runCmd(t, "", "trash", "restore", "alice", mi[1], "--database", db); code != 0 || !strings.Contains(out, "restored calendar/personal/e.ics") {
		t.Errorf("trash restore: %d %s\n%s", code, errs, out)
	}
	for _, p := range []string{historyCalendar + "e.ics", historyBook + "c.vcf"} {
		req, _ := http.NewRequest("GET", s.url+p, nil)
		req.SetBasicAuth("alice", "alice-password")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s after the restores: %d", p, resp.StatusCode)
		}
	}
	if code, out, _ = runCmd(t, "", "trash", "purge", "alice", "--database", db); code != 0 || !strings.Contains(out, "purged") {
		t.Errorf("trash purge: %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, "", "trash", "list", "alice", "--database", db)
	if code != 0 || strings.Contains(out, "e.ics") || strings.Contains(out, "contacts") {
		t.Errorf("trash after purge: %d\n%s", code, out)
	}
	s.stop()
}
