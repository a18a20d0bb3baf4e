package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/server"
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
		for _, r := range []request{{method: "DELETE", path: aliceInbox}, {method: "DELETE", path: aliceOutbox},
			{method: "MOVE", path: aliceInbox, header: map[string]string{"Destination": "/dav/inbox/alice/renamed/"}}} {
			if resp := e.do(r); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s: %d; want 403", r.method, r.path, resp.StatusCode)
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
	h, _ := strconv.Atoi(start[9:11])
	end := start[:9] + fmt.Sprintf("%02d", h+1) + start[11:]
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:" + start + "\r\nDTEND:" + end + "\r\nSUMMARY:Test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

// schedEnv is env with bob's and a third user's (carol's) email set, so
// that all three are reachable by mailto addresses.
func schedEnv(t *testing.T, st store.Store, opts ...func(*server.Config)) *env {
	t.Helper()
	e := newEnv(t, st, opts...)
	ctx := context.Background()
	bob, err := st.GetUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetEmail(ctx, bob.ID, "Bob@Example.org"); err != nil {
		t.Fatal(err)
	}
	hash, err := auth.HashPasswordParams(carolPassword, cheapParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, &store.User{Username: "carol", Email: "carol@example.org", PasswordHash: hash}, server.DefaultCollections()); err != nil {
		t.Fatal(err)
	}
	return e
}

const carolPassword = "carol's long password"

// meeting is an event organized by alice, shaped as Apple Calendar sends
// it (CN, CUTYPE, EMAIL, ROLE, RSVP parameters); attendees are "mailto:…"
// lines without the prefix.
func meeting(uid, start string, extra string, attendees ...string) string {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//macOS 15.1//EN\r\nCALSCALE:GREGORIAN\r\nBEGIN:VEVENT\r\n")
	b.WriteString("UID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\nSEQUENCE:0\r\nDTSTART:" + start + "\r\nDTEND:" + start[:9] + "11" + start[11:] + "\r\nSUMMARY:Planning\r\n" + extra)
	b.WriteString("ORGANIZER;CN=Alice;EMAIL=alice@example.org:mailto:alice@example.org\r\n")
	b.WriteString("ATTENDEE;CN=Alice;CUTYPE=INDIVIDUAL;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:alice@example.org\r\n")
	for _, a := range attendees {
		b.WriteString("ATTENDEE;CUTYPE=INDIVIDUAL;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:" + a + "\r\n")
	}
	b.WriteString("END:VEVENT\r\nEND:VCALENDAR\r\n")
	return b.String()
}

func (e *env) put(user, pw, path, body string, header map[string]string) *http.Response {
	e.t.Helper()
	h := map[string]string{"Content-Type": "text/calendar; charset=utf-8"}
	for k, v := range header {
		h[k] = v
	}
	return e.do(request{method: "PUT", path: path, body: body, user: user, password: pw, header: h})
}

func (e *env) get(user, pw, path string) (int, string, http.Header) {
	e.t.Helper()
	resp := e.do(request{method: "GET", path: path, user: user, password: pw})
	return resp.StatusCode, readBody(e.t, resp), resp.Header
}

// inbox returns the bodies of the items in user's inbox.
func (e *env) inbox(user string) []string {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.st.GetUser(ctx, user)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.st.GetCollection(ctx, u.ID, store.KindInbox, "inbox")
	if err != nil {
		e.t.Fatal(err)
	}
	objs, err := e.st.ListObjects(ctx, c.ID, store.ListObjectsOptions{WithBody: true})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		out = append(out, string(o.Body))
	}
	return out
}

func countContaining(list []string, subs ...string) int {
	n := 0
	for _, s := range list {
		all := true
		for _, sub := range subs {
			all = all && strings.Contains(s, sub)
		}
		if all {
			n++
		}
	}
	return n
}

// attendeeLine returns the unfolded ATTENDEE line of addr in body.
func attendeeLine(body, addr string) string {
	unfolded := strings.ReplaceAll(body, "\r\n ", "")
	for _, l := range strings.Split(unfolded, "\r\n") {
		if strings.HasPrefix(l, "ATTENDEE") && strings.HasSuffix(strings.ToLower(l), strings.ToLower(addr)) {
			return l
		}
	}
	return ""
}

