package caldav

import "testing"

// TestTextMatchNegate checks negate-condition (RFC 4791 §9.7.5).
func TestTextMatchNegate(t *testing.T) {
	cases := []struct {
		negate, pattern, value string
		want                   bool
	}{
		{"", "cancel", "CANCELLED", true},
		{"no", "cancel", "CANCELLED", true},
		{"yes", "cancel", "CANCELLED", false},
		{"yes", "cancel", "CONFIRMED", true},
		{"yes", "", "anything", false},
	}
	for _, tc := range cases {
		got, err := textMatches(&TextMatch{NegateCondition: tc.negate, Value: tc.pattern}, tc.value)
		if err != nil || got != tc.want {
			t.Errorf("negate=%q %q in %q = %v, %v; want %v", tc.negate, tc.pattern, tc.value, got, err, tc.want)
		}
	}
}
