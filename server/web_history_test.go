package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

func historyEvent(uid, start, summary string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//History//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:" + start + "\r\nDURATION:PT1H\r\nSUMMARY:" + summary + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

// TestWebHistory: an item's history shows what each change did, property by
// property, and restores an earlier state; a collection's trash brings back
// a deleted item; "undo all" puts back everything one client changed;
// a deleted calendar comes back from the trash. Another user reaches none
// of it.
func TestWebHistory(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ctx := t.Context()
		aliceU, _ := st.GetUser(ctx, "alice")
		cal, _ := st.GetCollection(ctx, aliceU.ID, store.KindCalendar, "personal")
		put := func(ua, name, body string) {
			t.Helper()
			resp := e.put("alice", alicePassword, personalCal+name, body, map[string]string{"User-Agent": ua})
			if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
				t.Fatalf("PUT %s by %s = %d", name, ua, resp.StatusCode)
			}
		}
		del := func(ua, name string) {
			t.Helper()
			if resp := e.do(request{method: "DELETE", path: personalCal + name, header: map[string]string{"User-Agent": ua}}); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("DELETE %s = %d", name, resp.StatusCode)
			}
		}
		body := func(name string) string {
			o, err := st.GetObject(ctx, cal.ID, name)
			if err != nil {
				return ""
			}
			return string(o.Body)
		}
		standup := historyEvent("a", "20260105T090000Z", "Standup")
		put("GoodCal/1.0", "a.ics", standup)
		put("GoodCal/1.0", "b.ics", historyEvent("b", "20260106T090000Z", "Lunch"))
		put("GoodCal/1.0", "d.ics", historyEvent("d", "20260107T090000Z", "Dentist"))
		put("BrokenSync/2.0", "a.ics", historyEvent("a", "20260105T100000Z", "Wrecked"))

		alice := e.browser(t)
		alice.signIn("alice", alicePassword)
		bob := e.browser(t)
		bob.signIn("bob", bobPassword)

		// The item's page: the change as old → new values, by the client
		// that made it.
		code, page, _ := alice.get("/web/c/calendars/personal/items/a.ics")
		if code != 200 {
			t.Fatalf("item history = %d\n%s", code, page)
		}
		for _, re := range []string{
			`(?s)Changed <span class="muted">[^<]* by BrokenSync/2.0</span>`,
			`(?s)Title <code class="prop">SUMMARY</code>.*?<td data-label="Before" class="old">Standup</td>\s*<td data-label="After" class="new">Wrecked</td>`,
			`(?s)Start <code class="prop">DTSTART</code>.*?class="old">2026-01-05 09:00 UTC</td>\s*<td data-label="After" class="new">2026-01-05 10:00 UTC</td>`,
		} {
			if !regexp.MustCompile(re).MatchString(page) {
				t.Errorf("item history lacks %s\n%s", re, page)
			}
		}
		if strings.Contains(page, "DTSTAMP") {
			t.Errorf("item history shows DTSTAMP, which every save rewrites")
		}
		vs, _ := st.ListVersions(ctx, aliceU.ID, store.HistoryFilter{CollectionID: cal.ID, Name: "a.ics"})
		if len(vs) != 2 || vs[0].Op != store.OpUpdate {
			t.Fatalf("versions of a.ics = %+v", vs)
		}
		restore := "/web/history/" + strconv.FormatInt(vs[0].ID, 10) + "/restore"
		if code, _, _ := bob.post(restore, url.Values{"back": {"/web/"}}); code != http.StatusNotFound {
			t.Errorf("bob restoring alice's version = %d, want 404", code)
		}
		if code, _, _ := alice.post(restore, url.Values{"csrf": {""}}); code != http.StatusForbidden {
			t.Errorf("restore without CSRF = %d, want 403", code)
		}
		if body("a.ics") == standup {
			t.Fatal("a.ics restored by a refused request")
		}
		alice.get("/web/c/calendars/personal/items/a.ics")
		code, _, h := alice.post(restore, url.Values{"back": {"/web/c/calendars/personal/items/a.ics"}})
		if code != http.StatusSeeOther || h.Get("Location") != "/web/c/calendars/personal/items/a.ics?done=restored" {
			t.Errorf("restore = %d %q", code, h.Get("Location"))
		}
		if body("a.ics") != standup {
			t.Errorf("a.ics after the restore:\n%s", body("a.ics"))
		}

		// The collection's trash.
		del("BrokenSync/2.0", "b.ics")
		_, page, _ = alice.get("/web/c/calendars/personal/history")
		m := regexp.MustCompile(`(?s)<table id="trash".*?<a class="nowrap" href="/web/c/calendars/personal/items/b.ics">b.ics</a>.*?action="(/web/history/\d+/restore)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("trash lacks b.ics\n%s", page)
		}
		if code, _, _ := alice.post(m[1], url.Values{"back": {"/web/c/calendars/personal/history"}}); code != http.StatusSeeOther || !strings.Contains(body("b.ics"), "SUMMARY:Lunch") {
			t.Errorf("restore from the trash = %d, b.ics = %q", code, body("b.ics"))
		}
		if _, page, _ = alice.get("/web/c/calendars/personal/history"); !strings.Contains(page, `id="trash-empty"`) {
			t.Errorf("b.ics still in the trash after its restore\n%s", page)
		}

		// Undo everything a client changed in the last hour.
		before := map[string]string{"a.ics": body("a.ics"), "b.ics": body("b.ics"), "c.ics": "", "d.ics": body("d.ics")}
		put("BrokenSync/2.0", "a.ics", historyEvent("a", "20260105T110000Z", "Wrecked again"))
		put("BrokenSync/2.0", "c.ics", historyEvent("c", "20260108T090000Z", "Junk"))
		del("BrokenSync/2.0", "d.ics")
		del("BrokenSync/2.0", "b.ics")
		_, page, _ = alice.get("/web/history")
		if !regexp.MustCompile(`(?s)<code>BrokenSync/2.0</code>.*?name="client" value="BrokenSync/2.0"`).MatchString(page) {
			t.Fatalf("history page lacks BrokenSync\n%s", page)
		}
		code, page, _ = alice.post("/web/history/revert", url.Values{"client": {"BrokenSync/2.0"}, "window": {"1h"}})
		if code != 200 || !strings.Contains(page, `<ul class="plain" id="reverted">`) {
			t.Errorf("revert = %d\n%s", code, page)
		}
		for name, want := range before {
			if got := body(name); got != want {
				t.Errorf("%s after undoing BrokenSync: %q, want %q", name, got, want)
			}
		}

		// A deleted calendar comes back with its items.
		put("GoodCal/1.0", "e.ics", historyEvent("e", "20260109T090000Z", "Keep me"))
		alice.get("/web/c/calendars/personal")
		if code, _, _ := alice.post("/web/c/calendars/personal/delete", url.Values{"confirm": {"yes"}}); code != http.StatusSeeOther {
			t.Fatalf("delete calendar = %d", code)
		}
		_, page, _ = alice.get("/web/history")
		m = regexp.MustCompile(`(?s)<table id="trashed".*?Calendar: Personal</td><td data-label="Items">(\d+)</td>.*?action="(/web/trash/\d+/restore)"`).FindStringSubmatch(page)
		if m == nil || m[1] != "4" {
			t.Fatalf("deleted calendars = %v\n%s", m, page)
		}
		if code, _, _ := bob.post(m[2], url.Values{}); code != http.StatusNotFound {
			t.Errorf("bob restoring alice's calendar = %d, want 404", code)
		}
		code, _, h = alice.post(m[2], url.Values{})
		if code != http.StatusSeeOther || h.Get("Location") != "/web/c/calendars/personal?done=restored-collection" {
			t.Errorf("restore calendar = %d %q", code, h.Get("Location"))
		}
		back, err := st.GetCollection(ctx, aliceU.ID, store.KindCalendar, "personal")
		if err != nil {
			t.Fatal(err)
		}
		if o, err := st.GetObject(ctx, back.ID, "e.ics"); err != nil || !strings.Contains(string(o.Body), "Keep me") {
			t.Errorf("e.ics in the restored calendar: %v", err)
		}
	})
}

// versionsDown is a real store whose GetVersion fails with a plain error
// while down is set: the store broke, nothing the user could resolve.
type versionsDown struct {
	store.Store
	down atomic.Bool
}

func (s *versionsDown) GetVersion(ctx context.Context, ownerID, id int64) (*store.Version, error) {
	if s.down.Load() {
		return nil, errors.New("test: disk on fire")
	}
	return s.Store.GetVersion(ctx, ownerID, id)
}

// TestWebRevertClientStoreFailure: an undo stopped by a failing store is a
// 500 (with the page and its explanation), not a 409 conflict.
func TestWebRevertClientStoreFailure(t *testing.T) {
	testdb.Each(t, func(t *testing.T, real store.Store) {
		st := &versionsDown{Store: real}
		e := newEnv(t, st)
		// GoodCal creates it, BrokenSync changes it: the undo reads the
		// version before BrokenSync's change.
		for _, c := range []struct{ ua, body string }{
			{"GoodCal/1.0", historyEvent("a", "20260105T090000Z", "Standup")},
			{"BrokenSync/2.0", historyEvent("a", "20260105T100000Z", "Wrecked")},
		} {
			resp := e.put("alice", alicePassword, personalCal+"a.ics", c.body, map[string]string{"User-Agent": c.ua})
			if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
				t.Fatalf("PUT = %d", resp.StatusCode)
			}
		}
		alice := e.browser(t)
		alice.signIn("alice", alicePassword)
		alice.get("/web/history")
		st.down.Store(true)
		code, page, _ := alice.post("/web/history/revert", url.Values{"client": {"BrokenSync/2.0"}, "window": {"1h"}})
		if code != http.StatusInternalServerError || !strings.Contains(page, "The undo stopped early") {
			t.Errorf("revert with a failing store = %d, want 500 with the explanation\n%s", code, page)
		}
	})
}
