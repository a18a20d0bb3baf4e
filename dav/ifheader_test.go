package dav

import (
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestParseIf(t *testing.T) {
	const tok = "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2"
	for _, tc := range []struct {
		name, in string
		want     []ifList // nil with ok: no header
		bad      bool
	}{
		{name: "empty", in: "  "},
		{name: "untagged token", in: "(<" + tok + ">)",
			want: []ifList{{conds: []ifCondition{{token: tok}}}}},
		// RFC 4918 §10.4.6: a token and an entity tag, ANDed.
		{name: "token and etag", in: `(<` + tok + `> ["I am an ETag"])`,
			want: []ifList{{conds: []ifCondition{{token: tok}, {etag: `"I am an ETag"`}}}}},
		// §10.4.7: lists ORed, Not.
		{name: "not and lists", in: `(Not <DAV:no-lock> ["x"]) (<opaquelocktoken:a-b>)`,
			want: []ifList{{conds: []ifCondition{{not: true, token: "DAV:no-lock"}, {etag: `"x"`}}}, {conds: []ifCondition{{token: "opaquelocktoken:a-b"}}}}},
		// §10.4.9: tagged lists, a tag applying to the lists after it.
		{name: "tagged", in: "<http://www.example.com/specs/> (<" + tok + ">) <http://www.example.com/a> ([\"e\"]) ([W/\"w\"])",
			want: []ifList{
				{tag: "http://www.example.com/specs/", conds: []ifCondition{{token: tok}}},
				{tag: "http://www.example.com/a", conds: []ifCondition{{etag: `"e"`}}},
				{tag: "http://www.example.com/a", conds: []ifCondition{{etag: `W/"w"`}}},
			}},
		{name: "whitespace", in: "\t( Not\t<a:b>\r\n[\"e\"] )", want: []ifList{{conds: []ifCondition{{not: true, token: "a:b"}, {etag: `"e"`}}}}},
		{name: "empty list", in: "()", bad: true},
		{name: "unclosed list", in: "(<a:b>", bad: true},
		{name: "unclosed token", in: "(<a:b)", bad: true},
		{name: "bare word", in: "(a:b)", bad: true},
		{name: "unquoted etag", in: "([abc])", bad: true},
		{name: "tag without list", in: "<http://x/>", bad: true},
		{name: "tag after untagged", in: "(<a:b>) <http://x/> (<a:b>)", bad: true},
		{name: "Not alone", in: "(Not)", bad: true},
		{name: "space in token", in: "(<a b>)", bad: true},
		{name: "trailing junk", in: "(<a:b>) x", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parseIf(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("parseIf(%q) = %+v, want an error", tc.in, h)
				}
				if de, ok := err.(*Error); !ok || de.Status != http.StatusBadRequest {
					t.Fatalf("parseIf(%q) error = %v, want a 400", tc.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseIf(%q): %v", tc.in, err)
			}
			var got []ifList
			if h != nil {
				got = h.lists
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseIf(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestEvalIf(t *testing.T) {
	states := map[string]*ifState{
		"":                 {etags: []string{"e1"}, tokens: []string{"urn:uuid:1"}},
		"http://h/c/":      {tokens: []string{"urn:uuid:c"}},
		"http://h/gone":    {},
		"http://h/etag2":   {etags: []string{"e2"}},
		"http://h/unlockd": {etags: []string{"e3"}},
	}
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{`(<urn:uuid:1>)`, true},
		{`(<urn:uuid:2>)`, false},
		{`(<urn:uuid:1> ["e1"])`, true},
		{`(<urn:uuid:1> ["e2"])`, false},  // conditions AND
		{`(<urn:uuid:2>) (["e1"])`, true}, // lists OR
		{`(Not <DAV:no-lock>)`, true},
		{`(<DAV:no-lock>)`, false},
		{`(<urn:uuid:1>) (Not <DAV:no-lock>)`, true},
		{`(Not ["e1"])`, false},
		{`([W/"e1"])`, false}, // weak tags never match strongly
		{`<http://h/c/> (<urn:uuid:c>)`, true},
		{`<http://h/c/> (<urn:uuid:1>)`, false},
		{`<http://h/gone> (<urn:uuid:1>)`, false},
		{`<http://h/gone> (Not <urn:uuid:1>)`, true},
		{`<http://h/etag2> (["e2"]) <http://h/c/> (<urn:uuid:x>)`, true},
		{`<http://h/unlockd> (["e1"]) <http://h/c/> (<urn:uuid:x>)`, false},
	} {
		h, err := parseIf(tc.in)
		if err != nil {
			t.Fatalf("parseIf(%q): %v", tc.in, err)
		}
		got, err := h.eval(func(tag string) (*ifState, error) {
			st, ok := states[tag]
			if !ok {
				t.Fatalf("state of unexpected tag %q", tag)
			}
			return st, nil
		})
		if err != nil || got != tc.want {
			t.Errorf("If: %s = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	h, _ := parseIf(`<http://h/a> (<urn:uuid:1> Not <urn:uuid:2>) <http://h/> (<urn:uuid:3>)`)
	if got := h.tokens(); !reflect.DeepEqual(got, []string{"urn:uuid:1", "urn:uuid:3"}) {
		t.Errorf("tokens = %q, want the ones outside Not", got)
	}
}

func TestLockTimeout(t *testing.T) {
	const max = time.Hour
	for in, want := range map[string]time.Duration{
		"":                                max,
		"Infinite":                        max,
		"Second-60":                       time.Minute,
		"Second-0":                        time.Second,
		"Second-4100000000":               max,
		"Second-99999999999":              max, // over 2^32-1: skipped, none left
		"Infinite, Second-4100000000":     max,
		"Second-abc, Second-30":           30 * time.Second,
		"Extension-1, second-5, Second-7": 7 * time.Second,
	} {
		if got := lockTimeout(in, max); got != want {
			t.Errorf("lockTimeout(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseLockInfo(t *testing.T) {
	for _, tc := range []struct {
		body   string
		shared bool
		owner  string
		bad    bool
	}{
		{body: `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>http://example.org/~ejw/contact.html</D:href></D:owner></D:lockinfo>`,
			owner: `<owner xmlns="DAV:"><href>http://example.org/~ejw/contact.html</href></owner>`},
		{body: `<lockinfo xmlns="DAV:"><locktype><write/></locktype><lockscope><shared/></lockscope><owner xmlns:x="urn:x">Jane <x:mail a="1">j@x</x:mail></owner></lockinfo>`,
			shared: true, owner: `<owner xmlns="DAV:">Jane <mail xmlns="urn:x" a="1">j@x</mail></owner>`},
		{body: `<lockinfo xmlns="DAV:"><lockscope><shared/></lockscope><locktype><write/></locktype></lockinfo>`, shared: true},
		{body: `<lockinfo xmlns="DAV:"><lockscope><exclusive/><shared/></lockscope><locktype><write/></locktype></lockinfo>`, bad: true},
		{body: `<lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope><locktype><read/></locktype></lockinfo>`, bad: true},
		{body: `<lockinfo xmlns="DAV:"><locktype><write/></locktype></lockinfo>`, bad: true},
		{body: `<propfind xmlns="DAV:"/>`, bad: true},
		{body: `<lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope><locktype><write/></locktype><owner/><owner/></lockinfo>`, bad: true},
	} {
		el, err := ParseXML([]byte(tc.body), DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		info, err := parseLockInfo(el)
		if tc.bad != (err != nil) {
			t.Errorf("parseLockInfo(%s) error = %v, want bad %v", tc.body, err, tc.bad)
			continue
		}
		if !tc.bad && (info.shared != tc.shared || info.owner != tc.owner) {
			t.Errorf("parseLockInfo(%s) = %+v, want shared %v owner %s", tc.body, info, tc.shared, tc.owner)
		}
	}
}
