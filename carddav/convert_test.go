package carddav

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/davenport-dav/davenport/internal/contentline"
)

// meaning reduces a card to what it says, independent of version syntax,
// property order, parameter order and case, folding and escaping, so that
// round trips can be compared by meaning rather than bytes. Each entry is one
// property: group, name (in 4.0 vocabulary), sorted parameters, value.
func meaning(t testing.TB, body []byte) []string {
	t.Helper()
	c, err := parseCardLines(body)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, body)
	}
	props := c.props
	if strings.TrimSpace(c.version) == Version3 {
		props = to4(props) // compare in one vocabulary
	}
	var out []string
	for _, p := range props {
		if p.name == "VERSION" {
			continue
		}
		var params []string
		for _, pa := range p.params {
			for _, v := range pa.Values {
				if pa.Name == "TYPE" {
					v = strings.ToLower(v)
				}
				if pa.Name == "PREF" {
					v = "1" // 3.0 only knows "preferred"
				}
				params = append(params, pa.Name+"="+v)
			}
		}
		value := p.value
		switch p.name {
		case "TEL":
			// TEL;VALUE=uri:tel:+1 and the text +1 say the same.
			if i := slices.Index(params, "VALUE=uri"); i >= 0 {
				params = slices.Delete(params, i, i+1)
				value = strings.TrimPrefix(value, "tel:")
			}
		case "N", "ADR", "ORG", "NICKNAME", "CATEGORIES":
			// structured: keep separators, resolve escapes inside parts
		default:
			if !uriProps[p.name] && !strings.HasPrefix(value, "data:") {
				value = contentline.UnescapeText(value)
			}
		}
		slices.Sort(params)
		out = append(out, strings.ToLower(p.group)+"."+p.name+";"+strings.Join(params, ";")+":"+value)
	}
	slices.Sort(out)
	return out
}

// addedN drops from got the N that to3 adds to a 4.0 card without one
// (RFC 2426 requires N), so that 4→3→4 compares equal.
func addedN(orig, got []string) []string {
	for _, o := range orig {
		if strings.HasPrefix(o, ".N;") {
			return got
		}
	}
	return slices.DeleteFunc(got, func(s string) bool { return strings.HasPrefix(s, ".N;") })
}

func TestConvertRoundTrips(t *testing.T) {
	for name, body := range readTestdata(t) {
		t.Run(name, func(t *testing.T) {
			pc := mustParse(t, string(body))
			other := Version4
			if pc.Version == Version4 {
				other = Version3
			}
			there, err := Convert(body, other)
			if err != nil {
				t.Fatal(err)
			}
			// The converted card is a valid card of the other version with
			// the same UID (no-uid-conflict and MEMBER references rely on it).
			pcThere, err := ParseCard(there, "text/vcard")
			if err != nil {
				t.Fatalf("converted card refused: %v\n%s", err, there)
			}
			if pcThere.Version != other || pcThere.UID != pc.UID {
				t.Errorf("converted version %s uid %q", pcThere.Version, pcThere.UID)
			}
			back, err := Convert(there, pc.Version)
			if err != nil {
				t.Fatal(err)
			}
			want := meaning(t, body)
			for step, got := range map[string][]string{"converted": meaning(t, there), "back": meaning(t, back)} {
				got = addedN(want, got)
				if !slices.Equal(got, want) {
					t.Errorf("%s card means something else:\n got %q\nwant %q\n%s", step, got, want, there)
				}
			}
			checkLines(t, there)
			checkLines(t, back)
		})
	}
}

