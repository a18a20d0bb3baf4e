package dav

import (
	"encoding/xml"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseXMLRefusesHostileInput(t *testing.T) {
	bomb := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>` +
		`<D:propfind xmlns:D="DAV:"><D:prop>&lol2;</D:prop></D:propfind>`
	xxe := `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
		`<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&xxe;</D:displayname></D:prop></D:propfind>`
	undeclared := `<D:propfind xmlns:D="DAV:"><D:prop>&undefined;</D:prop></D:propfind>`
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	wide := "<a>" + strings.Repeat("<b/>", 200) + "</a>"
	lim := Limits{MaxBytes: 1 << 20, MaxDepth: 64, MaxElements: 100}
	tests := []struct {
		name, body string
		want       error
	}{
		{"entity bomb", bomb, ErrMalformedXML},
		{"external entity", xxe, ErrMalformedXML},
		{"undeclared entity", undeclared, ErrMalformedXML},
		{"deep nesting", deep, ErrMalformedXML},
		{"too many elements", wide, ErrMalformedXML},
		{"oversized", "<a>" + strings.Repeat("x", 2<<20) + "</a>", ErrBodyTooLarge},
		{"unclosed", `<D:propfind xmlns:D="DAV:">`, ErrMalformedXML},
		{"two roots", `<a/><b/>`, ErrMalformedXML},
		{"processing instruction", `<?php echo 1; ?><a/>`, ErrMalformedXML},
		{"latin1 charset", `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, ErrMalformedXML},
		// Namespaces in XML 1.0 §3 (litmus props: propfind_invalid2).
		{"prefix undeclared", `<D:propfind xmlns:D="DAV:"><D:prop><bar:foo xmlns:bar=""/></D:prop></D:propfind>`, ErrMalformedXML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseXML([]byte(tt.body), lim)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseXML: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseXMLTree(t *testing.T) {
	body := `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <B:calendar-color xmlns:B="http://apple.com/ns/ical/" symbolic-color="red">#FF0000FF</B:calendar-color>
    <x:thing xmlns:x="urn:example" x:attr="v" xml:lang="fr">a &amp; b &#233;</x:thing>
  </A:prop>
</A:propfind>`
	root, err := ParseXML([]byte(body), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if root.Name != Name("propfind") {
		t.Fatalf("root = %v", root.Name)
	}
	prop := root.Child(Name("prop"))
	if prop == nil || len(prop.Children) != 2 {
		t.Fatalf("prop children: %+v", prop)
	}
	color := prop.Children[0]
	if color.Text != "#FF0000FF" {
		t.Errorf("color text %q", color.Text)
	}
	if v, _ := color.AttrValue("symbolic-color"); v != "red" {
		t.Errorf("symbolic-color %q", v)
	}
	thing := prop.Children[1]
	if thing.Text != "a & b é" {
		t.Errorf("text %q", thing.Text)
	}
	// The serialized fragment is self-contained and parses back to the same.
	again, err := ParseXML([]byte(thing.String()), DefaultLimits)
	if err != nil {
		t.Fatalf("reparse %s: %v", thing.String(), err)
	}
	if !strings.Contains(thing.String(), ` xml:lang="fr"`) {
		t.Errorf("xml:lang not written with its reserved prefix: %s", thing.String())
	}
	if again.Name != thing.Name || again.Text != thing.Text || len(again.Attr) != 2 || again.Attr[0] != thing.Attr[0] || again.Attr[1] != thing.Attr[1] {
		t.Errorf("round trip: %+v != %+v", again, thing)
	}
}

func FuzzParseXML(f *testing.F) {
	f.Add([]byte(`<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`))
	f.Add([]byte(`<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter/></C:calendar-query>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := ParseXML(data, Limits{MaxBytes: 1 << 16, MaxDepth: 32, MaxElements: 1000})
		if err != nil {
			return
		}
		if _, err := ParseXML([]byte(el.String()), DefaultLimits); err != nil {
			t.Fatalf("serialized element does not parse: %v\n%s", err, el.String())
		}
	})
}

// FuzzEscapeText: whatever the text, the escaped form parses back to the
// same characters (carriage returns included), with only the characters XML
// cannot carry replaced.
func FuzzEscapeText(f *testing.F) {
	f.Add("BEGIN:VCALENDAR\r\nSUMMARY:a & b <c> \"d\"\r\nEND:VCALENDAR\r\n")
	f.Add("nul\x00 bad\xff utf8 é 日本 \uFFFE")
	f.Fuzz(func(t *testing.T, s string) {
		var b strings.Builder
		b.WriteString("<a>")
		escapeText(&b, s)
		b.WriteString("</a>")
		el, err := ParseXML([]byte(b.String()), DefaultLimits)
		if err != nil {
			t.Fatalf("escaped text does not parse: %v\n%q", err, b.String())
		}
		want := strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r != 0xFFFE && r != 0xFFFF && r != utf8.RuneError {
				return r
			}
			return '\uFFFD'
		}, s) // ranging over s yields U+FFFD for each invalid byte, as escapeText writes
		if el.Text != want {
			t.Fatalf("round trip: got %q, want %q", el.Text, want)
		}
	})
}

