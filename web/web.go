package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the UI is built from; server fills it.
type Config struct {
	Store  store.Store
	Auth   *auth.Authenticator
	Logger *slog.Logger
	// Kinds are the collection kinds the DAV handler serves; imports
	// validate through their PrepareObject.
	Kinds []dav.Kind
	// DAV is the DAV handler (it expects the user in the context, as
	// auth.WithUser puts it): a collection's export is its GET.
	DAV http.Handler
	// BaseURL is the public URL of the server ("" = taken from requests).
	BaseURL string
	// Version and StoreKind are shown on the status page.
	Version, StoreKind string
	// MaxResourceSize bounds one item, as for a PUT.
	MaxResourceSize int64
	// MaxImportSize bounds an uploaded file. 0 means 50 MiB.
	MaxImportSize int64
	// Quota bounds each user's storage in bytes, as for a PUT; 0 means
	// none. An import rejects the items that do not fit.
	Quota int64
	// SessionIdle and SessionMax are the idle and absolute lifetimes of a
	// session. 0 means DefaultSessionIdle and DefaultSessionMax.
	SessionIdle, SessionMax time.Duration
	// NewUserCollections are the collections an account made by an
	// administrator starts with.
	NewUserCollections func() []store.Collection
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SignedIn, when set, is told the user name of every request made in
	// a session, before its handler runs: the server's request log names
	// the user of web requests as it does for DAV requests.
	SignedIn func(ctx context.Context, username string)
	// OIDC, when set, adds "Sign in with …" (an OpenID Connect provider)
	// to the sign-in page.
	OIDC *OIDCConfig
}

// Handler serves the UI under /web/ and the sign-in page at /.
type Handler struct {
	cfg     Config
	log     *slog.Logger
	pages   map[string]*template.Template
	mux     *http.ServeMux
	started time.Time
	// searches limits each user's share searches.
	searches searchLimiter
	oidc     *oidcClient // nil without Config.OIDC
}

// Cookie names. The session cookie holds a random token whose SHA-256 is the
// session's id in the store; the pre-session cookie carries the CSRF token
// of the sign-in form (double submit).
const (
	sessionCookie = "davenport_session"
	loginCSRF     = "davenport_login"
)

// Default lifetimes of a session: signed out after a day without use, and
// after 30 days whatever happens.
const (
	DefaultSessionIdle = 24 * time.Hour
	DefaultSessionMax  = 30 * 24 * time.Hour
)

// touchEvery bounds how often a session's last-seen time is written.
const touchEvery = time.Minute

// New builds the UI.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxImportSize == 0 {
		cfg.MaxImportSize = 50 << 20
	}
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	if cfg.SessionMax == 0 {
		cfg.SessionMax = DefaultSessionMax
	}
	if cfg.MaxResourceSize == 0 {
		cfg.MaxResourceSize = 10 << 20
	}
	h := &Handler{cfg: cfg, log: cfg.Logger, started: cfg.Now()}
	if cfg.OIDC != nil {
		h.oidc = &oidcClient{cfg: *cfg.OIDC}
	}
	h.pages = parsePages()
	h.routes()
	return h
}

// Prefix is the URL path of the UI.
const Prefix = "/web/"

