package carddav

import (
	"encoding/xml"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// testQuery is the part of an addressbook-query body this package
// reads (RFC 6352 §8.6); the glue decodes the same way.
type testQuery struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:carddav addressbook-query"`
	Prop    struct {
		AddressData *AddressDataRequest `xml:"urn:ietf:params:xml:ns:carddav address-data"`
	} `xml:"DAV: prop"`
	Filter Filter `xml:"urn:ietf:params:xml:ns:carddav filter"`
}

// The request bodies of RFC 6352 §8.6.3 and §8.6.4.
const (
	rfcQueryNickname = `<?xml version="1.0" encoding="utf-8" ?>
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
	rfcQueryDaboo = `<?xml version="1.0" encoding="utf-8" ?>
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

func decodeQuery(t testing.TB, body string) *testQuery {
	t.Helper()
	var q testQuery
	if err := xml.Unmarshal([]byte(body), &q); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return &q
}

// Address book cards of the RFC 6352 §8.6 examples' shape.
var rfcCards = map[string]string{
	"v102.vcf": crlf("BEGIN:VCARD", "VERSION:3.0", "NICKNAME:me", "UID:34222-232@example.com",
		"FN:Cyrus Daboo", "N:Daboo;Cyrus;;;", "EMAIL:daboo@example.com", "END:VCARD"),
	"v104.vcf": crlf("BEGIN:VCARD", "VERSION:3.0", "NICKNAME:oliver", "UID:34222-23222@example.com",
		"FN:Oliver Daboo", "N:Daboo;Oliver;;;", "EMAIL:oliver@example.com", "END:VCARD"),
	"v106.vcf": crlf("BEGIN:VCARD", "VERSION:3.0", "NICKNAME:bernie", "UID:34222-23223@example.com",
		"FN:Bernard Desruisseaux", "N:Desruisseaux;Bernard;;;", "EMAIL:bernard@example.com", "END:VCARD"),
}

func matching(t testing.TB, f *Filter, cards map[string]string) []string {
	t.Helper()
	var got []string
	for name, body := range cards {
		if f.Match(mustParse(t, body).Card) {
			got = append(got, name)
		}
	}
	slices.Sort(got)
	return got
}

func TestRFC6352QueryExamples(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
		terms      []string
	}{
		{"§8.6.3 NICKNAME equals me", rfcQueryNickname, []string{"v102.vcf"}, []string{"ME"}},
		{"§8.6.4 FN or EMAIL contains daboo", rfcQueryDaboo, []string{"v102.vcf", "v104.vcf"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := decodeQuery(t, tt.body)
			if err := q.Filter.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := matching(t, &q.Filter, rfcCards); !slices.Equal(got, tt.want) {
				t.Errorf("matches %v, want %v", got, tt.want)
			}
			if got := q.Filter.SearchTerms(); !slices.Equal(got, tt.terms) {
				t.Errorf("SearchTerms = %q, want %q", got, tt.terms)
			}
		})
	}
}

func TestRFC6352PartialRetrieval(t *testing.T) {
	q := decodeQuery(t, rfcQueryNickname)
	ad := q.Prop.AddressData
	if ad == nil || len(ad.Props) != 5 {
		t.Fatalf("address-data = %+v", ad)
	}
	body := []byte(rfcCards["v102.vcf"])
	pc := mustParse(t, string(body))
	out, ct, err := ad.Render(body, pc.Card)
	if err != nil {
		t.Fatal(err)
	}
	want := crlf("BEGIN:VCARD", "VERSION:3.0", "NICKNAME:me", "UID:34222-232@example.com",
		"FN:Cyrus Daboo", "EMAIL:daboo@example.com", "END:VCARD")
	if string(out) != want {
		t.Errorf("address-data =\n%s\nwant\n%s", out, want)
	}
	if ct != "text/vcard; charset=utf-8; version=3.0" {
		t.Errorf("content type %q", ct)
	}
}

