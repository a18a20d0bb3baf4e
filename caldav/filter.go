package caldav

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/internal/collate"
	"github.com/davenport-dav/davenport/store"
)

// NamespaceCalDAV is the XML namespace of CalDAV elements (RFC 4791 §1.2).
const NamespaceCalDAV = "urn:ietf:params:xml:ns:caldav"

// Preconditions a calendar-query can violate (RFC 4791 §7.8), carried by
// QueryError.Condition, with CondSupportedCalendarData (validate.go) for a
// calendar-data content-type or version the server does not produce. The
// protocol layer answers 403 Forbidden with a DAV:error body holding
// <C:{Condition}/>; an empty Condition means the request is malformed in a
// way no precondition names: answer 400 Bad Request.
const (
	CondValidFilter        = "valid-filter"
	CondSupportedFilter    = "supported-filter"
	CondSupportedCollation = "supported-collation"
)

// QueryError reports a calendar-query (or calendar-data request) the server
// refuses. Reason is for logs and for a DAV:error description; it never
// contains stored data.
type QueryError struct {
	Condition string
	Reason    string
}

func (e *QueryError) Error() string {
	if e.Condition == "" {
		return "caldav: bad request: " + e.Reason
	}
	return "caldav: " + e.Condition + ": " + e.Reason
}

func validFilterErr(format string, args ...any) *QueryError {
	return &QueryError{Condition: CondValidFilter, Reason: fmt.Sprintf(format, args...)}
}

// timeFormatUTC is the "date with UTC time" form of time-range attributes
// (RFC 4791 §9.9).
const timeFormatUTC = "20060102T150405Z"

// maxFilterDepth bounds comp-filter nesting; iCalendar itself nests at most
// three deep (VCALENDAR, VEVENT, VALARM), so anything deeper is not a filter
// a client means.
const maxFilterDepth = 8

// Filter is the CALDAV:filter element of a calendar-query (RFC 4791 §9.7):
// <!ELEMENT filter (comp-filter)>. Decode it with encoding/xml; call Validate
// before Match.
type Filter struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:caldav filter"`
	// CompFilters holds the comp-filter children; a valid filter has exactly
	// one, named VCALENDAR. Root returns it.
	CompFilters []CompFilter `xml:"urn:ietf:params:xml:ns:caldav comp-filter"`
}

// CompFilter is CALDAV:comp-filter (RFC 4791 §9.7.1):
// <!ELEMENT comp-filter (is-not-defined | (time-range?, prop-filter*, comp-filter*))>.
type CompFilter struct {
	Name         string
	IsNotDefined bool
	TimeRange    *TimeRange
	PropFilters  []PropFilter
	CompFilters  []CompFilter

	problem string // a structural error found while decoding, reported by Validate
}

// PropFilter is CALDAV:prop-filter (RFC 4791 §9.7.2):
// <!ELEMENT prop-filter (is-not-defined | ((time-range | text-match)?, param-filter*))>.
type PropFilter struct {
	Name         string
	IsNotDefined bool
	TimeRange    *TimeRange
	TextMatch    *TextMatch
	ParamFilters []ParamFilter

	problem string
}

// ParamFilter is CALDAV:param-filter (RFC 4791 §9.7.3):
// <!ELEMENT param-filter (is-not-defined | text-match?)>.
type ParamFilter struct {
	Name         string
	IsNotDefined bool
	TextMatch    *TextMatch

	problem string
}

// TextMatch is CALDAV:text-match (RFC 4791 §9.7.5): a substring match of
// Value against a property or parameter value under Collation (empty means
// i;ascii-casemap). NegateCondition is the raw attribute, "yes" or "no"
// (empty: "no"). MatchType is the RFC 6352 extension attribute (empty:
// contains). Value is compared as sent, surrounding white space included.
type TextMatch struct {
	Collation       string `xml:"collation,attr"`
	NegateCondition string `xml:"negate-condition,attr"`
	MatchType       string `xml:"match-type,attr"`
	Value           string `xml:",chardata"`

	compiled *collate.Matcher // set by Validate
}

// Negate reports whether negate-condition is "yes".
func (tm *TextMatch) Negate() bool { return tm.NegateCondition == "yes" }