func (h *Handler) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /web/static/", http.StripPrefix("/web/static/", staticHandler(http.FileServerFS(static))))
	m.HandleFunc("GET /{$}", h.root)
	m.HandleFunc("POST /web/login", h.login)
	m.HandleFunc("POST /web/logout", h.user(h.logout))
	if h.oidc != nil {
		m.HandleFunc("GET /web/oidc/login", h.oidcStart)
		m.HandleFunc("GET "+OIDCCallbackPath, h.oidcCallback)
	}
	m.HandleFunc("GET /web/{$}", h.user(h.home))
	m.HandleFunc("POST /web/collections", h.user(h.createCollection))
	m.HandleFunc("GET /web/c/{kind}/{name}", h.user(h.collection))
	m.HandleFunc("POST /web/c/{kind}/{name}/edit", h.user(h.editCollection))
	m.HandleFunc("POST /web/c/{kind}/{name}/delete", h.user(h.deleteCollection))
	m.HandleFunc("GET /web/c/{kind}/{name}/export", h.user(h.export))
	m.HandleFunc("POST /web/import", h.user(h.importFile))
	m.HandleFunc("GET /web/c/{kind}/{name}/share", h.user(h.sharePage))
	m.HandleFunc("POST /web/c/{kind}/{name}/shares", h.user(h.addShare))
	m.HandleFunc("POST /web/c/{kind}/{name}/shares/{id}/revoke", h.user(h.revokeShare))
	m.HandleFunc("GET /web/search", h.user(h.search))
	m.HandleFunc("GET /web/c/{kind}/{name}/links", h.user(h.links))
	m.HandleFunc("POST /web/c/{kind}/{name}/links", h.user(h.createLink))
	m.HandleFunc("POST /web/c/{kind}/{name}/links/{id}/revoke", h.user(h.revokeLink))
	m.HandleFunc("GET /web/delegates", h.user(h.delegates))
	m.HandleFunc("POST /web/delegates", h.user(h.addDelegate))
	m.HandleFunc("POST /web/delegates/{id}/remove", h.user(h.removeDelegate))
	m.HandleFunc("POST /web/delegates/free-busy", h.user(h.setFreeBusy))
	m.HandleFunc("POST /web/account/birthdays", h.user(h.setBirthdays))
	m.HandleFunc("GET /web/c/{kind}/{name}/history", h.user(h.collectionHistory))
	m.HandleFunc("GET /web/c/{kind}/{name}/items/{item}", h.user(h.itemHistory))
	m.HandleFunc("POST /web/history/{id}/restore", h.user(h.restoreVersion))
	m.HandleFunc("GET /web/history", h.user(h.history))
	m.HandleFunc("POST /web/history/revert", h.user(h.revertClient))
	m.HandleFunc("POST /web/trash/{id}/restore", h.user(h.restoreCollection))
	m.HandleFunc("GET /web/shared", h.user(h.shared))
	m.HandleFunc("POST /web/shared/{id}/answer", h.user(h.answerInvitation))
	m.HandleFunc("GET /web/account", h.user(h.account))
	m.HandleFunc("POST /web/account/app-passwords", h.user(h.createAppPassword))
	m.HandleFunc("POST /web/account/app-passwords/{id}/revoke", h.user(h.revokeAppPassword))
	m.HandleFunc("POST /web/account/password", h.user(h.changePassword))
	m.HandleFunc("GET /web/push", h.user(h.pushPage))
	m.HandleFunc("POST /web/push/{id}/revoke", h.user(h.revokePush))
	m.HandleFunc("GET /web/connect", h.user(h.connect))
	m.HandleFunc("GET /web/connect/davx5.png", h.user(h.qrCode))
	m.HandleFunc("GET /web/connect/davenport.mobileconfig", h.user(h.mobileconfig))
	m.HandleFunc("POST /web/connect/davenport.mobileconfig", h.user(h.mobileconfig))
	m.HandleFunc("GET /web/admin", h.admin(h.adminUsers))
	m.HandleFunc("POST /web/admin/users", h.admin(h.adminCreateUser))
	m.HandleFunc("POST /web/admin/users/{id}/reset", h.admin(h.adminResetPassword))
	m.HandleFunc("POST /web/admin/users/{id}/delete", h.admin(h.adminDeleteUser))
	m.HandleFunc("GET /web/admin/status", h.admin(h.adminStatus))
	m.HandleFunc("GET /web/admin/groups", h.admin(h.adminGroups))
	m.HandleFunc("POST /web/admin/groups", h.admin(h.adminCreateGroup))
	m.HandleFunc("POST /web/admin/groups/{group}/delete", h.admin(h.adminDeleteGroup))
	m.HandleFunc("POST /web/admin/groups/{group}/members", h.admin(h.adminAddMember))
	m.HandleFunc("POST /web/admin/groups/{group}/members/{user}/remove", h.admin(h.adminRemoveMember))
	m.HandleFunc("/web/", func(w http.ResponseWriter, r *http.Request) { h.notFound(w, r) })
	h.mux = m
}

