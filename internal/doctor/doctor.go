// Package doctor checks a Davenport deployment from outside, the way a
// CalDAV/CardDAV client sees it: DNS, TLS, the RFC 6764 well-known
// redirects and SRV/TXT records, and whether the reverse proxy in front
// passes the methods, headers and bodies DAV needs. It imports nothing of
// the server: it only speaks HTTP.
package doctor

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Severity grades a finding. Only Fail makes the doctor exit non-zero.
type Severity int

const (
	Info Severity = iota
	Warn
	Fail
)

func (s Severity) String() string {
	return [...]string{"info", "WARN", "FAIL"}[s]
}

// Finding is one thing wrong (or worth knowing) about the set-up.
type Finding struct {
	Severity Severity
	Check    string // short name: dns, tls, well-known-caldav, depth, …
	What     string // what was seen
	Why      string // why it breaks clients
	Fix      string // how to fix it (nginx/Caddy where relevant)
}

// Resolver is the part of net.Resolver the doctor uses; tests replace it.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Options say what to check.
type Options struct {
	URL            string
	User, Password string // empty: only the anonymous checks run
	Resolver       Resolver
	RootCAs        *x509.CertPool   // nil: the system roots
	Now            func() time.Time // nil: time.Now
	Timeout        time.Duration    // per request; 0: 15 s
}

// Report is the outcome of Run.
type Report struct {
	Findings []Finding
	Passed   []string // one line per check that passed
}

// Failed reports whether any finding is a failure.
func (r *Report) Failed() bool {
	for _, f := range r.Findings {
		if f.Severity == Fail {
			return true
		}
	}
	return false
}

// Write prints the report for a person.
func (r *Report) Write(w io.Writer) {
	for _, p := range r.Passed {
		fmt.Fprintf(w, "ok    %s\n", p)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(w, "%-5s %s: %s\n", f.Severity, f.Check, f.What)
		if f.Why != "" {
			fmt.Fprintf(w, "      why: %s\n", f.Why)
		}
		if f.Fix != "" {
			fmt.Fprintf(w, "      fix: %s\n", f.Fix)
		}
	}
	fails, warns := 0, 0
	for _, f := range r.Findings {
		switch f.Severity {
		case Fail:
			fails++
		case Warn:
			warns++
		}
	}
	fmt.Fprintf(w, "%d checks passed, %d failures, %d warnings\n", len(r.Passed), fails, warns)
}

// Find returns the findings of one check.
func (r *Report) Find(check string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Check == check {
			out = append(out, f)
		}
	}
	return out
}

type doctor struct {
	opts    Options
	base    *url.URL
	client  *http.Client
	now     func() time.Time
	rep     Report
	skewed  bool
	hrefBad bool
}

// Run performs every check it can and returns the findings; a check that
// cannot run because an earlier one failed is skipped, not reported twice.
func Run(ctx context.Context, opts Options) (*Report, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("doctor: %q is not an http(s) URL", opts.URL)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.Timeout == 0 {
		opts.Timeout = 15 * time.Second
	}
	d := &doctor{opts: opts, base: u, now: opts.Now}
	if d.now == nil {
		d.now = time.Now
	}
	if !d.checkDNS(ctx) {
		return &d.rep, nil
	}
	d.checkSRV(ctx)
	tlsOK := d.checkTLS(ctx)
	d.client = d.newClient(!tlsOK)
	if !d.checkReachable(ctx) {
		return &d.rep, nil
	}
	d.checkWellKnown(ctx, "caldav")
	d.checkWellKnown(ctx, "carddav")
	if opts.User == "" {
		d.info("credentials", "no --user given: the authenticated checks (methods, headers, bodies, base URL) were skipped", "", "")
		return &d.rep, nil
	}
	d.checkAuthenticated(ctx)
	return &d.rep, nil
}

func (d *doctor) pass(format string, args ...any) {
	d.rep.Passed = append(d.rep.Passed, fmt.Sprintf(format, args...))
}

func (d *doctor) add(sev Severity, check, what, why, fix string) {
	d.rep.Findings = append(d.rep.Findings, Finding{sev, check, what, why, fix})
}
func (d *doctor) fail(check, what, why, fix string) { d.add(Fail, check, what, why, fix) }
func (d *doctor) warn(check, what, why, fix string) { d.add(Warn, check, what, why, fix) }
func (d *doctor) info(check, what, why, fix string) { d.add(Info, check, what, why, fix) }

func (d *doctor) hostname() string { return d.base.Hostname() }

func (d *doctor) port() string {
	if p := d.base.Port(); p != "" {
		return p
	}
	if d.base.Scheme == "https" {
		return "443"
	}
	return "80"
}