// TimeRange is CALDAV:time-range (RFC 4791 §9.9), also the shape of expand,
// limit-recurrence-set and limit-freebusy-set (§9.6.5–§9.6.7). A zero Start is
// an open start (-infinity), a zero End an open end (+infinity). The range is
// [Start, End): start inclusive, end exclusive.
type TimeRange struct {
	Start time.Time
	End   time.Time

	problem string
}

// String formats tr the way it is written in XML, for logs.
func (tr *TimeRange) String() string {
	s, e := "-inf", "+inf"
	if !tr.Start.IsZero() {
		s = tr.Start.UTC().Format(timeFormatUTC)
	}
	if !tr.End.IsZero() {
		e = tr.End.UTC().Format(timeFormatUTC)
	}
	return s + "/" + e
}

// UnmarshalXML reads the start and end attributes. A malformed value is kept
// as a problem for Validate (a CALDAV:valid-filter violation), not a decoding
// error, so the protocol layer can answer with the right precondition.
func (tr *TimeRange) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	*tr = TimeRange{}
	for _, a := range start.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "start":
			t, err := parseUTC(a.Value)
			if err != nil {
				tr.problem = "bad start: " + err.Error()
			}
			tr.Start = t
		case "end":
			t, err := parseUTC(a.Value)
			if err != nil {
				tr.problem = "bad end: " + err.Error()
			}
			tr.End = t
		}
	}
	return d.Skip()
}

// parseUTC parses an iCalendar "date with UTC time". RFC 4791 §9.9: the
// start and end attributes "MUST be date with UTC time value"; a floating
// time (no trailing Z) names no instant, so it is refused rather than read
// in a zone the client did not choose (CALDAV:valid-filter in a filter).
func parseUTC(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if !strings.HasSuffix(s, "Z") && !strings.HasSuffix(s, "z") {
		if _, err := time.Parse("20060102T150405", s); err == nil {
			return time.Time{}, fmt.Errorf("%q is a floating time; RFC 4791 §9.9 wants UTC (a trailing Z)", s)
		}
		return time.Time{}, fmt.Errorf("%q is not a UTC date-time", s)
	}
	s = s[:len(s)-1] + "Z"
	t, err := time.ParseInLocation(timeFormatUTC, s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a UTC date-time", s)
	}
	if t.IsZero() {
		// The zero time.Time means "open"; nudge the (absurd) year-1 instant.
		t = t.Add(time.Second)
	}
	return t, nil
}

// validate checks a time-range's own attributes.
func (tr *TimeRange) validate() error {
	if tr.problem != "" {
		return validFilterErr("time-range: %s", tr.problem)
	}
	// RFC 4791 §9.9: at least one of start and end must be given, and
	// "the value of the "end" attribute MUST be greater than the value of
	// the "start" attribute".
	if tr.Start.IsZero() && tr.End.IsZero() {
		return validFilterErr("time-range without start or end")
	}
	if !tr.Start.IsZero() && !tr.End.IsZero() && !tr.End.After(tr.Start) {
		return validFilterErr("time-range end %s is not after start", tr.String())
	}
	return nil
}

// UnmarshalXML decodes a comp-filter, recording structural problems (a
// missing name, repeated or conflicting children) for Validate.
func (cf *CompFilter) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	*cf = CompFilter{}
	name, ok := nameAttr(start)
	cf.Name = name
	if !ok {
		cf.problem = "comp-filter without a name"
	}
	var ranges, notDefined int
	err := decodeChildren(d, func(child xml.StartElement) error {
		switch child.Name.Local {
		case "is-not-defined":
			notDefined++
			cf.IsNotDefined = true
			return d.Skip()
		case "time-range":
			ranges++
			cf.TimeRange = new(TimeRange)
			return d.DecodeElement(cf.TimeRange, &child)
		case "prop-filter":
			var pf PropFilter
			if err := d.DecodeElement(&pf, &child); err != nil {
				return err
			}
			cf.PropFilters = append(cf.PropFilters, pf)
			return nil
		case "comp-filter":
			var sub CompFilter
			if err := d.DecodeElement(&sub, &child); err != nil {
				return err
			}
			cf.CompFilters = append(cf.CompFilters, sub)
			return nil
		}
		cf.problem = "unexpected element " + child.Name.Local + " in comp-filter"
		return d.Skip()
	})
	if err != nil {
		return err
	}
	switch {
	case ranges > 1:
		cf.problem = "more than one time-range in comp-filter " + cf.Name
	case notDefined > 1:
		cf.problem = "more than one is-not-defined in comp-filter " + cf.Name
	case cf.IsNotDefined && (cf.TimeRange != nil || len(cf.PropFilters) > 0 || len(cf.CompFilters) > 0):
		cf.problem = "is-not-defined combined with other tests in comp-filter " + cf.Name
	}
	return nil
}

