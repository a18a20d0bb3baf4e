package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// Groups on the admin pages (issue 15): create and delete groups, add and
// remove members. A collection shared with a group is shared with whoever
// is a member at the time, so a change here reaches every share at once.
// The store's group calls are the ones davenport group makes.

type groupRow struct {
	store.Group
	Members []store.User
	Path    string // the group's URL under /web/admin/groups/
}

type groupsData struct {
	Groups []groupRow
	Form   struct{ Name, DisplayName string }
}

func (h *Handler) adminGroups(w http.ResponseWriter, r *http.Request) {
	h.groupsPage(w, r, http.StatusOK, &groupsData{}, "")
}

func (h *Handler) groupsPage(w http.ResponseWriter, r *http.Request, code int, d *groupsData, errMsg string) {
	ctx := r.Context()
	gs, err := h.cfg.Store.ListGroups(ctx)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, g := range gs {
		ms, err := h.cfg.Store.ListGroupMembers(ctx, g.ID)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		d.Groups = append(d.Groups, groupRow{Group: g, Members: ms, Path: Prefix + "admin/groups/" + url.PathEscape(g.Name)})
	}
	s := sessionFrom(ctx)
	s.flash, s.flashOK = errMsg, false
	h.render(w, r, code, "groups", "Groups", "admin", d)
}

func (h *Handler) adminCreateGroup(w http.ResponseWriter, r *http.Request) {
	d := &groupsData{}
	d.Form.Name = strings.TrimSpace(r.PostFormValue("name"))
	d.Form.DisplayName = strings.TrimSpace(r.PostFormValue("displayname"))
	msg := checkUsername(d.Form.Name)
	if msg != "" {
		msg = strings.Replace(msg, "User name", "Group name", 1)
	} else if d.Form.DisplayName != "" {
		msg = checkText("Display name", d.Form.DisplayName, 100, false)
	}
	if msg != "" {
		h.groupsPage(w, r, http.StatusBadRequest, d, msg)
		return
	}
	err := h.cfg.Store.CreateGroup(r.Context(), &store.Group{Name: d.Form.Name, DisplayName: d.Form.DisplayName})
	switch {
	case errors.Is(err, store.ErrConflict):
		h.groupsPage(w, r, http.StatusConflict, d, "There is a group with that name already (names are case-insensitive).")
		return
	case errors.Is(err, store.ErrInvalidUsername):
		h.groupsPage(w, r, http.StatusBadRequest, d, "Group names are written like user names: letters, digits, . _ - and @.")
		return
	case err != nil:
		h.serverError(w, r, err)
		return
	}
	seeOther(w, r, Prefix+"admin/groups", "created")
}

// pathGroup returns the group the path names, or answers 404 and nil.
func (h *Handler) pathGroup(w http.ResponseWriter, r *http.Request) *store.Group {
	g, err := h.cfg.Store.GetGroup(r.Context(), r.PathValue("group"))
	if errors.Is(err, store.ErrInvalidUsername) {
		err = store.ErrNotFound
	}
	if err != nil {
		h.storeError(w, r, err)
		return nil
	}
	return g
}

func (h *Handler) adminDeleteGroup(w http.ResponseWriter, r *http.Request) {
	g := h.pathGroup(w, r)
	if g == nil {
		return
	}
	if store.CanonicalUsername(strings.TrimSpace(r.PostFormValue("confirm"))) != g.Name {
		h.groupsPage(w, r, http.StatusBadRequest, &groupsData{}, "Type the group's name to delete it.")
		return
	}
	if err := h.cfg.Store.DeleteGroup(r.Context(), g.ID); err != nil {
		h.storeError(w, r, err)
		return
	}
	seeOther(w, r, Prefix+"admin/groups", "deleted")
}

func (h *Handler) adminAddMember(w http.ResponseWriter, r *http.Request) {
	g := h.pathGroup(w, r)
	if g == nil {
		return
	}
	u, err := h.cfg.Store.GetUser(r.Context(), strings.TrimSpace(r.PostFormValue("username")))
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalidUsername) {
		h.groupsPage(w, r, http.StatusBadRequest, &groupsData{}, "There is no user with that name.")
		return
	}
	if err == nil {
		err = h.cfg.Store.AddGroupMember(r.Context(), g.ID, u.ID)
	}
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	seeOther(w, r, Prefix+"admin/groups", "saved")
}

func (h *Handler) adminRemoveMember(w http.ResponseWriter, r *http.Request) {
	g := h.pathGroup(w, r)
	if g == nil {
		return
	}
	u, err := h.cfg.Store.GetUser(r.Context(), r.PathValue("user"))
	if errors.Is(err, store.ErrInvalidUsername) {
		err = store.ErrNotFound
	}
	if err == nil {
		err = h.cfg.Store.RemoveGroupMember(r.Context(), g.ID, u.ID)
	}
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	seeOther(w, r, Prefix+"admin/groups", "saved")
}
