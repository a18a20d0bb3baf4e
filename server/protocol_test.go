package server_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// Protocol corners strict suites and real clients probe (issue 13), full
// stack on both stores.

// TestPropfindInvalidBody: RFC 4918 §9.1 answers a PROPFIND body that breaks
// the propfind grammar (§14.20) with 400, while unknown properties inside a
// well-formed prop stay 404 propstats of a 207.
func TestPropfindInvalidBody(t *testing.T) {
	const open = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:">`
	cases := []struct {
		name, body string
		want       int
	}{
		{"allprop with propname", open + `<D:allprop/><D:propname/></D:propfind>`, http.StatusBadRequest},
		{"prop with allprop", open + `<D:prop><D:displayname/></D:prop><D:allprop/></D:propfind>`, http.StatusBadRequest},
		{"prop with propname", open + `<D:propname/><D:prop><D:displayname/></D:prop></D:propfind>`, http.StatusBadRequest},
		{"two props", open + `<D:prop><D:displayname/></D:prop><D:prop><D:getetag/></D:prop></D:propfind>`, http.StatusBadRequest},
		{"unknown child", open + `<D:prop><D:displayname/></D:prop><D:bogus/></D:propfind>`, http.StatusBadRequest},
		{"prop with text", open + `<D:prop>displayname</D:prop></D:propfind>`, http.StatusBadRequest},
		{"prop with text and children", open + `<D:prop>x<D:displayname/></D:prop></D:propfind>`, http.StatusBadRequest},
		{"propfind with text", open + `hello<D:allprop/></D:propfind>`, http.StatusBadRequest},
		{"include without allprop", open + `<D:include><D:displayname/></D:include></D:propfind>`, http.StatusBadRequest},
		{"allprop with children", open + `<D:allprop><D:displayname/></D:allprop></D:propfind>`, http.StatusBadRequest},
		{"unknown properties", open + `<D:prop><D:displayname/><X:unknown xmlns:X="urn:x-example"/><D:nonsense/></D:prop></D:propfind>`, http.StatusMultiStatus},
		{"allprop with include", open + `<D:allprop/><D:include><D:current-user-principal/></D:include></D:propfind>`, http.StatusMultiStatus},
		{"extension element", open + `<D:prop><D:displayname/></D:prop><X:hint xmlns:X="urn:x-example"/></D:propfind>`, http.StatusMultiStatus},
		{"empty prop", open + `<D:prop/></D:propfind>`, http.StatusMultiStatus},
		{"empty body", ``, http.StatusMultiStatus},
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				resp := e.do(request{method: "PROPFIND", path: calHome + "personal/", body: c.body, header: map[string]string{"Depth": "0"}})
				expectStatus(t, "PROPFIND", resp, c.want)
			})
		}
	})
}

// TestMkcolLocation: a calendar or address book cannot be made inside
// another one (RFC 4791 §5.3.1.1 CALDAV:calendar-collection-location-ok,
// RFC 6352 §6.3.1 CARDDAV:addressbook-collection-location-ok), nor a
// calendar in the address-book home; nothing is created.
func TestMkcolLocation(t *testing.T) {
	const mkAddressBook = `<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`
	const mkCalendar = `<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype></D:prop></D:set></D:mkcol>`
	cases := []struct {
		name, method, path, body string
		cond                     xml.Name
	}{
		{"MKCALENDAR in a calendar", "MKCALENDAR", calHome + "personal/sub/", "", xmlName(dav.NSCalDAV, "calendar-collection-location-ok")},
		{"MKCOL calendar in a calendar", "MKCOL", calHome + "personal/sub/", mkCalendar, xmlName(dav.NSCalDAV, "calendar-collection-location-ok")},
		{"plain MKCOL in a calendar", "MKCOL", calHome + "personal/sub/", "", xmlName(dav.NSCalDAV, "calendar-collection-location-ok")},
		{"MKCOL in an address book", "MKCOL", "/dav/addressbooks/alice/contacts/sub/", mkAddressBook, xmlName(dav.NSCardDAV, "addressbook-collection-location-ok")},
		{"MKCALENDAR in an address book", "MKCALENDAR", "/dav/addressbooks/alice/contacts/sub/", "", xmlName(dav.NSCalDAV, "calendar-collection-location-ok")},
		{"MKCALENDAR in the address-book home", "MKCALENDAR", "/dav/addressbooks/alice/cal/", "", xmlName(dav.NSCalDAV, "calendar-collection-location-ok")},
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				resp := e.do(request{method: c.method, path: c.path, body: c.body})
				expectCondition(t, c.method, resp, http.StatusForbidden, c.cond)
				resp = e.do(request{method: "PROPFIND", path: c.path, header: map[string]string{"Depth": "0"}})
				expectStatus(t, "PROPFIND after the refusal", resp, http.StatusNotFound)
			})
		}
	})
}

// populateWithCard fills alice's calendar with the fixtures and puts one
// card, a.vcf, in her address book.
func (e *env) populateWithCard(t *testing.T) {
	t.Helper()
	e.populate(t)
	e.cardPut(contactsPath+"a.vcf", cardFixtures[len(cardFixtures)-1].body)
}

// expectCondition fails t unless resp has status want and a DAV:error body
// holding the precondition element cond; it returns the parsed error.
func expectCondition(t *testing.T, what string, resp *http.Response, want int, cond xml.Name) *dav.Element {
	t.Helper()
	return expectError(t, what, resp, want, cond).Child(cond)
}

