package carddav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/internal/collate"
	"github.com/davenport-dav/davenport/store"
)

// Kind plugs address books into the dav engine (RFC 6352).
type Kind struct{}

var (
	_ dav.Kind        = Kind{}
	_ dav.Representer = Kind{}
	_ dav.Exporter    = Kind{}
)

func card(local string) xml.Name { return xml.Name{Space: dav.NSCardDAV, Local: local} }

func (Kind) StoreKind() store.Kind  { return store.KindAddressBook }
func (Kind) HomeSegment() string    { return "addressbooks" }
func (Kind) Namespace() string      { return dav.NSCardDAV }
func (Kind) ResourceType() xml.Name { return card("addressbook") }

func (Kind) ReportNames() []xml.Name {
	return []xml.Name{card("addressbook-multiget"), card("addressbook-query")}
}

// Properties are the CardDAV live properties of principals and address books.
func (k Kind) Properties() []*dav.Property {
	return []*dav.Property{
		// RFC 6352 §7.1.1.
		{Name: card("addressbook-home-set"), Get: dav.PrincipalProp(func(u *store.User) (*dav.Element, error) {
			return dav.HrefElement(card("addressbook-home-set"), dav.HomeHref(k, u.Username)), nil
		})},
		// RFC 6352 §6.2.1.
		{Name: card("addressbook-description"), Get: dav.CollectionProp(k, func(c *store.Collection) (*dav.Element, error) {
			if c.Description == "" {
				return nil, dav.ErrNoProperty
			}
			return dav.TextElement(card("addressbook-description"), c.Description), nil
		}), Set: func(p *store.CollectionPatch, el *dav.Element) error {
			s := ""
			if el != nil {
				s = el.Text
			}
			p.Description = &s
			return nil
		}},
		// RFC 6352 §6.2.2: vCard 3.0 and 4.0 are both served.
		{Name: card("supported-address-data"), Get: dav.CollectionProp(k, func(c *store.Collection) (*dav.Element, error) {
			e := dav.NewElement(card("supported-address-data"))
			for _, v := range []string{"3.0", "4.0"} {
				e.Children = append(e.Children, &dav.Element{Name: card("address-data-type"), Attr: []xml.Attr{
					{Name: xml.Name{Local: "content-type"}, Value: "text/vcard"}, {Name: xml.Name{Local: "version"}, Value: v}}})
			}
			return e, nil
		})},
		dav.MaxResourceSizeProperty(k),
		// RFC 6352 §8.3.1: the collations text-match accepts, on the
		// collections that answer addressbook-query.
		{Name: card("supported-collation-set"), Get: dav.CollectionProp(k, func(c *store.Collection) (*dav.Element, error) {
			e := dav.NewElement(card("supported-collation-set"))
			for _, name := range collate.Names() {
				e.Children = append(e.Children, dav.TextElement(card("supported-collation"), name))
			}
			return e, nil
		})},
	}
}

// NewCollection makes an address book for an extended MKCOL whose
// resourcetype names CARDDAV:addressbook (RFC 6352 §6.3.1, RFC 5689).
func (Kind) NewCollection(rq *dav.Request, method string, rtypes []xml.Name) (*store.Collection, bool) {
	if method != "MKCOL" {
		return nil, false
	}
	ok := false
	for _, rt := range rtypes {
		switch rt {
		case card("addressbook"):
			ok = true
		case dav.Name("collection"):
		default:
			return nil, false
		}
	}
	if !ok {
		return nil, false
	}
	return &store.Collection{Kind: store.KindAddressBook}, true
}

// PrepareObject validates a vCard (RFC 6352 §5.1) and indexes it.
func (Kind) PrepareObject(rq *dav.Request, c *store.Collection, body []byte, contentType string) (*store.Object, error) {
	p, err := ParseCard(body, contentType)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return nil, dav.Precondition(http.StatusForbidden, dav.NSCardDAV, ve.Condition, "carddav: "+ve.Reason)
		}
		return nil, err
	}
	return &store.Object{
		UID:         p.UID,
		Component:   "VCARD",
		ContentType: "text/vcard; charset=utf-8",
		SearchText:  p.SearchText,
		Body:        p.Body,
	}, nil
}

