package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/push"
	"github.com/davenport-dav/davenport/store"
)

// metrics holds the server's Prometheus registry: Go runtime and process
// collectors, request and store latency histograms, authentication
// failures and the iMIP queue depth. Each Server has its own registry, so
// tests (and several servers in one process) do not share counters.
type metrics struct {
	reg      *prometheus.Registry
	inFlight prometheus.Gauge
	requests *prometheus.HistogramVec
	// observers caches requests' children by label index: resolving a
	// child by its label values costs a hash and a lock per request, and
	// the label sets are few and fixed (see knownMethods, kinds).
	observers [len(knownMethods) + 1][5][numKinds]atomic.Pointer[prometheus.Observer]
	store     *prometheus.HistogramVec
}

// Request duration buckets in seconds.
var buckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Store call buckets in seconds: most calls take well under a millisecond.
var storeBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}

// knownMethods bounds label cardinality: anything else is counted as OTHER
// (the last index).
var knownMethods = [...]string{
	"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "POST",
	"PROPFIND", "PROPPATCH", "REPORT", "MKCOL", "MKCALENDAR",
	"COPY", "MOVE", "LOCK", "UNLOCK",
}

func methodIndex(m string) int {
	for i, k := range knownMethods {
		if k == m {
			return i
		}
	}
	return len(knownMethods)
}

func methodLabel(i int) string {
	if i == len(knownMethods) {
		return "OTHER"
	}
	return knownMethods[i]
}

// Request kinds, from the URL space (DESIGN.md): the label says what a
// request was for without naming users or collections.
const (
	kindCalendar = iota
	kindAddressbook
	kindFiles
	kindInbox
	kindOutbox
	kindPrincipal
	kindWeb
	kindOther
	numKinds
)

var kindNames = [numKinds]string{"calendar", "addressbook", "files", "inbox", "outbox", "principal", "web", "other"}

// requestKind classifies a request path.
func requestKind(path string) int {
	if rest, ok := strings.CutPrefix(path, "/dav/"); ok {
		seg, _, _ := strings.Cut(rest, "/")
		switch seg {
		case "calendars":
			return kindCalendar
		case "addressbooks":
			return kindAddressbook
		case "files":
			return kindFiles
		case "inbox":
			return kindInbox
		case "outbox":
			return kindOutbox
		case "", "principals":
			return kindPrincipal
		}
		return kindOther
	}
	switch {
	case path == "/", strings.HasPrefix(path, "/principals/"):
		return kindPrincipal
	case strings.HasPrefix(path, "/web/"):
		return kindWeb
	}
	return kindOther
}

var classNames = [5]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func newMetrics(st store.Store, authn *auth.Authenticator, pusher *push.Service, logger *slog.Logger) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "davenport_http_requests_in_flight", Help: "Requests being served.",
	})
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "davenport_http_request_duration_seconds",
		Help:    "Time to answer a request, by method, status class and kind of resource.",
		Buckets: buckets,
	}, []string{"method", "class", "kind"})
	m.store = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "davenport_store_duration_seconds",
		Help:    "Time of the store calls the DAV handlers make, by operation.",
		Buckets: storeBuckets,
	}, []string{"op"})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.inFlight, m.requests, m.store,
		&mailQueueCollector{st: st, log: logger},
	)
	if authn != nil {
		f := authn.Failures()
		for _, c := range []struct {
			reason string
			n      *atomic.Uint64
		}{{"wrong_password", &f.WrongPassword}, {"unknown_user", &f.UnknownUser}, {"throttled", &f.Throttled}} {
			m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name:        "davenport_auth_failures_total",
				Help:        "Refused authentications: a wrong password for a user who exists, an unknown user, or throttled.",
				ConstLabels: prometheus.Labels{"reason": c.reason},
			}, func() float64 { return float64(c.n.Load()) }))
		}
	}
	if pusher != nil {
		for _, c := range []struct {
			name, help string
			n          *atomic.Uint64
		}{
			{"sent", "WebDAV-Push messages the push services accepted.", &pusher.Stats.Sent},
			{"failed", "WebDAV-Push messages that failed (each attempt).", &pusher.Stats.Failed},
			{"dropped", "WebDAV-Push subscriptions dropped: 404/410, or failing for a day.", &pusher.Stats.Dropped},
			{"coalesced", "Changes announced in another change's WebDAV-Push message.", &pusher.Stats.Coalesced},
		} {
			m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "davenport_push_" + c.name + "_total", Help: c.help,
			}, func() float64 { return float64(c.n.Load()) }))
		}
	}
	return m
}

// observe records one answered request.
func (m *metrics) observe(method string, code int, path string, d time.Duration) {
	mi, ki := methodIndex(method), requestKind(path)
	ci := min(max(code/100, 1), 5) - 1
	slot := &m.observers[mi][ci][ki]
	o := slot.Load()
	if o == nil {
		obs := m.requests.WithLabelValues(methodLabel(mi), classNames[ci], kindNames[ki])
		slot.CompareAndSwap(nil, &obs)
		o = slot.Load()
	}
	(*o).Observe(d.Seconds())
}

// handler serves the registry in the exposition format the scraper asks
// for (text or protobuf, gzip when accepted).
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// guarded serves the metrics on the main listener: only with a token set,
// and only to requests bearing it (RFC 6750 §2.1). Without a token the path
// does not exist (404), so nothing reveals that metrics could be had.
func (m *metrics) guarded(token string) http.Handler {
	if token == "" {
		return http.NotFoundHandler()
	}
	// Hashes compare in constant time whatever the lengths.
	want := sha256.Sum256([]byte(token))
	h := m.handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics token required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// mailQueueCollector reports the iMIP queue depth, counted at each scrape
// with one bounded query (store.CountMail).
type mailQueueCollector struct {
	st  store.Store
	log *slog.Logger
}

var mailQueueDesc = prometheus.NewDesc("davenport_imip_queue_messages",
	"iMIP messages queued for sending: due now, or waiting (retried later or being sent).",
	[]string{"state"}, nil)

func (c *mailQueueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- mailQueueDesc }

func (c *mailQueueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	due, waiting, err := c.st.CountMail(ctx, time.Now())
	if err != nil {
		c.log.Warn("metrics: counting the mail queue failed", "err", err)
		ch <- prometheus.NewInvalidMetric(mailQueueDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(mailQueueDesc, prometheus.GaugeValue, float64(due), "due")
	ch <- prometheus.MustNewConstMetric(mailQueueDesc, prometheus.GaugeValue, float64(waiting), "waiting")
}