// checkLines asserts the encoder's output rules: CRLF only, every physical
// line at most 75 octets, continuation lines start with one space and hold
// something, and no line ends inside a UTF-8 sequence.
func checkLines(t testing.TB, out []byte) {
	t.Helper()
	if !bytes.HasSuffix(out, []byte("\r\n")) {
		t.Errorf("output does not end with CRLF")
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\r\n")), []byte("\r\n")) {
		if len(line) > contentline.MaxOctets {
			t.Errorf("line %d has %d octets: %q", i, len(line), line)
		}
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("line %d holds a bare CR or LF: %q", i, line)
		}
		if !utf8.Valid(line) {
			t.Errorf("line %d splits a UTF-8 sequence: %q", i, line)
		}
		if len(line) > 0 && line[0] == ' ' && len(line) == 1 {
			t.Errorf("line %d is an empty continuation", i)
		}
	}
}

func TestConvertMappings(t *testing.T) {
	tests := []struct {
		name string
		in   []string // properties between BEGIN and END, VERSION first
		to   string
		want []string // output properties between BEGIN and END
	}{
		{"group 3→4",
			[]string{"VERSION:3.0", "N:Friends", "FN:Friends", "X-ADDRESSBOOKSERVER-KIND:group", "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:a", "UID:g"},
			Version4,
			[]string{"VERSION:4.0", "N:Friends", "FN:Friends", "KIND:group", "MEMBER:urn:uuid:a", "UID:g"}},
		{"group 4→3 adds N",
			[]string{"VERSION:4.0", "KIND:group", "FN:Friends\\, old", "MEMBER:urn:uuid:a", "UID:g"},
			Version3,
			[]string{"VERSION:3.0", "X-ADDRESSBOOKSERVER-KIND:group", "FN:Friends\\, old", "N:Friends\\, old;;;;", "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:a", "UID:g"}},
		{"individual 4→3 gets an empty N",
			[]string{"VERSION:4.0", "FN:A", "UID:u"},
			Version3,
			[]string{"VERSION:3.0", "FN:A", "N:;;;;", "UID:u"}},
		{"VERSION moves first",
			[]string{"FN:A", "VERSION:3.0", "UID:u"},
			Version4,
			[]string{"VERSION:4.0", "FN:A", "UID:u"}},
		{"photo 3→4 with type",
			[]string{"VERSION:3.0", "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ"},
			Version4,
			[]string{"VERSION:4.0", "PHOTO:data:image/jpeg;base64,/9j/4AAQ"}},
		{"photo 3→4 sniffed, 2.1 BASE64 spelling, spaces",
			[]string{"VERSION:3.0", "PHOTO;ENCODING=BASE64:iVBO Rw0K GgoA"},
			Version4,
			[]string{"VERSION:4.0", "PHOTO:data:image/png;base64,iVBORw0KGgoA"}},
		{"photo 4→3",
			[]string{"VERSION:4.0", "PHOTO:data:image/png;base64,iVBORw0KGgoA"},
			Version3,
			[]string{"VERSION:3.0", "PHOTO;ENCODING=b;TYPE=PNG:iVBORw0KGgoA"}},
		{"percent-encoded data URI 4→3",
			[]string{"VERSION:4.0", "SOUND:data:audio/ogg,OggS%00"},
			Version3,
			[]string{"VERSION:3.0", "SOUND;ENCODING=b;TYPE=OGG:T2dnUwA="}},
		{"photo URI 3→4",
			[]string{"VERSION:3.0", "PHOTO;VALUE=uri;TYPE=GIF:http://example.com/a.gif"},
			Version4,
			[]string{"VERSION:4.0", "PHOTO;MEDIATYPE=image/gif:http://example.com/a.gif"}},
		{"photo URI 4→3",
			[]string{"VERSION:4.0", "PHOTO;MEDIATYPE=image/gif:http://example.com/a.gif", "LOGO:https://example.com/l"},
			Version3,
			[]string{"VERSION:3.0", "PHOTO;VALUE=uri;TYPE=GIF:http://example.com/a.gif", "LOGO;VALUE=uri:https://example.com/l"}},
		{"key 3→4→ types",
			[]string{"VERSION:3.0", "KEY;ENCODING=b;TYPE=PGP:mQEN", "KEY;ENCODING=b;TYPE=X509:MIIC"},
			Version4,
			[]string{"VERSION:4.0", "KEY:data:application/pgp-keys;base64,mQEN", "KEY:data:application/pkix-cert;base64,MIIC"}},
		{"pref 3→4",
			[]string{"VERSION:3.0", "EMAIL;TYPE=INTERNET,pref:a@x", "TEL;TYPE=WORK;TYPE=PREF:1", "TEL;TYPE=HOME:2"},
			Version4,
			[]string{"VERSION:4.0", "EMAIL;PREF=1:a@x", "TEL;TYPE=WORK;PREF=1:1", "TEL;TYPE=HOME:2"}},
		{"pref 4→3 marks the most preferred",
			[]string{"VERSION:4.0", "TEL;PREF=2:1", "TEL;PREF=5:2", "TEL:3", "EMAIL;TYPE=work;PREF=1:a@x"},
			Version3,
			[]string{"VERSION:3.0", "TEL;TYPE=pref:1", "TEL:2", "TEL:3", "EMAIL;TYPE=work,pref:a@x"}},
		{"apple grouping kept",
			[]string{"VERSION:3.0", "item1.EMAIL;type=INTERNET;type=pref:a@x", "item1.X-ABLabel:_$!<Other>!$_"},
			Version4,
			[]string{"VERSION:4.0", "item1.EMAIL;PREF=1:a@x", "item1.X-ABLabel:_$!<Other>!$_"}},
		{"bday forms 3→4",
			[]string{"VERSION:3.0", "BDAY:1985-04-12", "X-ANNIVERSARY:2010-06-06", "REV:2024-02-29T12:34:56Z"},
			Version4,
			[]string{"VERSION:4.0", "BDAY:19850412", "ANNIVERSARY:20100606", "REV:20240229T123456Z"}},
		{"bday without year 3→4 (Apple)",
			[]string{"VERSION:3.0", "BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-15"},
			Version4,
			[]string{"VERSION:4.0", "BDAY:--0315"}},
		{"bday --MM-DD 3→4",
			[]string{"VERSION:3.0", "BDAY:--03-15"},
			Version4,
			[]string{"VERSION:4.0", "BDAY:--0315"}},
		{"bday date-time with offset 3→4",
			[]string{"VERSION:3.0", "BDAY:1953-10-15T23:10:00-05:00"},
			Version4,
			[]string{"VERSION:4.0", "BDAY:19531015T231000-0500"}},
		{"bday forms 4→3",
			[]string{"VERSION:4.0", "BDAY:--0315", "ANNIVERSARY:20100606", "REV:20240229T123456Z"},
			Version3,
			[]string{"VERSION:3.0", "BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-15", "X-ANNIVERSARY:2010-06-06", "REV:2024-02-29T12:34:56Z"}},
		{"bday kept when not a date",
			[]string{"VERSION:4.0", "BDAY;VALUE=text:circa 1800", "BDAY:--03"},
			Version3,
			[]string{"VERSION:3.0", "BDAY;VALUE=text:circa 1800", "BDAY:--03"}},
		{"bday date-time with offset 4→3",
			[]string{"VERSION:4.0", "BDAY:19531015T231000-0500"},
			Version3,
			[]string{"VERSION:3.0", "BDAY:1953-10-15T23:10:00-05:00"}},
		{"geo and tz 3→4",
			[]string{"VERSION:3.0", "GEO:37.386013;-122.082932", "TZ:-05:00", "TZ;VALUE=text:Europe/Paris"},
			Version4,
			[]string{"VERSION:4.0", "GEO:geo:37.386013,-122.082932", "TZ;VALUE=utc-offset:-0500", "TZ:Europe/Paris"}},
		{"geo and tz 4→3",
			[]string{"VERSION:4.0", "GEO:geo:37.386013,-122.082932;u=10", "TZ;VALUE=utc-offset:+0530", "TZ:Europe/Paris"},
			Version3,
			[]string{"VERSION:3.0", "GEO:37.386013;-122.082932", "TZ:+05:30", "TZ;VALUE=text:Europe/Paris"}},
		{"label to ADR by TYPE 3→4",
			[]string{"VERSION:3.0", "ADR;TYPE=WORK:;;1 Main St;Town;;;", "ADR;TYPE=HOME:;;2 Side St;Town;;;", "LABEL;TYPE=HOME:2 Side St\\nTown"},
			Version4,
			[]string{"VERSION:4.0", "ADR;TYPE=WORK:;;1 Main St;Town;;;", "ADR;TYPE=HOME;LABEL=2 Side St^nTown:;;2 Side St;Town;;;"}},
		{"label to ADR by group 3→4",
			[]string{"VERSION:3.0", "item2.ADR;TYPE=HOME:;;2 Side St;Town;;;", "item2.LABEL:2 Side St\\, Town"},
			Version4,
			[]string{"VERSION:4.0", `item2.ADR;TYPE=HOME;LABEL="2 Side St, Town":;;2 Side St;Town;;;`}},
		{"label without ADR 3→4",
			[]string{"VERSION:3.0", "LABEL;TYPE=WORK:PO Box 1\\nTown"},
			Version4,
			[]string{"VERSION:4.0", "ADR;TYPE=WORK;LABEL=PO Box 1^nTown:;;;;;;"}},
		{"label 4→3",
			[]string{"VERSION:4.0", `ADR;TYPE=home;PREF=1;LABEL="2 Side St^nTown, ^'Q^'":;;2 Side St;Town;;;`, "ADR;LABEL=PO Box:;;;;;;"},
			Version3,
			[]string{"VERSION:3.0", "ADR;TYPE=home,pref:;;2 Side St;Town;;;", `LABEL;TYPE=home,pref:2 Side St\nTown\, "Q"`, "LABEL:PO Box"}},
		{"sort-string 3→4→3",
			[]string{"VERSION:3.0", "N:Public;Jane;;;", "SORT-STRING:Public"},
			Version4,
			[]string{"VERSION:4.0", "N;SORT-AS=Public:Public;Jane;;;"}},
		{"sort-as 4→3",
			[]string{"VERSION:4.0", `N;SORT-AS="Public,Jane":Public;Jane;;;`},
			Version3,
			[]string{"VERSION:3.0", "N:Public;Jane;;;", `SORT-STRING:Public\,Jane`}},
		{"tel uri 4→3",
			[]string{"VERSION:4.0", "TEL;VALUE=uri;TYPE=cell:tel:+1-555-0100"},
			Version3,
			[]string{"VERSION:3.0", "TEL;TYPE=cell:+1-555-0100"}},
		{"unknown properties and params carried over",
			[]string{"VERSION:3.0", "X-SOCIALPROFILE;type=twitter;x-user=zoe:https://x.example/zoe", "MAILER:Thunderbird", "PROFILE:VCARD"},
			Version4,
			[]string{"VERSION:4.0", "X-SOCIALPROFILE;TYPE=twitter;X-USER=zoe:https://x.example/zoe", "MAILER:Thunderbird"}},
		{"4.0 param carets become spaces in 3.0",
			[]string{"VERSION:4.0", `X-P;X-Q="a^nb^^c":v`},
			Version3,
			[]string{"VERSION:3.0", "X-P;X-Q=a b^c:v"}},
		{"lower-case standard names written upper-case",
			[]string{"version:3.0", "fn:A", "x-abLabel:l"},
			Version4,
			[]string{"VERSION:4.0", "FN:A", "x-abLabel:l"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := crlf(append(append([]string{"BEGIN:VCARD"}, tt.in...), "END:VCARD")...)
			out, err := Convert([]byte(in), tt.to)
			if err != nil {
				t.Fatal(err)
			}
			want := crlf(append(append([]string{"BEGIN:VCARD"}, tt.want...), "END:VCARD")...)
			if string(unfoldAll(out)) != want {
				t.Errorf("Convert to %s =\n%s\nwant\n%s", tt.to, unfoldAll(out), want)
			}
		})
	}
}

