package dav

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// propRequest is what a PROPFIND (or a REPORT's DAV:prop) asks for.
type propRequest struct {
	allprop  bool
	propname bool
	names    []*Element // requested property elements, in request order
	include  []*Element // allprop's DAV:include
	minimal  bool       // Prefer: return=minimal / Brief: t — omit non-200 propstats

	// resolved caches the property of each requested element, so a listing
	// of many resources looks each one up (and decodes a calendar-data
	// request) once, not once per resource.
	resolved map[*Element]*Property
	// invalid holds, for a data element the kind cannot produce, the
	// error that fails a query or multiget REPORT as a whole.
	invalid map[*Element]error
}

// property returns the property answering el, looked up once per request.
func (pr *propRequest) property(h *Handler, el *Element) *Property {
	if p, ok := pr.resolved[el]; ok {
		return p
	}
	if pr.resolved == nil {
		pr.resolved = map[*Element]*Property{}
	}
	p, err := h.lookupProp(el)
	pr.resolved[el] = p
	if err != nil {
		if pr.invalid == nil {
			pr.invalid = map[*Element]error{}
		}
		pr.invalid[el] = err
	}
	return p
}

func (pr *propRequest) needsBody(h *Handler) bool {
	for _, el := range pr.names {
		if p := pr.property(h, el); p != nil && p.NeedsBody {
			return true
		}
	}
	return false
}

// parsePropfind reads a PROPFIND body (RFC 4918 §9.1): an empty body is
// allprop. A body that breaks the grammar of §14.20,
// <!ELEMENT propfind ( propname | (allprop, include?) | prop ) >, is "not
// well-formed" in §9.1's sense and answered 400: two of the three choices,
// an include without allprop, an unknown DAV: child, or a prop (or
// propname/allprop) holding text. Elements of other namespaces are
// extensions §17 tells the server to ignore. Unknown properties inside prop
// are not errors: they are answered in a 404 propstat.
func parsePropfind(body *Element) (*propRequest, error) {
	if body == nil {
		return &propRequest{allprop: true}, nil
	}
	if body.Name != Name("propfind") {
		return nil, badPropfind("the body is not DAV:propfind")
	}
	if strings.TrimSpace(body.Text) != "" {
		return nil, badPropfind("DAV:propfind holds text")
	}
	pr := &propRequest{}
	var props, includes int
	for _, c := range body.Children {
		if c.Name.Space != NSDAV {
			continue
		}
		switch c.Name.Local {
		case "prop":
			props++
			pr.names = append(pr.names, c.Children...)
		case "allprop":
			pr.allprop = true
		case "propname":
			pr.propname = true
		case "include":
			includes++
			pr.include = append(pr.include, c.Children...)
		default:
			return nil, badPropfind("unknown element DAV:" + c.Name.Local + " in DAV:propfind")
		}
		if c.Name.Local != "prop" && c.Name.Local != "include" && len(c.Children) > 0 {
			return nil, badPropfind("DAV:" + c.Name.Local + " is not empty")
		}
		if strings.TrimSpace(c.Text) != "" {
			return nil, badPropfind("DAV:" + c.Name.Local + " holds text")
		}
	}
	choices := props
	if pr.allprop {
		choices++
	}
	if pr.propname {
		choices++
	}
	switch {
	case choices > 1:
		return nil, badPropfind("DAV:propfind holds more than one of prop, allprop and propname")
	case includes > 0 && !pr.allprop:
		return nil, badPropfind("DAV:include without DAV:allprop")
	case includes > 1:
		return nil, badPropfind("more than one DAV:include")
	}
	var err error
	if pr.names, err = uniqueProps(pr.names); err != nil {
		return nil, err
	}
	if pr.include, err = uniqueProps(pr.include); err != nil {
		return nil, err
	}
	// An empty DAV:propfind, or an empty DAV:prop, asks for nothing; each
	// resource is answered with an empty response rather than an error.
	return pr, nil
}

// uniqueProps drops repeated requests of a property (the same element with
// the same attributes and content; a data property asked for twice with
// different parameters stays two requests) and refuses lists over
// maxPropsTotal elements or maxPropsDistinct distinct ones with 413, so the
// work of a listing grows with what is distinct, not with the bytes of the
// request: naming displayname 99,990 times once produced 4 GB.
func uniqueProps(els []*Element) ([]*Element, error) {
	if len(els) > maxPropsTotal {
		return nil, tooMuch("dav: more than %d properties requested", maxPropsTotal)
	}
	if len(els) < 2 {
		return els, nil
	}
	seen := make(map[string]bool, len(els))
	out := make([]*Element, 0, len(els))
	for _, el := range els {
		if k := el.String(); !seen[k] {
			seen[k] = true
			out = append(out, el)
		}
	}
	if len(out) > maxPropsDistinct {
		return nil, tooMuch("dav: more than %d distinct properties requested", maxPropsDistinct)
	}
	return out, nil
}

// tooMuch is the 413 of a request that asks for more than one request may.
func tooMuch(format string, n int) error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf(format, n)}
}

func badPropfind(reason string) *Error {
	return &Error{Status: http.StatusBadRequest, Message: "dav: invalid PROPFIND body: " + reason}
}