func TestFilterDecode(t *testing.T) {
	body := `<C:filter xmlns:C="urn:ietf:params:xml:ns:carddav" test="allof">
	  <C:prop-filter name="item1.EMAIL" test="allof">
	    <C:text-match collation="i;octet" match-type="ends-with" negate-condition="yes">.org</C:text-match>
	    <C:param-filter name="TYPE"><C:text-match>work</C:text-match></C:param-filter>
	    <C:param-filter name="X-FOO"><C:is-not-defined/></C:param-filter>
	  </C:prop-filter>
	  <C:prop-filter name="NICKNAME"><C:is-not-defined/></C:prop-filter>
	</C:filter>`
	var f Filter
	if err := xml.Unmarshal([]byte(body), &f); err != nil {
		t.Fatal(err)
	}
	f.XMLName = xml.Name{}
	want := Filter{Test: "allof", PropFilters: []PropFilter{
		{Name: "item1.EMAIL", Test: "allof",
			TextMatches: []TextMatch{{Collation: "i;octet", MatchType: "ends-with", NegateCondition: true, Value: ".org"}},
			ParamFilters: []ParamFilter{
				{Name: "TYPE", TextMatch: &TextMatch{Value: "work"}},
				{Name: "X-FOO", IsNotDefined: true},
			}},
		{Name: "NICKNAME", IsNotDefined: true},
	}}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("decoded %+v\nwant    %+v", f, want)
	}
	// A bad yes/no is an XML error, which the glue answers with 400.
	if err := xml.Unmarshal([]byte(`<C:filter xmlns:C="urn:ietf:params:xml:ns:carddav"><C:prop-filter name="FN"><C:text-match negate-condition="maybe">x</C:text-match></C:prop-filter></C:filter>`), &f); err == nil {
		t.Error("negate-condition=maybe decoded")
	}
	// Marshalling gives the same filter back.
	out, err := xml.Marshal(&want)
	if err != nil {
		t.Fatal(err)
	}
	var again Filter
	if err := xml.Unmarshal(out, &again); err != nil {
		t.Fatal(err)
	}
	again.XMLName = xml.Name{}
	if !reflect.DeepEqual(again, want) {
		t.Errorf("marshal round trip:\n%s\n%+v", out, again)
	}
}

func TestFilterValidate(t *testing.T) {
	tm := func(collation, matchType string) []PropFilter {
		return []PropFilter{{Name: "FN", TextMatches: []TextMatch{{Collation: collation, MatchType: matchType, Value: "x"}}}}
	}
	tests := []struct {
		name      string
		f         Filter
		condition string
	}{
		{"empty", Filter{}, ""},
		{"defaults", Filter{PropFilters: tm("", "")}, ""},
		{"default collation name", Filter{PropFilters: tm("default", "equals")}, ""},
		{"ascii upper case", Filter{PropFilters: tm("I;ASCII-CASEMAP", "starts-with")}, ""},
		{"octet", Filter{PropFilters: tm("i;octet", "ends-with")}, ""},
		{"unknown collation", Filter{PropFilters: tm("i;basic", "")}, CondSupportedCollation},
		{"wildcard collation", Filter{PropFilters: tm("i;*", "")}, CondSupportedCollation},
		{"bad match type", Filter{PropFilters: tm("", "regex")}, CondSupportedFilter},
		{"bad filter test", Filter{Test: "oneof"}, CondSupportedFilter},
		{"bad prop test", Filter{PropFilters: []PropFilter{{Name: "FN", Test: "ALLOF"}}}, CondSupportedFilter},
		{"empty prop name", Filter{PropFilters: []PropFilter{{Name: ""}}}, CondSupportedFilter},
		{"bad prop name", Filter{PropFilters: []PropFilter{{Name: "F N"}}}, CondSupportedFilter},
		{"group", Filter{PropFilters: []PropFilter{{Name: "item1.EMAIL"}}}, ""},
		{"empty group", Filter{PropFilters: []PropFilter{{Name: ".EMAIL"}}}, CondSupportedFilter},
		{"x-name", Filter{PropFilters: []PropFilter{{Name: "X-ABLabel"}}}, ""},
		{"empty param name", Filter{PropFilters: []PropFilter{{Name: "TEL", ParamFilters: []ParamFilter{{}}}}}, CondSupportedFilter},
		{"param collation", Filter{PropFilters: []PropFilter{{Name: "TEL", ParamFilters: []ParamFilter{{Name: "TYPE", TextMatch: &TextMatch{Collation: "i;nope"}}}}}}, CondSupportedCollation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Validate()
			if tt.condition == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Condition != tt.condition {
				t.Errorf("err = %v, want %s", err, tt.condition)
			}
		})
	}
}

