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