// unfoldAll removes the folding of encoder output, for comparisons.
func unfoldAll(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("\r\n "), nil)
}

func TestConvertErrors(t *testing.T) {
	card := crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", "UID:u", "END:VCARD")
	if _, err := Convert([]byte(card), "2.1"); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("Convert to 2.1: %v", err)
	}
	if _, err := Convert([]byte("BEGIN:VCARD\r\nFN:A\r\n"), Version4); err == nil {
		t.Error("Convert of a card without END succeeded")
	}
	// Same version: re-encoded, same meaning.
	out, err := Convert([]byte(card), Version3)
	if err != nil || string(out) != card {
		t.Errorf("Convert 3.0→3.0 = %q, %v", out, err)
	}
}

func TestFolding(t *testing.T) {
	r := rand.New(rand.NewPCG(75, 2))
	runes := []rune("aé€𝄞山 ,;\\\n\"^:x")
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		for n := r.IntN(300); n > 0; n-- {
			b.WriteRune(runes[r.IntN(len(runes))])
		}
		text := b.String()
		p := property{name: "NOTE", value: escapeText(text), params: []param{{Name: "X-P", Values: []string{text}}}}
		for _, version := range []string{Version3, Version4} {
			out := encodeCard([]property{{name: "VERSION", value: version}, p, {name: "FN", value: "x"}, {name: "UID", value: "u"}}, version)
			checkLines(t, out)
			// Unfolding gives the value back exactly.
			c, err := parseCardLines(out)
			if err != nil {
				t.Fatalf("own output does not parse: %v\n%q", err, out)
			}
			if got := contentline.UnescapeText(c.props[1].value); got != strings.ReplaceAll(text, "\r\n", "\n") {
				t.Fatalf("value %q came back as %q", text, got)
			}
			gotParam := c.props[1].param("X-P")
			if version == Version4 && (len(gotParam) != 1 || gotParam[0] != text) {
				t.Fatalf("4.0 parameter %q came back as %q", text, gotParam)
			}
		}
	}
}

