package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/internal/doctor"
	"github.com/davenport-dav/davenport/internal/testcert"
)

var reRedirectListening = regexp.MustCompile(`http redirect listening"? addr=(\S+)`)

// httpsClient trusts pool, shows the server name host whatever address it
// dials, follows no redirects, and speaks HTTP/2 when offered.
func httpsClient(pool *x509.CertPool, host string) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, ServerName: host},
			ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       20 * time.Second,
	}
}

// peerSerial connects to addr as a client of host trusting pool and
// returns the serial number of the certificate it is shown.
func peerSerial(addr, host string, pool *x509.CertPool) (string, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{ServerName: host, RootCAs: pool})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Text(16), nil
}

// waitFor polls cond every 50 ms until it holds or d has passed.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestServeTLSFiles: `serve --tls-cert --tls-key` serves HTTPS (HTTP/2)
// with HSTS, prints an https:// URL on the first run, redirects its plain
// listener with 308, and serves a replaced pair without a restart while a
// broken one leaves the previous certificate in place.
func TestServeTLSFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first, second := testcert.Valid(t, "dav.test", "127.0.0.1"), testcert.Valid(t, "dav.test", "127.0.0.1")
	pool := testcert.Pool(first, second)
	first.Write(t, certFile, keyFile)
	s := startServe(t, nil, "--database", filepath.Join(dir, "dav.db"), "--tls-cert", certFile, "--tls-key", keyFile,
		"--http-redirect-listen", "127.0.0.1:0")
	addr := strings.TrimPrefix(s.url, "http://")
	_, port, _ := net.SplitHostPort(addr)
	if want := "https://localhost:" + port + "/"; !strings.Contains(s.stdout.String(), want) {
		t.Errorf("first run does not show %s:\n%s", want, s.stdout)
	}
	client := httpsClient(pool, "dav.test")

	resp, err := client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Proto != "HTTP/2.0" || resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
		t.Errorf("GET /healthz over TLS: %d %s, Strict-Transport-Security %q; want 200 HTTP/2.0 max-age=31536000",
			resp.StatusCode, resp.Proto, resp.Header.Get("Strict-Transport-Security"))
	}

	m := reRedirectListening.FindStringSubmatch(s.stderr.String())
	if m == nil {
		t.Fatalf("no redirect listener logged:\n%s", s.stderr)
	}
	req, _ := http.NewRequest("PROPFIND", "http://"+m[1]+"/dav/calendars/alice/?x=1", strings.NewReader("<propfind/>"))
	req.Host = "dav.test"
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "https://dav.test:" + port + "/dav/calendars/alice/?x=1"; resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Errorf("PROPFIND on the redirect listener: %d %q, want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}

	serial := func(p testcert.Pair) string { return p.Leaf.SerialNumber.Text(16) }
	if got, err := peerSerial(addr, "dav.test", pool); err != nil || got != serial(first) {
		t.Fatalf("serves %s (%v), want %s", got, err, serial(first))
	}
	// A broken pair (the new certificate with the old key): the old one
	// stays. The files are looked at from handshakes, so keep connecting.
	testcert.WriteFile(t, certFile, second.CertPEM)
	if !waitFor(5*time.Second, func() bool {
		if got, err := peerSerial(addr, "dav.test", pool); err != nil || got != serial(first) {
			t.Fatalf("after a broken replacement: serves %s (%v), want still %s", got, err, serial(first))
		}
		return strings.Contains(s.stderr.String(), "do not load")
	}) {
		t.Fatalf("a mismatched pair was not logged:\n%s", s.stderr)
	}
	// The key follows: the new pair is served, without a restart.
	testcert.WriteFile(t, keyFile, second.KeyPEM)
	var got string
	if !waitFor(5*time.Second, func() bool { got, _ = peerSerial(addr, "dav.test", pool); return got == serial(second) }) {
		t.Fatalf("the replaced pair is not served: %s, want %s\n%s", got, serial(second), s.stderr)
	}
	if code := s.stop(); code != 0 {
		t.Errorf("serve exited with %d", code)
	}
}

