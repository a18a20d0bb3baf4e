package push

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// GenerateVAPIDKeys makes a VAPID key pair (RFC 8292 §3.2): the P-256
// private scalar and the uncompressed public point, base64url.
func GenerateVAPIDKeys() (priv, pub string, err error) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	return b64.EncodeToString(k.Bytes()), b64.EncodeToString(k.PublicKey().Bytes()), nil
}

var b64 = base64.RawURLEncoding

// decodeKey reads base64url with or without padding, as clients and
// older key stores write it.
func decodeKey(s string) ([]byte, error) {
	return b64.DecodeString(strings.TrimRight(s, "="))
}

// vapid signs the Authorization of Web Push requests (RFC 8292 §2, §3).
// A JWT is valid for any request to its audience (a push service's
// origin) until it expires, so one is made per audience and reused: a
// burst to many subscriptions of one push service costs one signature.
type vapid struct {
	key     *ecdsa.PrivateKey
	pub     string // base64url, the header's k
	subject string

	mu    sync.Mutex
	cache map[string]vapidToken
}

type vapidToken struct {
	header string
	renew  time.Time
}

// vapidLifetime is a JWT's exp from its making (RFC 8292 §2: at most 24
// hours); it is renewed when half of that has passed.
const vapidLifetime = 12 * time.Hour

func newVAPID(priv, pub, subject string) (*vapid, error) {
	d, err := decodeKey(priv)
	if err != nil {
		return nil, fmt.Errorf("vapid private key: %w", err)
	}
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		return nil, fmt.Errorf("vapid private key: %w", err)
	}
	p, err := decodeKey(pub)
	if err != nil {
		return nil, fmt.Errorf("vapid public key: %w", err)
	}
	if own, err := key.PublicKey.Bytes(); err != nil || string(own) != string(p) {
		return nil, errors.New("vapid public key is not the private key's")
	}
	return &vapid{key: key, pub: b64.EncodeToString(p), subject: subject, cache: map[string]vapidToken{}}, nil
}

// authorization is the Authorization header value for a request to the
// push resource u at now.
func (v *vapid) authorization(u *url.URL, now time.Time) (string, error) {
	aud := u.Scheme + "://" + u.Host
	v.mu.Lock()
	t, ok := v.cache[aud]
	v.mu.Unlock()
	if ok && now.Before(t.renew) {
		return t.header, nil
	}
	claims, err := json.Marshal(struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}{aud, now.Add(vapidLifetime).Unix(), v.subject})
	if err != nil {
		return "", err
	}
	signed := b64.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`)) + "." + b64.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, v.key, sum[:])
	if err != nil {
		return "", err
	}
	// JWS ES256 (RFC 7518 §3.4): R and S, 32 bytes each.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	t = vapidToken{header: "vapid t=" + signed + "." + b64.EncodeToString(sig) + ", k=" + v.pub,
		renew: now.Add(vapidLifetime / 2)}
	v.mu.Lock()
	if len(v.cache) > 1000 { // audiences are push services: few
		clear(v.cache)
	}
	v.cache[aud] = t
	v.mu.Unlock()
	return t.header, nil
}

// encrypt seals plain for a user agent as one aes128gcm record (RFC 8188
// §2 with the keys of RFC 8291 §3.3 and §3.4): as is the sender's
// ephemeral key pair and salt 16 random bytes, both new for each message.
// The messages carry no private data, so they are not padded.
// recordSize is the aes128gcm record size announced (RFC 8188 §2.1): the
// 4096 bytes every push service takes (RFC 8291 §4).
const recordSize = 4096

func encrypt(plain []byte, uaPublic, authSecret []byte, as *ecdh.PrivateKey, salt []byte) ([]byte, error) {
	ua, err := ecdh.P256().NewPublicKey(uaPublic)
	if err != nil {
		return nil, fmt.Errorf("p256dh: %w", err)
	}
	if len(authSecret) != 16 || len(salt) != 16 {
		return nil, errors.New("auth secret and salt are 16 bytes")
	}
	secret, err := as.ECDH(ua)
	if err != nil {
		return nil, err
	}
	asPublic := as.PublicKey().Bytes()
	// RFC 8291 §3.4: IKM from the shared secret, keyed by the auth
	// secret, bound to both public keys.
	info := append(append([]byte("WebPush: info\x00"), uaPublic...), asPublic...)
	ikm, err := hkdf.Key(sha256.New, secret, authSecret, string(info), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// The header (salt, record size, key id = the sender's public key),
	// then the one record: the plaintext and the last-record delimiter.
	if len(plain)+1+gcm.Overhead() > recordSize {
		return nil, errors.New("push message longer than one record")
	}
	out := make([]byte, 0, 21+len(asPublic)+len(plain)+1+gcm.Overhead())
	out = append(out, salt...)
	out = binary.BigEndian.AppendUint32(out, recordSize)
	out = append(out, byte(len(asPublic)))
	out = append(out, asPublic...)
	return gcm.Seal(out, nonce, append(plain[:len(plain):len(plain)], 2), nil), nil
}