func (d *doctor) checkDNS(ctx context.Context) bool {
	host := d.hostname()
	if net.ParseIP(host) != nil {
		d.pass("dns: %s is an IP address (no lookup)", host)
		return true
	}
	addrs, err := d.opts.Resolver.LookupHost(ctx, host)
	if err != nil || len(addrs) == 0 {
		d.fail("dns", fmt.Sprintf("%s does not resolve: %v", host, err),
			"clients cannot find the server at all",
			"add an A/AAAA record for "+host+" pointing at the proxy")
		return false
	}
	d.pass("dns: %s → %s", host, strings.Join(addrs, ", "))
	return true
}

// checkSRV looks at the RFC 6764 §3 SRV and §4 TXT records; a missing
// record is only information (clients then try the well-known URIs), a
// wrong one sends clients elsewhere.
func (d *doctor) checkSRV(ctx context.Context) {
	host := d.hostname()
	if net.ParseIP(host) != nil {
		return
	}
	for _, svc := range []string{"caldav", "carddav"} {
		if d.base.Scheme == "https" {
			svc += "s"
		}
		name := "_" + svc + "._tcp." + host
		_, srvs, err := d.opts.Resolver.LookupSRV(ctx, svc, "tcp", host)
		if err != nil || len(srvs) == 0 {
			d.info("srv", "no "+name+" SRV record", "clients that only have an email address or host name fall back to the well-known URIs",
				fmt.Sprintf("optional: %s. SRV 0 1 %s %s.", name, d.port(), host))
		} else {
			s := srvs[0]
			target := strings.TrimSuffix(s.Target, ".")
			if !strings.EqualFold(target, host) || strconv.Itoa(int(s.Port)) != d.port() {
				d.fail("srv", fmt.Sprintf("%s points at %s:%d, not %s:%s", name, target, s.Port, host, d.port()),
					"clients that use the SRV record (iOS, macOS, DAVx⁵) connect to the wrong place",
					fmt.Sprintf("%s. SRV 0 1 %s %s.", name, d.port(), host))
			} else {
				d.pass("srv: %s → %s:%d", name, target, s.Port)
			}
		}
		txts, err := d.opts.Resolver.LookupTXT(ctx, name)
		if err != nil || len(txts) == 0 {
			continue
		}
		for _, t := range txts {
			p, ok := strings.CutPrefix(t, "path=")
			if !ok {
				continue
			}
			if p != d.base.Path && p != "/.well-known/"+strings.TrimSuffix(svc, "s") {
				d.fail("srv", fmt.Sprintf("%s TXT path=%s, but the server is at %s", name, p, d.base.Path),
					"clients that read the TXT record look for the account at a path that is not the server",
					fmt.Sprintf(`%s. TXT "path=%s"`, name, d.base.Path))
			} else {
				d.pass("srv: %s TXT path=%s", name, p)
			}
		}
	}
}

// checkTLS verifies the chain and its expiry; on failure the later checks
// still run (without verification) so one run lists everything.
func (d *doctor) checkTLS(ctx context.Context) bool {
	if d.base.Scheme != "https" {
		d.warn("tls", "the URL is plain http",
			"passwords cross the network in the clear; iOS and macOS refuse or warn",
			"serve HTTPS: davenport --tls-cert/--tls-key, or Caddy (automatic certificates), or nginx with listen 443 ssl")
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	raw, err := d.dial(ctx, "tcp", net.JoinHostPort(d.hostname(), d.port()))
	if err != nil {
		d.fail("tls", "cannot connect: "+err.Error(), "clients cannot connect", "check that the proxy listens on port "+d.port())
		return false
	}
	conn := tls.Client(raw, &tls.Config{ServerName: d.hostname(), RootCAs: d.opts.RootCAs, Time: d.now})
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		var inv x509.CertificateInvalidError
		var host x509.HostnameError
		var unknown x509.UnknownAuthorityError
		switch {
		case errors.As(err, &inv) && inv.Reason == x509.Expired:
			d.fail("tls", "the certificate has expired or is not yet valid: "+inv.Error(),
				"every client refuses the connection",
				"renew the certificate (davenport --acme-domain, Caddy, or certbot renew and reload nginx)")
		case errors.As(err, &host):
			d.fail("tls", "the certificate does not name "+d.hostname()+": "+host.Error(),
				"every client refuses the connection",
				"issue a certificate for "+d.hostname())
		case errors.As(err, &unknown):
			d.fail("tls", "the chain does not lead to a trusted root: "+err.Error(),
				"clients refuse the connection; some ask the user to trust it every time",
				"serve the full chain (nginx: ssl_certificate fullchain.pem; Caddy does this itself)")
		default:
			d.fail("tls", "TLS handshake failed: "+err.Error(), "clients cannot connect", "check the proxy's TLS configuration")
		}
		return false
	}
	defer conn.Close()
	leaf := conn.ConnectionState().PeerCertificates[0]
	left := leaf.NotAfter.Sub(d.now())
	if left < 14*24*time.Hour {
		d.warn("tls", fmt.Sprintf("the certificate expires in %s (%s)", left.Round(time.Hour), leaf.NotAfter.UTC().Format(time.RFC3339)),
			"when it expires every client stops syncing",
			"check that renewal runs (davenport --acme-domain, Caddy, or certbot's timer)")
	} else {
		d.pass("tls: chain valid, expires %s", leaf.NotAfter.UTC().Format("2006-01-02"))
	}
	return true
}

