package dav

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// Representer is implemented by a kind that serves an object in other
// representations than its stored bytes (CardDAV: vCard 3.0 as 4.0 and back,
// by Accept or by address-data's version). RFC 9110 §8.8.3: a strong entity
// tag identifies one representation, so each gets its own (see
// RepresentationETag).
type Representer interface {
	// Representations are the content types of every representation the
	// kind may serve an object in besides the stored bytes; an If-Match
	// naming any of them matches the object's current version.
	Representations() []string
}

// RepresentationETag is the strong entity tag (unquoted) of o served as
// contentType: o's stored ETag when contentType is "" or o's own content
// type (the stored bytes), else one derived deterministically from the
// stored ETag and the content type, so it changes whenever the stored bytes
// do and differs between representations.
func RepresentationETag(o *store.Object, contentType string) string {
	if contentType == "" || contentType == o.ContentType {
		return o.ETag
	}
	sum := sha256.Sum256([]byte(o.ETag + "\n" + contentType))
	return hex.EncodeToString(sum[:16])
}

// currentETags are the entity tags of o's current version: the stored
// bytes' and each other representation's the kind serves.
func currentETags(k Kind, o *store.Object) []string {
	tags := []string{o.ETag}
	if rp, ok := k.(Representer); ok {
		for _, ct := range rp.Representations() {
			if t := RepresentationETag(o, ct); t != o.ETag {
				tags = append(tags, t)
			}
		}
	}
	return tags
}

// etagListMatchesAny is etagListMatches against several current tags.
func etagListMatchesAny(header string, tags []string) bool {
	for _, t := range tags {
		if etagListMatches(header, t) {
			return true
		}
	}
	return false
}

// representation sets res.Representation from the data property of pr (an
// address-data asking for another vCard version), so that the response's
// getetag names the representation its data is in.
func (h *Handler) representation(res *Resource, pr *propRequest) {
	if res.Type != ResObject || res.Object == nil || res.Representation != "" {
		return
	}
	for _, el := range pr.names {
		if p := pr.property(h, el); p != nil && p.Representation != nil {
			if ct := p.Representation(res); ct != "" {
				res.Representation = ct
				return
			}
		}
	}
}

// quoteETag quotes an entity tag for the wire.
func quoteETag(t string) string { return `"` + strings.Trim(t, `"`) + `"` }
