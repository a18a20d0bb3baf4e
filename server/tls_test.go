package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/internal/testcert"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store/testdb"
)

// servedSerial connects to addr as a client of host trusting pool and
// returns the serial number of the certificate it is shown.
func servedSerial(t *testing.T, addr, host string, pool *x509.CertPool) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: host, RootCAs: pool})
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// TestCertFilesReload: a TLS listener serving --tls-cert/--tls-key files
// picks up a replaced pair at the next handshake after the check interval,
// with no restart; a broken replacement (garbage, a key that does not
// match, a missing file) keeps the previous certificate and is logged once;
// fixing the files is picked up again.
func TestCertFilesReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	a, b, c := testcert.Valid(t, "dav.test"), testcert.Valid(t, "dav.test"), testcert.Valid(t, "dav.test")
	pool := testcert.Pool(a, b, c)
	serial := func(p testcert.Pair) string { return p.Leaf.SerialNumber.String() }

	if _, err := server.LoadCertFiles(certFile, keyFile, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("LoadCertFiles without files succeeded")
	}
	testcert.WriteFile(t, certFile, a.CertPEM)
	testcert.WriteFile(t, keyFile, b.KeyPEM)
	if _, err := server.LoadCertFiles(certFile, keyFile, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("LoadCertFiles with a key of another certificate succeeded")
	}

	a.Write(t, certFile, keyFile)
	logs := &safeBuffer{}
	cf, err := server.LoadCertFiles(certFile, keyFile, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: cf.GetCertificate})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()

	if got := servedSerial(t, addr, "dav.test", pool); got != serial(a) {
		t.Fatalf("serves %s, want the first certificate %s", got, serial(a))
	}
	// Within the interval the files are not looked at.
	b.Write(t, certFile, keyFile)
	if got := servedSerial(t, addr, "dav.test", pool); got != serial(a) {
		t.Fatalf("replaced within the check interval: serves %s, want still %s", got, serial(a))
	}
	cf.SetCertCheckInterval(0)

	steps := []struct {
		name   string
		write  func()
		want   testcert.Pair
		logged string // a new error line naming this
	}{
		{"replaced pair", func() {}, b, ""},
		{"garbage certificate", func() { testcert.WriteFile(t, certFile, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n")) }, b, "do not load"},
		{"key of another certificate", func() { c.Write(t, certFile, keyFile); testcert.WriteFile(t, keyFile, a.KeyPEM) }, b, "do not load"},
		{"key removed", func() { os.Remove(keyFile) }, b, "cannot read the certificate files"},
		{"fixed", func() { c.Write(t, certFile, keyFile) }, c, ""},
		{"rewritten in place, same size", func() {
			if err := os.WriteFile(certFile, a.CertPEM, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(keyFile, a.KeyPEM, 0o600); err != nil {
				t.Fatal(err)
			}
		}, a, ""},
	}
	for _, s := range steps {
		before := strings.Count(logs.String(), "level=ERROR")
		s.write()
		for i := 0; i < 3; i++ { // each handshake checks; an error is logged once
			if got := servedSerial(t, addr, "dav.test", pool); got != serial(s.want) {
				t.Fatalf("%s: handshake %d serves %s, want %s\nlog:\n%s", s.name, i, got, serial(s.want), logs)
			}
		}
		errs := strings.Count(logs.String(), "level=ERROR") - before
		switch {
		case s.logged == "" && errs != 0:
			t.Errorf("%s: %d error lines, want none\nlog:\n%s", s.name, errs, logs)
		case s.logged != "" && (errs != 1 || !strings.Contains(lastLine(logs.String()), s.logged)):
			t.Errorf("%s: %d error lines, want one saying %q\nlog:\n%s", s.name, errs, s.logged, logs)
		}
	}
	if n := strings.Count(logs.String(), "reloaded the certificate"); n != 3 {
		t.Errorf("%d reloads logged, want 3 (b, c, a)\nlog:\n%s", n, logs)
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndex(s, "\n")+1:]
}

// TestHTTPSRedirect: the plain-HTTP listener answers every method with 308
// (which keeps the method and body) to the same path and query on HTTPS.
func TestHTTPSRedirect(t *testing.T) {
	base, _ := url.Parse("https://cal.example.org")
	for _, tt := range []struct {
		name, method, host, target string
		origin                     *url.URL
		port                       int
		want                       string
		status                     int
	}{
		{"GET with query, other port", "GET", "dav.example.org", "/web/?a=1&b=%20", nil, 8443, "https://dav.example.org:8443/web/?a=1&b=%20", 308},
		{"PROPFIND keeps method, 443 has no port", "PROPFIND", "dav.example.org:80", "/dav/calendars/alice/", nil, 443, "https://dav.example.org/dav/calendars/alice/", 308},
		{"encoded path kept as sent", "PUT", "dav.example.org", "/dav/calendars/alice/personal/a%2Fb%20c.ics", nil, 443, "https://dav.example.org/dav/calendars/alice/personal/a%2Fb%20c.ics", 308},
		{"IPv6 literal", "GET", "[2001:db8::7]:80", "/", nil, 443, "https://[2001:db8::7]/", 308},
		{"IPv6 literal, other port", "GET", "[2001:db8::7]", "/", nil, 8443, "https://[2001:db8::7]:8443/", 308},
		{"base URL's origin", "GET", "192.0.2.7", "/.well-known/caldav", base, 8443, "https://cal.example.org/.well-known/caldav", 308},
		{"no Host", "GET", "", "/", nil, 443, "", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader("<x/>"))
			req.Host = tt.host
			rec := httptest.NewRecorder()
			server.HTTPSRedirect(tt.origin, tt.port).ServeHTTP(rec, req)
			if rec.Code != tt.status || rec.Header().Get("Location") != tt.want {
				t.Errorf("%s %s (Host %s) = %d %q, want %d %q", tt.method, tt.target, tt.host, rec.Code, rec.Header().Get("Location"), tt.status, tt.want)
			}
			if rec.Header().Get("Strict-Transport-Security") != "" {
				t.Error("HSTS over plain HTTP (RFC 6797 §7.2 forbids it)")
			}
		})
	}
}

// TestHSTS: Strict-Transport-Security is sent on every answer over TLS
// (errors and redirects too), never over plain HTTP, and not at all when
// its max-age is 0.
func TestHSTS(t *testing.T) {
	withHSTS := newEnv(t, testdb.SQLite(t), func(c *server.Config) { c.HSTSMaxAge = 365 * 24 * time.Hour })
	tlsSrv := httptest.NewTLSServer(withHSTS.srv.Config.Handler)
	t.Cleanup(tlsSrv.Close)
	off := httptest.NewTLSServer(newEnv(t, testdb.SQLite(t)).srv.Config.Handler)
	t.Cleanup(off.Close)
	for _, tt := range []struct {
		name string
		srv  *httptest.Server
		path string
		want string
	}{
		{"TLS", tlsSrv, "/healthz", "max-age=31536000"},
		{"TLS, 404", tlsSrv, "/nowhere", "max-age=31536000"},
		{"TLS, redirect", tlsSrv, "/.well-known/caldav", "max-age=31536000"},
		{"TLS, 401", tlsSrv, "/dav/calendars/alice/", "max-age=31536000"},
		{"plain HTTP", withHSTS.srv, "/healthz", ""},
		{"TLS, max-age 0", off, "/healthz", ""},
	} {
		client := tt.srv.Client()
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := client.Get(tt.srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != tt.want {
			t.Errorf("%s: GET %s (%d): Strict-Transport-Security %q, want %q", tt.name, tt.path, resp.StatusCode, got, tt.want)
		}
	}
}

// TestHandshakeErrorsQuiet: a failed TLS handshake (here a plain-HTTP
// request to the TLS port, as scanners send all day) is logged at debug,
// not as a warning.
func TestHandshakeErrorsQuiet(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		logs := &safeBuffer{}
		logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
		st := testdb.SQLite(t)
		a, err := auth.New(st, logger, auth.Options{Params: cheapParams})
		if err != nil {
			t.Fatal(err)
		}
		srv := server.New(server.Config{Store: st, Auth: a, Logger: logger})
		pair := testcert.Valid(t, "127.0.0.1")
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- srv.Run(ctx, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair.Cert}}))
		}()
		resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		ok := waitLog(logs, "TLS handshake error")
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		switch {
		case level == slog.LevelDebug && (!ok || !strings.Contains(logs.String(), "level=DEBUG msg=\"http: TLS handshake error")):
			t.Errorf("at debug, the handshake error is not logged at debug:\n%s", logs)
		case level == slog.LevelInfo && strings.Contains(logs.String(), "handshake"):
			t.Errorf("at info, a handshake error is logged:\n%s", logs)
		}
	}
}

// waitLog waits up to a second for s in logs.
func waitLog(logs *safeBuffer, s string) bool {
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(logs.String(), s) {
			return true
		}
	}
	return false
}
