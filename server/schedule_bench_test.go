package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// BenchmarkInvite10 measures implicit scheduling: each iteration is one
// organizer PUT of a new event with 10 local attendees, which places 10
// copies and delivers 10 REQUESTs. It reports invitations per second.
//
//	go test ./server -run '^$' -bench Invite10 -benchtime 200x
func BenchmarkInvite10(b *testing.B) {
	testdb.EachBench(b, func(b *testing.B, st store.Store) {
		e := newEnvTB(b, st)
		ctx := context.Background()
		var attendees []string
		for i := range 10 {
			name := fmt.Sprintf("att%d", i)
			u := &store.User{Username: name, Email: name + "@example.org", PasswordHash: "x"}
			if err := st.CreateUser(ctx, u, server.DefaultCollections()); err != nil {
				b.Fatal(err)
			}
			attendees = append(attendees, name+"@example.org")
		}
		b.ResetTimer()
		i := 0
		for b.Loop() {
			uid := fmt.Sprintf("inv-%d", i)
			i++
			resp := e.do(request{method: "PUT", path: "/dav/calendars/alice/personal/" + uid + ".ics",
				body: meeting(uid, "20260105T100000Z", "", attendees...), header: map[string]string{"Content-Type": "text/calendar"}})
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Fatalf("PUT: %d", resp.StatusCode)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invitations/s")
	})
}
