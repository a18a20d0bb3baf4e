package web

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/store"
)

// OIDCConfig is an OpenID Connect provider the web UI signs users in with
// (OpenID Connect Core 1.0, authorization code flow, §3.1), with state,
// nonce and PKCE (RFC 7636, S256).
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; its discovery document is read
	// at the first sign-in (and again after a failure).
	Issuer string
	// ClientID and ClientSecret are this server's registration.
	ClientID, ClientSecret string
	// Name is the provider's name on the sign-in button. "" means
	// "single sign-on".
	Name string
	// UsernameClaim names the claim that is the Davenport user name.
	// "" means "preferred_username".
	UsernameClaim string
	// GroupsClaim names the claim listing the user's groups ("" means
	// "groups"); AdminGroup, when set, is the group whose members get the
	// admin role (and lose it when they leave it).
	GroupsClaim, AdminGroup string
	// RedirectURL is the callback registered with the provider:
	// {base URL}/web/oidc/callback. "" derives it from Config.BaseURL or
	// from the request.
	RedirectURL string
	// Client makes the requests to the provider; nil means
	// http.DefaultClient.
	Client *http.Client
}

// OIDCCallbackPath is the redirect URI's path to register with the
// provider.
const OIDCCallbackPath = "/web/oidc/callback"

// oidcCookie carries the state, nonce and PKCE verifier of one sign-in
// from its start to the callback, in the browser that started it (RFC 6749
// §10.12: state binds the callback to the user agent).
const oidcCookie = "davenport_oidc"

// oidcTTL bounds how long a sign-in at the provider may take.
const oidcTTL = 10 * time.Minute

type oidcFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
}

// oidcClient is the provider as discovered.
type oidcClient struct {
	cfg OIDCConfig

	mu       sync.Mutex
	provider *oidc.Provider
}

func (c *oidcClient) name() string {
	if c.cfg.Name == "" {
		return "single sign-on"
	}
	return c.cfg.Name
}

// discover reads the provider's discovery document once it succeeds.
func (c *oidcClient) discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, c.client()), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, c.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	c.provider = p
	return p, nil
}

func (c *oidcClient) client() *http.Client {
	if c.cfg.Client != nil {
		return c.cfg.Client
	}
	return http.DefaultClient
}

func (h *Handler) oauth2Config(r *http.Request, p *oidc.Provider) *oauth2.Config {
	redirect := h.oidc.cfg.RedirectURL
	if redirect == "" {
		redirect = h.baseURL(r) + OIDCCallbackPath
	}
	scopes := []string{oidc.ScopeOpenID, "profile", "email"}
	if h.oidc.cfg.AdminGroup != "" {
		// Authelia and Authentik put the groups claim in the ID token for
		// this scope; Keycloak needs a client scope of that name.
		scopes = append(scopes, "groups")
	}
	return &oauth2.Config{
		ClientID: h.oidc.cfg.ClientID, ClientSecret: h.oidc.cfg.ClientSecret,
		Endpoint: p.Endpoint(), RedirectURL: redirect, Scopes: scopes,
	}
}

// oidcStart sends the browser to the provider.
func (h *Handler) oidcStart(w http.ResponseWriter, r *http.Request) {
	p, err := h.oidc.discover(r.Context())
	if err != nil {
		h.log.WarnContext(r.Context(), "oidc discovery failed", "issuer", h.oidc.cfg.Issuer, "err", err)
		h.oidcFail(w, r, http.StatusServiceUnavailable, "The sign-in provider cannot be reached. Try again in a few minutes.")
		return
	}
	f := oidcFlow{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(), Next: safeNext(r.FormValue("next"))}
	b, _ := json.Marshal(f)
	http.SetCookie(w, &http.Cookie{
		Name: oidcCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/web/oidc/",
		MaxAge: int(oidcTTL.Seconds()), HttpOnly: true, Secure: h.secure(r),
		// Lax: the provider's redirect back is a top-level GET, which
		// carries Lax cookies.
		SameSite: http.SameSiteLaxMode,
	})
	u := h.oauth2Config(r, p).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	http.Redirect(w, r, u, http.StatusFound)
}

// oidcFail answers a sign-in that cannot complete with a page saying why
// and a way back; nothing was provisioned.
func (h *Handler) oidcFail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	h.render(w, r, code, "message", "Sign-in failed", "", struct{ Text string }{msg})
}

