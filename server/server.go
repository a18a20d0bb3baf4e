package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/caldav"
	"github.com/davenport-dav/davenport/carddav"
	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/files"
	"github.com/davenport-dav/davenport/push"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/web"
)

// Config holds what the server is built from; cmd fills it.
type Config struct {
	Store  store.Store
	Auth   *auth.Authenticator
	Logger *slog.Logger
	// MaxResourceSize bounds one calendar object, vCard or file, in bytes.
	MaxResourceSize int64
	// Quota bounds each user's storage in bytes (RFC 4331); 0 means none.
	Quota int64
	// Version is reported by /healthz.
	Version string
	// MaxResponseBytes and MaxResponseTime bound one 207 answer (0: the
	// dav package's defaults); past them it ends with a 507 response.
	MaxResponseBytes int64
	MaxResponseTime  time.Duration
	// MaxInFlight bounds the requests served at once; more are refused
	// with 503 and Retry-After. 0 means no bound.
	MaxInFlight int
	// PublicTokenLimit and PublicIPLimit bound the requests to public
	// links per token and per client address (publiclimit.go); the zero
	// value means the default.
	PublicTokenLimit, PublicIPLimit PublicLimit
	// BaseURL is the public URL of the server ("" = taken from requests).
	BaseURL string
	// StoreKind names the store on the web UI's status page.
	StoreKind string
	// MaxImportSize bounds a file uploaded to the web UI (0: its default).
	MaxImportSize int64
	// IMIP queues scheduling messages for calendar users elsewhere as
	// email (RFC 6047), for an imip.Sender to send.
	IMIP bool
	// Push, when set, serves WebDAV-Push with this sender (whose worker
	// the caller runs).
	Push *push.Service
	// MetricsToken, when set, serves /metrics on the main listener to
	// requests bearing it (Authorization: Bearer); unset, /metrics is 404
	// there (serve MetricsHandler on a listener of its own instead).
	MetricsToken string
	// HSTSMaxAge, when positive, sends Strict-Transport-Security with
	// this max-age on every answer over TLS (RFC 6797).
	HSTSMaxAge time.Duration
	// OIDC, when set, lets the web UI sign users in with an OpenID
	// Connect provider.
	OIDC *web.OIDCConfig
}

// Server is the HTTP face of Davenport.
type Server struct {
	cfg     Config
	log     *slog.Logger
	dav     *dav.Handler
	web     *web.Handler
	metrics *metrics
	handler http.Handler
}

// New builds the handler tree.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: newMetrics(cfg.Store, cfg.Auth, cfg.Push, cfg.Logger)}
	s.dav = &dav.Handler{
		Store:            newTimedStore(cfg.Store, s.metrics.store),
		Kinds:            Kinds(cfg.IMIP),
		Logger:           cfg.Logger,
		CurrentUser:      auth.UserFromContext,
		MaxResourceSize:  cfg.MaxResourceSize,
		Quota:            cfg.Quota,
		MaxResponseBytes: cfg.MaxResponseBytes,
		MaxResponseTime:  cfg.MaxResponseTime,
	}
	if cfg.Push != nil {
		s.dav.Push = cfg.Push.DAV()
	}
	s.dav.Init()
	s.web = web.New(web.Config{
		Store: cfg.Store, Auth: cfg.Auth, Logger: cfg.Logger, Kinds: s.dav.Kinds, DAV: s.dav,
		BaseURL: cfg.BaseURL, Version: cfg.Version, StoreKind: cfg.StoreKind,
		MaxResourceSize: cfg.MaxResourceSize, MaxImportSize: cfg.MaxImportSize, Quota: cfg.Quota,
		NewUserCollections: DefaultCollections, SignedIn: noteUser, OIDC: cfg.OIDC,
	})

	mux := http.NewServeMux()
	// RFC 6764 §5: the well-known URIs redirect to the context path, for
	// every method and without asking for credentials first.
	for _, p := range []string{"/.well-known/caldav", "/.well-known/carddav"} {
		mux.HandleFunc(p, s.wellKnown)
		mux.HandleFunc(p+"/", s.wellKnown)
	}
	mux.HandleFunc("GET /healthz", s.health)
	mux.Handle("GET /metrics", s.metrics.guarded(cfg.MetricsToken))
	authed := cfg.Auth.Middleware(recordUser(s.dav))
	mux.Handle("/web/", s.web)
	// Public subscription links: the token in the URL is the credential.
	mux.HandleFunc(dav.PublicPrefix, s.limitPublic(s.dav.ServePublic))
	mux.Handle("/dav/", s.davEntry(authed))
	// Some iOS builds skip the redirect and probe / and /principals/
	// (DESIGN.md): both answer current-user-principal.
	mux.Handle("/principals/", s.davEntry(authed))
	mux.Handle("/{$}", s.davEntry(authed))
	s.handler = s.recover(s.logRequests(hsts(cfg.HSTSMaxAge, s.limitInFlight(cfg.MaxInFlight, mux))))
	return s
}

