package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIsLoopbackHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.3.4.5", true},
		{"::1", true},
		{"[::1]", true},
		{"localhost", true},
		{"LocalHost.", true},
		{"dav.localhost", true},
		{"10.0.0.1", false},
		{"192.168.1.10", false},
		{"example.org", false},
		{"localhost.example.org", false},
		{"0.0.0.0", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isLoopbackHost(tt.host); got != tt.want {
			t.Errorf("isLoopbackHost(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

// The dialer refuses a non-loopback address before any packet is sent
// (an IP literal needs no resolver).
func TestClientRefusesRemote(t *testing.T) {
	c := newClient("u", "p", 1, 5*time.Second, false)
	_, err := c.do(context.Background(), request{Method: "GET", URL: "http://192.0.2.1:9/"})
	if !errors.Is(err, errNotLoopback) {
		t.Errorf("err = %v, want errNotLoopback", err)
	}
}

func TestRunRefusesRemoteURL(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--url", "http://192.0.2.1:8008/"}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "not a loopback") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestExcerpt(t *testing.T) {
	if got := excerpt([]byte("a  b\n\tc"), 10); got != "a b c" {
		t.Errorf("excerpt = %q", got)
	}
	got := excerpt([]byte(strings.Repeat("é", 10)), 5)
	if got != "éé…" {
		t.Errorf("excerpt cut inside a rune: %q", got)
	}
}

func TestParseProcKiB(t *testing.T) {
	status := "Name:\tdavenport\nVmPeak:\t  900000 kB\nVmHWM:\t   51234 kB\nVmRSS:\t   40000 kB\n"
	got, err := parseProcKiB(strings.NewReader(status), "VmHWM")
	if err != nil || got != 51234 {
		t.Errorf("VmHWM = %d, %v", got, err)
	}
	if _, err := parseProcKiB(strings.NewReader(status), "VmSwap"); err == nil {
		t.Error("missing key accepted")
	}
	if _, err := parseProcKiB(strings.NewReader("VmHWM: 12 MB\n"), "VmHWM"); err == nil {
		t.Error("unexpected unit accepted")
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		line string
		want int64
		ok   bool
	}{
		{"1234 (davenport) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 38 0 0 20 0 9 0 100 0 0", 288, true},
		// A command name with spaces and a parenthesis.
		{"42 (my (odd) srv) R 1 42 42 0 -1 0 0 0 0 0 7 5 0 0 20 0 1 0 1 0 0", 12, true},
		{"42 (x) R 1 2", 0, false},
		{"garbage", 0, false},
	}
	for _, tt := range tests {
		got, err := parseStatCPU(tt.line)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseStatCPU(%q) = %d, %v; want %d ok=%v", tt.line, got, err, tt.want, tt.ok)
		}
	}
}

func TestSettleOnIdleProcess(t *testing.T) {
	// This test process is near idle while it sleeps in settle; a process
	// that does not exist is an error, not an endless wait.
	if _, err := processCPUTicks(os.Getpid()); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if _, err := settle(context.Background(), 1<<30, time.Second); err == nil {
		t.Error("settle on a missing process succeeded")
	}
}

func TestSelectWorkloads(t *testing.T) {
	got, err := selectWorkloads("get, propfind,get")
	if err != nil || strings.Join(got, ",") != "propfind,get" {
		t.Errorf("selectWorkloads = %v, %v (want defined order, no duplicates)", got, err)
	}
	if _, err := selectWorkloads("get,bogus"); !errors.Is(err, errUsage) {
		t.Errorf("unknown workload: %v", err)
	}
	if all, _ := selectWorkloads("all"); len(all) != len(allWorkloads)-len(optInWorkloads) || slices.Contains(all, wFreeBusy) {
		t.Errorf("all = %v (want every workload but the opt-in ones)", all)
	}
	if got, err := selectWorkloads("free-busy,get"); err != nil || strings.Join(got, ",") != "get,free-busy" {
		t.Errorf("selectWorkloads(free-busy,get) = %v, %v", got, err)
	}
}

func TestSpeedupVerdict(t *testing.T) {
	peer := Result{Ops: 10, OpsPerSec: 10, P50Ms: 100}
	timedOut := Result{Errors: 8, Timeouts: 8}
	tests := []struct {
		name     string
		c, p     Result
		thr, lat float64
		bound    bool
		want     verdict
	}{
		{"20x throughput", Result{Ops: 1, OpsPerSec: 200, P50Ms: 50}, peer, 20, 2, false, verdictMet},
		{"p50 20x lower suffices", Result{Ops: 1, OpsPerSec: 50, P50Ms: 5}, peer, 5, 20, false, verdictMet},
		{"neither", Result{Ops: 1, OpsPerSec: 190, P50Ms: 6.25}, peer, 19, 16, false, verdictMissed},
		{"candidate failed", Result{Ops: 5, OpsPerSec: 1000, P50Ms: 1, Failure: "x"}, peer, 0, 0, false, verdictFailed},
		{"nothing measured", Result{}, peer, 0, 0, false, verdictFailed},
		{"peer timed out, candidate fast", Result{Ops: 9, OpsPerSec: 90, P50Ms: 100}, timedOut, 0, 600, true, verdictMet},
		{"peer timed out, candidate slow", Result{Ops: 9, OpsPerSec: 9, P50Ms: 6000}, timedOut, 0, 10, true, verdictMissed},
		{"peer failed otherwise", Result{Ops: 9, OpsPerSec: 9, P50Ms: 1}, Result{Errors: 8, Timeouts: 2}, 0, 0, false, verdictFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			thr, lat, bound, v := speedupVerdict(tt.c, tt.p, 60000, targetSpeedup)
			if v != tt.want || thr != tt.thr || lat != tt.lat || bound != tt.bound {
				t.Errorf("verdict %s thr ×%v p50 ×%v bound %v, want %s ×%v ×%v %v", v, thr, lat, bound, tt.want, tt.thr, tt.lat, tt.bound)
			}
		})
	}
}

func TestFlatVerdict(t *testing.T) {
	small := Result{Ops: 5, P50Ms: 2}
	if g, v := flatVerdict(small, Result{Ops: 5, P50Ms: 4}); v != verdictMet || g != 2 {
		t.Errorf("×2 = %v %s", g, v)
	}
	if _, v := flatVerdict(small, Result{Ops: 5, P50Ms: 4.1}); v != verdictMissed {
		t.Errorf("×2.05 = %s", v)
	}
	if _, v := flatVerdict(small, Result{Ops: 5, P50Ms: 1, Failure: "x"}); v != verdictFailed {
		t.Errorf("failed big run = %s", v)
	}
}

func TestCompareRoundTrip(t *testing.T) {
	dir := t.TempDir()
	peer := &Report{Label: "radicale", N: 1000, Results: []Result{
		{Workload: "get", Ops: 100, OpsPerSec: 100, P50Ms: 10},
		{Workload: "propfind", Ops: 2, OpsPerSec: 0.5, P50Ms: 4000},
	}}
	cand := &Report{Label: "davenport", N: 1000, Results: []Result{
		{Workload: "get", Ops: 3000, OpsPerSec: 3000, P50Ms: 2},
		{Workload: "propfind", Ops: 20, OpsPerSec: 5, P50Ms: 400, Failure: "PROPFIND …: status 500"},
	}}
	pp, cp := filepath.Join(dir, "p.json"), filepath.Join(dir, "c.json")
	if err := writeJSON(pp, peer); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(cp, cand); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"compare", pp, cp}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(out.String(), "\n")
	var get, pf string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "get "):
			get = l
		case strings.HasPrefix(l, "propfind "):
			pf = l
		}
	}
	if !strings.Contains(get, " 30 ") || !strings.HasSuffix(strings.TrimSpace(get), "met") {
		t.Errorf("get line %q", get)
	}
	if !strings.HasSuffix(strings.TrimSpace(pf), "failed") {
		t.Errorf("propfind line %q", pf)
	}
	if code := run(context.Background(), []string{"compare", pp}, &out, &errOut); code != 2 {
		t.Errorf("compare with one file: exit %d", code)
	}
}
