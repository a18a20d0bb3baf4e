package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

var reLink = regexp.MustCompile(`<code id="link-(\d+)">(http://[^<]+/public/[A-Za-z0-9_-]{43}\.ics)</code>`)

// TestWebPublicLinks: the owner of a calendar creates public links on its
// page, each serving the calendar without signing in until revoked; a
// form without the CSRF token changes nothing; another user neither sees
// nor revokes them (404); address books have none.
func TestWebPublicLinks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ctx := t.Context()
		aliceU, _ := st.GetUser(ctx, "alice")
		cal, _ := st.GetCollection(ctx, aliceU.ID, store.KindCalendar, "personal")
		ev := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T100000Z\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		if resp := e.put("alice", alicePassword, "/dav/calendars/alice/personal/a.ics", ev, nil); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT = %d", resp.StatusCode)
		}
		alice := e.browser(t)
		alice.signIn("alice", alicePassword)
		bob := e.browser(t)
		bob.signIn("bob", bobPassword)
		const page = "/web/c/calendars/personal/links"

		code, body, _ := alice.get(page)
		if code != 200 || !strings.Contains(body, `id="no-links"`) {
			t.Fatalf("links page before any = %d\n%s", code, body)
		}
		if _, body, _ := alice.get("/web/c/calendars/personal"); !strings.Contains(body, `href="`+page+`"`) {
			t.Errorf("the calendar's page does not lead to its public links")
		}
		if code, _, _ := alice.post(page, url.Values{"csrf": {""}}); code != http.StatusForbidden {
			t.Errorf("create a link without CSRF = %d, want 403", code)
		}
		if ls, _ := st.ListPublicLinks(ctx, cal.ID); len(ls) != 0 {
			t.Fatalf("links after a CSRF-less POST: %+v", ls)
		}
		alice.get(page)
		code, _, h := alice.post(page, url.Values{})
		if code != http.StatusSeeOther || h.Get("Location") != page+"?done=link-created" {
			t.Fatalf("create a link = %d %q", code, h.Get("Location"))
		}
		_, body, _ = alice.get(page + "?done=link-created")
		m := reLink.FindStringSubmatch(body)
		if m == nil || !strings.Contains(body, `href="webcal://`) {
			t.Fatalf("the page does not show the new link with its webcal:// form\n%s", body)
		}
		id, link := m[1], m[2]
		resp := e.do(request{method: "GET", path: strings.TrimPrefix(link, e.srv.URL), anonymous: true})
		if got := readBody(t, resp); resp.StatusCode != 200 || !strings.Contains(got, "SUMMARY:Dentist") {
			t.Fatalf("GET the public link = %d\n%s", resp.StatusCode, got)
		}

		// bob: not his calendar, not his link.
		for _, p := range []string{page} {
			if code, body, _ := bob.get(p); code != http.StatusOK || strings.Contains(body, link) {
				// bob has a "personal" calendar of his own: he sees his
				// page, never alice's links.
				t.Errorf("bob GET %s = %d (alice's link shown: %v)", p, code, strings.Contains(body, link))
			}
		}
		bob.get(page)
		if code, _, _ := bob.post(page+"/"+id+"/revoke", url.Values{}); code != http.StatusNotFound {
			t.Errorf("bob revoking alice's link through his calendar = %d, want 404", code)
		}
		if ls, _ := st.ListPublicLinks(ctx, cal.ID); len(ls) != 1 {
			t.Fatalf("alice's links after bob's attempt: %+v", ls)
		}
		alice.get("/web/")
		alice.post("/web/collections", url.Values{"kind": {"calendar"}, "displayname": {"Work"}, "components": {"VEVENT"}})
		if code, _, _ := bob.get("/web/c/calendars/work/links"); code != http.StatusNotFound {
			t.Errorf("bob GET alice's work links = %d, want 404", code)
		}
		bob.get(page)
		if code, _, _ := bob.post("/web/c/calendars/work/links", url.Values{}); code != http.StatusNotFound {
			t.Errorf("bob creating a link of alice's calendar = %d, want 404", code)
		}
		if code, _, _ := alice.get("/web/c/addressbooks/contacts/links"); code != http.StatusNotFound {
			t.Errorf("links of an address book = %d, want 404", code)
		}

		// Revoke: CSRF first, then for real; the URL is dead.
		alice.get(page)
		if code, _, _ := alice.post(page+"/"+id+"/revoke", url.Values{"csrf": {""}}); code != http.StatusForbidden {
			t.Errorf("revoke without CSRF = %d, want 403", code)
		}
		alice.get(page)
		code, _, h = alice.post(page+"/"+id+"/revoke", url.Values{})
		if code != http.StatusSeeOther || h.Get("Location") != page+"?done=link-revoked" {
			t.Fatalf("revoke = %d %q", code, h.Get("Location"))
		}
		resp = e.do(request{method: "GET", path: strings.TrimPrefix(link, e.srv.URL), anonymous: true})
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET a revoked link = %d, want 404", resp.StatusCode)
		}
		alice.get(page)
		if code, _, _ := alice.post(page+"/"+id+"/revoke", url.Values{}); code != http.StatusNotFound {
			t.Errorf("revoke twice = %d, want 404", code)
		}
	})
}

