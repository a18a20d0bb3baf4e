package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/internal/doctor"
	"github.com/davenport-dav/davenport/internal/testcert"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// doctorHost is the name the doctor's tests give the proxy; their resolver
// maps it to loopback.
const doctorHost = "dav.test"

// fakeResolver answers DNS for the doctor's tests from a table.
type fakeResolver struct {
	srv map[string]*net.SRV // by service ("caldavs")
	txt map[string][]string // by full name
}

func (f fakeResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if host == doctorHost {
		return []string{"127.0.0.1"}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (f fakeResolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	if s := f.srv[service]; s != nil {
		return "_" + service + "._" + proto + "." + name, []*net.SRV{s}, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (f fakeResolver) LookupTXT(_ context.Context, name string) ([]string, error) {
	if t, ok := f.txt[name]; ok {
		return t, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// selfSigned makes a certificate for doctorHost valid from notBefore to
// notAfter, and a pool that trusts it.
func selfSigned(t *testing.T, notBefore, notAfter time.Time) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	p := testcert.New(t, notBefore, notAfter, doctorHost)
	return p.Cert, testcert.Pool(p)
}

// brokenProxy is a reverse proxy in front of the real server, broken (or
// not) by its options.
type brokenProxy struct {
	dropHeader   string        // removed from every request
	wellKnownTo  string        // /.well-known/caldav redirects here instead of through
	maxBody      int64         // larger bodies are refused with 413
	certValidFor time.Duration // from now; negative: expired
	mountedAt    string        // a path prefix the proxy strips: the server does not know it
}

func (b brokenProxy) start(t *testing.T, backend string) (*httptest.Server, *x509.CertPool) {
	t.Helper()
	target, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, b.mountedAt); ok && b.mountedAt != "" {
			r.URL.Path = "/" + rest
		}
		if b.dropHeader != "" {
			r.Header.Del(b.dropHeader)
		}
		if b.wellKnownTo != "" && strings.HasPrefix(r.URL.Path, "/.well-known/caldav") {
			http.Redirect(w, r, b.wellKnownTo, http.StatusFound)
			return
		}
		if b.maxBody > 0 && r.ContentLength > b.maxBody {
			http.Error(w, "413 Request Entity Too Large", http.StatusRequestEntityTooLarge)
			return
		}
		rp.ServeHTTP(w, r)
	})
	valid := b.certValidFor
	if valid == 0 {
		valid = 90 * 24 * time.Hour
	}
	now := time.Now()
	notBefore := now.Add(-time.Hour)
	if valid < 0 {
		notBefore = now.Add(valid - 30*24*time.Hour)
	}
	cert, pool := selfSigned(t, notBefore, now.Add(valid))
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, pool
}

// TestDoctor runs davenport doctor against the real server behind a
// healthy proxy and behind proxies broken the ways real set-ups are: each
// broken one must give its finding and no other, the healthy one none.
func TestDoctor(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		cases := []struct {
			name     string
			proxy    brokenProxy
			srvPort  int           // SRV record port; 0: the right one
			skew     time.Duration // the doctor's clock ahead of the server's
			want     string        // the one check with a finding; "" for none
			severity doctor.Severity
		}{
			{name: "healthy"},
			{name: "drops Depth", proxy: brokenProxy{dropHeader: "Depth"}, want: "depth", severity: doctor.Fail},
			{name: "drops Destination", proxy: brokenProxy{dropHeader: "Destination"}, want: "destination", severity: doctor.Fail},
			{name: "drops If-Match", proxy: brokenProxy{dropHeader: "If-Match"}, want: "if-match", severity: doctor.Fail},
			{name: "drops Authorization", proxy: brokenProxy{dropHeader: "Authorization"}, want: "authorization", severity: doctor.Fail},
			{name: "wrong well-known redirect", proxy: brokenProxy{wellKnownTo: "/caldav/"}, want: "well-known-caldav", severity: doctor.Fail},
			{name: "well-known redirect off the host", proxy: brokenProxy{wellKnownTo: "http://" + doctorHost + "/dav/"}, want: "well-known-caldav", severity: doctor.Fail},
			{name: "expired certificate", proxy: brokenProxy{certValidFor: -24 * time.Hour}, want: "tls", severity: doctor.Fail},
			{name: "certificate expiring soon", proxy: brokenProxy{certValidFor: 3 * 24 * time.Hour}, want: "tls", severity: doctor.Warn},
			{name: "refuses large bodies", proxy: brokenProxy{maxBody: 256 << 10}, want: "large-body", severity: doctor.Fail},
			{name: "mounted under a path", proxy: brokenProxy{mountedAt: "/cal/"}, want: "base-url", severity: doctor.Fail},
			{name: "wrong SRV port", srvPort: 1, want: "srv", severity: doctor.Fail},
			{name: "clock skew", skew: 5 * time.Minute, want: "clock", severity: doctor.Warn},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				px, pool := tc.proxy.start(t, e.srv.URL)
				_, portStr, _ := net.SplitHostPort(px.Listener.Addr().String())
				port, _ := strconv.Atoi(portStr)
				srvPort := port
				if tc.srvPort != 0 {
					srvPort = tc.srvPort
				}
				path := "/"
				if tc.proxy.mountedAt != "" {
					path = tc.proxy.mountedAt
				}
				res := fakeResolver{
					srv: map[string]*net.SRV{"caldavs": {Target: doctorHost + ".", Port: uint16(srvPort)}},
					txt: map[string][]string{"_caldavs._tcp." + doctorHost: {"path=" + path}},
				}
				rep, err := doctor.Run(t.Context(), doctor.Options{
					URL:  fmt.Sprintf("https://%s:%d%s", doctorHost, port, path),
					User: "alice", Password: alicePassword,
					Resolver: res, RootCAs: pool,
					Now: func() time.Time { return time.Now().Add(tc.skew) },
				})
				if err != nil {
					t.Fatal(err)
				}
				var out strings.Builder
				rep.Write(&out)
				found := false
				for _, f := range rep.Findings {
					if f.Severity == doctor.Info {
						continue
					}
					if f.Check != tc.want {
						t.Errorf("unexpected finding %s %s: %s", f.Severity, f.Check, f.What)
						continue
					}
					if f.Severity == tc.severity && f.Why != "" && f.Fix != "" {
						found = true
					}
				}
				if tc.want != "" && !found {
					t.Errorf("no %s finding %q with why and fix", tc.severity, tc.want)
				}
				if rep.Failed() != (tc.severity == doctor.Fail && tc.want != "") {
					t.Errorf("Failed() = %v", rep.Failed())
				}
				if t.Failed() || testing.Verbose() {
					t.Logf("doctor output:\n%s", out.String())
				}
			})
		}
	})
}
