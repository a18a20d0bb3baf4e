package server_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-webdav"
	gocaldav "github.com/emersion/go-webdav/caldav"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

const birthdaysPath = "/dav/calendars/alice/contact_birthdays/"

// TestBirthdaysCalendar (issue 17): the Birthdays calendar is in the
// calendar home where go-webdav's client discovers it; it holds a yearly
// all-day event per BDAY and ANNIVERSARY (vCard 3, vCard 4 and --MMDD,
// Apple's omitted year, February 29), with the age where the year is known;
// it follows edits and deletions of the contacts through sync-collection
// (and getctag in the home listing); clients cannot write to it.
func TestBirthdaysCalendar(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		year := time.Now().Year()
		cards := map[string]string{
			"carol.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:carol\r\nFN:Carol Example\r\nN:Example;Carol;;;\r\nBDAY:1980-04-12\r\nEND:VCARD\r\n",
			"dave.vcf": "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:dave\r\nFN:Dave\\, Jr.\r\nBDAY:--0229\r\n" +
				"ANNIVERSARY:20100612\r\nEND:VCARD\r\n",
			"erin.vcf":  "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:erin\r\nFN:Erin\r\nBDAY;VALUE=text:circa 1800\r\nEND:VCARD\r\n",
			"frank.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:frank\r\nFN:Frank\r\nBDAY;X-APPLE-OMIT-YEAR=1604:1604-12-24\r\nEND:VCARD\r\n",
		}
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range cards {
				if !yield(k) {
					return
				}
			}
		}) {
			e.syncMust(t, "PUT", "/dav/addressbooks/alice/contacts/"+name, cards[name], syncVCF, http.StatusCreated)
		}

		// Discovered like any calendar.
		hc := webdav.HTTPClientWithBasicAuth(http.DefaultClient, "alice", alicePassword)
		cc, err := gocaldav.NewClient(hc, e.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		cals, err := cc.FindCalendars(ctx, "/dav/calendars/alice/")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range cals {
			if c.Path == birthdaysPath && c.Name == "Birthdays" {
				found = true
			}
		}
		if !found {
			t.Fatalf("FindCalendars does not list %s: %+v", birthdaysPath, cals)
		}

		// The initial sync: four events (Carol, Dave twice, Frank).
		page := e.syncPageOf(t, "")
		if len(page.changed) != 4 {
			t.Fatalf("initial sync: %d events, want 4: %v", len(page.changed), page.changed)
		}
		bodies := map[string]string{}
		for href := range page.changed {
			bodies[href] = e.syncMust(t, "GET", href, "", nil, http.StatusOK).body
		}
		find := func(sub string) string {
			t.Helper()
			for _, b := range bodies {
				if strings.Contains(b, sub) {
					return b
				}
			}
			t.Fatalf("no event holds %q: %v", sub, bodies)
			return ""
		}
		carol := find("SUMMARY:Birthday: Carol Example\r\n")
		for _, want := range []string{"DTSTART;VALUE=DATE:19800412\r\n", "RRULE:FREQ=YEARLY\r\n", "TRANSP:TRANSPARENT\r\n",
			fmt.Sprintf("RECURRENCE-ID;VALUE=DATE:%d0412\r\n", year), fmt.Sprintf("SUMMARY:Birthday: Carol Example (%d)\r\n", year-1980)} {
			if !strings.Contains(carol, want) {
				t.Errorf("Carol's event lacks %q:\n%s", want, carol)
			}
		}
		dave := find("SUMMARY:Birthday: Dave\\, Jr.\r\n")
		if !strings.Contains(dave, "DTSTART;VALUE=DATE:19720229\r\n") || !strings.Contains(dave, "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1\r\n") ||
			strings.Contains(dave, "RECURRENCE-ID") {
			t.Errorf("Dave's --0229 birthday (no year, no age):\n%s", dave)
		}
		if a := find("SUMMARY:Anniversary: Dave\\, Jr.\r\n"); !strings.Contains(a, fmt.Sprintf("(%d)", year-2010)) {
			t.Errorf("Dave's anniversary has no count of years:\n%s", a)
		}
		if f := find("SUMMARY:Birthday: Frank\r\n"); !strings.Contains(f, "DTSTART;VALUE=DATE:19701224\r\n") || strings.Contains(f, "RECURRENCE-ID") {
			t.Errorf("Frank's omitted year is not a year:\n%s", f)
		}

		// A calendar-query finds this year's instance of Carol's birthday.
		q := e.syncMust(t, "REPORT", birthdaysPath, fmt.Sprintf(`<?xml version="1.0"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>
<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
<C:time-range start="%d0410T000000Z" end="%d0415T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`, year+3, year+3),
			syncDepth1, http.StatusMultiStatus)
		if n := strings.Count(q.body, "<D:href>") + strings.Count(q.body, "<href>"); n != 1 {
			t.Errorf("calendar-query for April %d: %d hrefs, want Carol's:\n%s", year+3, n, q.body)
		}

		// Edits and deletions of contacts arrive by sync, and the home
		// listing's getctag moves with them.
		ctag := e.birthdaysCTag(t)
		e.syncMust(t, "PUT", "/dav/addressbooks/alice/contacts/carol.vcf",
			strings.Replace(cards["carol.vcf"], "1980-04-12", "1981-05-01", 1), syncVCF, http.StatusNoContent)
		if now := e.birthdaysCTag(t); now == ctag {
			t.Errorf("getctag in the home listing did not move after a birthday changed: %s", now)
		}
		next := e.syncPageOf(t, page.token)
		if len(next.changed) != 1 || len(next.deleted) != 0 || next.token == page.token {
			t.Fatalf("sync after editing Carol: %+v", next)
		}
		for href := range next.changed {
			if b := e.syncMust(t, "GET", href, "", nil, http.StatusOK).body; !strings.Contains(b, "DTSTART;VALUE=DATE:19810501\r\n") {
				t.Errorf("Carol's event after the edit:\n%s", b)
			}
		}
		e.syncMust(t, "DELETE", "/dav/addressbooks/alice/contacts/dave.vcf", "", nil, http.StatusNoContent)
		last := e.syncPageOf(t, next.token)
		if len(last.changed) != 0 || len(last.deleted) != 2 {
			t.Fatalf("sync after deleting Dave: %+v, want his two events gone", last)
		}
		// Nothing changed: nothing to sync, the same token.
		if again := e.syncPageOf(t, last.token); again.members() != 0 || again.token != last.token {
			t.Errorf("sync with nothing changed: %+v", again)
		}

		// Read-only: DAV:need-privileges (RFC 3744 §7.1.1).
		var anEvent string
		for href := range next.changed {
			anEvent = href
		}
		for _, r := range []struct{ method, path, body string }{
			{"PUT", birthdaysPath + "new.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:n\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"},
			{"PUT", anEvent, bodies[anEvent]},
			{"DELETE", anEvent, ""},
			{"DELETE", birthdaysPath, ""},
		} {
			got := e.syncMust(t, r.method, r.path, r.body, map[string]string{"Content-Type": "text/calendar"}, http.StatusForbidden)
			if !strings.Contains(got.body, "need-privileges") {
				t.Errorf("%s %s: 403 without DAV:need-privileges:\n%s", r.method, r.path, got.body)
			}
		}
		if b := e.syncMust(t, "GET", anEvent, "", nil, http.StatusOK).body; !strings.Contains(b, "19810501") {
			t.Errorf("the refused writes changed the event:\n%s", b)
		}
	})
}

