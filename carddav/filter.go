package carddav

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/davenport-dav/davenport/internal/collate"
	"github.com/davenport-dav/davenport/internal/contentline"
	"github.com/emersion/go-vcard"
)

// QueryError is a REPORT request this package refuses. Condition names the
// RFC 6352 precondition (CondSupportedFilter, CondSupportedCollation,
// CondSupportedAddressDataConv) the glue answers with; Reason is for the log.
type QueryError struct {
	Condition string
	Reason    string
}

func (e *QueryError) Error() string {
	return "carddav: " + e.Condition + ": " + e.Reason
}

// Flag is an empty XML element whose presence means true, such as
// <C:is-not-defined/> or <C:allprop/>.
type Flag bool

// UnmarshalXML records the element's presence and skips its content.
func (f *Flag) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	*f = true
	return d.Skip()
}

// MarshalXML writes the empty element when f is true and nothing otherwise.
func (f Flag) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if !f {
		return nil
	}
	return e.EncodeElement(struct{}{}, start)
}

// YesNo is an XML attribute of type (yes | no), such as negate-condition
// or novalue; absent means no.
type YesNo bool

// UnmarshalXMLAttr accepts "yes" and "no" (case and surrounding space
// ignored) and refuses anything else.
func (y *YesNo) UnmarshalXMLAttr(attr xml.Attr) error {
	switch strings.ToLower(strings.TrimSpace(attr.Value)) {
	case "yes":
		*y = true
	case "no", "":
		*y = false
	default:
		return fmt.Errorf("carddav: attribute %s must be yes or no, not %q", attr.Name.Local, attr.Value)
	}
	return nil
}

// MarshalXMLAttr writes "yes" when y is true and omits the attribute
// otherwise.
func (y YesNo) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	if !y {
		return xml.Attr{}, nil
	}
	return xml.Attr{Name: name, Value: "yes"}, nil
}

// Filter tests of RFC 6352 §10.5 and §10.5.1.
const (
	TestAnyOf = "anyof"
	TestAllOf = "allof"
)

// Filter is CARDDAV:filter (RFC 6352 §10.5), decodable by encoding/xml from
// an addressbook-query body.
type Filter struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:carddav filter"`
	// Test is "anyof" (the default, also for "") or "allof".
	Test        string       `xml:"test,attr,omitempty"`
	PropFilters []PropFilter `xml:"urn:ietf:params:xml:ns:carddav prop-filter"`
}

// PropFilter is CARDDAV:prop-filter (RFC 6352 §10.5.1).
type PropFilter struct {
	// Name is a property name, optionally with a group ("item1.EMAIL").
	Name string `xml:"name,attr"`
	// Test combines TextMatches and ParamFilters: "anyof" (default) or "allof".
	Test         string        `xml:"test,attr,omitempty"`
	IsNotDefined Flag          `xml:"urn:ietf:params:xml:ns:carddav is-not-defined"`
	TextMatches  []TextMatch   `xml:"urn:ietf:params:xml:ns:carddav text-match"`
	ParamFilters []ParamFilter `xml:"urn:ietf:params:xml:ns:carddav param-filter"`
}

// ParamFilter is CARDDAV:param-filter (RFC 6352 §10.5.2).
type ParamFilter struct {
	Name         string     `xml:"name,attr"`
	IsNotDefined Flag       `xml:"urn:ietf:params:xml:ns:carddav is-not-defined"`
	TextMatch    *TextMatch `xml:"urn:ietf:params:xml:ns:carddav text-match"`
}

// TextMatch is CARDDAV:text-match (RFC 6352 §10.5.4).
type TextMatch struct {
	// Collation defaults to i;unicode-casemap.
	Collation       string `xml:"collation,attr,omitempty"`
	NegateCondition YesNo  `xml:"negate-condition,attr,omitempty"`
	// MatchType is equals, contains (the default), starts-with or ends-with.
	MatchType string `xml:"match-type,attr,omitempty"`
	// Value is the term; white space around it is ignored.
	Value string `xml:",chardata"`

	compiled *collate.Matcher // set by Validate
}

