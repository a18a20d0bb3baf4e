package carddav

import (
	"fmt"
	"mime"
	"strings"

	"github.com/davenport-dav/davenport/internal/collate"
	"github.com/davenport-dav/davenport/internal/contentline"
	"github.com/emersion/go-vcard"
)

// Namespace is the CardDAV XML namespace (RFC 6352 §11).
const Namespace = "urn:ietf:params:xml:ns:carddav"

// Precondition names of RFC 6352 §5.1.1.1, §6.3.2.1 and §8.6 (in Namespace)
// that this package reports through ValidationError and QueryError.
const (
	CondValidAddressData         = "valid-address-data"
	CondSupportedAddressData     = "supported-address-data"
	CondSupportedAddressDataConv = "supported-address-data-conversion"
	CondSupportedFilter          = "supported-filter"
	CondSupportedCollation       = "supported-collation"
)

// Versions of vCard this package stores and converts between.
const (
	Version3 = "3.0"
	Version4 = "4.0"
)

const (
	contentTypeVCard  = "text/vcard"
	contentTypeXVCard = "text/x-vcard"
)

// ValidationError is a refused PUT (or COPY/MOVE) body. Condition names the
// RFC 6352 §6.3.2.1 precondition the glue reports in its error body;
// Reason is for the log, never for the client.
type ValidationError struct {
	Condition string // CondValidAddressData or CondSupportedAddressData
	Reason    string
}

func (e *ValidationError) Error() string {
	return "carddav: " + e.Condition + ": " + e.Reason
}

// ParsedCard is a validated vCard and what the store indexes of it.
type ParsedCard struct {
	// Card holds the properties in go-vcard's form (Field.Value with \\, \n
	// and \, resolved, \; kept), without BEGIN and END.
	Card vcard.Card
	// UID is the UID property's value as written; RFC 6352 §6.3.2.1
	// no-uid-conflict compares it within the address book.
	UID string
	// Version is "3.0" or "4.0".
	Version string
	// SearchText is the text the store prefilters addressbook-query on,
	// folded by collate.FoldUnicode; see Filter.SearchTerms.
	SearchText string
	// Body is what to store: the body as sent, without a byte order mark.
	Body []byte
}

// ParseCard validates a PUT body and its Content-Type header ("" skips the
// media-type check, for stored bodies) and returns the parsed card. A *ValidationError reports which precondition failed. It
// never panics, whatever the bytes.
func ParseCard(body []byte, contentType string) (*ParsedCard, error) {
	if err := checkContentType(contentType); err != nil {
		return nil, err
	}
	invalid := func(format string, args ...any) error {
		return &ValidationError{Condition: CondValidAddressData, Reason: fmt.Sprintf(format, args...)}
	}
	// parseCardLines also checks UTF-8 (RFC 6350 §3.1: "The charset ...
	// for vCard is UTF-8"; checkContentType refused any other) line by
	// line after unfolding, so that a card folded in the middle of a
	// multi-octet character by a byte-counting exporter is still accepted.
	// A UTF-8 byte order mark before BEGIN:VCARD (some Windows exporters
	// write one) has no place in RFC 6350's grammar. Accept it, and store
	// and serve the card without it, so that no other client has to cope
	// with it.
	body, _ = contentline.TrimBOM(body)
	c, err := parseCardLines(body)
	if err != nil {
		return nil, invalid("%v", err)
	}
	var versions, fns, uids int
	uid := ""
	for i := range c.props {
		p := &c.props[i]
		switch p.name {
		case "VERSION":
			versions++
		case "FN":
			fns++
		case "UID":
			uids++
			uid = contentline.UnescapeText(p.value)
		}
	}
	// RFC 6350 §6.7.9 and RFC 2426 §3.6.9: VERSION MUST be present, once.
	if versions != 1 {
		return nil, invalid("VERSION must appear exactly once, found %d", versions)
	}
	version := strings.TrimSpace(c.version)
	if version != Version3 && version != Version4 {
		// RFC 6352 §5.1 requires vCard 3.0 support; we store 4.0 too and
		// advertise both in supported-address-data. 2.1 and others are not
		// address data we can serve.
		return nil, &ValidationError{Condition: CondSupportedAddressData, Reason: fmt.Sprintf("vCard version %q is not supported (3.0 and 4.0 are)", c.version)}
	}
	// RFC 6350 §6.2.1 (FN cardinality 1*) and RFC 2426 §3.1.1: "The FN type
	// MUST be present in the vCard object."
	if fns == 0 {
		return nil, invalid("FN is missing")
	}
	// RFC 6352 §5.1: address object resources "MUST contain a UID property
	// value"; RFC 6350 §6.7.6 allows at most one. Apple Contacts, DAVx5 and
	// Thunderbird always write one (Apple and DAVx5 derive the resource name
	// from it); cards without one come from hand-made files and old
	// exporters, and a server that accepted them could not answer
	// no-uid-conflict or match the card after another client rewrote it.
	if uids != 1 || strings.TrimSpace(uid) == "" {
		if uids > 1 {
			return nil, invalid("UID appears %d times", uids)
		}
		return nil, invalid("UID is missing: RFC 6352 §5.1 requires one")
	}
	return &ParsedCard{
		Card:       toCard(c.props),
		UID:        uid,
		Version:    version,
		SearchText: searchText(c.props),
		Body:       body,
	}, nil
}

