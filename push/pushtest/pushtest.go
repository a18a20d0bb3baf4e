// Package pushtest is an in-process Web Push endpoint for tests: it plays
// the push service and the client at once, holding the subscription's
// private key. Every request is checked as a push service and a client
// would: the VAPID JWT (RFC 8292 §2: ES256 over the server's key, aud the
// endpoint's origin, exp within a day), the TTL header (RFC 8030 §5.2),
// and the aes128gcm payload (RFC 8291), which is decrypted and parsed as a
// WebDAV-Push push-message.
package pushtest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one push received and decrypted.
type Message struct {
	Topic     string
	SyncToken string
	Property  bool
	Plaintext string
	Header    http.Header
	At        time.Time
}

// Endpoint is a push resource.
type Endpoint struct {
	// URL is the push resource to register.
	URL    string
	server *httptest.Server
	key    *ecdh.PrivateKey
	auth   []byte

	mu sync.Mutex
	// VAPIDKey, when set, is the server key every request must carry.
	VAPIDKey string
	// Status is answered (after the checks); 201 when zero. Hang makes the
	// endpoint never answer (until the client gives up).
	Status int
	Hang   bool
	// RetryAfter, when set, is sent as the answer's Retry-After.
	RetryAfter string
	msgs       []Message
	errs       []error
	hits       int
	notify     chan struct{}
}

// New starts an endpoint, closed when the test ends.
func New(t testing.TB) *Endpoint {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := &Endpoint{key: key, auth: make([]byte, 16), notify: make(chan struct{}, 1)}
	rand.Read(e.auth)
	done := make(chan struct{})
	e.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.hits++
		hang, status, retry := e.Hang, e.Status, e.RetryAfter
		e.mu.Unlock()
		if hang {
			select {
			case <-r.Context().Done():
			case <-done:
			}
			return
		}
		m, err := e.check(r)
		e.mu.Lock()
		if err != nil {
			e.errs = append(e.errs, err)
		} else if status == 0 || status/100 == 2 {
			e.msgs = append(e.msgs, m)
		}
		e.mu.Unlock()
		select {
		case e.notify <- struct{}{}:
		default:
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if status == 0 {
			status = http.StatusCreated
		}
		if retry != "" {
			w.Header().Set("Retry-After", retry)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(func() { close(done); e.server.Close() })
	e.URL = e.server.URL + "/push/" + base64.RawURLEncoding.EncodeToString(e.auth[:6])
	return e
}

// PublicKey is the subscription's p256dh key, base64url.
func (e *Endpoint) PublicKey() string {
	return base64.RawURLEncoding.EncodeToString(e.key.PublicKey().Bytes())
}

// AuthSecret is the subscription's auth secret, base64url.
func (e *Endpoint) AuthSecret() string { return base64.RawURLEncoding.EncodeToString(e.auth) }

// Set changes the endpoint's behaviour.
func (e *Endpoint) Set(status int, hang bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.Status, e.Hang = status, hang
}

// SetRetryAfter changes the Retry-After the endpoint answers with.
func (e *Endpoint) SetRetryAfter(v string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.RetryAfter = v
}

// Messages returns the messages accepted so far; Errors the requests that
// failed a check; Hits how many requests came.
func (e *Endpoint) Messages() []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Message(nil), e.msgs...)
}

func (e *Endpoint) Errors() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

func (e *Endpoint) Hits() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hits
}

// Wait waits until pred holds for the messages received, or fails the test
// after timeout.
func (e *Endpoint) Wait(t testing.TB, timeout time.Duration, what string, pred func([]Message) bool) []Message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if errs := e.Errors(); len(errs) > 0 {
			t.Fatalf("push endpoint: %v", errs[0])
		}
		ms := e.Messages()
		if pred(ms) {
			return ms
		}
		select {
		case <-e.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("push endpoint: %s: not within %v; got %d messages", what, timeout, len(ms))
		}
	}
}