// anyNode captures a whole XML tree through encoding/xml's struct decoding.
type anyNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []anyNode  `xml:",any"`
}

// dropDecls removes namespace declarations, which reparsing a serialized
// element shows as attributes and the parsed tree has resolved already, and
// makes empty lists nil.
func dropDecls(n *anyNode) {
	attrs := n.Attrs[:0]
	for _, a := range n.Attrs {
		if a.Name.Space != "xmlns" && !(a.Name.Space == "" && a.Name.Local == "xmlns") {
			attrs = append(attrs, a)
		}
	}
	n.Attrs = attrs
	if len(n.Attrs) == 0 {
		n.Attrs = nil // empty and nil are the same tree
	}
	if len(n.Nodes) == 0 {
		n.Nodes = nil
	}
	for i := range n.Nodes {
		dropDecls(&n.Nodes[i])
	}
}

// TestElementDecode: decoding straight from the parsed tree gives what
// decoding the serialized element would, namespaces, attributes and text
// included, without writing it out.
func TestElementDecode(t *testing.T) {
	for _, body := range []string{
		`<C:filter xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20240101T000000Z" end="20240201T000000Z"/></C:comp-filter></C:comp-filter></C:filter>`,
		`<a xmlns="urn:x" xmlns:y="urn:y" y:attr="1" plain="2" xml:lang="fr">text &amp; more<y:b>inner&#xD;</y:b><c/></a>`,
		`<none>no namespace<child xmlns="urn:z"/></none>`,
	} {
		el, err := ParseXML([]byte(body), DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		var got, want anyNode
		if err := el.Decode(&got); err != nil {
			t.Fatalf("Decode %s: %v", body, err)
		}
		if err := xml.Unmarshal([]byte(el.String()), &want); err != nil {
			t.Fatal(err)
		}
		dropDecls(&want)
		dropDecls(&got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Decode %s:\n got %+v\nwant %+v", body, got, want)
		}
	}
}

func FuzzElementDecode(f *testing.F) {
	f.Add([]byte(`<a xmlns="urn:x" xmlns:y="urn:y" y:attr="1">t<y:b>i</y:b></a>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := ParseXML(data, Limits{MaxBytes: 1 << 16, MaxDepth: 32, MaxElements: 1000})
		if err != nil {
			return
		}
		var got, want anyNode
		errGot := el.Decode(&got)
		errWant := xml.Unmarshal([]byte(el.String()), &want)
		dropDecls(&want)
		dropDecls(&got)
		if (errGot == nil) != (errWant == nil) || !reflect.DeepEqual(got, want) {
			t.Fatalf("Decode differs from reparsing:\n got %+v (%v)\nwant %+v (%v)", got, errGot, want, errWant)
		}
	})
}
