package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// ErrMalformedHash reports a stored password hash that is not an argon2id
// PHC string this package can verify: a corrupt row, another algorithm, or
// parameters outside the accepted bounds. It is a data error, never a
// credential error.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// ErrEmptyPassword is returned when asked to hash an empty password.
var ErrEmptyPassword = errors.New("auth: empty password")

// Params are argon2id cost parameters. They are written into every hash, so
// they can be raised later without invalidating the hashes already stored.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes of derived key
}

// DefaultParams returns the parameters new hashes are made with: the OWASP
// Password Storage Cheat Sheet's argon2id configuration of 19 MiB, two passes
// and one lane. One verification costs tens of milliseconds and 19 MiB while
// it runs; the Authenticator bounds how many run at once.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters. The lower ones keep a hash meaningful; the upper ones
// keep a corrupt or hostile row from making one verification allocate
// gigabytes or run for minutes.
const (
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 64
)

func (p Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("time %d outside 1..%d", p.Time, maxTime)
	case p.Threads < 1:
		return fmt.Errorf("threads %d < 1", p.Threads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		// argon2 needs at least 8 KiB per lane.
		return fmt.Errorf("memory %d KiB outside %d..%d", p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d outside %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d outside %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// normalizePassword maps pw to Unicode Normalization Form C before hashing and
// before verifying, so canonically equivalent spellings of one password (an
// "é" typed as one code point or as e + combining accent) match.
// RFC 7617 §2.1: with charset="UTF-8" the server "expects character data to be
// converted to Unicode Normalization Form C"; not every client does.
func normalizePassword(pw string) []byte {
	return []byte(norm.NFC.String(pw))
}

// HashPassword hashes pw with argon2id at DefaultParams and returns the PHC
// string $argon2id$v=19$m=…,t=…,p=…$salt$hash (unpadded standard base64).
func HashPassword(pw string) (string, error) {
	return HashPasswordParams(pw, DefaultParams())
}

// HashPasswordParams is HashPassword with explicit parameters.
func HashPasswordParams(pw string, p Params) (string, error) {
	if pw == "" {
		return "", ErrEmptyPassword
	}
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	rand.Read(salt) // never fails (crypto/rand, Go ≥ 1.24)
	key := argon2.IDKey(normalizePassword(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// b64 is the PHC string format's base64: standard alphabet, no padding; Strict
// refuses non-canonical trailing bits so each hash has a single spelling.
var b64 = base64.RawStdEncoding.Strict()

// phcHash is a parsed argon2id PHC string.
type phcHash struct {
	params Params
	salt   []byte
	key    []byte
}

// parseHash parses an argon2id PHC string. The version field is required (the
// PHC rules default a missing one to 0x10, which x/crypto/argon2 does not
// implement), the parameters must come as m, t, p in that order, and no
// optional fields (keyid, data) are accepted.
func parseHash(s string) (phcHash, error) {
	var h phcHash
	fail := func(why string) (phcHash, error) {
		return phcHash{}, fmt.Errorf("%w: %s", ErrMalformedHash, why)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return fail("not a PHC string with 5 fields")
	}
	if parts[1] != "argon2id" {
		return fail("algorithm is not argon2id")
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok || v != strconv.Itoa(argon2.Version) {
		return fail("unsupported version")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return fail("want parameters m, t, p")
	}
	var nums [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		val, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok || val == "" || (len(val) > 1 && val[0] == '0') {
			return fail("bad parameter " + name)
		}
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil {
			return fail("bad parameter " + name)
		}
		nums[i] = n
	}
	if nums[2] > 255 {
		return fail("parameter p out of range")
	}
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil {
		return fail("bad salt encoding")
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil {
		return fail("bad hash encoding")
	}
	h.params = Params{
		Memory:  uint32(nums[0]),
		Time:    uint32(nums[1]),
		Threads: uint8(nums[2]),
		SaltLen: uint32(len(h.salt)),
		KeyLen:  uint32(len(h.key)),
	}
	if err := h.params.validate(); err != nil {
		return fail(err.Error())
	}
	return h, nil
}

// VerifyPassword reports whether pw matches the PHC string hash, using the
// parameters recorded in hash. A hash that cannot be parsed is an error
// wrapping ErrMalformedHash, never a plain mismatch.
func VerifyPassword(hash, pw string) (ok bool, err error) {
	h, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	p := h.params
	key := argon2.IDKey(normalizePassword(pw), h.salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return keysEqual(key, h.key), nil
}

// keysEqual compares two derived keys in time independent of where they
// differ, so response timing reveals nothing about how close a guess came.
func keysEqual(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}

// passwordAlphabet has no look-alikes: no 0/o, 1/l/i, and lower case only so
// nothing depends on the shift key of a phone keyboard.
// MinPasswordLen is the shortest password a person may choose for an
// account (NIST SP 800-63B §5.1.1.2: at least 8 characters), counted in
// characters. The CLI and the web UI both apply it; generated passwords are
// long and random, and are not checked.
const MinPasswordLen = 8

const passwordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// GeneratePassword returns a random password of five groups of four
// characters from a 31-symbol alphabet, e.g. "k7pq-zm3x-…": about 99 bits of
// entropy, easy to read aloud and to type on a phone. Used for app passwords
// and initial account passwords.
func GeneratePassword() string {
	const groups, per = 5, 4
	out := make([]byte, 0, groups*per+groups-1)
	var buf [64]byte
	used := len(buf)
	for i := 0; i < groups*per; {
		if used == len(buf) {
			rand.Read(buf[:]) // never fails (crypto/rand, Go ≥ 1.24)
			used = 0
		}
		b := buf[used]
		used++
		// Rejection sampling: 248 = 8*31 keeps the distribution uniform.
		if int(b) >= 8*len(passwordAlphabet) {
			continue
		}
		if i > 0 && i%per == 0 {
			out = append(out, '-')
		}
		out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
		i++
	}
	return string(out)
}
