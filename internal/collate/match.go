package collate

import (
	"errors"
	"fmt"
	"strings"
)

// MatchType is how a text-match compares its term with a value.
type MatchType uint8

// The match types of RFC 6352 §10.5.4. The zero value is none.
const (
	// Contains: the term is a substring of the value (the default, and
	// the only type of RFC 4791 §9.7.5).
	Contains MatchType = iota + 1
	// Equals: the value is the term.
	Equals
	// StartsWith: the term is a prefix of the value.
	StartsWith
	// EndsWith: the term is a suffix of the value.
	EndsWith
)

var matchNames = [...]string{Contains: "contains", Equals: "equals", StartsWith: "starts-with", EndsWith: "ends-with"}

// String returns the match type as written in the match-type attribute.
func (m MatchType) String() string {
	if m == 0 || int(m) >= len(matchNames) {
		return ""
	}
	return matchNames[m]
}

// LookupMatch returns the match type called name, and false when it is not
// known. An empty name is contains, the default of RFC 6352 §10.5.4.
func LookupMatch(name string) (MatchType, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "contains":
		return Contains, true
	case "equals":
		return Equals, true
	case "starts-with":
		return StartsWith, true
	case "ends-with":
		return EndsWith, true
	}
	return 0, false
}

// Compare applies the match type to a value and a term already in the
// canonical form of one collation (Collation.Fold). It does not allocate.
func (m MatchType) Compare(value, term string) bool {
	switch m {
	case Equals:
		return value == term
	case StartsWith:
		return strings.HasPrefix(value, term)
	case EndsWith:
		return strings.HasSuffix(value, term)
	}
	return strings.Contains(value, term)
}

// The errors of Compile.
var (
	ErrUnsupportedCollation = errors.New("unsupported collation")
	ErrUnknownMatchType     = errors.New("unknown match type")
)

// Compile returns the Matcher for the attributes and the term of a
// text-match element: collation (empty or "default": def) and match-type
// (empty: contains) as Lookup and LookupMatch read them. It fails with
// ErrUnsupportedCollation, which both protocols answer with their
// supported-collation precondition (RFC 4791 §7.5.1, RFC 6352 §8.3), or
// ErrUnknownMatchType.
func Compile(collation, matchType, term string, def Collation) (Matcher, error) {
	c, ok := Lookup(collation, def)
	if !ok {
		return Matcher{}, fmt.Errorf("%w %q", ErrUnsupportedCollation, collation)
	}
	m, ok := LookupMatch(matchType)
	if !ok {
		return Matcher{}, fmt.Errorf("%w %q", ErrUnknownMatchType, matchType)
	}
	return NewMatcher(c, m, term), nil
}

// Matcher matches values against one term under one collation and match
// type. The term is folded once, when the Matcher is made.
type Matcher struct {
	collation Collation
	match     MatchType
	term      string // folded
}

// NewMatcher returns a Matcher for term.
func NewMatcher(c Collation, m MatchType, term string) Matcher {
	return Matcher{collation: c, match: m, term: c.Fold(term)}
}

// Match reports whether value matches the term. It does not allocate
// unless the collation is i;unicode-casemap and value holds non-ASCII text,
// which is folded first.
func (mt Matcher) Match(value string) bool {
	switch mt.collation {
	case Octet:
		return mt.match.Compare(value, mt.term)
	case ASCIICasemap:
		return mt.match.compareASCII(value, mt.term)
	}
	if isASCII(value) {
		// FoldUnicode of ASCII text is its ASCII fold.
		return mt.match.compareASCII(value, mt.term)
	}
	return mt.match.Compare(FoldUnicode(value), mt.term)
}

// compareASCII is Compare(foldASCII(value), term) for a term already
// folded, without building the fold of value.
func (m MatchType) compareASCII(value, term string) bool {
	switch m {
	case Equals:
		return len(value) == len(term) && equalFoldedASCII(value, term)
	case StartsWith:
		return len(value) >= len(term) && equalFoldedASCII(value[:len(term)], term)
	case EndsWith:
		return len(value) >= len(term) && equalFoldedASCII(value[len(value)-len(term):], term)
	}
	if len(term) == 0 {
		return true
	}
	if len(value)/64*len(term) > 1<<16 {
		// A long value and a long term: the scan below is quadratic, the
		// fold and strings.Contains are not.
		return strings.Contains(foldASCII(value), term)
	}
	for i := 0; i+len(term) <= len(value); i++ {
		if equalFoldedASCII(value[i:i+len(term)], term) {
			return true
		}
	}
	return false
}

// equalFoldedASCII reports whether foldASCII(a) == b for len(a) == len(b).
func equalFoldedASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		c := a[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Match reports whether value matches term under collation c and match
// type m; it is NewMatcher(c, m, term).Match(value).
func Match(c Collation, m MatchType, term, value string) bool {
	return NewMatcher(c, m, term).Match(value)
}
