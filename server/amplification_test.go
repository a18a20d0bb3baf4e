package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestPropertyListsBounded: requested properties are de-duplicated, and
// lists over 400 in all or 200 distinct are refused with 413, in PROPFIND
// and in REPORTs, so the size of an answer follows what is distinct in the
// request, not its bytes (displayname named 99,990 times once produced
// 4 GB). Multiget hrefs are de-duplicated too.
func TestPropertyListsBounded(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.populate(t)

		// 300 × displayname, Depth 1: one displayname per response.
		resp := e.do(request{method: "PROPFIND", path: personalCal, header: hdr("Depth", "1"),
			body: propfind(strings.Repeat("<D:displayname/>", 300))})
		body := expectStatus(t, "PROPFIND 300 × displayname", resp, http.StatusMultiStatus)
		ms, err := dav.ParseXML([]byte(body), dav.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		responses := ms.ChildrenNamed(dav.Name("response"))
		if len(responses) != len(fixtureNames)+1 {
			t.Fatalf("%d responses, want %d", len(responses), len(fixtureNames)+1)
		}
		for _, r := range responses {
			n := 0
			for _, ps := range r.ChildrenNamed(dav.Name("propstat")) {
				n += len(ps.Child(dav.Name("prop")).ChildrenNamed(dav.Name("displayname")))
			}
			if n != 1 {
				t.Errorf("%s: displayname listed %d times, want once", r.Child(dav.Name("href")).Text, n)
			}
		}

		distinct := func(n int) string {
			var b strings.Builder
			for i := range n {
				fmt.Fprintf(&b, `<X:p%d xmlns:X="urn:x"/>`, i)
			}
			return b.String()
		}
		for _, tc := range []struct {
			what, path, body string
		}{
			{"PROPFIND 401 in all", personalCal, propfind(strings.Repeat("<D:displayname/>", 401))},
			{"PROPFIND 201 distinct", personalCal, propfind(distinct(201))},
			{"calendar-query 401 in all", personalCal, `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>` +
				strings.Repeat("<D:getetag/>", 401) + `</D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`},
			{"multiget 201 distinct", personalCal, `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>` +
				distinct(201) + `</D:prop><D:href>` + personalCal + `a.ics</D:href></C:calendar-multiget>`},
			{"sync-collection 401 in all", personalCal, `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop>` +
				strings.Repeat("<D:getetag/>", 401) + `</D:prop></D:sync-collection>`},
			{"multiget 10,001 hrefs", personalCal, `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>` +
				strings.Repeat(`<D:href>`+personalCal+`a.ics</D:href>`, 10001) + `</C:calendar-multiget>`},
		} {
			method := "REPORT"
			if strings.HasPrefix(tc.what, "PROPFIND") {
				method = "PROPFIND"
			}
			resp := e.do(request{method: method, path: tc.path, body: tc.body, header: hdr("Depth", "1")})
			expectStatus(t, tc.what, resp, http.StatusRequestEntityTooLarge)
		}

		// The same href 50 times: answered once.
		resp = e.do(request{method: "REPORT", path: personalCal, header: hdr("Depth", "1"), body: `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>` +
			strings.Repeat(`<D:href>`+personalCal+`a.ics</D:href>`, 50) + `</C:calendar-multiget>`})
		if got := etagsOf(t, expectStatus(t, "multiget 50 × a.ics", resp, http.StatusMultiStatus)); len(got) != 1 {
			t.Errorf("multiget of one href 50 times answered %d responses, want 1", len(got))
		}
	})
}

// TestResponseBudget: a 207 that reaches the byte or time budget ends,
// well-formed, with a 507 DAV:number-of-matches-within-limits response for
// the request-URI instead of growing without bound.
func TestResponseBudget(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*server.Config)
	}{
		{"bytes", func(c *server.Config) { c.MaxResponseBytes = 2000 }},
		{"time", func(c *server.Config) { c.MaxResponseTime = time.Nanosecond }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, st store.Store) {
				e := newEnv(t, st, tc.cfg)
				e.populate(t)
				for _, r := range []request{
					{method: "PROPFIND", path: personalCal, header: hdr("Depth", "1"), body: propfind(`<D:getetag/><D:displayname/><C:calendar-data/>`)},
					{method: "REPORT", path: personalCal, header: hdr("Depth", "1"), body: `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`},
					{method: "REPORT", path: personalCal, header: hdr("Depth", "1"), body: `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop>` +
						`<D:href>` + personalCal + `a.ics</D:href><D:href>` + personalCal + `b.ics</D:href><D:href>` + personalCal + `c.ics</D:href><D:href>` + personalCal + `d.ics</D:href><D:href>` + personalCal + `e.ics</D:href></C:calendar-multiget>`},
				} {
					what := r.method + " " + r.body[:40]
					body := expectStatus(t, what, e.do(r), http.StatusMultiStatus)
					ms, err := dav.ParseXML([]byte(body), dav.DefaultLimits)
					if err != nil {
						t.Fatalf("%s: truncated answer is not well-formed: %v", what, err)
					}
					responses := ms.ChildrenNamed(dav.Name("response"))
					last := responses[len(responses)-1]
					if s := last.Child(dav.Name("status")); s == nil || !strings.Contains(s.Text, "507") ||
						last.Child(dav.Name("href")).Text != personalCal {
						t.Errorf("%s: the answer does not end with a 507 for the collection:\n%s", what, body)
					}
					if len(responses) > len(fixtureNames) {
						t.Errorf("%s: %d responses; the budget did not cut the answer", what, len(responses))
					}
				}
			})
		})
	}
}
