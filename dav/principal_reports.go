package dav

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/davenport-dav/davenport/store"
)

// The REPORTs on principals: DAV:principal-property-search (RFC 3744
// §9.4), DAV:principal-search-property-set (§9.5), DAV:principal-match
// (§9.3), DAV:expand-property (RFC 3253 §3.8), CalendarServer's
// calendarserver-principal-search (what iOS and macOS send to look up
// attendees) and DAV:acl-principal-prop-set (§9.2). The engine answers them
// on any resource, before the kinds' reports; they are listed in the
// supported-report-set of principals, acl-principal-prop-set on every
// resource with a DAV:acl.

// principalReportNames are the reports listed on principals.
var principalReportNames = []xml.Name{
	Name("expand-property"), Name("principal-match"), Name("principal-property-search"),
	Name("principal-search-property-set"), cs("calendarserver-principal-search"),
}

// Bounds of a principal search: it answers at most maxPrincipalMatches
// principals (then a 507 on the request-URI with
// DAV:number-of-matches-within-limits, as CalendarServer does, RFC 5323
// §5.17's element), and reads at most searchTerms index terms per word it
// looks up, so its work does not grow with the number of users.
const (
	maxPrincipalMatches = 100
	searchTerms         = 1000
)

// principalReport returns the handler of a principal report, or nil.
func (h *Handler) principalReport(name xml.Name) func(*Request, http.ResponseWriter, *http.Request, *Resource, *Element) error {
	switch name {
	case Name("principal-property-search"):
		return h.principalPropertySearch
	case cs("calendarserver-principal-search"):
		return h.calendarServerPrincipalSearch
	case Name("principal-search-property-set"):
		return h.principalSearchPropertySet
	case Name("principal-match"):
		return h.principalMatch
	case Name("expand-property"):
		return h.expandProperty
	case Name("acl-principal-prop-set"):
		return h.aclPrincipalPropSet
	}
	return nil
}

// searchable are the properties a principal can be searched by, with the
// index field their values are found under. calendar-user-address-set
// holds the principal URL and the mailto: address; email-address-set the
// bare address.
var searchable = []struct {
	name        xml.Name
	field       store.SearchField
	description string
}{
	{Name("displayname"), store.SearchName, "Display name"},
	{xml.Name{Space: NSCalDAV, Local: "calendar-user-address-set"}, store.SearchEmail, "Calendar user addresses"},
	{cs("email-address-set"), store.SearchEmail, "Email addresses"},
}

func searchField(n xml.Name) (store.SearchField, bool) {
	for _, s := range searchable {
		if s.name == n {
			return s.field, true
		}
	}
	return 0, false
}

// propertyTest is one DAV:property-search: the principal matches when the
// text of one of props matches.
type propertyTest struct {
	props     []xml.Name
	fields    store.SearchField
	match     string
	matchType string // contains, starts-with, equals
	caseless  bool
}

// principalQuery is a parsed principal search.
type principalQuery struct {
	tests         []propertyTest
	anyof         bool
	users, groups bool // the kinds of principal asked for
	limit         int
	prop          *Element
	allPrincipals bool // the whole directory, not only under the request-URI
	unsatisfiable bool // an allof test names no searchable property
}

// depthZero refuses a principal report with a Depth other than 0 (RFC 3744
// §9.3–§9.5: "only defined when the Depth header has value 0").
func depthZero(r *http.Request) error {
	if d := r.Header.Get("Depth"); d != "" && d != "0" {
		return &Error{Status: http.StatusBadRequest, Message: "dav: this REPORT is only defined for Depth 0"}
	}
	return nil
}

// parseLimit reads a DAV:limit (RFC 5323 §5.17) or CS:limit holding an
// nresults in its own namespace, the client's bound on the answer.
func parseLimit(el *Element) (int, error) {
	nr := el.Child(xml.Name{Space: el.Name.Space, Local: "nresults"})
	if nr == nil {
		return 0, &Error{Status: http.StatusBadRequest, Message: "dav: limit without nresults"}
	}
	n, err := strconv.Atoi(strings.TrimSpace(nr.Text))
	if err != nil || n < 1 {
		return 0, &Error{Status: http.StatusBadRequest, Message: "dav: nresults is not a positive integer"}
	}
	return n, nil
}