// propRequestFromProp builds the property request of a REPORT from its
// DAV:prop element; a REPORT without one asks for no properties.
func propRequestFromProp(prop *Element, r *http.Request) (*propRequest, error) {
	pr := &propRequest{minimal: wantsMinimal(r)}
	if prop != nil {
		names, err := uniqueProps(prop.Children)
		if err != nil {
			return nil, err
		}
		pr.names = names
	}
	return pr, nil
}

// wantsMinimal: RFC 7240 "Prefer: return=minimal" and Microsoft's "Brief: t"
// (sent by iOS) ask to leave out 404 propstats.
func wantsMinimal(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "return=minimal") {
				return true
			}
		}
	}
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("Brief")), "t")
}

func (h *Handler) lookup(el *Element) *Property {
	p, _ := h.lookupProp(el)
	return p
}

// lookupProp finds the property answering el: a registered live property,
// or a kind's data property (see DataKind for err).
func (h *Handler) lookupProp(el *Element) (p *Property, err error) {
	if p := h.props.byName[el.Name]; p != nil {
		return p, nil
	}
	for _, k := range h.Kinds {
		if dk, ok := k.(DataKind); ok {
			if p, err := dk.DataProperty(el); p != nil {
				return p, err
			}
		}
	}
	return nil, nil
}

func (h *Handler) propfind(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) error {
	body, err := ReadXML(w, r, h.Limits)
	if err != nil {
		return err
	}
	pr, err := parsePropfind(body)
	if err != nil {
		return err
	}
	pr.minimal = wantsMinimal(r)
	depth := r.Header.Get("Depth")
	switch depth {
	case "0", "1":
	case "", "infinity":
		// RFC 4918 §9.1: a missing Depth means infinity; servers may refuse
		// it on collections with DAV:propfind-finite-depth.
		if res.IsCollection() {
			return &Error{Status: http.StatusForbidden, Condition: NewElement(Name("propfind-finite-depth"))}
		}
	default:
		return &Error{Status: http.StatusBadRequest, Message: "dav: bad Depth header"}
	}
	s := h.newStream(rq, w, res, pr, "propfind", 0)
	s.add(member{res: res})
	if depth != "1" {
		return s.close(false, "")
	}
	var cur cursor
	if res.Type == ResCollection {
		// A collection's members are read a page at a time, so a
		// listing of any size costs the memory of one page.
		// Members written from their rows alone need no more of them.
		pages, err := h.newObjectPages(rq, res, store.ListObjectsOptions{WithBody: pr.needsBody(h), Brief: s.fast != nil})
		if err != nil {
			return err
		}
		cur = pages.cursor()
		if nests(res.Kind) {
			subs, err := h.childCollections(rq, res)
			if err != nil {
				return err
			}
			cur = concatCursors(subs, cur)
		}
	} else {
		members, err := h.members(rq, res)
		if err != nil {
			return err
		}
		ms := make([]member, len(members))
		for i, m := range members {
			ms[i] = member{res: m}
		}
		cur = sliceCursor(ms)
	}
	if done, _, err := s.run(cur, nil, 0); !done {
		return err
	}
	return s.close(false, "")
}

// members lists the children of a principal collection or a home for
// Depth 1; collections page through their objects with objectPages.
func (h *Handler) members(rq *Request, res *Resource) ([]*Resource, error) {
	switch res.Type {
	case ResNotifications:
		return h.notifications(rq)
	case ResPrincipals:
		return []*Resource{{Type: ResPrincipal, Href: PrincipalHref(rq.User.Username), Owner: rq.User}}, nil
	case ResHome:
		cols, err := h.Store.ListCollections(rq.Context(), res.Owner.ID, res.Kind.StoreKind())
		if err != nil {
			return nil, err
		}
		var derivedOut []*Resource
		// Derived collections (the Birthdays calendar) live here too,
		// brought up to date first.
		for _, dk := range h.derivedKinds(res.Kind) {
			dcols, err := h.Store.ListCollections(rq.Context(), res.Owner.ID, dk.StoreKind())
			if err != nil {
				return nil, err
			}
			for i := range dcols {
				c, err := refreshed(rq.Context(), h.Store, dk, &dcols[i])
				if err != nil {
					return nil, err
				}
				derivedOut = append(derivedOut, &Resource{Type: ResCollection, Href: CollectionHref(dk, res.Owner.Username, c.Name),
					Owner: res.Owner, Kind: dk, Collection: c, Privileges: derivedPrivs})
			}
		}
		// Collections shared with the user are members of their home too,
		// read with their privileges in one query (access.go); what is
		// shared with a delegator is not their delegates'.
		var shared []store.SharedCollection
		privs := ownerPrivs
		if res.Delegate != "" {
			privs = res.Privileges
		} else if shared, err = h.Store.ListSharedCollections(rq.Context(), res.Owner.ID, res.Kind.StoreKind()); err != nil {
			return nil, err
		}
		out := make([]*Resource, 0, len(cols)+len(derivedOut)+len(shared))
		own := make(map[string]bool, len(cols))
		for i := range cols {
			c := &cols[i]
			own[c.Name] = true
			out = append(out, &Resource{Type: ResCollection, Href: CollectionHref(res.Kind, res.Owner.Username, c.Name),
				Owner: res.Owner, Kind: res.Kind, Collection: c, Privileges: privs, Delegate: res.Delegate})
		}
		for _, d := range derivedOut {
			own[d.Collection.Name] = true
			d.Privileges &= privs // a delegate holds no more on it than on the rest
			d.Delegate = res.Delegate
			out = append(out, d)
		}
		for i := range shared {
			sr := sharedResource(res.Kind, res.Owner, &shared[i])
			if !own[sharedSegment(sr.Collection)] { // an own collection of that name hides the share
				out = append(out, sr)
			}
		}
		return out, nil
	}
	return nil, nil
}