// TestDoctorOwnTLS runs the doctor against serve's own TLS listener with
// an expired certificate (a failure), then, reloaded without a restart,
// one that expires in three days (a warning), then a healthy one.
func TestDoctorOwnTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	now := time.Now()
	expired := testcert.New(t, now.Add(-60*24*time.Hour), now.Add(-24*time.Hour), "127.0.0.1")
	expiring := testcert.New(t, now.Add(-60*24*time.Hour), now.Add(3*24*time.Hour), "127.0.0.1")
	healthy := testcert.Valid(t, "127.0.0.1")
	pool := testcert.Pool(expired, expiring, healthy)
	expired.Write(t, certFile, keyFile)
	s := startServe(t, nil, "--database", filepath.Join(dir, "dav.db"), "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.Contains(s.stderr.String(), "which has expired") {
		t.Errorf("serving an expired certificate is not logged as an error:\n%s", s.stderr)
	}
	url := "https://" + strings.TrimPrefix(s.url, "http://") + "/"
	run := func() *doctor.Report {
		t.Helper()
		rep, err := doctor.Run(context.Background(), doctor.Options{URL: url, RootCAs: pool, Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	for _, step := range []struct {
		name     string
		pair     testcert.Pair
		severity doctor.Severity
		what     string
	}{
		{"expired", expired, doctor.Fail, "has expired"},
		{"expiring", expiring, doctor.Warn, "expires in"},
		{"healthy", healthy, -1, ""},
	} {
		if step.name != "expired" {
			step.pair.Write(t, certFile, keyFile)
			want := step.pair.Leaf.SerialNumber.Text(16)
			if !waitFor(5*time.Second, func() bool { got, _ := peerSerial(strings.TrimPrefix(s.url, "http://"), "", pool); return got == want }) {
				t.Fatalf("%s: the new certificate is not served\n%s", step.name, s.stderr)
			}
		}
		rep := run()
		f := rep.Find("tls")
		switch {
		case step.severity < 0 && len(f) != 0:
			t.Errorf("%s: tls findings %+v, want none", step.name, f)
		case step.severity >= 0 && (len(f) != 1 || f[0].Severity != step.severity || !strings.Contains(f[0].What, step.what)):
			var b strings.Builder
			rep.Write(&b)
			t.Errorf("%s: tls findings %+v, want one %s saying %q\n%s", step.name, f, step.severity, step.what, b.String())
		}
		if step.severity < 0 && rep.Failed() {
			var b strings.Builder
			rep.Write(&b)
			t.Errorf("%s: the doctor fails a healthy server:\n%s", step.name, b.String())
		}
	}
}

// TestTLSUsage: conflicting or incomplete TLS flags are usage errors (exit
// 2) before anything is opened.
func TestTLSUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		out  string
	}{
		{[]string{"--tls-cert", "c.pem"}, "go together"},
		{[]string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--acme-domain", "dav.example.org"}, "exclude each other"},
		{[]string{"--acme-email", "a@example.org"}, "need --acme-domain"},
		{[]string{"--http-redirect-listen", ":0"}, "needs HTTPS"},
		{[]string{"--acme-domain", "localhost"}, "not a host name"},
		{[]string{"--acme-domain", "*.example.org"}, "not a host name"},
		{[]string{"--acme-domain", "dav.example.org", "--acme-directory", "http://ca.example.org/dir"}, "not an https:// URL"},
		{[]string{"--hsts-max-age", "-1s", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, "must not be negative"},
	} {
		args := append([]string{"serve", "--listen", "127.0.0.1:0", "--database", filepath.Join(dir, "dav.db")}, tc.args...)
		code, stdout, stderr := runCmd(t, "", args...)
		if code != 2 || !strings.Contains(stdout+stderr, tc.out) {
			t.Errorf("%v = %d %q %q, want 2 mentioning %q", tc.args, code, stdout, stderr, tc.out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "dav.db")); err == nil {
		t.Error("a usage error created the database")
	}
}

// TestDomainList: --acme-domain repeats and takes comma lists, as the
// environment variable must.
func TestDomainList(t *testing.T) {
	var d domainList
	for _, v := range []string{"Dav.Example.org", " cal.example.org., card.example.org ", ""} {
		if err := d.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.String(); got != "dav.example.org,cal.example.org,card.example.org" {
		t.Errorf("domains = %q", got)
	}
}
