package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/store"
)

type accountData struct {
	Account      *store.Account
	AppPasswords []store.AppPassword
	// NewPassword is shown once, right after it was made.
	NewPassword, NewLabel string
	// Birthdays: the user has a Birthdays calendar.
	Birthdays bool
	// External: the account has no local password (made by a directory
	// or an OIDC sign-in).
	External bool
}

func (h *Handler) account(w http.ResponseWriter, r *http.Request) {
	h.accountPage(w, r, http.StatusOK, accountData{}, "")
}

func (h *Handler) accountPage(w http.ResponseWriter, r *http.Request, code int, d accountData, errMsg string) {
	s := sessionFrom(r.Context())
	ps, err := h.cfg.Store.ListAppPasswords(r.Context(), s.acct.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d.Account, d.AppPasswords = s.acct, ps
	if d.Birthdays, err = store.BirthdaysOn(r.Context(), h.cfg.Store, s.acct.ID); err != nil {
		h.serverError(w, r, err)
		return
	}
	u, err := h.cfg.Store.GetUserByID(r.Context(), s.acct.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d.External = !auth.HasLocalPassword(u)
	s.flash, s.flashOK = errMsg, false
	if d.NewPassword != "" {
		s.flash, s.flashOK = "App password created. Copy it now: it is shown only once.", true
	}
	h.render(w, r, code, "account", "Account", "account", d)
}

// checkLabel checks an app password's name.
func checkLabel(label string) string { return checkText("Device name", label, 100, true) }

func (h *Handler) createAppPassword(w http.ResponseWriter, r *http.Request) {
	label := r.PostFormValue("label")
	if msg := checkLabel(label); msg != "" {
		h.accountPage(w, r, http.StatusBadRequest, accountData{}, msg)
		return
	}
	pw, _, err := auth.AddAppPassword(r.Context(), h.cfg.Store, sessionFrom(r.Context()).acct.ID, label)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.accountPage(w, r, http.StatusOK, accountData{NewPassword: pw, NewLabel: label}, "")
}

func (h *Handler) revokeAppPassword(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r)
		return
	}
	// Scoped to the signed-in user: another user's id is not found.
	err = h.cfg.Store.DeleteAppPassword(r.Context(), sessionFrom(r.Context()).acct.ID, id)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	seeOther(w, r, "/web/account", "revoked")
}

// checkNewPassword applies the password policy.
func checkNewPassword(pw, again string) string {
	switch {
	case utf8.RuneCountInString(pw) < auth.MinPasswordLen:
		return fmt.Sprintf("The new password must have at least %d characters.", auth.MinPasswordLen)
	case len(pw) > 1024:
		return "The new password is too long."
	case pw != again:
		return "The two new passwords differ."
	}
	return ""
}

// changePassword sets a new account password once the current one is
// given. The current password goes through the Authenticator, so guesses
// here are throttled like any sign-in. Other browsers are signed out and
// this process's cached verifications dropped.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s := sessionFrom(ctx)
	current, pw, again := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("again")
	u, err := h.cfg.Auth.Authenticate(ctx, s.acct.Username, current, h.cfg.Auth.RemoteIP(r))
	var throttled *auth.ThrottledError
	switch {
	case errors.As(err, &throttled):
		h.accountPage(w, r, http.StatusTooManyRequests, accountData{}, "Too many wrong passwords. Try again later.")
		return
	case errors.Is(err, auth.ErrInvalidCredentials):
		h.accountPage(w, r, http.StatusForbidden, accountData{}, "The current password is wrong. Nothing was changed.")
		return
	case err != nil:
		h.serverError(w, r, err)
		return
	}
	if ok, _ := auth.VerifyPassword(u.PasswordHash, current); !ok {
		h.accountPage(w, r, http.StatusForbidden, accountData{}, "The current password is wrong. Nothing was changed.")
		return
	}
	if msg := checkNewPassword(pw, again); msg != "" {
		h.accountPage(w, r, http.StatusBadRequest, accountData{}, msg+" Nothing was changed.")
		return
	}
	if err := auth.SetPassword(ctx, h.cfg.Store, u, pw); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.cfg.Auth.Forget(u.Username)
	if err := h.cfg.Store.DeleteUserSessions(ctx, u.ID, s.id); err != nil {
		h.serverError(w, r, err)
		return
	}
	seeOther(w, r, "/web/account", "password")
}