// MetricsHandler serves the Prometheus metrics without a token, for a
// listener of their own (--metrics-listen).
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// davEntry lets OPTIONS through without credentials (it reveals nothing but
// the server's capabilities, and clients probe with it) and sends every
// other method through authentication.
func (s *Server) davEntry(authed http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			s.dav.ServeHTTP(w, r)
			return
		}
		if r.URL.Path == "/" && web.WantsHTML(r) {
			// A browser: the web UI's sign-in page.
			s.web.ServeHTTP(w, r)
			return
		}
		if r.URL.Path == "/" && r.Method == http.MethodGet && r.Header.Get("Authorization") == "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte("Davenport CalDAV/CardDAV server.\nAccount URL for clients: this address.\n"))
			return
		}
		authed.ServeHTTP(w, r)
	})
}

// wellKnown redirects with 307 (RFC 6764 §5 allows 301, 303 or 307): unlike
// 301, a 307 makes every HTTP library resend the PROPFIND with its body —
// python's requests, for one, drops the body on a 301, and a body-less
// PROPFIND is an allprop.
func (s *Server) wellKnown(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, dav.Prefix, http.StatusTemporaryRedirect)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.WarnContext(r.Context(), "health check failed", "err", err)
		w.Header().Set("Retry-After", dav.RetryAfterUnavailable)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"status":"unavailable","database":"unreachable","reason":"` + healthReason(err) + `"}` + "\n"))
		return
	}
	w.Write([]byte(`{"status":"ok","version":"` + jsonEscape(s.cfg.Version) + `"}` + "\n"))
}

// healthReason says in a few words why the database check failed, for
// /healthz: a monitor or an operator reads the cause without the logs. It
// names the kind of failure only, never the database's address, user or
// error text (which may carry either).
func healthReason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer within 3s"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection lost"
	case errors.Is(err, store.ErrUnavailable):
		return "database unavailable (restarting, unreachable or out of resources)"
	}
	return "database error (see the server log)"
}

func jsonEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Run serves on ln until ctx is cancelled, then shuts down gracefully,
// letting requests in flight finish for up to 30 seconds. A listener from
// tls.NewListener serves HTTPS (HTTP/2 when its config offers "h2").
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      10 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(quietHandshakes{s.log.Handler()}, slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Kinds are the collection kinds the server serves, for the engine and for
// commands that write into collections as the server would (import).
// imip is Config.IMIP.
func Kinds(imip bool) []dav.Kind {
	// caldav.Kind before caldav.BirthdaysKind: the calendar home is its,
	// and the Birthdays calendar is like it (dav.Like).
	cal := caldav.Kind{IMIP: imip}
	return []dav.Kind{cal, carddav.Kind{}, caldav.InboxKind{}, caldav.OutboxKind{}, files.Kind{}, caldav.BirthdaysKind{Kind: cal}}
}

// DefaultCollections are what every new account starts with: a calendar
// "Personal" for events and tasks, an address book "Contacts", the
// scheduling inbox and outbox, the files home, and the Birthdays calendar
// (on by default; davenport user birthdays turns it off).
func DefaultCollections() []store.Collection {
	return []store.Collection{
		{Kind: store.KindCalendar, Name: "personal", DisplayName: "Personal", Components: []string{"VEVENT", "VTODO"}},
		{Kind: store.KindAddressBook, Name: "contacts", DisplayName: "Contacts"},
		{Kind: store.KindInbox, Name: caldav.InboxName, DisplayName: "Inbox"},
		{Kind: store.KindOutbox, Name: caldav.OutboxName, DisplayName: "Outbox"},
		{Kind: store.KindFiles, Name: files.HomeName, DisplayName: "Files"},
		caldav.BirthdaysCollection(),
	}
}
