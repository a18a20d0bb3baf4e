package web

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
)

// Public links of a calendar (issue 15): an unguessable URL that serves the
// calendar read-only to anybody who has it, without signing in, with
// private events masked (dav/public.go). The owner makes as many as they
// like (one per place it is published) and revokes each. The same store
// calls as `davenport link add|list|remove`.

// linkRow is one public link as the page shows it.
type linkRow struct {
	ID  int64
	URL string // https://…/public/TOKEN.ics
	// Webcal is the same as webcal://, which calendar applications
	// subscribe to: built here from the base URL and the token, so it is
	// marked safe for the template's href (which allows http(s) only).
	Webcal  template.URL
	Created time.Time
}

type linksData struct {
	C     collectionRow
	Links []linkRow
}

// ownCalendar is ownCollection for the pages that only calendars have.
func (h *Handler) ownCalendar(w http.ResponseWriter, r *http.Request) *store.Collection {
	c := h.ownCollection(w, r)
	if c != nil && c.Kind != store.KindCalendar {
		h.notFound(w, r)
		return nil
	}
	return c
}

// links lists a calendar's public links.
func (h *Handler) links(w http.ResponseWriter, r *http.Request) {
	c := h.ownCalendar(w, r)
	if c == nil {
		return
	}
	ls, err := h.cfg.Store.ListPublicLinks(r.Context(), c.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d := linksData{C: h.row(r, *c, store.CollectionTotals{})}
	base := h.baseURL(r)
	for _, l := range ls {
		u := base + dav.PublicLinkPath(l.Token)
		d.Links = append(d.Links, linkRow{ID: l.ID, URL: u, Webcal: template.URL("webcal" + strings.TrimPrefix(strings.TrimPrefix(u, "https"), "http")), Created: l.Created})
	}
	h.render(w, r, http.StatusOK, "links", "Public links of "+displayName(c), "home", d)
}

// createLink makes a new public link of the calendar.
func (h *Handler) createLink(w http.ResponseWriter, r *http.Request) {
	c := h.ownCalendar(w, r)
	if c == nil {
		return
	}
	if _, err := dav.NewPublicLink(r.Context(), h.cfg.Store, c.ID); err != nil {
		h.storeError(w, r, err)
		return
	}
	seeOther(w, r, h.row(r, *c, store.CollectionTotals{}).WebPath+"/links", "link-created")
}

// revokeLink revokes one public link of the calendar: whoever has its URL
// gets 404 from now on.
func (h *Handler) revokeLink(w http.ResponseWriter, r *http.Request) {
	c := h.ownCalendar(w, r)
	if c == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r)
		return
	}
	// DeletePublicLink is scoped to the collection, which is the user's own.
	if err := h.cfg.Store.DeletePublicLink(r.Context(), c.ID, id); err != nil {
		h.storeError(w, r, err)
		return
	}
	seeOther(w, r, h.row(r, *c, store.CollectionTotals{}).WebPath+"/links", "link-revoked")
}
