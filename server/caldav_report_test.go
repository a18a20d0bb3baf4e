package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// Every CalDAV REPORT shape (RFC 4791 §7.8–§7.10) on the fixture calendar,
// and the multiget bodies real clients send, pinned as golden 207s.

func reportBody(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "caldav", "report", name+".req"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCalendarReports(t *testing.T) {
	cases := []struct {
		name   string
		depth  string
		want   int
		path   string // default the personal calendar
		suffix string // of the golden file's name
		header map[string]string
	}{
		// calendar-multiget: a missing href gets its own 404, an href of
		// another collection too (RFC 4791 §7.9).
		{name: "multiget-missing", depth: "1", want: http.StatusMultiStatus},
		// time-range: the daily series matches through its instances and
		// its override, the all-day event by its date (RFC 4791 §9.9).
		{name: "query-time-range", depth: "1", want: http.StatusMultiStatus},
		{name: "query-time-range-allday", depth: "1", want: http.StatusMultiStatus},
		{name: "query-open-ended", depth: "1", want: http.StatusMultiStatus},
		{name: "query-vtodo", depth: "1", want: http.StatusMultiStatus},
		{name: "query-text-match", depth: "1", want: http.StatusMultiStatus},
		{name: "query-text-match-unicode", depth: "1", want: http.StatusMultiStatus},
		{name: "query-partial", depth: "1", want: http.StatusMultiStatus},
		{name: "query-expand", depth: "1", want: http.StatusMultiStatus},
		{name: "query-limit-recurrence-set", depth: "1", want: http.StatusMultiStatus},
		{name: "query-alarm", depth: "1", want: http.StatusMultiStatus},
		{name: "query-all", depth: "1", want: http.StatusMultiStatus},
		// Depth 0 on the calendar is accepted as clients send it.
		{name: "query-all", depth: "0", want: http.StatusMultiStatus},
		{name: "query-no-filter", depth: "1", want: http.StatusForbidden},
		{name: "query-bad-collation", depth: "1", want: http.StatusForbidden},
		// A REPORT on the home is not a calendar REPORT.
		{name: "query-all", depth: "1", want: http.StatusForbidden, path: calHome, suffix: "-on-home"},
		// On an object resource a query tests that object alone, and a
		// multiget answers from its calendar (RFC 4791 §7.8, §7.9).
		{name: "query-time-range", depth: "0", want: http.StatusMultiStatus, path: personalCal + "b.ics", suffix: "-on-object"},
		{name: "query-vtodo", depth: "0", want: http.StatusMultiStatus, path: personalCal + "b.ics", suffix: "-on-object"},
		{name: "multiget-missing", depth: "0", want: http.StatusMultiStatus, path: personalCal + "a.ics", suffix: "-on-object"},
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.populate(t)
		for _, c := range cases {
			path := c.path
			if path == "" {
				path = personalCal
			}
			name := "caldav/report/" + c.name + c.suffix
			if c.depth == "0" && c.suffix == "" {
				name += "-depth0"
			}
			t.Run(strings.TrimPrefix(name, "caldav/report/"), func(t *testing.T) {
				h := with(thunderbird, c.depth)
				for k, v := range c.header {
					h[k] = v
				}
				resp := e.do(request{method: "REPORT", path: path, body: reportBody(t, c.name), header: h})
				body := expectStatus(t, "REPORT", resp, c.want)
				golden(t, name, canonical(t, body))
			})
		}
	})
}

