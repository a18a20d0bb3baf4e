package caldav

import (
	"fmt"

	"github.com/davenport-dav/davenport/internal/collate"
)

// RFC 4791 §9.7.5: "The CALDAV:text-match XML element ... the default
// collation is i;ascii-casemap". The collations themselves, and the
// match-type extension of RFC 6352 §10.5.4, are in internal/collate, shared
// with contact search so both compare text the same way.

// compile returns the comparison tm asks for, or the RFC 4791
// precondition it violates.
func (tm *TextMatch) compile() (collate.Matcher, error) {
	c, ok := collate.Lookup(tm.Collation, collate.ASCIICasemap)
	if !ok {
		// RFC 4791 §7.5.1: "any XML attribute specifying a collation MUST
		// specify a collation supported by the server".
		return collate.Matcher{}, &QueryError{Condition: CondSupportedCollation, Reason: fmt.Sprintf("collation %q is not supported", tm.Collation)}
	}
	switch tm.NegateCondition {
	case "", "yes", "no":
	default:
		return collate.Matcher{}, validFilterErr("negate-condition %q is neither yes nor no", tm.NegateCondition)
	}
	m, ok := collate.LookupMatch(tm.MatchType)
	if !ok {
		return collate.Matcher{}, validFilterErr("match-type %q is not known", tm.MatchType)
	}
	return collate.NewMatcher(c, m, tm.Value), nil
}

// matcher returns the comparison Validate compiled, or compiles it.
func (tm *TextMatch) matcher() (collate.Matcher, error) {
	if tm.compiled != nil {
		return *tm.compiled, nil
	}
	return tm.compile()
}

// textMatches applies a text-match to a value (RFC 4791 §9.7.5), honouring
// negate-condition.
func textMatches(tm *TextMatch, value string) (bool, error) {
	mt, err := tm.matcher()
	if err != nil {
		return false, err
	}
	return mt.Match(value) != tm.Negate(), nil
}
