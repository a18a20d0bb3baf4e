package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// BenchmarkHomeWith50Shares is bob's calendar home listing (DAVx5's
// PROPFIND Depth 1) with 50 calendars of 50 other users shared with him,
// half directly and half through a group: the shares cost one query
// whatever their number (issue 15 asks for under 10 ms). Run it with
// -bench HomeWith50Shares; the stores are chosen with the subbenchmark.
func BenchmarkHomeWith50Shares(b *testing.B) {
	testdb.EachBench(b, func(b *testing.B, st store.Store) {
		e := newEnvTB(b, st)
		ctx := context.Background()
		bob, err := st.GetUser(ctx, "bob")
		if err != nil {
			b.Fatal(err)
		}
		g := &store.Group{Name: "everyone"}
		if err := st.CreateGroup(ctx, g); err != nil {
			b.Fatal(err)
		}
		if err := st.AddGroupMember(ctx, g.ID, bob.ID); err != nil {
			b.Fatal(err)
		}
		for i := range 50 {
			u := &store.User{Username: fmt.Sprintf("owner%02d", i), PasswordHash: "x"}
			c := store.Collection{Kind: store.KindCalendar, Name: "cal", DisplayName: "Calendar", Components: []string{"VEVENT"}}
			if err := st.CreateUser(ctx, u, []store.Collection{c}); err != nil {
				b.Fatal(err)
			}
			col, err := st.GetCollection(ctx, u.ID, store.KindCalendar, "cal")
			if err != nil {
				b.Fatal(err)
			}
			sh := &store.Share{CollectionID: col.ID, UserID: bob.ID, Access: store.AccessRead, Status: store.ShareAccepted}
			if i%2 == 1 {
				sh = &store.Share{CollectionID: col.ID, GroupID: g.ID, Access: store.AccessReadWrite}
			}
			if err := st.PutShare(ctx, sh); err != nil {
				b.Fatal(err)
			}
		}
		body := `<propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/" xmlns:I="http://apple.com/ns/ical/"><prop><resourcetype/><displayname/><owner/><current-user-privilege-set/><I:calendar-color/><CAL:supported-calendar-component-set/><CS:getctag/><sync-token/></prop></propfind>`
		r := bobReq("PROPFIND", "/dav/calendars/bob/", body, map[string]string{"Depth": "1"})
		resp := e.do(r)
		listed := hrefs(readBody(b, resp))
		shared := 0
		for _, h := range listed {
			if strings.Contains(h, "/shared-") {
				shared++
			}
		}
		if len(listed) != 53 || shared != 50 {
			b.Fatalf("home lists %d resources, %d of them shared, want 53 (home, own calendar, contact birthdays, 50 shared)", len(listed), shared)
		}
		e.bench(b, r)
	})
}