// expectError is expectCondition returning the whole DAV:error.
func expectError(t *testing.T, what string, resp *http.Response, want int, cond xml.Name) *dav.Element {
	t.Helper()
	body := expectStatus(t, what, resp, want)
	root, err := dav.ParseXML([]byte(body), dav.DefaultLimits)
	if err != nil || root.Name != dav.Name("error") {
		t.Fatalf("%s: body is not a DAV:error (%v)\n%s", what, err, body)
	}
	if root.Child(cond) == nil {
		t.Fatalf("%s: DAV:error without %s:%s\n%s", what, cond.Space, cond.Local, body)
	}
	return root
}

// safeBuffer collects log output written by the server's goroutines.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAllowTellsTheTruth: the Allow header of each resource (OPTIONS, and a
// 405) lists only methods the resource answers with something other than
// 405; the address-book home does not offer MKCALENDAR, the calendar home
// does. Each listed method is tried in a form that changes nothing (a
// failing If-Match, an empty body).
func TestAllowTellsTheTruth(t *testing.T) {
	never := map[string]string{"If-Match": `"never"`, "Depth": "0", "Destination": "/dav/calendars/alice/personal/moved.ics"}
	cases := []struct {
		path, child  string // child: where a home's creation methods are tried
		want, absent []string
	}{
		{path: "/", want: []string{"GET", "PROPFIND"}, absent: []string{"PUT", "DELETE", "MKCALENDAR"}},
		{path: "/dav/principals/alice/", want: []string{"PROPFIND"}, absent: []string{"GET", "PUT", "DELETE", "MKCOL"}},
		{path: calHome, child: calHome + "allow-new/", want: []string{"PROPFIND", "MKCALENDAR", "MKCOL"}, absent: []string{"GET", "PUT", "DELETE"}},
		{path: "/dav/addressbooks/alice/", child: "/dav/addressbooks/alice/allow-new/", want: []string{"PROPFIND", "MKCOL"}, absent: []string{"MKCALENDAR", "PUT", "DELETE"}},
		{path: personalCal, want: []string{"PROPFIND", "REPORT", "DELETE"}, absent: []string{"PUT", "MKCOL", "MKCALENDAR", "COPY"}},
		{path: contactsPath, want: []string{"PROPFIND", "REPORT", "DELETE"}, absent: []string{"PUT", "MKCOL", "MKCALENDAR", "COPY"}},
		{path: personalCal + "a.ics", want: []string{"GET", "PUT", "DELETE", "COPY", "MOVE"}, absent: []string{"MKCOL", "MKCALENDAR"}},
		{path: contactsPath + "a.vcf", want: []string{"GET", "PUT", "DELETE", "COPY", "MOVE"}, absent: []string{"MKCOL", "MKCALENDAR"}},
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.populateWithCard(t)
		for _, c := range cases {
			t.Run(c.path, func(t *testing.T) {
				allow := map[string]bool{}
				for _, m := range strings.Split(e.do(request{method: "OPTIONS", path: c.path}).Header.Get("Allow"), ",") {
					allow[strings.TrimSpace(m)] = true
				}
				for _, m := range c.want {
					if !allow[m] {
						t.Errorf("Allow lacks %s", m)
					}
				}
				for _, m := range c.absent {
					if allow[m] {
						t.Errorf("Allow offers %s", m)
					}
				}
				for m := range allow {
					path := c.path
					if (m == "MKCOL" || m == "MKCALENDAR") && c.child != "" {
						path = c.child
					}
					resp := e.do(request{method: m, path: path, header: never})
					if resp.StatusCode == http.StatusMethodNotAllowed {
						t.Errorf("%s %s is in Allow but answered 405", m, path)
					}
					if resp.StatusCode < 300 && (m == "MKCOL" || m == "MKCALENDAR") {
						e.do(request{method: "DELETE", path: path})
					}
				}
				// A 405 carries the same Allow.
				for _, m := range c.absent {
					resp := e.do(request{method: m, path: c.path, header: never})
					if resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != e.do(request{method: "OPTIONS", path: c.path}).Header.Get("Allow") {
						t.Errorf("405 for %s: Allow %q differs from OPTIONS", m, resp.Header.Get("Allow"))
					}
				}
			})
		}
	})
}

// TestCollectionLastModified: calendars and address books have
// DAV:getlastmodified (RFC 4918 §15.7), the time of their last change,
// members included — not 1970, not a 404 propstat.
func TestCollectionLastModified(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, path := range []string{personalCal, contactsPath} {
			t.Run(path, func(t *testing.T) {
				get := func() time.Time {
					t.Helper()
					resp := e.do(request{method: "PROPFIND", path: path, body: propfind(`<D:getlastmodified/>`), header: map[string]string{"Depth": "0"}})
					root, err := dav.ParseXML([]byte(expectStatus(t, "PROPFIND", resp, http.StatusMultiStatus)), dav.DefaultLimits)
					if err != nil {
						t.Fatal(err)
					}
					el := findProp(root, dav.Name("getlastmodified"))
					if el == nil {
						t.Fatalf("no getlastmodified on %s", path)
					}
					v, err := http.ParseTime(el.Text)
					if err != nil {
						t.Fatalf("getlastmodified %q: %v", el.Text, err)
					}
					return v
				}
				before := get()
				if d := time.Since(before); d < -time.Minute || d > time.Hour {
					t.Errorf("getlastmodified %v is not about now", before)
				}
				time.Sleep(1100 * time.Millisecond) // HTTP dates count seconds
				if path == personalCal {
					e.populate(t)
				} else {
					e.cardPut(contactsPath+"a.vcf", cardFixtures[0].body)
				}
				if after := get(); !after.After(before) {
					t.Errorf("getlastmodified %v did not move after a PUT (was %v)", after, before)
				}
			})
		}
	})
}