// parsePropertySearch reads a DAV:principal-property-search body, with
// CalendarServer's extensions: the type attribute (a CUTYPE), the match
// element's match-type and caseless attributes, and CS:limit.
func parsePropertySearch(body *Element) (*principalQuery, error) {
	q := &principalQuery{users: true, groups: true, limit: maxPrincipalMatches}
	switch test, _ := body.AttrValue("test"); test {
	case "", "allof":
	case "anyof":
		q.anyof = true
	default:
		return nil, &Error{Status: http.StatusBadRequest, Message: "dav: test is neither allof nor anyof"}
	}
	switch typ, _ := body.AttrValue("type"); typ {
	case "":
	case "INDIVIDUAL":
		q.groups = false
	case "GROUP":
		q.users = false
	case "RESOURCE", "ROOM":
		q.users, q.groups = false, false
	default:
		return nil, &Error{Status: http.StatusBadRequest, Message: "dav: unknown calendar user type " + typ}
	}
	for _, c := range body.Children {
		switch c.Name {
		case Name("prop"):
			q.prop = c
		case Name("apply-to-principal-collection-set"):
			q.allPrincipals = true
		case Name("limit"), cs("limit"):
			n, err := parseLimit(c)
			if err != nil {
				return nil, err
			}
			q.limit = min(n, maxPrincipalMatches)
		case Name("property-search"):
			t := propertyTest{matchType: "contains", caseless: true}
			m := c.Child(Name("match"))
			if m == nil || c.Child(Name("prop")) == nil {
				return nil, &Error{Status: http.StatusBadRequest, Message: "dav: property-search without prop or match"}
			}
			t.match = m.Text
			if v, ok := m.AttrValue("match-type"); ok {
				if v != "contains" && v != "starts-with" && v != "equals" {
					return nil, &Error{Status: http.StatusBadRequest, Message: "dav: unknown match-type " + v}
				}
				t.matchType = v
			}
			if v, ok := m.AttrValue("caseless"); ok {
				if v != "yes" && v != "no" {
					return nil, &Error{Status: http.StatusBadRequest, Message: "dav: caseless is neither yes nor no"}
				}
				t.caseless = v == "yes"
			}
			for _, p := range c.Child(Name("prop")).Children {
				// Properties that cannot be searched never match
				// (principal-search-property-set lists those that can).
				if f, ok := searchField(p.Name); ok {
					t.props = append(t.props, p.Name)
					t.fields |= f
				}
			}
			if len(t.props) == 0 {
				if !q.anyof {
					q.unsatisfiable = true
				}
				continue
			}
			q.tests = append(q.tests, t)
		}
	}
	if len(q.tests) == 0 && !q.unsatisfiable && !q.anyof {
		return nil, &Error{Status: http.StatusBadRequest, Message: "dav: principal-property-search without a property-search"}
	}
	return q, nil
}

// principalPropertySearch answers DAV:principal-property-search (RFC 3744
// §9.4): on the principal collection, or anywhere with
// DAV:apply-to-principal-collection-set, the principals whose properties
// match. A request-URI with no principals under it finds none.
func (h *Handler) principalPropertySearch(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource, body *Element) error {
	if err := depthZero(r); err != nil {
		return err
	}
	q, err := parsePropertySearch(body)
	if err != nil {
		return err
	}
	if res.Type == ResPrincipals || res.Type == ResRoot && strings.HasSuffix(res.Href, "/principals/") {
		q.allPrincipals = true
	}
	return h.answerSearch(rq, w, res, q)
}

