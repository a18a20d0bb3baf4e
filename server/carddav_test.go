package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// CardDAV over the full stack (RFC 6352): address-book collections, their
// properties and every REPORT shape, pinned in testdata/carddav/*.golden on
// both stores.

// cardLines joins vCard lines with CRLF, the line ending RFC 6350 §3.2 asks for.
func cardLines(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n" }

const contactsPath = "/dav/addressbooks/alice/contacts/"

// cardFixtures fill alice's "contacts" for the report tests: the cards of
// the RFC 6352 §8.6 examples, an Apple-style 3.0 card (item groups,
// lower-case type parameters, a folded base64 photo, non-ASCII), a DAVx5-
// style 4.0 card and a 4.0 group. a.vcf is the href davx5-10 asks for.
var cardFixtures = []struct{ name, body string }{
	{"v102.vcf", cardLines("BEGIN:VCARD", "VERSION:3.0", "NICKNAME:me", "UID:34222-232@example.com",
		"FN:Cyrus Daboo", "N:Daboo;Cyrus;;;", "EMAIL:daboo@example.com", "END:VCARD")},
	{"v104.vcf", cardLines("BEGIN:VCARD", "VERSION:3.0", "NICKNAME:oliver", "UID:34222-23222@example.com",
		"FN:Oliver Daboo", "N:Daboo;Oliver;;;", "EMAIL:oliver@example.com", "END:VCARD")},
	{"v106.vcf", cardLines("BEGIN:VCARD", "VERSION:3.0", "NICKNAME:bernie", "UID:34222-23223@example.com",
		"FN:Bernard Desruisseaux", "N:Desruisseaux;Bernard;;;", "EMAIL:bernard@example.com", "END:VCARD")},
	{"zoe.vcf", cardLines("BEGIN:VCARD", "VERSION:3.0", "PRODID:-//Apple Inc.//iPhone OS 18.1//EN",
		"N:Çelik;Zoë;;;", "FN:Zoë Çelik", "ORG:Örnek A.Ş.;Engineering",
		"item1.EMAIL;type=INTERNET;type=pref:zoe@example.com", "item1.X-ABLabel:_$!<Other>!$_",
		"EMAIL;type=INTERNET;type=WORK:z.celik@work.example",
		"TEL;type=CELL;type=VOICE;type=pref:+90 532 555 01 23",
		"TEL;type=WORK;type=VOICE:+90 212 555 0100",
		"PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQ",
		" NDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAE",
		" BAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8",
		" AKp//2Q==",
		"UID:6F2A1C3E-9B7D-4E1A-8C2F-0A1B2C3D4E5F", "END:VCARD")},
	{"taro.vcf", cardLines("BEGIN:VCARD", "VERSION:4.0", "PRODID:ez-vcard 0.12.1",
		"UID:urn:uuid:2d1e3b8a-5c4f-4f7e-9a1b-0c9d8e7f6a5b", "FN:山田太郎", "N:山田;太郎;;;",
		"NICKNAME:タロ,Taro", "EMAIL;TYPE=home;PREF=1:taro@example.jp", "EMAIL;TYPE=work:yamada@corp.example.jp",
		"TEL;TYPE=cell;PREF=1:+81 90-1234-5678", "TEL;VALUE=uri;TYPE=work:tel:+81-3-1234-5678",
		"REV:20240315T101500Z", "END:VCARD")},
	{"climbing.vcf", cardLines("BEGIN:VCARD", "VERSION:4.0", "KIND:group", "FN:Climbing buddies",
		"MEMBER:urn:uuid:2d1e3b8a-5c4f-4f7e-9a1b-0c9d8e7f6a5b", "MEMBER:urn:uuid:34222-232@example.com",
		"UID:urn:uuid:9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "END:VCARD")},
	{"a.vcf", cardLines("BEGIN:VCARD", "VERSION:3.0", "FN:Ada Lovelace", "N:Lovelace;Ada;;;",
		"EMAIL;TYPE=INTERNET,HOME:ada@example.org", "TEL;TYPE=WORK:+44 20 7946 0000",
		"UID:ada-lovelace-1815", "END:VCARD")},
}

// cardPut PUTs a vCard and fails the test unless it was created.
func (e *env) cardPut(path, body string) {
	e.t.Helper()
	resp := e.do(request{method: "PUT", path: path, body: body, header: map[string]string{"Content-Type": "text/vcard; charset=utf-8"}})
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("PUT %s: %d, want 201\n%s", path, resp.StatusCode, readBody(e.t, resp))
	}
}

func (e *env) cardPutFixtures() {
	e.t.Helper()
	for _, c := range cardFixtures {
		e.cardPut(contactsPath+c.name, c.body)
	}
}

// card207 reads a 207 answer and returns its canonical form.
func card207(t *testing.T, resp *http.Response) string {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("status %d, want 207\n%s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
		t.Errorf("Content-Type %q", ct)
	}
	return canonical(t, body)
}

// cardError reads an RFC 4918 §16 error answer with the given status and
// returns its canonical form.
func cardError(t *testing.T, resp *http.Response, status int) string {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d\n%s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
		t.Fatalf("Content-Type %q, want an XML error body\n%s", ct, body)
	}
	return canonical(t, body)
}

const (
	cardNS        = `xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"`
	cardXMLHeader = `<?xml version="1.0" encoding="utf-8"?>`
	cardETagProp  = `<D:prop><D:getetag/></D:prop>`
	cardETagData  = `<D:prop><D:getetag/><CR:address-data/></D:prop>`
)

// cardQuery builds an addressbook-query body.
func cardQuery(prop, filter, extra string) string {
	return cardXMLHeader + `<CR:addressbook-query ` + cardNS + `>` + prop + filter + extra + `</CR:addressbook-query>`
}

// cardTextMatch builds a filter of one prop-filter with one text-match.
func cardTextMatch(prop, attrs, value string) string {
	return `<CR:filter><CR:prop-filter name="` + prop + `"><CR:text-match ` + attrs + `>` + value + `</CR:text-match></CR:prop-filter></CR:filter>`
}

func cardPropfind(props string) string {
	return cardXMLHeader + `<D:propfind xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/"><D:prop>` + props + `</D:prop></D:propfind>`
}

// cardLiveProps are the address-book properties RFC 6352 §6.2 and the issue list.
const cardLiveProps = `<D:resourcetype/><D:displayname/><CR:addressbook-description/><CR:supported-address-data/>` +
	`<CR:max-resource-size/><CS:getctag/><D:sync-token/><D:supported-report-set/><D:current-user-privilege-set/>` +
	`<D:owner/><D:quota-used-bytes/><D:getetag/><CR:supported-collation-set/>`

func TestCardDAVCollections(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		propfind := func(t *testing.T, path, depth, props string) string {
			t.Helper()
			return card207(t, e.do(request{method: "PROPFIND", path: path, body: cardPropfind(props), header: map[string]string{"Depth": depth}}))
		}

		t.Run("live properties", func(t *testing.T) {
			e.cardPut(contactsPath+"live.vcf", cardFixtures[0].body)
			golden(t, "carddav/propfind-live", propfind(t, contactsPath, "0", cardLiveProps))
			// On a card: getetag, the card's privileges and reports; the
			// collection properties are 404.
			golden(t, "carddav/propfind-live-object", propfind(t, contactsPath+"live.vcf", "0", cardLiveProps))
			if resp := e.do(request{method: "DELETE", path: contactsPath + "live.vcf"}); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("DELETE: %d", resp.StatusCode)
			}
		})

		t.Run("extended MKCOL", func(t *testing.T) {
			// RFC 5689 §3 with RFC 6352 §6.3.1: resourcetype, displayname and
			// addressbook-description set in one request, plus a dead property.
			body := cardXMLHeader + `<D:mkcol ` + cardNS + ` xmlns:X="urn:x-example:vdirsyncer"><D:set><D:prop>` +
				`<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>` +
				`<D:displayname>Work contacts</D:displayname>` +
				`<CR:addressbook-description>People from the office &amp; clients</CR:addressbook-description>` +
				`<X:tag>imported</X:tag>` +
				`</D:prop></D:set></D:mkcol>`
			resp := e.do(request{method: "MKCOL", path: "/dav/addressbooks/alice/work/", body: body, header: map[string]string{"Content-Type": "application/xml"}})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("MKCOL: %d\n%s", resp.StatusCode, readBody(t, resp))
			}
			golden(t, "carddav/mkcol-created", propfind(t, "/dav/addressbooks/alice/work/", "0",
				cardLiveProps+`<X:tag xmlns:X="urn:x-example:vdirsyncer"/>`))
			// The home lists it next to the default book.
			golden(t, "carddav/mkcol-home", propfind(t, "/dav/addressbooks/alice/", "1", `<D:resourcetype/><D:displayname/>`))

			// MKCOL on an existing book: RFC 4918 §9.3.1, 405.
			resp = e.do(request{method: "MKCOL", path: "/dav/addressbooks/alice/work/", body: body})
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("MKCOL on an existing book: %d, want 405", resp.StatusCode)
			}
		})

		t.Run("MKCOL refusals", func(t *testing.T) {
			cases := []struct {
				name, path, body string
				status           int
			}{
				// RFC 5689 §3.1: a resourcetype the server cannot make is
				// DAV:valid-resourcetype.
				{"calendar-resourcetype", "/dav/addressbooks/alice/bad/",
					`<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype></D:prop></D:set></D:mkcol>`, 403},
				{"unknown-resourcetype", "/dav/addressbooks/alice/bad/",
					`<D:mkcol xmlns:D="DAV:" xmlns:X="urn:x"><D:set><D:prop><D:resourcetype><D:collection/><X:thing/></D:resourcetype></D:prop></D:set></D:mkcol>`, 403},
				{"plain-collection", "/dav/addressbooks/alice/bad/",
					`<D:mkcol xmlns:D="DAV:"><D:set><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop></D:set></D:mkcol>`, 403},
				// RFC 5689 §3: a property that cannot be set fails the MKCOL
				// with a DAV:mkcol-response, 424 for the rest.
				{"protected-property", "/dav/addressbooks/alice/bad/",
					`<D:mkcol ` + cardNS + ` xmlns:CS="http://calendarserver.org/ns/"><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>` +
						`<D:displayname>Bad</D:displayname><CS:getctag>42</CS:getctag><CR:max-resource-size>1</CR:max-resource-size></D:prop></D:set></D:mkcol>`, 403},
				{"addressbook-in-calendar-home", "/dav/calendars/alice/bad/",
					`<D:mkcol ` + cardNS + `><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`, 403},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					resp := e.do(request{method: "MKCOL", path: c.path, body: cardXMLHeader + c.body})
					golden(t, "carddav/mkcol-"+c.name, cardError(t, resp, c.status))
					resp = e.do(request{method: "PROPFIND", path: c.path, header: map[string]string{"Depth": "0"}})
					if resp.StatusCode != http.StatusNotFound {
						t.Errorf("after a refused MKCOL, PROPFIND %s: %d, want 404", c.path, resp.StatusCode)
					}
				})
			}
			// A plain MKCOL without a body asks for a WebDAV collection,
			// which the address-book home cannot hold.
			resp := e.do(request{method: "MKCOL", path: "/dav/addressbooks/alice/plain/"})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("MKCOL without a body: %d, want 403", resp.StatusCode)
			}
			// Not a home: a book inside a book.
			resp = e.do(request{method: "MKCOL", path: contactsPath + "nested/", body: cardXMLHeader + cases[0].body})
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("MKCOL inside an address book: %d, want 4xx", resp.StatusCode)
			}
		})

		t.Run("PROPPATCH", func(t *testing.T) {
			set := cardXMLHeader + `<D:propertyupdate ` + cardNS + ` xmlns:X="urn:x-example:one" xmlns:Y="http://example.com/ns/two"><D:set><D:prop>` +
				`<D:displayname>Friends &amp; family</D:displayname>` +
				`<CR:addressbook-description>Everyone I call on Sundays</CR:addressbook-description>` +
				`<X:color kind="rgb">#336699</X:color>` +
				`<Y:settings><Y:sort>last-name</Y:sort><Y:show-photos/></Y:settings>` +
				`</D:prop></D:set></D:propertyupdate>`
			golden(t, "carddav/proppatch-set", card207(t, e.do(request{method: "PROPPATCH", path: contactsPath, body: set})))
			after := `<D:displayname/><CR:addressbook-description/><X:color xmlns:X="urn:x-example:one"/><Y:settings xmlns:Y="http://example.com/ns/two"/>`
			golden(t, "carddav/proppatch-set-propfind", propfind(t, contactsPath, "0", after))

			// RFC 4918 §9.2: a protected property fails the whole request:
			// 403 cannot-modify-protected-property for it, 424 for the rest,
			// nothing applied.
			bad := cardXMLHeader + `<D:propertyupdate ` + cardNS + ` xmlns:CS="http://calendarserver.org/ns/" xmlns:X="urn:x-example:one"><D:set><D:prop>` +
				`<D:displayname>Should not stick</D:displayname>` +
				`<CR:supported-address-data><CR:address-data-type content-type="text/vcard" version="2.1"/></CR:supported-address-data>` +
				`<CS:getctag>1</CS:getctag>` +
				`<X:color>#000000</X:color>` +
				`</D:prop></D:set><D:remove><D:prop><CR:addressbook-description/></D:prop></D:remove></D:propertyupdate>`
			golden(t, "carddav/proppatch-protected", card207(t, e.do(request{method: "PROPPATCH", path: contactsPath, body: bad})))
			golden(t, "carddav/proppatch-protected-propfind", propfind(t, contactsPath, "0", after))

			// Removing: the description and one dead property go, the other stays.
			remove := cardXMLHeader + `<D:propertyupdate ` + cardNS + ` xmlns:X="urn:x-example:one"><D:remove><D:prop>` +
				`<CR:addressbook-description/><X:color/><X:never-set/>` +
				`</D:prop></D:remove></D:propertyupdate>`
			golden(t, "carddav/proppatch-remove", card207(t, e.do(request{method: "PROPPATCH", path: contactsPath, body: remove})))
			golden(t, "carddav/proppatch-remove-propfind", propfind(t, contactsPath, "0", after))

			// Properties of a card cannot be patched.
			e.cardPut(contactsPath+"patched.vcf", cardFixtures[1].body)
			golden(t, "carddav/proppatch-object", card207(t, e.do(request{method: "PROPPATCH", path: contactsPath + "patched.vcf", body: set})))
		})

		t.Run("DELETE address book", func(t *testing.T) {
			mk := cardXMLHeader + `<D:mkcol ` + cardNS + `><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`
			if resp := e.do(request{method: "MKCOL", path: "/dav/addressbooks/alice/doomed/", body: mk}); resp.StatusCode != http.StatusCreated {
				t.Fatalf("MKCOL: %d", resp.StatusCode)
			}
			e.cardPut("/dav/addressbooks/alice/doomed/c.vcf", cardFixtures[2].body)
			if resp := e.do(request{method: "DELETE", path: "/dav/addressbooks/alice/doomed/", header: map[string]string{"If-Match": `"x"`}}); resp.StatusCode != http.StatusPreconditionFailed {
				t.Errorf("DELETE with If-Match on a collection: %d, want 412", resp.StatusCode)
			}
			if resp := e.do(request{method: "DELETE", path: "/dav/addressbooks/alice/doomed/"}); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("DELETE: %d", resp.StatusCode)
			}
			if resp := e.do(request{method: "PROPFIND", path: "/dav/addressbooks/alice/doomed/", header: map[string]string{"Depth": "0"}}); resp.StatusCode != http.StatusNotFound {
				t.Errorf("PROPFIND of the deleted book: %d, want 404", resp.StatusCode)
			}
			t.Run("card of a deleted book", func(t *testing.T) {
				resp := e.do(request{method: "GET", path: "/dav/addressbooks/alice/doomed/c.vcf"})
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("GET of a card in the deleted book: %d, want 404", resp.StatusCode)
				}
			})
			// The home is not deletable.
			if resp := e.do(request{method: "DELETE", path: "/dav/addressbooks/alice/"}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("DELETE of the home: %d, want 403", resp.StatusCode)
			}
		})
	})
}