// componentObjects are one calendar object per component type, for the
// supported-calendar-component tests.
var componentObjects = map[string]string{
	"VEVENT": "BEGIN:VEVENT\r\nUID:comp-vevent\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250110T100000Z\r\nDURATION:PT1H\r\nSUMMARY:Event\r\nEND:VEVENT\r\n",
	"VTODO":  "BEGIN:VTODO\r\nUID:comp-vtodo\r\nDTSTAMP:20250101T000000Z\r\nDUE:20250110T100000Z\r\nSUMMARY:Task\r\nEND:VTODO\r\n",
	"VJOURNAL": "BEGIN:VJOURNAL\r\nUID:comp-vjournal\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;VALUE=DATE:20250110\r\n" +
		"SUMMARY:Journal\r\nEND:VJOURNAL\r\n",
	"VFREEBUSY": "BEGIN:VFREEBUSY\r\nUID:comp-vfreebusy\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250110T000000Z\r\n" +
		"DTEND:20250111T000000Z\r\nFREEBUSY:20250110T100000Z/20250110T110000Z\r\nEND:VFREEBUSY\r\n",
	// RFC 7953 §3.1.
	"VAVAILABILITY": "BEGIN:VAVAILABILITY\r\nUID:comp-vavailability\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250106T000000Z\r\n" +
		"BEGIN:AVAILABLE\r\nUID:comp-available\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250106T090000Z\r\nDTEND:20250106T170000Z\r\n" +
		"RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\nEND:AVAILABLE\r\nEND:VAVAILABILITY\r\n",
}

func componentObject(comp string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//tests//EN\r\n" + componentObjects[comp] + "END:VCALENDAR\r\n"
}

// TestMkcalendarAllComponents: RFC 4791 §5.2.3, "In the absence of this
// property, the server MUST accept all component types": a calendar made
// without supported-calendar-component-set takes every type, and says so.
// The default calendar of a new user keeps its explicit VEVENT, VTODO set.
func TestMkcalendarAllComponents(t *testing.T) {
	all := []string{"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VAVAILABILITY"}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, body := range []string{"", `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Any</D:displayname></D:prop></D:set></C:mkcalendar>`} {
			path := calHome + "any" + strconv.Itoa(len(body)) + "/"
			expectStatus(t, "MKCALENDAR", e.do(request{method: "MKCALENDAR", path: path, body: body}), http.StatusCreated)
			for _, comp := range all {
				resp := e.do(request{method: "PUT", path: path + strings.ToLower(comp) + ".ics", body: componentObject(comp), header: calICS})
				expectStatus(t, "PUT "+comp, resp, http.StatusCreated)
				resp = e.do(request{method: "GET", path: path + strings.ToLower(comp) + ".ics"})
				if got := expectStatus(t, "GET "+comp, resp, http.StatusOK); got != componentObject(comp) {
					t.Errorf("GET %s: the stored bytes changed\n%s", comp, got)
				}
			}
			resp := e.do(request{method: "PROPFIND", path: path, body: propfind(`<C:supported-calendar-component-set/>`), header: map[string]string{"Depth": "0"}})
			root, err := dav.ParseXML([]byte(expectStatus(t, "PROPFIND", resp, http.StatusMultiStatus)), dav.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range findProp(root, xmlName(dav.NSCalDAV, "supported-calendar-component-set")).Children {
				name, _ := c.AttrValue("name")
				got = append(got, name)
			}
			if strings.Join(got, ",") != strings.Join(all, ",") {
				t.Errorf("supported-calendar-component-set %v, want %v", got, all)
			}
		}
		// The default calendar keeps the set it was made with.
		resp := e.do(request{method: "PUT", path: personalCal + "fb.ics", body: componentObject("VFREEBUSY"), header: calICS})
		expectCondition(t, "PUT VFREEBUSY into personal", resp, http.StatusForbidden, xmlName(dav.NSCalDAV, "supported-calendar-component"))
		// An explicit set may name VAVAILABILITY.
		body := `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>` +
			`<C:supported-calendar-component-set><C:comp name="VAVAILABILITY"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`
		expectStatus(t, "MKCALENDAR", e.do(request{method: "MKCALENDAR", path: calHome + "availability/", body: body}), http.StatusCreated)
		resp = e.do(request{method: "PUT", path: calHome + "availability/a.ics", body: componentObject("VAVAILABILITY"), header: calICS})
		expectStatus(t, "PUT VAVAILABILITY", resp, http.StatusCreated)
		resp = e.do(request{method: "PUT", path: calHome + "availability/e.ics", body: componentObject("VEVENT"), header: calICS})
		expectCondition(t, "PUT VEVENT into a VAVAILABILITY calendar", resp, http.StatusForbidden, xmlName(dav.NSCalDAV, "supported-calendar-component"))
	})
}

