package dav

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/davenport-dav/davenport/store"
)

// report answers REPORT: DAV:sync-collection is the engine's own; any other
// report named by the resource's kind is planned by the kind and executed
// here.
func (h *Handler) report(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) error {
	body, err := ReadXML(w, r, h.Limits)
	if err != nil {
		return err
	}
	if body == nil {
		return &Error{Status: http.StatusBadRequest, Message: "dav: REPORT without a body"}
	}
	if body.Name != freeBusyQuery {
		// RFC 4791 §6.1.1: CALDAV:read-free-busy allows free-busy-query
		// and nothing else.
		if err := checkPrivilege(res, PrivRead); err != nil {
			return err
		}
	}
	if body.Name == Name("sync-collection") {
		return h.syncCollection(rq, w, r, res, body)
	}
	if f := h.principalReport(body.Name); f != nil {
		return f(rq, w, r, res, body)
	}
	rep, ok := res.Kind.(Reporter)
	if !ok || res.Type < ResCollection || !slices.Contains(rep.ReportNames(), body.Name) {
		// RFC 3253 §3.6: DAV:supported-report.
		return &Error{Status: http.StatusForbidden, Condition: NewElement(Name("supported-report"))}
	}
	plan, err := rep.Report(rq, res, body)
	if err != nil {
		return err
	}
	return h.execute(rq, w, res, plan)
}

// freeBusyQuery is the one REPORT CALDAV:read-free-busy allows (RFC 4791
// §7.10).
var freeBusyQuery = xml.Name{Space: NSCalDAV, Local: "free-busy-query"}

// execute runs a kind's plan for a REPORT on res.
func (h *Handler) execute(rq *Request, w http.ResponseWriter, res *Resource, plan Plan) error {
	switch p := plan.(type) {
	case *QueryPlan:
		return h.query(rq, w, res, p)
	case *MultigetPlan:
		return h.multiget(rq, w, res, p)
	case *FoldPlan:
		return h.fold(rq, w, res, p)
	case *BodyPlan:
		writeBody(w, p)
		return nil
	}
	return &Error{Status: http.StatusInternalServerError, Message: "dav: REPORT planned nothing"}
}

// reportProps is the property request of a query or multiget REPORT. A data
// element the kind cannot produce fails the REPORT as a whole (RFC 4791
// §7.8, §7.9; RFC 6352 §8.6, §8.7), before any object is read.
func (h *Handler) reportProps(rq *Request, prop *Element) (*propRequest, error) {
	pr, err := propRequestFromProp(prop, rq.HTTP)
	if err != nil {
		return nil, err
	}
	for _, el := range pr.names {
		pr.property(h, el)
		if err := pr.invalid[el]; err != nil {
			return nil, err
		}
	}
	return pr, nil
}

// query executes a QueryPlan: for each candidate the store returns under
// the plan's options, Match decides membership. The candidates are read
// with bodies only when Match or the requested properties need them.
func (h *Handler) query(rq *Request, w http.ResponseWriter, res *Resource, p *QueryPlan) error {
	pr, err := h.reportProps(rq, p.Prop)
	if err != nil {
		return err
	}
	col, only, err := reportScope(res)
	if err != nil {
		return err
	}
	opts := p.Options
	opts.WithBody = opts.WithBody || pr.needsBody(h) || p.Match != nil
	cur, err := h.scan(rq, col, only, opts)
	if err != nil {
		return err
	}
	s := h.newStream(rq, w, col, pr, "query", 0)
	done, truncated, err := s.run(cur, p.Match, p.Limit)
	if !done {
		return err
	}
	return s.close(truncated, "")
}

// scan is the cursor over the candidates of a query or fold on collection
// col: its objects under opts a page at a time, or when only names one
// object (a REPORT on an object resource), that object alone — the store's
// narrowing is then skipped, as it is only an optimisation and the match
// decides.
func (h *Handler) scan(rq *Request, col *Resource, only string, opts store.ListObjectsOptions) (cursor, error) {
	if only != "" {
		objs, err := h.Store.GetObjects(rq.Context(), col.Collection.ID, []string{only}, opts.WithBody)
		if err != nil {
			return nil, err
		}
		ms := make([]member, len(objs))
		for i := range objs {
			ms[i] = member{obj: &objs[i]}
		}
		return sliceCursor(ms), nil
	}
	opts.After = ""
	pages, err := h.newObjectPages(rq, col, opts)
	if err != nil {
		return nil, err
	}
	return pages.cursor(), nil
}

