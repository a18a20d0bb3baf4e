package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

const (
	bobWriteProxy = "/dav/principals/bob/calendar-proxy-write/"
	bobReadProxy  = "/dav/principals/bob/calendar-proxy-read/"
	bobPersonal   = "/dav/calendars/bob/personal/"
)

// proxyMembers is the PROPPATCH an Apple client sends to set a proxy
// group's members.
func proxyMembers(hrefs ...string) string {
	b := `<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop><A:group-member-set>`
	for _, h := range hrefs {
		b += "<A:href>" + h + "</A:href>"
	}
	return b + `</A:group-member-set></A:prop></A:set></A:propertyupdate>`
}

// addUser adds a user with the default collections and the alice password.
func (e *env) addUser(name, email string) *store.User {
	e.t.Helper()
	hash, err := auth.HashPasswordParams(alicePassword, cheapParams)
	if err != nil {
		e.t.Fatal(err)
	}
	u := &store.User{Username: name, Email: email, PasswordHash: hash}
	if err := e.st.CreateUser(context.Background(), u, server.DefaultCollections()); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func as(user, method, path, body string, header map[string]string) request {
	pw := alicePassword
	if user == "bob" {
		pw = bobPassword
	}
	return request{method: method, path: path, body: body, header: header, user: user, password: pw}
}

const privateEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:p\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260106T100000Z\r\nDTEND:20260106T110000Z\r\nCLASS:PRIVATE\r\nSUMMARY:Therapy\r\nLOCATION:Dr. X\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

// TestDelegation follows bob making alice his write delegate and then his
// read delegate, the way iOS and macOS do it (PROPPATCH of the proxy
// groups' group-member-set), alice's client finding bob's calendars from
// her own principal, what each level lets her do at bob's own URLs, and
// nothing left once bob removes her.
func TestDelegation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.addUser("carol", "carol@example.org")
		for name, body := range map[string]string{"a.ics": fmt.Sprintf(sharedEvent, "a", "Budget"), "p.ics": privateEvent} {
			if r := e.do(as("bob", "PUT", bobPersonal+name, body, nil)); r.StatusCode != 201 {
				t.Fatalf("bob PUT %s: %d", name, r.StatusCode)
			}
		}
		status := func(r request) (int, string) {
			t.Helper()
			resp := e.do(r)
			return resp.StatusCode, readBody(t, resp)
		}
		// Before any delegation, bob's URLs are closed to alice.
		if code, _ := status(as("alice", "PROPFIND", bobPersonal, "", map[string]string{"Depth": "0"})); code != 403 {
			t.Fatalf("alice PROPFIND of bob's calendar before delegation: %d", code)
		}

		code, body := status(as("bob", "PROPPATCH", bobWriteProxy, proxyMembers("/dav/principals/alice/"), nil))
		if code != 207 {
			t.Fatalf("PROPPATCH write proxy: %d\n%s", code, body)
		}
		golden(t, "delegation/proxy-patch", canonical(t, body))
		groupProps := `<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:displayname/><D:group-member-set/><D:principal-URL/></D:prop></D:propfind>`
		_, body = status(as("bob", "PROPFIND", bobWriteProxy, groupProps, map[string]string{"Depth": "0"}))
		golden(t, "delegation/write-proxy-group", canonical(t, body))
		forProps := `<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><CS:calendar-proxy-read-for/><CS:calendar-proxy-write-for/><D:group-membership/></D:prop></D:propfind>`
		_, body = status(as("alice", "PROPFIND", "/dav/principals/alice/", forProps, map[string]string{"Depth": "0"}))
		golden(t, "delegation/delegate-principal-write", canonical(t, body))

		// Alice's client follows bob's principal to his calendar home.
		code, body = status(as("alice", "PROPFIND", "/dav/principals/bob/", `<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-home-set/><D:displayname/></D:prop></D:propfind>`, map[string]string{"Depth": "0"}))
		if code != 207 || !strings.Contains(body, "<D:href>/dav/calendars/bob/</D:href>") {
			t.Fatalf("alice PROPFIND of bob's principal: %d\n%s", code, body)
		}
		homeProps := `<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:current-user-privilege-set/><D:owner/></D:prop></D:propfind>`
		code, body = status(as("alice", "PROPFIND", "/dav/calendars/bob/", homeProps, map[string]string{"Depth": "1"}))
		if code != 207 {
			t.Fatalf("alice PROPFIND of bob's home: %d\n%s", code, body)
		}
		golden(t, "delegation/home-write", canonical(t, body))

		// A write delegate reads all, writes, and schedules as bob.
		if code, body = status(as("alice", "GET", bobPersonal+"p.ics", "", nil)); code != 200 || !strings.Contains(body, "Therapy") {
			t.Errorf("write delegate GET of a private event: %d\n%s", code, body)
		}
		invite := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:meet\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260107T100000Z\r\nDTEND:20260107T110000Z\r\nSUMMARY:Meeting\r\nORGANIZER:/dav/principals/bob/\r\nATTENDEE;PARTSTAT=ACCEPTED:/dav/principals/bob/\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:carol@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		if code, body = status(as("alice", "PUT", bobPersonal+"meet.ics", invite, nil)); code != 201 {
			t.Fatalf("write delegate PUT: %d\n%s", code, body)
		}
		if code, body = status(as("bob", "GET", bobPersonal+"meet.ics", "", nil)); code != 200 || !strings.Contains(body, "Meeting") {
			t.Errorf("bob GET of the delegate's event: %d", code)
		}
		if code, body = status(as("carol", "PROPFIND", "/dav/inbox/carol/inbox/", "", map[string]string{"Depth": "1"})); code != 207 || strings.Count(body, "<D:response>") != 2 {
			t.Errorf("carol's inbox after bob's delegate invited her (one message): %d\n%s", code, body)
		}
		if code, body = status(as("alice", "PROPPATCH", bobPersonal, `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Bob's</D:displayname></D:prop></D:set></D:propertyupdate>`, nil)); code != 207 || !strings.Contains(body, "200 OK") {
			t.Errorf("write delegate PROPPATCH: %d\n%s", code, body)
		}

		// Alice becomes a read delegate: setting the read group moves
		// her out of the write group.
		if code, body = status(as("bob", "PROPPATCH", bobReadProxy, proxyMembers("http://example.com/dav/principals/alice/"), nil)); code != 207 || !strings.Contains(body, "200 OK") {
			t.Fatalf("PROPPATCH read proxy: %d\n%s", code, body)
		}
		_, body = status(as("alice", "PROPFIND", "/dav/principals/alice/", forProps, map[string]string{"Depth": "0"}))
		golden(t, "delegation/delegate-principal-read", canonical(t, body))
		code, body = status(as("alice", "PROPFIND", "/dav/calendars/bob/", homeProps, map[string]string{"Depth": "1"}))
		if code != 207 {
			t.Fatalf("read delegate PROPFIND of bob's home: %d\n%s", code, body)
		}
		golden(t, "delegation/home-read", canonical(t, body))
		if code, body = status(as("alice", "GET", bobPersonal+"p.ics", "", nil)); code != 200 || strings.Contains(body, "Therapy") || strings.Contains(body, "Dr. X") {
			t.Errorf("read delegate GET of a private event (masked): %d\n%s", code, body)
		}

		for _, c := range []struct {
			name string
			r    request
			code int
		}{
			{"read delegate PUT", as("alice", "PUT", bobPersonal+"b.ics", fmt.Sprintf(sharedEvent, "b", "x"), nil), 403},
			{"read delegate DELETE", as("alice", "DELETE", bobPersonal+"a.ics", "", nil), 403},
			{"read delegate PROPPATCH", as("alice", "PROPPATCH", bobPersonal, patchBody, nil), 403},
			{"read delegate sync", as("alice", "REPORT", bobPersonal, syncBody, nil), 207},
			{"read delegate query", as("alice", "REPORT", bobPersonal, queryBody, nil), 207},
			{"delete the calendar", as("alice", "DELETE", bobPersonal, "", nil), 403},
			{"MKCALENDAR in bob's home", as("alice", "MKCALENDAR", "/dav/calendars/bob/new/", "", nil), 403},
			{"PUT into a missing calendar", as("alice", "PUT", "/dav/calendars/bob/nosuch/x.ics", fmt.Sprintf(sharedEvent, "x", "x"), nil), 403},
			{"POST to bob's home", as("alice", "POST", "/dav/calendars/bob/", "<x/>", nil), 403},
			{"bob's address books", as("alice", "PROPFIND", "/dav/addressbooks/bob/", "", map[string]string{"Depth": "0"}), 403},
			{"bob's contacts", as("alice", "PROPFIND", "/dav/addressbooks/bob/contacts/", "", map[string]string{"Depth": "0"}), 403},
			// A read delegate reads bob's invitations, as CalendarServer's
			// calendar-proxy-read does, and sends nothing from his outbox
			// (TestDelegateInboxOutbox walks both levels).
			{"bob's inbox", as("alice", "PROPFIND", "/dav/inbox/bob/inbox/", "", map[string]string{"Depth": "0"}), 207},
			{"bob's outbox", as("alice", "POST", "/dav/outbox/bob/outbox/", "", nil), 403},
			{"bob's notifications", as("alice", "PROPFIND", "/dav/notifications/bob/", "", map[string]string{"Depth": "0"}), 403},
			{"the delegate sets bob's delegates", as("alice", "PROPPATCH", bobReadProxy, proxyMembers("/dav/principals/carol/"), nil), 403},
			{"carol, no grant", as("carol", "PROPFIND", bobPersonal, "", map[string]string{"Depth": "0"}), 403},
			// Without a grant, bob's principal is a directory entry (name,
			// addresses, URL: TestPrincipalReports pins what), no more.
			{"carol, bob's principal", as("carol", "PROPFIND", "/dav/principals/bob/", "", map[string]string{"Depth": "0"}), 207},
			{"carol, bob's proxy group", as("carol", "PROPFIND", bobReadProxy, "", map[string]string{"Depth": "0"}), 403},
			{"unknown proxy group", as("bob", "PROPFIND", "/dav/principals/bob/calendar-proxy-all/", "", map[string]string{"Depth": "0"}), 404},
		} {
			t.Run(c.name, func(t *testing.T) {
				if code, body := status(c.r); code != c.code {
					t.Errorf("%s %s as %s: %d, want %d\n%s", c.r.method, c.r.path, c.r.user, code, c.code, body)
				}
			})
		}

		// An unknown member fails the patch and changes nothing.
		code, body = status(as("bob", "PROPPATCH", bobReadProxy, proxyMembers("/dav/principals/alice/", "/dav/principals/nobody/"), nil))
		if code != 207 {
			t.Fatalf("PROPPATCH with an unknown member: %d", code)
		}
		golden(t, "delegation/proxy-patch-unknown", canonical(t, body))
		if code, _ := status(as("alice", "GET", bobPersonal+"a.ics", "", nil)); code != 200 {
			t.Errorf("a failed patch changed the delegation: %d", code)
		}

		// A group as delegate: membership decides, at every request.
		g := &store.Group{Name: "assistants"}
		if err := st.CreateGroup(context.Background(), g); err != nil {
			t.Fatal(err)
		}
		if code, body = status(as("bob", "PROPPATCH", bobWriteProxy, proxyMembers("/dav/principals/_groups/assistants/"), nil)); code != 207 || !strings.Contains(body, "200 OK") {
			t.Fatalf("PROPPATCH write proxy with a group: %d\n%s", code, body)
		}
		carol, _ := st.GetUser(context.Background(), "carol")
		if code, _ := status(as("carol", "GET", bobPersonal+"a.ics", "", nil)); code != 403 {
			t.Errorf("carol before joining the group: %d", code)
		}
		if err := st.AddGroupMember(context.Background(), g.ID, carol.ID); err != nil {
			t.Fatal(err)
		}
		if code, _ := status(as("carol", "PUT", bobPersonal+"c.ics", fmt.Sprintf(sharedEvent, "c", "x"), nil)); code != 201 {
			t.Errorf("carol PUT as a member of the write group: %d", code)
		}

		// Revoked: nothing of bob's is left to alice.
		if code, _ := status(as("bob", "PROPPATCH", bobReadProxy, proxyMembers(), nil)); code != 207 {
			t.Fatalf("PROPPATCH emptying the read proxy: %d", code)
		}
		for _, p := range []string{"/dav/calendars/bob/", bobPersonal, bobPersonal + "a.ics"} {
			if code, _ := status(as("alice", "PROPFIND", p, "", map[string]string{"Depth": "0"})); code != 403 {
				t.Errorf("alice PROPFIND %s after revocation: %d", p, code)
			}
		}
		// bob's principal is back to a directory entry: no home to find.
		homeProp := `<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-home-set/></D:prop></D:propfind>`
		if code, body := status(as("alice", "PROPFIND", "/dav/principals/bob/", homeProp, map[string]string{"Depth": "0"})); code != 207 || strings.Contains(body, "/dav/calendars/bob/") {
			t.Errorf("alice PROPFIND bob's principal after revocation: %d\n%s", code, body)
		}
		if _, body = status(as("alice", "PROPFIND", "/dav/principals/alice/", forProps, map[string]string{"Depth": "0"})); strings.Contains(body, "bob") {
			t.Errorf("alice's principal still names bob:\n%s", body)
		}
	})
}