// TestImplicitScheduling walks an invitation between local users (RFC 6638
// §3): invite, accept, decline by deleting, reschedule, cancel.
func TestImplicitScheduling(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st)
		const ev = "/dav/calendars/alice/personal/planning.ics"
		body := meeting("plan-1", "20260105T100000Z", "", "bob@example.org", "carol@example.org", "dave@elsewhere.example")
		resp := e.put("", "", ev, body, nil)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("organizer PUT: %d %s", resp.StatusCode, readBody(t, resp))
		}
		if resp.Header.Get("ETag") != "" {
			t.Errorf("PUT returned an ETag although SCHEDULE-STATUS changed the stored body")
		}
		tag := resp.Header.Get("Schedule-Tag")
		if tag == "" {
			t.Errorf("no Schedule-Tag on the organizer's PUT")
		}
		_, stored, _ := e.get("", "", ev)
		if l := attendeeLine(stored, "mailto:bob@example.org"); !strings.Contains(l, "SCHEDULE-STATUS=1.2") {
			t.Errorf("bob's ATTENDEE in the organizer's copy: %q", l)
		}
		if l := attendeeLine(stored, "mailto:dave@elsewhere.example"); !strings.Contains(l, "SCHEDULE-STATUS=5.1") {
			t.Errorf("the external attendee's ATTENDEE: %q", l)
		}
		// Bob's copy is in his default calendar, and a REQUEST in his inbox.
		bobCopy := "/dav/calendars/bob/personal/plan-1.ics"
		code, copyBody, hdr := e.get("bob", bobPassword, bobCopy)
		if code != 200 || !strings.Contains(copyBody, "UID:plan-1") || strings.Contains(copyBody, "SCHEDULE-STATUS") {
			t.Fatalf("bob's copy: %d\n%s", code, copyBody)
		}
		bobTag := hdr.Get("Schedule-Tag")
		if n := countContaining(e.inbox("bob"), "METHOD:REQUEST", "UID:plan-1"); n != 1 {
			t.Errorf("bob's inbox holds %d REQUESTs; want 1", n)
		}
		// Bob accepts, as his client does: If-Schedule-Tag-Match.
		accepted := strings.Replace(copyBody, "PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:bob@example.org", "PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:bob@example.org", 1)
		if accepted == copyBody {
			accepted = acceptFor(t, copyBody, "mailto:bob@example.org", "ACCEPTED")
		}
		resp = e.put("bob", bobPassword, bobCopy, accepted, map[string]string{"If-Schedule-Tag-Match": bobTag})
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("attendee PUT: %d %s", resp.StatusCode, readBody(t, resp))
		}
		_, stored, hdr = e.get("", "", ev)
		if l := attendeeLine(stored, "mailto:bob@example.org"); !strings.Contains(l, "PARTSTAT=ACCEPTED") {
			t.Errorf("organizer's copy after bob accepted: %q", l)
		}
		if got := hdr.Get("Schedule-Tag"); got != tag {
			t.Errorf("a reply changed the organizer's Schedule-Tag: %s → %s", tag, got)
		}
		if n := countContaining(e.inbox("alice"), "METHOD:REPLY", "PARTSTAT=ACCEPTED"); n != 1 {
			t.Errorf("alice's inbox holds %d accepting REPLYs; want 1", n)
		}
		// A stale Schedule-Tag is refused.
		resp = e.put("bob", bobPassword, bobCopy, accepted, map[string]string{"If-Schedule-Tag-Match": `"st-stale"`})
		if resp.StatusCode != http.StatusPreconditionFailed {
			t.Errorf("PUT with a stale If-Schedule-Tag-Match: %d; want 412", resp.StatusCode)
		}
		// Carol declines by deleting her copy.
		resp = e.do(request{method: "DELETE", path: "/dav/calendars/carol/personal/plan-1.ics", user: "carol", password: carolPassword})
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("carol's DELETE: %d", resp.StatusCode)
		}
		_, stored, _ = e.get("", "", ev)
		if l := attendeeLine(stored, "mailto:carol@example.org"); !strings.Contains(l, "PARTSTAT=DECLINED") {
			t.Errorf("organizer's copy after carol deleted hers: %q", l)
		}
		// Alice reschedules: bob's copy moves.
		moved := strings.ReplaceAll(stored, "20260105T1", "20260106T1")
		resp = e.put("", "", ev, moved, nil)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("reschedule: %d %s", resp.StatusCode, readBody(t, resp))
		}
		if _, b, _ := e.get("bob", bobPassword, bobCopy); !strings.Contains(b, "DTSTART:20260106T100000Z") {
			t.Errorf("bob's copy after the reschedule:\n%s", b)
		}
		// Alice cancels.
		resp = e.do(request{method: "DELETE", path: ev})
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("organizer DELETE: %d", resp.StatusCode)
		}
		if _, b, _ := e.get("bob", bobPassword, bobCopy); !strings.Contains(b, "STATUS:CANCELLED") {
			t.Errorf("bob's copy after the cancel:\n%s", b)
		}
		if n := countContaining(e.inbox("bob"), "METHOD:CANCEL", "UID:plan-1"); n != 1 {
			t.Errorf("bob's inbox holds %d CANCELs; want 1", n)
		}
	})
}

