package server_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// aclPrincipalPropSet is the DAV:acl-principal-prop-set body of RFC 3744
// §9.2's example, with the names and addresses a client shows for them.
const aclPrincipalPropSet = `<?xml version="1.0" encoding="utf-8" ?>
<D:acl-principal-prop-set xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:displayname/><C:calendar-user-address-set/><D:resourcetype/></D:prop>
</D:acl-principal-prop-set>`

// TestACLPrincipalPropSet: DAV:acl-principal-prop-set (RFC 3744 §9.2)
// answers the requested properties of each principal DAV:acl names, as the
// user reads DAV:acl: alice, the owner of a calendar shared with bob and a
// group and with carol as her write delegate, gets all four; bob, a
// sharee, the owner and himself; bob asking on alice's principal, whose
// DAV:acl he may not read, 403 DAV:need-privileges with DAV:read-acl; a
// Depth other than 0 is a 400. The report is in supported-report-set.
func TestACLPrincipalPropSet(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		e.addUser("carol", "carol@example.org")
		g := &store.Group{Name: "team", DisplayName: "The Team"}
		if err := st.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		sh := e.share("alice", "personal", store.KindCalendar, "bob", store.AccessRead)
		if err := st.PutShare(ctx, &store.Share{CollectionID: sh.CollectionID, GroupID: g.ID, Access: store.AccessReadWrite, Status: store.ShareAccepted}); err != nil {
			t.Fatal(err)
		}
		e.status("PROPPATCH", as("alice", "PROPPATCH", "/dav/principals/alice/calendar-proxy-write/", proxyMembers("/dav/principals/carol/"), nil), http.StatusMultiStatus)

		depth0 := map[string]string{"Depth": "0"}
		for _, c := range []struct {
			name, user, path string
			header           map[string]string
			want             int
		}{
			{"owner-calendar", "alice", "/dav/calendars/alice/personal/", depth0, http.StatusMultiStatus},
			{"owner-principal", "alice", "/dav/principals/alice/", nil, http.StatusMultiStatus},
			{"sharee-calendar", "bob", fmt.Sprintf("/dav/calendars/bob/shared-%d/", sh.CollectionID), depth0, http.StatusMultiStatus},
			{"other-principal", "bob", "/dav/principals/alice/", depth0, http.StatusForbidden},
			{"depth-1", "alice", "/dav/calendars/alice/personal/", map[string]string{"Depth": "1"}, http.StatusBadRequest},
		} {
			t.Run(c.name, func(t *testing.T) {
				body := e.status("REPORT", as(c.user, "REPORT", c.path, aclPrincipalPropSet, c.header), c.want)
				if c.want != http.StatusBadRequest {
					golden(t, "acl-principal-prop-set/"+c.name, canonical(t, body))
				}
			})
		}

		body := e.status("PROPFIND", request{method: "PROPFIND", path: "/dav/calendars/alice/personal/", header: depth0,
			body: `<D:propfind xmlns:D="DAV:"><D:prop><D:supported-report-set/></D:prop></D:propfind>`}, http.StatusMultiStatus)
		root, err := dav.ParseXML([]byte(body), dav.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		var reports []string
		var walk func(e *dav.Element)
		walk = func(e *dav.Element) {
			if e.Name == dav.Name("report") && len(e.Children) == 1 {
				reports = append(reports, e.Children[0].Name.Local)
			}
			for _, c := range e.Children {
				walk(c)
			}
		}
		walk(root)
		if !slices.Contains(reports, "acl-principal-prop-set") {
			t.Errorf("supported-report-set of a calendar lists %q, want acl-principal-prop-set among them", reports)
		}
	})
}