// UnmarshalXML decodes a prop-filter.
func (pf *PropFilter) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	*pf = PropFilter{}
	name, ok := nameAttr(start)
	pf.Name = name
	if !ok {
		pf.problem = "prop-filter without a name"
	}
	var ranges, matches, notDefined int
	err := decodeChildren(d, func(child xml.StartElement) error {
		switch child.Name.Local {
		case "is-not-defined":
			notDefined++
			pf.IsNotDefined = true
			return d.Skip()
		case "time-range":
			ranges++
			pf.TimeRange = new(TimeRange)
			return d.DecodeElement(pf.TimeRange, &child)
		case "text-match":
			matches++
			pf.TextMatch = new(TextMatch)
			return d.DecodeElement(pf.TextMatch, &child)
		case "param-filter":
			var pa ParamFilter
			if err := d.DecodeElement(&pa, &child); err != nil {
				return err
			}
			pf.ParamFilters = append(pf.ParamFilters, pa)
			return nil
		}
		pf.problem = "unexpected element " + child.Name.Local + " in prop-filter"
		return d.Skip()
	})
	if err != nil {
		return err
	}
	switch {
	case ranges > 1 || matches > 1 || notDefined > 1:
		pf.problem = "repeated test in prop-filter " + pf.Name
	case ranges > 0 && matches > 0:
		pf.problem = "time-range and text-match in one prop-filter " + pf.Name
	case pf.IsNotDefined && (ranges > 0 || matches > 0 || len(pf.ParamFilters) > 0):
		pf.problem = "is-not-defined combined with other tests in prop-filter " + pf.Name
	}
	return nil
}

// UnmarshalXML decodes a param-filter.
func (pa *ParamFilter) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	*pa = ParamFilter{}
	name, ok := nameAttr(start)
	pa.Name = name
	if !ok {
		pa.problem = "param-filter without a name"
	}
	var matches, notDefined int
	err := decodeChildren(d, func(child xml.StartElement) error {
		switch child.Name.Local {
		case "is-not-defined":
			notDefined++
			pa.IsNotDefined = true
			return d.Skip()
		case "text-match":
			matches++
			pa.TextMatch = new(TextMatch)
			return d.DecodeElement(pa.TextMatch, &child)
		}
		pa.problem = "unexpected element " + child.Name.Local + " in param-filter"
		return d.Skip()
	})
	if err != nil {
		return err
	}
	switch {
	case matches > 1 || notDefined > 1:
		pa.problem = "repeated test in param-filter " + pa.Name
	case pa.IsNotDefined && matches > 0:
		pa.problem = "is-not-defined combined with text-match in param-filter " + pa.Name
	}
	return nil
}

// nameAttr returns the unqualified name attribute, upper-cased (iCalendar
// names are case-insensitive, RFC 5545 §2).
func nameAttr(start xml.StartElement) (string, bool) {
	for _, a := range start.Attr {
		if a.Name.Space == "" && a.Name.Local == "name" {
			n := strings.ToUpper(strings.TrimSpace(a.Value))
			return n, n != ""
		}
	}
	return "", false
}

// decodeChildren calls fn for each child element in the CalDAV namespace and
// skips children of other namespaces (RFC 4918 §17: unknown elements are
// ignored). fn must consume the element it is given.
func decodeChildren(d *xml.Decoder, fn func(xml.StartElement) error) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != NamespaceCalDAV {
				if err := d.Skip(); err != nil {
					return err
				}
				continue
			}
			if err := fn(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// ParseFilter decodes a standalone <C:filter> element. The caller has
// already refused DTDs and oversized bodies. The result still needs Validate.
func ParseFilter(data []byte) (*Filter, error) {
	var f Filter
	d := xml.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&f); err != nil {
		return nil, &QueryError{Reason: "malformed filter: " + err.Error()}
	}
	return &f, nil
}

