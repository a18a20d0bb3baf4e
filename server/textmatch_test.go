package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestTextMatchAgrees stores the same tricky texts as event SUMMARYs and
// contact FNs and runs the same text-match against both: a calendar-query
// (RFC 4791 §9.7.5) and an addressbook-query (RFC 6352 §10.5.4) must find
// the same items under every collation. The collation is always named,
// because the two protocols default to different ones.
func TestTextMatchAgrees(t *testing.T) {
	texts := []string{
		"Straße Zoë Çelik",
		"Nguyện",   // U+1EC7: e, dot below (ccc 220), circumflex (ccc 230)
		"한국",       // Hangul syllables: no decomposition in UnicodeData.txt
		"İstanbul", // U+0130 decomposes to I + U+0307
		"ﬁle Σοφος",
	}
	cases := []struct {
		collation, matchType, term string
		want                       []int // indexes into texts
	}{
		{"i;unicode-casemap", "contains", "STRAßE", []int{0}},
		{"i;unicode-casemap", "contains", "strasse", nil}, // simple case mapping: ß is not SS (RFC 5051 §2)
		{"i;unicode-casemap", "contains", "zoe\u0308 ç", []int{0}},
		{"i;unicode-casemap", "ends-with", "ÇELIK", []int{0}},
		{"i;ascii-casemap", "contains", "ZOË", nil},
		{"i;ascii-casemap", "contains", "STRAßE", []int{0}},
		{"i;octet", "contains", "Zoë", []int{0}},
		{"i;octet", "contains", "zoë", nil},
		{"i;unicode-casemap", "equals", "nguye\u0323\u0302n", []int{1}},
		// Marks in another order than the precomposed letter's
		// decomposition: RFC 5051 §2 maps code point by code point and
		// does not reorder, so this is a different string.
		{"i;unicode-casemap", "equals", "nguye\u0302\u0323n", nil},
		// Conjoining jamo are not the syllable they spell.
		{"i;unicode-casemap", "contains", "\u1112\u1161\u11ab", nil},
		{"i;unicode-casemap", "contains", "국", []int{2}},
		{"i;unicode-casemap", "starts-with", "i\u0307stanbul", []int{3}},
		{"i;unicode-casemap", "equals", "istanbul", nil},
		{"i;unicode-casemap", "equals", "FILE σοφοσ", []int{4}},
		// Collation names are matched without regard to case by both.
		{"I;Unicode-Casemap", "contains", "zoë", []int{0}},
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for i, text := range texts {
			ev := strings.ReplaceAll(fmt.Sprintf("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\nBEGIN:VEVENT\nUID:t%d\nDTSTAMP:20260101T000000Z\nDTSTART:20260105T100000Z\nSUMMARY:%s\nEND:VEVENT\nEND:VCALENDAR\n", i, text), "\n", "\r\n")
			expectStatus(t, "PUT event", e.do(request{method: "PUT", path: fmt.Sprintf("%st%d.ics", personalCal, i), body: ev, header: calICS}), http.StatusCreated)
			expectStatus(t, "PUT card", e.do(request{method: "PUT", path: fmt.Sprintf("%st%d.vcf", contactsPath, i), body: cardWith(fmt.Sprintf("t%d", i), text), header: cardTypeHeader}), http.StatusCreated)
		}
		found := func(body string) []int {
			var out []int
			for href := range etagsOf(t, body) {
				var n int
				if _, err := fmt.Sscanf(href[strings.LastIndexByte(href, '/')+1:], "t%d.", &n); err != nil {
					t.Fatalf("unexpected href %s", href)
				}
				out = append(out, n)
			}
			slices.Sort(out)
			return out
		}
		for _, tc := range cases {
			attrs := fmt.Sprintf(`collation="%s" match-type="%s"`, tc.collation, tc.matchType)
			calQuery := `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>` +
				`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY">` +
				`<C:text-match ` + attrs + `>` + xmlEscape(tc.term) + `</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
			cal := found(expectStatus(t, "calendar-query", e.do(request{method: "REPORT", path: personalCal, body: calQuery, header: hdr("Depth", "1")}), http.StatusMultiStatus))
			cardQ := cardQuery(cardETagProp, cardTextMatch("FN", attrs, xmlEscape(tc.term)), "")
			card := found(expectStatus(t, "addressbook-query", e.do(request{method: "REPORT", path: contactsPath, body: cardQ, header: hdr("Depth", "1")}), http.StatusMultiStatus))
			if !slices.Equal(cal, tc.want) || !slices.Equal(card, tc.want) {
				t.Errorf("%s %s %q: calendar found %v, contacts found %v, want %v", tc.collation, tc.matchType, tc.term, cal, card, tc.want)
			}
		}
	})
}