// filterCards is the address book the semantics table runs against.
var filterCards = map[string]string{
	"ann": crlf("BEGIN:VCARD", "VERSION:3.0", "FN:Ann Smith", "N:Smith;Ann;;;", "NICKNAME:Annie,Nan",
		"EMAIL;TYPE=INTERNET,WORK:ann@work.example.com", "EMAIL;TYPE=HOME:ann@home.example.org",
		"TEL;TYPE=CELL:+1 555 0100", "ORG:Acme;Sales", "CATEGORIES:Friends,Climbing", "UID:ann", "END:VCARD"),
	"bob": crlf("BEGIN:VCARD", "VERSION:4.0", "FN:BOB JONES", "N:Jones;Bob;;;", "EMAIL;TYPE=home:bob@example.org",
		"TEL;VALUE=uri;TYPE=work:tel:+1-555-0199", "UID:bob", "END:VCARD"),
	"zoe": crlf("BEGIN:VCARD", "VERSION:3.0", "FN:Zoë Çelik", "N:Çelik;Zoë;;;",
		"item1.EMAIL;type=INTERNET;type=pref:zoe@example.com", "item1.X-ABLabel:_$!<Other>!$_",
		"NOTE:Straße 5", "UID:zoe", "END:VCARD"),
	"grp": crlf("BEGIN:VCARD", "VERSION:3.0", "FN:Book Club", "N:Book Club;;;;", "X-ADDRESSBOOKSERVER-KIND:group",
		"X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:ann", "UID:grp", "END:VCARD"),
}