// TestOverwriteKeepsUID: RFC 4791 §5.3.2.1 and RFC 6352 §6.3.2.1 — a PUT,
// COPY or MOVE may not overwrite a resource with one of another UID. The
// answer is 403 with no-uid-conflict naming the resource, and nothing
// changes; an overwrite with the same UID still works.
func TestOverwriteKeepsUID(t *testing.T) {
	event := componentObject("VEVENT")
	vcard := func(uid, fn string) string {
		return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\nN:" + fn + ";;;;\r\nEND:VCARD\r\n"
	}
	kinds := []struct {
		name, home, coll, other, ext, ns string
		header                           map[string]string
		body                             func(uid, text string) string
	}{
		{"calendar", calHome, personalCal, calHome + "second/", ".ics", dav.NSCalDAV, calICS, func(uid, text string) string {
			return strings.NewReplacer("comp-vevent", uid, "SUMMARY:Event", "SUMMARY:"+text).Replace(event)
		}},
		{"address book", "/dav/addressbooks/alice/", contactsPath, "/dav/addressbooks/alice/second/", ".vcf", dav.NSCardDAV,
			map[string]string{"Content-Type": "text/vcard; charset=utf-8"}, vcard},
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, k := range kinds {
			t.Run(k.name, func(t *testing.T) {
				mk := `<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/>`
				if k.ns == dav.NSCalDAV {
					mk += `<C:calendar/>`
				} else {
					mk += `<CR:addressbook/>`
				}
				mk += `</D:resourcetype></D:prop></D:set></D:mkcol>`
				expectStatus(t, "MKCOL", e.do(request{method: "MKCOL", path: k.other, body: mk}), http.StatusCreated)
				put := func(path, body string, header map[string]string, want int) *http.Response {
					t.Helper()
					h := map[string]string{}
					for k, v := range k.header {
						h[k] = v
					}
					for k, v := range header {
						h[k] = v
					}
					resp := e.do(request{method: "PUT", path: path, body: body, header: h})
					if resp.StatusCode != want {
						t.Fatalf("PUT %s: %d, want %d\n%s", path, resp.StatusCode, want, readBody(t, resp))
					}
					return resp
				}
				a := k.coll + "a" + k.ext
				etagA := put(a, k.body("uid-a", "A"), nil, http.StatusCreated).Header.Get("ETag")
				put(k.coll+"b"+k.ext, k.body("uid-b", "B"), nil, http.StatusCreated)
				put(k.other+"a"+k.ext, k.body("uid-a", "A elsewhere"), nil, http.StatusCreated)
				etagOtherB := put(k.other+"b"+k.ext, k.body("uid-other-b", "B elsewhere"), nil, http.StatusCreated).Header.Get("ETag")

				noUIDConflict := xmlName(k.ns, "no-uid-conflict")
				refused := func(what string, resp *http.Response, href string) {
					t.Helper()
					el := expectCondition(t, what, resp, http.StatusForbidden, noUIDConflict)
					if h := el.Child(dav.Name("href")); h == nil || h.Text != href {
						t.Errorf("%s: no-uid-conflict names %v, want %s", what, h, href)
					}
				}
				unchanged := func(what, path, etag string) {
					t.Helper()
					resp := e.do(request{method: "GET", path: path})
					expectStatus(t, "GET after "+what, resp, http.StatusOK)
					if got := resp.Header.Get("ETag"); got != etag {
						t.Errorf("after %s, %s has ETag %s, want %s", what, path, got, etag)
					}
				}
				refused("PUT with another UID", put(a, k.body("uid-new", "new"), nil, http.StatusForbidden), a)
				unchanged("PUT with another UID", a, etagA)
				refused("PUT with another UID and If-Match", put(a, k.body("uid-new", "new"), map[string]string{"If-Match": etagA}, http.StatusForbidden), a)
				unchanged("PUT with another UID and If-Match", a, etagA)
				// Across collections onto another UID, and within one (a
				// COPY within one is a conflict with its own source).
				for _, c := range []struct{ method, src, dst, dstETag string }{
					{"COPY", k.coll + "b" + k.ext, k.other + "b" + k.ext, etagOtherB},
					{"MOVE", k.coll + "b" + k.ext, k.other + "b" + k.ext, etagOtherB},
					{"MOVE", k.coll + "b" + k.ext, a, etagA},
				} {
					resp := e.do(request{method: c.method, path: c.src, header: map[string]string{"Destination": e.srv.URL + c.dst, "Overwrite": "T"}})
					refused(c.method+" onto another UID", resp, c.dst)
					unchanged(c.method+" onto another UID", c.dst, c.dstETag)
					expectStatus(t, "GET source after a refused "+c.method, e.do(request{method: "GET", path: c.src}), http.StatusOK)
				}
				// The same UID overwrites fine: a PUT, and a MOVE onto the
				// copy in the other collection.
				put(a, k.body("uid-a", "A again"), map[string]string{"If-Match": etagA}, http.StatusNoContent)
				resp := e.do(request{method: "MOVE", path: a, header: map[string]string{"Destination": e.srv.URL + k.other + "a" + k.ext, "Overwrite": "T"}})
				expectStatus(t, "MOVE onto the same UID", resp, http.StatusNoContent)
			})
		}
	})
}

