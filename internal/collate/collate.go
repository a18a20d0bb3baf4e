package collate

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Collation is one of the supported collations.
type Collation uint8

// The supported collations. The zero value is none.
const (
	// ASCIICasemap folds the 26 ASCII letters and compares every other
	// octet as is (RFC 4790 §9.2).
	ASCIICasemap Collation = iota + 1
	// Octet compares octets exactly (RFC 4790 §9.3).
	Octet
	// UnicodeCasemap is RFC 5051's simple Unicode collation.
	UnicodeCasemap
)

var collationNames = [...]string{ASCIICasemap: "i;ascii-casemap", Octet: "i;octet", UnicodeCasemap: "i;unicode-casemap"}

// String returns the collation's identifier in the RFC 4790 registry.
func (c Collation) String() string {
	if c == 0 || int(c) >= len(collationNames) {
		return ""
	}
	return collationNames[c]
}

// Names returns the identifiers of the supported collations, in the order a
// server advertises them (CALDAV:supported-collation-set, RFC 4791 §7.5.1;
// CARDDAV:supported-collation-set, RFC 6352 §8.3.1).
func Names() []string {
	return []string{ASCIICasemap.String(), Octet.String(), UnicodeCasemap.String()}
}

// Lookup returns the collation called name, and false when it is not
// supported. An empty name, or "default" (RFC 6352 §8.3),
// selects def, the protocol's default. Names are compared without regard to
// case and surrounding white space: clients send "I;ASCII-CASEMAP" too.
func Lookup(name string, def Collation) (Collation, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "default":
		return def, def != 0
	case "i;ascii-casemap":
		return ASCIICasemap, true
	case "i;octet":
		return Octet, true
	case "i;unicode-casemap":
		return UnicodeCasemap, true
	}
	return 0, false
}

// Fold returns s in the canonical form of the collation: unchanged for
// i;octet, ASCII letters upper-cased for i;ascii-casemap, and FoldUnicode for
// i;unicode-casemap. Two strings compare equal under c exactly when their
// folds are equal octet for octet. Fold returns s itself, without
// allocating, when s is already canonical.
func (c Collation) Fold(s string) string {
	switch c {
	case ASCIICasemap:
		return foldASCII(s)
	case UnicodeCasemap:
		return FoldUnicode(s)
	}
	return s
}

// foldASCII maps a-z to A-Z and leaves every other octet alone (RFC 4790
// §9.2: i;ascii-casemap is i;octet after mapping the ASCII letters to one
// case).
func foldASCII(s string) string {
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

// FoldUnicode returns the canonical form of s under i;unicode-casemap
// (RFC 5051 §2). Code point by code point, as the RFC's steps (1) to (4)
// go, each character is replaced by its simple titlecase mapping
// (UnicodeData.txt), then by its decomposition of any type, recursively
// (step 2(b)), and the result is appended. So "Zoë", "ZOË" and "zoe\u0308"
// all fold to "ZOE\u0308".
//
// Where the characters a decomposition yields have a titlecase mapping of
// their own, that is applied too, so "ﬁ" (decomposing to "fi") equals "FI"
// as "fi" does, and U+01C6 "ǆ" becomes "DZ" + U+030C like "Ǆ".
//
// Because the mapping is the simple one-to-one mapping, "ß" stays "ß" and
// does not equal "SS"; U+0130 "İ" becomes "I" + U+0307, so it does not
// equal "i", while U+0131 "ı" titlecases to "I" and does. No locale is
// consulted.
//
// Two consequences of working code point by code point, as the RFC does,
// rather than running NFKD over the whole string: combining marks are not
// put into canonical order (so "a" + U+0301 + U+0323 and "a" + U+0323 +
// U+0301 differ), and Hangul syllables, which have no decomposition in
// UnicodeData.txt, stay whole. In exchange the fold of a concatenation is
// the concatenation of the folds, which substring matching and the search
// prefilter depend on.
//
// Octets that are not UTF-8 are copied unchanged, so they only ever match
// themselves.
func FoldUnicode(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return foldASCII(s)
	}
	out := make([]byte, 0, len(s)+len(s)/4)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			out = append(out, s[i])
			i++
			continue
		}
		out = appendFoldedRune(out, r, 0)
		i += size
	}
	return string(out)
}

// appendFoldedRune appends the i;unicode-casemap form of r.
func appendFoldedRune(out []byte, r rune, depth int) []byte {
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
	for len(d) > 0 {
		dr, size := utf8.DecodeRune(d)
		out = appendFoldedRune(out, dr, depth+1)
		d = d[size:]
	}
	return out
}
