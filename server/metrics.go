package server

import (
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/davenport-dav/davenport/push"
)

// metrics counts requests for /metrics in the Prometheus text format
// (version 0.0.4). A handful of counters do not justify a client library.
type metrics struct {
	start    time.Time
	inFlight atomic.Int64

	// push, when set, is the WebDAV-Push sender whose counters are shown.
	push *push.Service

	mu       sync.Mutex
	requests map[reqKey]uint64
	hist     map[string]*histogram // by method
}

type reqKey struct {
	method string
	code   int
}

// Request duration buckets in seconds.
var buckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type histogram struct {
	counts []uint64 // per bucket, cumulative when written
	sum    float64
	count  uint64
}

func newMetrics() *metrics {
	return &metrics{start: time.Now(), requests: map[reqKey]uint64{}, hist: map[string]*histogram{}}
}

// knownMethods bounds label cardinality: anything else is counted as OTHER.
var knownMethods = map[string]bool{
	"GET": true, "HEAD": true, "PUT": true, "DELETE": true, "OPTIONS": true, "POST": true,
	"PROPFIND": true, "PROPPATCH": true, "REPORT": true, "MKCOL": true, "MKCALENDAR": true,
	"COPY": true, "MOVE": true,
}

func (m *metrics) observe(method string, code int, d time.Duration) {
	if !knownMethods[method] {
		method = "OTHER"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[reqKey{method, code}]++
	h := m.hist[method]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(buckets))}
		m.hist[method] = h
	}
	s := d.Seconds()
	for i, b := range buckets {
		if s <= b {
			h.counts[i]++
		}
	}
	h.sum += s
	h.count++
}

func (m *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.mu.Lock()
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].method != keys[j].method {
			return keys[i].method < keys[j].method
		}
		return keys[i].code < keys[j].code
	})
	fmt.Fprintln(w, "# HELP davenport_http_requests_total HTTP requests by method and status code.")
	fmt.Fprintln(w, "# TYPE davenport_http_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "davenport_http_requests_total{method=%q,code=\"%d\"} %d\n", k.method, k.code, m.requests[k])
	}
	methods := make([]string, 0, len(m.hist))
	for meth := range m.hist {
		methods = append(methods, meth)
	}
	sort.Strings(methods)
	fmt.Fprintln(w, "# HELP davenport_http_request_duration_seconds Time to answer a request.")
	fmt.Fprintln(w, "# TYPE davenport_http_request_duration_seconds histogram")
	for _, meth := range methods {
		h := m.hist[meth]
		for i, b := range buckets {
			fmt.Fprintf(w, "davenport_http_request_duration_seconds_bucket{method=%q,le=%q} %d\n", meth, strconv.FormatFloat(b, 'g', -1, 64), h.counts[i])
		}
		fmt.Fprintf(w, "davenport_http_request_duration_seconds_bucket{method=%q,le=\"+Inf\"} %d\n", meth, h.count)
		fmt.Fprintf(w, "davenport_http_request_duration_seconds_sum{method=%q} %g\n", meth, h.sum)
		fmt.Fprintf(w, "davenport_http_request_duration_seconds_count{method=%q} %d\n", meth, h.count)
	}
	m.mu.Unlock()

	if m.push != nil {
		for _, c := range []struct {
			name, help string
			n          uint64
		}{
			{"sent", "WebDAV-Push messages the push services accepted.", m.push.Stats.Sent.Load()},
			{"failed", "WebDAV-Push messages that failed (each attempt).", m.push.Stats.Failed.Load()},
			{"dropped", "WebDAV-Push subscriptions dropped on 404/410.", m.push.Stats.Dropped.Load()},
			{"coalesced", "Changes announced in another change's WebDAV-Push message.", m.push.Stats.Coalesced.Load()},
		} {
			fmt.Fprintf(w, "# HELP davenport_push_%s_total %s\n# TYPE davenport_push_%s_total counter\n", c.name, c.help, c.name)
			fmt.Fprintf(w, "davenport_push_%s_total %d\n", c.name, c.n)
		}
	}
	fmt.Fprintln(w, "# HELP davenport_http_requests_in_flight Requests being served.")
	fmt.Fprintln(w, "# TYPE davenport_http_requests_in_flight gauge")
	fmt.Fprintf(w, "davenport_http_requests_in_flight %d\n", m.inFlight.Load())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintln(w, "# HELP davenport_go_heap_bytes Bytes of allocated heap objects.")
	fmt.Fprintln(w, "# TYPE davenport_go_heap_bytes gauge")
	fmt.Fprintf(w, "davenport_go_heap_bytes %d\n", ms.HeapAlloc)
	fmt.Fprintln(w, "# HELP davenport_go_goroutines Goroutines that currently exist.")
	fmt.Fprintln(w, "# TYPE davenport_go_goroutines gauge")
	fmt.Fprintf(w, "davenport_go_goroutines %d\n", runtime.NumGoroutine())
	fmt.Fprintln(w, "# HELP davenport_uptime_seconds Seconds since the server started.")
	fmt.Fprintln(w, "# TYPE davenport_uptime_seconds gauge")
	fmt.Fprintf(w, "davenport_uptime_seconds %g\n", time.Since(m.start).Seconds())
}
