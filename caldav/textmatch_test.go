package caldav

import (
	"errors"
	"testing"
)

// TestMatchText covers the collations of RFC 4790 (i;octet,
// i;ascii-casemap) and RFC 5051 (i;unicode-casemap), including non-ASCII
// text, and the match types.
func TestMatchText(t *testing.T) {
	cases := []struct {
		name                 string
		collation, matchType string
		pattern, value       string
		want                 bool
	}{
		// i;octet: exact octets.
		{"octet equal case", CollationOctet, "", "Team", "Team meeting", true},
		{"octet other case", CollationOctet, "", "team", "Team meeting", false},
		{"octet non-ASCII", CollationOctet, "", "é", "café", true},
		{"octet decomposed differs", CollationOctet, "", "e\u0301", "café", false},

		// i;ascii-casemap (the default): only A-Z fold.
		{"ascii default", "", "", "TEAM", "Team meeting", true},
		{"ascii explicit", CollationASCIICasemap, "", "mEeTiNg", "Team meeting", true},
		{"ascii keeps É", CollationASCIICasemap, "", "CAFÉ", "café", false},
		{"ascii ÄÖ", CollationASCIICasemap, "", "äö", "ÄÖ", false},
		{"ascii empty pattern", "", "", "", "anything", true},

		// i;unicode-casemap: simple titlecase mapping, then NFKD.
		{"unicode É", CollationUnicodeCasemap, "", "CAFÉ", "café", true},
		{"unicode precomposed vs decomposed", CollationUnicodeCasemap, "", "cafe\u0301", "CAFÉ", true},
		{"unicode Greek", CollationUnicodeCasemap, "", "ΣΟΦΙΑ", "σοφια", true},
		{"unicode final sigma", CollationUnicodeCasemap, "", "ΣΟΦΟΣ", "σοφος", true},
		{"unicode Cyrillic", CollationUnicodeCasemap, "", "москва", "МОСКВА", true},
		{"unicode compatibility ligature", CollationUnicodeCasemap, "", "ﬁle", "FILE", true},
		{"unicode fullwidth", CollationUnicodeCasemap, "", "ＡＢＣ", "abc", true},
		{"unicode dz digraph", CollationUnicodeCasemap, "", "ǆ", "Ǆ", true},
		// RFC 5051 uses the simple titlecase mapping, which leaves ß alone:
		// "Straße" does not equal "STRASSE" (full case folding would make
		// it), but does equal "STRAßE".
		{"unicode ß vs SS", CollationUnicodeCasemap, MatchEquals, "STRASSE", "Straße", false},
		{"unicode ß vs ß", CollationUnicodeCasemap, MatchEquals, "STRAßE", "straße", true},
		// Turkish: dotless ı titlecases to I, so it matches i and I; dotted
		// İ decomposes to I + U+0307, so it contains "I" but is not equal
		// to "i" — no locale-specific mapping.
		{"unicode dotless i", CollationUnicodeCasemap, MatchEquals, "ı", "I", true},
		{"unicode dotless i vs i", CollationUnicodeCasemap, MatchEquals, "ı", "i", true},
		{"unicode dotted I equal", CollationUnicodeCasemap, MatchEquals, "i", "İ", false},
		{"unicode dotted I contains", CollationUnicodeCasemap, MatchContains, "i", "İstanbul", true},
		{"unicode dotted I word", CollationUnicodeCasemap, MatchContains, "istanbul", "İstanbul", false},
		{"unicode invalid UTF-8", CollationUnicodeCasemap, MatchContains, "\xff", "a\xffb", true},

		// match types (RFC 6352 §10.5.4 extension).
		{"equals", "", MatchEquals, "team", "TEAM", true},
		{"equals substring", "", MatchEquals, "tea", "TEAM", false},
		{"starts-with", "", MatchStartsWith, "TE", "team", true},
		{"starts-with not", "", MatchStartsWith, "am", "team", false},
		{"ends-with", "", MatchEndsWith, "AM", "team", true},
		{"ends-with not", "", MatchEndsWith, "te", "team", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MatchText(tc.collation, tc.matchType, tc.pattern, tc.value)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("MatchText(%q, %q, %q, %q) = %v, want %v", tc.collation, tc.matchType, tc.pattern, tc.value, got, tc.want)
			}
		})
	}
	if _, err := MatchText("i;ascii-numeric", "", "1", "1"); !errors.Is(err, ErrUnsupportedCollation) {
		t.Errorf("unknown collation: %v", err)
	}
	if _, err := MatchText("", "regex", "1", "1"); err == nil {
		t.Error("unknown match type accepted")
	}
	for _, c := range SupportedCollations() {
		if !supportedCollation(c) {
			t.Errorf("advertised collation %s is not supported", c)
		}
	}
}

// TestTextMatchNegate checks negate-condition (RFC 4791 §9.7.5).
func TestTextMatchNegate(t *testing.T) {
	cases := []struct {
		negate, pattern, value string
		want                   bool
	}{
		{"", "cancel", "CANCELLED", true},
		{"no", "cancel", "CANCELLED", true},
		{"yes", "cancel", "CANCELLED", false},
		{"yes", "cancel", "CONFIRMED", true},
		{"yes", "", "anything", false},
	}
	for _, tc := range cases {
		got, err := textMatches(&TextMatch{NegateCondition: tc.negate, Value: tc.pattern}, tc.value)
		if err != nil || got != tc.want {
			t.Errorf("negate=%q %q in %q = %v, %v; want %v", tc.negate, tc.pattern, tc.value, got, err, tc.want)
		}
	}
}
