// Package push delivers WebDAV-Push messages (draft
// github.com/bitfireAT/webdav-push) as Web Push requests: RFC 8030 with
// VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291) (webpush.go).
// The store queues a message in the
// transaction of every change (store.Store.ClaimPushDeliveries); a worker
// here claims due ones, sends them, and records the outcome: retried with
// back-off, dropped on 404/410, bursts coalesced into one message per
// subscription and interval. Push resources are URLs chosen by clients, so
// every request is bounded in time and size and dials only public
// addresses over https unless configured otherwise: the check is made on
// the IP actually dialled, so a name that resolves differently later
// (DNS rebinding) reaches nothing private.
package push

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
)

// Config holds what a Service is built from.
type Config struct {
	Store  store.Store
	Logger *slog.Logger
	// AllowHTTP accepts http:// push resources; AllowPrivate loopback,
	// private and link-local addresses. Both are for tests and closed
	// networks.
	AllowHTTP, AllowPrivate bool
	// Subscriber is the VAPID contact (RFC 8292 §2.1): a mailto: or https:
	// URL.
	Subscriber string
	// Timeout bounds one push request (default 10 s); Poll is how often the
	// queue is looked at (default 200 ms); Coalesce the least time between
	// two messages to one subscription (default 500 ms): the changes made
	// meanwhile go in the next one.
	Timeout, Poll, Coalesce time.Duration
	// TTL is the Web Push TTL in seconds (RFC 8030 §5.2; default a day).
	TTL int
	// DropAfter: a subscription whose push service has taken nothing for
	// this long is dropped when a message's retries run out (default a
	// day): an endpoint that hangs or fails forever is not tried forever.
	DropAfter time.Duration
}

// Stats count what the service did since it started, for metrics.
type Stats struct {
	// Sent messages, Failed attempts, Dropped subscriptions, and the
	// changes Coalesced into another change's message.
	Sent, Failed, Dropped, Coalesced atomic.Uint64
}

// Service sends WebDAV-Push messages.
type Service struct {
	cfg        Config
	log        *slog.Logger
	priv, pub  string
	vapid      *vapid
	topicKey   []byte
	client     *http.Client
	maxAttempt int
	// Stats are read by the server's /metrics.
	Stats Stats
}

// New loads (or makes and stores, once for every instance sharing the
// store) the VAPID key pair.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Poll == 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	if cfg.Coalesce == 0 {
		cfg.Coalesce = 500 * time.Millisecond
	}
	if cfg.TTL == 0 {
		cfg.TTL = 24 * 3600
	}
	if cfg.DropAfter == 0 {
		cfg.DropAfter = 24 * time.Hour
	}
	switch {
	case cfg.Subscriber == "":
		cfg.Subscriber = "mailto:postmaster@localhost"
	case !strings.HasPrefix(cfg.Subscriber, "mailto:") && !strings.HasPrefix(cfg.Subscriber, "https:"):
		cfg.Subscriber = "mailto:" + cfg.Subscriber // an address alone
	}
	priv, pub, err := cfg.Store.EnsurePushKeys(ctx, GenerateVAPIDKeys)
	if err != nil {
		return nil, fmt.Errorf("push: vapid keys: %w", err)
	}
	s, err := newService(cfg, priv, pub)
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: s.control}
	s.client = &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   cfg.Timeout,
			ResponseHeaderTimeout: cfg.Timeout,
			MaxIdleConnsPerHost:   batch, // many subscriptions share one push service
			IdleConnTimeout:       time.Minute,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s, nil
}

// newService is a Service on the key pair, without its HTTP client.
func newService(cfg Config, priv, pub string) (*Service, error) {
	v, err := newVAPID(priv, pub, cfg.Subscriber)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, log: cfg.Logger, priv: priv, pub: pub, vapid: v, maxAttempt: 10}
	k := sha256.Sum256([]byte("davenport push topic\x00" + priv))
	s.topicKey = k[:]
	return s, nil
}

// PublicKey is the VAPID public key, base64url (RFC 8292 §3.2).
func (s *Service) PublicKey() string { return s.pub }

