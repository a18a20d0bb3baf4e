package contentline

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestWriteFolded checks folding at 75 octets without splitting UTF-8 (RFC
// 5545 §3.1, RFC 6350 §3.2), and that unfolding gives the line back. (The
// cases of caldav's TestFoldLine and carddav's TestFoldingExactWidths.)
func TestWriteFolded(t *testing.T) {
	for _, line := range []string{
		"SUMMARY:short",
		"DESCRIPTION:" + strings.Repeat("a", 200),
		"DESCRIPTION:" + strings.Repeat("é", 100),
		"DESCRIPTION:" + strings.Repeat("日本", 60),
		"X:" + strings.Repeat("😀", 40),
		"X:" + strings.Repeat("\xff", 90),
	} {
		var b strings.Builder
		WriteFolded(&b, line)
		lines := strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n")
		for i, l := range lines {
			if len(l) > MaxOctets {
				t.Errorf("line %d has %d octets", i, len(l))
			}
			if i > 0 && l[0] != ' ' {
				t.Errorf("continuation %d does not start with a space", i)
			}
			if utf8.ValidString(line) && !utf8.ValidString(strings.TrimPrefix(l, " ")) {
				t.Errorf("line %d splits a UTF-8 sequence: %q", i, l)
			}
		}
		got, err := Unfold(b.String())
		if err != nil || len(got) != 1 || got[0] != line {
			t.Errorf("Unfold(fold(%q)) = %q, %v", line, got, err)
		}
	}
	for _, tt := range []struct {
		line  string
		lines []string
	}{
		{strings.Repeat("a", 75), []string{strings.Repeat("a", 75)}},
		{strings.Repeat("a", 76), []string{strings.Repeat("a", 75), " a"}},
		{strings.Repeat("a", 75+74+1), []string{strings.Repeat("a", 75), " " + strings.Repeat("a", 74), " a"}},
		// A 3-octet character that would straddle octet 75 moves to the next line.
		{strings.Repeat("a", 73) + "€b", []string{strings.Repeat("a", 73), " €b"}},
		{strings.Repeat("a", 72) + "€b", []string{strings.Repeat("a", 72) + "€", " b"}},
	} {
		var b strings.Builder
		WriteFolded(&b, tt.line)
		if got := strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n"); !slices.Equal(got, tt.lines) {
			t.Errorf("fold(%d octets) = %q, want %q", len(tt.line), got, tt.lines)
		}
	}
}

func TestReader(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		lines      []string
		raws       []string
		bad        bool
	}{
		{name: "empty"},
		{name: "crlf", body: "A:1\r\nB:2\r\n", lines: []string{"A:1", "B:2"}, raws: []string{"A:1\r\n", "B:2\r\n"}},
		{name: "bare lf, no final break", body: "A:1\nB:2", lines: []string{"A:1", "B:2"}, raws: []string{"A:1\n", "B:2"}},
		{name: "folded with space and tab", body: "A:on\r\n e\r\n\t two\r\nB:2\r\n", lines: []string{"A:one two", "B:2"}, raws: []string{"A:on\r\n e\r\n\t two\r\n", "B:2\r\n"}},
		{name: "fold inside UTF-8", body: "A:\xc3\r\n \xa9\r\n", lines: []string{"A:é"}, raws: []string{"A:\xc3\r\n \xa9\r\n"}},
		{name: "blank lines skipped", body: "\r\nA:1\r\n\r\n\nB:2\r\n\r\n", lines: []string{"A:1", "B:2"}, raws: []string{"A:1\r\n", "B:2\r\n"}},
		{name: "byte order mark", body: BOM + "BEGIN:VCARD\r\n", lines: []string{"BEGIN:VCARD"}, raws: []string{"BEGIN:VCARD\r\n"}},
		{name: "continuation first", body: " A:1\r\n", bad: true},
		{name: "continuation after a blank line", body: "A:1\r\n\r\n B\r\n", lines: []string{"A:1"}, raws: []string{"A:1\r\n"}, bad: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var lines, raws []string
			r := NewReader(tt.body)
			for r.Next() {
				lines, raws = append(lines, r.Line()), append(raws, r.Raw())
			}
			if (r.Err() != nil) != tt.bad || r.Err() != nil && !errors.Is(r.Err(), ErrSyntax) {
				t.Fatalf("Err = %v, want error %v", r.Err(), tt.bad)
			}
			if !slices.Equal(lines, tt.lines) || !slices.Equal(raws, tt.raws) {
				t.Errorf("lines %q raws %q, want %q %q", lines, raws, tt.lines, tt.raws)
			}
		})
	}
}

// TestRawRoundTrip: what is read and written back unchanged is the same
// bytes, folding points included.
func TestRawRoundTrip(t *testing.T) {
	body := "BEGIN:VCALENDAR\r\nX-LONG;A=\"x:y\";B=1,2:" + strings.Repeat("é", 30) + "\r\n " + strings.Repeat("z", 10) + "\r\n\t tab\r\nEND:VCALENDAR\r\n"
	var b strings.Builder
	r := NewReader(body)
	for r.Next() {
		WriteRaw(&b, r.Raw())
	}
	if r.Err() != nil || b.String() != body {
		t.Errorf("round trip = %q, %v", b.String(), r.Err())
	}
	b.Reset()
	WriteRaw(&b, "A:1\n b\nB:2")
	if b.String() != "A:1\r\n b\r\nB:2\r\n" {
		t.Errorf("line ends not made CRLF: %q", b.String())
	}
}

