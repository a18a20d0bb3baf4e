package carddav

import (
	"encoding/xml"
	"os"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/internal/collate"
)

// seedCards adds the testdata cards and a few broken ones to a corpus.
func seedCards(f *testing.F) {
	for _, body := range readTestdata(f) {
		f.Add(body)
	}
	for _, s := range []string{
		"",
		"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nUID:u\r\nEND:VCARD\r\n",
		"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nTEL;WORK;;VOICE:1\r\nUID:u\r\nEND:VCARD\r\n",
		"BEGIN:VCARD\nVERSION:4.0\nFN:A\nADR;LABEL=\"a^nb^'\":;;;;;;\nUID:u\nEND:VCARD",
		"BEGIN:VCARD\r\nVERSION:3.0\r\n FN:A\r\nEND:VCARD\r\n",
		"BEGIN:VCARD\r\nVERSION:3.0\r\nX;A=\"b:c\r\nEND:VCARD\r\n",
		"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nPHOTO:data:,%ZZ\r\nBDAY:--0101\r\nTZ;VALUE=utc-offset:+01\r\nGEO:geo:1,2\r\nUID:u\r\nEND:VCARD\r\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzParseCard feeds arbitrary PUT bodies to the validator. Nothing may
// panic; an accepted card must be indexable, renderable verbatim and
// convertible both ways into cards the validator accepts again, with the
// same UID and within the folding rules.
func FuzzParseCard(f *testing.F) {
	seedCards(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		pc, err := ParseCard(body, "text/vcard")
		if err != nil {
			return
		}
		if pc.UID == "" || (pc.Version != Version3 && pc.Version != Version4) || pc.Card.Get("FN") == nil {
			t.Fatalf("accepted card without UID, version or FN: %+v", pc)
		}
		if collate.FoldUnicode(pc.SearchText) != pc.SearchText {
			t.Fatalf("search text not normalised: %q", pc.SearchText)
		}
		out, _, err := (&AddressDataRequest{Version: pc.Version}).Render(body, pc.Card)
		if err != nil || string(out) != string(body) {
			t.Fatalf("verbatim render: %v", err)
		}
		for _, v := range []string{Version3, Version4} {
			conv, err := Convert(body, v)
			if err != nil {
				t.Fatalf("Convert to %s: %v", v, err)
			}
			checkLines(t, conv)
			again, err := ParseCard(conv, "text/vcard")
			if err != nil {
				t.Fatalf("converted to %s, refused: %v\n%q\n%q", v, err, body, conv)
			}
			if again.UID != pc.UID || again.Version != v {
				t.Fatalf("converted to %s: UID %q version %s, was %q", v, again.UID, again.Version, pc.UID)
			}
		}
	})
}

// FuzzConvert converts arbitrary bytes that merely have the vCard frame:
// no panic, and any output parses again and obeys the folding rules.
func FuzzConvert(f *testing.F) {
	seedCards(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, v := range []string{Version3, Version4} {
			out, err := Convert(body, v)
			if err != nil {
				continue
			}
			checkLines(t, out)
			c, err := parseCardLines(out)
			if err != nil {
				t.Fatalf("Convert to %s gave unparsable output: %v\n%q\n%q", v, err, body, out)
			}
			if c.version != v {
				t.Fatalf("Convert to %s gave VERSION %q", v, c.version)
			}
		}
	})
}

// fuzzCards is the address book FuzzAddressbookQuery matches against.
func fuzzCards(f *testing.F) []*ParsedCard {
	var cards []*ParsedCard
	for _, body := range readTestdata(f) {
		cards = append(cards, mustParse(f, string(body)))
	}
	for _, body := range filterCards {
		cards = append(cards, mustParse(f, body))
	}
	for _, body := range rfcCards {
		cards = append(cards, mustParse(f, body))
	}
	return cards
}

// FuzzAddressbookQuery decodes arbitrary REPORT bodies the way the glue
// does, validates the filter and matches it against an address book.
// Nothing may panic, and SearchTerms must never exclude a matching card.
func FuzzAddressbookQuery(f *testing.F) {
	for _, s := range []string{
		rfcQueryNickname, rfcQueryDaboo,
		`<C:addressbook-query xmlns:C="urn:ietf:params:xml:ns:carddav"><C:filter/></C:addressbook-query>`,
		`<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><C:address-data version="4.0"><C:prop name="TEL" novalue="yes"/></C:address-data></D:prop>` +
			`<C:filter test="allof"><C:prop-filter name="item1.EMAIL" test="allof"><C:text-match collation="i;octet" match-type="ends-with">.com</C:text-match>` +
			`<C:param-filter name="TYPE"><C:text-match negate-condition="yes">work</C:text-match></C:param-filter></C:prop-filter>` +
			`<C:prop-filter name="NICKNAME"><C:is-not-defined/></C:prop-filter></C:filter></C:addressbook-query>`,
		`<C:addressbook-query xmlns:C="urn:ietf:params:xml:ns:carddav"><C:filter><C:prop-filter name="FN"><C:text-match collation="i;ascii-casemap" match-type="starts-with">zoë</C:text-match></C:prop-filter></C:filter></C:addressbook-query>`,
	} {
		f.Add([]byte(s))
	}
	for _, name := range []string{"davx5-09-addressbook-query-empty-filter.xml", "davx5-10-addressbook-multiget-vcard4.xml"} {
		if b, err := os.ReadFile("../../shared/clients/" + name); err == nil {
			f.Add(b)
		}
	}
	cards := fuzzCards(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var q testQuery
		if err := xml.Unmarshal(body, &q); err != nil {
			return
		}
		if ad := q.Prop.AddressData; ad != nil && ad.Validate() == nil {
			for _, c := range cards[:2] {
				if _, _, err := ad.Render(nil, c.Card); err != nil {
					t.Fatalf("Render: %v", err)
				}
			}
		}
		valid := q.Filter.Validate() == nil
		terms := q.Filter.SearchTerms()
		for _, c := range cards {
			if q.Filter.Match(c.Card) && valid {
				for _, term := range terms {
					if !strings.Contains(c.SearchText, term) {
						t.Fatalf("card %s matches but its search text lacks %q", c.UID, term)
					}
				}
			}
		}
	})
}