// oidcCallback finishes the sign-in: the state must be the one this
// browser was sent with, the code is redeemed with the PKCE verifier, and
// the ID token must be signed by the provider, for this client, unexpired
// and carry this sign-in's nonce (OpenID Connect Core §3.1.3.7).
func (h *Handler) oidcCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var f oidcFlow
	c, err := r.Cookie(oidcCookie)
	if err == nil {
		var b []byte
		if b, err = base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			err = json.Unmarshal(b, &f)
		}
	}
	// One use: whatever happens next, this sign-in's secrets are spent.
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/web/oidc/", MaxAge: -1, HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	if err != nil || f.State == "" || subtle.ConstantTimeCompare([]byte(f.State), []byte(q.Get("state"))) != 1 {
		h.log.InfoContext(ctx, "oidc sign-in refused", "reason", "state mismatch or no sign-in in progress")
		h.oidcFail(w, r, http.StatusBadRequest, "This sign-in was not started here or has expired (state mismatch). Start again from the sign-in page.")
		return
	}
	if e := q.Get("error"); e != "" {
		h.log.InfoContext(ctx, "oidc sign-in refused by the provider", "error", e, "description", q.Get("error_description"))
		h.oidcFail(w, r, http.StatusUnauthorized, "The sign-in provider refused the sign-in ("+e+").")
		return
	}
	p, err := h.oidc.discover(ctx)
	if err != nil {
		h.oidcFail(w, r, http.StatusServiceUnavailable, "The sign-in provider cannot be reached. Try again in a few minutes.")
		return
	}
	pctx := oidc.ClientContext(ctx, h.oidc.client())
	tok, err := h.oauth2Config(r, p).Exchange(pctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		h.log.InfoContext(ctx, "oidc sign-in refused", "reason", "code exchange failed", "err", err)
		h.oidcFail(w, r, http.StatusUnauthorized, "The sign-in provider did not accept this sign-in's code. Start again from the sign-in page.")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		h.oidcFail(w, r, http.StatusUnauthorized, "The sign-in provider sent no identity token.")
		return
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: h.oidc.cfg.ClientID, Now: h.cfg.Now}).Verify(pctx, raw)
	if err != nil {
		h.log.InfoContext(ctx, "oidc sign-in refused", "reason", "invalid id token", "err", err)
		h.oidcFail(w, r, http.StatusUnauthorized, "The identity token from the sign-in provider is not valid (bad signature, wrong audience or expired).")
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		h.log.InfoContext(ctx, "oidc sign-in refused", "reason", "nonce mismatch")
		h.oidcFail(w, r, http.StatusUnauthorized, "The identity token was not issued for this sign-in (nonce mismatch). Start again from the sign-in page.")
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		h.oidcFail(w, r, http.StatusUnauthorized, "The identity token from the sign-in provider cannot be read.")
		return
	}
	u, msg, err := h.oidcUser(ctx, claims)
	switch {
	case err != nil:
		h.serverError(w, r, err)
		return
	case msg != "":
		h.oidcFail(w, r, http.StatusForbidden, msg)
		return
	}
	h.startSession(w, r, u, f.Next)
}

// oidcUser returns the account the provider's claims name, provisioned on
// first sign-in, or a message saying why there is none.
func (h *Handler) oidcUser(ctx context.Context, claims map[string]any) (*store.User, string, error) {
	uc := h.oidc.cfg.UsernameClaim
	if uc == "" {
		uc = "preferred_username"
	}
	name, _ := claims[uc].(string)
	if name == "" {
		h.log.InfoContext(ctx, "oidc sign-in refused", "reason", "no user name claim", "claim", uc)
		return nil, fmt.Sprintf("The identity token has no %q claim to take the user name from.", uc), nil
	}
	if err := store.ValidateUsername(name); err != nil {
		return nil, "The user name " + name + " cannot be used here: " + strings.TrimPrefix(err.Error(), store.ErrInvalidUsername.Error()+": "), nil
	}
	u, err := h.cfg.Store.GetUser(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u = nil
	case err != nil:
		return nil, "", err
	case auth.HasLocalPassword(u):
		// A local account of that name is not the provider's to open:
		// whoever can choose their name at the provider would otherwise
		// take over, say, admin.
		h.log.WarnContext(ctx, "oidc sign-in refused", "reason", "local account of that name", "user", u.Username)
		return nil, "An account named " + u.Username + " with its own password exists here; sign in with its password.", nil
	}
	e := &auth.DirectoryEntry{OIDC: true}
	e.DisplayName, _ = claims["name"].(string)
	if v, ok := claims["email_verified"].(bool); !ok || v {
		e.Email, _ = claims["email"].(string)
	}
	if u, err = h.cfg.Auth.Provision(ctx, name, u, e); err != nil {
		return nil, "", err
	}
	if ag := h.oidc.cfg.AdminGroup; ag != "" {
		gc := h.oidc.cfg.GroupsClaim
		if gc == "" {
			gc = "groups"
		}
		admin := false
		if gs, ok := claims[gc].([]any); ok {
			for _, g := range gs {
				if s, _ := g.(string); s == ag {
					admin = true
				}
			}
		}
		if err := h.cfg.Store.SetUserAdmin(ctx, u.ID, admin); err != nil {
			return nil, "", err
		}
	}
	return u, "", nil
}