// DataProperty answers CARDDAV:address-data requested in a prop (RFC 6352
// §10.4): the stored bytes, or the selected properties, in the version the
// client asks for.
//
// RFC 6352 §8.6 and §8.7 set a precondition on both REPORTs
// (CARDDAV:supported-address-data): "The attributes "content-type" and
// "version" of the CARDDAV:address-data XML element (see Section 10.4)
// specify a media type supported by the server for address object
// resources." A request for a media type the server never produces fails
// the REPORT as a whole: that is the error returned beside the property.
func (Kind) DataProperty(req *dav.Element) (*dav.Property, error) {
	if req.Name != card("address-data") {
		return nil, nil
	}
	var adr AddressDataRequest
	reqErr := req.Decode(&adr)
	if reqErr == nil {
		reqErr = adr.Validate()
	}
	var reportErr error
	if reqErr != nil {
		reportErr = dav.Precondition(http.StatusForbidden, dav.NSCardDAV, CondSupportedAddressData, "carddav: address-data: "+reqErr.Error())
	}
	representation := func(res *dav.Resource) string {
		// The version this request serves the card in, when it is not
		// the stored one: the response's getetag is then that
		// representation's (RFC 9110 §8.8.3).
		if reqErr != nil || res.Object == nil || res.Object.Body == nil {
			return ""
		}
		want, err := adr.targetVersion()
		if err != nil || want == sniffVersion(res.Object.Body) {
			return ""
		}
		return ContentTypeFor(want)
	}
	return &dav.Property{Name: req.Name, NeedsBody: true, Representation: representation, Get: func(rq *dav.Request, res *dav.Resource) (*dav.Element, error) {
		if res.Type != dav.ResObject || res.Object == nil || res.Object.Body == nil {
			return nil, dav.ErrNoProperty
		}
		if reqErr != nil {
			return nil, queryError(reqErr)
		}
		// Render reads the version from the body itself; a full ParseCard
		// (validation, search text) would only repeat work done at PUT.
		out, _, err := adr.Render(res.Object.Body, nil)
		if err != nil {
			// A stored card that no longer parses cannot be converted or
			// cut down. RFC 6352 §5.1.1: the failure to convert is reported
			// "in the DAV:response XML element ... for the targeted address
			// object resource", and the rest of the 207 stands.
			return nil, dav.Precondition(http.StatusForbidden, dav.NSCardDAV, CondSupportedAddressDataConv, err.Error())
		}
		return dav.TextElement(card("address-data"), string(out)), nil
	}}, reportErr
}

// Representations are the vCard versions a card may be served in besides
// its stored bytes (dav.Representer): an If-Match with the ETag a client
// got for either version matches the card's current version.
func (Kind) Representations() []string {
	return []string{ContentTypeFor(Version3), ContentTypeFor(Version4)}
}

// sniffVersion returns the VERSION of a stored card without parsing it
// whole (VERSION is a short, unfolded line near the top); a card where it
// is not found that way is parsed.
func sniffVersion(body []byte) string {
	rest := body
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if len(line) >= 8 && bytes.EqualFold(line[:8], []byte("VERSION:")) {
			return strings.TrimSpace(string(line[8:]))
		}
	}
	_, v, _ := storedCard(body)
	return v
}

// checkAddressData enforces the precondition RFC 6352 §8.6 and §8.7 set on
// both REPORTs (CARDDAV:supported-address-data): "The attributes
// "content-type" and "version" of the CARDDAV:address-data XML element
// (see Section 10.4) specify a media type supported by the server for
// address object resources." A request for a media type the server never
// produces fails as a whole, before any member is read.
func checkAddressData(prop *dav.Element) error {
	for _, el := range prop.ChildrenNamed(card("address-data")) {
		var adr AddressDataRequest
		err := el.Decode(&adr)
		if err == nil {
			err = adr.Validate()
		}
		if err != nil {
			return dav.Precondition(http.StatusForbidden, dav.NSCardDAV, CondSupportedAddressData, "carddav: address-data: "+err.Error())
		}
	}
	return nil
}

