package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// The RFC 6352 §8.6.3 and §8.6.4 request bodies, as the RFC writes them
// (indentation and attribute layout included).
const (
	cardRFCQueryNickname = `<?xml version="1.0" encoding="utf-8" ?>
   <C:addressbook-query xmlns:D="DAV:"
                     xmlns:C="urn:ietf:params:xml:ns:carddav">
     <D:prop>
       <D:getetag/>
       <C:address-data>
         <C:prop name="VERSION"/>
         <C:prop name="UID"/>
         <C:prop name="NICKNAME"/>
         <C:prop name="EMAIL"/>
         <C:prop name="FN"/>
       </C:address-data>
     </D:prop>
     <C:filter>
       <C:prop-filter name="NICKNAME">
         <C:text-match collation="i;unicode-casemap"
                       match-type="equals"
         >me</C:text-match>
       </C:prop-filter>
     </C:filter>
   </C:addressbook-query>`
	cardRFCQueryDaboo = `<?xml version="1.0" encoding="utf-8" ?>
   <C:addressbook-query xmlns:D="DAV:"
                     xmlns:C="urn:ietf:params:xml:ns:carddav">
     <D:prop>
       <D:getetag/>
       <C:address-data>
         <C:prop name="VERSION"/>
         <C:prop name="UID"/>
         <C:prop name="NICKNAME"/>
         <C:prop name="EMAIL"/>
         <C:prop name="FN"/>
       </C:address-data>
     </D:prop>
     <C:filter test="anyof">
       <C:prop-filter name="FN">
         <C:text-match collation="i;unicode-casemap"
                       match-type="contains"
         >daboo</C:text-match>
       </C:prop-filter>
       <C:prop-filter name="EMAIL">
         <C:text-match collation="i;unicode-casemap"
                       match-type="contains"
         >daboo</C:text-match>
       </C:prop-filter>
     </C:filter>
   </C:addressbook-query>`
)

// cardMultiget builds an addressbook-multiget body.
func cardMultiget(prop string, hrefs ...string) string {
	var b strings.Builder
	b.WriteString(cardXMLHeader + `<CR:addressbook-multiget ` + cardNS + `>` + prop)
	for _, h := range hrefs {
		b.WriteString("<D:href>" + h + "</D:href>")
	}
	b.WriteString(`</CR:addressbook-multiget>`)
	return b.String()
}

// cardReportCase is one REPORT on the fixture address book and its answer.
type cardReportCase struct {
	golden, body, depth string
	header              map[string]string
	want                []string // names in the answer; nil skips the check
}