// Topic names a collection in push messages and in the Topic header (RFC
// 8030 §5.4: at most 32 base64url characters). It is keyed with the
// server's secret, so it is stable across instances and restarts but says
// nothing of the collection to the push service.
func (s *Service) Topic(collectionID int64) string {
	m := hmac.New(sha256.New, s.topicKey)
	m.Write([]byte(strconv.FormatInt(collectionID, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// DAV is the configuration package dav serves WebDAV-Push with.
func (s *Service) DAV() *dav.Push {
	return &dav.Push{VAPIDPublicKey: s.pub, Topic: s.Topic, CheckEndpoint: s.CheckEndpoint}
}

// errForbiddenAddress is a dial refused by the address policy.
var errForbiddenAddress = errors.New("push: endpoint address is not public")

// CheckEndpoint refuses a push resource the server will not send to: not
// https (unless AllowHTTP), or a host that resolves to a non-public address
// (unless AllowPrivate). It is checked again on every dial.
func (s *Service) CheckEndpoint(ctx context.Context, u *url.URL) error {
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && s.cfg.AllowHTTP:
	default:
		return fmt.Errorf("push resource scheme %q is not https", u.Scheme)
	}
	if s.cfg.AllowPrivate {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, u.Hostname())
	if err != nil {
		return fmt.Errorf("push resource host does not resolve")
	}
	for _, ip := range ips {
		if !public(ip.IP) {
			return fmt.Errorf("push resource host is not a public address")
		}
	}
	return nil
}

// control vets the address a connection is about to be made to.
func (s *Service) control(network, address string, _ syscall.RawConn) error {
	if s.cfg.AllowPrivate {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !public(ip) {
		return errForbiddenAddress
	}
	return nil
}

// public reports whether ip is a global unicast address outside the
// private, shared (RFC 6598), loopback and link-local ranges.
func public(ip net.IP) bool {
	if ip4 := ip.To4(); ip4 != nil {
		ip = ip4
		if ip4[0] == 100 && ip4[1]&0xc0 == 64 || ip4[0] == 0 {
			return false
		}
	}
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast()
}

// Run sends due messages until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		for {
			n, err := s.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("push: claim deliveries", "err", err)
			}
			if n == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// batch bounds the deliveries claimed at once; sending those sent
// concurrently. Each message costs an ECDH agreement and a VAPID signature:
// a whole batch of them runnable at once would queue the server's request
// handlers behind them, while a few in flight keep a slow push service
// from holding up the rest.
const (
	batch   = 128
	sending = 16
)

// RunOnce claims and sends the messages due now, and returns how many.
func (s *Service) RunOnce(ctx context.Context) (int, error) {
	now := time.Now()
	ds, err := s.cfg.Store.ClaimPushDeliveries(ctx, now, now.Add(2*s.cfg.Timeout+5*time.Second), batch)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	results := make([]store.PushResult, len(ds))
	var wg sync.WaitGroup
	sem := make(chan struct{}, sending)
	for i := range ds {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = store.PushResult{RegistrationID: ds[i].Registration.ID, ModSeq: ds[i].ModSeq,
				PushOutcome: s.deliver(ctx, &ds[i])}
		})
	}
	wg.Wait()
	if err := s.cfg.Store.FinishPushDeliveries(context.WithoutCancel(ctx), results); err != nil {
		// The leases run out and the deliveries are claimed again: a
		// message may go twice, none is lost.
		return len(ds), fmt.Errorf("push: record deliveries: %w", err)
	}
	return len(ds), nil
}

// Message is the push-message of a change: the topic and, for a content
// change, the new sync token. It never holds the changed data.
func Message(topic, syncToken string, property bool) []byte {
	var b []byte
	b = append(b, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+
		`<P:push-message xmlns:D="DAV:" xmlns:P="https://bitfire.at/webdav-push"><P:topic>`...)
	b = append(b, topic...) // base64url: nothing to escape
	b = append(b, `</P:topic>`...)
	if syncToken != "" {
		b = append(b, `<P:content-update><D:sync-token>`...)
		b = append(b, syncToken...) // our own token URI: nothing to escape
		b = append(b, `</D:sync-token></P:content-update>`...)
	}
	if property {
		b = append(b, `<P:property-update/>`...)
	}
	return append(b, `</P:push-message>`...)
}

// deliver sends d and returns its outcome.
func (s *Service) deliver(ctx context.Context, d *store.PushDelivery) store.PushOutcome {
	r := &d.Registration
	topic := s.Topic(r.CollectionID)
	token := dav.SyncToken(&store.Collection{ID: r.CollectionID, ModSeq: d.ModSeq})
	msg := Message(topic, token, d.Property)
	status, wait, err := s.send(ctx, r, topic, msg)
	now := time.Now()
	var o store.PushOutcome
	switch {
	case err == nil && status >= 200 && status < 300:
		o = store.PushOutcome{Sent: true, NextAt: now.Add(s.cfg.Coalesce)}
		if d.Changes > 1 {
			s.Stats.Coalesced.Add(uint64(d.Changes - 1))
		}
		s.Stats.Sent.Add(1) // after Coalesced: a reader seeing Sent sees both
	case err == nil && (status == http.StatusNotFound || status == http.StatusGone):
		// RFC 8030 §7.3: the subscription expired or was removed.
		o = store.PushOutcome{Gone: true}
		s.log.Info("push: subscription gone, dropped", "registration", r.ID, "status", status)
		s.Stats.Dropped.Add(1)
	default:
		o = store.PushOutcome{Err: errText(status, err)}
		retry := err != nil || status == http.StatusTooManyRequests || status >= 500
		if retry && d.Attempts >= s.maxAttempt && failingSince(r).Before(now.Add(-s.cfg.DropAfter)) {
			// The message is given up, and nothing has reached the
			// push service for DropAfter: the subscription is as
			// good as gone (the client registers again when it syncs).
			s.log.Warn("push: subscription failing too long, dropped", "registration", r.ID, "status", status,
				"last_delivery", r.LastDelivery, "err", err)
			s.Stats.Failed.Add(1)
			s.Stats.Dropped.Add(1)
			return store.PushOutcome{Gone: true}
		}
		if retry && d.Attempts < s.maxAttempt {
			// The back-off, or longer when the push service says so
			// (Retry-After on a 429 or 503: RFC 6585 §4, RFC 9110
			// §10.2.3); never more than an hour.
			back := max(time.Second<<min(d.Attempts, 12), wait)
			o.RetryAt = now.Add(min(back, time.Hour))
		}
		s.log.Warn("push: delivery failed", "registration", r.ID, "status", status, "attempt", d.Attempts,
			"retry_at", o.RetryAt, "err", err)
		s.Stats.Failed.Add(1)
	}
	return o
}

// failingSince is when r last reached its push service, or was made.
func failingSince(r *store.PushRegistration) time.Time {
	if r.LastDelivery != nil {
		return *r.LastDelivery
	}
	return r.Created
}

func errText(status int, err error) string {
	if err != nil {
		if errors.Is(err, errForbiddenAddress) {
			return errForbiddenAddress.Error()
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "timeout"
		}
		return "request failed"
	}
	return "push service answered " + strconv.Itoa(status)
}

// send makes one Web Push request and returns the response status and
// how long its Retry-After asks to wait (zero when it has none).
func (s *Service) send(ctx context.Context, r *store.PushRegistration, topic string, msg []byte) (int, time.Duration, error) {
	u, err := url.Parse(r.PushResource)
	if err != nil {
		return 0, 0, err
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && s.cfg.AllowHTTP) {
		return 0, 0, fmt.Errorf("push: scheme %q refused", u.Scheme)
	}
	uaPublic, err1 := decodeKey(r.PublicKey)
	auth, err2 := decodeKey(r.AuthSecret)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("push: subscription keys: %w", err)
	}
	as, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return 0, 0, err
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	body, err := encrypt(msg, uaPublic, auth, as, salt)
	if err != nil {
		return 0, 0, err
	}
	authz, err := s.vapid.authorization(u, time.Now())
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.PushResource, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	// RFC 8030 §5 (TTL, Topic, Urgency), RFC 8291 §4, RFC 8292 §3.
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("TTL", strconv.Itoa(s.cfg.TTL))
	req.Header.Set("Topic", topic)
	req.Header.Set("Urgency", "normal")
	req.Header.Set("Authorization", authz)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, retryAfter(resp.Header.Get("Retry-After"), time.Now()), nil
}

// retryAfter reads a Retry-After value (RFC 9110 §10.2.3): a number of
// seconds or an HTTP date; zero when absent, malformed or past.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