// queryError maps a QueryError to its precondition: 403 with the CARDDAV
// element it names, or 400 when none applies.
func queryError(err error) error {
	var qe *QueryError
	if errors.As(err, &qe) && qe.Condition != "" {
		return dav.Precondition(http.StatusForbidden, dav.NSCardDAV, qe.Condition, qe.Error())
	}
	return &dav.Error{Status: http.StatusBadRequest, Message: "carddav: " + err.Error()}
}

// Report plans the CardDAV REPORTs, on an address book or one card (RFC
// 6352 §8.6, §8.7).
func (Kind) Report(rq *dav.Request, res *dav.Resource, body *dav.Element) (dav.Plan, error) {
	if body.Name == card("addressbook-multiget") {
		return dav.NewMultigetPlan(body), nil
	}
	return addressbookQuery(body)
}

// addressbookQuery plans addressbook-query (RFC 6352 §8.6): the store
// prefilters on the indexed search text, the exact §10.5 filter runs on the
// candidates, and CARDDAV:limit cuts the answer with a 507 (§8.6.1).
func addressbookQuery(body *dav.Element) (dav.Plan, error) {
	var f Filter
	if fe := body.Child(card("filter")); fe != nil {
		if err := fe.Decode(&f); err != nil {
			return nil, queryError(err)
		}
	}
	if err := f.Validate(); err != nil {
		return nil, queryError(err)
	}
	plan := &dav.QueryPlan{Options: store.ListObjectsOptions{SearchText: f.SearchTerms()}, Prop: body.Child(dav.Name("prop"))}
	if le := body.Child(card("limit")); le != nil {
		// RFC 6352 §10.6: <!ELEMENT limit (nresults)>, a positive integer.
		nr := le.Child(card("nresults"))
		if nr == nil {
			return nil, &dav.Error{Status: http.StatusBadRequest, Message: "carddav: limit without nresults"}
		}
		n, err := strconv.Atoi(strings.TrimSpace(nr.Text))
		if err != nil || n < 1 {
			return nil, &dav.Error{Status: http.StatusBadRequest, Message: "carddav: bad nresults " + strconv.Quote(nr.Text)}
		}
		plan.Limit = n
	}
	if len(f.PropFilters) > 0 {
		plan.Match = func(o *store.Object) (bool, error) {
			card, _, err := storedCard(o.Body)
			if err != nil {
				return false, nil // stored cards were validated; one that no longer parses cannot match
			}
			return f.Match(card), nil
		}
	}
	return plan, nil
}

// ObjectBody serves the stored bytes verbatim, unless the client asks for
// the other vCard version by Accept (RFC 6352 §5.1.1): then it is
// converted.
func (Kind) ObjectBody(rq *dav.Request, o *store.Object) ([]byte, string, error) {
	want := NegotiateVersion(rq.HTTP.Header.Get("Accept"))
	if want == "" {
		return o.Body, "text/vcard; charset=utf-8", nil
	}
	_, version, err := storedCard(o.Body)
	if err != nil || version == want {
		return o.Body, "text/vcard; charset=utf-8", nil
	}
	out, err := Convert(o.Body, want)
	if err != nil {
		return nil, "", err
	}
	return out, ContentTypeFor(want), nil
}

// Export assembles an address book into one text/vcard document (GET on
// the address book): the cards one after the other, each as stored (RFC
// 6350 §3.3: a vCard stream is a sequence of vCards; each keeps its own
// VERSION).
func (Kind) Export(c *store.Collection) *dav.Export {
	return &dav.Export{
		ContentType: "text/vcard; charset=utf-8",
		Extension:   ".vcf",
		Object: func(o *store.Object) ([]byte, error) {
			if bytes.HasSuffix(o.Body, []byte("\n")) {
				return o.Body, nil
			}
			return append(append([]byte(nil), o.Body...), '\r', '\n'), nil
		},
	}
}