// Validate checks the filter against what the server supports. RFC 6352
// §8.3: "If the client chooses a collation not supported by the server, the
// server MUST respond with a CARDDAV:supported-collation precondition error
// response." A bad match-type or test, or a property or parameter name that
// is not a vCard name, is CARDDAV:supported-filter (§8.6). Every property
// and parameter is otherwise supported, X- names included.
func (f *Filter) Validate() error {
	unsupported := func(format string, args ...any) error {
		return &QueryError{Condition: CondSupportedFilter, Reason: fmt.Sprintf(format, args...)}
	}
	if !validTest(f.Test) {
		return unsupported("filter test %q is not anyof or allof", f.Test)
	}
	for i := range f.PropFilters {
		pf := &f.PropFilters[i]
		if !validPropName(pf.Name) {
			return unsupported("prop-filter name %q is not a vCard property name", pf.Name)
		}
		if !validTest(pf.Test) {
			return unsupported("prop-filter test %q is not anyof or allof", pf.Test)
		}
		for j := range pf.TextMatches {
			if err := pf.TextMatches[j].validate(); err != nil {
				return err
			}
		}
		for j := range pf.ParamFilters {
			pa := &pf.ParamFilters[j]
			if pa.Name == "" || !allNameChars(pa.Name) {
				return unsupported("param-filter name %q is not a vCard parameter name", pa.Name)
			}
			if pa.TextMatch != nil {
				if err := pa.TextMatch.validate(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func validTest(t string) bool {
	return t == "" || t == TestAnyOf || t == TestAllOf
}

func isAllOf(t string) bool { return t == TestAllOf }

func allNameChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// validPropName accepts NAME and GROUP.NAME.
func validPropName(s string) bool {
	group, name := splitPropName(s)
	return name != "" && allNameChars(name) && allNameChars(group) && (group != "" || !strings.Contains(s, "."))
}

// splitPropName splits "item1.EMAIL" into "item1" and "EMAIL" (upper-case).
func splitPropName(s string) (group, name string) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[:i], strings.ToUpper(s[i+1:])
	}
	return "", strings.ToUpper(s)
}

// Match reports whether card satisfies the filter with the semantics of
// RFC 6352 §10.5: the filter's test combines its prop-filters; an empty
// filter (DAVx5 sends <C:filter/> to list everything) matches every card.
func (f *Filter) Match(card vcard.Card) bool {
	if len(f.PropFilters) == 0 {
		return true
	}
	all := isAllOf(f.Test)
	for i := range f.PropFilters {
		m := f.PropFilters[i].match(card)
		if all && !m {
			return false
		}
		if !all && m {
			return true
		}
	}
	return all
}

// fieldsNamed returns the card's instances of the property name (upper
// case), restricted to group when it is not empty. RFC 6352 §10.5.1: a name
// without a group "MUST match properties in the vCard data without a group
// prefix or with any group prefix"; with a group it "MUST match properties
// that have exactly the same group prefix and name".
func fieldsNamed(card vcard.Card, group, name string) []*vcard.Field {
	fields, ok := card[name]
	if !ok {
		for k, v := range card {
			if strings.EqualFold(k, name) {
				fields = append(fields, v...)
			}
		}
	}
	if group == "" {
		return fields
	}
	var out []*vcard.Field
	for _, f := range fields {
		if f != nil && strings.EqualFold(f.Group, group) {
			out = append(out, f)
		}
	}
	return out
}

// match is RFC 6352 §10.5.1: the property exists and the prop-filter is
// empty or its text-matches and param-filters pass (any or all, per Test);
// or the property does not exist and is-not-defined is given. The
// conditions are evaluated on one property instance at a time, and the
// prop-filter matches when any instance passes. A prop-filter that carries
// is-not-defined together with other conditions (which the DTD forbids)
// is read as is-not-defined alone.
func (pf *PropFilter) match(card vcard.Card) bool {
	group, name := splitPropName(pf.Name)
	fields := fieldsNamed(card, group, name)
	if pf.IsNotDefined {
		return len(fields) == 0
	}
	if len(pf.TextMatches) == 0 && len(pf.ParamFilters) == 0 {
		return len(fields) > 0
	}
	all := isAllOf(pf.Test)
	for _, f := range fields {
		if f != nil && pf.matchInstance(name, f, all) {
			return true
		}
	}
	return false
}

func (pf *PropFilter) matchInstance(name string, f *vcard.Field, all bool) bool {
	for i := range pf.TextMatches {
		m := pf.TextMatches[i].matchProperty(name, f.Value)
		if all && !m {
			return false
		}
		if !all && m {
			return true
		}
	}
	for i := range pf.ParamFilters {
		m := pf.ParamFilters[i].match(f.Params)
		if all && !m {
			return false
		}
		if !all && m {
			return true
		}
	}
	return all
}

// match is RFC 6352 §10.5.2: the parameter exists and the param-filter is
// empty or its text-match passes; or it does not exist and is-not-defined
// is given. A parameter with several values (TYPE=work,voice) passes a
// text-match when any value does; negate-condition negates that whole test.
func (pa *ParamFilter) match(params vcard.Params) bool {
	name := strings.ToUpper(strings.TrimSpace(pa.Name))
	values, present := params[name]
	if !present {
		for k, v := range params {
			if strings.EqualFold(k, name) {
				values, present = append(values, v...), true
			}
		}
	}
	if pa.IsNotDefined {
		return !present
	}
	if !present {
		return false
	}
	if pa.TextMatch == nil {
		return true
	}
	return pa.TextMatch.matchAny(values)
}

// matchProperty tests one property value (go-vcard form). The value is
// compared whole ("Doe;John;;;" for N) and, so that equals and starts-with
// work on what a person sees, also each field of a structured property and
// each item of a list property; any of them passing is a match.
func (tm *TextMatch) matchProperty(name, value string) bool {
	candidates := []string{matchText(value)}
	switch {
	case structuredProps[name] && strings.Contains(value, ";"):
		for _, c := range contentline.SplitEscaped(value, ';') {
			candidates = append(candidates, matchText(c))
		}
	case listProps[name] && strings.Contains(value, ","):
		for _, c := range strings.Split(value, ",") {
			candidates = append(candidates, matchText(c))
		}
	}
	return tm.matchAny(candidates)
}

// term is the text to look for. White space around it is XML formatting
// (<C:text-match>\n  555 0100\n</C:text-match>), not part of the term.
func (tm *TextMatch) term() string {
	return strings.Trim(tm.Value, " \t\r\n")
}

// SearchTerms returns normalised substrings that the SearchText of every
// card the filter matches contains, for the store to narrow candidates in
// SQL before Match runs on them; nil means no narrowing is safe.
//
// Only positive text-matches count, on indexed properties (IsSearchIndexed),
// and only where they must hold: under an allof filter, or a filter with a
// single prop-filter, and within a prop-filter that is allof or has that
// text-match as its only condition. Any collation qualifies because
// collate.FoldUnicode works character by character: a value that equals, contains,
// starts or ends with the term under i;octet or i;ascii-casemap contains it
// as a substring, and the fold keeps substrings. A negated text-match
// never narrows.
func (f *Filter) SearchTerms() []string {
	if len(f.PropFilters) == 0 || (!isAllOf(f.Test) && len(f.PropFilters) > 1) {
		return nil
	}
	var terms []string
	seen := map[string]bool{}
	for i := range f.PropFilters {
		for _, t := range f.PropFilters[i].searchTerms() {
			if !seen[t] {
				seen[t] = true
				terms = append(terms, t)
			}
		}
	}
	return terms
}

func (pf *PropFilter) searchTerms() []string {
	if pf.IsNotDefined {
		return nil
	}
	_, name := splitPropName(pf.Name)
	if !searchProps[name] {
		return nil
	}
	conditions := len(pf.TextMatches) + len(pf.ParamFilters)
	if conditions == 0 || (!isAllOf(pf.Test) && conditions > 1) {
		return nil
	}
	var terms []string
	for i := range pf.TextMatches {
		tm := &pf.TextMatches[i]
		if tm.NegateCondition {
			continue
		}
		if _, err := tm.compile(); err != nil {
			continue
		}
		if t := collate.FoldUnicode(tm.term()); t != "" {
			terms = append(terms, t)
		}
	}
	return terms
}
