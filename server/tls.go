package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CertCheckInterval is how often, at most, CertFiles looks at its files
// for a change: a renewed certificate is served within this long of being
// written, and a busy server stats its two files no more often than this.
const CertCheckInterval = 2 * time.Second

// CertFiles serves a certificate and key kept in two PEM files (from
// certbot, acme.sh, a company CA) and picks up a new pair without a
// restart: its GetCertificate re-reads the files when their size, time or
// inode has changed since they were last read, looking at most every
// CertCheckInterval. A new pair that does not load (a key that does not
// match, half-written files) is logged once and the previous certificate
// is served on; it is tried again when the files change again, so writing
// the certificate and then the key converges on the new pair.
type CertFiles struct {
	certFile, keyFile string
	log               *slog.Logger
	interval          time.Duration

	cert atomic.Pointer[tls.Certificate]

	mu      sync.Mutex // guards what follows; held by one handshake's check
	checked time.Time
	seen    [2]fileStamp // the files as last tried, loaded or not
	statErr string       // the last error stating them, logged once
}

// fileStamp is what tells a replaced file from the one read before.
type fileStamp struct {
	size  int64
	mtime time.Time
	file  os.FileInfo // for os.SameFile: a file renamed into place is another inode
}

func (a fileStamp) same(b fileStamp) bool {
	return a.size == b.size && a.mtime.Equal(b.mtime) && a.file != nil && b.file != nil && os.SameFile(a.file, b.file)
}

// LoadCertFiles reads the pair once, failing when it does not load: a
// server must not start without a certificate it can serve.
func LoadCertFiles(certFile, keyFile string, logger *slog.Logger) (*CertFiles, error) {
	c := &CertFiles{certFile: certFile, keyFile: keyFile, log: logger, interval: CertCheckInterval}
	st, err := c.stamp()
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: load %s and %s: %w", certFile, keyFile, err)
	}
	c.seen, c.checked = st, time.Now()
	c.cert.Store(&cert)
	c.logLoaded("tls: serving the certificate", &cert)
	return c, nil
}

// GetCertificate is the tls.Config hook: the current certificate, after a
// look at the files when the last look is older than the interval. A
// handshake that finds another one looking serves the current certificate
// without waiting.
func (c *CertFiles) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c.mu.TryLock() {
		c.check()
		c.mu.Unlock()
	}
	return c.cert.Load(), nil
}

// check reloads the pair if the files changed; c.mu is held.
func (c *CertFiles) check() {
	now := time.Now()
	if now.Sub(c.checked) < c.interval {
		return
	}
	c.checked = now
	st, err := c.stamp()
	if err != nil {
		if err.Error() != c.statErr {
			c.statErr = err.Error()
			c.log.Error("tls: cannot read the certificate files; serving the previous certificate", "err", err)
		}
		return
	}
	c.statErr = ""
	if st[0].same(c.seen[0]) && st[1].same(c.seen[1]) {
		return
	}
	c.seen = st
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		c.log.Error("tls: the changed certificate files do not load; serving the previous certificate until they change again",
			"cert", c.certFile, "key", c.keyFile, "err", err)
		return
	}
	c.cert.Store(&cert)
	c.logLoaded("tls: reloaded the certificate", &cert)
}

func (c *CertFiles) stamp() ([2]fileStamp, error) {
	var st [2]fileStamp
	for i, name := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return st, err
		}
		if !fi.Mode().IsRegular() {
			return st, &fs.PathError{Op: "stat", Path: name, Err: errors.New("not a regular file")}
		}
		st[i] = fileStamp{size: fi.Size(), mtime: fi.ModTime(), file: fi}
	}
	return st, nil
}

// logLoaded names the certificate now served, and warns when it is past or
// near its end: clients refuse an expired certificate outright.
func (c *CertFiles) logLoaded(msg string, cert *tls.Certificate) {
	leaf := cert.Leaf // filled by LoadX509KeyPair
	if leaf == nil {
		c.log.Info(msg, "cert", c.certFile)
		return
	}
	attrs := []any{"cert", c.certFile, "names", leaf.DNSNames, "not_after", leaf.NotAfter.UTC().Format(time.RFC3339)}
	switch left := time.Until(leaf.NotAfter); {
	case left <= 0:
		c.log.Error(msg+", which has expired: clients will refuse it", attrs...)
	case left < 14*24*time.Hour:
		c.log.Warn(msg+", which expires soon", attrs...)
	default:
		c.log.Info(msg, attrs...)
	}
}

// HTTPSRedirect answers every request on the plain-HTTP listener with a
// 308 to the same path and query over HTTPS. 308, not 301: a client keeps
// the method and body (RFC 9110 §15.4.9), so a PROPFIND or PUT sent to
// http:// arrives intact at https:// rather than as a GET. The target is
// origin when set (the scheme and host of --base-url); otherwise the
// request's host with port, the HTTPS listener's port (left out when 443).
func HTTPSRedirect(origin *url.URL, port int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := url.URL{Scheme: "https", Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
		switch {
		case origin != nil:
			target.Host = origin.Host
		case r.Host == "":
			http.Error(w, "Use HTTPS, with a Host header.", http.StatusBadRequest)
			return
		default:
			host := (&url.URL{Host: r.Host}).Hostname()
			switch {
			case port != 443:
				host = net.JoinHostPort(host, strconv.Itoa(port))
			case strings.Contains(host, ":"): // an IPv6 literal
				host = "[" + host + "]"
			}
			target.Host = host
		}
		w.Header().Set("Location", target.String())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusPermanentRedirect)
		if r.Method != http.MethodHead {
			fmt.Fprintf(w, "Use HTTPS: %s\n", target.String())
		}
	})
}

// hsts adds Strict-Transport-Security to answers sent over TLS, so that a
// browser or client that reached the server once over HTTPS never sends
// the password over plain HTTP to it again. RFC 6797 §7.2: "An HSTS Host
// MUST NOT include the STS header field in HTTP responses conveyed over
// non-secure transport", so plain requests (behind a proxy that
// terminates TLS, whose job the header is) get none.
func hsts(maxAge time.Duration, next http.Handler) http.Handler {
	if maxAge <= 0 {
		return next
	}
	value := "max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", value)
		}
		next.ServeHTTP(w, r)
	})
}

// quietHandshakes logs net/http's "TLS handshake error" lines at Debug
// instead of Warn: a server facing the internet on 443 gets them all day
// from scanners and from clients that close the connection, and they say
// nothing about this server. ACME failures are logged by the caller's
// GetCertificate with their cause.
type quietHandshakes struct{ slog.Handler }

func (h quietHandshakes) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "http: TLS handshake error") {
		if !h.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}