// calendarServerPrincipalSearch answers CalendarServer's
// calendarserver-principal-search: every CS:search-token must match a
// principal's name or one of its addresses; the context attribute narrows
// the kinds of principal (this server has no locations or resources).
func (h *Handler) calendarServerPrincipalSearch(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource, body *Element) error {
	if err := depthZero(r); err != nil {
		return err
	}
	q := &principalQuery{users: true, groups: true, limit: maxPrincipalMatches, allPrincipals: true}
	switch ctx, _ := body.AttrValue("context"); ctx {
	case "", "attendee":
	case "user":
		q.groups = false
	case "group":
		q.users = false
	case "location", "resource":
		q.users, q.groups = false, false
	default:
		return &Error{Status: http.StatusBadRequest, Message: "dav: unknown search context " + ctx}
	}
	var all []xml.Name
	var fields store.SearchField
	for _, s := range searchable {
		all = append(all, s.name)
		fields |= s.field
	}
	for _, c := range body.Children {
		switch c.Name {
		case cs("search-token"):
			q.tests = append(q.tests, propertyTest{props: all, fields: fields, match: c.Text, matchType: "contains", caseless: true})
		case cs("limit"):
			n, err := parseLimit(c)
			if err != nil {
				return err
			}
			q.limit = min(n, maxPrincipalMatches)
		case Name("prop"):
			q.prop = c
		}
	}
	if len(q.tests) == 0 {
		return &Error{Status: http.StatusBadRequest, Message: "dav: calendarserver-principal-search without a search-token"}
	}
	return h.answerSearch(rq, w, res, q)
}

// answerSearch runs q and streams the matching principals' properties,
// sorted by href, with a closing 507 when the answer was cut.
func (h *Handler) answerSearch(rq *Request, w http.ResponseWriter, res *Resource, q *principalQuery) error {
	pr, err := h.reportProps(rq, q.prop)
	if err != nil {
		return err
	}
	var found []*Resource
	var more bool
	if q.allPrincipals && !q.unsatisfiable && (q.users || q.groups) {
		if found, more, err = h.searchPrincipals(rq, q); err != nil {
			return err
		}
	}
	truncated := more || len(found) > q.limit
	found = found[:min(len(found), q.limit)]
	ms := make([]member, len(found))
	for i, r := range found {
		ms[i] = member{res: r}
	}
	s := h.newStream(rq, w, res, pr, "principal search", len(ms))
	if done, _, err := s.run(sliceCursor(ms), nil, 0); !done {
		return err
	}
	return s.close(truncated, "")
}

// searchPrincipals finds the principals q matches: candidates from the
// store's term index (store/search.go) for the most selective word, then
// the exact test on each, until one more than q.limit match (the answer is
// then cut anyway). more tells that the index was read only in part, so
// matches may be missing.
func (h *Handler) searchPrincipals(rq *Request, q *principalQuery) (found []*Resource, more bool, err error) {
	// allof: every test must hold, so the candidates of one test will
	// do, the one with the longest word; anyof: those of every test.
	var lookups []propertyTest
	if q.anyof {
		lookups = q.tests
	} else if len(q.tests) > 0 {
		best := q.tests[0]
		for _, t := range q.tests[1:] {
			if utf8.RuneCountInString(longestWord(t.match)) > utf8.RuneCountInString(longestWord(best.match)) {
				best = t
			}
		}
		lookups = []propertyTest{best}
	}
	seen := map[string]bool{}
	for _, t := range lookups {
		prefix := store.SearchPrefix(longestWord(t.match))
		// The index is read in two steps. First as many terms as the
		// answer holds principals (one more, to tell a cut): a word
		// most principals have ("example" of every address) then reads
		// a hundred index entries and loads a hundred principals, not a
		// thousand. Only when the exact test turned too many of those
		// down (a text of several words) is the bounded read made.
		for _, n := range []int{q.limit + 1, searchTerms} {
			cands, m, err := h.Store.SearchPrincipals(rq.Context(), prefix, t.fields, n)
			if err != nil {
				return nil, false, err
			}
			for _, c := range cands {
				var r *Resource
				switch {
				case c.User != nil && q.users:
					r = userPrincipalResource(rq.User, c.User)
				case c.Group != nil && q.groups:
					r = groupPrincipalResource(c.Group)
				default:
					continue
				}
				if seen[r.Href] {
					continue
				}
				seen[r.Href] = true
				ok, err := h.principalMatches(rq, r, q)
				if err != nil {
					return nil, false, err
				}
				if ok {
					found = append(found, r)
				}
				if len(found) > q.limit {
					break
				}
			}
			if len(found) > q.limit {
				more = true
				break
			}
			if !m {
				break
			}
			if n == searchTerms {
				more = true
			}
		}
		if len(found) > q.limit {
			break
		}
	}
	slices.SortFunc(found, func(a, b *Resource) int { return strings.Compare(a.Href, b.Href) })
	return found, more, nil
}

