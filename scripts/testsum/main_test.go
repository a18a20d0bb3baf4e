package main

import (
	"strings"
	"testing"
)

func TestSummaryCounts(t *testing.T) {
	stream := []event{
		{Action: "run", Package: "p", Test: "TestA"},
		{Action: "output", Package: "p", Test: "TestA", Output: "quiet\n"},
		{Action: "pass", Package: "p", Test: "TestA"},
		{Action: "run", Package: "p", Test: "TestB/sub"},
		{Action: "output", Package: "p", Test: "TestB/sub", Output: "want 1, got 2\n"},
		{Action: "fail", Package: "p", Test: "TestB/sub"},
		{Action: "fail", Package: "p", Test: "TestB"},
		{Action: "skip", Package: "p", Test: "TestC"},
		{Action: "fail", Package: "p"},
		// A package that fails with no failing test (a panic in TestMain).
		{Action: "output", Package: "q", Output: "panic: boom\n"},
		{Action: "fail", Package: "q"},
		{Action: "skip", Package: "r"}, // no test files
		{Action: "pass", Package: "s", Test: "TestD"},
		{Action: "pass", Package: "s"},
	}
	var out strings.Builder
	s := newSummary(&out)
	for _, e := range stream {
		s.add(e)
	}
	if want := (counts{passed: 2, failed: 3, skipped: 1}); s.n != want {
		t.Errorf("counts = %+v, want %+v", s.n, want)
	}
	text := out.String()
	for _, want := range []string{"want 1, got 2", "panic: boom", "FAIL  p", "FAIL  q", "ok    s"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "quiet") {
		t.Errorf("output of a passing test was printed:\n%s", text)
	}
}
