package web

import (
	"net/http"
	"net/url"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/dav"
)

// export serves a whole collection as one .ics or .vcf download. It is the
// DAV handler's GET on the collection (dav.Exporter: every object's
// components, each VTIMEZONE once, streamed a page at a time), asked with
// ?export so that it comes as an attachment: the browser's session stands
// in for the Basic credentials a client would send.
func (h *Handler) export(w http.ResponseWriter, r *http.Request) {
	c := h.ownCollection(w, r)
	if c == nil {
		return
	}
	u, err := h.cfg.Store.GetUserByID(r.Context(), sessionFrom(r.Context()).acct.ID)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	href := dav.CollectionHref(h.kind(c.Kind), u.Username, c.Name)
	path, err := url.PathUnescape(href)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	dr := r.Clone(auth.WithUser(r.Context(), u))
	dr.URL.Path, dr.URL.RawPath, dr.URL.RawQuery = path, href, "export"
	dr.RequestURI = href + "?export"
	h.cfg.DAV.ServeHTTP(w, dr)
}
