package dav

import (
	"net/http"

	"github.com/davenport-dav/davenport/store"
)

// The one path by which a 207 of many responses is built: a cursor pages
// the store, a stream renders each member's properties and writes the
// responses a page at a time. PROPFIND Depth 1, the query and multiget
// plans and sync-collection all go through it, so paging, rendering, the
// DAV:limit cut (507) and the handling of errors mid-answer live here once.

// pageSize is how many objects a listing reads per query, and how many
// responses a stream renders before it writes them.
const pageSize = 500

// member is one response of a listing: an object of the stream's
// collection, another resource, or a status-only response (a 404 for a
// multiget href that names nothing, or for a member removed since a sync
// token).
type member struct {
	obj    *store.Object
	res    *Resource
	href   string
	status int
}

// cursor yields the members of a listing in order; ok is false at the end.
type cursor func() (m member, ok bool, err error)

// stream writes the 207 of one listing on collection col. The first page of
// members is held until it is full (or the listing ends), so that until
// then an error is still a clean error answer (fail returns it); after
// that members are written as they come, and an error cuts the 207 short
// and is logged, as no status can be sent any more.
type stream struct {
	h       *Handler
	rq      *Request
	col     *Resource
	pr      *propRequest
	ms      *MultiStatus
	what    string // for the log: "propfind", "query", …
	pending []member
	expired bool // run stopped at the time budget (Handler.MaxResponseTime)
	// fast holds the requested properties when every one of them can be
	// written for a listed object without building it (Property.member);
	// nil sends every member through propResponse.
	fast []*Property
}

// newStream starts the answer; size, when known and positive, is the
// number of members to come (to size the first page's buffer).
func (h *Handler) newStream(rq *Request, w http.ResponseWriter, col *Resource, pr *propRequest, what string, size int) *stream {
	s := &stream{h: h, rq: rq, col: col, pr: pr, ms: h.newMultiStatus(w, col.Href), what: what}
	s.fast = h.memberProps(col, pr)
	if size > 0 {
		s.pending = make([]member, 0, min(size, pageSize))
	}
	return s
}

// started reports whether the 207 has begun, after which no error status
// can be sent.
func (s *stream) started() bool { return s.ms.started }

// add queues one member, writing the first page when it is full and every
// member after it at once (the MultiStatus buffers the bytes). It reports
// false when the answer must stop: a member could not be rendered after
// the 207 began (logged), or the client went away.
func (s *stream) add(m member) (bool, error) {
	s.pending = append(s.pending, m)
	if len(s.pending) < pageSize && !s.started() {
		return true, nil
	}
	return s.flush()
}

// flush renders and writes the queued members. A rendering error before
// anything was written is returned; after, it is logged and ok is false.
func (s *stream) flush() (ok bool, err error) {
	for _, m := range s.pending {
		if s.fast != nil && m.status == 0 && m.res == nil && m.obj != nil {
			if s.ms.addObject(s.col.collectionHref(), m.obj, s.fast) != nil {
				s.pending = s.pending[:0]
				return false, nil
			}
			continue
		}
		resp := &Response{Href: m.href, Status: m.status}
		if m.status == 0 {
			res := m.res
			if res == nil {
				res = s.h.objectResource(s.col, m.obj)
			}
			resp, err = s.h.propResponse(s.rq, res, s.pr)
			if err != nil {
				s.pending = s.pending[:0]
				return false, s.fail(err)
			}
		}
		if s.ms.Add(resp) != nil {
			s.pending = s.pending[:0]
			return false, nil
		}
	}
	s.pending = s.pending[:0]
	return true, nil
}

// memberProps returns the properties pr asks of the objects listed in col
// when all of them can be written without building the objects'
// responses: pr names them one by one (no allprop, propname or include),
// each is a live property with a member writer, so propResponse would
// find all of them, read no dead properties, change no representation,
// and answer one 200 propstat in request order. Otherwise nil.
func (h *Handler) memberProps(col *Resource, pr *propRequest) []*Property {
	if col == nil || col.Type != ResCollection || pr == nil || pr.allprop || pr.propname || len(pr.include) > 0 || len(pr.names) == 0 {
		return nil
	}
	props := make([]*Property, len(pr.names))
	for i, el := range pr.names {
		p := pr.property(h, el)
		if p == nil || p.member == nil || p.Representation != nil || p.NeedsBody {
			return nil
		}
		props[i] = p
	}
	return props
}