// ServeHTTP serves the UI with its security headers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	// Everything the pages use comes from this server: no inline script or
	// style (colours are SVG attributes), no frames.
	hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

func staticHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// WantsHTML reports whether a request to / comes from a browser: a GET whose
// Accept names text/html and that carries no credentials. DAV clients keep
// what they got before.
func WantsHTML(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.Header.Get("Authorization") != "" {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// session is the signed-in user of a request.
type session struct {
	id      string
	csrf    string
	acct    *store.Account
	flash   string
	flashOK bool
}

type sessionKey struct{}

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	return s
}

// tokenID is the store id of a session token.
func tokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// csrfFor derives the CSRF token of a session from its secret token: only
// the browser holding the cookie can know it, and nothing is stored.
func csrfFor(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("davenport csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// secure reports whether cookies must be Secure: the public URL is https.
func (h *Handler) secure(r *http.Request) bool {
	if h.cfg.BaseURL != "" {
		return strings.HasPrefix(h.cfg.BaseURL, "https:")
	}
	return r.TLS != nil
}

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure(r),
	})
}

// lookup returns the request's live session, or nil.
func (h *Handler) lookup(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil
	}
	ctx := r.Context()
	id := tokenID(c.Value)
	ss, err := h.cfg.Store.GetSession(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := h.cfg.Now()
	if now.Sub(ss.LastSeen) > h.cfg.SessionIdle || now.Sub(ss.Created) > h.cfg.SessionMax {
		if err := h.cfg.Store.DeleteSession(ctx, id); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if now.Sub(ss.LastSeen) > touchEvery {
		if err := h.cfg.Store.TouchSession(ctx, id, now); err != nil {
			return nil, err
		}
	}
	acct, err := h.cfg.Store.GetAccount(ctx, ss.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &session{id: id, csrf: csrfFor(c.Value), acct: acct}, nil
}

// user wraps a handler that needs a signed-in user; state-changing methods
// must carry the session's CSRF token.
func (h *Handler) user(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := h.lookup(r)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.fail(w, r, http.StatusForbidden, "Your session has ended. Sign in again.")
			return
		}
		if h.cfg.SignedIn != nil {
			h.cfg.SignedIn(r.Context(), s.acct.Username)
		}
		if r.Method == http.MethodPost && !h.checkCSRF(r, s.csrf) {
			h.fail(w, r, http.StatusForbidden, "This form has expired or did not come from this site. Reload the page and try again.")
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	}
}

// admin wraps a handler for administrators only.
func (h *Handler) admin(next http.HandlerFunc) http.HandlerFunc {
	return h.user(func(w http.ResponseWriter, r *http.Request) {
		if !sessionFrom(r.Context()).acct.Admin {
			h.fail(w, r, http.StatusForbidden, "This page is for administrators.")
			return
		}
		next(w, r)
	})
}

// checkCSRF compares the form's token with want in constant time. Multipart
// forms are parsed by their handlers (which stream the file), so the token
// may come as a query parameter of the form's action too.
func (h *Handler) checkCSRF(r *http.Request, want string) bool {
	got := r.URL.Query().Get("csrf")
	if got == "" && !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// baseURL is the public URL of the server, without a trailing slash.
func (h *Handler) baseURL(r *http.Request) string {
	if h.cfg.BaseURL != "" {
		return strings.TrimSuffix(h.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (h *Handler) kind(k store.Kind) dav.Kind {
	for _, dk := range h.cfg.Kinds {
		if dk.StoreKind() == k {
			return dk
		}
	}
	return nil
}
