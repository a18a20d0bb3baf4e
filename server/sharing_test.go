package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// share shares owner's collection of kind named col with user sharee, as
// davenport share add does, and returns the share.
func (e *env) share(owner, col string, kind store.Kind, sharee string, access store.Access) *store.Share {
	e.t.Helper()
	ctx := context.Background()
	o, err := e.st.GetUser(ctx, owner)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.st.GetCollection(ctx, o.ID, kind, col)
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := e.st.GetUser(ctx, sharee)
	if err != nil {
		e.t.Fatal(err)
	}
	sh := &store.Share{CollectionID: c.ID, UserID: u.ID, Access: access, Status: store.ShareAccepted}
	if err := e.st.PutShare(ctx, sh); err != nil {
		e.t.Fatal(err)
	}
	return sh
}

const sharedEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\nDTEND:20260105T110000Z\r\nSUMMARY:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

func bobReq(method, path, body string, header map[string]string) request {
	return request{method: method, path: path, body: body, header: header, user: "bob", password: bobPassword}
}

// TestSharingAsSharee follows a calendar shared read-only, then
// read-write, then revoked, as bob's DAVx5 sees it: discovery in his own
// home, the truth in current-user-privilege-set, reads through sync,
// multiget and queries, 403 need-privileges for writes he may not make,
// his own name for it, and nothing of it once revoked.
func TestSharingAsSharee(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		if r := e.do(request{method: "PUT", path: "/dav/calendars/alice/personal/a.ics", body: fmt.Sprintf(sharedEvent, "a", "Dentist")}); r.StatusCode != 201 {
			t.Fatalf("alice PUT: %d", r.StatusCode)
		}
		sh := e.share("alice", "personal", store.KindCalendar, "bob", store.AccessRead)
		home := "/dav/calendars/bob/"
		col := home + fmt.Sprintf("shared-%d/", sh.CollectionID)

		resp := e.do(bobReq("PROPFIND", home, clientBody(t, "davx5-04-home-propfind.xml"), with(davx5, "1")))
		if resp.StatusCode != 207 {
			t.Fatalf("home PROPFIND: %d", resp.StatusCode)
		}
		golden(t, "sharing/davx5-home-read", canonical(t, strings.ReplaceAll(readBody(t, resp), col, "/dav/calendars/bob/SHARED/")))

		for _, c := range []struct {
			name string
			r    request
			code int
			cond string
		}{
			{"GET", bobReq("GET", col+"a.ics", "", nil), 200, ""},
			{"PUT new", bobReq("PUT", col+"b.ics", fmt.Sprintf(sharedEvent, "b", "x"), nil), 403, "bind"},
			{"PUT over", bobReq("PUT", col+"a.ics", fmt.Sprintf(sharedEvent, "a", "x"), nil), 403, "write-content"},
			{"DELETE object", bobReq("DELETE", col+"a.ics", "", nil), 403, "write-content"},
			{"DELETE collection", bobReq("DELETE", col, "", nil), 403, "unbind"},
			{"MOVE out", bobReq("MOVE", col+"a.ics", "", map[string]string{"Destination": home + "personal/a.ics"}), 403, "write-content"},
			{"COPY out", bobReq("COPY", col+"a.ics", "", map[string]string{"Destination": home + "personal/a.ics"}), 201, ""},
			{"COPY in", bobReq("COPY", home+"personal/a.ics", "", map[string]string{"Destination": col + "c.ics"}), 403, "bind"},
			{"owner's path", bobReq("GET", "/dav/calendars/alice/personal/a.ics", "", nil), 403, ""},
			{"owner's path, other case", bobReq("GET", "/dav/calendars/ALICE/personal/a.ics", "", nil), 403, ""},
			{"dot-dot", bobReq("GET", home+"..%2Falice/personal/a.ics", "", nil), 404, ""},
			{"another id", bobReq("GET", home+fmt.Sprintf("shared-%d/a.ics", sh.CollectionID+1), "", nil), 404, ""},
			{"zero-padded id", bobReq("GET", home+fmt.Sprintf("shared-0%d/a.ics", sh.CollectionID), "", nil), 404, ""},
			{"wrong home kind", bobReq("PROPFIND", fmt.Sprintf("/dav/addressbooks/bob/shared-%d/", sh.CollectionID), "", map[string]string{"Depth": "0"}), 404, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				resp := e.do(c.r)
				body := readBody(t, resp)
				if resp.StatusCode != c.code {
					t.Fatalf("%s %s: %d, want %d\n%s", c.r.method, c.r.path, resp.StatusCode, c.code, body)
				}
				if c.cond != "" && !strings.Contains(body, "<D:"+c.cond+"/>") {
					t.Errorf("no need-privileges for %s:\n%s", c.cond, body)
				}
			})
		}
		if strings.Contains(readBody(t, e.do(request{method: "GET", path: "/dav/calendars/alice/personal/c.ics"})), "BEGIN") {
			t.Error("a refused COPY wrote into alice's calendar")
		}

		// Reads: sync, multiget and query under bob's href.
		resp = e.do(bobReq("REPORT", col, `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`, nil))
		if body := readBody(t, resp); resp.StatusCode != 207 || !strings.Contains(body, col+"a.ics") {
			t.Errorf("sync-collection: %d\n%s", resp.StatusCode, body)
		}
		resp = e.do(bobReq("REPORT", col, `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop><D:href>`+col+`a.ics</D:href><D:href>/dav/calendars/alice/personal/a.ics</D:href></C:calendar-multiget>`, nil))
		if body := readBody(t, resp); resp.StatusCode != 207 || !strings.Contains(body, "SUMMARY:Dentist") || strings.Count(body, "404 Not Found") != 1 {
			t.Errorf("multiget (own href found, owner's href 404): %d\n%s", resp.StatusCode, body)
		}
		resp = e.do(bobReq("REPORT", col, `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>`, nil))
		if body := readBody(t, resp); resp.StatusCode != 207 || !strings.Contains(body, col+"a.ics") {
			t.Errorf("calendar-query: %d\n%s", resp.StatusCode, body)
		}

		// Bob's own name and colour; alice's stay hers.
		resp = e.do(bobReq("PROPPATCH", col, `<D:propertyupdate xmlns:D="DAV:" xmlns:I="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Alice's</D:displayname><I:calendar-color>#00FF00FF</I:calendar-color></D:prop></D:set></D:propertyupdate>`, nil))
		if body := readBody(t, resp); resp.StatusCode != 207 || !strings.Contains(body, "200 OK") || strings.Contains(body, "403") {
			t.Errorf("sharee PROPPATCH: %d\n%s", resp.StatusCode, body)
		}
		resp = e.do(bobReq("PROPPATCH", col, `<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:calendar-description>mine now</C:calendar-description></D:prop></D:set></D:propertyupdate>`, nil))
		if body := readBody(t, resp); resp.StatusCode != 207 || !strings.Contains(body, "403 Forbidden") {
			t.Errorf("sharee PROPPATCH of the owner's description: %d\n%s", resp.StatusCode, body)
		}
		props := `<D:propfind xmlns:D="DAV:" xmlns:I="http://apple.com/ns/ical/" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:displayname/><I:calendar-color/><C:calendar-description/></D:prop></D:propfind>`
		if body := readBody(t, e.do(bobReq("PROPFIND", col, props, map[string]string{"Depth": "0"}))); !strings.Contains(body, "Alice's") || !strings.Contains(body, "#00FF00FF") {
			t.Errorf("bob's view:\n%s", body)
		}
		if body := readBody(t, e.do(request{method: "PROPFIND", path: "/dav/calendars/alice/personal/", body: props, header: map[string]string{"Depth": "0"}})); strings.Contains(body, "Alice's") || strings.Contains(body, "#00FF00FF") || strings.Contains(body, "mine now") {
			t.Errorf("alice's view changed by bob:\n%s", body)
		}

		// Read-write: bob writes, alice sees it.
		e.share("alice", "personal", store.KindCalendar, "bob", store.AccessReadWrite)
		if r := e.do(bobReq("PUT", col+"b.ics", fmt.Sprintf(sharedEvent, "b", "Bob's"), nil)); r.StatusCode != 201 {
			t.Fatalf("read-write PUT: %d %s", r.StatusCode, readBody(t, r))
		}
		if r := e.do(request{method: "GET", path: "/dav/calendars/alice/personal/b.ics"}); r.StatusCode != 200 {
			t.Errorf("alice GET of bob's event: %d", r.StatusCode)
		}
		resp = e.do(bobReq("PROPFIND", home, clientBody(t, "davx5-04-home-propfind.xml"), with(davx5, "1")))
		golden(t, "sharing/davx5-home-read-write", canonical(t, strings.ReplaceAll(readBody(t, resp), col, "/dav/calendars/bob/SHARED/")))
		if r := e.do(bobReq("DELETE", col+"b.ics", "", nil)); r.StatusCode != 204 {
			t.Errorf("read-write DELETE: %d", r.StatusCode)
		}

		// Revoked: gone from the listing and from every path.
		if err := st.DeleteShare(context.Background(), sh.CollectionID, sh.ID); err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, e.do(bobReq("PROPFIND", home, "", map[string]string{"Depth": "1"}))); strings.Contains(body, "shared-") {
			t.Errorf("revoked share still listed:\n%s", body)
		}
		for _, r := range []request{bobReq("GET", col+"a.ics", "", nil), bobReq("REPORT", col, `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:prop/></D:sync-collection>`, nil)} {
			if resp := e.do(r); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s after revoke: %d, want 404", r.method, resp.StatusCode)
			}
		}
	})
}