// fail turns an error met while answering into the handler's result: the
// error itself while nothing is written, else nil after logging it.
func (s *stream) fail(err error) error {
	if !s.started() {
		return err
	}
	s.h.Logger.ErrorContext(s.rq.Context(), s.what+" failed after the answer started", "href", s.col.Href, "err", err)
	return nil
}

// run adds the members cur yields that match accepts (nil accepts all). With
// a positive limit, a match beyond it stops the listing and truncated is
// true. done is false when the answer was cut short or failed; err is for
// the handler to return.
func (s *stream) run(cur cursor, match func(*store.Object) (bool, error), limit int) (done, truncated bool, err error) {
	count := 0
	for {
		m, ok, err := cur()
		if err != nil {
			return false, false, s.fail(err)
		}
		if !ok {
			return true, false, nil
		}
		if s.ms.Expired() {
			s.expired = true // out of time: close ends with the 507
			return true, true, nil
		}
		m.obj = view(s.col, m.obj)
		if match != nil && m.obj != nil {
			ok, err := match(m.obj)
			if err != nil {
				return false, false, s.fail(err)
			}
			if !ok {
				continue
			}
		}
		if limit > 0 && count == limit {
			return true, true, nil
		}
		count++
		if ok, err := s.add(m); !ok {
			return false, false, err
		}
	}
}

// close writes what is queued and ends the document: a 507 response on the
// collection first when the listing was truncated (RFC 5323 §5.17 / RFC 6578
// §3.6: DAV:number-of-matches-within-limits), then syncToken if not empty.
func (s *stream) close(truncated bool, syncToken string) error {
	if ok, err := s.flush(); !ok {
		return err
	}
	if truncated || s.expired {
		s.ms.Add(&Response{Href: s.col.Href, Status: http.StatusInsufficientStorage, Error: NewElement(Name("number-of-matches-within-limits"))})
	}
	s.ms.Close(syncToken)
	return nil
}

// objectPages walks a collection's objects in name order, one page of
// pageSize per store query.
type objectPages struct {
	h    *Handler
	rq   *Request
	col  *Resource
	opts store.ListObjectsOptions
	page []store.Object
	i    int
	done bool
}

// newObjectPages reads the first page at once, so that a failing store is
// still a clean error before any 207 is written.
func (h *Handler) newObjectPages(rq *Request, col *Resource, opts store.ListObjectsOptions) (*objectPages, error) {
	p := &objectPages{h: h, rq: rq, col: col, opts: opts}
	return p, p.fetch()
}

func (p *objectPages) fetch() error {
	p.opts.Limit = pageSize
	page, err := p.h.Store.ListObjects(p.rq.Context(), p.col.Collection.ID, p.opts)
	if err != nil {
		return err
	}
	p.page, p.i = page, 0
	p.done = len(page) < pageSize
	if len(page) > 0 {
		p.opts.After = page[len(page)-1].Name
	}
	return nil
}

// next returns the next object, or nil at the end.
func (p *objectPages) next() (*store.Object, error) {
	for p.i >= len(p.page) {
		if p.done {
			return nil, nil
		}
		if err := p.fetch(); err != nil {
			return nil, err
		}
	}
	o := &p.page[p.i]
	p.i++
	return o, nil
}

// cursor yields the pages' objects as members.
func (p *objectPages) cursor() cursor {
	return func() (member, bool, error) {
		o, err := p.next()
		if o == nil || err != nil {
			return member{}, false, err
		}
		return member{obj: o}, true, nil
	}
}

// sliceCursor yields objects already read (a multiget's, or the one object
// a REPORT on an object resource asks about).
func sliceCursor(ms []member) cursor {
	return func() (member, bool, error) {
		if len(ms) == 0 {
			return member{}, false, nil
		}
		m := ms[0]
		ms = ms[1:]
		return m, true, nil
	}
}
