package dav

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// segKind is a Kind that only knows its URL segment: enough for parsePath.
type segKind struct {
	Kind
	seg string
}

func (k segKind) HomeSegment() string { return k.seg }

// FuzzParsePath: whatever the path, parsePath does not panic; what it
// accepts has UTF-8 segments free of "/", NUL, "." and "..", user and
// collection in NFC, and the href built from an object target parses back
// to the same target.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"/", "/dav/", "/principals/", "/dav/principals/alice/", "/dav/calendars/alice/",
		"/dav/calendars/alice/personal/", "/dav/calendars/alice/personal/a.ics",
		"/dav/calendars/alice/personal/%ff.ics", "/dav/calendars/cafe%cc%81/x/y%20z.ics",
		"/dav/calendars/alice/%2e%2e/", "/dav/calendars/alice/a%2Fb/c", "/dav//calendars",
		"/dav/principals/_groups/team/", "/dav/principals/_groups/T%C3%89AM/", "/dav/principals/_groups/a%2Fb/",
	} {
		f.Add(s)
	}
	h := &Handler{Kinds: []Kind{segKind{seg: "calendars"}, segKind{seg: "addressbooks"}}}
	f.Fuzz(func(t *testing.T, path string) {
		tg, err := h.parsePath(path)
		if err != nil {
			return
		}
		for _, s := range []string{tg.username, tg.collection, tg.object, tg.group} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "/\x00") || s == "." || s == ".." {
				t.Fatalf("parsePath(%q) accepted segment %q", path, s)
			}
		}
		if (tg.typ == ResGroupPrincipal) == (tg.group == "") {
			t.Fatalf("parsePath(%q): type %d with group %q", path, tg.typ, tg.group)
		}
		if !norm.NFC.IsNormalString(tg.username) || !norm.NFC.IsNormalString(tg.collection) || !norm.NFC.IsNormalString(tg.group) {
			t.Fatalf("parsePath(%q): user %q or collection %q not NFC", path, tg.username, tg.collection)
		}
		if tg.typ != ResObject {
			return
		}
		href := ObjectHref(tg.kind, tg.username, tg.collection, tg.object)
		again, err := h.parsePath(href)
		again.trailing = tg.trailing // an object's href has no trailing slash
		if err != nil || again != tg {
			t.Fatalf("parsePath(%q) = %+v; its href %q parses to %+v, %v", path, tg, href, again, err)
		}
	})
}

// FuzzPropfindBody: whatever the body, a PROPFIND property request that is
// accepted asks for each property once and for at most maxPropsDistinct.
func FuzzPropfindBody(f *testing.F) {
	f.Add([]byte(`<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:displayname/><D:getetag/></D:prop></D:propfind>`))
	f.Add([]byte(`<D:propfind xmlns:D="DAV:"><D:allprop/><D:include><D:displayname/><D:displayname/></D:include></D:propfind>`))
	f.Add([]byte(`<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`))
	f.Add([]byte(`<D:propfind xmlns:D="DAV:"><D:prop>` + strings.Repeat(`<D:displayname/>`, 500) + `</D:prop></D:propfind>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := ParseXML(data, Limits{MaxBytes: 1 << 16, MaxDepth: 32, MaxElements: 5000})
		if err != nil {
			return
		}
		pr, err := parsePropfind(body)
		if err != nil {
			return
		}
		for _, list := range [][]*Element{pr.names, pr.include} {
			if len(list) > maxPropsDistinct {
				t.Fatalf("%d properties accepted", len(list))
			}
			seen := map[string]bool{}
			for _, el := range list {
				if seen[el.String()] {
					t.Fatalf("property %s requested twice", el)
				}
				seen[el.String()] = true
			}
		}
	})
}

// FuzzIfHeader: whatever the header, parseIf does not panic; what it
// accepts is within the bounds, every list has conditions of exactly one
// kind each, with tokens free of the delimiters; evaluating it does not
// panic, and Not flips a one-condition list.
func FuzzIfHeader(f *testing.F) {
	for _, s := range []string{
		// RFC 4918 §10.4.6–§10.4.11 and what litmus and neon send.
		`(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> ["I am an ETag"]) (["I am another ETag"])`,
		`(Not <urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> <urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092>)`,
		`(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>) (Not <DAV:no-lock>)`,
		`</resource1> (<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> [W/"A weak ETag"]) (["strong ETag"])`,
		`<http://www.example.com/specs/> (<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>)`,
		`(<opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4> ["0123456789abcdef0123456789abcdef"]) (Not <DAV:no-lock> ["0123456789abcdef0123456789abcdef"])`,
		`<http://localhost:8008/dav/files/alice/litmus/lockcoll/> (<urn:uuid:0b4e5bd6-1111-4222-8333-444455556666>)`,
		`(<a:b>`, `()`, `<x> <y> (<z>)`, `(Not)`, `([abc])`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseIf(s)
		if err != nil || h == nil {
			return
		}
		n, tags := 0, map[string]bool{}
		for _, l := range h.lists {
			if len(l.conds) == 0 {
				t.Fatalf("parseIf(%q): an empty list", s)
			}
			tags[l.tag] = true
			for _, c := range l.conds {
				n++
				if (c.token == "") == (c.etag == "") {
					t.Fatalf("parseIf(%q): condition %+v is neither or both", s, c)
				}
				if strings.ContainsAny(c.token, "<> \t") {
					t.Fatalf("parseIf(%q): token %q", s, c.token)
				}
			}
		}
		if n > maxIfConditions || len(tags) > maxIfTags+1 {
			t.Fatalf("parseIf(%q): %d conditions, %d tags accepted", s, n, len(tags))
		}
		st := &ifState{etags: []string{"e"}, tokens: []string{"urn:uuid:x"}}
		ok, _ := h.eval(func(string) (*ifState, error) { return st, nil })
		if len(h.lists) == 1 && len(h.lists[0].conds) == 1 {
			c := h.lists[0].conds[0]
			c.not = !c.not
			if flipped := st.matches([]ifCondition{c}); flipped == ok {
				t.Fatalf("parseIf(%q): Not does not flip the answer", s)
			}
		}
	})
}