func TestFreeBusyQuery(t *testing.T) {
	stamp := regexp.MustCompile(`(?m)^DTSTAMP:\d{8}T\d{6}Z\r$`)
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.populate(t)
		// A cancelled occurrence and a transparent event are free time.
		cancelled := strings.ReplaceAll(fixture(t, "a.ics"), "a@davenport.test", "cancelled@davenport.test")
		cancelled = strings.Replace(cancelled, "SUMMARY:", "STATUS:CANCELLED\r\nSUMMARY:", 1)
		expectStatus(t, "PUT", e.do(request{method: "PUT", path: personalCal + "cancelled.ics", body: cancelled, header: calICS}), http.StatusCreated)
		for _, depth := range []string{"1", "0"} {
			resp := e.do(request{method: "REPORT", path: personalCal, body: reportBody(t, "free-busy"), header: with(davx5, depth)})
			body := expectStatus(t, "free-busy-query", resp, http.StatusOK)
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
				t.Errorf("Content-Type %q", ct)
			}
			if !stamp.MatchString(body) {
				t.Errorf("VFREEBUSY without DTSTAMP:\n%s", body)
			}
			golden(t, "caldav/report/free-busy.ics", strings.ReplaceAll(stamp.ReplaceAllString(body, "DTSTAMP:STAMP\r"), "\r\n", "\n"))
		}
		// VFREEBUSY objects count with their FREEBUSY periods and FBTYPE.
		mk := `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:supported-calendar-component-set>` +
			`<C:comp name="VEVENT"/><C:comp name="VFREEBUSY"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`
		expectStatus(t, "MKCALENDAR", e.do(request{method: "MKCALENDAR", path: calHome + "fb/", body: mk}), http.StatusCreated)
		vfb := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//tests//EN\r\nBEGIN:VFREEBUSY\r\nUID:fb@davenport.test\r\nDTSTAMP:20260101T000000Z\r\n" +
			"DTSTART:20260301T000000Z\r\nDTEND:20260310T000000Z\r\nFREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260304T090000Z/20260304T170000Z\r\n" +
			"FREEBUSY;FBTYPE=FREE:20260305T090000Z/PT1H\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n"
		expectStatus(t, "PUT VFREEBUSY", e.do(request{method: "PUT", path: calHome + "fb/fb.ics", body: vfb, header: calICS}), http.StatusCreated)
		expectStatus(t, "PUT event", e.do(request{method: "PUT", path: calHome + "fb/a.ics", body: fixture(t, "a.ics"), header: calICS}), http.StatusCreated)
		resp := e.do(request{method: "REPORT", path: calHome + "fb/", body: reportBody(t, "free-busy"), header: with(davx5, "1")})
		body := expectStatus(t, "free-busy-query with VFREEBUSY", resp, http.StatusOK)
		golden(t, "caldav/report/free-busy-vfreebusy.ics", strings.ReplaceAll(stamp.ReplaceAllString(body, "DTSTAMP:STAMP\r"), "\r\n", "\n"))

		// RFC 4791 §7.10: the time-range is required.
		resp = e.do(request{method: "REPORT", path: personalCal, body: `<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"/>`, header: with(davx5, "1")})
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("free-busy-query without time-range: %d, want 4xx", resp.StatusCode)
		}
	})
}

// TestClientCalendarRequests replays the calendar requests of shared/clients
// against a populated calendar: Apple's home PROPFIND after the calendars
// were dressed by PROPPATCH, and the multigets of DAVx5 and Thunderbird.
func TestClientCalendarRequests(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.populate(t)
		patch := `<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop>` +
			`<A:calendar-color symbolic-color="blue">#1BADF8FF</A:calendar-color><A:calendar-order>1</A:calendar-order>` +
			`<C:calendar-description>Alice's calendar</C:calendar-description>` +
			`<C:schedule-calendar-transp><C:opaque/></C:schedule-calendar-transp>` +
			`<A:refreshrate>PT1H</A:refreshrate></D:prop></D:set></D:propertyupdate>`
		expectStatus(t, "PROPPATCH", e.do(request{method: "PROPPATCH", path: personalCal, body: patch, header: apple}), http.StatusMultiStatus)
		mk := `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Reminders</D:displayname>` +
			`<A:calendar-color symbolic-color="purple">#CC73E1FF</A:calendar-color><C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`
		expectStatus(t, "MKCALENDAR", e.do(request{method: "MKCALENDAR", path: calHome + "reminders/", body: mk, header: apple}), http.StatusCreated)
		todo := strings.ReplaceAll(fixture(t, "d.ics"), "d@davenport.test", "reminder@davenport.test")
		expectStatus(t, "PUT", e.do(request{method: "PUT", path: calHome + "reminders/r.ics", body: todo, header: calICS}), http.StatusCreated)

		cases := []struct {
			golden, file, path string
			header             map[string]string
		}{
			{"apple-03-calendar-home", "apple-03-calendar-home-propfind.xml", calHome, with(apple, "1")},
			{"davx5-08-calendar-multiget", "davx5-08-calendar-multiget.xml", personalCal, with(davx5, "0")},
			{"thunderbird-06-calendar-multiget", "thunderbird-06-calendar-multiget.xml", personalCal, with(thunderbird, "1")},
		}
		for _, c := range cases {
			t.Run(c.golden, func(t *testing.T) {
				method := "REPORT"
				if strings.Contains(c.file, "propfind") {
					method = "PROPFIND"
				}
				resp := e.do(request{method: method, path: c.path, body: clientBody(t, c.file), header: c.header})
				body := expectStatus(t, c.golden, resp, http.StatusMultiStatus)
				golden(t, "caldav/clients/"+c.golden, canonical(t, body))
			})
		}
	})
}