// TestErrorBodiesReadable: a refused request says why, to a person: next to
// the RFC's precondition element a DP:message sentence (in Davenport's own
// namespace, as sabre/dav's s:message), a plain-text sentence where there
// is no precondition, and an info log line with the reason and the
// request id.
func TestErrorBodiesReadable(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		var logs safeBuffer
		logger := slog.New(server.ContextHandler{Handler: slog.NewJSONHandler(&logs, nil)})
		e := newEnvLogger(t, st, logger)
		e.populate(t)
		// A precondition: the message names the resource holding the UID.
		resp := e.do(request{method: "PUT", path: personalCal + "dup.ics", body: fixture(t, "a.ics"), header: calICS})
		root := expectError(t, "PUT with a taken UID", resp, http.StatusConflict, xmlName(dav.NSCalDAV, "no-uid-conflict"))
		id := resp.Header.Get("X-Request-Id")
		msg := root.Child(xmlName(dav.NSDavenport, "message"))
		if msg == nil || !strings.Contains(msg.Text, personalCal+"a.ics") || !strings.HasSuffix(msg.Text, ".") {
			t.Errorf("no readable DP:message naming a.ics: %+v", msg)
		}
		// No precondition: a plain-text sentence.
		resp = e.do(request{method: "PROPFIND", path: personalCal, body: `<D:propfind xmlns:D="DAV:"><D:allprop/><D:propname/></D:propfind>`, header: map[string]string{"Depth": "0"}})
		body := expectStatus(t, "invalid PROPFIND", resp, http.StatusBadRequest)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(body, "PROPFIND") {
			t.Errorf("400 body %q (%s) does not say what was wrong", body, ct)
		}
		// The log has one info line per refusal, with the request id.
		var found bool
		for _, line := range strings.Split(logs.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "request refused" {
				continue
			}
			if rec["request_id"] == id {
				found = true
				if rec["level"] != "INFO" || rec["status"] != float64(http.StatusConflict) || !strings.Contains(fmt.Sprint(rec["reason"]), "a.ics") {
					t.Errorf("log line %v", rec)
				}
			}
		}
		if !found {
			t.Errorf("no info line for request %s in\n%s", id, logs.String())
		}
	})
}

// TestReportPreconditions: REPORTs that the RFCs refuse get their
// precondition, not a silent answer: a floating time-range (RFC 4791 §9.9,
// CALDAV:valid-filter), a CALDAV:timezone that is no VTIMEZONE (§7.8,
// CALDAV:valid-calendar-data), an address-data version the server does not
// produce (RFC 6352 §8.6/§8.7, CARDDAV:supported-address-data).
func TestReportPreconditions(t *testing.T) {
	query := func(tr, extra string) string {
		return `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>` +
			`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">` + tr + `</C:comp-filter></C:comp-filter></C:filter>` + extra + `</C:calendar-query>`
	}
	utc := `<C:time-range start="20060101T000000Z" end="20300101T000000Z"/>`
	tz := func(s string) string { return `<C:timezone><![CDATA[` + s + `]]></C:timezone>` }
	cases := []struct {
		name, path, body string
		want             int
		cond             xml.Name
	}{
		{"floating start", personalCal, query(`<C:time-range start="20060101T000000" end="20300101T000000Z"/>`, ""), 403, xmlName(dav.NSCalDAV, "valid-filter")},
		{"floating end", personalCal, query(`<C:time-range start="20060101T000000Z" end="20300101T000000"/>`, ""), 403, xmlName(dav.NSCalDAV, "valid-filter")},
		{"utc", personalCal, query(utc, ""), 207, xml.Name{}},
		{"timezone not iCalendar", personalCal, query(utc, tz("Europe/Berlin")), 403, xmlName(dav.NSCalDAV, "valid-calendar-data")},
		{"timezone without VTIMEZONE", personalCal, query(utc, tz("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n")), 403, xmlName(dav.NSCalDAV, "valid-calendar-data")},
		{"timezone valid", personalCal, query(utc, tz(berlinTZ)), 207, xml.Name{}},
		{"address-data 5.0 in a query", contactsPath, cardQuery(`<D:prop><CR:address-data version="5.0"/></D:prop>`, `<CR:filter/>`, ""), 403, xmlName(dav.NSCardDAV, "supported-address-data")},
		{"address-data 2.1 in a multiget", contactsPath, cardMultiget(`<D:prop><CR:address-data content-type="text/vcard" version="2.1"/></D:prop>`, contactsPath+"a.vcf"), 403, xmlName(dav.NSCardDAV, "supported-address-data")},
		{"address-data 4.0", contactsPath, cardMultiget(`<D:prop><CR:address-data content-type="text/vcard" version="4.0"/></D:prop>`, contactsPath+"a.vcf"), 207, xml.Name{}},
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.populateWithCard(t)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				resp := e.do(request{method: "REPORT", path: c.path, body: c.body, header: map[string]string{"Depth": "1"}})
				if c.want != http.StatusForbidden {
					expectStatus(t, "REPORT", resp, c.want)
					return
				}
				expectCondition(t, "REPORT", resp, c.want, c.cond)
			})
		}
	})
}