// multiget executes a MultigetPlan (calendar-multiget, RFC 4791 §7.9;
// addressbook-multiget, RFC 6352 §8.7): the requested properties of every
// href, read in one query; an href that names no member gets its own 404
// response.
func (h *Handler) multiget(rq *Request, w http.ResponseWriter, res *Resource, p *MultigetPlan) error {
	pr, err := h.reportProps(rq, p.Prop)
	if err != nil {
		return err
	}
	col, _, err := reportScope(res)
	if err != nil {
		return err
	}
	hrefs, err := uniqueHrefs(p.Hrefs)
	if err != nil {
		return err
	}
	p = &MultigetPlan{Prop: p.Prop, Hrefs: hrefs}
	names := make([]string, 0, len(p.Hrefs))
	wanted := make([]string, len(p.Hrefs)) // decoded name per href; "" when outside the collection
	bad := make([]bool, len(p.Hrefs))      // the href's name is not UTF-8
	for i, href := range p.Hrefs {
		name, err := h.memberName(col, href)
		switch {
		case err == nil:
			names = append(names, name)
			wanted[i] = name
		case errors.Is(err, errBadName):
			bad[i] = true
		}
	}
	objs, err := h.Store.GetObjects(rq.Context(), col.Collection.ID, names, pr.needsBody(h))
	if err != nil {
		return err
	}
	byName := make(map[string]*store.Object, len(objs))
	for i := range objs {
		byName[objs[i].Name] = &objs[i]
	}
	i := 0
	cur := func() (member, bool, error) {
		if i == len(p.Hrefs) {
			return member{}, false, nil
		}
		i++
		if o := byName[wanted[i-1]]; o != nil {
			return member{obj: o}, true, nil
		}
		if bad[i-1] {
			return member{href: p.Hrefs[i-1], status: http.StatusBadRequest}, true, nil
		}
		return member{href: p.Hrefs[i-1], status: http.StatusNotFound}, true, nil
	}
	s := h.newStream(rq, w, col, pr, "multiget", len(p.Hrefs))
	if done, _, err := s.run(cur, nil, 0); !done {
		return err
	}
	return s.close(false, "")
}

// fold executes a FoldPlan: every object of each scan, with its body, a
// page at a time, into the fold; then the fold's answer.
func (h *Handler) fold(rq *Request, w http.ResponseWriter, res *Resource, p *FoldPlan) error {
	col, only, err := reportScope(res)
	if err != nil {
		return err
	}
	for _, opts := range p.Scans {
		opts.WithBody = true
		cur, err := h.scan(rq, col, only, opts)
		if err != nil {
			return err
		}
		for {
			m, ok, err := cur()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if err := p.Fold.Add(view(col, m.obj)); err != nil {
				return err
			}
		}
	}
	body, err := p.Fold.Finish()
	if err != nil {
		return err
	}
	writeBody(w, body)
	return nil
}

// writeBody writes a finished answer.
func writeBody(w http.ResponseWriter, b *BodyPlan) {
	status := b.Status
	if status == 0 {
		status = http.StatusOK
	}
	if b.ContentType != "" {
		w.Header().Set("Content-Type", b.ContentType)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b.Body)))
	w.WriteHeader(status)
	w.Write(b.Body)
}

// uniqueHrefs drops repeated hrefs (each resource is answered once) and
// refuses more than maxHrefs with 413.
func uniqueHrefs(hrefs []string) ([]string, error) {
	if len(hrefs) > maxHrefs {
		return nil, tooMuch("dav: more than %d hrefs in a multiget", maxHrefs)
	}
	seen := make(map[string]bool, len(hrefs))
	out := make([]string, 0, len(hrefs))
	for _, h := range hrefs {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out, nil
}

// memberName decodes an href (absolute URL or path) naming a direct member
// of collection res. It fails with errBadName for a name that is not UTF-8
// and errBadPath for anything else that is not a member.
func (h *Handler) memberName(res *Resource, href string) (string, error) {
	u, err := url.Parse(href)
	if err != nil {
		return "", errBadPath
	}
	t, err := h.parsePath(u.EscapedPath())
	if err != nil {
		return "", err
	}
	if t.typ != ResObject || t.kind != res.Kind || CollectionHref(t.kind, t.username, t.collection) != res.collectionHref() {
		return "", errBadPath
	}
	return t.object, nil
}

// reportScope returns the collection a query or multiget REPORT runs in: the
// collection itself, or for a REPORT on an object resource (RFC 4791 §7.8,
// §7.9, RFC 6352 §8.6, §8.7 allow both) its collection, with only naming
// the object.
func reportScope(res *Resource) (col *Resource, only string, err error) {
	switch {
	case res.Type == ResCollection:
		return res, "", nil
	case res.Type == ResObject && res.Object != nil:
		col = &Resource{Type: ResCollection, Href: res.collectionHref(),
			Owner: res.Owner, Kind: res.Kind, Collection: res.Collection, Privileges: res.Privileges, Shared: res.Shared,
			Delegate: res.Delegate, Public: res.Public}
		return col, res.Object.Name, nil
	}
	return nil, "", &Error{Status: http.StatusForbidden, Condition: NewElement(Name("supported-report"))}
}
