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
	} {
		f.Add(s)
	}
	h := &Handler{Kinds: []Kind{segKind{seg: "calendars"}, segKind{seg: "addressbooks"}}}
	f.Fuzz(func(t *testing.T, path string) {
		tg, err := h.parsePath(path)
		if err != nil {
			return
		}
		for _, s := range []string{tg.username, tg.collection, tg.object} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "/\x00") || s == "." || s == ".." {
				t.Fatalf("parsePath(%q) accepted segment %q", path, s)
			}
		}
		if !norm.NFC.IsNormalString(tg.username) || !norm.NFC.IsNormalString(tg.collection) {
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