// TestCalendarTimezone: floating times are read in the calendar's
// calendar-timezone (RFC 4791 §5.2.2), or in the query's CALDAV:timezone
// (§9.8), whether it names an IANA zone, a Windows zone or only itself.
func TestCalendarTimezone(t *testing.T) {
	vtz := func(tzid, offset string) string {
		return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//tests//EN\r\nBEGIN:VTIMEZONE\r\nTZID:" + tzid + "\r\n" +
			"BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:" + offset + "\r\nTZOFFSETTO:" + offset + "\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n"
	}
	escape := func(s string) string { return strings.ReplaceAll(xmlEscape(s), "\r", "&#13;") }
	floating := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//tests//EN\r\nBEGIN:VEVENT\r\nUID:floating@davenport.test\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART:20260310T233000\r\nDTEND:20260310T234500\r\nSUMMARY:Late call\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	query := func(start, end, tz string) string {
		q := `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>` +
			`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="` + start + `" end="` + end + `"/></C:comp-filter></C:comp-filter></C:filter>`
		if tz != "" {
			q += `<C:timezone>` + escape(tz) + `</C:timezone>`
		}
		return q + `</C:calendar-query>`
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		// A Windows zone name, as Outlook-made calendars carry; rules of
		// its own that differ from the real zone's show which one is used.
		mk := `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:calendar-timezone>` +
			escape(vtz("W. Europe Standard Time", "+0300")) + `</C:calendar-timezone></D:prop></D:set></C:mkcalendar>`
		expectStatus(t, "MKCALENDAR", e.do(request{method: "MKCALENDAR", path: calHome + "tz/", body: mk}), http.StatusCreated)
		expectStatus(t, "PUT", e.do(request{method: "PUT", path: calHome + "tz/late.ics", body: floating, header: calICS}), http.StatusCreated)
		const late = calHome + "tz/late.ics"
		cases := []struct {
			name, start, end, tz string
			match                bool
		}{
			// 23:30 in Europe/Berlin (UTC+1 in March) is 22:30Z.
			{"calendar zone, inside", "20260310T220000Z", "20260310T224500Z", "", true},
			{"calendar zone, the UTC reading", "20260310T230000Z", "20260310T235900Z", "", false},
			// A zone only the VTIMEZONE defines: 23:30 at +0500 is 18:30Z.
			{"custom query zone, inside", "20260310T180000Z", "20260310T190000Z", vtz("Custom/Plus-Five", "+0500"), true},
			{"custom query zone, outside", "20260310T220000Z", "20260310T224500Z", vtz("Custom/Plus-Five", "+0500"), false},
			{"IANA query zone", "20260311T033000Z", "20260311T034000Z", vtz("America/New_York", "-0500"), true},
		}
		for _, c := range cases {
			resp := e.do(request{method: "REPORT", path: calHome + "tz/", body: query(c.start, c.end, c.tz), header: hdr("Depth", "1")})
			_, found := etagsOf(t, expectStatus(t, c.name, resp, http.StatusMultiStatus))[late]
			if found != c.match {
				t.Errorf("%s: matched %v, want %v", c.name, found, c.match)
			}
		}
		// A calendar-timezone that is not one VTIMEZONE is refused.
		bad := []string{"not a calendar", strings.Replace(floating, "BEGIN:VEVENT", "BEGIN:VTIMEZONE\r\nTZID:X\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT", 1)}
		for i, tz := range bad {
			mk := `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:calendar-timezone>` + escape(tz) + `</C:calendar-timezone></D:prop></D:set></C:mkcalendar>`
			resp := e.do(request{method: "MKCALENDAR", path: calHome + "badtz/", body: mk})
			body := expectStatus(t, "MKCALENDAR with a bad calendar-timezone", resp, http.StatusForbidden)
			if i == 0 {
				golden(t, "caldav/mkcalendar-bad-timezone", canonical(t, body))
			}
			patch := `<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:calendar-timezone>` + escape(tz) + `</C:calendar-timezone></D:prop></D:set></D:propertyupdate>`
			resp = e.do(request{method: "PROPPATCH", path: calHome + "tz/", body: patch})
			body = expectStatus(t, "PROPPATCH with a bad calendar-timezone", resp, http.StatusMultiStatus)
			if i == 0 {
				golden(t, "caldav/proppatch-bad-timezone", canonical(t, body))
			}
		}
	})
}