// TestRepresentationETags: RFC 9110 §8.8.3, a strong entity tag identifies
// one representation. A vCard 3.0 served as 4.0 (by Accept, or by
// address-data's version in a REPORT) has its own ETag, the same every
// time; an If-Match with the tag of any representation of the current
// version succeeds, one of an older version fails.
func TestRepresentationETags(t *testing.T) {
	const path = contactsPath + "rep.vcf"
	v3 := cardLines("BEGIN:VCARD", "VERSION:3.0", "UID:rep-1", "FN:Rep Resent", "N:Resent;Rep;;;", "TEL;TYPE=CELL:+1 555 0100", "END:VCARD")
	accept4 := map[string]string{"Accept": "text/vcard;version=4.0"}
	multiget := func(version string) string {
		return cardMultiget(`<D:prop><D:getetag/><CR:address-data content-type="text/vcard" version="`+version+`"/></D:prop>`, path)
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		resp := e.do(request{method: "PUT", path: path, body: v3, header: map[string]string{"Content-Type": "text/vcard; charset=utf-8"}})
		expectStatus(t, "PUT", resp, http.StatusCreated)
		stored := resp.Header.Get("ETag")
		get := func(header map[string]string, want int) (etag, body string) {
			t.Helper()
			resp := e.do(request{method: "GET", path: path, header: header})
			body = expectStatus(t, "GET", resp, want)
			return resp.Header.Get("ETag"), body
		}
		reportETag := func(version string) string {
			t.Helper()
			resp := e.do(request{method: "REPORT", path: contactsPath, body: multiget(version), header: map[string]string{"Depth": "0"}})
			root, err := dav.ParseXML([]byte(expectStatus(t, "REPORT", resp, http.StatusMultiStatus)), dav.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			el := findProp(root, dav.Name("getetag"))
			if el == nil {
				t.Fatal("no getetag in the multiget")
			}
			return el.Text
		}
		if etag, _ := get(nil, http.StatusOK); etag != stored {
			t.Errorf("GET as stored: ETag %s, want the PUT's %s", etag, stored)
		}
		as4, body := get(accept4, http.StatusOK)
		if !strings.Contains(body, "VERSION:4.0") {
			t.Fatalf("Accept version 4.0 served\n%s", body)
		}
		if as4 == stored || !strings.HasPrefix(as4, `"`) {
			t.Errorf("vCard 4.0 representation has ETag %s; want a strong tag other than the 3.0 bytes' %s", as4, stored)
		}
		if again, _ := get(accept4, http.StatusOK); again != as4 {
			t.Errorf("the 4.0 ETag changed between two GETs: %s, %s", as4, again)
		}
		if got := reportETag("4.0"); got != as4 {
			t.Errorf("multiget for 4.0: getetag %s, want the 4.0 representation's %s", got, as4)
		}
		if got := reportETag("3.0"); got != stored {
			t.Errorf("multiget for 3.0: getetag %s, want the stored %s", got, stored)
		}
		// Conditional GETs compare with the representation served.
		get(map[string]string{"Accept": accept4["Accept"], "If-None-Match": as4}, http.StatusNotModified)
		get(map[string]string{"Accept": accept4["Accept"], "If-None-Match": stored}, http.StatusOK)
		get(map[string]string{"Accept": accept4["Accept"], "If-Match": stored}, http.StatusOK)
		// A client that read 4.0 writes back with the 4.0 tag.
		v3b := strings.Replace(v3, "FN:Rep Resent", "FN:Rep Changed", 1)
		resp = e.do(request{method: "PUT", path: path, body: v3b, header: map[string]string{"Content-Type": "text/vcard", "If-Match": as4}})
		expectStatus(t, "PUT with the 4.0 ETag", resp, http.StatusNoContent)
		// Every tag of the old version now fails.
		for _, old := range []string{as4, stored} {
			resp = e.do(request{method: "PUT", path: path, body: v3, header: map[string]string{"Content-Type": "text/vcard", "If-Match": old}})
			expectStatus(t, "PUT with an old ETag", resp, http.StatusPreconditionFailed)
			resp = e.do(request{method: "DELETE", path: path, header: map[string]string{"If-Match": old}})
			expectStatus(t, "DELETE with an old ETag", resp, http.StatusPreconditionFailed)
		}
		new4, _ := get(accept4, http.StatusOK)
		resp = e.do(request{method: "DELETE", path: path, header: map[string]string{"If-Match": new4}})
		expectStatus(t, "DELETE with the current 4.0 ETag", resp, http.StatusNoContent)
	})
}