// dial connects through the doctor's resolver, so a test's names work.
func (d *doctor) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if net.ParseIP(host) == nil {
		addrs, err := d.opts.Resolver.LookupHost(ctx, host)
		if err != nil {
			return nil, err
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("%s: no addresses", host)
		}
		host = addrs[0]
	}
	return (&net.Dialer{Timeout: d.opts.Timeout}).DialContext(ctx, network, net.JoinHostPort(host, port))
}

// newClient dials through the doctor's resolver, follows no redirects, and
// skips certificate verification only when checkTLS already reported it.
func (d *doctor) newClient(insecure bool) *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: d.opts.RootCAs, InsecureSkipVerify: insecure, Time: d.now},
		DialContext:     d.dial,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       d.opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (d *doctor) do(ctx context.Context, method, target string, auth bool, header map[string]string, body string) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	}
	if auth {
		req.SetBasicAuth(d.opts.User, d.opts.Password)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	d.checkSkew(resp)
	return &response{resp.StatusCode, resp.Header, b}, nil
}

// checkSkew compares the server's Date header with the local clock, once.
func (d *doctor) checkSkew(resp *http.Response) {
	if d.skewed {
		return
	}
	t, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return
	}
	d.skewed = true
	skew := t.Sub(d.now())
	if skew < 0 {
		skew = -skew
	}
	if skew > 60*time.Second {
		d.warn("clock", fmt.Sprintf("the server's clock is %s off this machine's (Date: %s)", skew.Round(time.Second), resp.Header.Get("Date")),
			"alarms fire at the wrong time, scheduling (iTIP) stamps and free-busy answers are off, and sign-in tokens may be refused",
			"run an NTP client (systemd-timesyncd or chrony) on the server (or on this machine, if it is the one off)")
	} else {
		d.pass("clock: server clock within %s of this machine's", skew.Round(time.Second))
	}
}

func (d *doctor) resolve(ref string) string {
	u, err := d.base.Parse(ref)
	if err != nil {
		return ref
	}
	return u.String()
}

func (d *doctor) checkReachable(ctx context.Context) bool {
	r, err := d.do(ctx, "OPTIONS", d.base.String(), false, nil, "")
	if err != nil {
		d.fail("http", "cannot reach "+d.base.String()+": "+err.Error(), "clients cannot connect",
			"check that the proxy listens on "+d.port()+" and forwards to Davenport")
		return false
	}
	if !strings.Contains(r.header.Get("DAV"), "calendar-access") {
		d.fail("http", fmt.Sprintf("OPTIONS %s answered %d without a DAV: calendar-access header", d.base.Path, r.status),
			"clients conclude this is no CalDAV server",
			"point the URL (or the proxy's location) at Davenport; nginx: location / { proxy_pass http://127.0.0.1:8008; }")
		return false
	}
	d.pass("http: OPTIONS %s answers as a CalDAV/CardDAV server", d.base.Path)
	return true
}

