package carddav

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize folds s the way the i;unicode-casemap collation compares
// strings (RFC 5051 §2): every character is replaced by its titlecase
// mapping and then by its full (compatibility) decomposition, and both steps
// repeat on the result until nothing changes. So "Zoë", "ZOË" and "zoe\u0308"
// all fold to "ZOE\u0308".
//
// The mapping works character by character and never reorders or composes
// across characters, so Normalize(a+b) == Normalize(a)+Normalize(b). That is
// what makes the SQL prefilter safe: whenever a value contains a term under
// any of the three collations, Normalize(value) contains Normalize(term).
//
// Like RFC 5051, which takes decompositions from UnicodeData.txt, Hangul
// syllables are left whole. Invalid UTF-8 bytes are copied unchanged.
func Normalize(s string) string {
	// Fast path: ASCII only needs upper-casing.
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return asciiUpper(s)
	}
	out := make([]byte, 0, len(s)+len(s)/4)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			out = append(out, s[i])
			i++
			continue
		}
		out = foldRune(out, r, 0)
		i += size
	}
	return string(out)
}

// foldRune appends the RFC 5051 canonical form of r.
func foldRune(out []byte, r rune, depth int) []byte {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return append(out, byte(r))
	}
	t := unicode.ToTitle(r)
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], t)
	d := norm.NFKD.Properties(buf[:n]).Decomposition()
	if d == nil || depth > 4 {
		return append(out, buf[:n]...)
	}
	// The decomposition may hold characters with their own titlecase
	// mapping (U+01C6 → U+01C5 → "D" + U+017E → "D" + "Z" + U+030C).
	for len(d) > 0 {
		dr, size := utf8.DecodeRune(d)
		out = foldRune(out, dr, depth+1)
		d = d[size:]
	}
	return out
}

// asciiUpper maps a-z to A-Z and leaves every other byte alone: the
// canonical form of i;ascii-casemap (RFC 4790 §9.2).
func asciiUpper(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Collation identifiers of RFC 4790 §9 and RFC 5051.
const (
	CollationOctet        = "i;octet"
	CollationASCIICasemap = "i;ascii-casemap"
	// CollationUnicodeCasemap is the default: RFC 6352 §8.3 "In the absence
	// of a collation explicitly specified by the client, or if the client
	// specifies the "default" collation identifier ..., the server MUST
	// default to using "i;unicode-casemap" as the collation."
	CollationUnicodeCasemap = "i;unicode-casemap"
)

// Match types of RFC 6352 §10.5.4.
const (
	MatchEquals     = "equals"
	MatchContains   = "contains"
	MatchStartsWith = "starts-with"
	MatchEndsWith   = "ends-with"
)

// canonicalCollation returns the supported collation c names, or "" when it
// is not supported. Collation names are compared without regard to case
// (RFC 4790 §3.1 registers them in lower case; clients send "I;ASCII-CASEMAP").
func canonicalCollation(c string) string {
	switch strings.ToLower(strings.TrimSpace(c)) {
	case "", "default", CollationUnicodeCasemap:
		return CollationUnicodeCasemap
	case CollationASCIICasemap:
		return CollationASCIICasemap
	case CollationOctet:
		return CollationOctet
	}
	return ""
}

// canonicalMatchType returns the match type m names, or "" when unknown.
func canonicalMatchType(m string) string {
	switch strings.ToLower(strings.TrimSpace(m)) {
	case "", MatchContains:
		return MatchContains
	case MatchEquals:
		return MatchEquals
	case MatchStartsWith:
		return MatchStartsWith
	case MatchEndsWith:
		return MatchEndsWith
	}
	return ""
}

// foldFor returns s in the canonical form of collation.
func foldFor(collation, s string) string {
	switch collation {
	case CollationOctet:
		return s
	case CollationASCIICasemap:
		return asciiUpper(s)
	}
	return Normalize(s)
}

// compareFolded applies a match type to two strings already folded.
func compareFolded(matchType, value, term string) bool {
	switch matchType {
	case MatchEquals:
		return value == term
	case MatchStartsWith:
		return strings.HasPrefix(value, term)
	case MatchEndsWith:
		return strings.HasSuffix(value, term)
	}
	return strings.Contains(value, term)
}