// TestWebDelegates: a user finds people and groups by name and makes them
// delegates (free/busy, read, read-write), which the calendar-proxy groups
// then name; removes them; and chooses who sees their busy time. Without
// CSRF nothing changes; nobody removes another user's delegates.
func TestWebDelegates(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ctx := t.Context()
		aliceU, _ := st.GetUser(ctx, "alice")
		bobU, _ := st.GetUser(ctx, "bob")
		alice := e.browser(t)
		alice.signIn("alice", alicePassword)
		bob := e.browser(t)
		bob.signIn("bob", bobPassword)
		const page = "/web/delegates"

		if _, body, _ := alice.get("/web/account"); !strings.Contains(body, `href="/web/delegates"`) {
			t.Errorf("the account page does not lead to the delegates")
		}
		code, body, _ := alice.get(page + "?q=bo")
		if code != 200 || !strings.Contains(body, `name="grantee" value="user:bob"`) || !strings.Contains(body, `id="no-delegates"`) {
			t.Fatalf("delegates search = %d\n%s", code, body)
		}
		if _, body, _ := alice.get(page + "?q=ali"); strings.Contains(body, `value="user:alice"`) {
			t.Errorf("the search offers alice herself")
		}
		if code, _, _ := alice.post(page, url.Values{"grantee": {"user:bob"}, "access": {"read"}, "csrf": {""}}); code != http.StatusForbidden {
			t.Errorf("add a delegate without CSRF = %d, want 403", code)
		}
		for _, v := range []url.Values{
			{"grantee": {"user:nobody"}, "access": {"read"}},
			{"grantee": {"user:alice"}, "access": {"read"}},
			{"grantee": {"user:bob"}, "access": {"all"}},
		} {
			alice.get(page)
			if code, _, _ := alice.post(page, v); code != http.StatusBadRequest {
				t.Errorf("add delegate %v = %d, want 400", v, code)
			}
		}
		if gs, _ := st.ListGrants(ctx, aliceU.ID); len(gs) != 0 {
			t.Fatalf("grants after refused forms: %+v", gs)
		}
		alice.get(page)
		code, _, h := alice.post(page, url.Values{"grantee": {"user:bob"}, "access": {"read-write"}})
		if code != http.StatusSeeOther || h.Get("Location") != page+"?done=delegate-added" {
			t.Fatalf("add bob = %d %q", code, h.Get("Location"))
		}
		gs, _ := st.ListGrants(ctx, aliceU.ID)
		if len(gs) != 1 || gs[0].UserID != bobU.ID || gs[0].Access != store.GrantReadWrite {
			t.Fatalf("grants after adding bob: %+v", gs)
		}
		// The protocol sees it: bob is in alice's calendar-proxy-write group.
		resp := e.do(request{method: "PROPFIND", path: "/dav/principals/alice/calendar-proxy-write/", header: map[string]string{"Depth": "0"},
			body: `<propfind xmlns="DAV:"><prop><group-member-set/></prop></propfind>`})
		if got := readBody(t, resp); resp.StatusCode != 207 || !strings.Contains(got, "/dav/principals/bob/") {
			t.Errorf("alice's calendar-proxy-write members = %d\n%s", resp.StatusCode, got)
		}
		_, body, _ = alice.get(page)
		if !regexp.MustCompile(`(?s)<table id="grants".*Bob <span class="muted">bob</span>.*Sees and edits all calendars`).MatchString(body) {
			t.Errorf("the delegates list lacks bob\n%s", body)
		}
		// Changing the access keeps one grant.
		alice.post(page, url.Values{"grantee": {"bob"}, "access": {"free-busy"}})
		if gs, _ := st.ListGrants(ctx, aliceU.ID); len(gs) != 1 || gs[0].Access != store.GrantFreeBusy {
			t.Fatalf("grants after changing bob to free-busy: %+v", gs)
		}
		id := strconv.FormatInt(gs[0].ID, 10)

		// bob cannot remove alice's grant, nor see it on his page.
		_, body, _ = bob.get(page)
		if strings.Contains(body, "Alice") {
			t.Errorf("bob's delegates page shows alice's grant\n%s", body)
		}
		if code, _, _ := bob.post(page+"/"+id+"/remove", url.Values{}); code != http.StatusNotFound {
			t.Errorf("bob removing alice's grant = %d, want 404", code)
		}
		if gs, _ := st.ListGrants(ctx, aliceU.ID); len(gs) != 1 {
			t.Fatalf("alice's grants after bob's attempt: %+v", gs)
		}

		// Free/busy for everyone: on by default; off, then on.
		if !strings.Contains(body, `value="yes" checked`) {
			t.Errorf("free/busy for everyone is not shown as on by default")
		}
		alice.get(page)
		if code, _, _ := alice.post(page+"/free-busy", url.Values{"everyone": {"no"}, "csrf": {""}}); code != http.StatusForbidden {
			t.Errorf("free-busy without CSRF = %d, want 403", code)
		}
		alice.get(page)
		if code, _, _ := alice.post(page+"/free-busy", url.Values{"everyone": {"maybe"}}); code != http.StatusBadRequest {
			t.Errorf("free-busy maybe = %d, want 400", code)
		}
		alice.get(page)
		if code, _, _ := alice.post(page+"/free-busy", url.Values{"everyone": {"no"}}); code != http.StatusSeeOther {
			t.Errorf("free-busy no = %d, want 303", code)
		}
		if on, _ := st.FreeBusyEveryone(ctx, aliceU.ID); on {
			t.Errorf("free-busy for everyone still on")
		}
		if on, _ := st.FreeBusyEveryone(ctx, bobU.ID); !on {
			t.Errorf("alice's choice changed bob's free-busy")
		}
		if _, body, _ := alice.get(page); !strings.Contains(body, `value="no" checked`) {
			t.Errorf("free/busy for delegates only is not shown")
		}

		alice.get(page)
		code, _, h = alice.post(page+"/"+id+"/remove", url.Values{})
		if code != http.StatusSeeOther || h.Get("Location") != page+"?done=delegate-removed" {
			t.Fatalf("remove = %d %q", code, h.Get("Location"))
		}
		if gs, _ := st.ListGrants(ctx, aliceU.ID); len(gs) != 0 {
			t.Fatalf("grants after removing: %+v", gs)
		}
	})
}