// checkWellKnown follows /.well-known/<svc> as a client does (RFC 6764 §5):
// the chain must stay on the same scheme and host, not loop, and end at a
// DAV collection.
func (d *doctor) checkWellKnown(ctx context.Context, svc string) {
	check := "well-known-" + svc
	fix := fmt.Sprintf("let /.well-known/%s through to Davenport unchanged (it redirects itself); nginx: location /.well-known/%s { proxy_pass http://127.0.0.1:8008; }  Caddy: remove any redir for /.well-known/%s", svc, svc, svc)
	why := "clients given only the host name find no account (DAVx⁵, iOS and Thunderbird start here)"
	target := d.resolve("/.well-known/" + svc)
	seen := map[string]bool{}
	hops := 0
	for {
		if seen[target] || hops > 10 {
			d.fail(check, "the redirects loop ("+target+")", why, fix)
			return
		}
		seen[target] = true
		r, err := d.do(ctx, "PROPFIND", target, d.opts.User != "", map[string]string{"Depth": "0"}, propfindBody("<D:resourcetype/>"))
		if err != nil {
			d.fail(check, err.Error(), why, fix)
			return
		}
		if r.status >= 300 && r.status < 400 {
			loc := r.header.Get("Location")
			next, err := url.Parse(target)
			if err == nil {
				next, err = next.Parse(loc)
			}
			if loc == "" || err != nil {
				d.fail(check, fmt.Sprintf("a %d without a usable Location", r.status), why, fix)
				return
			}
			if next.Scheme != d.base.Scheme || next.Host != d.base.Host {
				d.fail(check, fmt.Sprintf("redirects to %s, off %s://%s", next, d.base.Scheme, d.base.Host),
					"clients follow it to a server that is not this one (or to plain http) and lose the account",
					"the proxy rewrites the redirect: nginx: proxy_set_header Host $host; proxy_redirect off;  Caddy: no redir for /.well-known")
				return
			}
			if r.status == http.StatusMovedPermanently || r.status == http.StatusFound {
				d.info(check, fmt.Sprintf("redirect %d (some libraries resend PROPFIND as GET or without a body; Davenport itself sends 307)", r.status), "", "")
			}
			target = next.String()
			hops++
			continue
		}
		// The landing place must be Davenport's DAV tree: its OPTIONS names
		// the DAV classes (other checks judge its PROPFIND answers, which a
		// proxy dropping Depth or Authorization spoils on every path).
		final, _ := url.Parse(target)
		opt, err := d.do(ctx, "OPTIONS", target, false, nil, "")
		dav := err == nil && strings.Contains(opt.header.Get("DAV"), "calendar-access")
		switch {
		case hops == 0:
			d.fail(check, fmt.Sprintf("/.well-known/%s answered %d, not a redirect", svc, r.status), why, fix)
		case !dav || r.status == http.StatusNotFound || r.status == http.StatusMethodNotAllowed || r.status == http.StatusNotImplemented:
			d.fail(check, fmt.Sprintf("/.well-known/%s leads to %s, which answers PROPFIND with %d and is no DAV collection", svc, final.Path, r.status), why, fix)
		default:
			d.pass("%s: → %s", check, final.Path)
		}
		return
	}
}

func propfindBody(props string) string {
	return `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>` + props + `</D:prop></D:propfind>`
}

// multistatus is the little of RFC 4918's multistatus the doctor reads.
type multistatus struct {
	Responses []struct {
		Href     string `xml:"DAV: href"`
		Propstat []struct {
			Status string `xml:"DAV: status"`
			Prop   struct {
				Principal struct {
					Href string `xml:"DAV: href"`
				} `xml:"DAV: current-user-principal"`
				Home struct {
					Href string `xml:"DAV: href"`
				} `xml:"urn:ietf:params:xml:ns:caldav calendar-home-set"`
				MaxSize string `xml:"urn:ietf:params:xml:ns:caldav max-resource-size"`
			} `xml:"DAV: prop"`
		} `xml:"DAV: propstat"`
	} `xml:"DAV: response"`
}

func parseMultistatus(b []byte) (*multistatus, error) {
	var ms multistatus
	if err := xml.Unmarshal(b, &ms); err != nil {
		return nil, err
	}
	return &ms, nil
}

// checkHrefs: every href must lie under the URL the user gave, on its
// scheme and host (a proxy that mounts the server under another path, or a
// server that names its internal address, breaks every later request).
func (d *doctor) checkHrefs(what string, ms *multistatus) {
	for _, r := range ms.Responses {
		hrefs := []string{r.Href}
		for _, ps := range r.Propstat {
			hrefs = append(hrefs, ps.Prop.Principal.Href, ps.Prop.Home.Href)
		}
		for _, h := range hrefs {
			if h == "" || d.hrefBad {
				continue
			}
			u, err := d.base.Parse(h)
			if err != nil || u.Scheme != d.base.Scheme || u.Host != d.base.Host || !strings.HasPrefix(u.Path, d.base.Path) {
				d.hrefBad = true
				d.fail("base-url", fmt.Sprintf("%s names %s, outside %s", what, h, d.base),
					"clients follow hrefs; one on another host, scheme or path prefix makes them lose the account",
					"serve Davenport at the root of its own host name, pass the host and set --base-url to this URL: nginx: location / { proxy_pass http://127.0.0.1:8008; proxy_set_header Host $host; }  Caddy: dav.example.org { reverse_proxy 127.0.0.1:8008 }")
			}
		}
	}
}

func token() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
