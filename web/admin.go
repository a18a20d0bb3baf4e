package web

import (
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/store"
)

type adminData struct {
	Accounts []store.Account
	Self     int64
	// Shown once after a create or reset.
	NewUser, NewPassword string
	Form                 struct {
		Username, DisplayName string
		Admin                 bool
	}
}

func (h *Handler) adminUsers(w http.ResponseWriter, r *http.Request) {
	h.adminPage(w, r, http.StatusOK, &adminData{}, "")
}

func (h *Handler) adminPage(w http.ResponseWriter, r *http.Request, code int, d *adminData, errMsg string) {
	s := sessionFrom(r.Context())
	as, err := h.cfg.Store.ListAccounts(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d.Accounts, d.Self = as, s.acct.ID
	s.flash, s.flashOK = errMsg, false
	if d.NewPassword != "" {
		s.flash, s.flashOK = "Password for "+d.NewUser+" set. Pass it on now: it is shown only once.", true
	}
	h.render(w, r, code, "admin", "Users", "admin", d)
}

// checkUsername accepts names a client can send in Basic auth and a URL
// path segment can carry without surprise.
func checkUsername(name string) string {
	switch {
	case name == "":
		return "User name is required."
	case len(name) > 64:
		return "User name is too long."
	case strings.ContainsAny(name, ":/\\<>\"'"):
		return "User name cannot contain : / \\ < > or quotes."
	case strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "User name cannot contain spaces."
	}
	return ""
}

func (h *Handler) adminCreateUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := &adminData{}
	d.Form.Username = strings.TrimSpace(r.PostFormValue("username"))
	d.Form.DisplayName = strings.TrimSpace(r.PostFormValue("displayname"))
	d.Form.Admin = r.PostFormValue("admin") == "yes"
	msg := checkUsername(d.Form.Username)
	if msg == "" && d.Form.DisplayName != "" {
		msg = checkText("Display name", d.Form.DisplayName, 100, false)
	}
	if msg != "" {
		h.adminPage(w, r, http.StatusBadRequest, d, msg)
		return
	}
	pw := auth.GeneratePassword()
	hash, err := auth.HashPassword(pw)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	var cols []store.Collection
	if h.cfg.NewUserCollections != nil {
		cols = h.cfg.NewUserCollections()
	}
	u := &store.User{Username: d.Form.Username, DisplayName: d.Form.DisplayName, PasswordHash: hash}
	err = h.cfg.Store.CreateUser(ctx, u, cols)
	if errors.Is(err, store.ErrConflict) {
		h.adminPage(w, r, http.StatusConflict, d, "A user named "+d.Form.Username+" already exists.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if d.Form.Admin {
		if err := h.cfg.Store.SetUserAdmin(ctx, u.ID, true); err != nil {
			h.serverError(w, r, err)
			return
		}
	}
	h.adminPage(w, r, http.StatusOK, &adminData{NewUser: u.Username, NewPassword: pw}, "")
}

// adminTarget is the account named by the path's id.
func (h *Handler) adminTarget(w http.ResponseWriter, r *http.Request) *store.Account {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r)
		return nil
	}
	a, err := h.cfg.Store.GetAccount(r.Context(), id)
	if err != nil {
		h.storeError(w, r, err)
		return nil
	}
	return a
}

// adminResetPassword gives the user a new generated password, shown once,
// and signs them out everywhere.
func (h *Handler) adminResetPassword(w http.ResponseWriter, r *http.Request) {
	a := h.adminTarget(w, r)
	if a == nil {
		return
	}
	pw := auth.GeneratePassword()
	u := &store.User{ID: a.ID, Username: a.Username}
	if err := auth.SetPassword(r.Context(), h.cfg.Store, u, pw); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.cfg.Auth.Forget(a.Username)
	keep := ""
	if a.ID == sessionFrom(r.Context()).acct.ID {
		keep = sessionFrom(r.Context()).id
	}
	if err := h.cfg.Store.DeleteUserSessions(r.Context(), a.ID, keep); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.adminPage(w, r, http.StatusOK, &adminData{NewUser: a.Username, NewPassword: pw}, "")
}

// adminDeleteUser deletes a user and everything they own once the form
// repeats the user name.
func (h *Handler) adminDeleteUser(w http.ResponseWriter, r *http.Request) {
	a := h.adminTarget(w, r)
	if a == nil {
		return
	}
	switch {
	case a.ID == sessionFrom(r.Context()).acct.ID:
		h.adminPage(w, r, http.StatusBadRequest, &adminData{}, "You cannot delete your own account here.")
		return
	case r.PostFormValue("confirm") != a.Username:
		h.adminPage(w, r, http.StatusBadRequest, &adminData{}, "Type the user name "+a.Username+" to confirm. Nothing was deleted.")
		return
	}
	if err := h.cfg.Store.DeleteUser(r.Context(), a.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.serverError(w, r, err)
		return
	}
	h.cfg.Auth.Forget(a.Username)
	seeOther(w, r, "/web/admin", "deleted")
}

type statusData struct {
	Version, StoreKind string
	Users              int
	Objects, UsedBytes int64
	Uptime             string
	Started            time.Time
	BaseURL, DAVURL    string
	GoVersion          string
	Warnings           []string
}

func (h *Handler) adminStatus(w http.ResponseWriter, r *http.Request) {
	as, err := h.cfg.Store.ListAccounts(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d := statusData{
		Version: h.cfg.Version, StoreKind: h.cfg.StoreKind, Users: len(as),
		Uptime: h.cfg.Now().Sub(h.started).Round(time.Second).String(), Started: h.started,
		BaseURL: h.baseURL(r) + "/", DAVURL: h.baseURL(r) + "/dav/", GoVersion: runtime.Version(),
	}
	for _, a := range as {
		d.Objects += a.Objects
		d.UsedBytes += a.UsedBytes
	}
	if h.cfg.BaseURL == "" {
		if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
			d.Warnings = append(d.Warnings, "No base URL is set, but requests arrive with X-Forwarded-Proto: "+p+
				". Behind a reverse proxy, start the server with --base-url (DAVENPORT_BASE_URL) so that clients and cookies get the public address.")
		}
		if r.TLS == nil && !isLoopback(r.Host) {
			d.Warnings = append(d.Warnings, "This page was reached over plain HTTP. Passwords cross the network readable; put the server behind HTTPS.")
		}
	}
	h.render(w, r, http.StatusOK, "status", "Status", "admin", d)
}

func isLoopback(host string) bool {
	h := host
	if i := strings.LastIndex(h, ":"); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	h = strings.Trim(h, "[]")
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1"
}