// syncPageOf runs sync-collection on the Birthdays calendar since token.
func (e *env) syncPageOf(t *testing.T, token string) *syncPage {
	t.Helper()
	r := e.syncMust(t, "REPORT", birthdaysPath, syncRequest(token, 0, "D:getetag"), syncDepth0, http.StatusMultiStatus)
	p, err := parseSyncPage(r.body, birthdaysPath)
	if err != nil {
		t.Fatalf("%v\n%s", err, r.body)
	}
	return p
}

// birthdaysCTag reads the Birthdays calendar's getctag from a Depth 1
// PROPFIND of the calendar home, as clients poll it.
func (e *env) birthdaysCTag(t *testing.T) string {
	t.Helper()
	r := e.syncMust(t, "PROPFIND", "/dav/calendars/alice/", `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><CS:getctag/></D:prop></D:propfind>`,
		syncDepth1, http.StatusMultiStatus)
	root, err := dav.ParseXML([]byte(r.body), dav.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, resp := range root.ChildrenNamed(dav.Name("response")) {
		if resp.Child(dav.Name("href")).Text == birthdaysPath {
			for _, ps := range resp.ChildrenNamed(dav.Name("propstat")) {
				if c := ps.Child(dav.Name("prop")).Child(xmlName("http://calendarserver.org/ns/", "getctag")); c != nil {
					return c.Text
				}
			}
		}
	}
	t.Fatalf("no getctag for %s in the home listing:\n%s", birthdaysPath, r.body)
	return ""
}
