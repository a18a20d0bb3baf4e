package web

import (
	"net/http"
	"strconv"

	"github.com/davenport-dav/davenport/store"
)

// Delegation and free-busy from the web UI (issue 15): a user makes other
// users or groups their delegates, who see (read) or also change
// (read-write) all of their calendars, or lets them see only their busy
// time (free-busy); and chooses whether every user may see their busy
// time. These are the grants the CalendarServer calendar-proxy groups
// expose to clients (iOS/macOS "Delegation", Thunderbird) and that
// `davenport delegate` manages: a change here shows in the delegate's
// client at its next discovery.

// grantRow is one delegate as the page lists it.
type grantRow struct {
	ID          int64
	Name        string
	DisplayName string
	Group       bool
	Access      store.GrantAccess
}

type delegatesData struct {
	Grants   []grantRow
	Everyone bool // every user may see the busy time
	principalSearch
	// Accesses are the choices of the add form, strongest last.
	Accesses []accessChoice
}

type accessChoice struct {
	Value store.GrantAccess
	Label string
}

var grantChoices = []accessChoice{
	{store.GrantFreeBusy, "Sees free/busy only"},
	{store.GrantRead, "Sees all calendars"},
	{store.GrantReadWrite, "Sees and edits all calendars"},
}

// grantLabel says what a grant lets its grantee do.
func grantLabel(a store.GrantAccess) string {
	for _, c := range grantChoices {
		if c.Value == a {
			return c.Label
		}
	}
	return string(a)
}

func (h *Handler) delegates(w http.ResponseWriter, r *http.Request) {
	h.delegatesPage(w, r, http.StatusOK, "")
}

func (h *Handler) delegatesPage(w http.ResponseWriter, r *http.Request, code int, errMsg string) {
	ctx := r.Context()
	s := sessionFrom(ctx)
	d := delegatesData{Accesses: grantChoices}
	if !h.searchPage(w, r, s.acct.ID, &d.principalSearch, &errMsg) {
		return
	}
	gs, err := h.cfg.Store.ListGrants(ctx, s.acct.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	var n principalNamer
	for _, g := range gs {
		row := grantRow{ID: g.ID, Access: g.Access}
		if row.Name, row.DisplayName, row.Group, err = n.name(ctx, h.cfg.Store, g.UserID, g.GroupID); err != nil {
			h.serverError(w, r, err)
			return
		}
		d.Grants = append(d.Grants, row)
	}
	if d.Everyone, err = h.cfg.Store.FreeBusyEveryone(ctx, s.acct.ID); err != nil {
		h.serverError(w, r, err)
		return
	}
	s.flash, s.flashOK = errMsg, false
	h.render(w, r, code, "delegates", "Delegates and free/busy", "account", d)
}

// addDelegate grants the user or group the form names access to all of
// the user's calendars, or changes the access of an existing grant.
func (h *Handler) addDelegate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	owner := sessionFrom(ctx).acct.ID
	g := store.Grant{OwnerID: owner, Access: store.GrantAccess(r.PostFormValue("access"))}
	if !g.Access.Valid() {
		h.delegatesPage(w, r, http.StatusBadRequest, "Choose what the delegate may do.")
		return
	}
	var err error
	if g.UserID, g.GroupID, err = h.findPrincipal(ctx, r.PostFormValue("grantee")); err != nil {
		h.serverError(w, r, err)
		return
	}
	switch {
	case g.UserID == 0 && g.GroupID == 0:
		h.delegatesPage(w, r, http.StatusBadRequest, "There is no user or group with that name.")
		return
	case g.UserID == owner:
		h.delegatesPage(w, r, http.StatusBadRequest, "You cannot be your own delegate: choose someone else.")
		return
	}
	if err := h.cfg.Store.PutGrant(ctx, &g); err != nil {
		h.storeError(w, r, err)
		return
	}
	seeOther(w, r, Prefix+"delegates", "delegate-added")
}

// removeDelegate removes one of the user's grants.
func (h *Handler) removeDelegate(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r)
		return
	}
	// DeleteGrant is scoped to the owner: another user's grant is not found.
	if err := h.cfg.Store.DeleteGrant(r.Context(), sessionFrom(r.Context()).acct.ID, id); err != nil {
		h.storeError(w, r, err)
		return
	}
	seeOther(w, r, Prefix+"delegates", "delegate-removed")
}

// setFreeBusy chooses whether every user may see the user's busy time, or
// only their delegates and free/busy grantees.
func (h *Handler) setFreeBusy(w http.ResponseWriter, r *http.Request) {
	var everyone bool
	switch r.PostFormValue("everyone") {
	case "yes":
		everyone = true
	case "no":
	default:
		h.delegatesPage(w, r, http.StatusBadRequest, "Choose who may see when you are busy.")
		return
	}
	if err := h.cfg.Store.SetFreeBusyEveryone(r.Context(), sessionFrom(r.Context()).acct.ID, everyone); err != nil {
		h.storeError(w, r, err)
		return
	}
	seeOther(w, r, Prefix+"delegates", "saved")
}
