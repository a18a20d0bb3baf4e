package dav

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// DAV:expand-property (RFC 3253 §3.8): the properties of the request-URI,
// where each DAV:href in the value of a property asked for with nested
// DAV:property elements is replaced by a DAV:response for the resource it
// names, with those nested properties (and so on, nested). Apple clients
// use it on principals: group members, calendar-proxy groups and the
// principals they are proxies for, with their names and addresses, in one
// request. Each expanded resource is read as the user may read it (a
// directory entry for another principal; nothing outside the user's own
// space); the nesting and the number of expanded responses are bounded.

// expandSpec is one DAV:property of the request.
type expandSpec struct {
	name     xml.Name
	children []expandSpec
}

// Bounds of one expand-property: how deep the properties nest, and how many
// responses may be expanded in all (the hrefs past it are left as hrefs).
const (
	maxExpandDepth     = 4
	maxExpandResponses = 1000
)

func parseExpand(el *Element, depth int, count *int) ([]expandSpec, error) {
	if depth > maxExpandDepth {
		return nil, &Error{Status: http.StatusBadRequest, Message: "dav: expand-property nests too deep"}
	}
	var out []expandSpec
	for _, c := range el.ChildrenNamed(Name("property")) {
		if *count++; *count > maxPropsTotal {
			return nil, tooMuch("dav: more than %d properties requested", maxPropsTotal)
		}
		name, ok := c.AttrValue("name")
		if !ok || name == "" {
			return nil, &Error{Status: http.StatusBadRequest, Message: "dav: DAV:property without a name"}
		}
		ns, ok := c.AttrValue("namespace")
		if !ok {
			ns = NSDAV // RFC 3253 §3.8: the default namespace is DAV:
		}
		children, err := parseExpand(c, depth+1, count)
		if err != nil {
			return nil, err
		}
		out = append(out, expandSpec{name: xml.Name{Space: ns, Local: name}, children: children})
	}
	return out, nil
}

// expandProperty answers DAV:expand-property on res.
func (h *Handler) expandProperty(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource, body *Element) error {
	var count int
	specs, err := parseExpand(body, 0, &count)
	if err != nil {
		return err
	}
	budget := maxExpandResponses
	resp, err := h.expandResponse(rq, res, specs, &budget)
	if err != nil {
		return err
	}
	ms := h.newMultiStatus(w, res.Href)
	ms.Add(resp)
	return ms.Close("")
}

// expandResponse is the response for res with the properties of specs,
// their hrefs expanded where specs nest.
func (h *Handler) expandResponse(rq *Request, res *Resource, specs []expandSpec, budget *int) (*Response, error) {
	pr := &propRequest{minimal: wantsMinimal(rq.HTTP)}
	for _, s := range specs {
		pr.names = append(pr.names, NewElement(s.name))
	}
	resp, err := h.propResponse(rq, res, pr)
	if err != nil {
		return nil, err
	}
	for _, s := range specs {
		if len(s.children) == 0 {
			continue
		}
		for _, v := range resp.PropStats[0].Props {
			if v.Name != s.name {
				continue
			}
			for i, c := range v.Children {
				if c.Name != Name("href") || *budget <= 0 {
					continue
				}
				*budget--
				sub, err := h.expandHref(rq, strings.TrimSpace(c.Text), s.children, budget)
				if err != nil {
					return nil, err
				}
				v.Children[i] = responseElement(sub)
			}
		}
	}
	return resp, nil
}

// expandHref is the response for one href of an expanded property: the
// resource's, or a status-only one when it cannot be read.
func (h *Handler) expandHref(rq *Request, href string, specs []expandSpec, budget *int) (*Response, error) {
	return h.hrefResponse(rq, href, func(res *Resource) (*Response, error) { return h.expandResponse(rq, res, specs, budget) })
}

// hrefResponse resolves href as the user may read it and answers with
// respond, or with a status-only response (404, 403) when it cannot be
// read.
func (h *Handler) hrefResponse(rq *Request, href string, respond func(*Resource) (*Response, error)) (*Response, error) {
	res, err := h.resolveHref(rq, href)
	var de *Error
	switch {
	case err == nil:
		return respond(res)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, errBadPath), errors.Is(err, errBadName):
		return &Response{Href: href, Status: http.StatusNotFound}, nil
	case errors.Is(err, errForbidden), errors.As(err, &de):
		return &Response{Href: href, Status: http.StatusForbidden}, nil
	}
	return nil, err
}

// resolveHref resolves an href (a path or an absolute URL) as a request
// to it would be, and checks that the user may read it.
func (h *Handler) resolveHref(rq *Request, href string) (*Resource, error) {
	u, err := url.Parse(href)
	if err != nil || u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return nil, errBadPath
	}
	t, err := h.parsePath(u.EscapedPath())
	if err != nil {
		return nil, err
	}
	if t.typ == ResNotifications || t.typ == ResNotification {
		return nil, errForbidden
	}
	res, err := h.resolve(rq.Context(), rq.User, t, u.EscapedPath(), false)
	if err != nil {
		return nil, err
	}
	if err := checkPrivilege(res, PrivRead); err != nil {
		return nil, err
	}
	return res, nil
}

// responseElement is resp as a DAV:response element, for nesting inside a
// property value.
func responseElement(resp *Response) *Element {
	e := NewElement(Name("response"), TextElement(Name("href"), resp.Href))
	if resp.Status != 0 {
		e.Children = append(e.Children, TextElement(Name("status"), statusLine(resp.Status)))
		return e
	}
	for _, ps := range resp.PropStats {
		if len(ps.Props) == 0 {
			continue
		}
		st := NewElement(Name("propstat"), NewElement(Name("prop"), ps.Props...), TextElement(Name("status"), statusLine(ps.Status)))
		if ps.Error != nil {
			st.Children = append(st.Children, NewElement(Name("error"), ps.Error))
		}
		e.Children = append(e.Children, st)
	}
	if len(e.Children) == 1 {
		// RFC 4918 §14.24: a response carries a status or a propstat.
		e.Children = append(e.Children, NewElement(Name("propstat"), NewElement(Name("prop")), TextElement(Name("status"), statusLine(http.StatusOK))))
	}
	return e
}
