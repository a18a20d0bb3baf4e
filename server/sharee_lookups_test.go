package server_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// shareeLookups is a real store that counts the reads of users by id and
// of the group list: what naming a sharee or grantee costs.
type shareeLookups struct {
	store.Store
	users, groups atomic.Int64
}

func (s *shareeLookups) GetUserByID(ctx context.Context, id int64) (*store.User, error) {
	s.users.Add(1)
	return s.Store.GetUserByID(ctx, id)
}

func (s *shareeLookups) ListGroups(ctx context.Context) ([]store.Group, error) {
	s.groups.Add(1)
	return s.Store.ListGroups(ctx)
}

// TestShareeLookupsPerRequest: a Depth 1 listing of a home whose
// calendars are shared with the same user and group, asking for CS:invite,
// DAV:invite and DAV:acl on each, reads that user and the groups once,
// not once per collection and property; the answer still names them.
func TestShareeLookupsPerRequest(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		sl := &shareeLookups{Store: st}
		e := newEnv(t, sl)
		ctx := context.Background()
		g := &store.Group{Name: "team", DisplayName: "The Team"}
		if err := st.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		alice, err := st.GetUser(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		cals := []string{"personal", "work", "home"}
		for _, c := range cals[1:] {
			e.status("MKCALENDAR", request{method: "MKCALENDAR", path: "/dav/calendars/alice/" + c + "/"}, 201)
		}
		for _, c := range cals {
			e.share("alice", c, store.KindCalendar, "bob", store.AccessRead)
			col, err := st.GetCollection(ctx, alice.ID, store.KindCalendar, c)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.PutShare(ctx, &store.Share{CollectionID: col.ID, GroupID: g.ID, Access: store.AccessReadWrite, Status: store.ShareAccepted}); err != nil {
				t.Fatal(err)
			}
		}
		sl.users.Store(0)
		sl.groups.Store(0)
		body := e.status("PROPFIND", request{method: "PROPFIND", path: "/dav/calendars/alice/", header: map[string]string{"Depth": "1"},
			body: `<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><CS:invite/><D:invite/><D:acl/></D:prop></D:propfind>`},
			http.StatusMultiStatus)
		if n := sl.users.Load(); n > 1 {
			t.Errorf("GetUserByID called %d times, want at most 1", n)
		}
		if n := sl.groups.Load(); n > 1 {
			t.Errorf("ListGroups called %d times, want at most 1", n)
		}
		for _, want := range []string{"/dav/principals/bob/", "/dav/principals/_groups/team/", "The Team"} {
			if got := strings.Count(body, want); got < len(cals) {
				t.Errorf("%q named %d times in the listing, want at least %d", want, got, len(cals))
			}
		}
	})
}
