package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/davenport-dav/davenport/auth"
)

type ctxKey int

const requestIDKey ctxKey = 0

// RequestID returns the id the server gave the request in ctx.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter remembers the status and size of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests gives each request an id and writes one log line when it
// ends. Headers and bodies are not logged: they carry credentials and
// personal data.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		user := &userRecorder{}
		ctx = context.WithValue(ctx, userRecorderKey{}, user)
		sw := &statusWriter{ResponseWriter: w}
		s.metrics.inFlight.Inc()
		next.ServeHTTP(sw, r.WithContext(ctx))
		s.metrics.inFlight.Dec()
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		s.metrics.observe(r.Method, sw.status, r.URL.Path, d)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(ctx, level, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", d),
			slog.String("user", user.name),
			slog.String("remote", r.RemoteAddr),
			slog.String("user_agent", r.UserAgent()),
		)
	})
}

type userRecorderKey struct{}

// userRecorder carries the authenticated user name back out to the log
// line, which is written outside the authentication middleware.
type userRecorder struct{ name string }

// recordUser notes the authenticated user for the request log.
func recordUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := auth.UserFromContext(r.Context()); ok {
			noteUser(r.Context(), u.Username)
		}
		next.ServeHTTP(w, r)
	})
}

// noteUser records name as the request's user for its log line; the web
// UI calls it for the user of a session.
func noteUser(ctx context.Context, name string) {
	if rec, ok := ctx.Value(userRecorderKey{}).(*userRecorder); ok {
		rec.name = name
	}
}

// recover turns a panic into a logged 500 and keeps the server running.
func (s *Server) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// ContextHandler wraps a slog.Handler so that every record logged with a
// request's context carries its request_id.
type ContextHandler struct{ slog.Handler }

func (h ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h ContextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ContextHandler{h.Handler.WithAttrs(as)}
}

func (h ContextHandler) WithGroup(name string) slog.Handler {
	return ContextHandler{h.Handler.WithGroup(name)}
}

// limitInFlight answers 503 with Retry-After, at once, to a request that
// arrives while max requests are already being served (max 0: no limit).
//
// It bounds requests in flight rather than open connections: CalDAV and
// CardDAV clients keep idle keep-alive connections for minutes, which cost
// a goroutine and a socket but no database connection or memory worth
// counting, while every request in flight may hold a database connection,
// a request body and a response being built. A bounded listener would also
// leave clients over the limit waiting silently in the kernel's accept
// queue until their own timeout; a 503 tells them at once to come back.
// /healthz is exempt, so a monitor can still see the server is up.
func (s *Server) limitInFlight(max int, next http.Handler) http.Handler {
	if max <= 0 {
		return next
	}
	slots := make(chan struct{}, max)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		default:
			s.log.WarnContext(r.Context(), "request refused: too many in flight", "max_connections", max)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "server busy, retry later", http.StatusServiceUnavailable)
		}
	})
}
