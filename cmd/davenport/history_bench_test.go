package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// BenchmarkPutHistory measures what the version history costs a PUT, over
// HTTP through the whole stack, on both stores, for a new event and for a
// replaced one (the replace copies the previous version). Two servers run
// side by side, one with history on (the default) and one with it off
// (--history-retention 0), and the PUTs alternate between them, so that the
// load of a shared machine falls on both alike. It reports the throughput
// of each and their ratio; issue 17 wants on/off at 0.85 or more:
//
//	go test -run '^$' -bench PutHistory -benchtime 2000x ./cmd/davenport
func BenchmarkPutHistory(b *testing.B) {
	for _, be := range testdb.Backends() {
		for _, op := range []string{"create", "replace"} {
			b.Run(be.Name+"/"+op, func(b *testing.B) {
				var targets [2]*putTarget // off, on
				for i := range targets {
					st := be.New(b)
					st.(historySwitch).SetHistory(i == 1)
					targets[i] = newPutTarget(b, st)
				}
				// Same body sizes on both: about 1 KiB, like most of a
				// real calendar.
				desc := strings.Repeat("Agenda item, notes and a link to the minutes. ", 16)
				var spent [2]time.Duration
				var n [2]int
				i := 0
				for b.Loop() {
					t := i % 2
					k := i / 2
					name, uid := fmt.Sprintf("e-%d.ics", k), fmt.Sprintf("uid-%d", k)
					if op == "replace" {
						name, uid = "e.ics", "uid"
					}
					body := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
						"\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250102T100000Z\r\nDURATION:PT1H\r\nSUMMARY:Meeting " +
						fmt.Sprintf("%08d", k) + "\r\nDESCRIPTION:" + desc + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
					start := time.Now()
					targets[t].put(b, name, body)
					spent[t] += time.Since(start)
					n[t]++
					i++
				}
				off := float64(n[0]) / spent[0].Seconds()
				on := float64(n[1]) / spent[1].Seconds()
				b.ReportMetric(off, "PUT/s-off")
				b.ReportMetric(on, "PUT/s-on")
				b.ReportMetric(on/off, "on/off")
			})
		}
	}
}

// putTarget is a whole server over one store, with one user.
type putTarget struct {
	url    string
	client *http.Client
}

func newPutTarget(b *testing.B, st store.Store) *putTarget {
	ctx := context.Background()
	if _, err := createUser(ctx, st, "bench", "bench-password", "", ""); err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	authn, err := auth.New(st, logger, auth.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(server.New(server.Config{Store: st, Auth: authn, Logger: logger, MaxResourceSize: 1 << 20}))
	b.Cleanup(ts.Close)
	return &putTarget{url: ts.URL, client: ts.Client()}
}

func (p *putTarget) put(b *testing.B, name, body string) {
	req, _ := http.NewRequest("PUT", p.url+"/dav/calendars/bench/personal/"+name, strings.NewReader(body))
	req.SetBasicAuth("bench", "bench-password")
	req.Header.Set("Content-Type", "text/calendar; charset=utf-8")
	req.Header.Set("User-Agent", "bench/1")
	resp, err := p.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
		b.Fatalf("PUT %s: %d", name, resp.StatusCode)
	}
}
