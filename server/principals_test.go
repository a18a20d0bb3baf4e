package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// Tests of principals (RFC 3744): user and group principals as a
// directory, and the principal REPORTs, over the full stack on both
// stores.

const carolPW = "carol-principal-password"

// principalEnv is env with carol (in group choir alone) and group team
// (alice and bob); alice shares her calendar with bob.
func principalEnv(t *testing.T, st store.Store) *env {
	t.Helper()
	e := newEnv(t, st)
	ctx := context.Background()
	hash, err := auth.HashPasswordParams(carolPW, cheapParams)
	if err != nil {
		t.Fatal(err)
	}
	carol := &store.User{Username: "carol", DisplayName: "Carol Lichtenberg", Email: "carol@example.org", PasswordHash: hash}
	if err := st.CreateUser(ctx, carol, server.DefaultCollections()); err != nil {
		t.Fatal(err)
	}
	alice, _ := st.GetUser(ctx, "alice")
	bob, _ := st.GetUser(ctx, "bob")
	team := &store.Group{Name: "team", DisplayName: "The Team"}
	choir := &store.Group{Name: "choir", DisplayName: "Choir"}
	for _, g := range []*store.Group{team, choir} {
		if err := st.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []struct {
		g *store.Group
		u *store.User
	}{{team, alice}, {team, bob}, {choir, carol}} {
		if err := st.AddGroupMember(ctx, m.g.ID, m.u.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.share("alice", "personal", store.KindCalendar, "bob", store.AccessRead)
	return e
}

func principalBody(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "principals", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func credentialsOf(user string) (string, string) {
	switch user {
	case "bob":
		return "bob", bobPassword
	case "carol":
		return "carol", carolPW
	}
	return "alice", alicePassword
}

// TestPrincipalReports pins, in golden files, what each user sees of
// principals: their own in full, others' directory entries only (no
// homes, inbox, outbox or notifications), a group's members to its
// members only, and the answers of every principal REPORT as clients send
// them.
func TestPrincipalReports(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := principalEnv(t, st)
		for _, c := range []struct {
			golden, user, method, path, body string
			header                           map[string]string
			status                           int
		}{
			{"propfind-own", "alice", "PROPFIND", "/dav/principals/alice/", "propfind-principal.xml", with(davx5, "0"), 207},
			{"propfind-other", "alice", "PROPFIND", "/dav/principals/carol/", "propfind-principal.xml", with(davx5, "0"), 207},
			{"propfind-other-same-group", "alice", "PROPFIND", "/dav/principals/bob/", "propfind-principal.xml", with(davx5, "0"), 207},
			{"propfind-group-member", "alice", "PROPFIND", "/dav/principals/_groups/team/", "propfind-principal.xml", with(davx5, "0"), 207},
			{"propfind-group-nonmember", "carol", "PROPFIND", "/dav/principals/_groups/Team/", "propfind-principal.xml", with(davx5, "0"), 207},
			{"thunderbird-search", "alice", "REPORT", "/dav/principals/", "thunderbird-principal-property-search.xml", with(thunderbird, "0"), 207},
			{"apple-search", "alice", "REPORT", "/dav/principals/alice/", "apple-principal-property-search.xml", with(apple, "0"), 207},
			{"evolution-search", "bob", "REPORT", "/dav/calendars/bob/", "evolution-principal-property-search.xml", map[string]string{"Depth": "0"}, 207},
			{"search-not-applied", "bob", "REPORT", "/dav/calendars/bob/", strings.Replace(principalBody(t, "evolution-principal-property-search.xml"), "<apply-to-principal-collection-set/>", "", 1), map[string]string{"Depth": "0"}, 207},
			{"calendarserver-search", "alice", "REPORT", "/dav/principals/alice/", "apple-calendarserver-principal-search.xml", with(apple, "0"), 207},
			{"search-property-set", "alice", "REPORT", "/dav/principals/", "principal-search-property-set.xml", map[string]string{"Depth": "0"}, 200},
			{"match-self", "bob", "REPORT", "/dav/principals/", "principal-match-self.xml", map[string]string{"Depth": "0"}, 207},
			{"match-owner-home", "bob", "REPORT", "/dav/calendars/bob/", "principal-match-owner.xml", map[string]string{"Depth": "0"}, 207},
			{"expand-members", "alice", "REPORT", "/dav/principals/_groups/team/", "apple-expand-group-members.xml", with(apple, "0"), 207},
			{"expand-members-nonmember", "carol", "REPORT", "/dav/principals/_groups/team/", "apple-expand-group-members.xml", with(apple, "0"), 207},
			{"expand-membership", "bob", "REPORT", "/dav/principals/bob/", "expand-group-membership.xml", map[string]string{"Depth": "0"}, 207},
		} {
			t.Run(c.golden, func(t *testing.T) {
				body := c.body
				if strings.HasSuffix(body, ".xml") {
					body = principalBody(t, body)
				}
				user, pw := credentialsOf(c.user)
				resp := e.do(request{method: c.method, path: c.path, body: body, header: c.header, user: user, password: pw})
				got := readBody(t, resp)
				if resp.StatusCode != c.status {
					t.Fatalf("%s %s: %d, want %d\n%s", c.method, c.path, resp.StatusCode, c.status, got)
				}
				golden(t, "principals/"+c.golden, stable(canonical(t, got)))
			})
		}
	})
}

// TestPrincipalAccess: another user's principal and a group's can be read
// as directory entries, never changed; principal URLs resolve the way user
// URLs do; the principal reports refuse what RFC 3744 leaves undefined.
func TestPrincipalAccess(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := principalEnv(t, st)
		propfind := `<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>`
		search := principalBody(t, "evolution-principal-property-search.xml")
		for _, c := range []struct {
			name string
			r    request
			code int
		}{
			{"PROPPATCH another's principal", request{method: "PROPPATCH", path: "/dav/principals/bob/",
				body: `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>`}, 403},
			{"PROPPATCH a group", request{method: "PROPPATCH", path: "/dav/principals/_groups/team/",
				body: `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>`}, 403},
			{"unknown user", request{method: "PROPFIND", path: "/dav/principals/nobody/", body: propfind, header: map[string]string{"Depth": "0"}}, 404},
			{"unknown group", request{method: "PROPFIND", path: "/dav/principals/_groups/nobody/", body: propfind, header: map[string]string{"Depth": "0"}}, 404},
			{"below a group", request{method: "PROPFIND", path: "/dav/principals/_groups/team/x/", body: propfind, header: map[string]string{"Depth": "0"}}, 404},
			{"dot-dot out of groups", request{method: "PROPFIND", path: "/dav/principals/_groups/..%2Fbob/", body: propfind, header: map[string]string{"Depth": "0"}}, 404},
			{"other case", request{method: "PROPFIND", path: "/dav/principals/BOB/", body: propfind, header: map[string]string{"Depth": "0"}}, 207},
			{"search with Depth 1", request{method: "REPORT", path: "/dav/principals/", body: search, header: map[string]string{"Depth": "1"}}, 400},
			{"search with a bad test", request{method: "REPORT", path: "/dav/principals/", body: strings.Replace(search, `xmlns="DAV:"`, `xmlns="DAV:" test="oneof"`, 1), header: map[string]string{"Depth": "0"}}, 400},
			{"match with neither", request{method: "REPORT", path: "/dav/principals/", body: `<D:principal-match xmlns:D="DAV:"><D:prop/></D:principal-match>`, header: map[string]string{"Depth": "0"}}, 400},
			{"expand without a name", request{method: "REPORT", path: "/dav/principals/alice/", body: `<D:expand-property xmlns:D="DAV:"><D:property/></D:expand-property>`, header: map[string]string{"Depth": "0"}}, 400},
		} {
			t.Run(c.name, func(t *testing.T) {
				resp := e.do(c.r)
				if body := readBody(t, resp); resp.StatusCode != c.code {
					t.Errorf("%s %s: %d, want %d\n%s", c.r.method, c.r.path, resp.StatusCode, c.code, body)
				}
			})
		}
		// Every method on another's principal or a group is answered,
		// and none changes anything: reads as on one's own, writes 403
		// or 405.
		for _, path := range []string{"/dav/principals/bob/", "/dav/principals/_groups/team/", "/dav/principals/_groups/choir/"} {
			for _, m := range []string{"GET", "HEAD", "PUT", "DELETE", "POST", "COPY", "MOVE", "MKCOL", "MKCALENDAR", "PROPPATCH", "ACL", "LOCK"} {
				resp := e.do(request{method: m, path: path, body: "<x/>", header: map[string]string{"Destination": "/dav/calendars/alice/copied/", "Content-Type": "text/xml"}})
				body := readBody(t, resp)
				switch {
				case resp.StatusCode >= 500:
					t.Errorf("%s %s: %d\n%s", m, path, resp.StatusCode, body)
				case resp.StatusCode < 300 && m != "GET" && m != "HEAD":
					t.Errorf("%s %s: %d, want a refusal\n%s", m, path, resp.StatusCode, body)
				}
			}
		}
		// An expansion reaches only what the user may read: another
		// user's home is refused, a missing principal not found.
		resp := e.do(request{method: "REPORT", path: "/dav/principals/alice/", header: map[string]string{"Depth": "0"},
			body: `<D:expand-property xmlns:D="DAV:"><D:property name="current-user-principal"><D:property name="displayname"/></D:property></D:expand-property>`})
		if body := canonical(t, readBody(t, resp)); resp.StatusCode != 207 || !strings.Contains(body, "<D:displayname>Alice</D:displayname>") {
			t.Errorf("expand current-user-principal: %d\n%s", resp.StatusCode, body)
		}
		if resp := e.do(request{method: "OPTIONS", path: "/dav/principals/alice/"}); !strings.Contains(resp.Header.Get("DAV"), "calendarserver-principal-search") {
			t.Errorf("DAV header %q lacks calendarserver-principal-search", resp.Header.Get("DAV"))
		}
	})
}

