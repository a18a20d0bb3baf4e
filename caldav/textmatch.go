package caldav

import (
	"errors"
	"slices"

	"github.com/davenport-dav/davenport/internal/collate"
)

// RFC 4791 §9.7.5: "The CALDAV:text-match XML element ... the default
// collation is i;ascii-casemap". The collations themselves, and the
// match-type extension of RFC 6352 §10.5.4, are in internal/collate, shared
// with contact search so both compare text the same way.

// compile returns the comparison tm asks for, or the RFC 4791
// precondition it violates.
func (tm *TextMatch) compile() (collate.Matcher, error) {
	m, err := collate.Compile(tm.Collation, tm.MatchType, tm.Value, collate.ASCIICasemap)
	switch {
	case errors.Is(err, collate.ErrUnsupportedCollation):
		// RFC 4791 §7.5.1: "any XML attribute specifying a collation MUST
		// specify a collation supported by the server".
		return m, &QueryError{Condition: CondSupportedCollation, Reason: err.Error()}
	case tm.NegateCondition != "" && tm.NegateCondition != "yes" && tm.NegateCondition != "no":
		return m, validFilterErr("negate-condition %q is neither yes nor no", tm.NegateCondition)
	case err != nil:
		return m, validFilterErr("%v", err)
	}
	return m, nil
}

// matchesAny reports whether one of values matches tm's term, before
// negate-condition. Validate folded the term once for the whole query.
func (tm *TextMatch) matchesAny(values ...string) (bool, error) {
	mt := tm.compiled
	if mt == nil {
		m, err := tm.compile()
		if err != nil {
			return false, err
		}
		mt = &m
	}
	return slices.ContainsFunc(values, mt.Match), nil
}

// textMatches applies a text-match to a value (RFC 4791 §9.7.5), honouring
// negate-condition.
func textMatches(tm *TextMatch, value string) (bool, error) {
	ok, err := tm.matchesAny(value)
	return ok != tm.Negate(), err
}
