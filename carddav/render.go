package carddav

import (
	"encoding/xml"
	"fmt"
	"mime"
	"strconv"
	"strings"

	"github.com/emersion/go-vcard"
)

// DefaultAddressDataVersion is the version an address-data request without
// a version attribute asks for. RFC 6352 §10.4 declares
// <!ATTLIST address-data content-type CDATA "text/vcard" version CDATA
// "3.0">, so a client that names no version (Apple's dataaccessd sends a bare
// <C:address-data/>) gets vCard 3.0, converted if the card was stored as 4.0.
// A 3.0 card is then served as stored.
const DefaultAddressDataVersion = Version3

// AddressDataRequest is CARDDAV:address-data inside DAV:prop of an
// addressbook-query or addressbook-multiget (RFC 6352 §10.4).
type AddressDataRequest struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:carddav address-data"`
	// ContentType defaults to text/vcard, the only type served.
	ContentType string `xml:"content-type,attr,omitempty"`
	// Version defaults to DefaultAddressDataVersion.
	Version string `xml:"version,attr,omitempty"`
	// AllProp asks for every property, as does an element without Props.
	AllProp Flag              `xml:"urn:ietf:params:xml:ns:carddav allprop"`
	Props   []AddressDataProp `xml:"urn:ietf:params:xml:ns:carddav prop"`
}

// AddressDataProp is CARDDAV:prop inside address-data (RFC 6352 §10.4.2).
type AddressDataProp struct {
	// Name is a property name, optionally with a group ("X-ABC.TEL").
	Name    string `xml:"name,attr"`
	NoValue YesNo  `xml:"novalue,attr,omitempty"`
}

// Validate checks the requested media type and version. A request the
// server cannot serve is CARDDAV:supported-address-data-conversion
// (RFC 6352 §5.1.1: when the server cannot convert, it "MUST return the
// CARDDAV:supported-address-data-conversion precondition").
func (r *AddressDataRequest) Validate() error {
	_, err := r.targetVersion()
	return err
}

// targetVersion returns the version to serve.
func (r *AddressDataRequest) targetVersion() (string, error) {
	bad := func(format string, args ...any) error {
		return &QueryError{Condition: CondSupportedAddressDataConv, Reason: fmt.Sprintf(format, args...)}
	}
	version := strings.TrimSpace(r.Version)
	if ct := strings.TrimSpace(r.ContentType); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || (mt != contentTypeVCard && mt != contentTypeXVCard) {
			return "", bad("content-type %q is not text/vcard", r.ContentType)
		}
		if v := params["version"]; v != "" && version == "" {
			version = v
		}
	}
	if version == "" {
		version = DefaultAddressDataVersion
	}
	if version != Version3 && version != Version4 {
		return "", bad("vCard version %q cannot be produced (3.0 and 4.0 can)", version)
	}
	return version, nil
}

// ContentTypeFor is the Content-Type of a vCard body in version v, with the
// version parameter of RFC 6350 §10.1.
func ContentTypeFor(v string) string {
	return "text/vcard; charset=utf-8; version=" + v
}

// Render produces the address data for one card: body is the stored bytes
// and card their parsed form (ParsedCard.Card; only its VERSION is read,
// and it may be nil). With no property selection and the stored version
// requested, the stored bytes come back verbatim. Otherwise the card is
// converted to the requested version and, when CARDDAV:prop elements are
// given, cut down to those properties.
//
// RFC 6352 §10.4 lets the result lack required properties when the client
// did not ask for them ("MAY be invalid per their media type
// specification"); Render nevertheless always keeps VERSION and UID so the
// result stays a usable vCard, and writes novalue properties as their name,
// parameters and a trailing ":" (§10.4.2). When body is empty the card is
// encoded from card, in name order.
func (r *AddressDataRequest) Render(body []byte, card vcard.Card) (out []byte, contentType string, err error) {
	want, err := r.targetVersion()
	if err != nil {
		return nil, "", err
	}
	selecting := len(r.Props) > 0 && !bool(r.AllProp)
	stored := ""
	if card != nil {
		stored = strings.TrimSpace(card.Value("VERSION"))
	}

	var props []property
	if len(body) > 0 {
		if !selecting && stored == want {
			return body, ContentTypeFor(want), nil
		}
		c, err := parseCardLines(body)
		if err != nil {
			return nil, "", fmt.Errorf("carddav: render stored card: %w", err)
		}
		props, stored = c.props, strings.TrimSpace(c.version)
		if !selecting && stored == want {
			return body, ContentTypeFor(want), nil
		}
	} else {
		if card == nil {
			return nil, "", fmt.Errorf("carddav: render: neither body nor card given")
		}
		props = fromCard(card)
	}
	props = convertProps(props, stored, want)
	if selecting {
		props = r.selectProps(props)
	}
	return encodeCard(props, want), ContentTypeFor(want), nil
}

// selectProps keeps the properties the request names. RFC 6352 §10.4.2:
// "When the "name" attribute does not specify a group prefix, it MUST match
// properties in the vCard data without a group prefix or with any group
// prefix. When the "name" attribute includes a group prefix, it MUST match
// properties that have exactly the same group prefix and name."
func (r *AddressDataRequest) selectProps(props []property) []property {
	var out []property
	for _, p := range props {
		if p.name == "VERSION" || p.name == "UID" {
			out = append(out, p)
			continue
		}
		matched, withValue := false, false
		for _, sel := range r.Props {
			group, name := splitPropName(sel.Name)
			if name != p.name || (group != "" && !strings.EqualFold(group, p.group)) {
				continue
			}
			matched = true
			if !sel.NoValue {
				withValue = true
			}
		}
		if !matched {
			continue
		}
		if !withValue {
			p = p.clone()
			p.value = ""
		}
		out = append(out, p)
	}
	return out
}

// NegotiateVersion reads a GET request's Accept header and returns the vCard
// version the client asks for: "4.0" for text/vcard;version=4.0, "3.0" for
// text/vcard;version=3.0 or text/x-vcard, and "" when it states no
// preference (no header, */*, text/*, a bare text/vcard, or a tie between
// the versions), meaning the stored bytes. The media ranges with the
// highest q-value (RFC 9110 §12.5.1) decide; q=0 excludes a range.
func NegotiateVersion(accept string) string {
	bestQ := -1.0
	var best []string // versions at bestQ; "" for no preference
	for _, part := range strings.Split(accept, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		mt, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		q := 1.0
		if qs, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(qs, 64); err != nil {
				continue
			}
		}
		if q <= 0 {
			continue
		}
		var v string
		switch mt {
		case contentTypeVCard:
			v = params["version"]
			if v != "" && v != Version3 && v != Version4 {
				continue
			}
		case contentTypeXVCard:
			v = Version3
		case "text/*", "*/*":
			v = ""
		default:
			continue
		}
		switch {
		case q > bestQ:
			bestQ, best = q, []string{v}
		case q == bestQ:
			best = append(best, v)
		}
	}
	if len(best) == 0 {
		return ""
	}
	v := best[0]
	for _, b := range best[1:] {
		if b != v {
			return ""
		}
	}
	return v
}