// cardReportCases are every addressbook-query and addressbook-multiget
// shape, shared by TestCardDAVReports and the seeds of
// FuzzAddressbookQueryBody.
func cardReportCases() []cardReportCase {
	type rc = cardReportCase
	all := []string{"a.vcf", "climbing.vcf", "taro.vcf", "v102.vcf", "v104.vcf", "v106.vcf", "zoe.vcf"}
	return []rc{
		// RFC 6352 §8.6.3 and §8.6.4 verbatim.
		{golden: "query-rfc6352-8.6.3-nickname", body: cardRFCQueryNickname, depth: "1", want: []string{"v102.vcf"}},
		{golden: "query-rfc6352-8.6.4-fn-or-email", body: cardRFCQueryDaboo, depth: "1", want: []string{"v102.vcf", "v104.vcf"}},

		// Filter tests: anyof (default) and allof, at filter and prop-filter level.
		{golden: "query-filter-anyof", depth: "1", want: []string{"v104.vcf", "v106.vcf"},
			body: cardQuery(cardETagProp, `<CR:filter test="anyof"><CR:prop-filter name="NICKNAME"><CR:text-match match-type="equals">oliver</CR:text-match></CR:prop-filter>`+
				`<CR:prop-filter name="EMAIL"><CR:text-match match-type="starts-with">bernard@</CR:text-match></CR:prop-filter></CR:filter>`, "")},
		{golden: "query-filter-allof", depth: "1", want: []string{"v104.vcf"},
			body: cardQuery(cardETagProp, `<CR:filter test="allof"><CR:prop-filter name="FN"><CR:text-match>daboo</CR:text-match></CR:prop-filter>`+
				`<CR:prop-filter name="EMAIL"><CR:text-match>oliver</CR:text-match></CR:prop-filter></CR:filter>`, "")},
		{golden: "query-propfilter-allof", depth: "1", want: []string{"v102.vcf"},
			body: cardQuery(cardETagProp, `<CR:filter><CR:prop-filter name="FN" test="allof"><CR:text-match>cyrus</CR:text-match><CR:text-match match-type="ends-with">daboo</CR:text-match></CR:prop-filter></CR:filter>`, "")},
		{golden: "query-propfilter-anyof", depth: "1", want: []string{"v102.vcf", "v106.vcf"},
			body: cardQuery(cardETagProp, `<CR:filter><CR:prop-filter name="FN" test="anyof"><CR:text-match>cyrus</CR:text-match><CR:text-match>bernard</CR:text-match></CR:prop-filter></CR:filter>`, "")},

		// Presence and absence (§10.5.1).
		{golden: "query-is-not-defined", depth: "1", want: []string{"a.vcf", "climbing.vcf", "zoe.vcf"},
			body: cardQuery(cardETagProp, `<CR:filter><CR:prop-filter name="NICKNAME"><CR:is-not-defined/></CR:prop-filter></CR:filter>`, "")},
		{golden: "query-is-defined", depth: "1", want: []string{"climbing.vcf"},
			body: cardQuery(cardETagProp, `<CR:filter><CR:prop-filter name="MEMBER"/></CR:filter>`, "")},
		{golden: "query-group-prefix", depth: "1", want: []string{"zoe.vcf"},
			body: cardQuery(cardETagProp, `<CR:filter><CR:prop-filter name="item1.EMAIL"/></CR:filter>`, "")},

		// param-filter TYPE=work (§10.5.2): vCard 3.0 "type=WORK", 3.0
		// "TYPE=WORK" and 4.0 "TYPE=work" all match, case-insensitively.
		{golden: "query-param-filter-type-work", depth: "1", want: []string{"a.vcf", "taro.vcf", "zoe.vcf"},
			body: cardQuery(cardETagProp, `<CR:filter><CR:prop-filter name="TEL"><CR:param-filter name="TYPE"><CR:text-match match-type="equals">work</CR:text-match></CR:param-filter></CR:prop-filter></CR:filter>`, "")},
		{golden: "query-param-filter-is-not-defined", depth: "1", want: []string{"v102.vcf", "v104.vcf", "v106.vcf"},
			body: cardQuery(cardETagProp, `<CR:filter><CR:prop-filter name="EMAIL"><CR:param-filter name="TYPE"><CR:is-not-defined/></CR:param-filter></CR:prop-filter></CR:filter>`, "")},

		// Each match-type (§10.5.4), default i;unicode-casemap.
		{golden: "query-match-equals", depth: "1", want: []string{"v106.vcf"},
			body: cardQuery(cardETagProp, cardTextMatch("FN", `match-type="equals"`, "BERNARD DESRUISSEAUX"), "")},
		{golden: "query-match-equals-partial", depth: "1", want: []string{},
			body: cardQuery(cardETagProp, cardTextMatch("FN", `match-type="equals"`, "Bernard"), "")},
		{golden: "query-match-contains", depth: "1", want: []string{"v102.vcf"},
			body: cardQuery(cardETagProp, cardTextMatch("EMAIL", `match-type="contains"`, "o@EXAMPLE.com"), "")},
		{golden: "query-match-starts-with", depth: "1", want: []string{"v104.vcf"},
			body: cardQuery(cardETagProp, cardTextMatch("FN", `match-type="starts-with"`, "oli"), "")},
		{golden: "query-match-ends-with", depth: "1", want: []string{"taro.vcf"},
			body: cardQuery(cardETagProp, cardTextMatch("EMAIL", `match-type="ends-with"`, ".jp"), "")},
		// A structured value matches by component: N's family name.
		{golden: "query-match-structured", depth: "1", want: []string{"v106.vcf"},
			body: cardQuery(cardETagProp, cardTextMatch("N", `match-type="equals"`, "desruisseaux"), "")},

		// negate-condition (§10.5.4).
		{golden: "query-negate", depth: "1", want: []string{"climbing.vcf", "taro.vcf", "zoe.vcf"},
			body: cardQuery(cardETagProp, cardTextMatch("FN", `negate-condition="yes"`, "a"), "")},
		{golden: "query-negate-allof", depth: "1", want: []string{"v102.vcf"},
			body: cardQuery(cardETagProp, `<CR:filter test="allof"><CR:prop-filter name="FN"><CR:text-match>daboo</CR:text-match></CR:prop-filter>`+
				`<CR:prop-filter name="NICKNAME"><CR:text-match negate-condition="yes">oliver</CR:text-match></CR:prop-filter></CR:filter>`, "")},

		// Collations (§8.3).
		{golden: "query-collation-octet", depth: "1", want: []string{"v102.vcf", "v104.vcf"},
			body: cardQuery(cardETagProp, cardTextMatch("FN", `collation="i;octet"`, "Daboo"), "")},
		{golden: "query-collation-octet-case", depth: "1", want: []string{},
			body: cardQuery(cardETagProp, cardTextMatch("FN", `collation="i;octet"`, "daboo"), "")},
		{golden: "query-collation-ascii-casemap", depth: "1", want: []string{"v102.vcf", "v104.vcf"},
			body: cardQuery(cardETagProp, cardTextMatch("FN", `collation="i;ascii-casemap"`, "DABOO"), "")},
		{golden: "query-collation-ascii-casemap-nonascii", depth: "1", want: []string{},
			body: cardQuery(cardETagProp, cardTextMatch("FN", `collation="i;ascii-casemap"`, "ZOË"), "")},
		{golden: "query-collation-unicode-casemap", depth: "1", want: []string{"zoe.vcf"},
			body: cardQuery(cardETagProp, cardTextMatch("FN", `collation="i;unicode-casemap"`, "ZOË ÇELIK"), "")},
		{golden: "query-collation-unicode-cjk", depth: "1", want: []string{"taro.vcf"},
			body: cardQuery(cardETagProp, cardTextMatch("FN", `match-type="starts-with"`, "山田"), "")},

		// Empty and absent filters list every card.
		{golden: "query-empty-filter", depth: "1", want: all, body: cardQuery(cardETagProp, `<CR:filter/>`, "")},

		// limit/nresults (§8.6.1): the first n matches, then a 507 on the
		// collection itself with DAV:number-of-matches-within-limits.
		{golden: "query-limit", depth: "1", want: []string{"a.vcf", "climbing.vcf", "contacts"},
			body: cardQuery(cardETagProp, `<CR:filter/>`, `<CR:limit><CR:nresults>2</CR:nresults></CR:limit>`)},
		{golden: "query-limit-not-reached", depth: "1", want: []string{"v102.vcf", "v104.vcf"},
			body: cardQuery(cardETagProp, cardTextMatch("FN", "", "daboo"), `<CR:limit><CR:nresults>5</CR:nresults></CR:limit>`)},

		// address-data (§10.4): property selection, novalue, conversion.
		{golden: "query-address-data-email", depth: "1", want: []string{"taro.vcf"},
			body: cardQuery(`<D:prop><D:getetag/><CR:address-data><CR:prop name="EMAIL"/></CR:address-data></D:prop>`, cardTextMatch("EMAIL", "", "example.jp"), "")},
		{golden: "query-address-data-email-zoe", depth: "1", want: []string{"zoe.vcf"},
			body: cardQuery(`<D:prop><CR:address-data><CR:prop name="EMAIL"/><CR:prop name="FN" novalue="yes"/></CR:address-data></D:prop>`, cardTextMatch("FN", "", "zoë"), "")},
		{golden: "query-address-data-4.0-from-3.0", depth: "1", want: []string{"zoe.vcf"},
			body: cardQuery(`<D:prop><D:getetag/><CR:address-data content-type="text/vcard" version="4.0"/></D:prop>`, cardTextMatch("UID", `match-type="equals"`, "6F2A1C3E-9B7D-4E1A-8C2F-0A1B2C3D4E5F"), "")},
		{golden: "query-address-data-3.0-from-4.0", depth: "1", want: []string{"climbing.vcf", "taro.vcf"},
			body: cardQuery(`<D:prop><D:getetag/><CR:address-data content-type="text/vcard" version="3.0"/></D:prop>`, cardTextMatch("UID", `match-type="starts-with"`, "urn:uuid:"), "")},
		{golden: "query-address-data-default-version", depth: "1", want: []string{"a.vcf", "taro.vcf"},
			body: cardQuery(cardETagData, `<CR:filter><CR:prop-filter name="UID"><CR:text-match match-type="equals">ada-lovelace-1815</CR:text-match>`+
				`<CR:text-match match-type="equals">urn:uuid:2d1e3b8a-5c4f-4f7e-9a1b-0c9d8e7f6a5b</CR:text-match></CR:prop-filter></CR:filter>`, "")},

		// addressbook-multiget (§8.7): a missing href gets its own 404, an
		// href outside the book too, hrefs may be absolute URLs.
		{golden: "multiget-missing-href", depth: "0", want: []string{"v102.vcf", "nosuch.vcf", "x.vcf"},
			body: cardMultiget(`<D:prop><D:getetag/><D:getcontenttype/><CR:address-data/></D:prop>`,
				contactsPath+"v102.vcf", contactsPath+"nosuch.vcf", "/dav/addressbooks/alice/other/x.vcf")},
		{golden: "multiget-selection-4.0", depth: "0", want: []string{"zoe.vcf", "taro.vcf"},
			body: cardMultiget(`<D:prop><D:getetag/><CR:address-data version="4.0"><CR:prop name="FN"/><CR:prop name="TEL"/></CR:address-data></D:prop>`,
				contactsPath+"zoe.vcf", contactsPath+"taro.vcf")},
		{golden: "multiget-3.0-from-4.0", depth: "0", want: []string{"climbing.vcf"},
			body: cardMultiget(`<D:prop><CR:address-data content-type="text/vcard" version="3.0"/></D:prop>`, contactsPath+"climbing.vcf")},

		// DAVx5 (shared/clients): the empty filter lists every card with
		// Depth 1; the multiget asks for vCard 4.0 of a stored 3.0 card.
		{golden: "davx5-09-addressbook-query", body: cardClientBody("davx5-09-addressbook-query-empty-filter.xml"), depth: "1", header: davx5, want: all},
		{golden: "davx5-10-addressbook-multiget", body: cardClientBody("davx5-10-addressbook-multiget-vcard4.xml"), depth: "0", header: davx5, want: []string{"a.vcf"}},
		{golden: "davx5-10-addressbook-multiget-batch", depth: "0", header: davx5, want: []string{"a.vcf", "taro.vcf", "zoe.vcf", "gone.vcf"},
			body: strings.Replace(cardClientBody("davx5-10-addressbook-multiget-vcard4.xml"), "</href>",
				"</href><href>"+contactsPath+"taro.vcf</href><href>"+contactsPath+"zoe.vcf</href><href>"+contactsPath+"gone.vcf</href>", 1)},
	}
}

