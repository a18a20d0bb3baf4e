package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/davenport-dav/davenport/server"
)

// tlsFlags are serve's HTTPS settings: a certificate from files, or one
// obtained with ACME; the redirect from plain HTTP; HSTS.
type tlsFlags struct {
	certFile, keyFile string
	acmeDomains       domainList
	acmeEmail         string
	acmeDirectory     string
	acmeCARoot        string
	acmeCache         string
	redirectListen    string
	hstsMaxAge        time.Duration
}

func (t *tlsFlags) flags(fs *flag.FlagSet) {
	fs.StringVar(&t.certFile, "tls-cert", "", "PEM certificate chain to serve HTTPS with (with --tls-key); re-read when the file changes")
	fs.StringVar(&t.keyFile, "tls-key", "", "PEM private key of --tls-cert")
	fs.Var(&t.acmeDomains, "acme-domain", "serve HTTPS with certificates obtained automatically (ACME, Let's Encrypt) for this `domain`; repeat the flag or separate with commas; accepts the CA's terms of service")
	fs.StringVar(&t.acmeEmail, "acme-email", "", "contact address given to the ACME CA, which writes to it about expiring certificates or problems")
	fs.StringVar(&t.acmeDirectory, "acme-directory", autocert.DefaultACMEDirectory, "directory URL of the ACME CA (Let's Encrypt's staging, a private CA such as step-ca)")
	fs.StringVar(&t.acmeCARoot, "acme-ca-root", "", "PEM file of the CA that signs a private ACME directory's own HTTPS certificate; default: the system's roots")
	fs.StringVar(&t.acmeCache, "acme-cache", "", "directory keeping the ACME account key and certificates across restarts; default: acme/ in the data directory")
	fs.StringVar(&t.redirectListen, "http-redirect-listen", "", "address of a plain-HTTP listener (e.g. :80) that redirects everything to HTTPS and answers ACME's http-01 challenges; off when empty")
	fs.DurationVar(&t.hstsMaxAge, "hsts-max-age", 365*24*time.Hour, "Strict-Transport-Security max-age sent over HTTPS; 0 sends none")
}

func (t *tlsFlags) enabled() bool { return t.certFile != "" || t.acme() }

func (t *tlsFlags) acme() bool { return len(t.acmeDomains) > 0 }

func (t *tlsFlags) validate() error {
	switch {
	case (t.certFile == "") != (t.keyFile == ""):
		return fmt.Errorf("%w: --tls-cert and --tls-key go together", errUsage)
	case t.certFile != "" && t.acme():
		return fmt.Errorf("%w: --tls-cert and --acme-domain exclude each other: certificates come from files or from ACME", errUsage)
	case !t.acme() && (t.acmeEmail != "" || t.acmeCARoot != "" || t.acmeCache != ""):
		return fmt.Errorf("%w: --acme-email, --acme-ca-root and --acme-cache need --acme-domain", errUsage)
	case t.redirectListen != "" && !t.enabled():
		return fmt.Errorf("%w: --http-redirect-listen needs HTTPS: --tls-cert/--tls-key or --acme-domain", errUsage)
	case t.hstsMaxAge < 0:
		return fmt.Errorf("%w: --hsts-max-age must not be negative", errUsage)
	}
	if t.acme() {
		u, err := url.Parse(t.acmeDirectory)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("%w: --acme-directory %q is not an https:// URL", errUsage, t.acmeDirectory)
		}
	}
	return nil
}

// domainList is --acme-domain: repeated, or comma-separated (as the
// environment variable must be), each a host name with at least one dot.
type domainList []string

func (d *domainList) String() string { return strings.Join(*d, ",") }

func (d *domainList) Set(v string) error {
	for _, name := range strings.Split(v, ",") {
		name = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
		switch {
		case name == "":
			continue
		case strings.ContainsAny(name, "/:*@ ") || !strings.Contains(name, "."):
			// ACME issues for DNS names; autocert refuses names without a
			// dot, and wildcards need the DNS-01 challenge it lacks.
			return fmt.Errorf("%q is not a host name such as dav.example.org", name)
		}
		*d = append(*d, name)
	}
	return nil
}

// httpsServing is the TLS side of serve, built from tlsFlags.
type httpsServing struct {
	config *tls.Config
	// challenges answers ACME's http-01 challenges on the redirect
	// listener and passes everything else on; nil without ACME.
	challenges func(next http.Handler) http.Handler
	// prefetch obtains the ACME certificates now rather than at the
	// first handshake; nil without ACME.
	prefetch func(ctx context.Context)
}

