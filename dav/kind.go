package dav

import (
	"context"
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// Kind is a collection kind (calendars, address books) plugged into the
// engine. A kind describes; the engine runs: a kind names its collections
// and live properties, validates and indexes what PUT stores, and — through
// the optional interfaces below — turns a REPORT into a Plan, requested data
// elements into properties, and stored bytes into what GET serves. It never
// holds the response writer and never calls back into the engine.
type Kind interface {
	// StoreKind is the kind of store collection it serves.
	StoreKind() store.Kind
	// HomeSegment is the URL segment of its homes ("calendars").
	HomeSegment() string
	// Namespace is the XML namespace of its preconditions (CalDAV, CardDAV).
	Namespace() string
	// ResourceType is the element a collection adds to DAV:collection.
	ResourceType() xml.Name
	// Properties are its live properties.
	Properties() []*Property
	// PrepareObject validates a PUT body for collection c and returns the
	// object to store, with UID, component, span, search text and content
	// type filled (Name, CollectionID, ETag are set by the caller, and Body
	// too unless the kind stores other bytes than were sent). Invalid
	// bodies return an *Error carrying the RFC precondition.
	PrepareObject(rq *Request, c *store.Collection, body []byte, contentType string) (*store.Object, error)
	// NewCollection fills a collection for MKCOL/MKCALENDAR from the
	// request's DAV:set properties; ok is false when the method or the
	// resourcetype does not create this kind.
	NewCollection(rq *Request, method string, resourceType []xml.Name) (c *store.Collection, ok bool)
}

// Reporter is a kind that answers REPORTs of its own besides the engine's
// DAV:sync-collection.
type Reporter interface {
	// ReportNames lists the REPORTs it answers (for supported-report-set);
	// Report is called only for these.
	ReportNames() []xml.Name
	// Report plans the answer to the REPORT whose root element is body on
	// res (a collection or one of its objects). A request the kind refuses
	// returns an error, an *Error for a precondition.
	Report(rq *Request, res *Resource, body *Element) (Plan, error)
}

// DataKind is a kind whose objects' data can be requested as a property
// with parameters (CALDAV:calendar-data, CARDDAV:address-data).
type DataKind interface {
	// DataProperty returns the property answering data element req
	// requested in a prop, or nil when req is not one of its data elements.
	// req is decoded once, here. reportErr is non-nil when req asks for
	// something the kind cannot produce: a query or multiget REPORT then
	// fails as a whole with it, before any object is read, while PROPFIND
	// and sync-collection report the property's own error per object.
	DataProperty(req *Element) (p *Property, reportErr error)
}

// BodyConverter is a kind that serves something other than the stored
// bytes on GET, such as another version asked for by Accept. Without it,
// GET serves the stored bytes with the stored content type.
type BodyConverter interface {
	// ObjectBody returns what GET serves for o (with body loaded).
	ObjectBody(rq *Request, o *store.Object) (body []byte, contentType string, err error)
}

// Masker is a kind whose objects show others less than their owner: a
// calendar's private events. The engine gives every object of a collection
// reached through a share to MaskObject before it is served, rendered,
// matched by a query, folded or copied, so what a sharee cannot read is
// never matched or copied either.
type Masker interface {
	// MaskObject returns o as a user other than its owner sees it; o
	// itself when it hides nothing. Only objects with bodies are passed.
	MaskObject(o *store.Object) *store.Object
}

// Fixed is a kind whose collections the server makes and keeps (the
// scheduling inbox and outbox, RFC 6638 §2.1, §2.2): clients cannot
// delete or move them.
type Fixed interface {
	FixedCollections()
}

func fixed(k Kind) bool {
	_, ok := k.(Fixed)
	return ok
}

// Nester is a kind whose collections nest, as plain WebDAV folders do
// (tree.go): the home is itself a collection (store name ""), a
// collection's store name is its path below the home ("a/b" is a member of
// "a"), and a collection holds objects and collections both. The engine
// resolves paths of any depth in its homes, lists member collections,
// copies, moves and deletes whole trees, and keeps dead properties on
// objects too.
type Nester interface {
	NestedCollections()
}

func nests(k Kind) bool {
	_, ok := k.(Nester)
	return ok
}

// Derived is a kind whose collections the server computes from the user's
// other data (the Birthdays calendar, from their address books). Its
// collections live in the home of the kind that has the same HomeSegment
// and was registered first (they are listed with that kind's collections
// and found by name there); the user may read them and change their
// display properties, never their members (write-content, bind and unbind
// are not granted: PUT and DELETE get DAV:need-privileges, RFC 3744
// §7.1.1), and cannot delete or move them. The engine calls Refresh before
// it serves one or lists its home, so what is served is current.
type Derived interface {
	// Refresh brings c up to date and returns it as it now is.
	Refresh(ctx context.Context, st store.Store, c *store.Collection) (*store.Collection, error)
	// Source is the kind of the collections it is derived from: a write
	// to one of them refreshes the owner's derived collections at once.
	Source() store.Kind
}

// writeMethods change collection members.
var writeMethods = map[string]bool{http.MethodPut: true, http.MethodDelete: true, "MOVE": true, "COPY": true}

// refreshDerivedFrom brings owner's derived collections up to date after a
// write to one of their sources. A failure is logged, not answered: the
// write is done, and the next read of the derived collection catches up.
func (h *Handler) refreshDerivedFrom(ctx context.Context, owner *store.User, source store.Kind) {
	for _, k := range h.Kinds {
		d, ok := k.(Derived)
		if !ok || d.Source() != source || owner == nil {
			continue
		}
		cols, err := h.Store.ListCollections(ctx, owner.ID, k.StoreKind())
		for i := 0; err == nil && i < len(cols); i++ {
			_, err = d.Refresh(ctx, h.Store, &cols[i])
		}
		if err != nil && h.Logger != nil && ctx.Err() == nil {
			h.Logger.Warn("refresh derived collections", "user", owner.Username, "kind", string(k.StoreKind()), "err", err)
		}
	}
}

// Like is a kind that is another in all but how its collections come to
// be (a derived kind): the other's collection properties apply to its
// collections too.
type Like interface {
	Like() Kind
}

// SameKind reports whether a resource of kind got has the collection
// properties of kind k: it is k, or like k.
func SameKind(got, k Kind) bool {
	if got == k {
		return true
	}
	l, ok := got.(Like)
	return ok && l.Like() == k
}

// derivedPrivs are the privileges on a derived collection and its members.
const derivedPrivs = PrivRead | PrivWriteProperties

func derived(k Kind) bool {
	_, ok := k.(Derived)
	return ok
}

// derivedKinds are the derived kinds living in primary's home.
func (h *Handler) derivedKinds(primary Kind) []Kind {
	var out []Kind
	for _, k := range h.Kinds {
		if k != primary && derived(k) && k.HomeSegment() == primary.HomeSegment() {
			out = append(out, k)
		}
	}
	return out
}

// refreshed brings a derived collection up to date before it is served.
func refreshed(ctx context.Context, st store.Store, k Kind, c *store.Collection) (*store.Collection, error) {
	if d, ok := k.(Derived); ok {
		return d.Refresh(ctx, st, c)
	}
	return c, nil
}

// Plan is a kind's answer to a REPORT, for the engine to execute: a
// *QueryPlan, *MultigetPlan, *FoldPlan or *BodyPlan.
type Plan interface{ plan() }

// QueryPlan answers with the members that match: the engine pages the store
// under Options, keeps the candidates Match accepts, renders Prop for each
// and streams the 207. With a Limit, more matches than Limit end the answer
// with a 507 response on the collection (RFC 5323 §5.17, RFC 6352 §8.6.1).
// On an object resource the query is asked of that object only.
type QueryPlan struct {
	// Options narrows the candidates in the store; the engine sets
	// After and Limit to page, and WithBody when Match or Prop need bodies.
	Options store.ListObjectsOptions
	// Match decides membership exactly; nil accepts every candidate (the
	// store's narrowing is then the answer, and no body is read for it).
	// An error ends the REPORT: an *Error for a precondition.
	Match func(o *store.Object) (bool, error)
	// Prop is the request's DAV:prop; nil renders no properties.
	Prop *Element
	// Limit, when positive, bounds the number of responses.
	Limit int
}

// MultigetPlan answers with the named members, read in one query; an href
// that names no member gets a 404 response of its own.
type MultigetPlan struct {
	Hrefs []string // as the client sent them, in order
	Prop  *Element // the request's DAV:prop
}

// NewMultigetPlan is the plan of a multiget REPORT body (RFC 4791 §7.9,
// RFC 6352 §8.7): its DAV:href elements and its DAV:prop.
func NewMultigetPlan(body *Element) *MultigetPlan {
	p := &MultigetPlan{Prop: body.Child(Name("prop"))}
	for _, he := range body.ChildrenNamed(Name("href")) {
		p.Hrefs = append(p.Hrefs, strings.TrimSpace(he.Text))
	}
	return p
}

// FoldPlan answers with one small body computed over many members: the
// engine pages the store under each of Scans in turn, with bodies, and
// feeds every object to Fold.Add; Fold.Finish returns the answer. Memory is
// what the fold keeps, never the objects themselves.
type FoldPlan struct {
	Scans []store.ListObjectsOptions
	Fold  Folder
}

// Folder accumulates a FoldPlan's answer object by object.
type Folder interface {
	// Add folds one object in; an error ends the REPORT.
	Add(o *store.Object) error
	// Finish returns the answer.
	Finish() (*BodyPlan, error)
}

// BodyPlan is a finished small answer: written as it is.
type BodyPlan struct {
	Status      int // 0 means 200
	ContentType string
	Body        []byte
}

func (*QueryPlan) plan()    {}
func (*MultigetPlan) plan() {}
func (*FoldPlan) plan()     {}
func (*BodyPlan) plan()     {}
