package collate

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestMatch covers the collations of RFC 4790 (i;octet, i;ascii-casemap)
// and RFC 5051 (i;unicode-casemap), including non-ASCII text, and the match
// types of RFC 6352 §10.5.4. (Moved here from caldav's TestMatchText, with
// the cases where caldav's and carddav's copies disagreed added.)
func TestMatch(t *testing.T) {
	cases := []struct {
		name                 string
		collation, matchType string
		pattern, value       string
		want                 bool
	}{
		// i;octet: exact octets.
		{"octet equal case", "i;octet", "", "Team", "Team meeting", true},
		{"octet other case", "i;octet", "", "team", "Team meeting", false},
		{"octet non-ASCII", "i;octet", "", "é", "café", true},
		{"octet decomposed differs", "i;octet", "", "e\u0301", "café", false},

		// i;ascii-casemap (CalDAV's default): only A-Z fold.
		{"ascii default", "", "", "TEAM", "Team meeting", true},
		{"ascii explicit", "i;ascii-casemap", "", "mEeTiNg", "Team meeting", true},
		{"ascii keeps É", "i;ascii-casemap", "", "CAFÉ", "café", false},
		{"ascii ÄÖ", "i;ascii-casemap", "", "äö", "ÄÖ", false},
		{"ascii empty pattern", "", "", "", "anything", true},

		// i;unicode-casemap: simple titlecase mapping, then decomposition.
		{"unicode É", "i;unicode-casemap", "", "CAFÉ", "café", true},
		{"unicode precomposed vs decomposed", "i;unicode-casemap", "", "cafe\u0301", "CAFÉ", true},
		{"unicode Greek", "i;unicode-casemap", "", "ΣΟΦΙΑ", "σοφια", true},
		{"unicode final sigma", "i;unicode-casemap", "", "ΣΟΦΟΣ", "σοφος", true},
		{"unicode Cyrillic", "i;unicode-casemap", "", "москва", "МОСКВА", true},
		{"unicode compatibility ligature", "i;unicode-casemap", "", "ﬁle", "FILE", true},
		{"unicode fullwidth", "i;unicode-casemap", "", "ＡＢＣ", "abc", true},
		{"unicode dz digraph", "i;unicode-casemap", "", "ǆ", "Ǆ", true},
		// RFC 5051 uses the simple titlecase mapping, which leaves ß alone:
		// "Straße" does not equal "STRASSE" (full case folding would make
		// it), but does equal "STRAßE".
		{"unicode ß vs SS", "i;unicode-casemap", "equals", "STRASSE", "Straße", false},
		{"unicode ß vs ß", "i;unicode-casemap", "equals", "STRAßE", "straße", true},
		// Turkish: dotless ı titlecases to I, so it matches i and I; dotted
		// İ decomposes to I + U+0307, so it contains "I" but is not equal
		// to "i" — no locale-specific mapping.
		{"unicode dotless i", "i;unicode-casemap", "equals", "ı", "I", true},
		{"unicode dotless i vs i", "i;unicode-casemap", "equals", "ı", "i", true},
		{"unicode dotted I equal", "i;unicode-casemap", "equals", "i", "İ", false},
		{"unicode dotted I contains", "i;unicode-casemap", "contains", "i", "İstanbul", true},
		{"unicode dotted I word", "i;unicode-casemap", "contains", "istanbul", "İstanbul", false},
		{"unicode invalid UTF-8", "i;unicode-casemap", "contains", "\xff", "a\xffb", true},
		// Where the two former copies disagreed. RFC 5051 §2 folds code
		// point by code point and appends each result: combining marks keep
		// their order (caldav's whole-string NFKD reordered them) and Hangul
		// syllables, without a decomposition in UnicodeData.txt, stay whole.
		{"unicode mark order kept", "i;unicode-casemap", "equals", "a\u0301\u0323", "a\u0323\u0301", false},
		{"unicode ệ precomposed vs in order", "i;unicode-casemap", "equals", "ệ", "E\u0323\u0302", true},
		{"unicode Hangul syllable vs jamo", "i;unicode-casemap", "equals", "한", "\u1112\u1161\u11ab", false},
		{"unicode Hangul", "i;unicode-casemap", "contains", "국", "한국어", true},
		// RFC 6352 §8.6.4's example: "daboo" in FN or EMAIL.
		{"rfc6352 daboo fn ascii", "i;ascii-casemap", "", "daboo", "Cyrus Daboo", true},
		{"rfc6352 daboo fn unicode", "i;unicode-casemap", "", "daboo", "Cyrus Daboo", true},
		{"rfc6352 daboo email", "i;unicode-casemap", "", "daboo", "daboo@example.com", true},

		// match types.
		{"equals", "", "equals", "team", "TEAM", true},
		{"equals substring", "", "equals", "tea", "TEAM", false},
		{"starts-with", "", "starts-with", "TE", "team", true},
		{"starts-with not", "", "starts-with", "am", "team", false},
		{"ends-with", "", "ends-with", "AM", "team", true},
		{"ends-with not", "", "ends-with", "te", "team", false},
		{"match type case", "", "Starts-With", "TE", "team", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := Lookup(tc.collation, ASCIICasemap)
			if !ok {
				t.Fatalf("Lookup(%q) failed", tc.collation)
			}
			m, ok := LookupMatch(tc.matchType)
			if !ok {
				t.Fatalf("LookupMatch(%q) failed", tc.matchType)
			}
			if got := Match(c, m, tc.pattern, tc.value); got != tc.want {
				t.Errorf("Match(%s, %s, %q, %q) = %v, want %v", c, m, tc.pattern, tc.value, got, tc.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		name string
		def  Collation
		want Collation
		ok   bool
	}{
		{"", ASCIICasemap, ASCIICasemap, true},
		{"", UnicodeCasemap, UnicodeCasemap, true},
		{"default", UnicodeCasemap, UnicodeCasemap, true},
		{"i;octet", UnicodeCasemap, Octet, true},
		{"I;ASCII-CASEMAP", UnicodeCasemap, ASCIICasemap, true},
		{" i;unicode-casemap ", ASCIICasemap, UnicodeCasemap, true},
		{"i;ascii-numeric", ASCIICasemap, 0, false},
		{"", 0, 0, false},
	} {
		if got, ok := Lookup(tc.name, tc.def); got != tc.want || ok != tc.ok {
			t.Errorf("Lookup(%q, %s) = %s, %v; want %s, %v", tc.name, tc.def, got, ok, tc.want, tc.ok)
		}
	}
	for _, n := range Names() {
		if c, ok := Lookup(n, 0); !ok || c.String() != n {
			t.Errorf("advertised collation %s: Lookup = %s, %v", n, c, ok)
		}
	}
	if _, ok := LookupMatch("regex"); ok {
		t.Error("unknown match type accepted")
	}
}

// TestFoldUnicode pins canonical forms (moved from carddav's TestNormalize).
func TestFoldUnicode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc XYZ 123", "ABC XYZ 123"},
		{"Zoë", "ZOE\u0308"},
		{"ZOË", "ZOE\u0308"},
		{"zoe\u0308", "ZOE\u0308"},
		{"Çelik", "C\u0327ELIK"},
		{"İstanbul", "I\u0307STANBUL"}, // dotted capital I decomposes
		{"ﬁle", "FILE"},                // compatibility ligature
		{"Ｍｕｌｌｅｒ", "MULLER"},           // full-width forms
		{"ǆ", "DZ\u030C"},              // U+01C6 → titlecase U+01C5 → D + ž → D + Ž → D Z caron
		{"dž", "DZ\u030C"},
		{"σς", "ΣΣ"},
		{"ß", "ß"}, // no simple titlecase mapping (RFC 5051 uses UnicodeData simple mappings)
		{"山田太郎", "山田太郎"},
		{"한국", "한국"}, // Hangul syllables are not decomposed (not in UnicodeData.txt)
		{"a\xffb", "A\xffB"},
	}
	for _, tt := range tests {
		if got := FoldUnicode(tt.in); got != tt.want {
			t.Errorf("FoldUnicode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FoldUnicode works character by character: folding a concatenation is the
// concatenation of the folds, which is what keeps substrings substrings
// (moved from carddav's TestNormalizeIsHomomorphic).
func TestFoldIsHomomorphic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		a, b := randomText(r, 12), randomText(r, 12)
		for _, c := range []Collation{Octet, ASCIICasemap, UnicodeCasemap} {
			if c.Fold(a+b) != c.Fold(a)+c.Fold(b) {
				t.Fatalf("%s: Fold(%q+%q) = %q, want %q", c, a, b, c.Fold(a+b), c.Fold(a)+c.Fold(b))
			}
			if n := c.Fold(a); c.Fold(n) != n {
				t.Fatalf("%s: Fold is not idempotent on %q: %q then %q", c, a, n, c.Fold(n))
			}
		}
		// Whatever matches under any collation contains the unicode fold
		// of the term: the promise a search prefilter relies on.
		for _, c := range []Collation{Octet, ASCIICasemap, UnicodeCasemap} {
			for _, m := range []MatchType{Contains, Equals, StartsWith, EndsWith} {
				got := Match(c, m, b, a)
				if want := m.Compare(c.Fold(a), c.Fold(b)); got != want {
					t.Fatalf("%s %s %q in %q = %v, but the folds say %v", c, m, b, a, got, want)
				}
				if got && !strings.Contains(FoldUnicode(a), FoldUnicode(b)) {
					t.Fatalf("%s %s %q in %q, but the folds do not contain each other", c, m, b, a)
				}
			}
		}
	}
}

// TestMatchAllocations keeps the exact match cheaper than the two copies it
// replaced: nothing is allocated for ASCII values, under any collation.
func TestMatchAllocations(t *testing.T) {
	for _, c := range []Collation{Octet, ASCIICasemap, UnicodeCasemap} {
		for _, m := range []MatchType{Contains, Equals, StartsWith, EndsWith} {
			mt := NewMatcher(c, m, "daboo")
			for _, v := range []string{"CYRUS DABOO", "Cyrus Daboo <cyrus@example.com>"} {
				if n := testing.AllocsPerRun(100, func() { mt.Match(v) }); n != 0 {
					t.Errorf("%s %s on %q allocates %v times", c, m, v, n)
				}
			}
		}
	}
}

// alphabet mixes ASCII of both cases with characters that fold, decompose,
// combine or reorder, so random tests hit the hard cases.
var alphabet = []rune("aAbBzZ ,;:\\.@-1 éÉeE\u0301\u0323\u0327\u0308öÖßẞİıǆǅǄﬁσςΣ山田ｍＭ한\u00a0")

func randomText(r *rand.Rand, max int) string {
	runes := make([]rune, r.IntN(max+1))
	for i := range runes {
		runes[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(runes)
}

func BenchmarkFoldUnicode(b *testing.B) {
	for _, s := range []string{"Cyrus Daboo <cyrus@example.com>", "Zoë Çelik, İstanbul — Straße 5"} {
		b.Run(s[:5], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				FoldUnicode(s)
			}
		})
	}
}

// TestMatchLong takes the path for a long value and a long term.
func TestMatchLong(t *testing.T) {
	term := strings.Repeat("ab", 600) + "C"
	value := strings.Repeat("AB", 50000) + strings.ToLower(term) + "x"
	for _, c := range []Collation{ASCIICasemap, UnicodeCasemap} {
		if !Match(c, Contains, term, value) || Match(c, Contains, term+"y", value) {
			t.Errorf("%s: long contains is wrong", c)
		}
	}
}
