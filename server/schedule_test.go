package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// Tests of CalDAV scheduling (RFC 6638) over the full stack, on both stores.

const (
	aliceInbox  = "/dav/inbox/alice/inbox/"
	aliceOutbox = "/dav/outbox/alice/outbox/"
	bobInbox    = "/dav/inbox/bob/inbox/"
)

func schedPropfind(e *env, user, pw, path, depth, props string) (int, string) {
	e.t.Helper()
	resp := e.do(request{method: "PROPFIND", path: path, user: user, password: pw, header: map[string]string{"Depth": depth},
		body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>` + props + `</D:prop></D:propfind>`})
	return resp.StatusCode, readBody(e.t, resp)
}

// TestSchedulingCollections: the principal names its inbox and outbox and
// addresses (RFC 6638 §2.4), the collections answer with their resource
// types, clients cannot write into them, OPTIONS advertises
// calendar-auto-schedule, calendars carry schedule-calendar-transp.
func TestSchedulingCollections(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		resp := e.do(request{method: "OPTIONS", path: "/dav/"})
		if dav := resp.Header.Get("DAV"); !strings.Contains(dav, "calendar-auto-schedule") {
			t.Errorf("DAV header %q lacks calendar-auto-schedule", dav)
		}
		code, body := schedPropfind(e, "", "", "/dav/principals/alice/", "0",
			`<C:schedule-inbox-URL/><C:schedule-outbox-URL/><C:calendar-user-address-set/><C:calendar-user-type/><C:schedule-default-calendar-URL/>`)
		for _, want := range []string{aliceInbox, aliceOutbox, "mailto:alice@example.org", "<D:href>/dav/principals/alice/</D:href>",
			"INDIVIDUAL", "/dav/calendars/alice/personal/"} {
			if code != 207 || !strings.Contains(body, want) {
				t.Errorf("principal PROPFIND %d lacks %q:\n%s", code, want, body)
			}
		}
		code, body = schedPropfind(e, "", "", aliceInbox, "0", `<D:resourcetype/><C:schedule-default-calendar-URL/><D:sync-token/>`)
		if code != 207 || !strings.Contains(body, "schedule-inbox") || !strings.Contains(body, "/dav/calendars/alice/personal/") || !strings.Contains(body, "sync-token>http") {
			t.Errorf("inbox PROPFIND %d:\n%s", code, body)
		}
		code, body = schedPropfind(e, "", "", aliceOutbox, "0", `<D:resourcetype/>`)
		if code != 207 || !strings.Contains(body, "schedule-outbox") {
			t.Errorf("outbox PROPFIND %d:\n%s", code, body)
		}
		// Another user's inbox is not alice's to read.
		if code, _ := schedPropfind(e, "", "", bobInbox, "0", `<D:resourcetype/>`); code != http.StatusForbidden {
			t.Errorf("PROPFIND of bob's inbox as alice: %d; want 403", code)
		}
		for _, path := range []string{aliceInbox + "x.ics", aliceOutbox + "x.ics"} {
			resp := e.do(request{method: "PUT", path: path, body: testEvent("x", "20260105T100000Z"), header: map[string]string{"Content-Type": "text/calendar"}})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("PUT %s: %d; want 403", path, resp.StatusCode)
			}
		}
		resp = e.do(request{method: "MKCALENDAR", path: "/dav/inbox/alice/second/"})
		if resp.StatusCode < 400 {
			t.Errorf("MKCALENDAR in the inbox home: %d; want a refusal", resp.StatusCode)
		}
		// schedule-calendar-transp: opaque by default, settable.
		cal := "/dav/calendars/alice/personal/"
		if _, body := schedPropfind(e, "", "", cal, "0", `<C:schedule-calendar-transp/>`); !strings.Contains(body, "opaque") {
			t.Errorf("default schedule-calendar-transp:\n%s", body)
		}
		resp = e.do(request{method: "PROPPATCH", path: cal, body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:schedule-calendar-transp><C:transparent/></C:schedule-calendar-transp></D:prop></D:set></D:propertyupdate>`})
		if b := readBody(t, resp); resp.StatusCode != 207 || !strings.Contains(b, "200 OK") {
			t.Errorf("PROPPATCH schedule-calendar-transp: %d\n%s", resp.StatusCode, b)
		}
		if _, body := schedPropfind(e, "", "", cal, "0", `<C:schedule-calendar-transp/>`); !strings.Contains(body, "transparent") || strings.Contains(body, "opaque") {
			t.Errorf("schedule-calendar-transp after PROPPATCH:\n%s", body)
		}
		resp = e.do(request{method: "PROPPATCH", path: cal, body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:schedule-calendar-transp>maybe</C:schedule-calendar-transp></D:prop></D:set></D:propertyupdate>`})
		if b := readBody(t, resp); !strings.Contains(b, "409") {
			t.Errorf("PROPPATCH of a bad schedule-calendar-transp: %d\n%s", resp.StatusCode, b)
		}
	})
}

// TestInboxItems: the owner lists, reads, syncs and deletes what the server
// delivered into the inbox.
func TestInboxItems(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		u, err := st.GetUser(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		inbox, err := st.GetCollection(ctx, u.ID, store.KindInbox, "inbox")
		if err != nil {
			t.Fatal(err)
		}
		body := strings.Replace(testEvent("m1", "20260105T100000Z"), "BEGIN:VEVENT", "METHOD:REQUEST\r\nBEGIN:VEVENT", 1)
		o := &store.Object{CollectionID: inbox.ID, Name: "m1.ics", UID: "m1", ETag: "e1", Component: "VEVENT", ContentType: "text/calendar; charset=utf-8", Body: []byte(body)}
		if _, err := st.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		code, list := schedPropfind(e, "", "", aliceInbox, "1", `<D:getetag/>`)
		if code != 207 || !strings.Contains(list, aliceInbox+"m1.ics") {
			t.Errorf("inbox listing %d:\n%s", code, list)
		}
		resp := e.do(request{method: "GET", path: aliceInbox + "m1.ics"})
		if got := readBody(t, resp); resp.StatusCode != 200 || got != body {
			t.Errorf("GET inbox item: %d %q", resp.StatusCode, got)
		}
		resp = e.do(request{method: "REPORT", path: aliceInbox, header: map[string]string{"Depth": "1"},
			body: `<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`})
		syncBody := readBody(t, resp)
		if resp.StatusCode != 207 || !strings.Contains(syncBody, "m1.ics") {
			t.Fatalf("sync-collection on the inbox: %d\n%s", resp.StatusCode, syncBody)
		}
		resp = e.do(request{method: "REPORT", path: aliceInbox, header: map[string]string{"Depth": "1"},
			body: `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`})
		if b := readBody(t, resp); resp.StatusCode != 207 || !strings.Contains(b, "METHOD:REQUEST") {
			t.Errorf("calendar-query on the inbox: %d\n%s", resp.StatusCode, b)
		}
		resp = e.do(request{method: "DELETE", path: aliceInbox + "m1.ics"})
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("DELETE inbox item: %d", resp.StatusCode)
		}
		if _, list := schedPropfind(e, "", "", aliceInbox, "1", `<D:getetag/>`); strings.Contains(list, "m1.ics") {
			t.Errorf("inbox still lists the deleted item:\n%s", list)
		}
	})
}

// testEvent is a one-hour event starting at start (UTC basic format).
func testEvent(uid, start string) string {
	end := start[:9] + "11" + start[11:]
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:" + start + "\r\nDTEND:" + end + "\r\nSUMMARY:Test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}