// TestCardDAVReports pins every addressbook-query and addressbook-multiget
// shape on the fixture address book. want lists the hrefs (names) the 207
// must hold, so a golden rewritten by -update cannot silently accept a
// wrong match set.
func TestCardDAVReports(t *testing.T) {
	cases := cardReportCases()
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.cardPutFixtures()
		for _, c := range cases {
			t.Run(c.golden, func(t *testing.T) {
				h := with(c.header, c.depth)
				if h["Content-Type"] == "" {
					h["Content-Type"] = "application/xml; charset=utf-8"
				}
				got := card207(t, e.do(request{method: "REPORT", path: contactsPath, body: c.body, header: h}))
				if c.want != nil {
					cardCheckHrefs(t, got, c.want)
				}
				golden(t, "carddav/"+c.golden, got)
			})
		}
	})
}

// cardClientBody reads a client capture for a test table, outside any test.
func cardClientBody(name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", "clients", name))
	if err != nil {
		panic(err)
	}
	return string(b)
}

// cardCheckHrefs compares the responses' hrefs (by last segment) with want.
func cardCheckHrefs(t *testing.T, canon string, want []string) {
	t.Helper()
	var got []string
	for _, line := range strings.Split(canon, "\n") {
		line = strings.TrimSpace(line)
		if h, ok := strings.CutPrefix(line, "<D:href>"); ok && strings.Count(line, "<D:href>") == 1 {
			h = strings.TrimSuffix(h, "</D:href>")
			if !strings.HasPrefix(h, "/dav/addressbooks/") {
				continue // an href inside a property, not a response
			}
			h = strings.TrimSuffix(h, "/")
			got = append(got, h[strings.LastIndex(h, "/")+1:])
		}
	}
	wantSet := map[string]bool{}
	for _, w := range want {
		wantSet[w] = true
	}
	if len(got) != len(want) {
		t.Errorf("responses for %v, want %v", got, want)
		return
	}
	for _, g := range got {
		if !wantSet[g] {
			t.Errorf("responses for %v, want %v", got, want)
			return
		}
	}
}