// TestCollectionExport: GET on a calendar answers the whole calendar as one
// text/calendar (every object, each VTIMEZONE once), on an address book
// every card as one text/vcard; read a page at a time from the store, with
// an ETag derived from the sync token, Last-Modified, conditional GET, HEAD,
// and ?export offering a download.
func TestCollectionExport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.populate(t)
		// A second object with the Europe/Berlin VTIMEZONE of b.ics.
		second := strings.Replace(strings.Replace(fixture(t, "b.ics"), "b@davenport.test", "b2@davenport.test", -1), "SUMMARY:Stand-up", "SUMMARY:Retro", 1)
		expectStatus(t, "PUT b2", e.do(request{method: "PUT", path: personalCal + "b2.ics", body: second, header: calICS}), http.StatusCreated)

		resp := e.do(request{method: "GET", path: personalCal})
		body := expectStatus(t, "GET calendar", resp, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
			t.Errorf("Content-Type %q", ct)
		}
		cal, err := ical.NewDecoder(strings.NewReader(body)).Decode()
		if err != nil {
			t.Fatalf("the export does not parse: %v\n%s", err, body)
		}
		uids := map[string]bool{}
		tzids := map[string]int{}
		for _, c := range cal.Children {
			if c.Name == ical.CompTimezone {
				tzids[c.Props.Get(ical.PropTimezoneID).Value]++
				continue
			}
			uids[c.Props.Get(ical.PropUID).Value] = true
		}
		objects := []string{second}
		for _, name := range fixtureNames {
			objects = append(objects, fixture(t, name))
		}
		for _, text := range objects {
			o, err := ical.NewDecoder(strings.NewReader(text)).Decode()
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range o.Children {
				if c.Name != ical.CompTimezone && !uids[c.Props.Get(ical.PropUID).Value] {
					t.Errorf("%s is missing from the export", c.Props.Get(ical.PropUID).Value)
				}
			}
		}
		if tzids["Europe/Berlin"] != 1 {
			t.Errorf("Europe/Berlin defined %d times, want once", tzids["Europe/Berlin"])
		}
		// The stored lines are kept as they were (folding included).
		if !strings.Contains(body, "SUMMARY:Stand-up\r\n") || !strings.HasPrefix(body, "BEGIN:VCALENDAR\r\n") || !strings.HasSuffix(body, "END:VCALENDAR\r\n") {
			t.Errorf("export framing or lines changed:\n%s", body)
		}
		etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		if !strings.HasPrefix(etag, `"`) || lastMod == "" {
			t.Errorf("ETag %q, Last-Modified %q", etag, lastMod)
		}
		resp = e.do(request{method: "HEAD", path: personalCal})
		if b := expectStatus(t, "HEAD", resp, http.StatusOK); b != "" || resp.Header.Get("ETag") != etag || resp.Header.Get("Last-Modified") != lastMod {
			t.Errorf("HEAD: body %q, ETag %q, Last-Modified %q", b, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))
		}
		expectStatus(t, "GET If-None-Match", e.do(request{method: "GET", path: personalCal, header: map[string]string{"If-None-Match": etag}}), http.StatusNotModified)
		expectStatus(t, "PUT a change", e.do(request{method: "DELETE", path: personalCal + "b2.ics"}), http.StatusNoContent)
		resp = e.do(request{method: "GET", path: personalCal, header: map[string]string{"If-None-Match": etag}})
		expectStatus(t, "GET If-None-Match after a change", resp, http.StatusOK)
		if resp.Header.Get("ETag") == etag {
			t.Error("the export's ETag did not change with the calendar")
		}
		resp = e.do(request{method: "GET", path: personalCal + "?export"})
		expectStatus(t, "GET ?export", resp, http.StatusOK)
		if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename=personal.ics` {
			t.Errorf("Content-Disposition %q", cd)
		}

		// An address book: the cards one after the other.
		e.cardPutFixtures()
		resp = e.do(request{method: "GET", path: contactsPath + "?export"})
		body = expectStatus(t, "GET address book", resp, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/vcard") {
			t.Errorf("Content-Type %q", ct)
		}
		if n := strings.Count(body, "BEGIN:VCARD\r\n"); n != len(cardFixtures) {
			t.Errorf("%d cards exported, want %d", n, len(cardFixtures))
		}
		for _, c := range cardFixtures {
			if !strings.Contains(body, c.body) {
				t.Errorf("%s is not in the export as stored", c.name)
			}
		}
		if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename=contacts.vcf` {
			t.Errorf("Content-Disposition %q", cd)
		}

		// More objects than one page of the store: all of them come.
		big := e.syncCollection(t, "alice", store.KindCalendar, "personal")
		const many = 1100
		for i := range many {
			uid := fmt.Sprintf("bulk-%04d", i)
			b := []byte(strings.Replace(componentObject("VEVENT"), "comp-vevent", uid, 1))
			o := &store.Object{CollectionID: big.ID, Name: uid + ".ics", UID: uid, ETag: fmt.Sprintf("%032x", i), ContentType: "text/calendar; charset=utf-8", Component: "VEVENT", Body: b}
			if _, err := st.PutObject(t.Context(), o, store.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		body = expectStatus(t, "GET a large calendar", e.do(request{method: "GET", path: personalCal}), http.StatusOK)
		if n := strings.Count(body, "UID:bulk-"); n != many {
			t.Errorf("%d of %d objects exported", n, many)
		}
	})
}

