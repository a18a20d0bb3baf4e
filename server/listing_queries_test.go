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

// listingProps are what a client asks of every member of a home when it
// shows who a collection is shared with: the ACL, both invite properties,
// the privileges and the owner.
const listingProps = `<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop>` +
	`<D:displayname/><D:resourcetype/><D:owner/><D:current-user-privilege-set/><D:acl/><CS:invite/><D:invite/><D:share-access/>` +
	`</D:prop></D:propfind>`

// TestHomeListingQueries: a Depth 1 listing of a calendar home with
// DAV:acl, CS:invite and DAV:invite on every member costs the same number
// of store reads with 5 shared calendars as with 50, each shared with a
// user of its own and a group, with a delegate and a free-busy grantee on
// top — for the owner, and for a sharee whose home holds the 5 or 50
// shares. Before, the owner's listing read the shares of each collection
// (twice: DAV:acl, the invites), the grants and the free-busy setting once
// per calendar, and each sharee.
func TestHomeListingQueries(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		reads := map[int][2]int64{}
		cs := &countingStore{Store: st}
		e := newEnv(t, cs)
		ctx := context.Background()
		for _, n := range []int{5, 50} {
			owner := e.addUser(fmt.Sprintf("owner%d", n), "")
			// The viewer is the owner's write delegate and a sharee of
			// each calendar.
			viewer := e.addUser(fmt.Sprintf("viewer%d", n), "")
			g := &store.Group{Name: fmt.Sprintf("team%d", n)}
			if err := st.CreateGroup(ctx, g); err != nil {
				t.Fatal(err)
			}
			for _, gr := range []store.Grant{{OwnerID: owner.ID, UserID: viewer.ID, Access: store.GrantReadWrite}, {OwnerID: owner.ID, GroupID: g.ID, Access: store.GrantFreeBusy}} {
				if err := st.PutGrant(ctx, &gr); err != nil {
					t.Fatal(err)
				}
			}
			for i := range n {
				c := &store.Collection{OwnerID: owner.ID, Kind: store.KindCalendar, Name: fmt.Sprintf("cal%02d", i), Components: []string{"VEVENT"}}
				if err := st.CreateCollection(ctx, c); err != nil {
					t.Fatal(err)
				}
				sharee := &store.User{Username: fmt.Sprintf("sharee%d-%02d", n, i), DisplayName: fmt.Sprintf("Sharee %d", i), PasswordHash: "x"}
				if err := st.CreateUser(ctx, sharee, nil); err != nil {
					t.Fatal(err)
				}
				for _, sh := range []store.Share{
					{CollectionID: c.ID, UserID: sharee.ID, Access: store.AccessRead, Status: store.ShareAccepted},
					{CollectionID: c.ID, UserID: viewer.ID, Access: store.AccessReadWrite, Status: store.ShareAccepted},
					{CollectionID: c.ID, GroupID: g.ID, Access: store.AccessRead},
				} {
					if err := st.PutShare(ctx, &sh); err != nil {
						t.Fatal(err)
					}
				}
			}
			// The owner's home, and the viewer's with the shares.
			var counts [2]int64
			for i, r := range []request{
				as(owner.Username, "PROPFIND", "/dav/calendars/"+owner.Username+"/", listingProps, map[string]string{"Depth": "1"}),
				as(viewer.Username, "PROPFIND", "/dav/calendars/"+viewer.Username+"/", listingProps, map[string]string{"Depth": "1"}),
			} {
				e.do(r).Body.Close() // warm the authentication cache
				cs.reads.Store(0)
				body := e.status("PROPFIND", r, http.StatusMultiStatus)
				counts[i] = cs.reads.Load()
				if got := strings.Count(body, "<D:response>"); got < n+1 {
					t.Fatalf("%s lists %d responses, want at least %d", r.path, got, n+1)
				}
			}
			reads[n] = counts
		}
		if reads[5] != reads[50] {
			t.Errorf("store reads of a home listing (the owner's, the sharee's): %v with 5 shared calendars, %v with 50; want the same",
				reads[5], reads[50])
		}
		t.Logf("store reads of a home listing with 50 shared calendars: owner's home %d, sharee's home %d", reads[50][0], reads[50][1])
	})
}
