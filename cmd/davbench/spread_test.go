package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// TestSpread: with --spread, new connections to --url's address go to
// each listed instance in turn, and --url's own address gets none unless
// listed.
func TestSpread(t *testing.T) {
	var hits [3]atomic.Int64
	var srvs [3]*httptest.Server
	for i := range srvs {
		srvs[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
		}))
		defer srvs[i].Close()
	}
	c := newClient("u", "p", 4, 5*time.Second, false)
	base, _ := url.Parse(srvs[0].URL)
	c.spread(hostPort(base), []string{srvs[1].Listener.Addr().String(), srvs[2].Listener.Addr().String()})
	for range 6 {
		// A fresh connection each time: close the idle ones.
		c.hc.CloseIdleConnections()
		req, _ := http.NewRequestWithContext(context.Background(), "GET", srvs[0].URL+"/x", nil)
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if got := [3]int64{hits[0].Load(), hits[1].Load(), hits[2].Load()}; got != [3]int64{0, 3, 3} {
		t.Errorf("requests per server %v; want [0 3 3]", got)
	}
	if got := hostPort(&url.URL{Scheme: "http", Host: "localhost"}); got != "localhost:80" {
		t.Errorf("hostPort of http://localhost = %s", got)
	}
}
