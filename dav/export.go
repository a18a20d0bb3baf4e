package dav

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/http"
	"strconv"

	"github.com/davenport-dav/davenport/store"
)

// Exporter is implemented by a kind whose collections GET exports as one
// document: a calendar as one text/calendar, an address book as one
// text/vcard (what Radicale and Baïkal users back up with, and move away
// with). The kind describes how to assemble the document; the engine pages
// through the objects and streams it.
type Exporter interface {
	// Export returns the recipe for exporting c, fresh for each request.
	Export(c *store.Collection) *Export
}

// Export is a kind's recipe for a collection export.
type Export struct {
	ContentType string // of the document, e.g. "text/calendar; charset=utf-8"
	Extension   string // of a download's file name, e.g. ".ics"
	// Header is written first and Footer last.
	Header, Footer []byte
	// Object returns what one object (read with its body) contributes
	// between them. It may keep state across the calls of one export
	// (the time zones already written).
	Object func(o *store.Object) ([]byte, error)
}

// exportETag is the entity tag of a collection's export: derived from its
// sync token, which moves with every change of a member, and its update
// time, which also moves when a property the export shows (its name) does.
func exportETag(c *store.Collection) string {
	sum := sha256.Sum256([]byte(SyncToken(c) + "\n" + strconv.FormatInt(c.Updated.UnixMicro(), 10)))
	return hex.EncodeToString(sum[:16])
}

// exportCollection answers GET and HEAD on a collection whose kind exports
// (see Exporter); ok is false when it does not. The body is streamed a page
// of objects at a time, so a collection of any size costs the memory of
// one page. With ?export (browsers), it is offered as a download.
func (h *Handler) exportCollection(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) (ok bool, err error) {
	ex, isExporter := res.Kind.(Exporter)
	if !isExporter || res.Type != ResCollection {
		return false, nil
	}
	c := res.Collection
	etag := exportETag(c)
	if im := r.Header.Get("If-Match"); im != "" && !etagListMatches(im, etag) {
		return true, store.ErrPreconditionFailed
	}
	exp := ex.Export(c)
	hd := w.Header()
	hd.Set("ETag", quoteETag(etag))
	hd.Set("Last-Modified", c.Updated.UTC().Format(http.TimeFormat))
	hd.Set("Content-Type", exp.ContentType)
	if r.URL.Query().Has("export") {
		hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": c.Name + exp.Extension}))
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagListMatches(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return true, nil
	}
	if r.Method == http.MethodHead {
		return true, nil
	}
	// The first page is read before anything is written, so a failing
	// store is still a clean error answer.
	pages, err := h.newObjectPages(rq, res, store.ListObjectsOptions{WithBody: true})
	if err != nil {
		return true, err
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.Write(exp.Header)
	for {
		o, err := pages.next()
		if err == nil && o == nil {
			break
		}
		var part []byte
		if err == nil {
			part, err = exp.Object(view(res, o)) // a sharee exports what they may read
		}
		if err != nil {
			// The 200 has started; the client sees a truncated document.
			h.Logger.ErrorContext(r.Context(), "export failed", "href", res.Href, "err", err)
			bw.Flush()
			return true, nil
		}
		if _, err := bw.Write(part); err != nil {
			return true, nil // the client went away
		}
	}
	bw.Write(exp.Footer)
	bw.Flush()
	return true, nil
}
