package server_test

import (
	"context"
	"fmt"
	"io"
	"iter"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// BenchmarkPrincipalSearch is a Thunderbird-style principal-property-search
// (display name or calendar user address contains the text) over the full
// stack, with 1,000 and 10,000 users on each store. A search reads its
// candidates from the store's term index (store/search.go), so its cost
// follows the answer, not the number of users: "one" (a user name, one
// match), "none" and "surname" (40 matches at either size) stay flat from
// 1,000 to 10,000 users; "first" (25 and 250 matches) grows with its
// answer up to the cut at 100 principals; "everyone" (every user) is cut
// at 100 principals and a bounded index read. It prints ms/op (wall time) and cpu-ms/op (this process's CPU:
// client, server and SQLite; PostgreSQL's own is not in it); issue 15 asks for under 20 ms at 10,000 users.
//
//	go test ./server -run '^$' -bench PrincipalSearch -benchtime 200x
func BenchmarkPrincipalSearch(b *testing.B) {
	queries := []struct{ name, match string }{
		{"one", "u00471"},
		{"none", "qqqxz"},
		{"surname", "kaloren"},
		{"first", "nora"},
		{"everyone", "example"},
	}
	for _, be := range testdb.Backends() {
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("%s/users=%d", be.Name, n), func(b *testing.B) {
				st := be.New(b)
				if err := st.Load(context.Background(), directoryUsers(n)); err != nil {
					b.Fatal(err)
				}
				e := newEnvTB(b, st)
				for _, q := range queries {
					b.Run(q.name, func(b *testing.B) {
						body := `<D:principal-property-search xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" test="anyof">` +
							`<D:property-search><D:prop><D:displayname/></D:prop><D:match>` + q.match + `</D:match></D:property-search>` +
							`<D:property-search><D:prop><C:calendar-user-address-set/></D:prop><D:match>` + q.match + `</D:match></D:property-search>` +
							`<D:prop><D:displayname/><C:calendar-user-address-set/></D:prop></D:principal-property-search>`
						r := request{method: "REPORT", path: "/dav/principals/", body: body, header: map[string]string{"Depth": "0"}}
						resp := e.do(r)
						found := strings.Count(readBody(b, resp), "<D:displayname>")
						b.ReportAllocs()
						b.ResetTimer()
						start, cpu := time.Now(), cpuTime()
						for b.Loop() {
							resp := e.do(r)
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if resp.StatusCode != 207 {
								b.Fatalf("status %d", resp.StatusCode)
							}
						}
						b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
						// The CPU the test process (client, server and
						// SQLite) spent, which a loaded machine does not
						// inflate as it does the wall time.
						b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
						b.ReportMetric(float64(found), "principals")
					})
				}
			})
		}
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// directoryUsers are n users named like a company directory: user names
// u00000…, forty first names, 256 surnames, addresses at example.org.
func directoryUsers(n int) iter.Seq2[store.Record, error] {
	firsts := []string{"Nora", "Ada", "Ben", "Cleo", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jana", "Kai", "Lea", "Milo",
		"Nils", "Olga", "Pia", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Vic", "Wren", "Xena", "Yuri", "Zoe", "Amir", "Bea", "Cyd",
		"Dov", "Edda", "Finn", "Gaia", "Hugo", "Iris", "Jon", "Kira", "Lars", "Mina"}
	syl := []string{"ka", "lo", "mi", "ren", "tor", "vel", "zan", "quo", "bri", "dun", "fel", "gor", "hal", "jin", "kes", "lum"}
	created := time.Now().UTC().Truncate(time.Microsecond)
	return func(yield func(store.Record, error) bool) {
		for i := range n {
			first := firsts[i%len(firsts)]
			j := i / len(firsts)
			last := strings.ToUpper(syl[j%16][:1]) + syl[j%16][1:] + syl[(j/16)%16] + "ren"
			u := &store.User{ID: int64(i + 1000), Username: fmt.Sprintf("u%05d", i), DisplayName: first + " " + last,
				Email: strings.ToLower(first+"."+last) + "@example.org", PasswordHash: "x", Created: created}
			if !yield(store.Record{User: u}, nil) {
				return
			}
		}
	}
}
