package dav

import (
	"errors"
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