// longestWord is the longest word of a search text ("" when it has none,
// which the index answers with every principal, bounded).
func longestWord(s string) string {
	var best string
	for _, w := range store.SearchWords(s) {
		if utf8.RuneCountInString(w) > utf8.RuneCountInString(best) {
			best = w
		}
	}
	return best
}

// principalMatches applies q's tests to r exactly.
func (h *Handler) principalMatches(rq *Request, r *Resource, q *principalQuery) (bool, error) {
	for _, t := range q.tests {
		ok, err := h.testMatches(rq, r, t)
		if err != nil {
			return false, err
		}
		if ok && q.anyof {
			return true, nil
		}
		if !ok && !q.anyof {
			return false, nil
		}
	}
	return !q.anyof, nil
}

// testMatches reports whether the text of one of t's properties, as the
// request's user may read it, matches (RFC 3744 §9.4: each text node of
// the value — an href, a name — on its own).
func (h *Handler) testMatches(rq *Request, r *Resource, t propertyTest) (bool, error) {
	match := t.match
	if t.caseless {
		match = store.FoldSearch(match)
	}
	for _, name := range t.props {
		v, err := h.readProperty(rq, r, name)
		if err != nil {
			return false, err
		}
		if v == nil {
			continue
		}
		var texts []string
		collectText(v, &texts)
		for _, s := range texts {
			if t.caseless {
				s = store.FoldSearch(s)
			}
			var ok bool
			switch t.matchType {
			case "starts-with":
				ok = strings.HasPrefix(s, match)
			case "equals":
				ok = s == match
			default:
				ok = strings.Contains(s, match)
			}
			if ok {
				return true, nil
			}
		}
	}
	return false, nil
}

// readProperty is the value of property name on r as the request's user
// may read it, or nil when it has none (not defined, not part of a
// directory entry, or refused).
func (h *Handler) readProperty(rq *Request, r *Resource, name xml.Name) (*Element, error) {
	p := h.props.byName[name]
	if p == nil || directoryEntry(rq, r) && !p.Directory {
		return nil, nil
	}
	v, err := p.Get(rq, r)
	var de *Error
	if errors.Is(err, ErrNoProperty) || errors.As(err, &de) {
		return nil, nil
	}
	return v, err
}

func collectText(e *Element, out *[]string) {
	if t := strings.TrimSpace(e.Text); t != "" {
		*out = append(*out, t)
	}
	for _, c := range e.Children {
		collectText(c, out)
	}
}

// aclPrincipalPropSet answers DAV:acl-principal-prop-set (RFC 3744 §9.2):
// the requested properties of every principal an ACE of the request-URI's
// DAV:acl names by href, one response each, in the ACL's order. "This
// report is only defined when the Depth header has value 0" and needs the
// right to read the ACL: a user who may not read DAV:acl (another user's
// principal, seen as a directory entry) is refused with
// DAV:need-privileges naming DAV:read-acl; a sharee reads, as in DAV:acl,
// the owner and themselves. A principal the user may not read answers
// with its status alone, as in expand-property.
func (h *Handler) aclPrincipalPropSet(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource, body *Element) error {
	if err := depthZero(r); err != nil {
		return err
	}
	pr, err := h.reportProps(rq, body.Child(Name("prop")))
	if err != nil {
		return err
	}
	acl, err := h.readProperty(rq, res, Name("acl"))
	if err != nil {
		return err
	}
	if acl == nil {
		return needPrivilege(res.Href, NewElement(Name("read-acl")), "dav: need privilege read-acl")
	}
	ms := h.newMultiStatus(w, res.Href)
	seen := map[string]bool{}
	for _, a := range acl.ChildrenNamed(Name("ace")) {
		p := a.Child(Name("principal"))
		if p == nil || p.Child(Name("href")) == nil {
			continue // DAV:authenticated, DAV:all: no principal resource
		}
		href := strings.TrimSpace(p.Child(Name("href")).Text)
		if seen[href] {
			continue
		}
		seen[href] = true
		resp, err := h.hrefResponse(rq, href, func(p *Resource) (*Response, error) { return h.propResponse(rq, p, pr) })
		if err != nil {
			return err
		}
		ms.Add(resp)
	}
	return ms.Close("")
}

