package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

var errNotLoopback = errors.New("target is not a loopback address (use --allow-remote to bench another host)")

// isLoopbackHost reports whether host (a URL's Hostname) names this machine
// without asking a resolver: "localhost", *.localhost (RFC 6761 §6.3) or a
// loopback IP literal.
func isLoopbackHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// client is a keep-alive HTTP client with Basic auth that only dials
// loopback addresses unless told otherwise: redirects and absolute hrefs in
// answers go through the same dialer.
type client struct {
	hc      *http.Client
	auth    string
	timeout time.Duration
}

func newClient(user, password string, concurrency int, timeout time.Duration, allowRemote bool) *client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if allowRemote {
				return dialer.DialContext(ctx, network, addr)
			}
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
			if err != nil {
				return nil, err
			}
			for _, ip := range ips {
				if ip.IP.IsLoopback() {
					return dialer.DialContext(ctx, network, net.JoinHostPort(ip.IP.String(), port))
				}
			}
			return nil, fmt.Errorf("%w: %s", errNotLoopback, host)
		},
		MaxIdleConns:        4 * concurrency,
		MaxIdleConnsPerHost: 2 * concurrency,
		IdleConnTimeout:     90 * time.Second,
		// Measure the server's own bytes, not gzip on both sides.
		DisableCompression: true,
		ForceAttemptHTTP2:  false,
	}
	cred := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	return &client{
		hc: &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			return nil
		}},
		auth:    "Basic " + cred,
		timeout: timeout,
	}
}

// spread makes each new connection to target (host:port) go to the next
// of addrs in turn: several instances of one server on one database,
// measured without a balancer in front. Keep-alive connections stay where
// they were dialled, so the load divides by connection, as behind a TCP
// balancer. The loopback rule still applies to every address.
func (c *client) spread(target string, addrs []string) {
	tr := c.hc.Transport.(*http.Transport)
	dial := tr.DialContext
	var next atomic.Uint64
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == target {
			addr = addrs[(next.Add(1)-1)%uint64(len(addrs))]
		}
		return dial(ctx, network, addr)
	}
}

// hostPort is u's host with its port, the scheme's default when absent.
func hostPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// request describes one HTTP exchange.
type request struct {
	Method string
	URL    string
	Header map[string]string
	Body   []byte
	// Want lists the acceptable status codes.
	Want []int
	// Keep asks for the body in the reply; otherwise it is only counted.
	Keep bool
}

// reply is what came back.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
	Bytes  int64
}

// httpError is an unexpected status, with enough of the exchange to report
// a server bug precisely.
type httpError struct {
	Method, URL string
	Status      int
	Body        string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.URL, e.Status, e.Body)
}

// excerpt shortens a body for a report: valid UTF-8, whitespace squeezed.
func excerpt(b []byte, max int) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// do sends r and reads the whole answer (keep-alive needs the body drained).
func (c *client) do(ctx context.Context, r request) (*reply, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("User-Agent", "davbench")
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	rep := &reply{Status: resp.StatusCode, Header: resp.Header}
	ok := len(r.Want) == 0
	for _, w := range r.Want {
		ok = ok || w == resp.StatusCode
	}
	if r.Keep || !ok {
		var buf bytes.Buffer
		rep.Bytes, err = io.Copy(&buf, resp.Body)
		rep.Body = buf.Bytes()
	} else {
		rep.Bytes, err = io.Copy(io.Discard, resp.Body)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading body: %w", r.Method, r.URL, err)
	}
	if !ok {
		return rep, &httpError{Method: r.Method, URL: r.URL, Status: resp.StatusCode, Body: excerpt(rep.Body, 400)}
	}
	return rep, nil
}

// Request bodies.

const xmlHeader = `<?xml version="1.0" encoding="utf-8"?>` + "\n"

func propfindBody(props string) []byte {
	return []byte(xmlHeader + `<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop>` +
		props + `</d:prop></d:propfind>`)
}

func mkcalendarBody(display string) []byte {
	return []byte(xmlHeader + `<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop>` +
		`<d:displayname>` + xmlEscape(display) + `</d:displayname>` +
		`<c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set>` +
		`</d:prop></d:set></c:mkcalendar>`)
}

// mkcolAddressbookBody is an extended MKCOL (RFC 5689 §3) creating an
// address book (RFC 6352 §6.3.1).
func mkcolAddressbookBody(display string) []byte {
	return []byte(xmlHeader + `<d:mkcol xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:set><d:prop>` +
		`<d:resourcetype><d:collection/><card:addressbook/></d:resourcetype>` +
		`<d:displayname>` + xmlEscape(display) + `</d:displayname>` +
		`</d:prop></d:set></d:mkcol>`)
}

func calendarQueryBody(start, end time.Time) []byte {
	const f = "20060102T150405Z"
	return []byte(xmlHeader + `<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">` +
		`<d:prop><d:getetag/><c:calendar-data/></d:prop>` +
		`<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">` +
		`<c:time-range start="` + start.UTC().Format(f) + `" end="` + end.UTC().Format(f) + `"/>` +
		`</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`)
}

func freeBusyQueryBody(start, end time.Time) []byte {
	const f = "20060102T150405Z"
	return []byte(xmlHeader + `<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav">` +
		`<c:time-range start="` + start.UTC().Format(f) + `" end="` + end.UTC().Format(f) + `"/></c:free-busy-query>`)
}

func calendarMultigetBody(hrefs []string) []byte {
	var b strings.Builder
	b.WriteString(xmlHeader + `<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">` +
		`<d:prop><d:getetag/><c:calendar-data/></d:prop>`)
	for _, h := range hrefs {
		b.WriteString(`<d:href>` + xmlEscape(h) + `</d:href>`)
	}
	b.WriteString(`</c:calendar-multiget>`)
	return []byte(b.String())
}

func syncCollectionBody(token string) []byte {
	return []byte(xmlHeader + `<d:sync-collection xmlns:d="DAV:"><d:sync-token>` + xmlEscape(token) +
		`</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`)
}

func addressbookQueryBody(term string) []byte {
	return []byte(xmlHeader + `<card:addressbook-query xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav">` +
		`<d:prop><d:getetag/><card:address-data/></d:prop>` +
		`<card:filter><card:prop-filter name="EMAIL"><card:text-match match-type="contains">` + xmlEscape(term) +
		`</card:text-match></card:prop-filter></card:filter></card:addressbook-query>`)
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// joinURL appends a path segment (escaped) to a collection URL.
func joinURL(coll *url.URL, name string) string {
	u := *coll
	u.Path = strings.TrimSuffix(coll.Path, "/") + "/" + name
	u.RawPath = ""
	return u.String()
}
