package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestFreeBusyGrants: bob stops letting everyone see his busy time; alice's
// free-busy request then gets 3.8 No authority for him, and nothing of his
// calendars, until bob grants her free-busy; with that grant alice gets his
// busy time, by the outbox and by free-busy-query on his calendar, and
// still cannot read his events.
func TestFreeBusyGrants(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st)
		ctx := context.Background()
		bob, _ := st.GetUser(ctx, "bob")
		alice, _ := st.GetUser(ctx, "alice")
		if resp := e.put("bob", bobPassword, bobPersonal+"busy.ics", strings.Replace(testEvent("busy", "20260105T090000Z"), "SUMMARY:Test", "SUMMARY:Secret", 1), nil); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
		req := "BEGIN:VCALENDAR\r\nPRODID:-//test//EN\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\n" +
			"DTSTAMP:20260101T000000Z\r\nORGANIZER:mailto:alice@example.org\r\nDTSTART:20260105T000000Z\r\nDTEND:20260106T000000Z\r\nUID:fb-2\r\n" +
			"ATTENDEE:mailto:bob@example.org\r\nATTENDEE:mailto:carol@example.org\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n"
		lookup := func() (bobPart, carolPart string) {
			t.Helper()
			resp := e.do(request{method: "POST", path: aliceOutbox, body: req, header: map[string]string{"Content-Type": "text/calendar"}})
			body := readBody(t, resp)
			parts := strings.Split(body, "<C:response>")
			if resp.StatusCode != 200 || len(parts) != 3 {
				t.Fatalf("free-busy POST: %d\n%s", resp.StatusCode, body)
			}
			return parts[1], parts[2]
		}
		fbq := `<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20260105T000000Z" end="20260106T000000Z"/></C:free-busy-query>`

		// The default: everyone on the server sees everyone's busy time.
		if b, _ := lookup(); !strings.Contains(b, "2.0;Success") || !strings.Contains(b, "20260105T090000Z/20260105T100000Z") {
			t.Fatalf("default lookup of bob:\n%s", b)
		}
		if err := st.SetFreeBusyEveryone(ctx, bob.ID, false); err != nil {
			t.Fatal(err)
		}
		b, c := lookup()
		if !strings.Contains(b, "<C:request-status>3.8;No authority</C:request-status>") || strings.Contains(b, "calendar-data") {
			t.Errorf("lookup of bob, who restricted his free-busy:\n%s", b)
		}
		if !strings.Contains(c, "2.0;Success") {
			t.Errorf("carol's answer changed with bob's setting:\n%s", c)
		}
		if r := e.do(request{method: "REPORT", path: bobPersonal, body: fbq}); r.StatusCode != 403 {
			t.Errorf("free-busy-query without a grant: %d", r.StatusCode)
		}

		if err := st.PutGrant(ctx, &store.Grant{OwnerID: bob.ID, UserID: alice.ID, Access: store.GrantFreeBusy}); err != nil {
			t.Fatal(err)
		}
		if b, _ := lookup(); !strings.Contains(b, "2.0;Success") || !strings.Contains(b, "20260105T090000Z/20260105T100000Z") || strings.Contains(b, "Secret") {
			t.Errorf("lookup of bob with a free-busy grant:\n%s", b)
		}
		resp := e.do(request{method: "REPORT", path: bobPersonal, body: fbq})
		if body := readBody(t, resp); resp.StatusCode != 200 || !strings.Contains(body, "FREEBUSY:20260105T090000Z/20260105T100000Z") || strings.Contains(body, "Secret") {
			t.Errorf("free-busy-query with a grant: %d\n%s", resp.StatusCode, body)
		}
		// Busy time only: every other way in is the answer of no access.
		for _, r := range []request{
			{method: "REPORT", path: bobPersonal, body: queryBody},
			{method: "REPORT", path: bobPersonal, body: syncBody},
			{method: "PROPFIND", path: bobPersonal, header: map[string]string{"Depth": "0"}},
			{method: "GET", path: bobPersonal + "busy.ics"},
			{method: "GET", path: bobPersonal},
			{method: "PROPFIND", path: "/dav/calendars/bob/", header: map[string]string{"Depth": "1"}},
			{method: "REPORT", path: "/dav/calendars/bob/nosuch/", body: fbq},
		} {
			resp := e.do(r)
			if body := readBody(t, resp); resp.StatusCode != 403 || strings.Contains(body, "Secret") {
				t.Errorf("%s %s with a free-busy grant: %d\n%s", r.method, r.path, resp.StatusCode, body)
			}
		}
		// The grant is listed in the ACL of bob's calendars.
		resp = e.do(as("bob", "PROPFIND", bobPersonal, `<D:propfind xmlns:D="DAV:"><D:prop><D:acl/><D:supported-privilege-set/></D:prop></D:propfind>`, map[string]string{"Depth": "0"}))
		if resp.StatusCode != 207 {
			t.Fatalf("bob PROPFIND acl: %d", resp.StatusCode)
		}
		golden(t, "delegation/freebusy-acl", canonical(t, readBody(t, resp)))
	})
}
