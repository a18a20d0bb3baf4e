package web

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/store"
)

type signinData struct {
	Username string
	Next     string
	CSRF     string
	// SSO names the OIDC provider of the "Sign in with" button; "" when
	// there is none.
	SSO string
}

// root is the sign-in page, or the user's home when signed in.
func (h *Handler) root(w http.ResponseWriter, r *http.Request) {
	s, err := h.lookup(r)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if s != nil {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	h.signinPage(w, r, http.StatusOK, "", "")
}

func (h *Handler) signinPage(w http.ResponseWriter, r *http.Request, code int, username, errMsg string) {
	token := ""
	if c, err := r.Cookie(loginCSRF); err == nil && len(c.Value) == 43 {
		token = c.Value
	} else {
		token = randomToken()
		h.setCookie(w, r, loginCSRF, token, 3600)
	}
	d := signinData{Username: username, Next: safeNext(r.FormValue("next")), CSRF: token}
	if h.oidc != nil {
		d.SSO = h.oidc.name()
	}
	var buf strings.Builder
	if err := h.pages["signin"].Execute(&buf, pageData{Title: "Sign in", Err: errMsg, Data: d}); err != nil {
		h.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write([]byte(buf.String()))
}

// safeNext keeps a post-sign-in target only when it is a path of the UI.
func safeNext(next string) string {
	if strings.HasPrefix(next, Prefix) && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return Prefix
}

// login checks the user name and password through the Authenticator — the
// same throttling of failed attempts as Basic auth — and starts a session.
// App passwords are for devices: they do not open the web UI, where new
// ones can be made.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	username, password := r.PostFormValue("username"), r.PostFormValue("password")
	c, err := r.Cookie(loginCSRF)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		h.signinPage(w, r, http.StatusForbidden, username, "The sign-in form expired. Please try again.")
		return
	}
	ctx := r.Context()
	u, viaApp, err := h.cfg.Auth.Check(ctx, username, password, h.cfg.Auth.RemoteIP(r))
	var throttled *auth.ThrottledError
	switch {
	case errors.As(err, &throttled):
		secs := int64(math.Ceil(throttled.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", fmt.Sprint(max(secs, 1)))
		h.signinPage(w, r, http.StatusTooManyRequests, username,
			fmt.Sprintf("Too many failed sign-in attempts. Try again in %d seconds.", max(secs, 1)))
		return
	case errors.Is(err, auth.ErrInvalidCredentials):
		h.signinPage(w, r, http.StatusUnauthorized, username, "Wrong user name or password.")
		return
	case errors.Is(err, auth.ErrDirectoryUnavailable):
		w.Header().Set("Retry-After", "30")
		h.signinPage(w, r, http.StatusServiceUnavailable, username,
			"The account directory cannot be reached, so your password cannot be checked. Try again in a few minutes.")
		return
	case err != nil:
		h.serverError(w, r, err)
		return
	}
	if viaApp {
		h.signinPage(w, r, http.StatusUnauthorized, username, "That is an app password. Sign in with your account password.")
		return
	}
	h.startSession(w, r, u, r.PostFormValue("next"))
}

// startSession signs u in to this browser and sends it to next.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, u *store.User, next string) {
	ctx := r.Context()
	if h.cfg.SignedIn != nil {
		h.cfg.SignedIn(ctx, u.Username)
	}
	token := randomToken()
	now := h.cfg.Now()
	if err := h.cfg.Store.CreateSession(ctx, &store.Session{ID: tokenID(token), UserID: u.ID, Created: now, LastSeen: now}); err != nil {
		h.serverError(w, r, err)
		return
	}
	if err := h.cfg.Store.RecordLogin(ctx, u.ID, now); err != nil {
		h.log.WarnContext(ctx, "recording sign-in failed", "err", err)
	}
	h.setCookie(w, r, sessionCookie, token, int(h.cfg.SessionMax.Seconds()))
	h.setCookie(w, r, loginCSRF, "", -1)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.cfg.Store.DeleteSession(r.Context(), sessionFrom(r.Context()).id); err != nil {
		h.serverError(w, r, err)
		return
	}
	h.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