// objectResource makes the resource of an object listed in collection res.
func (h *Handler) objectResource(col *Resource, o *store.Object) *Resource {
	return &Resource{
		Type: ResObject, Href: col.collectionHref() + escapeSegment(o.Name),
		Owner: col.Owner, Kind: col.Kind, Collection: col.Collection, Object: o, Name: o.Name,
		Privileges: col.Privileges, Shared: col.Shared, Delegate: col.Delegate, Public: col.Public,
	}
}

// propResponse answers the property request for one resource.
func (h *Handler) propResponse(rq *Request, res *Resource, pr *propRequest) (*Response, error) {
	h.representation(res, pr)
	ok := PropStat{Status: http.StatusOK}
	missing := PropStat{Status: http.StatusNotFound}
	var dead map[xml.Name]string
	// Dead properties are read (one query per collection) only when the
	// request can name one: a registered live property's name is never
	// stored dead (PROPPATCH sets it through the property or refuses it),
	// so a listing that asks for live properties only, as clients'
	// discovery does, costs no query per collection.
	needDead := pr.allprop || pr.propname
	for _, els := range [][]*Element{pr.names, pr.include} {
		for _, el := range els {
			if !needDead && pr.property(h, el) == nil {
				needDead = true
			}
		}
	}
	if res.Type == ResCollection && needDead {
		var err error
		if dead, err = rq.deadProps(res.Collection); err != nil {
			return nil, err
		}
	} else if res.Type == ResObject && res.Object != nil && needDead && nests(res.Kind) {
		var err error
		if dead, err = rq.objectDeadProps(res.Object); err != nil {
			return nil, err
		}
	}
	var failed []PropStat
	dir := directoryEntry(rq, res)
	get := func(el *Element, p *Property) error {
		if p != nil && dir && !p.Directory {
			p = nil // not part of another principal's directory entry
		}
		if p != nil {
			v, err := p.Get(rq, res)
			if err == nil {
				ok.Props = append(ok.Props, v)
				return nil
			}
			var de *Error
			if errors.As(err, &de) {
				// A property this resource cannot give (an expansion over
				// the limits, say) gets its own status; the rest of the
				// 207 stands.
				failed = append(failed, PropStat{Status: de.Status, Props: []*Element{NewElement(el.Name)}, Error: de.Condition})
				return nil
			}
			if !errors.Is(err, ErrNoProperty) {
				return err
			}
		}
		if raw, found := dead[el.Name]; found {
			ok.Raw = append(ok.Raw, raw)
			return nil
		}
		missing.Props = append(missing.Props, NewElement(el.Name))
		return nil
	}
	switch {
	case pr.propname:
		for _, p := range h.props.order {
			if dir && !p.Directory {
				continue
			}
			if _, err := p.Get(rq, res); err == nil {
				ok.Props = append(ok.Props, NewElement(p.Name))
			}
		}
		for _, name := range sortedNames(dead) {
			ok.Props = append(ok.Props, NewElement(name))
		}
	case pr.allprop:
		seen := map[xml.Name]bool{}
		for _, p := range h.props.order {
			if !p.AllProp || dir && !p.Directory {
				continue
			}
			seen[p.Name] = true
			if v, err := p.Get(rq, res); err == nil {
				ok.Props = append(ok.Props, v)
			} else if !errors.Is(err, ErrNoProperty) {
				return nil, err
			}
		}
		for _, name := range sortedNames(dead) {
			seen[name] = true
			ok.Raw = append(ok.Raw, dead[name])
		}
		for _, el := range pr.include {
			if !seen[el.Name] {
				if err := get(el, pr.property(h, el)); err != nil {
					return nil, err
				}
			}
		}
	default:
		for _, el := range pr.names {
			if err := get(el, pr.property(h, el)); err != nil {
				return nil, err
			}
		}
	}
	resp := &Response{Href: res.Href, PropStats: append([]PropStat{ok}, failed...)}
	if !pr.minimal {
		resp.PropStats = append(resp.PropStats, missing)
	}
	return resp, nil
}

func sortedNames(m map[xml.Name]string) []xml.Name {
	names := make([]xml.Name, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && lessName(names[j], names[j-1]); j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names
}

func lessName(a, b xml.Name) bool {
	if a.Space != b.Space {
		return a.Space < b.Space
	}
	return a.Local < b.Local
}