// TestHostileRecurrence: a rule with no end and a tiny interval is stored
// (it is valid iCalendar), but expanding or querying it is bounded: a clear
// answer comes back quickly, not a hang (DESIGN.md "Performance").
func TestHostileRecurrence(t *testing.T) {
	secondly := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//tests//EN\r\nBEGIN:VEVENT\r\nUID:secondly@davenport.test\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART:20260101T000000Z\r\nDURATION:PT1S\r\nRRULE:FREQ=SECONDLY\r\nSUMMARY:tick\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.populate(t)
		resp := e.do(request{method: "PUT", path: personalCal + "secondly.ics", body: secondly, header: calICS})
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusForbidden {
			t.Fatalf("PUT of a SECONDLY rule: %d", resp.StatusCode)
		}
		stored := resp.StatusCode == http.StatusCreated
		for _, c := range []struct{ name, body string }{
			{"expand a century", strings.NewReplacer("20260302T000000Z", "20000101T000000Z", "20260307T000000Z", "21000101T000000Z").Replace(
				strings.Replace(reportBody(t, "query-expand"), `<C:prop-filter name="UID"><C:text-match collation="i;octet">b@davenport.test</C:text-match></C:prop-filter>`, "", 1))},
			{"time-range far away", strings.NewReplacer("20260303T000000Z", "20990101T000000Z", "20260306T000000Z", "20990102T000000Z").Replace(reportBody(t, "query-time-range"))},
			{"free-busy of a year", strings.NewReplacer("20260302T000000Z", "20260101T000000Z", "20260309T000000Z", "20270101T000000Z").Replace(reportBody(t, "free-busy"))},
		} {
			start := time.Now()
			resp := e.do(request{method: "REPORT", path: personalCal, body: c.body, header: hdr("Depth", "1")})
			body := readBody(t, resp)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("%s took %v", c.name, d)
			}
			if resp.StatusCode >= 500 {
				t.Errorf("%s: %d\n%s", c.name, resp.StatusCode, body)
			}
			t.Logf("%s (stored %v): %d, %d bytes in %v", c.name, stored, resp.StatusCode, len(body), time.Since(start))
		}
		// The other objects are still answered when one cannot be expanded.
		resp = e.do(request{method: "REPORT", path: personalCal, body: reportBody(t, "query-time-range"), header: hdr("Depth", "1")})
		if _, ok := etagsOf(t, expectStatus(t, "query", resp, http.StatusMultiStatus))[personalCal+"b.ics"]; !ok {
			t.Error("b.ics is no longer found beside the hostile rule")
		}
	})
}

// TestCalendarDataRequestRefusedWhole: a calendar-data request the server
// cannot serve fails the whole REPORT with its precondition, not each
// object's response.
func TestCalendarDataRequestRefusedWhole(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ev := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:cd-1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		if resp := e.do(request{method: "PUT", path: "/dav/calendars/alice/personal/cd-1.ics", body: ev, header: map[string]string{"Content-Type": "text/calendar"}}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
		data := `<C:calendar-data content-type="application/calendar+json"/>`
		for name, body := range map[string]string{
			"multiget": `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/>` + data + `</D:prop><D:href>/dav/calendars/alice/personal/cd-1.ics</D:href></C:calendar-multiget>`,
			"query":    `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>` + data + `</D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`,
		} {
			resp := e.do(request{method: "REPORT", path: "/dav/calendars/alice/personal/", body: body, header: map[string]string{"Depth": "1"}})
			got := readBody(t, resp)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(canonical(t, got), "<C:supported-calendar-data/>") {
				t.Errorf("%s: %d\n%s", name, resp.StatusCode, got)
			}
		}
	})
}