// TestCardDAVReportErrors: REPORT bodies the server refuses get the RFC's
// precondition in an XML error body, and requests that ask nothing odd but
// target the wrong resource get a clear status.
func TestCardDAVReportErrors(t *testing.T) {
	cases := cardReportErrorCases()
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.cardPutFixtures()
		for _, c := range cases {
			t.Run(c.golden, func(t *testing.T) {
				resp := e.do(request{method: "REPORT", path: c.path, body: c.body, header: map[string]string{"Depth": c.depth, "Content-Type": "application/xml"}})
				golden(t, "carddav/"+c.golden, cardError(t, resp, c.status))
			})
		}
		// Bodies that are not what they claim: 400 without an XML body.
		for _, c := range cardReportBadBodies() {
			resp := e.do(request{method: "REPORT", path: contactsPath, body: c.body, header: map[string]string{"Depth": "1"}})
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", c.name, resp.StatusCode)
			}
		}
	})
}

// cardReportErrorCase is a REPORT refused with a precondition.
type cardReportErrorCase struct {
	golden, path, body, depth string
	status                    int
}

func cardReportErrorCases() []cardReportErrorCase {
	return []cardReportErrorCase{
		// RFC 6352 §8.3: an unknown collation is CARDDAV:supported-collation.
		{"error-unsupported-collation", contactsPath, cardQuery(cardETagProp, cardTextMatch("FN", `collation="i;klingon"`, "x"), ""), "1", 403},
		// §8.6: what the server cannot filter on is CARDDAV:supported-filter.
		{"error-unsupported-match-type", contactsPath, cardQuery(cardETagProp, cardTextMatch("FN", `match-type="regex"`, "x.*"), ""), "1", 403},
		{"error-unsupported-test", contactsPath, cardQuery(cardETagProp, `<CR:filter test="noneof"><CR:prop-filter name="FN"/></CR:filter>`, ""), "1", 403},
		{"error-bad-prop-name", contactsPath, cardQuery(cardETagProp, `<CR:filter><CR:prop-filter name="F N"/></CR:filter>`, ""), "1", 403},
		// §8.6/§8.7 precondition CARDDAV:supported-address-data: address-data
		// must name a media type the server serves.
		{"error-address-data-version", contactsPath, cardQuery(`<D:prop><CR:address-data version="2.1"/></D:prop>`, `<CR:filter/>`, ""), "1", 403},
		{"error-address-data-content-type", contactsPath, cardMultiget(`<D:prop><CR:address-data content-type="application/vcard+json"/></D:prop>`, contactsPath+"a.vcf"), "0", 403},
		// RFC 3253 §3.6: a report the resource does not support.
		{"error-unknown-report", contactsPath, cardXMLHeader + `<X:nonsense xmlns:X="urn:x"/>`, "0", 403},
		{"error-calendar-query-on-book", contactsPath, cardXMLHeader + `<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:D="DAV:"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`, "1", 403},
		{"error-addressbook-query-on-calendar", "/dav/calendars/alice/personal/", cardQuery(cardETagProp, `<CR:filter/>`, ""), "1", 403},
		{"error-addressbook-query-on-home", "/dav/addressbooks/alice/", cardQuery(cardETagProp, `<CR:filter/>`, ""), "1", 403},
	}
}

// cardReportBadBodies are REPORT bodies answered 400.
func cardReportBadBodies() []struct{ name, body string } {
	return []struct{ name, body string }{
		{"no body", ""},
		{"malformed", `<CR:addressbook-query ` + cardNS + `><D:prop>`},
		{"limit without nresults", cardQuery(cardETagProp, `<CR:filter/>`, `<CR:limit/>`)},
		{"limit zero", cardQuery(cardETagProp, `<CR:filter/>`, `<CR:limit><CR:nresults>0</CR:nresults></CR:limit>`)},
		{"limit not a number", cardQuery(cardETagProp, `<CR:filter/>`, `<CR:limit><CR:nresults>many</CR:nresults></CR:limit>`)},
	}
}