// acceptFor rewrites addr's PARTSTAT in body whatever its parameter order.
func acceptFor(t *testing.T, body, addr, partstat string) string {
	t.Helper()
	unfolded := strings.ReplaceAll(body, "\r\n ", "")
	lines := strings.Split(unfolded, "\r\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "ATTENDEE") && strings.HasSuffix(strings.ToLower(l), addr) {
			for _, ps := range []string{"NEEDS-ACTION", "ACCEPTED", "DECLINED", "TENTATIVE"} {
				l = strings.Replace(l, "PARTSTAT="+ps, "PARTSTAT="+partstat, 1)
			}
			lines[i] = l
		}
	}
	return strings.Join(lines, "\r\n")
}

// TestSchedulingRefusals: a forged organizer, too many attendees and
// SCHEDULE-AGENT=CLIENT.
func TestSchedulingRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st)
		forged := meeting("forged", "20260105T100000Z", "", "carol@example.org")
		resp := e.put("bob", bobPassword, "/dav/calendars/bob/personal/forged.ics", forged, nil)
		if b := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(b, "organizer-allowed") {
			t.Errorf("bob PUT as organizer alice: %d %s", resp.StatusCode, b)
		}
		if n := len(e.inbox("carol")); n != 0 {
			t.Errorf("a forged invitation reached carol's inbox (%d items)", n)
		}
		var many strings.Builder
		for i := range 10000 {
			many.WriteString("ATTENDEE:mailto:a" + strconv.Itoa(i) + "@x.net\r\n")
		}
		resp = e.put("", "", "/dav/calendars/alice/personal/many.ics", meeting("many", "20260105T100000Z", many.String()), nil)
		if b := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(b, "max-attendees-per-instance") {
			t.Errorf("10,000 attendees: %d %s", resp.StatusCode, b)
		}
		if code, _, _ := e.get("", "", "/dav/calendars/alice/personal/many.ics"); code != http.StatusNotFound {
			t.Errorf("the refused event was stored: GET %d", code)
		}
		client := strings.Replace(meeting("client", "20260105T100000Z", "", "bob@example.org"), "RSVP=TRUE:mailto:bob", "RSVP=TRUE;SCHEDULE-AGENT=CLIENT:mailto:bob", 1)
		if resp := e.put("", "", "/dav/calendars/alice/personal/client.ics", client, nil); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT with SCHEDULE-AGENT=CLIENT: %d", resp.StatusCode)
		}
		if code, _, _ := e.get("bob", bobPassword, "/dav/calendars/bob/personal/client.ics"); code != http.StatusNotFound {
			t.Errorf("SCHEDULE-AGENT=CLIENT attendee got a copy: GET %d", code)
		}
	})
}

