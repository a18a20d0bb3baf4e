package dav

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// Multiget answers calendar-multiget (RFC 4791 §7.9) and addressbook-multiget
// (RFC 6352 §8.7) on collection res: the requested properties of every href,
// read in one query; an href that names no member gets its own 404 response.
func (h *Handler) Multiget(rq *Request, w http.ResponseWriter, res *Resource, body *Element) error {
	res, _, err := reportScope(res)
	if err != nil {
		return err
	}
	pr := propRequestFromProp(body.Child(Name("prop")), rq.HTTP)
	hrefs := body.ChildrenNamed(Name("href"))
	names := make([]string, 0, len(hrefs))
	wanted := make([]string, len(hrefs)) // decoded name per href; "" when outside the collection
	for i, he := range hrefs {
		name, ok := h.memberName(res, strings.TrimSpace(he.Text))
		if ok {
			names = append(names, name)
			wanted[i] = name
		}
	}
	objs, err := h.Store.GetObjects(rq.Ctx, res.Collection.ID, names, pr.needsBody(h))
	if err != nil {
		return err
	}
	byName := make(map[string]*store.Object, len(objs))
	for i := range objs {
		byName[objs[i].Name] = &objs[i]
	}
	ms := NewMultiStatus(w)
	for i, he := range hrefs {
		o := byName[wanted[i]]
		if o == nil {
			ms.Add(&Response{Href: strings.TrimSpace(he.Text), Status: http.StatusNotFound})
			continue
		}
		resp, err := h.propResponse(rq, h.objectResource(res, o), pr)
		if err != nil {
			h.Logger.ErrorContext(rq.Ctx, "multiget member failed", "name", o.Name, "err", err)
			return nil
		}
		if ms.Add(resp) != nil {
			return nil
		}
	}
	return ms.Close("")
}

// memberName decodes an href (absolute URL or path) naming a direct member
// of collection res.
func (h *Handler) memberName(res *Resource, href string) (string, bool) {
	u, err := url.Parse(href)
	if err != nil {
		return "", false
	}
	t, err := h.parsePath(u.EscapedPath())
	if err != nil || t.typ != ResObject || t.kind != res.Kind ||
		t.username != res.Owner.Username || t.collection != res.Collection.Name {
		return "", false
	}
	return t.object, true
}

// Query streams the answer to a query REPORT on collection res: for each
// candidate the store returns under opts, match decides membership (nil
// accepts all). The candidates are read with bodies only when match or the
// requested properties need them.
func (h *Handler) Query(rq *Request, w http.ResponseWriter, res *Resource, prop *Element, opts store.ListObjectsOptions, match func(o *store.Object) (bool, error), limit int) error {
	res, only, err := reportScope(res)
	if err != nil {
		return err
	}
	pr := propRequestFromProp(prop, rq.HTTP)
	opts.WithBody = opts.WithBody || pr.needsBody(h) || match != nil
	var next func() (*store.Object, error)
	if only != "" {
		// On an object the query asks whether that one object matches;
		// the store's narrowing is only an optimisation, match decides.
		objs, err := h.Store.GetObjects(rq.Ctx, res.Collection.ID, []string{only}, opts.WithBody)
		if err != nil {
			return err
		}
		next = func() (*store.Object, error) {
			if len(objs) == 0 {
				return nil, nil
			}
			o := &objs[0]
			objs = objs[1:]
			return o, nil
		}
	} else {
		pages, err := h.newObjectPages(rq, res, opts)
		if err != nil {
			return err
		}
		next = pages.next
	}
	// Matches are written a page at a time. Until the first page is
	// written, an error (a hostile recurrence rule, say) is still a clean
	// error answer; after it, the 207 is cut short and the error logged.
	ms := NewMultiStatus(w)
	started := false
	var pending []*store.Object
	flush := func() bool {
		started = started || len(pending) > 0
		for _, o := range pending {
			resp, err := h.propResponse(rq, h.objectResource(res, o), pr)
			if err != nil {
				h.Logger.ErrorContext(rq.Ctx, "query member failed", "name", o.Name, "err", err)
				return false
			}
			if ms.Add(resp) != nil {
				return false
			}
		}
		pending = pending[:0]
		return true
	}
	fail := func(err error) error {
		if !started {
			return err
		}
		h.Logger.ErrorContext(rq.Ctx, "query failed after the answer started", "href", res.Href, "err", err)
		return nil
	}
	count, truncated := 0, false
	for {
		o, err := next()
		if err != nil {
			return fail(err)
		}
		if o == nil {
			break
		}
		if match != nil {
			ok, err := match(o)
			if err != nil {
				return fail(err)
			}
			if !ok {
				continue
			}
		}
		if limit > 0 && count == limit {
			truncated = true
			break
		}
		count++
		pending = append(pending, o)
		if len(pending) >= pageSize && !flush() {
			return nil
		}
	}
	if !flush() {
		return nil
	}
	if truncated {
		// RFC 6352 §8.6.1 / RFC 5323: more results than the limit.
		ms.Add(&Response{Href: res.Href, Status: http.StatusInsufficientStorage, Error: NewElement(Name("number-of-matches-within-limits"))})
	}
	return ms.Close("")
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
		col = &Resource{Type: ResCollection, Href: CollectionHref(res.Kind, res.Owner.Username, res.Collection.Name),
			Owner: res.Owner, Kind: res.Kind, Collection: res.Collection}
		return col, res.Object.Name, nil
	}
	return nil, "", &Error{Status: http.StatusForbidden, Condition: NewElement(Name("supported-report"))}
}
