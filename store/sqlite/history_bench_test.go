//go:build unix

package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// historyBody is a 1.1 KiB event, the size of most of a real calendar;
// historyAgent a User-Agent of DAVx5's length. Both stores' history
// benchmarks write them.
var historyBody = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\n" +
	"DTSTAMP:20250101T000000Z\r\nDTSTART:20250102T100000Z\r\nDURATION:PT1H\r\nSUMMARY:Meeting %08d\r\nDESCRIPTION:" +
	strings.Repeat("Agenda item, notes and a link to the minutes. ", 21) + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

const historyAgent = "DAVx5/4.4.3.2-ose (2024/10/21; dav4jvm; okhttp/4.12.0) Android/14"

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
				actor := store.Actor{UserID: u.ID, UserAgent: historyAgent}
				i := 0
				loop(b, func() error {
					i++
					name, uid := fmt.Sprintf("h-%d.ics", i), fmt.Sprintf("h-%d", i)
					if op == "replace" {
						name, uid = "ev-42.ics", "ev-42"
					}
					o := event(c, name, uid)
					o.Body = fmt.Appendf(nil, historyBody, uid, i)
					o.ETag = fmt.Sprint("e", i)
					o.Size = int64(len(o.Body))
					_, err := s.PutObject(ctx, o, store.PutObjectOptions{Actor: actor})
					return err
				})
				if on {
					b.StopTimer()
					var bytes, versions float64
					err := s.w.QueryRow(`SELECT (SELECT sum(pgsize) FROM dbstat WHERE name IN
						('object_versions', 'object_versions_trash_id_idx')), (SELECT count(*) FROM object_versions)`).Scan(&bytes, &versions)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(bytes/versions, "B/version")
				}
			})
		}
	}
}