// TestPerInstanceReply: an attendee answers one instance of a weekly
// meeting; the organizer's copy gains an override with that answer.
func TestPerInstanceReply(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st)
		ev := "/dav/calendars/alice/personal/weekly.ics"
		if resp := e.put("", "", ev, meeting("weekly", "20260105T100000Z", "RRULE:FREQ=WEEKLY;COUNT=10\r\n", "bob@example.org"), nil); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
		bobCopy := "/dav/calendars/bob/personal/weekly.ics"
		_, b, _ := e.get("bob", bobPassword, bobCopy)
		// Thunderbird's shape: an override appended after the master.
		ov := "BEGIN:VEVENT\r\nUID:weekly\r\nRECURRENCE-ID:20260112T100000Z\r\nDTSTAMP:20260102T000000Z\r\nDTSTART:20260112T100000Z\r\nDTEND:20260112T110000Z\r\nSUMMARY:Planning\r\n" +
			"ORGANIZER;CN=Alice:mailto:alice@example.org\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org\r\nATTENDEE;PARTSTAT=TENTATIVE:mailto:bob@example.org\r\nEND:VEVENT\r\n"
		b = strings.Replace(b, "END:VCALENDAR", strings.TrimSuffix(ov, "")+"END:VCALENDAR", 1)
		if resp := e.put("bob", bobPassword, bobCopy, b, nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("bob's per-instance answer: %d %s", resp.StatusCode, readBody(t, resp))
		}
		_, org, _ := e.get("", "", ev)
		unfolded := strings.ReplaceAll(org, "\r\n ", "")
		var master, rest string
		for _, block := range strings.Split(unfolded, "BEGIN:VEVENT")[1:] {
			if strings.Contains(block, "RECURRENCE-ID:20260112T100000Z") {
				rest = block
			} else {
				master = block
			}
		}
		if rest == "" {
			t.Fatalf("no override in the organizer's copy:\n%s", org)
		}
		if l := attendeeLine(rest, "mailto:bob@example.org"); !strings.Contains(l, "PARTSTAT=TENTATIVE") {
			t.Errorf("bob's answer in the override: %q\n%s", l, org)
		}
		if l := attendeeLine(master, "mailto:bob@example.org"); strings.Contains(l, "TENTATIVE") {
			t.Errorf("the master took the per-instance answer: %q", l)
		}
	})
}

// TestScheduleTagProperty: CALDAV:schedule-tag is listed beside getetag
// and equals the Schedule-Tag header.
func TestScheduleTagProperty(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st)
		resp := e.put("", "", "/dav/calendars/alice/personal/tagged.ics", meeting("tagged", "20260105T100000Z", "", "bob@example.org"), nil)
		tag := resp.Header.Get("Schedule-Tag")
		_, body := schedPropfind(e, "", "", "/dav/calendars/alice/personal/", "1", `<D:getetag/><C:schedule-tag/>`)
		if tag == "" || !strings.Contains(body, "<C:schedule-tag>"+strings.ReplaceAll(tag, `"`, "&#34;")+"</C:schedule-tag>") && !strings.Contains(body, tag) {
			t.Errorf("schedule-tag %s not listed:\n%s", tag, body)
		}
	})
}

