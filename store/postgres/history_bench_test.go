package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/storetest"
	"github.com/davenport-dav/davenport/store/testdb"
)

// BenchmarkPutHistory is the store's share of what the version history
// costs a PUT (issue 17: at most 15% of a write): a new event and a
// replaced one, with the history off (--history-retention 0) and on. With
// it on it also reports the bytes one kept version takes
// (pg_total_relation_size of object_versions: table, TOAST and indexes,
// over the versions kept).
//
//	DAVENPORT_TEST_DATABASE_URL=… go test -run '^$' -bench PutHistory -benchtime 3000x -count 5 ./store/postgres
func BenchmarkPutHistory(b *testing.B) {
	for _, op := range []string{"create", "replace"} {
		for _, on := range []bool{false, true} {
			name := op + "/history=off"
			if on {
				name = op + "/history=on"
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				dsn := testdb.PostgresDSN(b)
				// One connection, so that its server process's CPU time
				// is the writes' (the machine's load hardly moves it).
				s, err := postgres.Open(ctx, dsn+"&pool_max_conns=1", discard)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
				s.SetHistory(on)
				u := &store.User{Username: "bench", PasswordHash: "x"}
				if err := s.CreateUser(ctx, u, []store.Collection{{Kind: store.KindCalendar, Name: "cal"}}); err != nil {
					b.Fatal(err)
				}
				c, err := s.GetCollection(ctx, u.ID, store.KindCalendar, "cal")
				if err != nil {
					b.Fatal(err)
				}
				actor := store.Actor{UserID: u.ID, UserAgent: storetest.HistoryAgent}
				pid, err := postgres.BackendPID(s)
				if err != nil {
					b.Fatal(err)
				}
				serverStart, clientStart := procCPU(b, strconv.Itoa(pid)), procCPU(b, "self")
				i, n := 0, 0
				b.ReportAllocs()
				for b.Loop() {
					n++
					i++
					name, uid := fmt.Sprintf("h-%d.ics", i), fmt.Sprintf("h-%d", i)
					if op == "replace" {
						name, uid = "ev.ics", "ev"
					}
					body := storetest.HistoryBody(uid, i)
					o := &store.Object{CollectionID: c.ID, Name: name, UID: uid, ETag: fmt.Sprint("e", i),
						ContentType: "text/calendar; charset=utf-8", Component: "VEVENT", Body: body, Size: int64(len(body))}
					if _, err := s.PutObject(ctx, o, store.PutObjectOptions{Actor: actor}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(procCPU(b, strconv.Itoa(pid))-serverStart)/float64(n), "server-cpu-ns/op")
				b.ReportMetric(float64(procCPU(b, "self")-clientStart)/float64(n), "client-cpu-ns/op")
				if on {
					b.StopTimer()
					conn := connectTB(b, dsn)
					var bytes, versions float64
					err := conn.QueryRow(ctx, `SELECT pg_total_relation_size('object_versions')::float8, (SELECT count(*) FROM object_versions)::float8`).Scan(&bytes, &versions)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(bytes/versions, "B/version")
				}
			})
		}
	}
}

// procCPU is the user and system CPU time of process pid ("self": this
// one) from /proc (clock ticks of 10 ms).
func procCPU(b *testing.B, pid string) time.Duration {
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	// The fields after the command name (which may hold spaces): state is
	// the first, utime the 12th, stime the 13th.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
