package dav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// thingKind is the engine tests' collection kind: a "thing" is any text
// whose first line is "UID:<uid>". It is as small as a kind can be — its
// declarations, a validation, and a few reports, one per plan type — so the
// tests exercise the engine, not a format. Without a BodyConverter, GET
// serves the stored bytes.
type thingKind struct{}

const nsThing = "urn:davenport:test"

func tn(local string) xml.Name { return xml.Name{Space: nsThing, Local: local} }

var (
	_ Kind     = thingKind{}
	_ Reporter = thingKind{}
	_ DataKind = thingKind{}
)

func (thingKind) StoreKind() store.Kind  { return store.KindCalendar }
func (thingKind) HomeSegment() string    { return "things" }
func (thingKind) Namespace() string      { return nsThing }
func (thingKind) ResourceType() xml.Name { return tn("things") }

func (k thingKind) Properties() []*Property {
	return []*Property{
		{Name: tn("label"), Get: CollectionProp(k, func(c *store.Collection) (*Element, error) {
			return TextElement(tn("label"), c.Name), nil
		})},
		// secret fails with an internal error on objects: a property
		// whose failure must not reach the client.
		{Name: tn("secret"), Get: func(rq *Request, res *Resource) (*Element, error) {
			if res.Type == ResObject {
				return nil, errors.New("secret: internal detail")
			}
			return nil, ErrNoProperty
		}},
	}
}

func (thingKind) PrepareObject(rq *Request, c *store.Collection, body []byte, contentType string) (*store.Object, error) {
	line, _, _ := bytes.Cut(body, []byte("\n"))
	uid, ok := strings.CutPrefix(string(line), "UID:")
	if !ok || uid == "" {
		return nil, Precondition(http.StatusForbidden, nsThing, "valid-thing", "test: no UID line")
	}
	return &store.Object{UID: uid, Component: "THING", ContentType: "text/plain; charset=utf-8"}, nil
}

func (thingKind) NewCollection(rq *Request, method string, rtypes []xml.Name) (*store.Collection, bool) {
	for _, rt := range rtypes {
		if rt == tn("things") {
			return &store.Collection{Kind: store.KindCalendar}, method == "MKCOL"
		}
	}
	return nil, false
}

// DataProperty answers T:data with the body; T:data upper="?" is a
// request the kind cannot produce.
func (thingKind) DataProperty(req *Element) (*Property, error) {
	if req.Name != tn("data") {
		return nil, nil
	}
	var reqErr error
	if v, ok := req.AttrValue("upper"); ok && v != "yes" {
		reqErr = Precondition(http.StatusForbidden, nsThing, "supported-data", "test: bad data request")
	}
	return &Property{Name: req.Name, NeedsBody: true, Get: func(rq *Request, res *Resource) (*Element, error) {
		if res.Type != ResObject || res.Object == nil || res.Object.Body == nil {
			return nil, ErrNoProperty
		}
		if reqErr != nil {
			return nil, reqErr
		}
		return TextElement(tn("data"), string(res.Object.Body)), nil
	}}, reqErr
}

func (thingKind) ReportNames() []xml.Name {
	return []xml.Name{tn("query"), tn("multiget"), tn("count"), tn("hello")}
}

// Report plans:
//   - T:query: the members whose body contains T:contains (every member
//     without it; no body is read then), DAV:prop, T:limit; a member whose
//     body contains "FAIL" fails the match with an internal error.
//   - T:multiget: DAV:href and DAV:prop.
//   - T:count: a fold answering "<objects> <bytes>".
//   - T:hello: a finished body.
func (thingKind) Report(rq *Request, res *Resource, body *Element) (Plan, error) {
	switch body.Name {
	case tn("query"):
		p := &QueryPlan{Prop: body.Child(Name("prop"))}
		if l := body.Child(tn("limit")); l != nil {
			n, err := strconv.Atoi(l.Text)
			if err != nil {
				return nil, &Error{Status: http.StatusBadRequest, Message: "test: bad limit"}
			}
			p.Limit = n
		}
		if c := body.Child(tn("contains")); c != nil {
			text := []byte(c.Text)
			p.Match = func(o *store.Object) (bool, error) {
				if bytes.Contains(o.Body, []byte("FAIL")) {
					return false, errors.New("secret: match broke on " + o.Name)
				}
				return bytes.Contains(o.Body, text), nil
			}
		}
		return p, nil
	case tn("multiget"):
		return NewMultigetPlan(body), nil
	case tn("count"):
		return &FoldPlan{Scans: []store.ListObjectsOptions{{}}, Fold: &countFold{}}, nil
	case tn("hello"):
		return &BodyPlan{Status: http.StatusOK, ContentType: "text/plain", Body: []byte("hello")}, nil
	}
	return nil, errors.New("test: unreachable")
}

// countFold counts objects and their body bytes; it fails if the engine
// feeds it an object without its body.
type countFold struct{ n, bytes int }

func (f *countFold) Add(o *store.Object) error {
	if o.Body == nil {
		return errors.New("fold fed an object without body")
	}
	f.n++
	f.bytes += len(o.Body)
	return nil
}

func (f *countFold) Finish() (*BodyPlan, error) {
	return &BodyPlan{ContentType: "text/plain", Body: fmt.Appendf(nil, "%d %d", f.n, f.bytes)}, nil
}