// TestFreeBusyLookup: alice asks the outbox for the busy time of bob,
// carol (with her availability, RFC 7953), an unknown local address and an
// address elsewhere (RFC 6638 §5), as Thunderbird sends it.
func TestFreeBusyLookup(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st)
		put := func(user, pw, path, body string) {
			t.Helper()
			if resp := e.put(user, pw, path, body, nil); resp.StatusCode != http.StatusCreated {
				t.Fatalf("PUT %s: %d %s", path, resp.StatusCode, readBody(t, resp))
			}
		}
		ev := func(uid, start, extra string) string {
			return strings.Replace(testEvent(uid, start), "SUMMARY:Test\r\n", "SUMMARY:Secret "+uid+"\r\n"+extra, 1)
		}
		put("bob", bobPassword, "/dav/calendars/bob/personal/busy.ics", ev("busy", "20260105T090000Z", ""))
		put("bob", bobPassword, "/dav/calendars/bob/personal/tent.ics", ev("tent", "20260105T130000Z", "STATUS:TENTATIVE\r\n"))
		put("bob", bobPassword, "/dav/calendars/bob/personal/gone.ics", ev("gone", "20260105T150000Z", "STATUS:CANCELLED\r\n"))
		put("bob", bobPassword, "/dav/calendars/bob/personal/free.ics", ev("free", "20260105T160000Z", "TRANSP:TRANSPARENT\r\n"))
		put("carol", carolPassword, "/dav/calendars/carol/personal/c1.ics", ev("c1", "20260105T100000Z", ""))
		// A calendar carol marked transparent does not count.
		if resp := e.do(request{method: "MKCALENDAR", path: "/dav/calendars/carol/holidays/", user: "carol", password: carolPassword}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("MKCALENDAR: %d", resp.StatusCode)
		}
		resp := e.do(request{method: "PROPPATCH", path: "/dav/calendars/carol/holidays/", user: "carol", password: carolPassword,
			body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:schedule-calendar-transp><C:transparent/></C:schedule-calendar-transp></D:prop></D:set></D:propertyupdate>`})
		readBody(t, resp)
		put("carol", carolPassword, "/dav/calendars/carol/holidays/h.ics", ev("h", "20260105T140000Z", ""))
		// Carol works 09:00 to 17:00 UTC on weekdays (RFC 7953), published on
		// her inbox as Apple Calendar does.
		vav := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//macOS 15.1//EN\r\nBEGIN:VAVAILABILITY\r\nUID:av-1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T000000Z\r\n" +
			"BEGIN:AVAILABLE\r\nUID:av-1-a\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T090000Z\r\nDTEND:20260105T170000Z\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\nEND:AVAILABLE\r\nEND:VAVAILABILITY\r\nEND:VCALENDAR\r\n"
		resp = e.do(request{method: "PROPPATCH", path: "/dav/inbox/carol/inbox/", user: "carol", password: carolPassword,
			body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:calendar-availability>` + vav + `</C:calendar-availability></D:prop></D:set></D:propertyupdate>`})
		if b := readBody(t, resp); resp.StatusCode != 207 || !strings.Contains(b, "200 OK") {
			t.Fatalf("PROPPATCH calendar-availability: %d %s", resp.StatusCode, b)
		}

		req := "BEGIN:VCALENDAR\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\n" +
			"DTSTAMP:20260101T000000Z\r\nORGANIZER:mailto:alice@example.org\r\nDTSTART:20260105T000000Z\r\nDTEND:20260106T000000Z\r\nUID:fb-1\r\n" +
			"ATTENDEE;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;CUTYPE=INDIVIDUAL:mailto:bob@example.org\r\n" +
			"ATTENDEE;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;CUTYPE=INDIVIDUAL:mailto:carol@example.org\r\n" +
			"ATTENDEE;CUTYPE=INDIVIDUAL:/dav/principals/nobody/\r\n" +
			"ATTENDEE;CUTYPE=INDIVIDUAL:mailto:zed@elsewhere.example\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n"
		resp = e.do(request{method: "POST", path: aliceOutbox, body: req, header: map[string]string{"Content-Type": "text/calendar; charset=utf-8"}})
		body := readBody(t, resp)
		if resp.StatusCode != 200 || !strings.Contains(body, "schedule-response") {
			t.Fatalf("free-busy POST: %d\n%s", resp.StatusCode, body)
		}
		parts := strings.Split(body, "<C:response>")
		if len(parts) != 5 {
			t.Fatalf("%d responses; want 4:\n%s", len(parts)-1, body)
		}
		bob, carol, nobody, zed := parts[1], parts[2], parts[3], parts[4]
		for _, want := range []string{"2.0;Success", "METHOD:REPLY", "FREEBUSY:20260105T090000Z/20260105T100000Z", "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260105T130000Z/20260105T140000Z", "UID:fb-1"} {
			if !strings.Contains(bob, want) {
				t.Errorf("bob's answer lacks %q:\n%s", want, bob)
			}
		}
		for _, not := range []string{"150000Z", "160000Z", "Secret"} {
			if strings.Contains(bob, not) {
				t.Errorf("bob's answer shows %q (cancelled, transparent or private):\n%s", not, bob)
			}
		}
		for _, want := range []string{"FREEBUSY:20260105T100000Z/20260105T110000Z",
			"FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260105T000000Z/20260105T090000Z",
			"FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260105T170000Z/20260106T000000Z"} {
			if !strings.Contains(carol, want) {
				t.Errorf("carol's answer lacks %q:\n%s", want, carol)
			}
		}
		if strings.Contains(carol, "140000Z/") {
			t.Errorf("carol's transparent calendar counted:\n%s", carol)
		}
		if !strings.Contains(nobody, "3.7") || !strings.Contains(zed, "5.3") {
			t.Errorf("unknown and external recipients:\n%s\n%s", nobody, zed)
		}
		// Asking as somebody else is refused.
		forged := strings.Replace(req, "ORGANIZER:mailto:alice@example.org", "ORGANIZER:mailto:bob@example.org", 1)
		resp = e.do(request{method: "POST", path: aliceOutbox, body: forged, header: map[string]string{"Content-Type": "text/calendar"}})
		if b := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(b, "organizer-allowed") {
			t.Errorf("forged free-busy POST: %d %s", resp.StatusCode, b)
		}
		// A calendar takes CalendarServer sharing's XML POST only.
		resp = e.do(request{method: "POST", path: "/dav/calendars/alice/personal/", body: req})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST of a free-busy request to a calendar: %d; want 400", resp.StatusCode)
		}
	})
}

