package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestDelegateInboxOutbox: bob's delegates reach his scheduling inbox and
// outbox as CalendarServer's calendar proxies do, which is what Apple
// Calendar's delegation shows (the manager's invitations in the
// delegate's notifications, answered for the manager): dana, his write
// delegate, lists and reads the invitation alice sent him, accepts it for
// him in his calendar (the REPLY reaches alice's copy), removes the
// handled inbox item, and asks for free-busy time from his outbox as him,
// never as somebody else; eve, his read delegate, lists and reads the
// inbox but neither removes an item nor sends; carol, no delegate of his,
// reaches neither.
func TestDelegateInboxOutbox(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st)
		e.addUser("dana", "dana@example.org")
		e.addUser("eve", "eve@example.org")
		e.status("PROPPATCH write proxy", as("bob", "PROPPATCH", bobWriteProxy, proxyMembers("/dav/principals/dana/"), nil), http.StatusMultiStatus)
		e.status("PROPPATCH read proxy", as("bob", "PROPPATCH", bobReadProxy, proxyMembers("/dav/principals/eve/"), nil), http.StatusMultiStatus)

		const ev = "/dav/calendars/alice/personal/review.ics"
		if resp := e.put("", "", ev, meeting("review-1", "20260105T100000Z", "", "bob@example.org"), nil); resp.StatusCode != http.StatusCreated {
			t.Fatalf("alice invites bob: %d %s", resp.StatusCode, readBody(t, resp))
		}
		const inbox, outbox = "/dav/inbox/bob/inbox/", "/dav/outbox/bob/outbox/"
		depth1 := map[string]string{"Depth": "1"}
		var item string
		for _, who := range []string{"dana", "eve"} {
			body := e.status(who+" lists bob's inbox", as(who, "PROPFIND", inbox, "", depth1), http.StatusMultiStatus)
			var items []string
			for _, h := range hrefs(body) {
				if h != inbox {
					items = append(items, h)
				}
			}
			if len(items) != 1 {
				t.Fatalf("%s sees %d items in bob's inbox, want the invitation: %v", who, len(items), items)
			}
			item = items[0]
			if got := e.status(who+" reads the invitation", as(who, "GET", item, "", nil), http.StatusOK); !strings.Contains(got, "METHOD:REQUEST") || !strings.Contains(got, "UID:review-1") {
				t.Errorf("%s reads the invitation as:\n%s", who, got)
			}
		}
		e.status("carol lists bob's inbox", request{method: "PROPFIND", path: inbox, header: depth1, user: "carol", password: carolPassword}, http.StatusForbidden)
		e.status("eve removes the invitation", as("eve", "DELETE", item, "", nil), http.StatusForbidden)

		// Dana accepts for bob in his calendar: the reply reaches alice.
		ctx := context.Background()
		bob, err := st.GetUser(ctx, "bob")
		if err != nil {
			t.Fatal(err)
		}
		cal, err := st.GetCollection(ctx, bob.ID, store.KindCalendar, "personal")
		if err != nil {
			t.Fatal(err)
		}
		objs, err := st.ListObjects(ctx, cal.ID, store.ListObjectsOptions{WithBody: true})
		if err != nil || len(objs) != 1 {
			t.Fatalf("bob's calendar: %d objects, %v; want the invitation's copy", len(objs), err)
		}
		copyHref := bobPersonal + objs[0].Name
		accepted := strings.Replace(string(objs[0].Body), "PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED", 1)
		if resp := e.put("dana", alicePassword, copyHref, accepted, nil); resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusCreated {
			t.Fatalf("dana accepts for bob: %d %s", resp.StatusCode, readBody(t, resp))
		}
		if l := attendeeLine(e.status("alice GET", as("alice", "GET", ev, "", nil), http.StatusOK), "bob@example.org"); !strings.Contains(l, "PARTSTAT=ACCEPTED") {
			t.Errorf("bob's ATTENDEE in alice's copy after dana accepted for him: %q", l)
		}
		e.status("dana removes the handled invitation", as("dana", "DELETE", item, "", nil), http.StatusNoContent)

		fb := func(organizer string) string {
			return "BEGIN:VCALENDAR\r\nPRODID:-//Apple Inc.//iOS 18.1//EN\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\n" +
				"DTSTAMP:20260101T000000Z\r\nORGANIZER:" + organizer + "\r\nDTSTART:20260105T000000Z\r\nDTEND:20260106T000000Z\r\nUID:fb-d\r\n" +
				"ATTENDEE:mailto:alice@example.org\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n"
		}
		ct := map[string]string{"Content-Type": "text/calendar; charset=utf-8"}
		got := e.status("dana asks free-busy as bob", as("dana", "POST", outbox, fb("mailto:bob@example.org"), ct), http.StatusOK)
		if !strings.Contains(got, "2.0;Success") || !strings.Contains(got, "FREEBUSY:20260105T100000Z/20260105T110000Z") {
			t.Errorf("dana's free-busy request for bob:\n%s", got)
		}
		e.status("dana asks free-busy as herself from bob's outbox", as("dana", "POST", outbox, fb("mailto:dana@example.org"), ct), http.StatusForbidden)
		e.status("eve asks free-busy as bob", as("eve", "POST", outbox, fb("mailto:bob@example.org"), ct), http.StatusForbidden)
		e.status("carol asks free-busy as bob", request{method: "POST", path: outbox, body: fb("mailto:bob@example.org"), header: ct, user: "carol", password: carolPassword}, http.StatusForbidden)
	})
}