// TestWebBirthdays: the account page switches the Birthdays calendar off
// (gone from the calendar home, not left in the trash) and on again; only
// the user's own, and only with the CSRF token.
func TestWebBirthdays(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ctx := t.Context()
		aliceU, _ := st.GetUser(ctx, "alice")
		bobU, _ := st.GetUser(ctx, "bob")
		alice := e.browser(t)
		alice.signIn("alice", alicePassword)
		count := func(id int64) int {
			cs, err := st.ListCollections(ctx, id, store.KindBirthdays)
			if err != nil {
				t.Fatal(err)
			}
			return len(cs)
		}
		if count(aliceU.ID) != 1 {
			t.Fatalf("alice starts with %d Birthdays calendars, want 1", count(aliceU.ID))
		}
		_, body, _ := alice.get("/web/account")
		if !strings.Contains(body, `<span class="tag" id="birthdays-state">On</span>`) || !strings.Contains(body, `name="birthdays" value="off"`) {
			t.Fatalf("account page does not offer to turn birthdays off\n%s", body)
		}
		if code, _, _ := alice.post("/web/account/birthdays", url.Values{"birthdays": {"off"}, "csrf": {""}}); code != http.StatusForbidden {
			t.Errorf("birthdays off without CSRF = %d, want 403", code)
		}
		if count(aliceU.ID) != 1 {
			t.Fatalf("a CSRF-less POST turned birthdays off")
		}
		alice.get("/web/account")
		if code, _, _ := alice.post("/web/account/birthdays", url.Values{"birthdays": {"sometimes"}}); code != http.StatusBadRequest {
			t.Errorf("birthdays sometimes = %d, want 400", code)
		}
		alice.get("/web/account")
		code, _, h := alice.post("/web/account/birthdays", url.Values{"birthdays": {"off"}})
		if code != http.StatusSeeOther || h.Get("Location") != "/web/account?done=birthdays-off" {
			t.Fatalf("birthdays off = %d %q", code, h.Get("Location"))
		}
		if count(aliceU.ID) != 0 || count(bobU.ID) != 1 {
			t.Fatalf("after off: alice %d, bob %d Birthdays calendars, want 0 and 1", count(aliceU.ID), count(bobU.ID))
		}
		trash, _ := st.ListTrashedCollections(ctx, aliceU.ID)
		for _, tc := range trash {
			if tc.Collection.Kind == store.KindBirthdays {
				t.Errorf("the Birthdays calendar went to the trash")
			}
		}
		resp := e.do(request{method: "PROPFIND", path: "/dav/calendars/alice/", header: map[string]string{"Depth": "1"},
			body: `<propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>`})
		if got := readBody(t, resp); strings.Contains(got, "birthdays") {
			t.Errorf("alice's calendar home still lists a birthdays calendar\n%s", got)
		}
		_, body, _ = alice.get("/web/account?done=birthdays-off")
		if !strings.Contains(body, `name="birthdays" value="on"`) {
			t.Fatalf("account page does not offer to turn birthdays on\n%s", body)
		}
		alice.post("/web/account/birthdays", url.Values{"birthdays": {"on"}})
		alice.get("/web/account")
		alice.post("/web/account/birthdays", url.Values{"birthdays": {"on"}}) // idempotent
		if count(aliceU.ID) != 1 {
			t.Fatalf("after on twice: %d Birthdays calendars, want 1", count(aliceU.ID))
		}
	})
}
