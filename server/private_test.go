package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

const classEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:%[1]s\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\nDTEND:20260105T110000Z\r\nCLASS:%[2]s\r\nSUMMARY:Therapy %[1]s\r\nLOCATION:Secret clinic\r\nDESCRIPTION:very secret\r\nATTENDEE;CN=Secret Doctor:mailto:doc@example.org\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:secret alarm\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

// TestPrivateEventsStayPrivate: a sharee reads of CLASS:PRIVATE events only
// their time, of CLASS:CONFIDENTIAL ones their time and "Busy", through
// every way in (GET, multiget, query, sync, free-busy, COPY), and no query
// or text-match finds the hidden text; the owner sees all.
func TestPrivateEventsStayPrivate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, c := range []struct{ name, class string }{{"priv", "PRIVATE"}, {"conf", "CONFIDENTIAL"}, {"pub", "PUBLIC"}} {
			if r := e.do(request{method: "PUT", path: "/dav/calendars/alice/personal/" + c.name + ".ics", body: fmt.Sprintf(classEvent, c.name, c.class)}); r.StatusCode != 201 {
				t.Fatalf("PUT %s: %d", c.name, r.StatusCode)
			}
		}
		sh := e.share("alice", "personal", store.KindCalendar, "bob", store.AccessReadWrite)
		col := fmt.Sprintf("/dav/calendars/bob/shared-%d/", sh.CollectionID)
		secrets := []string{"Therapy priv", "Therapy conf", "Secret", "secret", "VALARM", "ATTENDEE"}
		hidden := func(what, body string) {
			t.Helper()
			for _, s := range secrets {
				if strings.Contains(body, s) {
					t.Errorf("%s shows %q to the sharee:\n%s", what, s, body)
				}
			}
		}

		get := readBody(t, e.do(bobReq("GET", col+"priv.ics", "", nil)))
		hidden("GET of a private event", get)
		if !strings.Contains(get, "DTSTART:20260105T100000Z") || strings.Contains(get, "SUMMARY") {
			t.Errorf("GET of a private event: want its time only:\n%s", get)
		}
		get = readBody(t, e.do(bobReq("GET", col+"conf.ics", "", nil)))
		hidden("GET of a confidential event", get)
		if !strings.Contains(get, "SUMMARY:Busy") || !strings.Contains(get, "DTEND:20260105T110000Z") {
			t.Errorf("GET of a confidential event: want its time and Busy:\n%s", get)
		}
		if body := readBody(t, e.do(bobReq("GET", col+"pub.ics", "", nil))); !strings.Contains(body, "Therapy pub") || !strings.Contains(body, "Secret clinic") {
			t.Errorf("GET of a public event hides something:\n%s", body)
		}
		if body := readBody(t, e.do(request{method: "GET", path: "/dav/calendars/alice/personal/priv.ics"})); !strings.Contains(body, "Therapy priv") || !strings.Contains(body, "secret alarm") {
			t.Errorf("the owner does not see her private event:\n%s", body)
		}

		reports := map[string]string{
			"multiget":  `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop><D:href>` + col + `priv.ics</D:href><D:href>` + col + `conf.ics</D:href></C:calendar-multiget>`,
			"query":     `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>`,
			"sync":      `<D:sync-collection xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><C:calendar-data/></D:prop></D:sync-collection>`,
			"free-busy": `<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20260101T000000Z" end="20260201T000000Z"/></C:free-busy-query>`,
		}
		for name, body := range reports {
			r := e.do(bobReq("REPORT", col, body, map[string]string{"Depth": "1"}))
			got := readBody(t, r)
			if r.StatusCode/100 != 2 {
				t.Errorf("%s: %d\n%s", name, r.StatusCode, got)
			}
			for _, part := range strings.Split(got, "<D:response>") {
				if !strings.Contains(part, "pub.ics") { // the public event shows all
					hidden(name, part)
				}
			}
		}
		fb := readBody(t, e.do(bobReq("REPORT", col, reports["free-busy"], map[string]string{"Depth": "1"})))
		if !strings.Contains(fb, "FREEBUSY") || !strings.Contains(fb, "20260105T100000Z") {
			t.Errorf("free-busy does not show the private time as busy:\n%s", fb)
		}

		// Text the sharee cannot read matches nothing for them.
		for _, text := range []string{"Therapy priv", "Secret clinic", "very secret", "Secret Doctor", "secret alarm"} {
			q := `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="%s"><C:text-match>%s</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
			for _, prop := range []string{"SUMMARY", "LOCATION", "DESCRIPTION", "ATTENDEE"} {
				body := fmt.Sprintf(q, prop, text)
				got := readBody(t, e.do(bobReq("REPORT", col, body, map[string]string{"Depth": "1"})))
				if strings.Contains(got, "priv.ics") || strings.Contains(got, "conf.ics") {
					t.Errorf("text-match %s %q finds a hidden event for the sharee:\n%s", prop, text, got)
				}
			}
		}
		owner := readBody(t, e.do(request{method: "REPORT", path: "/dav/calendars/alice/personal/", body: fmt.Sprintf(`<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="LOCATION"><C:text-match>Secret clinic</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`), header: map[string]string{"Depth": "1"}}))
		if !strings.Contains(owner, "priv.ics") || !strings.Contains(owner, "conf.ics") {
			t.Errorf("the owner's text-match misses her own events:\n%s", owner)
		}

		// An export of the whole calendar hides the same.
		exp := e.do(bobReq("GET", col, "", nil))
		if body := readBody(t, exp); exp.StatusCode != 200 || !strings.Contains(body, "UID:priv") {
			t.Errorf("export by the sharee: %d\n%s", exp.StatusCode, body)
		} else {
			for _, part := range strings.Split(body, "BEGIN:VEVENT") {
				if !strings.Contains(part, "UID:pub") {
					hidden("an export", part)
				}
			}
		}
		// A read-write sharee cannot overwrite or delete what they read
		// masked: the owner's details would be lost unseen.
		for _, req := range []request{
			bobReq("PUT", col+"priv.ics", fmt.Sprintf(classEvent, "priv", "PUBLIC"), nil),
			bobReq("PUT", col+"conf.ics", fmt.Sprintf(classEvent, "conf", "PUBLIC"), nil),
			bobReq("DELETE", col+"priv.ics", "", nil),
		} {
			if r := e.do(req); r.StatusCode != 403 {
				t.Errorf("%s %s by a read-write sharee: %d, want 403", req.method, req.path, r.StatusCode)
			}
		}
		if body := readBody(t, e.do(request{method: "GET", path: "/dav/calendars/alice/personal/priv.ics"})); !strings.Contains(body, "Therapy priv") {
			t.Errorf("the owner's private event changed under a sharee's write:\n%s", body)
		}
		if r := e.do(bobReq("PUT", col+"pub.ics", fmt.Sprintf(classEvent, "pub", "PUBLIC"), nil)); r.StatusCode != 204 {
			t.Errorf("PUT over a public event by a read-write sharee: %d, want 204", r.StatusCode)
		}

		// Renaming the shared calendar is its owner's.
		if r := e.do(bobReq("MOVE", col, "", map[string]string{"Destination": "/dav/calendars/bob/renamed/"})); r.StatusCode != 403 {
			t.Errorf("MOVE of the shared calendar by a read-write sharee: %d, want 403", r.StatusCode)
		}

		// COPY takes what the sharee sees; MOVE of what they cannot see
		// whole is refused.
		if r := e.do(bobReq("COPY", col+"priv.ics", "", map[string]string{"Destination": "/dav/calendars/bob/personal/copy.ics"})); r.StatusCode != 201 {
			t.Errorf("COPY out: %d", r.StatusCode)
		}
		hidden("a copy of a private event", readBody(t, e.do(bobReq("GET", "/dav/calendars/bob/personal/copy.ics", "", nil))))
		if r := e.do(bobReq("MOVE", col+"priv.ics", "", map[string]string{"Destination": "/dav/calendars/bob/personal/moved.ics"})); r.StatusCode != 403 {
			t.Errorf("MOVE of a private event by a sharee: %d, want 403", r.StatusCode)
		}
		if r := e.do(bobReq("MOVE", col+"pub.ics", "", map[string]string{"Destination": "/dav/calendars/bob/personal/moved.ics"})); r.StatusCode != 201 {
			t.Errorf("MOVE of a public event by a read-write sharee: %d, want 201", r.StatusCode)
		}
	})
}
