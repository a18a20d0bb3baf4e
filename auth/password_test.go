package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// cheap are argon2 parameters that keep unit tests fast.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func mustHash(t testing.TB, pw string, p Params) string {
	t.Helper()
	h, err := HashPasswordParams(pw, p)
	if err != nil {
		t.Fatalf("HashPasswordParams(%q): %v", pw, err)
	}
	return h
}

func TestHashVerifyRoundTrip(t *testing.T) {
	tests := []struct {
		name, pw, wrong string
	}{
		{"ascii", "correct horse battery staple", "correct horse battery stapl"},
		{"colon", "pass:word:with:colons", "pass:word:with:colon"},
		{"unicode", "пароль-密码-🔑", "пароль-密码-🔒"},
		{"one char", "x", "y"},
		{"case", "Secret", "secret"},
		{"long", strings.Repeat("long-", 200), strings.Repeat("long-", 199)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHash(t, tt.pw, cheap)
			if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Fatalf("hash %q lacks the PHC prefix", h)
			}
			ok, err := VerifyPassword(h, tt.pw)
			if err != nil || !ok {
				t.Fatalf("VerifyPassword(right) = %v, %v; want true, nil", ok, err)
			}
			ok, err = VerifyPassword(h, tt.wrong)
			if err != nil || ok {
				t.Fatalf("VerifyPassword(wrong) = %v, %v; want false, nil", ok, err)
			}
			if h2 := mustHash(t, tt.pw, cheap); h2 == h {
				t.Fatalf("two hashes of one password are equal: salt not random")
			}
		})
	}
}

func TestVerifyNormalizesToNFC(t *testing.T) {
	composed, decomposed := "caf\u00e9", "cafe\u0301"
	h := mustHash(t, decomposed, cheap)
	if ok, err := VerifyPassword(h, composed); err != nil || !ok {
		t.Fatalf("NFC-equivalent password rejected: %v, %v", ok, err)
	}
}

func TestHashPasswordRejects(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		p    Params
		want error
	}{
		{"empty password", "", cheap, ErrEmptyPassword},
		{"zero time", "pw", Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}, nil},
		{"zero threads", "pw", Params{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32}, nil},
		{"memory below 8 KiB per lane", "pw", Params{Memory: 15, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}, nil},
		{"short salt", "pw", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}, nil},
		{"short key", "pw", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := HashPasswordParams(tt.pw, tt.p)
			if err == nil {
				t.Fatalf("HashPasswordParams = %q, nil; want an error", h)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	salt := b64.EncodeToString([]byte("0123456789abcdef"))
	key := b64.EncodeToString(make([]byte, 32))
	ok := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt + "$" + key }
	tests := []struct{ name, hash string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"no leading dollar", "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"missing version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"version 16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"too many fields", ok("m=64,t=1,p=1") + "$x"},
		{"params out of order", ok("t=1,m=64,p=1")},
		{"extra param", ok("m=64,t=1,p=1,keyid=x")},
		{"missing param", ok("m=64,t=1")},
		{"leading zero", ok("m=064,t=1,p=1")},
		{"negative", ok("m=-64,t=1,p=1")},
		{"not a number", ok("m=lots,t=1,p=1")},
		{"empty value", ok("m=,t=1,p=1")},
		{"time zero", ok("m=64,t=0,p=1")},
		{"time huge", ok("m=64,t=1000000,p=1")},
		{"lanes zero", ok("m=64,t=1,p=0")},
		{"lanes over 255", ok("m=64,t=1,p=256")},
		{"memory below lanes", ok("m=8,t=1,p=2")},
		{"memory huge", ok("m=4294967295,t=1,p=1")},
		{"memory overflows uint32", ok("m=4294967296,t=1,p=1")},
		{"salt bad base64", "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key},
		{"salt padded", "$argon2id$v=19$m=64,t=1,p=1$" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")) + "$" + key},
		{"salt too short", "$argon2id$v=19$m=64,t=1,p=1$" + b64.EncodeToString([]byte("short")) + "$" + key},
		{"hash too short", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + b64.EncodeToString(make([]byte, 8))},
		{"hash empty", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := VerifyPassword(tt.hash, "pw")
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("VerifyPassword(%q) = %v, %v; want false, ErrMalformedHash", tt.hash, ok, err)
			}
		})
	}
	// The control: the well-formed template verifies without error.
	if _, err := VerifyPassword(ok("m=64,t=1,p=1"), "pw"); err != nil {
		t.Fatalf("well-formed template rejected: %v", err)
	}
}

