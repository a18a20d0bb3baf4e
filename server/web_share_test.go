package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestWebShare: the Share dialog finds users and groups by name (names
// only, rate-limited), shares read-only or read-write, shows each sharee's
// answer and revokes; the sharee accepts on "Shared with me" and the
// collection appears in their DAV home. Nobody answers or revokes another
// user's shares.
func TestWebShare(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ctx := t.Context()
		aliceU, _ := st.GetUser(ctx, "alice")
		bobU, _ := st.GetUser(ctx, "bob")
		cal, _ := st.GetCollection(ctx, aliceU.ID, store.KindCalendar, "personal")
		fam := &store.Group{Name: "family", DisplayName: "The Family"}
		if err := st.CreateGroup(ctx, fam); err != nil {
			t.Fatal(err)
		}
		if err := st.AddGroupMember(ctx, fam.ID, bobU.ID); err != nil {
			t.Fatal(err)
		}
		alice := e.browser(t)
		alice.signIn("alice", alicePassword)
		bob := e.browser(t)
		bob.signIn("bob", bobPassword)
		const page = "/web/c/calendars/personal/share"

		// The search: names and display names only, never the user
		// themself, at least two letters.
		code, body, h := alice.get("/web/search?q=BO")
		if code != 200 || h.Get("Content-Type") != "application/json" || strings.TrimSpace(body) != `[{"kind":"user","name":"bob","displayName":"Bob"}]` {
			t.Errorf("search bo = %d %s", code, body)
		}
		for q, want := range map[string]string{"ali": `[]`, "b": `[]`, "fam": `[{"kind":"group","name":"family","displayName":"The Family"}]`,
			// inside a word and across words of the display name
			"AMIL":   `[{"kind":"group","name":"family","displayName":"The Family"}]`,
			"e%20fa": `[{"kind":"group","name":"family","displayName":"The Family"}]`,
			"e%20fx": `[]`, "example": `[]`} {
			if _, body, _ := alice.get("/web/search?q=" + q); strings.TrimSpace(body) != want {
				t.Errorf("search %q = %s, want %s", q, body, want)
			}
		}
		code, body, _ = alice.get(page + "?q=bo")
		if code != 200 || !strings.Contains(body, `name="sharee" value="user:bob"`) || strings.Contains(body, "example.org") {
			t.Errorf("share dialog search = %d\n%s", code, body)
		}

		// Without the CSRF token nothing is shared.
		if code, _, _ := alice.post("/web/c/calendars/personal/shares", url.Values{"sharee": {"user:bob"}, "access": {"read"}, "csrf": {""}}); code != http.StatusForbidden {
			t.Errorf("share without CSRF = %d, want 403", code)
		}
		alice.get(page)
		code, _, h = alice.post("/web/c/calendars/personal/shares", url.Values{"sharee": {"user:bob"}, "access": {"read"}})
		if code != http.StatusSeeOther || h.Get("Location") != page+"?done=shared" {
			t.Fatalf("share with bob = %d %q", code, h.Get("Location"))
		}
		shares, _ := st.ListShares(ctx, cal.ID)
		if len(shares) != 1 || shares[0].UserID != bobU.ID || shares[0].Access != store.AccessRead || shares[0].Status != store.SharePending {
			t.Fatalf("shares after the dialog = %+v", shares)
		}
		_, body, _ = alice.get(page)
		if !regexp.MustCompile(`(?s)<table id="sharees".*Bob <span class="muted">bob</span>.*Can view.*Invited, no answer yet`).MatchString(body) {
			t.Errorf("sharee list lacks bob's pending invitation\n%s", body)
		}
		for _, v := range []url.Values{{"sharee": {"user:nobody"}, "access": {"read"}}, {"sharee": {"alice"}, "access": {"read"}}, {"sharee": {"bob"}, "access": {"all"}}} {
			alice.get(page)
			if code, _, _ := alice.post("/web/c/calendars/personal/shares", v); code != http.StatusBadRequest {
				t.Errorf("share %v = %d, want 400", v, code)
			}
		}

		// Alice cannot answer bob's invitation; bob accepts it.
		answer := "/web/shared/" + strconv.FormatInt(shares[0].ID, 10) + "/answer"
		alice.get("/web/shared")
		if code, _, _ := alice.post(answer, url.Values{"answer": {"accepted"}}); code != http.StatusNotFound {
			t.Errorf("alice answering bob's invitation = %d, want 404", code)
		}
		if _, body, _ := bob.get("/web/"); !strings.Contains(body, `id="invitations-notice"><a href="/web/shared">Someone shared`) {
			t.Errorf("bob's home page does not point to the invitation\n%s", body)
		}
		_, body, _ = bob.get("/web/shared")
		if !strings.Contains(body, `<table id="invitations"`) || !strings.Contains(body, "Calendar: Personal") || !strings.Contains(body, ">Accept<") {
			t.Errorf("bob's invitations\n%s", body)
		}
		if code, _, h := bob.post(answer, url.Values{"answer": {"accepted"}}); code != http.StatusSeeOther || h.Get("Location") != "/web/shared?done=accepted" {
			t.Errorf("bob accepts = %d %q", code, h.Get("Location"))
		}
		sharedURL := "/dav/calendars/bob/shared-" + strconv.FormatInt(cal.ID, 10) + "/"
		if _, body, _ := bob.get("/web/shared"); !strings.Contains(body, sharedURL+"</code>") {
			t.Errorf("bob's shared page lacks the client URL %s\n%s", sharedURL, body)
		}
		resp := e.do(request{method: "PROPFIND", path: sharedURL, user: "bob", password: bobPassword, header: map[string]string{"Depth": "0"}})
		if resp.StatusCode != http.StatusMultiStatus {
			t.Errorf("bob PROPFIND of the accepted share = %d, want 207", resp.StatusCode)
		}

		// Read-write now: the answer stays.
		alice.get(page)
		alice.post("/web/c/calendars/personal/shares", url.Values{"sharee": {"bob"}, "access": {"read-write"}})
		if shares, _ := st.ListShares(ctx, cal.ID); len(shares) != 1 || shares[0].Access != store.AccessReadWrite || shares[0].Status != store.ShareAccepted {
			t.Errorf("after changing the access: %+v", shares)
		}

		// Bob cannot revoke alice's share through his own calendar.
		revoke := "/shares/" + strconv.FormatInt(shares[0].ID, 10) + "/revoke"
		bob.get("/web/")
		if code, _, _ := bob.post("/web/c/calendars/personal"+revoke, url.Values{}); code != http.StatusNotFound {
			t.Errorf("bob revoking alice's share = %d, want 404", code)
		}
		// The group: every member at once.
		alice.get(page)
		alice.post("/web/c/calendars/personal/shares", url.Values{"sharee": {"group:family"}, "access": {"read"}})
		if _, body, _ := alice.get(page); !strings.Contains(body, "The Family") || !strings.Contains(body, "Every member") {
			t.Errorf("group share not listed\n%s", body)
		}
		alice.get(page)
		if code, _, _ := alice.post("/web/c/calendars/personal"+revoke, url.Values{}); code != http.StatusSeeOther {
			t.Errorf("revoke = %d", code)
		}
		if shares, _ := st.ListShares(ctx, cal.ID); len(shares) != 1 || shares[0].GroupID != fam.ID {
			t.Errorf("after revoking bob's share: %+v", shares)
		}

		// The search is rate-limited per user.
		var last int
		for range 40 {
			last, _, _ = bob.get("/web/search?q=al")
		}
		if last != http.StatusTooManyRequests {
			t.Errorf("the 40th search in a minute = %d, want 429", last)
		}
		var ms []map[string]string
		_, body, _ = alice.get("/web/search?q=bob")
		if json.Unmarshal([]byte(body), &ms) != nil || len(ms) != 1 {
			t.Errorf("alice's search after bob was limited = %s (the limit is per user)", body)
		}
	})
}

