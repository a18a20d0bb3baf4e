package push

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"

	"github.com/davenport-dav/davenport/push/pushtest"
	"github.com/davenport-dav/davenport/store"
)

// TestCheckEndpoint: only https, only public addresses, unless allowed.
func TestCheckEndpoint(t *testing.T) {
	for _, c := range []struct {
		url                     string
		allowHTTP, allowPrivate bool
		ok                      bool
	}{
		{"https://93.184.215.14/push/x", false, false, true},
		{"http://93.184.215.14/push/x", false, false, false},
		{"http://93.184.215.14/push/x", true, false, true},
		{"ftp://93.184.215.14/x", true, true, false},
		{"https://127.0.0.1/x", false, false, false},
		{"https://localhost/x", false, false, false},
		{"https://[::1]/x", false, false, false},
		{"https://10.1.2.3/x", false, false, false},
		{"https://192.168.0.1/x", false, false, false},
		{"https://172.16.5.5/x", false, false, false},
		{"https://169.254.169.254/latest/meta-data", false, false, false},
		{"https://100.64.0.1/x", false, false, false},
		{"https://0.0.0.0/x", false, false, false},
		{"https://[fe80::1]/x", false, false, false},
		{"https://[fd00::1]/x", false, false, false},
		{"https://[::ffff:127.0.0.1]/x", false, false, false},
		{"https://127.0.0.1/x", false, true, true},
	} {
		s := &Service{cfg: Config{AllowHTTP: c.allowHTTP, AllowPrivate: c.allowPrivate}}
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CheckEndpoint(context.Background(), u); (err == nil) != c.ok {
			t.Errorf("CheckEndpoint(%s, http=%v, private=%v) = %v, want ok=%v", c.url, c.allowHTTP, c.allowPrivate, err, c.ok)
		}
	}
}

// TestDialGuard: the address check is made on the IP being dialled, so a
// name that passed at registration and resolves to a private address
// later reaches nothing.
func TestDialGuard(t *testing.T) {
	s := &Service{}
	for addr, ok := range map[string]bool{
		"93.184.215.14:443": true, "127.0.0.1:443": false, "[::1]:443": false, "10.0.0.1:80": false,
		"169.254.169.254:80": false, "[2606:4700::1111]:443": true,
	} {
		if err := s.control("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("control(%s) = %v, want ok=%v", addr, err, ok)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := &net.Dialer{Control: s.control}
	if c, err := d.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Fatal("dialled a loopback address")
	}
}

// TestMessage: the push-message names the topic and sync token only.
func TestMessage(t *testing.T) {
	got := string(Message("T0p1c", "http://davenport.invalid/sync/3/7", true))
	want := `<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<P:push-message xmlns:D="DAV:" xmlns:P="https://bitfire.at/webdav-push"><P:topic>T0p1c</P:topic>` +
		`<P:content-update><D:sync-token>http://davenport.invalid/sync/3/7</D:sync-token></P:content-update>` +
		`<P:property-update/></P:push-message>`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// TestRetryAfter: a push service's Retry-After on a 429 or 503 puts the
// next attempt off at least that long; the back-off applies otherwise.
func TestRetryAfter(t *testing.T) {
	priv, pub, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{cfg: Config{AllowHTTP: true, AllowPrivate: true, Timeout: 5 * time.Second, Subscriber: "mailto:a@example.org", TTL: 60},
		log: slog.New(slog.DiscardHandler), priv: priv, pub: pub, client: &http.Client{}, maxAttempt: 10, topicKey: []byte("k")}
	ep := pushtest.New(t)
	d := &store.PushDelivery{Registration: store.PushRegistration{ID: 1, CollectionID: 2, PushResource: ep.URL,
		PublicKey: ep.PublicKey(), AuthSecret: ep.AuthSecret()}, ModSeq: 3, Attempts: 1}
	for _, c := range []struct {
		status     int
		retryAfter string
		min, max   time.Duration
	}{
		{http.StatusTooManyRequests, "600", 600 * time.Second, 601 * time.Second},
		{http.StatusServiceUnavailable, time.Now().Add(20 * time.Minute).UTC().Format(http.TimeFormat), 19 * time.Minute, 21 * time.Minute},
		{http.StatusTooManyRequests, "86400", time.Hour, time.Hour + time.Second}, // capped
		{http.StatusTooManyRequests, "", time.Second, 3 * time.Second},            // the back-off: 2 s at attempt 1
		{http.StatusTooManyRequests, "soon", time.Second, 3 * time.Second},
	} {
		ep.Set(c.status, false)
		ep.SetRetryAfter(c.retryAfter)
		before := time.Now()
		o := s.deliver(t.Context(), d)
		if wait := o.RetryAt.Sub(before); wait < c.min || wait > c.max {
			t.Errorf("%d Retry-After %q: retry in %v, want %v to %v", c.status, c.retryAfter, wait, c.min, c.max)
		}
	}
}
