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

// userLister is a real store that counts the calls listing every user.
type userLister struct {
	store.Store
	n atomic.Int64
}

func (u *userLister) ListUsers(ctx context.Context) ([]store.User, error) {
	u.n.Add(1)
	return u.Store.ListUsers(ctx)
}

// TestMailtoLookupIsIndexed: resolving a mailto: address, for an
// invitation (RFC 6638 §3.2) or a CalendarServer share, is one indexed
// lookup by email address (store.GetUserByEmail), never a read of every
// user: the cost of an invitation does not grow with the number of users.
func TestMailtoLookupIsIndexed(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		ul := &userLister{Store: st}
		e := schedEnv(t, ul)
		// Bob's address is stored as Bob@Example.org; the invitation
		// writes it in another case.
		resp := e.put("", "", "/dav/calendars/alice/personal/m.ics", meeting("m-1", "20260105T100000Z", "", "BOB@example.ORG"), nil)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("organizer PUT: %d %s", resp.StatusCode, readBody(t, resp))
		}
		if n := countContaining(e.inbox("bob"), "UID:m-1", "METHOD:REQUEST"); n != 1 {
			t.Errorf("bob's inbox holds %d invitations, want 1", n)
		}
		resp = e.do(request{method: "POST", path: "/dav/calendars/alice/personal/", header: map[string]string{"Content-Type": "text/xml"},
			body: strings.Replace(sharingBody(t, "apple-share.xml"), "mailto:carol@example.org", "mailto:CAROL@example.org", 1)})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("share POST: %d %s", resp.StatusCode, readBody(t, resp))
		}
		carol, err := st.GetUser(context.Background(), "carol")
		if err != nil {
			t.Fatal(err)
		}
		if inv, err := st.ListInvitations(context.Background(), carol.ID); err != nil || len(inv) != 1 {
			t.Errorf("carol's invitations: %d, %v; want 1", len(inv), err)
		}
		if n := ul.n.Load(); n != 0 {
			t.Errorf("ListUsers was called %d times", n)
		}
	})
}
