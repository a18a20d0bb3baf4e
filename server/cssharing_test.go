package server_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

func sharingBody(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sharing", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var reShareID = regexp.MustCompile(`shared-\d+|share-\d+|\d{8}T\d{6}Z`)

// stable replaces the ids of shares and shared collections, and stamps,
// for golden files.
func stable(s string) string {
	return reShareID.ReplaceAllStringFunc(s, func(m string) string {
		switch {
		case strings.HasPrefix(m, "shared-"):
			return "shared-ID"
		case strings.HasPrefix(m, "share-"):
			return "share-ID"
		}
		return "STAMP"
	})
}

// TestCalendarServerSharing follows Apple Calendar sharing a calendar: the
// owner's POST CS:share, CS:invite and CS:shared-owner, the invitations in
// the sharees' notification collections, CS:invite-reply to accept (the
// calendar appears in the sharee's home, CS:shared, read-write) and to
// decline, and POST CS:share removing a sharee.
func TestCalendarServerSharing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		hash, _ := auth.HashPasswordParams("carol-password", cheapParams)
		if err := st.CreateUser(context.Background(), &store.User{Username: "carol", Email: "Carol@example.org", PasswordHash: hash}, server.DefaultCollections()); err != nil {
			t.Fatal(err)
		}
		carol := func(method, path, body string, h map[string]string) request {
			return request{method: method, path: path, body: body, header: h, user: "carol", password: "carol-password"}
		}
		xmlHdr := map[string]string{"Content-Type": "text/xml"}
		col := "/dav/calendars/alice/personal/"

		if r := e.do(request{method: "OPTIONS", path: col}); !strings.Contains(r.Header.Get("DAV"), "calendarserver-sharing") {
			t.Errorf("DAV header %q lacks calendarserver-sharing", r.Header.Get("DAV"))
		}
		if r := e.do(request{method: "POST", path: col, body: sharingBody(t, "apple-share.xml"), header: xmlHdr}); r.StatusCode != 200 {
			t.Fatalf("POST CS:share: %d %s", r.StatusCode, readBody(t, r))
		}
		r := e.do(request{method: "PROPFIND", path: col, body: sharingBody(t, "apple-collection-propfind.xml"), header: with(apple, "0")})
		golden(t, "sharing/cs-owner-invite", canonical(t, readBody(t, r)))

		// Bob's invitation waits in his notifications; nothing is in his
		// home yet.
		r = e.do(bobReq("PROPFIND", "/dav/principals/bob/", `<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><CS:notification-URL/></D:prop></D:propfind>`, map[string]string{"Depth": "0"}))
		if body := readBody(t, r); !strings.Contains(body, "<D:href>/dav/notifications/bob/</D:href>") {
			t.Errorf("notification-URL:\n%s", body)
		}
		r = e.do(bobReq("PROPFIND", "/dav/notifications/bob/", sharingBody(t, "apple-notifications-propfind.xml"), with(apple, "1")))
		golden(t, "sharing/cs-notifications", stable(canonical(t, readBody(t, r))))
		list := readBody(t, e.do(bobReq("PROPFIND", "/dav/notifications/bob/", "", map[string]string{"Depth": "1"})))
		item := regexp.MustCompile(`/dav/notifications/bob/share-\d+\.xml`).FindString(list)
		if item == "" {
			t.Fatalf("no notification for bob:\n%s", list)
		}
		r = e.do(bobReq("GET", item, "", nil))
		golden(t, "sharing/cs-invite-notification", stable(canonical(t, readBody(t, r))))
		if body := readBody(t, e.do(bobReq("PROPFIND", "/dav/calendars/bob/", "", map[string]string{"Depth": "1"}))); strings.Contains(body, "shared-") {
			t.Errorf("an unanswered invitation is in bob's home:\n%s", body)
		}
		if r := e.do(bobReq("PUT", item, "x", nil)); r.StatusCode != 403 {
			t.Errorf("PUT into notifications: %d, want 403", r.StatusCode)
		}
		if r := e.do(request{method: "PROPFIND", path: "/dav/notifications/bob/", header: map[string]string{"Depth": "0"}}); r.StatusCode != 403 {
			t.Errorf("alice reading bob's notifications: %d, want 403", r.StatusCode)
		}

		// Bob accepts by the host URL, as Apple's Calendar does.
		r = e.do(bobReq("POST", "/dav/calendars/bob/", sharingBody(t, "apple-invite-reply.xml"), xmlHdr))
		reply := readBody(t, r)
		sharedAs := regexp.MustCompile(`<D:href>(/dav/calendars/bob/shared-\d+/)</D:href>`).FindStringSubmatch(reply)
		if r.StatusCode != 200 || sharedAs == nil {
			t.Fatalf("accepting: %d\n%s", r.StatusCode, reply)
		}
		r = e.do(bobReq("PROPFIND", sharedAs[1], sharingBody(t, "apple-collection-propfind.xml"), with(apple, "0")))
		golden(t, "sharing/cs-sharee-view", stable(canonical(t, readBody(t, r))))
		if body := readBody(t, e.do(bobReq("PROPFIND", "/dav/notifications/bob/", "", map[string]string{"Depth": "1"}))); strings.Contains(body, "share-") {
			t.Errorf("an answered invitation is still a notification:\n%s", body)
		}
		if r := e.do(bobReq("POST", sharedAs[1], sharingBody(t, "apple-share.xml"), xmlHdr)); r.StatusCode != http.StatusForbidden {
			t.Errorf("a sharee re-sharing: %d, want 403", r.StatusCode)
		}

		// Carol declines by the notification's uid.
		cl := readBody(t, e.do(carol("PROPFIND", "/dav/notifications/carol/", "", map[string]string{"Depth": "1"})))
		uid := regexp.MustCompile(`share-\d+`).FindString(cl)
		if uid == "" {
			t.Fatalf("no notification for carol (invited by mailto:, in another case):\n%s", cl)
		}
		if r := e.do(carol("POST", "/dav/calendars/carol/", strings.Replace(sharingBody(t, "apple-invite-decline.xml"), "INVITE-UID", uid, 1), xmlHdr)); r.StatusCode != 200 {
			t.Errorf("declining: %d", r.StatusCode)
		}
		if r := e.do(carol("POST", "/dav/calendars/carol/", strings.Replace(sharingBody(t, "apple-invite-decline.xml"), "INVITE-UID", "share-999999", 1), xmlHdr)); r.StatusCode != 403 {
			t.Errorf("answering an invitation that is not there: %d, want 403", r.StatusCode)
		}
		r = e.do(request{method: "PROPFIND", path: col, body: sharingBody(t, "apple-collection-propfind.xml"), header: with(apple, "0")})
		golden(t, "sharing/cs-owner-invite-answered", canonical(t, readBody(t, r)))

		// Alice stops sharing with bob.
		if r := e.do(request{method: "POST", path: col, body: sharingBody(t, "apple-unshare.xml"), header: xmlHdr}); r.StatusCode != 200 {
			t.Fatalf("POST CS:share remove: %d", r.StatusCode)
		}
		if r := e.do(bobReq("PROPFIND", sharedAs[1], "", map[string]string{"Depth": "0"})); r.StatusCode != 404 {
			t.Errorf("bob after removal: %d, want 404", r.StatusCode)
		}
		if r := e.do(request{method: "POST", path: col, body: strings.Replace(sharingBody(t, "apple-unshare.xml"), "/dav/principals/bob/", "mailto:nobody@example.org", 1), header: xmlHdr}); r.StatusCode != 403 {
			t.Errorf("POST CS:share naming nobody: %d, want 403", r.StatusCode)
		}
	})
}
