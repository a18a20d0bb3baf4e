package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// BenchmarkWebPages measures the server time of each web UI page for a
// user with 50 collections holding 100,000 items, on both stores: counts
// and sizes come from per-collection counters, and the history and trash
// pages read the newest versions through an index, so no page may grow
// with the number of items (target: under 20 ms each). The history holds
// the 100,000 creations plus an edit and a deletion in every collection.
// It reports ms/page, and cpu-ms/page, the process's CPU time per page,
// which a loaded machine does not inflate.
//
//	go test ./server -run '^$' -bench BenchmarkWebPages -benchtime 200x
func BenchmarkWebPages(b *testing.B) {
	testdb.EachBench(b, benchWebPages)
}

func benchWebPages(b *testing.B, st store.Store) {
	const collections, items = 50, 100_000
	e := newEnvTB(b, st)
	ctx := context.Background()
	alice, err := st.GetUser(ctx, "alice")
	if err != nil {
		b.Fatal(err)
	}
	if err := st.SetUserAdmin(ctx, alice.ID, true); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for c := range collections {
		col := &store.Collection{OwnerID: alice.ID, Kind: store.KindCalendar, Name: fmt.Sprintf("cal-%02d", c),
			DisplayName: fmt.Sprintf("Calendar %d", c), Components: []string{"VEVENT"}, Color: "#3A7BD5FF"}
		if err := st.CreateCollection(ctx, col); err != nil {
			b.Fatal(err)
		}
		for i := range items / collections {
			body := []byte(fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:ev-%d-%d\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T100000Z\r\nSUMMARY:Event %d\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", c, i, i))
			o := &store.Object{CollectionID: col.ID, Name: fmt.Sprintf("ev-%d.ics", i), UID: fmt.Sprintf("ev-%d-%d", c, i),
				ETag: dav.BodyETag(body), ContentType: "text/calendar; charset=utf-8", Component: "VEVENT", Body: body}
			if _, err := st.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		// An edit of one item and the deletion of another, for the item
		// and trash pages; the collections made after this one bury them
		// deep in the owner's history.
		{
			cc := c
			body := []byte(fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:ev-%d-7\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T110000Z\r\nSUMMARY:Event 7 moved\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", cc))
			o := &store.Object{CollectionID: col.ID, Name: "ev-7.ics", UID: fmt.Sprintf("ev-%d-7", cc),
				ETag: dav.BodyETag(body), ContentType: "text/calendar; charset=utf-8", Component: "VEVENT", Body: body}
			if _, err := st.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
				b.Fatal(err)
			}
			if err := st.DeleteObject(ctx, col.ID, "ev-8.ics", store.DeleteObjectOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("seeded %d items in %d collections in %v", items, collections, time.Since(start).Round(time.Second))

	h := e.srv.Config.Handler
	session := webSession(b, h).cookie
	for _, path := range []string{"/web/", "/web/c/calendars/cal-07", "/web/account", "/web/connect", "/web/admin", "/web/admin/status",
		"/web/c/calendars/cal-07/share", "/web/c/calendars/cal-07/history", "/web/c/calendars/cal-07/items/ev-7.ics", "/web/history", "/web/shared",
		"/web/c/calendars/cal-07/links", "/web/delegates"} {
		b.Run(strings.Trim(strings.ReplaceAll(path, "/", "_"), "_"), func(b *testing.B) {
			b.ReportAllocs()
			var total time.Duration
			cpu0 := cpuTime()
			for b.Loop() {
				req := httptest.NewRequest("GET", path, nil)
				req.AddCookie(session)
				rec := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(rec, req)
				total += time.Since(t0)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s = %d", path, rec.Code)
				}
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/page")
			// The process's CPU time per page (with PostgreSQL, without
			// the database server's): what the page costs however loaded
			// the machine is.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/page")
		})
	}
}

// benchSession is a signed-in session of a benchmark: its cookie and the
// CSRF token of its forms.
type benchSession struct {
	cookie *http.Cookie
	csrf   string
}

// webSession signs alice in through h.
func webSession(b *testing.B, h http.Handler) benchSession {
	b.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept", "text/html")
	h.ServeHTTP(rec, req)
	login := rec.Result().Cookies()[0]
	form := url.Values{"username": {"alice"}, "password": {alicePassword}, "csrf": {login.Value}}
	req = httptest.NewRequest("POST", "/web/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(login)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var s benchSession
	for _, c := range rec.Result().Cookies() {
		if c.Name == "davenport_session" {
			s.cookie = c
		}
	}
	if s.cookie == nil {
		b.Fatalf("sign-in failed: %d %s", rec.Code, rec.Body)
	}
	req = httptest.NewRequest("GET", "/web/account", nil)
	req.AddCookie(s.cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	m := reCSRF.FindStringSubmatch(rec.Body.String())
	if m == nil {
		b.Fatalf("no CSRF token on /web/account: %d", rec.Code)
	}
	s.csrf = m[1] + m[2]
	return s
}