func TestFilterSemantics(t *testing.T) {
	text := func(value string) TextMatch { return TextMatch{Value: value} }
	prop := func(name string, tms ...TextMatch) PropFilter { return PropFilter{Name: name, TextMatches: tms} }
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"empty filter matches all", Filter{}, []string{"ann", "bob", "grp", "zoe"}},
		{"empty allof filter matches all", Filter{Test: "allof"}, []string{"ann", "bob", "grp", "zoe"}},
		{"defined", Filter{PropFilters: []PropFilter{{Name: "NICKNAME"}}}, []string{"ann"}},
		{"is-not-defined", Filter{PropFilters: []PropFilter{{Name: "NICKNAME", IsNotDefined: true}}}, []string{"bob", "grp", "zoe"}},
		{"is-not-defined wins over text-match", Filter{PropFilters: []PropFilter{{Name: "NICKNAME", IsNotDefined: true, TextMatches: []TextMatch{text("x")}}}}, []string{"bob", "grp", "zoe"}},
		{"property names ignore case", Filter{PropFilters: []PropFilter{prop("fn", text("smith"))}}, []string{"ann"}},
		{"contains is the default", Filter{PropFilters: []PropFilter{prop("EMAIL", text("example.org"))}}, []string{"ann", "bob"}},
		{"equals", Filter{PropFilters: []PropFilter{prop("FN", TextMatch{MatchType: "equals", Value: "bob jones"})}}, []string{"bob"}},
		{"equals is whole", Filter{PropFilters: []PropFilter{prop("FN", TextMatch{MatchType: "equals", Value: "bob"})}}, nil},
		{"equals on a list item", Filter{PropFilters: []PropFilter{prop("NICKNAME", TextMatch{MatchType: "equals", Value: "nan"})}}, []string{"ann"}},
		{"equals on a structured field", Filter{PropFilters: []PropFilter{prop("ORG", TextMatch{MatchType: "equals", Value: "acme"})}}, []string{"ann"}},
		{"starts-with", Filter{PropFilters: []PropFilter{prop("EMAIL", TextMatch{MatchType: "starts-with", Value: "BOB@"})}}, []string{"bob"}},
		{"starts-with on N field", Filter{PropFilters: []PropFilter{prop("N", TextMatch{MatchType: "starts-with", Value: "Ann"})}}, []string{"ann"}},
		{"ends-with", Filter{PropFilters: []PropFilter{prop("EMAIL", TextMatch{MatchType: "ends-with", Value: ".COM"})}}, []string{"ann", "zoe"}},
		{"unicode-casemap folds non-ASCII case", Filter{PropFilters: []PropFilter{prop("FN", text("ZOË ÇELIK"))}}, []string{"zoe"}},
		{"unicode-casemap folds decomposed input", Filter{PropFilters: []PropFilter{prop("FN", text("zoe\u0308"))}}, []string{"zoe"}},
		{"ascii-casemap folds ASCII only", Filter{PropFilters: []PropFilter{prop("FN", TextMatch{Collation: "i;ascii-casemap", Value: "ZOË"})}}, nil},
		{"ascii-casemap same non-ASCII", Filter{PropFilters: []PropFilter{prop("FN", TextMatch{Collation: "i;ascii-casemap", Value: "zoë"})}}, []string{"zoe"}},
		{"octet is case-sensitive", Filter{PropFilters: []PropFilter{prop("FN", TextMatch{Collation: "i;octet", Value: "bob"})}}, nil},
		{"octet exact", Filter{PropFilters: []PropFilter{prop("FN", TextMatch{Collation: "i;octet", Value: "BOB"})}}, []string{"bob"}},
		{"negate", Filter{PropFilters: []PropFilter{prop("FN", TextMatch{NegateCondition: true, Value: "o"})}}, []string{"ann"}},
		{"negate is per instance", Filter{PropFilters: []PropFilter{prop("EMAIL", TextMatch{NegateCondition: true, Value: "work"})}}, []string{"ann", "bob", "zoe"}},
		{"negate needs the property", Filter{PropFilters: []PropFilter{prop("NICKNAME", TextMatch{NegateCondition: true, Value: "zzz"})}}, []string{"ann"}},
		{"param-filter TYPE=work", Filter{PropFilters: []PropFilter{{Name: "EMAIL", ParamFilters: []ParamFilter{{Name: "TYPE", TextMatch: &TextMatch{MatchType: "equals", Value: "work"}}}}}}, []string{"ann"}},
		{"param-filter TYPE=work on TEL", Filter{PropFilters: []PropFilter{{Name: "TEL", ParamFilters: []ParamFilter{{Name: "type", TextMatch: &TextMatch{MatchType: "equals", Value: "WORK"}}}}}}, []string{"bob"}},
		{"param-filter defined", Filter{PropFilters: []PropFilter{{Name: "TEL", ParamFilters: []ParamFilter{{Name: "VALUE"}}}}}, []string{"bob"}},
		{"param-filter is-not-defined", Filter{PropFilters: []PropFilter{{Name: "EMAIL", ParamFilters: []ParamFilter{{Name: "TYPE", IsNotDefined: true}}}}}, nil},
		{"param-filter negate", Filter{PropFilters: []PropFilter{{Name: "EMAIL", ParamFilters: []ParamFilter{{Name: "TYPE", TextMatch: &TextMatch{NegateCondition: true, Value: "internet"}}}}}}, []string{"ann", "bob"}},
		{"prop anyof", Filter{PropFilters: []PropFilter{{Name: "EMAIL", TextMatches: []TextMatch{text("bob@"), text("zoe@")}}}}, []string{"bob", "zoe"}},
		{"prop allof same instance", Filter{PropFilters: []PropFilter{{Name: "EMAIL", Test: "allof", TextMatches: []TextMatch{text("ann@"), text(".org")}}}}, []string{"ann"}},
		{"prop allof not across instances", Filter{PropFilters: []PropFilter{{Name: "EMAIL", Test: "allof", TextMatches: []TextMatch{text("work"), text(".org")}}}}, nil},
		{"prop allof text and param", Filter{PropFilters: []PropFilter{{Name: "EMAIL", Test: "allof", TextMatches: []TextMatch{text("ann")},
			ParamFilters: []ParamFilter{{Name: "TYPE", TextMatch: &TextMatch{MatchType: "equals", Value: "home"}}}}}}, []string{"ann"}},
		{"prop anyof text or param", Filter{PropFilters: []PropFilter{{Name: "EMAIL", TextMatches: []TextMatch{text("zoe")},
			ParamFilters: []ParamFilter{{Name: "TYPE", TextMatch: &TextMatch{MatchType: "equals", Value: "home"}}}}}}, []string{"ann", "bob", "zoe"}},
		{"filter anyof", Filter{PropFilters: []PropFilter{prop("FN", text("ann")), prop("NOTE", text("strasse"))}}, []string{"ann"}},
		{"filter allof", Filter{Test: "allof", PropFilters: []PropFilter{prop("FN", text("ann")), prop("TEL", text("555"))}}, []string{"ann"}},
		{"filter allof fails on one", Filter{Test: "allof", PropFilters: []PropFilter{prop("FN", text("bob")), {Name: "NICKNAME"}}}, nil},
		{"group prefix in the filter", Filter{PropFilters: []PropFilter{{Name: "item1.EMAIL"}}}, []string{"zoe"}},
		{"group prefix must match", Filter{PropFilters: []PropFilter{{Name: "item2.EMAIL"}}}, nil},
		{"name without group matches grouped", Filter{PropFilters: []PropFilter{prop("X-ABLABEL", text("other"))}}, []string{"zoe"}},
		{"ß does not fold to ss", Filter{PropFilters: []PropFilter{prop("NOTE", text("strasse"))}}, nil},
		{"group cards by kind", Filter{PropFilters: []PropFilter{prop("X-ADDRESSBOOKSERVER-KIND", TextMatch{MatchType: "equals", Value: "group"})}}, []string{"grp"}},
		{"white space around the term is formatting", Filter{PropFilters: []PropFilter{prop("TEL", TextMatch{MatchType: "ends-with", Value: "\n   0100\n  "})}}, []string{"ann"}},
		{"empty text matches any value", Filter{PropFilters: []PropFilter{prop("TEL", text(""))}}, []string{"ann", "bob"}},
		{"unsupported collation never matches", Filter{PropFilters: []PropFilter{prop("FN", TextMatch{Collation: "i;nope", NegateCondition: true, Value: "x"})}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matching(t, &tt.f, filterCards); !slices.Equal(got, tt.want) {
				t.Errorf("matches %v, want %v", got, tt.want)
			}
			// Whatever the filter, narrowing by its terms loses nothing.
			terms := tt.f.SearchTerms()
			for name, body := range filterCards {
				pc := mustParse(t, body)
				if tt.f.Match(pc.Card) && !containsAll(pc.SearchText, terms) {
					t.Errorf("%s matches but its search text lacks one of %q", name, terms)
				}
			}
		})
	}
}

