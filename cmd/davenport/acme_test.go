package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/davenport-dav/davenport/internal/testcert"
)

// acmeDomain is the name the ACME tests obtain certificates for; the
// tests' DNS server resolves every name to 127.0.0.1.
const acmeDomain = "dav.test"

// buildPebble builds Let's Encrypt's test CA, pebble, from the module
// pinned in go.mod (a tool dependency: it is not linked into davenport),
// with `go tool -n`, which keeps the linked binary in the build cache. It
// skips the test, loudly, only when the module cannot be had (no network
// and no module cache); any other build failure fails it.
func buildPebble(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command to build pebble with: %v", err)
	}
	start := time.Now()
	var stderr strings.Builder
	cmd := exec.Command(goCmd, "tool", "-n", "pebble")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := stderr.String()
		for _, unavailable := range []string{"module lookup disabled", "GOPROXY=off", "dial tcp", "no such host",
			"cannot find module", "missing go.sum entry", "reading https://", "Get \"https://"} {
			if strings.Contains(msg, unavailable) {
				t.Skipf("SKIPPED, NOT TESTED: the ACME tests need pebble, whose module is unavailable here "+
					"(fetch it with `go mod download github.com/letsencrypt/pebble/v2`):\n%s", msg)
			}
		}
		t.Fatalf("go tool -n pebble: %v\n%s", err, msg)
	}
	t.Logf("built pebble in %s", time.Since(start).Round(time.Millisecond))
	return strings.TrimSpace(string(out))
}

// freePort returns a loopback TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serveDNS answers, over TCP (pebble's resolver uses TCP), every A query
// with 127.0.0.1 and every other query with no records: the ACME server's
// validation of any name reaches this machine, and nothing leaves it.
func serveDNS(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go answerDNS(c)
		}
	}()
	return l.Addr().String()
}

func answerDNS(c net.Conn) {
	defer c.Close()
	for {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		var n uint16
		if binary.Read(c, binary.BigEndian, &n) != nil {
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(msg)
		if err != nil {
			return
		}
		q, err := p.Question()
		if err != nil {
			return
		}
		b := dnsmessage.NewBuilder(make([]byte, 2, 514), dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
		b.EnableCompression()
		b.StartQuestions()
		b.Question(q)
		b.StartAnswers()
		if q.Type == dnsmessage.TypeA {
			b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}})
		}
		out, err := b.Finish()
		if err != nil {
			return
		}
		binary.BigEndian.PutUint16(out, uint16(len(out)-2))
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// pebbleCA is a running pebble.
type pebbleCA struct {
	directory string         // the ACME directory URL
	wfeCAFile string         // PEM trusted for the directory's own HTTPS (--acme-ca-root)
	roots     *x509.CertPool // the root its certificates chain to
	log       *syncBuffer
}

// startPebble runs pebble with a certificate lifetime of validity seconds,
// validating http-01 at httpPort and tls-alpn-01 at tlsPort of whatever
// address serveDNS gives (127.0.0.1). PEBBLE_VA_NOSLEEP and
// PEBBLE_WFE_NONCEREJECT=0 take out its deliberate delays and nonce
// rejections; PEBBLE_AUTHZREUSE=0 makes every order, renewals too,
// validate afresh.
func startPebble(t *testing.T, bin string, httpPort, tlsPort, validity int) *pebbleCA {
	t.Helper()
	dir := t.TempDir()
	wfe := testcert.Valid(t, "127.0.0.1", "localhost")
	wfe.Write(t, filepath.Join(dir, "wfe.pem"), filepath.Join(dir, "wfe.key"))
	listen, mgmt := freePort(t), freePort(t)
	var cfg struct {
		Pebble map[string]any `json:"pebble"`
	}
	cfg.Pebble = map[string]any{
		"listenAddress":           fmt.Sprintf("127.0.0.1:%d", listen),
		"managementListenAddress": fmt.Sprintf("127.0.0.1:%d", mgmt),
		"certificate":             filepath.Join(dir, "wfe.pem"),
		"privateKey":              filepath.Join(dir, "wfe.key"),
		"httpPort":                httpPort,
		"tlsPort":                 tlsPort,
		"keyAlgorithm":            "ecdsa",
		"retryAfter":              map[string]int{"authz": 1, "order": 1},
		"profiles":                map[string]any{"default": map[string]any{"description": "short-lived, to see renewals", "validityPeriod": validity}},
	}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "pebble.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	p := &pebbleCA{
		directory: fmt.Sprintf("https://127.0.0.1:%d/dir", listen),
		wfeCAFile: filepath.Join(dir, "wfe.pem"),
		log:       &syncBuffer{},
	}
	cmd := exec.Command(bin, "-config", filepath.Join(dir, "pebble.json"), "-dnsserver", serveDNS(t))
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("pebble's log:\n%s", p.log)
		}
	})
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: testcert.Pool(wfe)}}}
	var root []byte
	ready := waitFor(15*time.Second, func() bool {
		resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/roots/0", mgmt))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		root, _ = io.ReadAll(resp.Body)
		return resp.StatusCode == 200
	})
	if !ready {
		t.Fatalf("pebble did not start:\n%s", p.log)
	}
	p.roots = x509.NewCertPool()
	if !p.roots.AppendCertsFromPEM(root) {
		t.Fatalf("pebble's root is not PEM: %q", root)
	}
	return p
}

