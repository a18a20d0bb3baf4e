//go:build unix

package sqlite

import (
	"context"
	"fmt"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/storetest"
)

// BenchmarkPutHistory is the store's share of what the version history
// costs a PUT (issue 17: at most 15% of a write): a new event and a
// replaced one, with the history off (--history-retention 0) and on. With
// it on it also reports the bytes one kept version takes in the database
// (the table's and its index's pages, by dbstat, over the versions kept).
//
//	go test -run '^$' -bench PutHistory -benchtime 3000x -count 5 ./store/sqlite
func BenchmarkPutHistory(b *testing.B) {
	for _, op := range []string{"create", "replace"} {
		for _, on := range []bool{false, true} {
			name := op + "/history=off"
			if on {
				name = op + "/history=on"
			}
			b.Run(name, func(b *testing.B) {
				s, u, c := benchStore(b, 100)
				s.SetHistory(on)
				ctx := context.Background()
				actor := store.Actor{UserID: u.ID, UserAgent: storetest.HistoryAgent}
				i := 0
				loop(b, func() error {
					i++
					name, uid := fmt.Sprintf("h-%d.ics", i), fmt.Sprintf("h-%d", i)
					if op == "replace" {
						name, uid = "ev-42.ics", "ev-42"
					}
					o := event(c, name, uid)
					o.Body = storetest.HistoryBody(uid, i)
					o.ETag = fmt.Sprint("e", i)
					o.Size = int64(len(o.Body))
					_, err := s.PutObject(ctx, o, store.PutObjectOptions{Actor: actor})
					return err
				})
				if on {
					b.StopTimer()
					var bytes, versions float64
					err := s.w.QueryRow(`SELECT (SELECT sum(pgsize) FROM dbstat WHERE name IN
						('object_versions', 'object_versions_trash_id_idx', 'object_versions_collection_idx')), (SELECT count(*) FROM object_versions)`).Scan(&bytes, &versions)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(bytes/versions, "B/version")
				}
			})
		}
	}
}