// https builds the TLS configuration: a CertFiles reloader, or an autocert
// Manager keeping its account and certificates in the cache directory.
func (t *tlsFlags) https(database string, logger *slog.Logger) (*httpsServing, error) {
	if !t.acme() {
		files, err := server.LoadCertFiles(t.certFile, t.keyFile, logger)
		if err != nil {
			return nil, err
		}
		return &httpsServing{config: &tls.Config{
			GetCertificate: files.GetCertificate,
			NextProtos:     []string{"h2", "http/1.1"},
			MinVersion:     tls.VersionTLS12,
		}}, nil
	}
	cacheDir := t.acmeCache
	if cacheDir == "" {
		cacheDir = filepath.Join(dataDir(database), "acme")
	}
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("acme cache: %w", err)
	}
	httpClient := &http.Client{Timeout: time.Minute}
	if t.acmeCARoot != "" {
		pem, err := os.ReadFile(t.acmeCARoot)
		if err != nil {
			return nil, fmt.Errorf("--acme-ca-root: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--acme-ca-root: %s holds no PEM certificate", t.acmeCARoot)
		}
		httpClient.Transport = &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	m := &autocert.Manager{
		// Using --acme-domain is accepting the CA's terms, as with Caddy
		// and certbot --agree-tos: a server cannot ask at a prompt.
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(cacheDir),
		HostPolicy: autocert.HostWhitelist(t.acmeDomains...),
		Email:      t.acmeEmail,
		Client:     &acme.Client{DirectoryURL: t.acmeDirectory, HTTPClient: httpClient, UserAgent: "davenport/" + version},
	}
	a := &acmeCerts{m: m, domains: t.acmeDomains, log: logger, serials: map[string]string{}}
	logger.Info("acme: certificates from "+t.acmeDirectory, "domains", t.acmeDomains.String(), "cache", cacheDir)
	return &httpsServing{
		config: &tls.Config{
			GetCertificate: a.GetCertificate,
			// acme-tls/1 answers the tls-alpn-01 challenge (RFC 8737) on
			// this listener.
			NextProtos: []string{"h2", "http/1.1", acme.ALPNProto},
			MinVersion: tls.VersionTLS12,
		},
		challenges: a.challenges,
		prefetch:   a.prefetch,
	}, nil
}

// dataDir is where serve keeps its files: the embedded store's directory,
// or ./data (the default store's) with PostgreSQL.
func dataDir(database string) string {
	if db, err := parseDatabase(database); err == nil && !db.postgres {
		return filepath.Dir(db.dsn)
	}
	return filepath.Dir(defaultDatabase)
}

// acmeCerts wraps the autocert Manager to log what it does, which it does
// not itself: the challenges answered, each certificate when it is first
// served (so an issuance and every renewal leave a line with the new
// expiry), and why a certificate could not be had.
type acmeCerts struct {
	m       *autocert.Manager
	domains domainList
	log     *slog.Logger

	mu      sync.Mutex
	serials map[string]string // domain → serial number last served
}

func (a *acmeCerts) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acme.ALPNProto {
		a.log.Info("acme: answering a tls-alpn-01 challenge", "domain", hello.ServerName, "remote", hello.Conn.RemoteAddr().String())
		return a.m.GetCertificate(hello)
	}
	if hello.ServerName == "" {
		// A client that came by IP address sends no name: serve the
		// first domain's certificate rather than failing the handshake.
		h := *hello
		h.ServerName = a.domains[0]
		hello = &h
	}
	cert, err := a.m.GetCertificate(hello)
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	ours := false
	for _, d := range a.domains {
		ours = ours || d == name
	}
	switch {
	case err != nil && ours:
		a.log.Error("acme: no certificate for "+name, "err", err)
	case err != nil:
		a.log.Debug("acme: handshake for a name not in --acme-domain", "name", name, "err", err)
	case cert.Leaf != nil:
		a.noteServed(name, cert.Leaf)
	}
	return cert, err
}

// noteServed logs a certificate the first time it is served for name.
func (a *acmeCerts) noteServed(name string, leaf *x509.Certificate) {
	serial := leaf.SerialNumber.Text(16)
	a.mu.Lock()
	prev := a.serials[name]
	a.serials[name] = serial
	a.mu.Unlock()
	if prev == serial {
		return
	}
	a.log.Info("acme: serving a certificate", "domain", name, "serial", serial, "renewed", prev != "",
		"not_after", leaf.NotAfter.UTC().Format(time.RFC3339), "issuer", leaf.Issuer.CommonName)
}

// challenges serves /.well-known/acme-challenge/ from the Manager's
// http-01 tokens (RFC 8555 §8.3) and passes every other request to next.
func (a *acmeCerts) challenges(next http.Handler) http.Handler {
	h := a.m.HTTPHandler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			// The host policy is about names: a Host with a port (a
			// validation server that names port 80, a forwarded port)
			// is the same name.
			if host, _, err := net.SplitHostPort(r.Host); err == nil {
				r = r.Clone(r.Context())
				r.Host = host
			}
			a.log.Info("acme: answering an http-01 challenge", "domain", r.Host, "remote", r.RemoteAddr)
		}
		h.ServeHTTP(w, r)
	})
}

// prefetch asks for every domain's certificate at start-up, as a client
// handshake would, so that the first client does not wait for the CA and a
// broken set-up shows in the log at once. Failures are logged by
// GetCertificate and retried at the next handshake.
func (a *acmeCerts) prefetch(ctx context.Context) {
	for _, d := range a.domains {
		if ctx.Err() != nil {
			return
		}
		a.GetCertificate(&tls.ClientHelloInfo{
			ServerName: d,
			// What a current client offers: autocert then obtains an
			// ECDSA certificate, as it does for real clients.
			CipherSuites:      []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
			SignatureSchemes:  []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
			SupportedCurves:   []tls.CurveID{tls.CurveP256},
			SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12},
		})
	}
}

// redirectTarget is where the redirect listener sends clients: the origin
// of --base-url when it is https, else the request's host at the HTTPS
// listener's port.
func redirectTarget(baseURL string, tlsAddr net.Addr) (*url.URL, int) {
	port := 443
	if ta, ok := tlsAddr.(*net.TCPAddr); ok {
		port = ta.Port
	}
	if u, err := url.Parse(baseURL); err == nil && u.Scheme == "https" && u.Host != "" {
		return &url.URL{Scheme: "https", Host: u.Host}, port
	}
	return nil, port
}

// serveRedirect runs the plain-HTTP listener of --http-redirect-listen,
// open to everyone by design. It stops with ctx.
func serveRedirect(ctx context.Context, addr string, h http.Handler, logger *slog.Logger) (net.Addr, error) {
	return serveListener(ctx, "http redirect", addr, h, logger, false)
}