var reServing = regexp.MustCompile(`acme: serving a certificate"? domain=\S+ serial=(\S+) renewed=(\S+)`)

// TestServeACME obtains a certificate from a local ACME CA (pebble) with
// each challenge a real CA uses, serves it to a client that trusts only
// that CA, and renews it before it expires, all without the internet. In
// "tls-alpn-01" pebble validates on serve's TLS listener; in "http-01" the
// TLS port it validates at is closed, so autocert falls back to http-01
// on the redirect listener, as it must when port 443 is not reachable.
func TestServeACME(t *testing.T) {
	bin := buildPebble(t)
	for _, tc := range []struct {
		name      string
		challenge string
		tlsClosed bool
		validity  int // seconds
	}{
		// Certificates live validity-1 s (pebble ends them a second
		// early); autocert renews a third of the lifetime before the
		// end, which leaves the renewal 3 s here, and 4.7 s for
		// http-01, which first tries tls-alpn-01 again and fails.
		{"tls-alpn-01", "tls-alpn-01", false, 10},
		{"http-01", "http-01", true, 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tlsPort, httpPort := freePort(t), freePort(t)
			validateTLS := tlsPort
			if tc.tlsClosed {
				validateTLS = freePort(t)
			}
			ca := startPebble(t, bin, httpPort, validateTLS, tc.validity)
			data := t.TempDir()
			s := startServe(t, nil, "--listen", fmt.Sprintf("127.0.0.1:%d", tlsPort),
				"--database", filepath.Join(data, "dav.db"),
				"--http-redirect-listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
				"--acme-domain", acmeDomain, "--acme-email", "ops@example.org",
				"--acme-directory", ca.directory, "--acme-ca-root", ca.wfeCAFile)
			if want := "https://" + acmeDomain + ":" + strconv.Itoa(tlsPort) + "/"; !strings.Contains(s.stdout.String(), want) {
				t.Errorf("first run does not show %s:\n%s", want, s.stdout)
			}
			var first []string
			if !waitFor(60*time.Second, func() bool { first = reServing.FindStringSubmatch(s.stderr.String()); return first != nil }) {
				t.Fatalf("no certificate obtained in 60 s\nserve:\n%s", s.stderr)
			}
			if !strings.Contains(s.stderr.String(), "acme: answering an "+tc.challenge) && !strings.Contains(s.stderr.String(), "acme: answering a "+tc.challenge) {
				t.Errorf("no %s challenge answered:\n%s", tc.challenge, s.stderr)
			}
			// The client trusts only pebble's root and checks the name.
			addr := fmt.Sprintf("127.0.0.1:%d", tlsPort)
			resp, err := httpsClient(ca.roots, acmeDomain).Get("https://" + addr + "/healthz")
			if err != nil {
				t.Fatalf("HTTPS with the ACME certificate: %v\nserve:\n%s", err, s.stderr)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" {
				t.Errorf("GET /healthz: %d, Strict-Transport-Security %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
			}
			for _, f := range []string{acmeDomain, "acme_account+key"} {
				if _, err := os.Stat(filepath.Join(data, "acme", f)); err != nil {
					t.Errorf("not in the cache in the data directory: %v", err)
				}
			}
			// Renewal: a new certificate is served, without a restart.
			// It is due before the first one expires, but on a machine
			// loaded enough to delay it past these seconds-long
			// lifetimes the old one is seen expired for a moment.
			var got string
			expired := 0
			renewed := waitFor(30*time.Second, func() bool {
				got, err = peerSerial(addr, acmeDomain, ca.roots)
				var inv x509.CertificateInvalidError
				switch {
				case errors.As(err, &inv) && inv.Reason == x509.Expired:
					expired++
					return false
				case err != nil:
					t.Fatalf("handshake while waiting for the renewal: %v\nserve:\n%s", err, s.stderr)
				}
				return got != first[1]
			})
			if !renewed {
				t.Fatalf("still serving %s after 30 s: not renewed\nserve:\n%s", first[1], s.stderr)
			}
			if expired > 0 {
				t.Logf("the renewal came late: %d handshakes saw the first certificate expired", expired)
			}
			if !regexp.MustCompile(`acme: serving a certificate"? domain=` + regexp.QuoteMeta(acmeDomain) + ` serial=` + got + ` renewed=true`).MatchString(s.stderr.String()) {
				t.Errorf("the renewal to %s is not logged:\n%s", got, s.stderr)
			}
			// The redirect listener still redirects what is not a challenge.
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/dav/", httpPort), nil)
			req.Host = acmeDomain
			resp, err = httpsClient(nil, "").Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if want := "https://" + acmeDomain + ":" + strconv.Itoa(tlsPort) + "/dav/"; resp.StatusCode != 308 || resp.Header.Get("Location") != want {
				t.Errorf("redirect listener: %d %q, want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
			}
			if code := s.stop(); code != 0 {
				t.Errorf("serve exited with %d", code)
			}
			if strings.Contains(s.stderr.String(), "level=ERROR") {
				t.Errorf("errors logged:\n%s", s.stderr)
			}
		})
	}
}
