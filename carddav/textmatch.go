package carddav

import (
	"fmt"

	"github.com/davenport-dav/davenport/internal/collate"
)

// RFC 6352 §8.3: "In the absence of a collation explicitly specified by the
// client, or if the client specifies the "default" collation identifier
// ..., the server MUST default to using "i;unicode-casemap" as the
// collation." The collations and match types themselves are in
// internal/collate, shared with calendar search so both compare text the
// same way.

// compile returns the comparison tm asks for, or the RFC 6352 precondition
// it violates.
func (tm *TextMatch) compile() (collate.Matcher, error) {
	c, ok := collate.Lookup(tm.Collation, collate.UnicodeCasemap)
	if !ok {
		return collate.Matcher{}, &QueryError{Condition: CondSupportedCollation, Reason: fmt.Sprintf("collation %q is not supported", tm.Collation)}
	}
	m, ok := collate.LookupMatch(tm.MatchType)
	if !ok {
		return collate.Matcher{}, &QueryError{Condition: CondSupportedFilter, Reason: fmt.Sprintf("match-type %q is not supported", tm.MatchType)}
	}
	return collate.NewMatcher(c, m, tm.term()), nil
}

func (tm *TextMatch) validate() error {
	mt, err := tm.compile()
	if err != nil {
		return err
	}
	// Fold the term once for the whole query, not once per card.
	tm.compiled = &mt
	return nil
}

// matcher returns the comparison Validate compiled, or compiles it.
func (tm *TextMatch) matcher() (collate.Matcher, error) {
	if tm.compiled != nil {
		return *tm.compiled, nil
	}
	return tm.compile()
}
