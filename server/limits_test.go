package server_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestMaxInFlight: with MaxInFlight requests being served, the next one is
// refused at once with 503 and Retry-After (not queued behind them);
// /healthz still answers; once a slot frees, requests are served again.
func TestMaxInFlight(t *testing.T) {
	srv := newEnv(t, testdb.SQLite(t), func(c *server.Config) { c.MaxInFlight = 2 }).srv

	// Two PUTs whose bodies never end hold both slots.
	var writers []*io.PipeWriter
	done := make(chan int, 2)
	for range 2 {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/dav/calendars/alice/personal/slow.ics", pr)
		req.SetBasicAuth("alice", alicePassword)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		pw.Write([]byte("BEGIN:VCALENDAR\r\n"))
	}
	time.Sleep(200 * time.Millisecond)

	get := func(path string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.SetBasicAuth("alice", alicePassword)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("GET %s took %v: a refusal must not wait", path, took)
		}
		return resp
	}
	if resp := get("/dav/calendars/alice/personal/"); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("third request = %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := get("/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz while full = %d, want 200", resp.StatusCode)
	}

	for _, pw := range writers {
		pw.CloseWithError(io.ErrUnexpectedEOF)
	}
	for range 2 {
		<-done
	}
	if resp := get("/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d", resp.StatusCode)
	}
	if resp := get("/dav/calendars/alice/personal/"); resp.StatusCode == http.StatusServiceUnavailable {
		t.Errorf("request after the slots freed = 503")
	}
}
