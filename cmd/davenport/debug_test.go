package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestServeDebug: the profiler answers on its own listener, says so when it
// is reachable from other machines, and stops with its context.
func TestServeDebug(t *testing.T) {
	for _, tt := range []struct {
		addr string
		warn bool
	}{
		{"127.0.0.1:0", false},
		{":0", true},
	} {
		var logs bytes.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		addr, err := serveDebug(ctx, tt.addr, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		port := addr.String()[strings.LastIndex(addr.String(), ":"):]
		url := "http://127.0.0.1" + port + "/debug/pprof/heap?debug=1"
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("heap profile")) {
			t.Errorf("%s: GET heap profile: %d %.80q", tt.addr, resp.StatusCode, body)
		}
		if got := strings.Contains(logs.String(), "level=WARN"); got != tt.warn {
			t.Errorf("%s: warning logged = %v, want %v:\n%s", tt.addr, got, tt.warn, logs.String())
		}
		cancel()
		for range 100 {
			if _, err = http.Get(url); err != nil {
				break
			}
		}
		if err == nil {
			t.Errorf("%s: the profiler still answers after its context ended", tt.addr)
		}
	}
}

// TestServeMetrics: --metrics-listen serves the metrics handler at
// /metrics, and nothing else.
func TestServeMetrics(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "go_goroutines 7\n") })
	addr, err := serveMetrics(ctx, "127.0.0.1:0", h, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want int
	}{{"/metrics", http.StatusOK}, {"/debug/pprof/", http.StatusNotFound}, {"/", http.StatusNotFound}} {
		resp, err := http.Get("http://" + addr.String() + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want || (c.want == http.StatusOK && string(body) != "go_goroutines 7\n") {
			t.Errorf("GET %s: %d %q, want %d", c.path, resp.StatusCode, body, c.want)
		}
	}
}
