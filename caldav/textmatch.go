package caldav

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Collation names (RFC 4790 registry) understood by text-match.
const (
	// CollationASCIICasemap folds the 26 ASCII letters and compares every
	// other octet as is (RFC 4790 §9.2). RFC 4791 §9.7.5: it is the default.
	CollationASCIICasemap = "i;ascii-casemap"
	// CollationOctet compares octets exactly (RFC 4790 §9.3).
	CollationOctet = "i;octet"
	// CollationUnicodeCasemap is RFC 5051's simple Unicode collation: each
	// character is replaced by its (simple) titlecase mapping, then the
	// string is put in NFKD.
	CollationUnicodeCasemap = "i;unicode-casemap"
)

// Match types for text-match. RFC 4791 only knows substring matching;
// the others come from RFC 6352 §10.5.4 and are accepted as an extension.
const (
	MatchContains   = "contains"
	MatchEquals     = "equals"
	MatchStartsWith = "starts-with"
	MatchEndsWith   = "ends-with"
)

// ErrUnsupportedCollation is returned for a collation this server does not
// implement; RFC 4791 §7.5.1 makes that a CALDAV:supported-collation error.
var ErrUnsupportedCollation = errors.New("caldav: unsupported collation")

// SupportedCollations lists the collations accepted in text-match, in the
// order they are advertised (CALDAV:supported-collation-set, RFC 4791 §7.5.1).
func SupportedCollations() []string {
	return []string{CollationASCIICasemap, CollationOctet, CollationUnicodeCasemap}
}

// supportedCollation reports whether name (empty meaning the default) is a
// collation MatchText implements.
func supportedCollation(name string) bool {
	switch name {
	case "", CollationASCIICasemap, CollationOctet, CollationUnicodeCasemap:
		return true
	}
	return false
}

// MatchText reports whether value matches pattern under collation (empty:
// i;ascii-casemap) and matchType (empty: contains). Case-insensitive
// collations compare the canonical forms of both strings, so substring
// positions refer to those forms.
func MatchText(collation, matchType, pattern, value string) (bool, error) {
	var p, v string
	switch collation {
	case "", CollationASCIICasemap:
		p, v = asciiFold(pattern), asciiFold(value)
	case CollationOctet:
		p, v = pattern, value
	case CollationUnicodeCasemap:
		p, v = unicodeCasemap(pattern), unicodeCasemap(value)
	default:
		return false, ErrUnsupportedCollation
	}
	switch matchType {
	case "", MatchContains:
		return strings.Contains(v, p), nil
	case MatchEquals:
		return v == p, nil
	case MatchStartsWith:
		return strings.HasPrefix(v, p), nil
	case MatchEndsWith:
		return strings.HasSuffix(v, p), nil
	}
	return false, errors.New("caldav: unknown match type")
}

// asciiFold maps A-Z to a-z and leaves every other octet alone (RFC 4790
// §9.2: i;ascii-casemap is i;octet after mapping the ASCII upper-case letters).
func asciiFold(s string) string {
	i := 0
	for i < len(s) && !('A' <= s[i] && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if 'A' <= b[i] && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

// unicodeCasemap computes RFC 5051 §2's canonical form: every character is
// mapped through the titlecase property of UnicodeData.txt (the simple,
// one-to-one mapping; unicode.ToTitle), and the result is fully decomposed
// (NFKD). The characters a compatibility decomposition produces are mapped
// once more, so that "ﬁ" (decomposing to "fi") equals "FI" as "fi" does.
// Because the mapping is the simple one, "ß" stays "ß" and does not equal
// "SS"; U+0130 "İ" becomes "I" followed by U+0307, so it does not equal "i",
// while U+0131 "ı" titlecases to "I" and does. Invalid UTF-8 octets are kept
// as they are, so they only ever match themselves.
func unicodeCasemap(s string) string {
	return titleMap(norm.NFKD.String(titleMap(s)))
}

// titleMap replaces every character by its simple titlecase mapping.
func titleMap(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteRune(unicode.ToTitle(r))
		i += n
	}
	return b.String()
}
