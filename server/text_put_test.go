package server_test

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// What PUT accepts of the text of an object, the same for calendars and
// address books: a byte order mark is dropped (issue 13, item 4), control
// characters are refused (item 11) and sloppy but harmless escapes are
// kept.

const bom = "\uFEFF"

// errorCondition returns the one precondition element of an error body.
func errorCondition(t *testing.T, body string) xml.Name {
	t.Helper()
	root, err := dav.ParseXML([]byte(body), dav.DefaultLimits)
	if err != nil || root.Name != dav.Name("error") || len(root.Children) == 0 {
		t.Fatalf("not a DAV:error body (%v):\n%s", err, body)
	}
	return root.Children[0].Name
}

// TestPutByteOrderMark: a UTF-8 byte order mark before BEGIN:VCALENDAR or
// BEGIN:VCARD (some Windows exporters write one) is accepted and dropped
// before storing, so every client is served the same plain iCalendar or
// vCard. The stored bytes then differ from those sent, so the PUT answer
// carries no ETag (RFC 4791 §5.3.4, RFC 6352 §6.3.2.3: "a strong entity tag
// MUST NOT be returned"); GET and PROPFIND give the ETag of what is stored.
func TestPutByteOrderMark(t *testing.T) {
	cal := fixture(t, "a.ics")
	card := cardWith("bom-card", "Zoë Çelik")
	cases := []struct {
		name, path, body string
		header           map[string]string
	}{
		{"calendar", personalCal + "bom.ics", cal, calICS},
		{"address book", contactsPath + "bom.vcf", card, cardTypeHeader},
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				resp := e.do(request{method: "PUT", path: c.path, body: bom + c.body, header: c.header})
				expectStatus(t, "PUT with a BOM", resp, http.StatusCreated)
				if et := resp.Header.Get("ETag"); et != "" {
					t.Errorf("PUT answered ETag %s for bytes it did not store as sent", et)
				}
				resp = e.do(request{method: "GET", path: c.path})
				if got := expectStatus(t, "GET", resp, http.StatusOK); got != c.body {
					t.Errorf("GET = %q, want the body without the BOM %q", got, c.body)
				}
				etag := resp.Header.Get("ETag")
				dir := c.path[:strings.LastIndexByte(c.path, '/')+1]
				if got := e.multigetOrPropfindETag(t, dir, c.path); got != etag {
					t.Errorf("listing ETag %s, GET ETag %s", got, etag)
				}
				// An update with a BOM and the current ETag is an update.
				h := map[string]string{"If-Match": etag}
				for k, v := range c.header {
					h[k] = v
				}
				expectStatus(t, "PUT update with a BOM", e.do(request{method: "PUT", path: c.path, body: bom + c.body, header: h}), http.StatusNoContent)
			})
		}
		// The calendar object is found by a query like any other.
		q := `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>` +
			`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY">` +
			`<C:text-match>team</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
		got := etagsOf(t, expectStatus(t, "calendar-query", e.do(request{method: "REPORT", path: personalCal, body: q, header: hdr("Depth", "1")}), http.StatusMultiStatus))
		if _, ok := got[personalCal+"bom.ics"]; !ok {
			t.Errorf("calendar-query did not find the object PUT with a BOM: %v", got)
		}
	})
}

// multigetOrPropfindETag returns the getetag a Depth 1 PROPFIND of dir
// reports for href.
func (e *env) multigetOrPropfindETag(t *testing.T, dir, href string) string {
	t.Helper()
	body := `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`
	resp := e.do(request{method: "PROPFIND", path: dir, body: body, header: hdr("Depth", "1")})
	return etagsOf(t, expectStatus(t, "PROPFIND", resp, http.StatusMultiStatus))[href]
}

// TestPutControlCharacters: RFC 5545 §3.1 (VALUE-CHAR, SAFE-CHAR,
// QSAFE-CHAR) and §3.3.11 (TSAFE-CHAR), and RFC 6350 §3.3, leave every
// control character but HTAB out of content lines, so a body holding one
// is not valid calendar or address data (RFC 4791 §5.3.2.1, RFC 6352
// §6.3.2.1). What real exports contain stays accepted: HTAB, and the
// escape \" that Outlook and Google write although RFC 5545 §3.3.11 does
// not define it.
func TestPutControlCharacters(t *testing.T) {
	calWith := func(line string) string {
		return strings.Replace(fixture(t, "a.ics"), "LOCATION:Room 1\r\n", line+"\r\n", 1)
	}
	cardWithLine := func(line string) string {
		return cardLines("BEGIN:VCARD", "VERSION:3.0", "UID:ctl-card", "FN:Control", line, "END:VCARD")
	}
	bad := []string{
		"DESCRIPTION:nul \x00 here",
		"DESCRIPTION:bell \x07",
		"DESCRIPTION:escape \x1b[1m bold",
		"DESCRIPTION:vertical \x0b tab",
		"DESCRIPTION:form \x0c feed",
		"DESCRIPTION:delete \x7f",
		"DESCRIPTION:a lone \r carriage return",
		"X-NOTE;X-PARAM=a\x01b:value",
	}
	good := []string{
		"DESCRIPTION:a\ttab",
		`DESCRIPTION:He said \"hi\"\, then left\nbye`,
		"DESCRIPTION:folded with\r\n\ta tab",
	}
	type kind struct {
		name, path, ext string
		header          map[string]string
		with            func(string) string
		cond            xml.Name
	}
	kinds := []kind{
		{"calendar", personalCal, ".ics", calICS, calWith, xmlName(dav.NSCalDAV, "valid-calendar-data")},
		{"address book", contactsPath, ".vcf", cardTypeHeader, func(l string) string { return cardWithLine(strings.Replace(l, "DESCRIPTION", "NOTE", 1)) }, xmlName(dav.NSCardDAV, "valid-address-data")},
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, k := range kinds {
			t.Run(k.name, func(t *testing.T) {
				for _, line := range bad {
					path := k.path + "bad" + k.ext
					resp := e.do(request{method: "PUT", path: path, body: k.with(line), header: k.header})
					body := expectStatus(t, "PUT "+strings.ToValidUTF8(line, "?"), resp, http.StatusForbidden)
					if got := errorCondition(t, body); got != k.cond {
						t.Errorf("PUT %q: precondition %v, want %v", line, got, k.cond)
					}
					expectStatus(t, "GET after the refused PUT", e.do(request{method: "GET", path: path}), http.StatusNotFound)
				}
				for i, line := range good {
					path := k.path + "good" + string(rune('a'+i)) + k.ext
					body := k.with(line)
					if k.ext == ".ics" {
						body = strings.Replace(body, "UID:a@", "UID:good"+string(rune('a'+i))+"@", 1)
					} else {
						body = strings.Replace(body, "UID:ctl-card", "UID:ctl-card-"+string(rune('a'+i)), 1)
					}
					expectStatus(t, "PUT "+line, e.do(request{method: "PUT", path: path, body: body, header: k.header}), http.StatusCreated)
					if got := expectStatus(t, "GET", e.do(request{method: "GET", path: path}), http.StatusOK); got != body {
						t.Errorf("GET %s = %q, want %q", path, got, body)
					}
				}
			})
		}
	})
}