// TestPrincipalSearchLimit: a search answers at most 100 principals (or
// the client's limit), then a 507 for the request-URI with
// DAV:number-of-matches-within-limits, as CalendarServer does; below the
// limit there is no 507.
func TestPrincipalSearchLimit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for i := range 105 {
			u := &store.User{Username: fmt.Sprintf("member%03d", i), DisplayName: fmt.Sprintf("Member %d", i), PasswordHash: "x"}
			if err := st.CreateUser(context.Background(), u, nil); err != nil {
				t.Fatal(err)
			}
		}
		search := func(match, limit string) (int, int, bool) {
			body := `<D:principal-property-search xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:property-search><D:prop><D:displayname/></D:prop><D:match>` +
				match + `</D:match></D:property-search>` + limit + `<D:prop><D:displayname/></D:prop></D:principal-property-search>`
			resp := e.do(request{method: "REPORT", path: "/dav/principals/", body: body, header: map[string]string{"Depth": "0"}})
			got := readBody(t, resp)
			return resp.StatusCode, strings.Count(got, "<D:displayname>"), strings.Contains(got, "507 Insufficient Storage") && strings.Contains(got, "number-of-matches-within-limits")
		}
		for _, c := range []struct {
			match, limit string
			n            int
			cut          bool
		}{
			{"member", "", 100, true},
			{"member", "<CS:limit><CS:nresults>5</CS:nresults></CS:limit>", 5, true},
			{"member", "<D:limit><D:nresults>500</D:nresults></D:limit>", 100, true},
			{"member 10", "", 6, false}, // Member 10, 100–104
			{"member 7", "<CS:limit><CS:nresults>11</CS:nresults></CS:limit>", 11, false},
		} {
			code, n, cut := search(c.match, c.limit)
			if code != http.StatusMultiStatus || n != c.n || cut != c.cut {
				t.Errorf("search %q %s: %d, %d principals, 507 %v; want %d, %v", c.match, c.limit, code, n, cut, c.n, c.cut)
			}
		}
	})
}