// TestWebAdminGroups: an administrator creates a group, adds and removes
// members and deletes it; a collection shared with the group follows the
// membership. Other users cannot touch groups.
func TestWebAdminGroups(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ctx := t.Context()
		aliceU, _ := st.GetUser(ctx, "alice")
		bobU, _ := st.GetUser(ctx, "bob")
		if err := st.SetUserAdmin(ctx, aliceU.ID, true); err != nil {
			t.Fatal(err)
		}
		alice := e.browser(t)
		alice.signIn("alice", alicePassword)
		bob := e.browser(t)
		bob.signIn("bob", bobPassword)
		sharedWithBob := func() int {
			scs, err := st.ListSharedCollections(ctx, bobU.ID, store.KindCalendar)
			if err != nil {
				t.Fatal(err)
			}
			return len(scs)
		}

		alice.get("/web/admin/groups")
		if code, _, h := alice.post("/web/admin/groups", url.Values{"name": {"Family"}, "displayname": {"The Family"}}); code != http.StatusSeeOther || h.Get("Location") != "/web/admin/groups?done=created" {
			t.Fatalf("create group = %d %q", code, h.Get("Location"))
		}
		g, err := st.GetGroup(ctx, "family")
		if err != nil || g.DisplayName != "The Family" {
			t.Fatalf("group after create: %+v %v", g, err)
		}
		for _, c := range []struct {
			form url.Values
			want int
		}{
			{url.Values{"name": {"family"}}, http.StatusConflict},
			{url.Values{"name": {"FAMILY"}}, http.StatusConflict}, // names are case-insensitive
			{url.Values{"name": {"a b"}}, http.StatusBadRequest},
			{url.Values{"name": {"x"}, "displayname": {"<b>"}}, http.StatusBadRequest},
		} {
			alice.get("/web/admin/groups")
			if code, _, _ := alice.post("/web/admin/groups", c.form); code != c.want {
				t.Errorf("create group %v = %d, want %d", c.form, code, c.want)
			}
		}
		alice.get("/web/admin/groups")
		if code, _, _ := alice.post("/web/admin/groups/family/members", url.Values{"username": {"nobody"}}); code != http.StatusBadRequest {
			t.Errorf("add an unknown member = %d, want 400", code)
		}
		alice.get("/web/admin/groups")
		if code, _, _ := alice.post("/web/admin/groups/family/members", url.Values{"username": {"BOB"}}); code != http.StatusSeeOther {
			t.Errorf("add bob = %d", code)
		}
		if _, body, _ := alice.get("/web/admin/groups"); !regexp.MustCompile(`(?s)<ul class="plain" id="members-family">.*bob`).MatchString(body) {
			t.Errorf("groups page does not list bob\n%s", body)
		}
		// Bob, not an administrator, can neither see nor change groups.
		bob.get("/web/")
		if code, _, _ := bob.post("/web/admin/groups/family/members/bob/remove", url.Values{}); code != http.StatusForbidden {
			t.Errorf("bob removing himself = %d, want 403", code)
		}
		// A share with the group follows the membership.
		cal, _ := st.GetCollection(ctx, aliceU.ID, store.KindCalendar, "personal")
		if err := st.PutShare(ctx, &store.Share{CollectionID: cal.ID, GroupID: g.ID, Access: store.AccessRead}); err != nil {
			t.Fatal(err)
		}
		if n := sharedWithBob(); n != 1 {
			t.Errorf("bob sees %d shared calendars as a member, want 1", n)
		}
		alice.get("/web/admin/groups")
		if code, _, _ := alice.post("/web/admin/groups/family/members/bob/remove", url.Values{}); code != http.StatusSeeOther {
			t.Errorf("remove bob = %d", code)
		}
		if n := sharedWithBob(); n != 0 {
			t.Errorf("bob sees %d shared calendars after leaving the group, want 0", n)
		}
		alice.get("/web/admin/groups")
		if code, _, _ := alice.post("/web/admin/groups/family/delete", url.Values{"confirm": {"familie"}}); code != http.StatusBadRequest {
			t.Errorf("delete with the wrong name = %d, want 400", code)
		}
		alice.get("/web/admin/groups")
		if code, _, _ := alice.post("/web/admin/groups/family/delete", url.Values{"confirm": {"Family"}}); code != http.StatusSeeOther {
			t.Errorf("delete = %d", code)
		}
		if _, err := st.GetGroup(ctx, "family"); err == nil {
			t.Error("the group is still there after its deletion")
		}
		if shares, _ := st.ListShares(ctx, cal.ID); len(shares) != 0 {
			t.Errorf("shares of a deleted group remain: %+v", shares)
		}
	})
}