// principalSearchPropertySet answers DAV:principal-search-property-set
// (RFC 3744 §9.5): the properties principal-property-search can match.
func (h *Handler) principalSearchPropertySet(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource, body *Element) error {
	if err := depthZero(r); err != nil {
		return err
	}
	root := NewElement(Name("principal-search-property-set"))
	for _, s := range searchable {
		desc := TextElement(Name("description"), s.description)
		desc.Attr = []xml.Attr{{Name: xml.Name{Space: xmlNamespace, Local: "lang"}, Value: "en"}}
		root.Children = append(root.Children, NewElement(Name("principal-search-property"),
			NewElement(Name("prop"), NewElement(s.name)), desc))
	}
	writeBody(w, &BodyPlan{ContentType: "application/xml; charset=utf-8", Body: []byte(document(root))})
	return nil
}

// principalMatch answers DAV:principal-match (RFC 3744 §9.3): with
// DAV:self, the principals under the request-URI that are the user (their
// principal and their groups'); with DAV:principal-property, the members
// of the request-URI whose property names the user or one of their
// groups: principals in the principal collection, collections in a home,
// objects in a collection.
func (h *Handler) principalMatch(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource, body *Element) error {
	if err := depthZero(r); err != nil {
		return err
	}
	self := body.Child(Name("self")) != nil
	var prop xml.Name
	if pp := body.Child(Name("principal-property")); pp != nil && len(pp.Children) == 1 {
		prop = pp.Children[0].Name
	}
	if self == (prop != xml.Name{}) {
		return &Error{Status: http.StatusBadRequest, Message: "dav: principal-match needs one of self and principal-property"}
	}
	pr, err := h.reportProps(rq, body.Child(Name("prop")))
	if err != nil {
		return err
	}
	groups, err := rq.userGroups()
	if err != nil {
		return err
	}
	mine := map[string]bool{PrincipalHref(rq.User.Username): true}
	for _, g := range groups {
		mine[GroupHref(g.Name)] = true
	}
	names := func(r *Resource) (bool, error) {
		v, err := h.readProperty(rq, r, prop)
		if err != nil || v == nil {
			return false, err
		}
		for _, c := range v.ChildrenNamed(Name("href")) {
			if u, err := url.Parse(strings.TrimSpace(c.Text)); err == nil && mine[u.EscapedPath()] {
				return true, nil
			}
		}
		return false, nil
	}
	var cands []*Resource
	switch res.Type {
	case ResPrincipals:
		cands = append(cands, userPrincipalResource(rq.User, rq.User))
		for i := range groups {
			cands = append(cands, groupPrincipalResource(&groups[i]))
		}
	case ResHome:
		if !self {
			if cands, err = h.members(rq, res); err != nil {
				return err
			}
		}
	case ResCollection:
		if !self {
			// The objects of a collection, paged like any listing.
			cur, err := h.scan(rq, res, "", store.ListObjectsOptions{})
			if err != nil {
				return err
			}
			s := h.newStream(rq, w, res, pr, "principal-match", 0)
			match := func(o *store.Object) (bool, error) { return names(h.objectResource(res, o)) }
			done, truncated, err := s.run(cur, match, 0)
			if !done {
				return err
			}
			return s.close(truncated, "")
		}
	}
	var ms []member
	for _, c := range cands {
		ok := self
		if !self {
			if ok, err = names(c); err != nil {
				return err
			}
		}
		if ok {
			ms = append(ms, member{res: c})
		}
	}
	s := h.newStream(rq, w, res, pr, "principal-match", len(ms))
	if done, _, err := s.run(sliceCursor(ms), nil, 0); !done {
		return err
	}
	return s.close(false, "")
}