func TestEscaping(t *testing.T) {
	tests := []struct{ text, raw string }{
		{"plain", "plain"},
		{"a,b", `a\,b`},
		{"a;b", `a\;b`},
		{`a\b`, `a\\b`},
		{"line1\nline2", `line1\nline2`},
		{`\n literal`, `\\n literal`},
	}
	for _, tt := range tests {
		if got := escapeText(tt.text); got != tt.raw {
			t.Errorf("escapeText(%q) = %q, want %q", tt.text, got, tt.raw)
		}
		if got := contentline.UnescapeText(tt.raw); got != tt.text {
			t.Errorf("contentline.UnescapeText(%q) = %q, want %q", tt.raw, got, tt.text)
		}
	}
	if got := contentline.UnescapeText(`A\NB`); got != "A\nB" {
		t.Errorf(`contentline.UnescapeText(A\NB) = %q`, got)
	}
	params := []struct{ value, v3, v4 string }{
		{"work", "work", "work"},
		{"a,b", `"a,b"`, `"a,b"`},
		{"x:y", `"x:y"`, `"x:y"`},
		{"1 Main St\nTown", "1 Main St Town", "1 Main St^nTown"},
		{`say "hi" ^`, "say hi ^", "say ^'hi^' ^^"},
	}
	for _, tt := range params {
		if got := encodeParamValue(tt.value, Version3); got != tt.v3 {
			t.Errorf("3.0 param %q = %q, want %q", tt.value, got, tt.v3)
		}
		if got := encodeParamValue(tt.value, Version4); got != tt.v4 {
			t.Errorf("4.0 param %q = %q, want %q", tt.value, got, tt.v4)
		}
	}
}
