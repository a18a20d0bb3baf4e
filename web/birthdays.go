package web

import (
	"net/http"

	"github.com/davenport-dav/davenport/store"
)

// setBirthdays turns the user's Birthdays calendar on or off (issue 17),
// as `davenport user birthdays` does: off removes it from every device at
// its next sync; on brings it back, filled from the address books.
func (h *Handler) setBirthdays(w http.ResponseWriter, r *http.Request) {
	var on bool
	switch r.PostFormValue("birthdays") {
	case "on":
		on = true
	case "off":
	default:
		h.fail(w, r, http.StatusBadRequest, "Choose on or off.")
		return
	}
	var tmpl *store.Collection
	if h.cfg.NewUserCollections != nil {
		for _, c := range h.cfg.NewUserCollections() {
			if c.Kind == store.KindBirthdays {
				tmpl = &c
			}
		}
	}
	if tmpl == nil {
		// The server makes no Birthdays calendars (its kinds lack it).
		h.notFound(w, r)
		return
	}
	if err := store.SetBirthdays(r.Context(), h.cfg.Store, sessionFrom(r.Context()).acct.ID, on, *tmpl); err != nil {
		h.serverError(w, r, err)
		return
	}
	done := "birthdays-off"
	if on {
		done = "birthdays-on"
	}
	seeOther(w, r, Prefix+"account", done)
}