func TestParse(t *testing.T) {
	l, err := Parse(`ATTENDEE;CN="Doe, Jane";role=CHAIR;X-A=1,"2;3":mailto:j@example.com`)
	if err != nil {
		t.Fatal(err)
	}
	if l.Name != "ATTENDEE" || l.Param("CN") != "Doe, Jane" || len(l.Params) != 3 || l.Params[1].Name != "ROLE" ||
		!slices.Equal(l.Params[2].Values, []string{"1", "2;3"}) || l.Value != "mailto:j@example.com" {
		t.Errorf("Parse = %+v", l)
	}
	if h := l.Head("ROLE"); h != `ATTENDEE;CN="Doe, Jane";X-A=1,"2;3"` {
		t.Errorf("Head = %s", h)
	}
	if h := l.Head(); h != `ATTENDEE;CN="Doe, Jane";role=CHAIR;X-A=1,"2;3"` {
		t.Errorf("Head keeps the parameters as written: %s", h)
	}

	// vCard: a group, bare (vCard 2.1) parameters, an empty value.
	l, err = Parse(`item1.TEL;WORK;voice;TYPE=:`)
	if err != nil {
		t.Fatal(err)
	}
	if g, n := SplitGroup(l.Name); g != "item1" || n != "TEL" {
		t.Errorf("SplitGroup(%q) = %q, %q", l.Name, g, n)
	}
	if len(l.Params) != 3 || l.Params[0].Values != nil || l.Params[1].Name != "VOICE" || !slices.Equal(l.Params[2].Values, []string{""}) || l.Value != "" {
		t.Errorf("Parse = %+v", l)
	}

	// A stray DQUOTE in an unquoted value is kept, for the caller to judge.
	if l, err := Parse(`X;A=b"c:v`); err != nil || l.Param("A") != `b"c` {
		t.Errorf("stray quote: %+v, %v", l, err)
	}

	for _, bad := range []string{``, `:novalue`, `X`, `X;A="open:v`, `X;A=v`, `X;=v:w`, `X;A`} {
		if _, err := Parse(bad); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want ErrSyntax", bad, err)
		}
	}
}

func TestControlChar(t *testing.T) {
	for s, want := range map[string]int{"": -1, "a\tb": -1, "é€😀": -1, "a\x00": 1, "\x1b[1m": 0, "a\rb": 1, "a\nb": 1, "x\x7f": 1} {
		if got := ControlChar(s); got != want {
			t.Errorf("ControlChar(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestTrimBOM(t *testing.T) {
	for in, want := range map[string]string{"": "", BOM: "", BOM + "BEGIN:VCARD": "BEGIN:VCARD", "BEGIN:" + BOM: "BEGIN:" + BOM, "\xef\xbb": "\xef\xbb"} {
		got, had := TrimBOM([]byte(in))
		if string(got) != want || had != (len(in) != len(want)) {
			t.Errorf("TrimBOM(%q) = %q, %v", in, got, had)
		}
	}
}

func TestBodyControlChar(t *testing.T) {
	for s, want := range map[string]int{
		"":                 -1,
		"A:1\r\n b\tc\r\n": -1,
		"A:1\nB:2":         -1,
		"A:1\r":            -1, // CR at the end: a line break
		"A:1\rB:2\r\n":     3,  // a lone CR is no line break
		"A:\x00":           2,
		"A:\x1b[1m":        2,
		"A:\x7f":           2,
		"A;X=\x01:v":       4,
	} {
		if got := BodyControlChar([]byte(s)); got != want {
			t.Errorf("BodyControlChar(%q) = %d, want %d", s, got, want)
		}
	}
}

// FuzzReader: a body that reads comes back from its raw lines with only
// line ends and blank lines changed, and every logical line folds and
// unfolds to itself.
func FuzzReader(f *testing.F) {
	for _, s := range []string{"A:1\r\n b\r\n", "BEGIN:VCARD\nFN:x\n\nEND:VCARD", BOM + "A;B=\"c\":d\r\n\te\r\n", " x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var raw strings.Builder
		r := NewReader(body)
		for r.Next() {
			WriteRaw(&raw, r.Raw())
			if strings.ContainsAny(r.Line(), "\n") {
				t.Fatalf("logical line %q holds a line break", r.Line())
			}
			var folded strings.Builder
			WriteFolded(&folded, r.Line())
			// (A line that starts with white space or a byte order mark,
			// or holds a CR, cannot be written as one content line.)
			plain := r.Line()[0] != ' ' && r.Line()[0] != '\t' && !strings.HasPrefix(r.Line(), BOM) && !strings.Contains(r.Line(), "\r")
			if got, err := Unfold(folded.String()); plain && (err != nil || len(got) != 1 || got[0] != r.Line()) {
				t.Fatalf("fold/unfold of %q = %q, %v", r.Line(), got, err)
			}
			Parse(r.Line()) // never panics
		}
		if r.Err() != nil {
			return
		}
		var want []string
		for _, l := range strings.Split(strings.TrimPrefix(body, BOM), "\n") {
			if l = strings.TrimSuffix(l, "\r"); l != "" {
				want = append(want, l+"\r\n")
			}
		}
		if raw.String() != strings.Join(want, "") {
			t.Fatalf("raw lines of %q = %q", body, raw.String())
		}
	})
}