// Root returns the filter's single top-level comp-filter, or nil when there
// is not exactly one.
func (f *Filter) Root() *CompFilter {
	if f == nil || len(f.CompFilters) != 1 {
		return nil
	}
	return &f.CompFilters[0]
}

// knownComponents maps each RFC 5545 component to the RFC 5545 components
// it may contain, for the CALDAV:valid-filter nesting check. A comp-filter
// naming a component not in this table (an x-name, or a component of a later
// RFC such as VAVAILABILITY or PARTICIPANT) is allowed anywhere, and one under
// such a component may be anything.
var knownComponents = map[string][]string{
	"VCALENDAR": {"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE"},
	"VEVENT":    {"VALARM"},
	"VTODO":     {"VALARM"},
	"VJOURNAL":  nil,
	"VFREEBUSY": nil,
	"VTIMEZONE": {"STANDARD", "DAYLIGHT"},
	"VALARM":    nil,
	"STANDARD":  nil,
	"DAYLIGHT":  nil,
}

// timeRangeComponents are the components RFC 4791 §9.9 defines time-range
// semantics for; "the semantic of CALDAV:time-range is not defined for any
// other calendar components".
var timeRangeComponents = map[string]bool{
	"VEVENT": true, "VTODO": true, "VJOURNAL": true, "VFREEBUSY": true, "VALARM": true,
}

// timeRangeProperties are the properties RFC 4791 §9.9 defines a time-range
// test for.
var timeRangeProperties = map[string]bool{
	"COMPLETED": true, "CREATED": true, "DTEND": true, "DTSTAMP": true,
	"DTSTART": true, "DUE": true, "LAST-MODIFIED": true,
}

// Validate checks the filter against RFC 4791 §7.8's preconditions and
// returns a *QueryError: CondValidFilter for a malformed or impossible
// filter (RFC 4791 §7.8: "a CALDAV:filter cannot nest a <C:comp
// name="VEVENT"> element in a <C:comp name="VEVENT"> element, and ... cannot
// nest a <C:time-range> element in a <C:prop name="SUMMARY"> element"),
// CondSupportedFilter for a time-range on a component §9.9 gives no meaning
// (VTIMEZONE, VCALENDAR, x-components), CondSupportedCollation for an
// unknown collation (§7.5.1); nil when the filter can be evaluated.
func (f *Filter) Validate() error {
	if f == nil || len(f.CompFilters) == 0 {
		return validFilterErr("filter without comp-filter")
	}
	if len(f.CompFilters) > 1 {
		return validFilterErr("filter with more than one comp-filter")
	}
	root := &f.CompFilters[0]
	// RFC 4791 §9.7: the filter's comp-filter selects the calendar object,
	// so it names VCALENDAR.
	if root.problem == "" && root.Name != "VCALENDAR" {
		return validFilterErr("top-level comp-filter is %q, not VCALENDAR", root.Name)
	}
	return root.validate("", 1)
}

