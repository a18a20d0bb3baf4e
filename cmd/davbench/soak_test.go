package main

import (
	"strings"
	"testing"
)

func TestJudge(t *testing.T) {
	idle := procStats{RSSKiB: 40 << 10, FDs: 30, Threads: 10, Goroutines: 20}
	win := func(p99 float64, rssMiB int64, errs int) soakWindow {
		return soakWindow{Ops: 1000, Errors: errs, P99Ms: p99, Server: procStats{RSSKiB: rssMiB << 10, FDs: 32, Threads: 10, Goroutines: 30}}
	}
	unknown := procStats{RSSKiB: -1, FDs: -1, Threads: -1, Goroutines: -1}
	tests := []struct {
		name     string
		windows  []soakWindow
		after    procStats
		pass     bool
		failing  string // the criterion that fails
		unknowns int
	}{
		{"steady", []soakWindow{win(80, 40, 0), win(90, 41, 0), win(100, 42, 0)}, idle, true, "", 0},
		{"p99 doubled and more", []soakWindow{win(50, 40, 0), win(101, 40, 0)}, idle, false, "p99", 0},
		{"rss grows", []soakWindow{win(50, 100, 0), win(50, 130, 0)}, idle, false, "rss", 0},
		{"small rss within 16 MiB", []soakWindow{win(50, 20, 0), win(50, 35, 0)}, idle, true, "", 0},
		{"errors", []soakWindow{win(50, 40, 0), win(50, 40, 3)}, idle, false, "errors", 0},
		{"goroutine leak", []soakWindow{win(50, 40, 0), win(50, 40, 0)}, procStats{RSSKiB: 40 << 10, FDs: 30, Goroutines: 60}, false, "goroutines", 0},
		{"fd leak", []soakWindow{win(50, 40, 0), win(50, 40, 0)}, procStats{RSSKiB: 40 << 10, FDs: 300, Goroutines: 20}, false, "fds", 0},
		{"a partial tail does not count", []soakWindow{win(50, 40, 0), win(60, 40, 0), {Ops: 3, P99Ms: 900, Partial: true, Server: idle}}, idle, true, "", 0},
		{"one window is not enough", []soakWindow{win(50, 40, 0)}, idle, false, "p99", 0},
		{"nothing measured of the process", []soakWindow{
			{Ops: 9, P99Ms: 5, Server: unknown}, {Ops: 9, P99Ms: 6, Server: unknown}}, unknown, true, "", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := idle
			if tc.unknowns > 0 {
				before = unknown
			}
			got, pass := judge(tc.windows, before, tc.after)
			if pass != tc.pass {
				t.Errorf("pass = %v, want %v: %+v", pass, tc.pass, got)
			}
			unknowns := 0
			for _, c := range got {
				if !c.Known {
					unknowns++
					continue
				}
				if !c.Pass && c.Name != tc.failing {
					t.Errorf("%s fails: %s", c.Name, c.Detail)
				}
				if c.Pass && c.Name == tc.failing {
					t.Errorf("%s passes: %s", c.Name, c.Detail)
				}
			}
			if tc.failing != "p99" || len(tc.windows) > 1 {
				if unknowns != tc.unknowns {
					t.Errorf("%d criteria not measured, want %d: %+v", unknowns, tc.unknowns, got)
				}
			}
		})
	}
}

func TestParseGoroutineTotal(t *testing.T) {
	n, err := parseGoroutineTotal(strings.NewReader("goroutine profile: total 42\n7 @ 0x1 0x2\n"))
	if err != nil || n != 42 {
		t.Errorf("= %d, %v; want 42", n, err)
	}
	if _, err := parseGoroutineTotal(strings.NewReader("<html>\n")); err == nil {
		t.Error("a page that is not a goroutine profile was read as one")
	}
	v, err := parseProcField(strings.NewReader("Name:\tdavenport\nThreads:\t11\n"), "Threads")
	if err != nil || v != 11 {
		t.Errorf("Threads = %d, %v; want 11", v, err)
	}
}
