package server_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestLocksBindWritesOutsideDAV: a WebDAV lock binds every writer, not
// only DAV requests (RFC 4918 §7). The web UI cannot submit a lock token:
// changing or deleting a locked calendar, or restoring a locked item, is
// 423 with a message saying why, and changes nothing; an import rejects
// the locked item (with the reason) and imports the rest. Once the lock
// is gone, the same changes go through.
func TestLocksBindWritesOutsideDAV(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.status("create", putEvent(lockItem, "a", nil), 201)
		e.status("change", putEvent(lockItem, "a", nil), 204)
		b := e.browser(t)
		b.signIn("alice", alicePassword)
		itemTok, _ := e.lock("", lockItem, "exclusive", "0", "", 200)

		// Restoring the locked item's previous version.
		alice, err := st.GetUser(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		vs, err := st.ListVersions(t.Context(), alice.ID, store.HistoryFilter{})
		if err != nil || len(vs) == 0 {
			t.Fatalf("versions: %d, %v", len(vs), err)
		}
		_, before, _ := e.get("", "", lockItem)
		b.get("/web/c/calendars/personal/items/a.ics")
		code, body, _ := b.post("/web/history/"+strconv.FormatInt(vs[0].ID, 10)+"/restore", url.Values{"back": {"/web/"}})
		if code != http.StatusLocked || !strings.Contains(body, "holds a lock") {
			t.Errorf("restore of a locked item = %d, want 423 with a reason\n%s", code, body)
		}
		if _, after, _ := e.get("", "", lockItem); after != before {
			t.Errorf("the locked item changed:\n%s\nwas\n%s", after, before)
		}
		// Undoing the client that made the change.
		b.get("/web/history")
		code, body, _ = b.post("/web/history/revert", url.Values{"client": {vs[0].Actor.UserAgent}, "window": {"1h"}})
		if code != http.StatusLocked || !strings.Contains(body, "holds a lock") {
			t.Errorf("undo of a client over a locked item = %d, want 423\n%s", code, body)
		}

		// An import: the locked item is rejected, the others go in.
		ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" +
			"BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nSUMMARY:Imported over a locked item\r\nEND:VEVENT\r\n" +
			"BEGIN:VEVENT\r\nUID:free\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nSUMMARY:Free\r\nEND:VEVENT\r\n" +
			"END:VCALENDAR\r\n"
		b.get("/web/import")
		code, body = b.upload(map[string]string{"target": "calendars/personal", "mode": "update"}, []byte(ics))
		if code != 200 || !strings.Contains(body, `id="created">1<`) || !strings.Contains(body, `id="rejected">1<`) || !strings.Contains(body, "lock") {
			t.Errorf("import over a locked item = %d, want 1 created and 1 rejected for the lock\n%s", code, body)
		}
		if _, after, _ := e.get("", "", lockItem); after != before {
			t.Errorf("the import changed the locked item:\n%s", after)
		}

		// The calendar itself, locked: neither edited nor deleted.
		e.status("UNLOCK", request{method: "UNLOCK", path: lockItem, header: map[string]string{"Lock-Token": "<" + itemTok + ">"}}, 204)
		calTok, _ := e.lock("", lockCal, "exclusive", "0", "", 200)
		b.get("/web/c/calendars/personal")
		code, body, _ = b.post("/web/c/calendars/personal/edit", url.Values{"displayname": {"Renamed"}})
		if code != http.StatusLocked || !strings.Contains(body, "holds a lock") {
			t.Errorf("edit of a locked calendar = %d, want 423\n%s", code, body)
		}
		code, body, _ = b.post("/web/c/calendars/personal/delete", url.Values{"confirm": {"yes"}})
		if code != http.StatusLocked || !strings.Contains(body, "holds a lock") {
			t.Errorf("delete of a locked calendar = %d, want 423\n%s", code, body)
		}
		e.status("still there", request{method: "GET", path: lockItem}, 200)
		// A lock on one member is enough to keep the calendar from going.
		e.status("UNLOCK", request{method: "UNLOCK", path: lockCal, header: map[string]string{"Lock-Token": "<" + calTok + ">"}}, 204)
		memberTok, _ := e.lock("", lockItem, "shared", "0", "", 200)
		code, _, _ = b.post("/web/c/calendars/personal/delete", url.Values{"confirm": {"yes"}})
		if code != http.StatusLocked {
			t.Errorf("delete of a calendar with a locked member = %d, want 423", code)
		}
		// Unlocked, the same changes go through.
		e.status("UNLOCK", request{method: "UNLOCK", path: lockItem, header: map[string]string{"Lock-Token": "<" + memberTok + ">"}}, 204)
		// A lock on the calendar home keeps new calendars out of it.
		homeTok, _ := e.lock("", "/dav/calendars/alice/", "exclusive", "0", "", 200)
		b.get("/web/")
		if code, body, _ = b.post("/web/collections", url.Values{"kind": {"calendar"}, "displayname": {"Work"}, "components": {"VEVENT"}}); code != http.StatusLocked {
			t.Errorf("a new calendar in a locked home = %d, want 423\n%s", code, body)
		}
		e.status("UNLOCK", request{method: "UNLOCK", path: "/dav/calendars/alice/", header: map[string]string{"Lock-Token": "<" + homeTok + ">"}}, 204)
		b.get("/web/c/calendars/personal")
		if code, body, _ = b.post("/web/c/calendars/personal/edit", url.Values{"displayname": {"Renamed"}}); code != http.StatusSeeOther {
			t.Errorf("edit once unlocked = %d\n%s", code, body)
		}
	})
}

