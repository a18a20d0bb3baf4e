package store

import (
	"errors"
	"maps"
	"testing"
)

func TestCanonicalUsername(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"alice", "alice"},
		{"Alice", "alice"},
		{"ALICE", "alice"},
		{"zo\u00eb", "zo\u00eb"},
		{"zoe\u0308", "zo\u00eb"},      // decomposed → composed
		{"ZOE\u0308", "zo\u00eb"},      // and lower-cased
		{"\u0130", "i"},                // İ precomposed…
		{"I\u0307", "i"},               // …and decomposed are one name
		{"stra\u00dfe", "stra\u00dfe"}, // ß is lower case already; no folding to ss
		{"\u212a", "k"},                // KELVIN SIGN
		{"a.b-c_d@example.org", "a.b-c_d@example.org"},
	} {
		got := CanonicalUsername(tt.in)
		if got != tt.want {
			t.Errorf("CanonicalUsername(%+q) = %+q; want %+q", tt.in, got, tt.want)
		}
		if again := CanonicalUsername(got); again != got {
			t.Errorf("CanonicalUsername is not idempotent on %+q: %+q", got, again)
		}
	}
	if n := testing.AllocsPerRun(100, func() { CanonicalUsername("alice") }); n != 0 {
		t.Errorf("CanonicalUsername of a canonical name allocates %v times", n)
	}
}

// TestValidateUsername: the one rule for new user names.
func TestValidateUsername(t *testing.T) {
	long := ""
	for range MaxUsernameLen {
		long += "\u00e9" // two bytes, one character
	}
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{"Alice", true},                          // stored as alice
		{"zo\u00eb", true},                       // NFC
		{"zoe\u0308", true},                      // NFD: stored NFC, a twin of the one above (CreateUser: ErrConflict)
		{"stra\u00dfe", true},                    // ß has no other lower case
		{"\u03c3\u03bf\u03c6\u03af\u03b1", true}, // σοφία
		{"\u674e\u96f7", true},                   // 李雷
		{"a.b-c_d+e@example.org", true},
		{"..alice", true},
		{long, true},
		{long + "x", false},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"a:b", false},
		{"a b", false},
		{"a\u00a0b", false},                       // no-break space
		{"a\tb", false},                           // control
		{"a\x7fb", false},                         // DEL
		{"a\u0085b", false},                       // C1 control (NEL)
		{"admin\u200b", false},                    // zero-width space (format)
		{"\u202ealice", false},                    // right-to-left override (format)
		{"al\xffice", false},                      // not UTF-8
		{"\xc0\xae\xc0\xae", false},               // overlong "..", not UTF-8
		{"\u03bd\u03af\u03ba\u03bf\u03c2", false}, // νίκος: final ς is another case of σ
		{"\u0131rmak", false},                     // dotless ı upper-cases like i
		{"\u017fam", false},                       // long ſ upper-cases like s
		{"\u00b5", false},                         // micro sign: Greek μ
	} {
		err := ValidateUsername(tt.name)
		if tt.ok != (err == nil) {
			t.Errorf("ValidateUsername(%+q) = %v; want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidUsername) {
			t.Errorf("ValidateUsername(%+q) = %v; want ErrInvalidUsername", tt.name, err)
		}
	}
}

func TestCanonicalRenames(t *testing.T) {
	got, err := CanonicalRenames(map[int64]string{1: "alice", 2: "Bob", 3: "zoe\u0308"})
	if want := map[int64]string{2: "bob", 3: "zo\u00eb"}; err != nil || !maps.Equal(got, want) {
		t.Errorf("CanonicalRenames = %v, %v; want %v", got, err, want)
	}
	_, err = CanonicalRenames(map[int64]string{1: "alice", 2: "Alice", 3: "bob", 4: "BOB", 5: "carol"})
	var twins *UsernameTwinsError
	if !errors.As(err, &twins) || len(twins.Groups) != 2 || len(twins.Groups[0]) != 2 {
		t.Errorf("CanonicalRenames with twins = %v; want two groups of two", err)
	}
}