func containsAll(s string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(s, t) {
			return false
		}
	}
	return true
}

func TestSearchTerms(t *testing.T) {
	tm := func(v string) TextMatch { return TextMatch{Value: v} }
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"empty", Filter{}, nil},
		{"one prop-filter", Filter{PropFilters: []PropFilter{{Name: "FN", TextMatches: []TextMatch{tm("Zoë")}}}}, []string{"ZOE\u0308"}},
		{"anyof of two", Filter{PropFilters: []PropFilter{{Name: "FN", TextMatches: []TextMatch{tm("a")}}, {Name: "EMAIL", TextMatches: []TextMatch{tm("b")}}}}, nil},
		{"allof of two", Filter{Test: "allof", PropFilters: []PropFilter{{Name: "FN", TextMatches: []TextMatch{tm("a")}}, {Name: "EMAIL", TextMatches: []TextMatch{tm("b")}}}}, []string{"A", "B"}},
		{"duplicates once", Filter{Test: "allof", PropFilters: []PropFilter{{Name: "FN", TextMatches: []TextMatch{tm("a")}}, {Name: "N", TextMatches: []TextMatch{tm("A")}}}}, []string{"A"}},
		{"negated", Filter{PropFilters: []PropFilter{{Name: "FN", TextMatches: []TextMatch{{NegateCondition: true, Value: "a"}}}}}, nil},
		{"not indexed", Filter{PropFilters: []PropFilter{{Name: "X-ABLABEL", TextMatches: []TextMatch{tm("home")}}}}, nil},
		{"group prefix", Filter{PropFilters: []PropFilter{{Name: "item1.EMAIL", TextMatches: []TextMatch{tm("x@")}}}}, []string{"X@"}},
		{"is-not-defined", Filter{PropFilters: []PropFilter{{Name: "FN", IsNotDefined: true, TextMatches: []TextMatch{tm("a")}}}}, nil},
		{"prop anyof of two", Filter{PropFilters: []PropFilter{{Name: "FN", TextMatches: []TextMatch{tm("a"), tm("b")}}}}, nil},
		{"prop anyof text or param", Filter{PropFilters: []PropFilter{{Name: "FN", TextMatches: []TextMatch{tm("a")}, ParamFilters: []ParamFilter{{Name: "TYPE"}}}}}, nil},
		{"prop allof text and param", Filter{PropFilters: []PropFilter{{Name: "FN", Test: "allof", TextMatches: []TextMatch{tm("a"), {NegateCondition: true, Value: "b"}}, ParamFilters: []ParamFilter{{Name: "TYPE"}}}}}, []string{"A"}},
		{"octet", Filter{PropFilters: []PropFilter{{Name: "FN", TextMatches: []TextMatch{{Collation: "i;octet", Value: "Zoë"}}}}}, []string{"ZOE\u0308"}},
		{"empty term", Filter{PropFilters: []PropFilter{{Name: "FN", TextMatches: []TextMatch{tm("")}}}}, nil},
		{"bad collation", Filter{PropFilters: []PropFilter{{Name: "FN", TextMatches: []TextMatch{{Collation: "x", Value: "a"}}}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.SearchTerms(); !slices.Equal(got, tt.want) {
				t.Errorf("SearchTerms = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSearchTermsSuperset is the property the store relies on: for random
// cards and random filters, every card Match accepts has a SearchText that
// contains every term of SearchTerms.
func TestSearchTermsSuperset(t *testing.T) {
	r := rand.New(rand.NewPCG(6352, 5051))
	props := []string{"FN", "N", "NICKNAME", "EMAIL", "NOTE", "CATEGORIES", "ORG", "X-ABLABEL"}
	matched, narrowed := 0, 0
	for i := 0; i < 3000; i++ {
		body, values := randomCard(r, props)
		pc, err := ParseCard([]byte(body), "text/vcard")
		if err != nil {
			t.Fatalf("random card refused: %v\n%s", err, body)
		}
		for j := 0; j < 20; j++ {
			f := randomFilter(r, props, values)
			terms := f.SearchTerms()
			if !f.Match(pc.Card) {
				continue
			}
			matched++
			if len(terms) > 0 {
				narrowed++
			}
			if !containsAll(pc.SearchText, terms) {
				t.Fatalf("filter %+v matches card\n%s\nbut search text %q lacks one of %q", f, body, pc.SearchText, terms)
			}
		}
	}
	// The test means something only if matches with narrowing happen.
	t.Logf("%d matches, %d narrowed", matched, narrowed)
	if matched < 1000 || narrowed < 1000 {
		t.Fatalf("too few interesting cases: %d matches, %d with terms", matched, narrowed)
	}
}

// randomCard writes a 3.0 card with random values for some of props and
// returns the decoded values it used, so filters can pick pieces of them.
func randomCard(r *rand.Rand, props []string) (string, map[string][]string) {
	lines := []string{"BEGIN:VCARD", "VERSION:3.0", "UID:u" + string(rune('a'+r.IntN(26)))}
	values := map[string][]string{}
	hasFN := false
	for _, p := range props {
		for n := r.IntN(3); n > 0; n-- {
			v := randomText(r, 10)
			values[p] = append(values[p], v)
			group := ""
			if r.IntN(4) == 0 {
				group = "item1."
			}
			params := ""
			if r.IntN(2) == 0 {
				params = ";TYPE=" + []string{"work", "HOME", "pref"}[r.IntN(3)]
			}
			raw := escapeText(v)
			if listProps[p] || structuredProps[p] {
				raw = strings.ReplaceAll(strings.ReplaceAll(raw, `\,`, ","), `\;`, ";")
			}
			lines = append(lines, group+p+params+":"+raw)
			hasFN = hasFN || p == "FN"
		}
	}
	if !hasFN {
		lines = append(lines, "FN:x")
	}
	lines = append(lines, "END:VCARD")
	return crlf(lines...), values
}

func randomFilter(r *rand.Rand, props []string, cardValues map[string][]string) Filter {
	var values []string
	pick := func() string {
		if len(values) > 0 && r.IntN(4) != 0 {
			v := []rune(values[r.IntN(len(values))])
			a := r.IntN(len(v) + 1)
			b := a + r.IntN(len(v)-a+1)
			return string(v[a:b])
		}
		return randomText(r, 3)
	}
	textMatch := func() TextMatch {
		return TextMatch{
			Collation:       []string{"", "i;octet", "i;ascii-casemap", "i;unicode-casemap"}[r.IntN(4)],
			MatchType:       []string{"", "equals", "contains", "starts-with", "ends-with"}[r.IntN(5)],
			NegateCondition: YesNo(r.IntN(5) == 0),
			Value:           pick(),
		}
	}
	tests := []string{"", "anyof", "allof"}
	f := Filter{Test: tests[r.IntN(3)]}
	n := 1
	if r.IntN(2) == 0 {
		n += 1 + r.IntN(2)
	}
	for ; n > 0; n-- {
		name := props[r.IntN(len(props))]
		values = cardValues[name]
		if r.IntN(6) == 0 {
			name = "item1." + name
		}
		pf := PropFilter{Name: name, Test: tests[r.IntN(3)], IsNotDefined: Flag(r.IntN(10) == 0)}
		m := 0
		if r.IntN(4) != 0 {
			m = 1 + r.IntN(2)
		}
		for ; m > 0; m-- {
			pf.TextMatches = append(pf.TextMatches, textMatch())
		}
		if r.IntN(4) == 0 {
			tm := textMatch()
			pf.ParamFilters = append(pf.ParamFilters, ParamFilter{Name: "TYPE", TextMatch: &tm})
		}
		f.PropFilters = append(f.PropFilters, pf)
	}
	return f
}