// TestSchedulingHonoursLocks: a scheduling delivery does not write an
// attendee's copy that a WebDAV client has locked (it cannot submit the
// token); the iTIP message still reaches the attendee's inbox, and the
// organizer's request succeeds. Unlocked, the next delivery updates it.
func TestSchedulingHonoursLocks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st)
		const ev = "/dav/calendars/alice/personal/locked-plan.ics"
		bobCopy := "/dav/calendars/bob/personal/lock-1.ics"
		if resp := e.put("", "", ev, meeting("lock-1", "20260105T100000Z", "", "bob@example.org"), nil); resp.StatusCode != http.StatusCreated {
			t.Fatalf("organizer PUT: %d %s", resp.StatusCode, readBody(t, resp))
		}
		code, copyBody, _ := e.get("bob", bobPassword, bobCopy)
		if code != 200 {
			t.Fatalf("bob's copy: %d", code)
		}
		tok, _ := e.lock("bob", bobCopy, "exclusive", "0", "", 200)
		_, stored, _ := e.get("", "", ev)
		moved := strings.ReplaceAll(stored, "20260105T1", "20260107T1")
		if resp := e.put("", "", ev, moved, nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("reschedule: %d %s", resp.StatusCode, readBody(t, resp))
		}
		if _, got, _ := e.get("bob", bobPassword, bobCopy); got != copyBody {
			t.Errorf("the delivery changed bob's locked copy:\n%s", got)
		}
		if n := countContaining(e.inbox("bob"), "METHOD:REQUEST", "UID:lock-1", "20260107T1"); n != 1 {
			t.Errorf("bob's inbox holds %d rescheduled REQUESTs; want 1", n)
		}
		e.status("UNLOCK", request{method: "UNLOCK", path: bobCopy, user: "bob", password: bobPassword, header: map[string]string{"Lock-Token": "<" + tok + ">"}}, 204)
		_, stored, _ = e.get("", "", ev)
		moved = strings.ReplaceAll(stored, "20260107T1", "20260108T1")
		if resp := e.put("", "", ev, moved, nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("second reschedule: %d %s", resp.StatusCode, readBody(t, resp))
		}
		if _, got, _ := e.get("bob", bobPassword, bobCopy); !strings.Contains(got, "20260108T1") {
			t.Errorf("bob's copy once unlocked:\n%s", got)
		}
	})
}
