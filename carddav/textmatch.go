package carddav

import (
	"errors"
	"slices"

	"github.com/davenport-dav/davenport/internal/collate"
)

// RFC 6352 §8.3: "In the absence of a collation explicitly specified by the
// client, or if the client specifies the "default" collation identifier
// ..., the server MUST default to using "i;unicode-casemap" as the
// collation." The collations and match types themselves are in
// internal/collate, shared with calendar search so both compare text the
// same way.

// compile checks the collation and the match type and folds the term.
// RFC 6352 §8.3: "If the client chooses a collation not supported by the
// server, the server MUST respond with a CARDDAV:supported-collation
// precondition error response"; an unknown match-type is
// CARDDAV:supported-filter (§8.6).
func (tm *TextMatch) compile() (collate.Matcher, error) {
	m, err := collate.Compile(tm.Collation, tm.MatchType, tm.term(), collate.UnicodeCasemap)
	if errors.Is(err, collate.ErrUnsupportedCollation) {
		return m, &QueryError{Condition: CondSupportedCollation, Reason: err.Error()}
	} else if err != nil {
		return m, &QueryError{Condition: CondSupportedFilter, Reason: err.Error()}
	}
	return m, nil
}

// validate compiles tm once for the whole query.
func (tm *TextMatch) validate() error {
	m, err := tm.compile()
	tm.compiled = &m
	return err
}

// matchAny applies the text-match to candidates: positive when any of them
// matches, and then negated when negate-condition is yes (RFC 6352
// §10.5.4: "return a match if the text does not match").
func (tm *TextMatch) matchAny(candidates []string) bool {
	var mt collate.Matcher
	if tm.compiled != nil {
		mt = *tm.compiled
	} else if m, err := tm.compile(); err == nil {
		mt = m
	} else {
		return false // Validate refuses these; never match on what we cannot compare
	}
	return slices.ContainsFunc(candidates, mt.Match) != bool(tm.NegateCondition)
}
