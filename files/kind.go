package files

import (
	"encoding/xml"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
)

// Kind is the files kind: plain folders and files.
type Kind struct{}

var (
	_ dav.Kind   = Kind{}
	_ dav.Nester = Kind{}
)

// HomeName is the store name of the folder that is a user's files home.
const HomeName = ""

// NestedCollections: folders nest.
func (Kind) NestedCollections() {}

func (Kind) StoreKind() store.Kind { return store.KindFiles }
func (Kind) HomeSegment() string   { return "files" }
func (Kind) Namespace() string     { return dav.NSDAV }

// ResourceType is none: a folder is a DAV:collection and nothing more.
func (Kind) ResourceType() xml.Name { return xml.Name{} }

// Properties: a folder and a file have the engine's properties only.
func (Kind) Properties() []*dav.Property { return nil }

// defaultContentType is the type of a file PUT without a Content-Type (RFC
// 9110 §8.3: the recipient may assume application/octet-stream).
const defaultContentType = "application/octet-stream"

// PrepareObject accepts any bytes, and keeps the Content-Type the client
// sent as it came: GET answers with it. A new file gets a fresh UID (the
// engine keeps a file's own on overwrites).
func (Kind) PrepareObject(rq *dav.Request, c *store.Collection, body []byte, contentType string) (*store.Object, error) {
	if contentType == "" {
		contentType = defaultContentType
	}
	uid, err := dav.NewUID()
	if err != nil {
		return nil, err
	}
	return &store.Object{UID: uid, ContentType: contentType}, nil
}

// NewCollection makes a plain folder for MKCOL, or for an extended MKCOL
// (RFC 5689) that asks for DAV:collection only.
func (Kind) NewCollection(rq *dav.Request, method string, resourceType []xml.Name) (*store.Collection, bool) {
	if method != "MKCOL" {
		return nil, false
	}
	for _, rt := range resourceType {
		if rt != dav.Name("collection") {
			return nil, false
		}
	}
	return &store.Collection{Kind: store.KindFiles}, true
}