func (e *Endpoint) check(r *http.Request) (Message, error) {
	m := Message{Header: r.Header.Clone(), At: time.Now()}
	if r.Method != http.MethodPost {
		return m, fmt.Errorf("method %s", r.Method)
	}
	if r.Header.Get("TTL") == "" {
		return m, errors.New("no TTL header (RFC 8030 §5.2)")
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		return m, fmt.Errorf("content encoding %q", ce)
	}
	e.mu.Lock()
	want := e.VAPIDKey
	e.mu.Unlock()
	if err := VerifyVAPID(r.Header.Get("Authorization"), "http://"+r.Host, want); err != nil {
		return m, err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8192))
	if err != nil {
		return m, err
	}
	plain, err := Decrypt(body, e.key, e.auth)
	if err != nil {
		return m, err
	}
	m.Plaintext = string(plain)
	var pm struct {
		XMLName xml.Name `xml:"https://bitfire.at/webdav-push push-message"`
		Topic   string   `xml:"https://bitfire.at/webdav-push topic"`
		Content *struct {
			SyncToken string `xml:"DAV: sync-token"`
		} `xml:"https://bitfire.at/webdav-push content-update"`
		Property *struct{} `xml:"https://bitfire.at/webdav-push property-update"`
	}
	if err := xml.Unmarshal(plain, &pm); err != nil {
		return m, fmt.Errorf("push-message: %v: %s", err, plain)
	}
	m.Topic, m.Property = pm.Topic, pm.Property != nil
	if pm.Content != nil {
		m.SyncToken = pm.Content.SyncToken
	}
	if m.Topic == "" {
		return m, fmt.Errorf("push-message without topic: %s", plain)
	}
	if got := r.Header.Get("Topic"); got != "" && got != m.Topic {
		return m, fmt.Errorf("Topic header %q is not the message's topic %q", got, m.Topic)
	}
	return m, nil
}

// VerifyVAPID checks an Authorization header of RFC 8292 §3: "vapid
// t=JWT, k=KEY", the JWT signed with ES256 by KEY (and KEY want, when
// set), for audience aud, expiring within 24 hours, with a subject.
func VerifyVAPID(header, aud, want string) error {
	rest, ok := strings.CutPrefix(header, "vapid ")
	if !ok {
		return fmt.Errorf("authorization %q is not vapid", header)
	}
	var tok, key string
	for _, p := range strings.Split(rest, ",") {
		p = strings.TrimSpace(p)
		if v, ok := strings.CutPrefix(p, "t="); ok {
			tok = v
		} else if v, ok := strings.CutPrefix(p, "k="); ok {
			key = v
		}
	}
	if want != "" && key != want {
		return fmt.Errorf("vapid key %q is not the server's %q", key, want)
	}
	kb, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil || len(kb) != 65 {
		return errors.New("vapid k is not a P-256 point")
	}
	x, y := elliptic.Unmarshal(elliptic.P256(), kb)
	if x == nil {
		return errors.New("vapid k is not on P-256")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("vapid t is not a JWT")
	}
	hdr, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	claims, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil || len(sig) != 64 {
		return errors.New("vapid JWT is malformed")
	}
	var h struct{ Alg string }
	if json.Unmarshal(hdr, &h) != nil || h.Alg != "ES256" {
		return fmt.Errorf("vapid JWT alg %q", h.Alg)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}
	if !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("vapid JWT signature does not verify")
	}
	var c struct {
		Aud string
		Exp int64
		Sub string
	}
	if err := json.Unmarshal(claims, &c); err != nil {
		return err
	}
	now := time.Now().Unix()
	switch {
	case c.Aud != aud:
		return fmt.Errorf("vapid aud %q, want %q", c.Aud, aud)
	case c.Exp <= now || c.Exp > now+24*3600:
		return fmt.Errorf("vapid exp %d not within 24 hours (RFC 8292 §2)", c.Exp)
	case c.Sub == "":
		return errors.New("vapid JWT without sub")
	}
	return nil
}

// Decrypt opens an aes128gcm body (RFC 8188 §2, keys of RFC 8291 §3.4)
// with the user agent's private key and auth secret.
func Decrypt(body []byte, ua *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("aes128gcm: short body")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if idlen != 65 || len(body) < 21+idlen {
		return nil, errors.New("aes128gcm: keyid is not the sender's P-256 key")
	}
	asPub, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		return nil, err
	}
	ct := body[21+idlen:]
	if uint32(len(ct)) > rs || rs < 18 {
		return nil, errors.New("aes128gcm: more than one record")
	}
	secret, err := ua.ECDH(asPub)
	if err != nil {
		return nil, err
	}
	hm := func(key []byte, parts ...[]byte) []byte {
		m := hmac.New(sha256.New, key)
		for _, p := range parts {
			m.Write(p)
		}
		return m.Sum(nil)
	}
	// RFC 8291 §3.3, §3.4.
	prkKey := hm(auth, secret)
	info := append(append([]byte("WebPush: info\x00"), ua.PublicKey().Bytes()...), asPub.Bytes()...)
	ikm := hm(prkKey, info, []byte{1})
	prk := hm(salt, ikm)
	cek := hm(prk, []byte("Content-Encoding: aes128gcm\x00"), []byte{1})[:16]
	nonce := hm(prk, []byte("Content-Encoding: nonce\x00"), []byte{1})[:12]
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, fmt.Errorf("aes128gcm: %w", err)
	}
	// RFC 8188 §2: the last record ends with 0x02 and zero padding.
	plain = bytes.TrimRight(plain, "\x00")
	if len(plain) == 0 || plain[len(plain)-1] != 2 {
		return nil, errors.New("aes128gcm: no last-record delimiter")
	}
	return plain[:len(plain)-1], nil
}