// TestParamsParsedFromHash builds hashes by hand with unusual parameters and
// checks that verification uses what the string records, not the defaults.
func TestParamsParsedFromHash(t *testing.T) {
	tests := []Params{
		{Memory: 32, Time: 3, Threads: 2, SaltLen: 12, KeyLen: 20},
		{Memory: 128, Time: 1, Threads: 4, SaltLen: 8, KeyLen: 64},
		{Memory: 100, Time: 2, Threads: 1, SaltLen: 64, KeyLen: 16},
	}
	for _, p := range tests {
		t.Run(fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads), func(t *testing.T) {
			salt := []byte(strings.Repeat("s", int(p.SaltLen)))
			key := argon2.IDKey([]byte("pw"), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
			h := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s",
				p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
			got, err := parseHash(h)
			if err != nil {
				t.Fatal(err)
			}
			if got.params != p {
				t.Fatalf("parsed params %+v; want %+v", got.params, p)
			}
			if ok, err := VerifyPassword(h, "pw"); err != nil || !ok {
				t.Fatalf("VerifyPassword = %v, %v; want true", ok, err)
			}
			if ok, _ := VerifyPassword(h, "pW"); ok {
				t.Fatal("wrong password accepted")
			}
			// The same key under other recorded parameters must not verify.
			other := strings.Replace(h, fmt.Sprintf("t=%d", p.Time), fmt.Sprintf("t=%d", p.Time+1), 1)
			if ok, _ := VerifyPassword(other, "pw"); ok {
				t.Fatal("verification ignored the recorded time cost")
			}
		})
	}
}

func TestDefaultParams(t *testing.T) {
	p := DefaultParams()
	if p.Memory < 19*1024 || p.Time < 2 || p.Threads < 1 || p.SaltLen < 16 || p.KeyLen < 32 {
		t.Fatalf("DefaultParams %+v below the OWASP argon2id minimum (19 MiB, t=2, p=1)", p)
	}
	h, err := HashPassword("default cost")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", p.Memory, p.Time, p.Threads)
	if !strings.HasPrefix(h, want) {
		t.Fatalf("HashPassword = %q; want prefix %q", h, want)
	}
	got, err := parseHash(h)
	if err != nil || got.params != p {
		t.Fatalf("parseHash = %+v, %v; want params %+v", got.params, err, p)
	}
	if ok, err := VerifyPassword(h, "default cost"); err != nil || !ok {
		t.Fatalf("VerifyPassword = %v, %v", ok, err)
	}
}

func TestKeysEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b []byte
		want bool
	}{
		{"equal", []byte{1, 2, 3}, []byte{1, 2, 3}, true},
		{"first differs", []byte{0, 2, 3}, []byte{1, 2, 3}, false},
		{"last differs", []byte{1, 2, 4}, []byte{1, 2, 3}, false},
		{"prefix", []byte{1, 2}, []byte{1, 2, 3}, false},
		{"empty vs non-empty", nil, []byte{1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keysEqual(tt.a, tt.b); got != tt.want {
				t.Fatalf("keysEqual = %v; want %v", got, tt.want)
			}
		})
	}
}

// TestVerifyComparesWholeKey flips each byte of a stored key in turn: every
// one must make verification fail, so the comparison covers the whole key.
func TestVerifyComparesWholeKey(t *testing.T) {
	h := mustHash(t, "pw", cheap)
	parsed, err := parseHash(h)
	if err != nil {
		t.Fatal(err)
	}
	prefix := h[:strings.LastIndexByte(h, '$')+1]
	for i := range parsed.key {
		k := append([]byte(nil), parsed.key...)
		k[i] ^= 0x01
		if ok, err := VerifyPassword(prefix+b64.EncodeToString(k), "pw"); ok || err != nil {
			t.Fatalf("byte %d flipped: VerifyPassword = %v, %v; want false, nil", i, ok, err)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	format := regexp.MustCompile(`^[a-km-np-z2-9]{4}(-[a-km-np-z2-9]{4}){4}$`)
	seen := make(map[string]bool)
	counts := make(map[rune]int)
	const n = 2000
	for range n {
		pw := GeneratePassword()
		if !format.MatchString(pw) {
			t.Fatalf("GeneratePassword() = %q; want xxxx-xxxx-xxxx-xxxx-xxxx", pw)
		}
		if strings.ContainsAny(pw, "01ilo") {
			t.Fatalf("GeneratePassword() = %q contains an ambiguous character", pw)
		}
		if seen[pw] {
			t.Fatalf("GeneratePassword() repeated %q", pw)
		}
		seen[pw] = true
		for _, r := range strings.ReplaceAll(pw, "-", "") {
			counts[r]++
		}
	}
	// 40000 draws over 31 symbols: each expected ~1290 times. A symbol far
	// off means a biased or broken sampler.
	if len(counts) != len(passwordAlphabet) {
		t.Fatalf("used %d symbols; want all %d", len(counts), len(passwordAlphabet))
	}
	for r, c := range counts {
		if c < 1000 || c > 1600 {
			t.Errorf("symbol %q drawn %d times; want about 1290", r, c)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h, err := HashPassword("benchmark password")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := VerifyPassword(h, "benchmark password"); !ok || err != nil {
			b.Fatal("verify failed")
		}
	}
}
