package push

import (
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

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
	s := testService(t)
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

// testService is a Service sending over plain HTTP to loopback.
func testService(t *testing.T) *Service {
	t.Helper()
	priv, pub, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	s, err := newService(Config{AllowHTTP: true, AllowPrivate: true, Timeout: 5 * time.Second, Subscriber: "mailto:a@example.org",
		TTL: 60, Logger: slog.New(slog.DiscardHandler)}, priv, pub)
	if err != nil {
		t.Fatal(err)
	}
	s.client = &http.Client{}
	return s
}

// TestEncryptRFC8291Vector seals the example of RFC 8291 Appendix A with
// its keys and salt and must produce its body byte for byte.
func TestEncryptRFC8291Vector(t *testing.T) {
	b := func(s string) []byte {
		v, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	as, err := ecdh.P256().NewPrivateKey(b("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := encrypt([]byte("When I grow up, I want to be a watermelon"),
		b("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
		b("BTBZMqHH6r4Tts7J_aSIgg"), as, b("DGv6ra1nlYgDCS1FRnbzlw"))
	if err != nil {
		t.Fatal(err)
	}
	const want = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
	if s := base64.RawURLEncoding.EncodeToString(got); s != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
}

// TestVAPIDAuthorization: the header verifies as RFC 8292 asks, names the
// push service's origin, and is reused for that origin until half its
// lifetime has passed, while another origin gets its own.
func TestVAPIDAuthorization(t *testing.T) {
	s := testService(t)
	u, _ := url.Parse("https://push.example.net:8443/wpush/v2/abc")
	now := time.Now()
	h1, err := s.vapid.authorization(u, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := pushtest.VerifyVAPID(h1, "https://push.example.net:8443", s.PublicKey()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h1, ".") || strings.Contains(h1, "mailto:mailto:") {
		t.Fatalf("header %q", h1)
	}
	if h2, _ := s.vapid.authorization(u, now.Add(time.Hour)); h2 != h1 {
		t.Fatal("a second request to the same push service signed a new JWT")
	}
	if h3, _ := s.vapid.authorization(u, now.Add(vapidLifetime/2+time.Second)); h3 == h1 {
		t.Fatal("a JWT past half its lifetime was reused")
	}
	other, _ := url.Parse("https://fcm.example.com/x")
	h4, _ := s.vapid.authorization(other, now)
	if h4 == h1 || pushtest.VerifyVAPID(h4, "https://fcm.example.com", s.PublicKey()) != nil {
		t.Fatal("another push service did not get its own JWT")
	}
}

// TestDropFailingSubscription: an endpoint that answers 500 (or hangs)
// forever is retried with back-off; when a message's retries run out the
// message is given up, and the subscription is dropped once nothing has
// reached its push service for DropAfter.
func TestDropFailingSubscription(t *testing.T) {
	s := testService(t)
	s.cfg.DropAfter = time.Hour
	ep := pushtest.New(t)
	ep.Set(500, false)
	recent := time.Now().Add(-time.Minute)
	for _, c := range []struct {
		name         string
		attempts     int
		created      time.Time
		lastDelivery *time.Time
		gone, retry  bool
	}{
		{"retries left", 3, time.Now().Add(-48 * time.Hour), nil, false, true},
		{"given up, delivered lately", s.maxAttempt, time.Now().Add(-48 * time.Hour), &recent, false, false},
		{"given up, new", s.maxAttempt, time.Now().Add(-time.Minute), nil, false, false},
		{"given up, never delivered for long", s.maxAttempt, time.Now().Add(-2 * time.Hour), nil, true, false},
	} {
		d := &store.PushDelivery{Registration: store.PushRegistration{ID: 1, CollectionID: 2, PushResource: ep.URL,
			PublicKey: ep.PublicKey(), AuthSecret: ep.AuthSecret(), Created: c.created, LastDelivery: c.lastDelivery},
			ModSeq: 3, Attempts: c.attempts}
		o := s.deliver(t.Context(), d)
		if o.Gone != c.gone || o.RetryAt.IsZero() == c.retry || o.Sent {
			t.Errorf("%s: outcome %+v, want gone %v retry %v", c.name, o, c.gone, c.retry)
		}
	}
}