// FuzzLockBody: whatever the LOCK body, parsing it does not panic; what is
// accepted is a write lock whose owner is kept as XML that parses back to
// a DAV:owner element and is written the same again.
func FuzzLockBody(f *testing.F) {
	for _, s := range []string{
		// RFC 4918 §9.10.7, and the bodies of litmus, Finder and Windows.
		`<?xml version="1.0" encoding="utf-8" ?><D:lockinfo xmlns:D='DAV:'><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>http://example.org/~ejw/contact.html</D:href></D:owner></D:lockinfo>`,
		`<?xml version="1.0" encoding="utf-8"?><lockinfo xmlns='DAV:'><lockscope><shared/></lockscope><locktype><write/></locktype><owner>litmus test suite</owner></lockinfo>`,
		`<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>Mac OS X User</D:href></D:owner></D:lockinfo>`,
		`<?xml version="1.0" encoding="utf-8" ?><D:lockinfo xmlns:D="DAV:"><D:locktype><D:write/></D:locktype><D:lockscope><D:exclusive/></D:lockscope><D:owner><D:href>DOMAIN\user</D:href></D:owner></D:lockinfo>`,
		`<lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope><locktype><write/></locktype><owner xmlns:x="urn:x" x:a="1">a &amp; b<x:y>z</x:y></owner></lockinfo>`,
		`<lockinfo xmlns="DAV:"><lockscope/><locktype><write/></locktype></lockinfo>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := ParseXML(data, Limits{MaxBytes: 1 << 16, MaxDepth: 32, MaxElements: 5000})
		if err != nil {
			return
		}
		info, err := parseLockInfo(body)
		if err != nil || info.owner == "" {
			return
		}
		owner, err := ParseXML([]byte(info.owner), DefaultLimits)
		if err != nil || owner.Name != Name("owner") {
			t.Fatalf("owner %q does not parse back to DAV:owner: %v", info.owner, err)
		}
		if again := owner.String(); again != info.owner {
			t.Fatalf("owner %q is written back as %q", info.owner, again)
		}
	})
}

// FuzzPrincipalReportBody: any body parses into a bounded principal search
// and a bounded expand-property, or is refused; nothing panics.
func FuzzPrincipalReportBody(f *testing.F) {
	f.Add([]byte(`<D:principal-property-search xmlns:D="DAV:" test="anyof"><D:property-search><D:prop><D:displayname/></D:prop><D:match match-type="starts-with">ali</D:match></D:property-search><D:limit><D:nresults>7</D:nresults></D:limit><D:prop><D:displayname/></D:prop></D:principal-property-search>`))
	f.Add([]byte(`<D:principal-property-search xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" type="GROUP"><D:property-search><D:prop><CS:email-address-set/></D:prop><D:match caseless="no">x</D:match></D:property-search><CS:limit><CS:nresults>100000</CS:nresults></CS:limit></D:principal-property-search>`))
	f.Add([]byte(`<D:expand-property xmlns:D="DAV:"><D:property name="group-member-set"><D:property name="displayname"/><D:property name="group-membership"><D:property name="displayname"/></D:property></D:property></D:expand-property>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := ParseXML(data, Limits{MaxBytes: 1 << 16, MaxDepth: 32, MaxElements: 5000})
		if err != nil {
			return
		}
		if q, err := parsePropertySearch(body); err == nil {
			if q.limit < 1 || q.limit > maxPrincipalMatches {
				t.Fatalf("limit %d accepted", q.limit)
			}
			for _, tc := range q.tests {
				if len(tc.props) == 0 || tc.fields == 0 {
					t.Fatalf("a test without searchable properties: %+v", tc)
				}
			}
		}
		var n int
		if specs, err := parseExpand(body, 0, &n); err == nil && (n > maxPropsTotal || expandDepth(specs) > maxExpandDepth+1) {
			t.Fatalf("expand-property of %d properties, %d deep accepted", n, expandDepth(specs))
		}
	})
}

func expandDepth(specs []expandSpec) int {
	d := 0
	for _, s := range specs {
		d = max(d, 1+expandDepth(s.children))
	}
	return d
}