// storedCard reads a card the store holds (validated when it was PUT): its
// properties for filter matching and its version, without validating it
// again or building its search text — the per-candidate work of a query.
func storedCard(body []byte) (vcard.Card, string, error) {
	c, err := parseCardLines(body)
	if err != nil {
		return nil, "", err
	}
	return toCard(c.props), strings.TrimSpace(c.version), nil
}

// checkContentType accepts text/vcard and the older text/x-vcard with no
// charset or charset=utf-8 and, when a version parameter is present, 3.0 or
// 4.0 (RFC 6350 §10.1). Anything else is RFC 6352 §6.3.2.1
// (CARDDAV:supported-address-data): "The resource submitted in the PUT
// request ... MUST be a supported media type (i.e., vCard) for address
// object resources." An empty contentType is not checked: callers pass ""
// for stored bodies (checked when they were PUT) and a PUT without a
// Content-Type header is judged by its body alone.
func checkContentType(contentType string) error {
	if strings.TrimSpace(contentType) == "" {
		return nil
	}
	unsupported := func(format string, args ...any) error {
		return &ValidationError{Condition: CondSupportedAddressData, Reason: fmt.Sprintf(format, args...)}
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return unsupported("content type %q does not parse: %v", contentType, err)
	}
	if mt != contentTypeVCard && mt != contentTypeXVCard {
		return unsupported("content type %q is not text/vcard", mt)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return unsupported("charset %q is not utf-8", cs)
	}
	if v, ok := params["version"]; ok && v != Version3 && v != Version4 {
		return unsupported("media type version %q is not 3.0 or 4.0", v)
	}
	return nil
}

// searchProps are the properties whose values go into SearchText: what
// clients search by (RFC 6352 §8.6.3/§8.6.4 examples use NICKNAME, FN,
// EMAIL) and what a person would look a contact up by.
var searchProps = map[string]bool{
	"FN": true, "N": true, "NICKNAME": true, "EMAIL": true, "TEL": true,
	"ORG": true, "ADR": true, "NOTE": true, "CATEGORIES": true, "UID": true,
	"TITLE": true, "ROLE": true, "URL": true, "IMPP": true, "KIND": true,
	"X-ADDRESSBOOKSERVER-KIND": true,
}

// IsSearchIndexed reports whether the values of the property name (without
// a group) are part of SearchText, so that a filter on it may narrow in SQL.
func IsSearchIndexed(name string) bool {
	return searchProps[strings.ToUpper(name)]
}

// searchText joins the folded match text of every indexed property, one
// line each. It uses exactly the text Filter.Match compares (matchText of
// the go-vcard value) so that SearchTerms stays a sound prefilter.
func searchText(props []property) string {
	var b strings.Builder
	for i := range props {
		p := &props[i]
		if !searchProps[p.name] {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(collate.FoldUnicode(matchText(goValue(p.value))))
	}
	return b.String()
}