func (cf *CompFilter) validate(parent string, depth int) error {
	if cf.problem != "" {
		return validFilterErr("%s", cf.problem)
	}
	if depth > maxFilterDepth {
		return validFilterErr("comp-filters nested more than %d deep", maxFilterDepth)
	}
	if parent != "" {
		if allowed, known := knownComponents[parent]; known {
			if _, childKnown := knownComponents[cf.Name]; childKnown {
				ok := false
				for _, a := range allowed {
					ok = ok || a == cf.Name
				}
				if !ok {
					return validFilterErr("comp-filter %s cannot be nested in %s", cf.Name, parent)
				}
			}
		}
	}
	if cf.TimeRange != nil {
		if !timeRangeComponents[cf.Name] {
			// RFC 4791 §9.9: "The semantic of CALDAV:time-range is not
			// defined for any other calendar components": a filter this
			// server does not support (§7.8 CALDAV:supported-filter).
			return &QueryError{Condition: CondSupportedFilter, Reason: "time-range is not defined for " + cf.Name}
		}
		if err := cf.TimeRange.validate(); err != nil {
			return err
		}
	}
	for i := range cf.PropFilters {
		if err := cf.PropFilters[i].validate(); err != nil {
			return err
		}
	}
	for i := range cf.CompFilters {
		if err := cf.CompFilters[i].validate(cf.Name, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (pf *PropFilter) validate() error {
	if pf.problem != "" {
		return validFilterErr("%s", pf.problem)
	}
	if pf.TimeRange != nil {
		if !timeRangeProperties[pf.Name] {
			return validFilterErr("time-range is not defined for property %s", pf.Name)
		}
		if err := pf.TimeRange.validate(); err != nil {
			return err
		}
	}
	if pf.TextMatch != nil {
		if err := pf.TextMatch.validate(); err != nil {
			return err
		}
	}
	for i := range pf.ParamFilters {
		pa := &pf.ParamFilters[i]
		if pa.problem != "" {
			return validFilterErr("%s", pa.problem)
		}
		if pa.TextMatch != nil {
			if err := pa.TextMatch.validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (tm *TextMatch) validate() error {
	mt, err := tm.compile()
	if err == nil {
		tm.compiled = &mt // fold the term once for the whole query
	}
	return err
}

// listMargin widens the time window handed to SQL beyond what the index
// contract needs. Span promises a superset of every instance the §9.9 test
// can match, for every viewer zone (TestSpanIsSuperset), but it was computed
// with the zone rules of the day the object was written: an update of the
// time zone database since then moves the instances of a zoned event by the
// change of offset, an hour and rarely two. The margin covers that. A zone
// moving across the date line (Samoa, 2011) needs its events written again.
// The margin is paid on every time-range query: it adds the events of
// 2 × listMargin to the candidates, which was 40 times the answer of a
// 100-minute range on a dense calendar with the 48 hours it once was.
const listMargin = 2 * time.Hour

// ByComponent reports whether ListOptions narrows exactly: the filter asks
// only for calendar objects, or only for those of one main component type
// (a comp-filter on VEVENT, VTODO, VJOURNAL or VFREEBUSY with no test
// inside). A calendar object resource holds one type of component besides
// its time zones (RFC 4791 §4.1) and the store records that type, so Match
// would accept every candidate, and a listing of such a query needs no
// bodies: the filter clients send to list a calendar costs what PROPFIND
// Depth 1 costs.
func (f *Filter) ByComponent() bool {
	root := f.Root()
	if root == nil || root.IsNotDefined || root.problem != "" || root.Name != "VCALENDAR" ||
		root.TimeRange != nil || len(root.PropFilters) > 0 {
		return false
	}
	switch len(root.CompFilters) {
	case 0:
		return true
	case 1:
		cf := &root.CompFilters[0]
		main := recurrable(cf.Name) || cf.Name == "VFREEBUSY"
		return main && !cf.IsNotDefined && cf.problem == "" && cf.TimeRange == nil &&
			len(cf.PropFilters) == 0 && len(cf.CompFilters) == 0
	}
	return false
}

// ListOptions returns the SQL narrowing for the filter: a superset of the
// objects Match accepts. Only a single positive comp-filter under VCALENDAR
// narrows by component, and only its own time-range on a VEVENT, VTODO or
// VJOURNAL narrows by the instance span (see Span: to-dos that match every
// range are indexed without bounds). A VFREEBUSY range does not narrow.
// WithBody is set, since Match needs the body.
func (f *Filter) ListOptions() store.ListObjectsOptions {
	opts := store.ListObjectsOptions{WithBody: true}
	root := f.Root()
	if root == nil || root.IsNotDefined || len(root.CompFilters) != 1 {
		return opts
	}
	cf := &root.CompFilters[0]
	if cf.IsNotDefined || cf.problem != "" {
		return opts
	}
	opts.Component = cf.Name
	if tr := cf.TimeRange; tr != nil && tr.problem == "" && recurrable(cf.Name) {
		if !tr.Start.IsZero() {
			s := tr.Start.Add(-listMargin)
			opts.Start = &s
		}
		if !tr.End.IsZero() {
			e := tr.End.Add(listMargin)
			opts.End = &e
		}
	}
	return opts
}

// CheckQueryTimezone enforces RFC 4791 §7.8's precondition on a
// calendar-query's CALDAV:timezone (CALDAV:valid-calendar-data): "The time
// zone specified in the REPORT request MUST be a valid iCalendar object
// containing a single valid VTIMEZONE component." A zone that does not
// parse is refused, not silently replaced by UTC.
func CheckQueryTimezone(text string) error {
	if _, err := parseTimezone(text); err != nil {
		return &QueryError{Condition: CondValidCalendarData, Reason: "timezone: " + strings.TrimPrefix(err.Error(), "caldav: ")}
	}
	return nil
}