// TestSchedulingNoLoopNoHijack: server-side deliveries never schedule
// again (an accepted invitation leaves one REQUEST and one REPLY however
// the copies are rewritten), repeating an organizer's PUT sends nothing
// new, and nobody can overwrite another's event by inviting them with its
// UID.
func TestSchedulingNoLoopNoHijack(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st)
		ev := "/dav/calendars/alice/personal/loop.ics"
		body := meeting("loop", "20260105T100000Z", "", "bob@example.org")
		if resp := e.put("", "", ev, body, nil); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
		_, stored, _ := e.get("", "", ev)
		if resp := e.put("", "", ev, stored, nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("repeated PUT: %d", resp.StatusCode)
		}
		bobCopy := "/dav/calendars/bob/personal/loop.ics"
		_, b, _ := e.get("bob", bobPassword, bobCopy)
		e.put("bob", bobPassword, bobCopy, acceptFor(t, b, "mailto:bob@example.org", "TENTATIVE"), nil)
		_, b, _ = e.get("bob", bobPassword, bobCopy)
		e.put("bob", bobPassword, bobCopy, b, nil) // unchanged: no second REPLY
		if n := countContaining(e.inbox("bob"), "METHOD:REQUEST"); n != 1 {
			t.Errorf("bob's inbox holds %d REQUESTs; want 1", n)
		}
		if n := countContaining(e.inbox("alice"), "METHOD:REPLY", "PARTSTAT=TENTATIVE"); n != 1 {
			t.Errorf("alice's inbox holds %d tentative REPLYs; want 1", n)
		}
		_, orgCopy, _ := e.get("", "", ev)
		if l := attendeeLine(orgCopy, "mailto:bob@example.org"); !strings.Contains(l, "PARTSTAT=TENTATIVE") {
			t.Errorf("organizer's copy after bob's tentative answer: %q", l)
		}
		// Bob organizes an event with alice's UID and invites her: her
		// own event is not replaced.
		hijack := strings.ReplaceAll(meeting("loop", "20260301T100000Z", "", "alice@example.org"), "alice@example.org:mailto:alice@example.org\r\nATTENDEE;CN=Alice", "bob@example.org:mailto:bob@example.org\r\nATTENDEE;CN=Bob")
		hijack = strings.Replace(hijack, "ORGANIZER;CN=Alice;EMAIL=", "ORGANIZER;CN=Bob;EMAIL=", 1)
		hijack = strings.Replace(hijack, "ROLE=CHAIR:mailto:alice@example.org", "ROLE=CHAIR:mailto:bob@example.org", 1)
		if resp := e.do(request{method: "MKCALENDAR", path: "/dav/calendars/bob/work/", user: "bob", password: bobPassword}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("MKCALENDAR: %d", resp.StatusCode)
		}
		if resp := e.put("bob", bobPassword, "/dav/calendars/bob/work/other.ics", hijack, nil); resp.StatusCode != http.StatusCreated {
			t.Fatalf("bob's PUT: %d %s", resp.StatusCode, readBody(t, resp))
		}
		if _, now, _ := e.get("", "", ev); now != orgCopy {
			t.Errorf("alice's event changed after bob invited her with its UID:\n%s", now)
		}
	})
}