// TestMoveCollection: MOVE renames a calendar or an address book within
// its home (RFC 4918 §9.9), keeping its objects and properties; the old URL
// is gone (404), and a token from the old URL is not valid on the new one
// (DAV:valid-sync-token), so a client syncing there starts afresh.
func TestMoveCollection(t *testing.T) {
	syncAll := func(e *env, path, token string, want int) (*dav.Element, string) {
		e.t.Helper()
		resp := e.do(request{method: "REPORT", path: path, body: syncRequest(token, 0, "D:getetag"), header: map[string]string{"Depth": "0"}})
		body := readBody(e.t, resp)
		if resp.StatusCode != want {
			e.t.Fatalf("sync-collection on %s: %d, want %d\n%s", path, resp.StatusCode, want, body)
		}
		root, err := dav.ParseXML([]byte(body), dav.DefaultLimits)
		if err != nil {
			e.t.Fatal(err)
		}
		tok := ""
		if el := root.Child(dav.Name("sync-token")); el != nil {
			tok = el.Text
		}
		return root, tok
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.populate(t)
		e.cardPutFixtures()
		for _, c := range []struct{ from, to, other, member string }{
			{personalCal, calHome + "renamed/", calHome + "taken/", "a.ics"},
			{contactsPath, "/dav/addressbooks/alice/renamed/", "/dav/addressbooks/alice/taken/", "a.vcf"},
		} {
			t.Run(c.from, func(t *testing.T) {
				set := `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Kept</D:displayname><X:tag xmlns:X="urn:x-example">dead</X:tag></D:prop></D:set></D:propertyupdate>`
				expectStatus(t, "PROPPATCH", e.do(request{method: "PROPPATCH", path: c.from, body: set}), http.StatusMultiStatus)
				before, oldToken := syncAll(e, c.from, "", http.StatusMultiStatus)
				members := len(before.ChildrenNamed(dav.Name("response")))

				// Refusals first: nothing moves.
				mk := `<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype></D:prop></D:set></D:mkcol>`
				if strings.Contains(c.from, "addressbooks") {
					mk = strings.Replace(mk, "<C:calendar/>", "<CR:addressbook/>", 1)
				}
				expectStatus(t, "MKCOL", e.do(request{method: "MKCOL", path: c.other, body: mk}), http.StatusCreated)
				for _, r := range []struct {
					dest, overwrite string
					want            int
				}{
					{c.other, "F", http.StatusPreconditionFailed},
					{c.from, "T", http.StatusForbidden},
					{"/dav/calendars/bob/renamed/", "T", http.StatusForbidden},
					{strings.Replace(c.to, "/renamed/", "/renamed/deeper/", 1), "T", http.StatusForbidden},
				} {
					resp := e.do(request{method: "MOVE", path: c.from, header: map[string]string{"Destination": e.srv.URL + r.dest, "Overwrite": r.overwrite}})
					expectStatus(t, "MOVE to "+r.dest, resp, r.want)
				}
				other := "/dav/addressbooks/alice/x/"
				if strings.Contains(c.from, "addressbooks") {
					other = calHome + "x/"
				}
				expectStatus(t, "MOVE into the other kind's home", e.do(request{method: "MOVE", path: c.from, header: map[string]string{"Destination": other}}), http.StatusForbidden)

				resp := e.do(request{method: "MOVE", path: c.from, header: map[string]string{"Destination": e.srv.URL + c.to}})
				expectStatus(t, "MOVE", resp, http.StatusCreated)
				if loc := resp.Header.Get("Location"); loc != c.to {
					t.Errorf("Location %q, want %s", loc, c.to)
				}
				expectStatus(t, "PROPFIND the old URL", e.do(request{method: "PROPFIND", path: c.from, header: map[string]string{"Depth": "0"}}), http.StatusNotFound)
				expectStatus(t, "GET a member at the old URL", e.do(request{method: "GET", path: c.from + c.member}), http.StatusNotFound)
				expectStatus(t, "GET the member at the new URL", e.do(request{method: "GET", path: c.to + c.member}), http.StatusOK)
				resp = e.do(request{method: "PROPFIND", path: c.to, body: propfind(`<D:displayname/><X:tag xmlns:X="urn:x-example"/>`), header: map[string]string{"Depth": "0"}})
				root, err := dav.ParseXML([]byte(expectStatus(t, "PROPFIND the new URL", resp, http.StatusMultiStatus)), dav.DefaultLimits)
				if err != nil {
					t.Fatal(err)
				}
				if dn := findProp(root, dav.Name("displayname")); dn == nil || dn.Text != "Kept" {
					t.Errorf("displayname after the move: %v", dn)
				}
				if tag := findProp(root, xmlName("urn:x-example", "tag")); tag == nil || tag.Text != "dead" {
					t.Errorf("dead property after the move: %v", tag)
				}
				// The old token is not valid on the new URL; a fresh sync
				// lists every member, and continues from its own token.
				resp = e.do(request{method: "REPORT", path: c.to, body: syncRequest(oldToken, 0, "D:getetag"), header: map[string]string{"Depth": "0"}})
				expectCondition(t, "sync with the old URL's token", resp, http.StatusForbidden, dav.Name("valid-sync-token"))
				after, newToken := syncAll(e, c.to, "", http.StatusMultiStatus)
				if n := len(after.ChildrenNamed(dav.Name("response"))); n != members {
					t.Errorf("initial sync of the new URL lists %d members, want %d", n, members)
				}
				if next, _ := syncAll(e, c.to, newToken, http.StatusMultiStatus); len(next.ChildrenNamed(dav.Name("response"))) != 0 {
					t.Errorf("incremental sync right after lists changes")
				}
				// Overwrite: T onto an existing collection replaces it.
				resp = e.do(request{method: "MOVE", path: c.to, header: map[string]string{"Destination": c.other}})
				expectStatus(t, "MOVE with Overwrite onto a collection", resp, http.StatusNoContent)
				expectStatus(t, "GET the member after the overwrite", e.do(request{method: "GET", path: c.other + c.member}), http.StatusOK)
			})
		}
	})
}
