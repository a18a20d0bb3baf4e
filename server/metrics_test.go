package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/push"
	"github.com/davenport-dav/davenport/push/pushtest"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

const metricsToken = "s3cret-metrics-token"

func withMetricsToken(c *server.Config) { c.MetricsToken = metricsToken }

// scrape reads /metrics over HTTP with the token.
func (e *env) scrape() string {
	e.t.Helper()
	resp := e.do(request{method: "GET", path: "/metrics", anonymous: true,
		header: map[string]string{"Authorization": "Bearer " + metricsToken}})
	body := readBody(e.t, resp)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("scrape: %d %s", resp.StatusCode, body)
	}
	return body
}

// metricValue is the value of the series named exactly series (name and
// labels as exposed), or -1 when it is absent.
func metricValue(t *testing.T, body, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v
}

// TestMetricsScrape makes a few requests of each kind and reads the series
// they must have moved, over real HTTP.
func TestMetricsScrape(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, withMetricsToken)
		ctx := t.Context()
		alice, err := st.GetUser(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.QueueMail(ctx, []store.Mail{{UserID: alice.ID, UID: "ev1", From: "mailto:alice@example.org",
			To: "mailto:x@ext.example", Method: "REQUEST", Body: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			e.do(request{method: "PROPFIND", path: "/dav/", header: map[string]string{"Depth": "0"}})
		}
		e.do(request{method: "GET", path: "/dav/calendars/alice/personal/missing.ics"})
		e.do(request{method: "PROPFIND", path: "/dav/addressbooks/alice/", header: map[string]string{"Depth": "1"}})
		e.do(request{method: "PROPFIND", path: "/dav/", user: "alice", password: "wrong"})
		e.do(request{method: "PROPFIND", path: "/dav/", user: "nobody", password: "wrong"})
		e.do(request{method: "FROB", path: "/elsewhere"})

		body := e.scrape()
		for _, c := range []struct {
			series string
			want   float64
		}{
			{`davenport_http_request_duration_seconds_count{class="2xx",kind="principal",method="PROPFIND"}`, 2},
			{`davenport_http_request_duration_seconds_count{class="4xx",kind="calendar",method="GET"}`, 1},
			{`davenport_http_request_duration_seconds_count{class="2xx",kind="addressbook",method="PROPFIND"}`, 1},
			{`davenport_http_request_duration_seconds_count{class="4xx",kind="principal",method="PROPFIND"}`, 2},
			{`davenport_http_request_duration_seconds_count{class="4xx",kind="other",method="OTHER"}`, 1},
			{`davenport_http_request_duration_seconds_bucket{class="2xx",kind="principal",method="PROPFIND",le="+Inf"}`, 2},
			{`davenport_auth_failures_total{reason="wrong_password"}`, 1},
			{`davenport_auth_failures_total{reason="unknown_user"}`, 1},
			{`davenport_auth_failures_total{reason="throttled"}`, 0},
			{`davenport_imip_queue_messages{state="due"}`, 1},
			{`davenport_imip_queue_messages{state="waiting"}`, 0},
			// The scrape itself is being served.
			{`davenport_http_requests_in_flight`, 1},
		} {
			if got := metricValue(t, body, c.series); got != c.want {
				t.Errorf("%s = %v, want %v", c.series, got, c.want)
			}
		}
		// Values that vary, but must be there and plausible.
		for _, c := range []struct {
			series string
			min    float64
		}{
			{`davenport_store_duration_seconds_count{op="GetCollection"}`, 1},
			{`davenport_store_duration_seconds_count{op="ListCollections"}`, 1},
			{`go_goroutines`, 1},
			{`process_resident_memory_bytes`, 1 << 20},
			{`process_start_time_seconds`, 1},
		} {
			if got := metricValue(t, body, c.series); got < c.min {
				t.Errorf("%s = %v, want at least %v", c.series, got, c.min)
			}
		}
		// Every series the Grafana dashboard queries is exposed.
		dash, err := os.ReadFile("../docs/grafana-dashboard.json")
		if err != nil {
			t.Fatal(err)
		}
		names := regexp.MustCompile(`\b(?:davenport|go|process)_[a-z_]+\b`).FindAllString(string(dash), -1)
		if len(names) < 10 {
			t.Fatalf("the dashboard queries only %v", names)
		}
		for _, n := range names {
			if !regexp.MustCompile(`(?m)^` + n + `[{ ]`).MatchString(body) {
				t.Errorf("the dashboard queries %s, which /metrics does not expose", n)
			}
		}
		// No user or collection name reaches a label.
		if strings.Contains(body, "alice") || strings.Contains(body, "personal") {
			t.Errorf("metrics name a user or collection:\n%s", body)
		}
	})
}

// TestMetricsToken: on the main listener /metrics needs the token.
func TestMetricsToken(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		guarded := newEnv(t, st, withMetricsToken)
		for _, c := range []struct {
			name   string
			e      *env
			header map[string]string
			want   int
		}{
			{"no credentials", guarded, nil, http.StatusUnauthorized},
			{"wrong token", guarded, map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
			{"token prefix", guarded, map[string]string{"Authorization": "Bearer " + metricsToken[:5]}, http.StatusUnauthorized},
			{"basic scheme", guarded, map[string]string{"Authorization": "Basic " + metricsToken}, http.StatusUnauthorized},
			{"right token", guarded, map[string]string{"Authorization": "Bearer " + metricsToken}, http.StatusOK},
		} {
			resp := c.e.do(request{method: "GET", path: "/metrics", anonymous: true, header: c.header})
			body := readBody(t, resp)
			if resp.StatusCode != c.want {
				t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
			}
			if c.want == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: WWW-Authenticate %q, want Bearer", c.name, resp.Header.Get("WWW-Authenticate"))
			}
			if c.want == http.StatusOK && !strings.Contains(body, "go_goroutines") {
				t.Errorf("%s: no metrics in\n%s", c.name, body)
			}
			if c.want != http.StatusOK && strings.Contains(body, "go_goroutines") {
				t.Errorf("%s: metrics served anyway", c.name)
			}
		}

	})
}

// TestMetricsListener: without a token the main listener has no /metrics
// (404, even to a request with a bearer token); MetricsHandler, served on
// --metrics-listen, needs no token.
func TestMetricsListener(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		open := newEnv(t, st)
		for _, h := range []map[string]string{nil, {"Authorization": "Bearer "}, {"Authorization": "Bearer x"}} {
			if resp := open.do(request{method: "GET", path: "/metrics", anonymous: true, header: h}); resp.StatusCode != http.StatusNotFound {
				t.Errorf("/metrics with no token configured, headers %v: %d, want 404", h, resp.StatusCode)
			}
		}
		open.do(request{method: "PROPFIND", path: "/dav/", header: map[string]string{"Depth": "0"}})
		own := httptest.NewServer(open.srv.Config.Handler.(*server.Server).MetricsHandler())
		defer own.Close()
		resp, err := http.Get(own.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if series := `davenport_http_request_duration_seconds_count{class="2xx",kind="principal",method="PROPFIND"}`; resp.StatusCode != 200 || metricValue(t, body, series) != 1 {
			t.Errorf("metrics listener: %d, %s = %v, want 1", resp.StatusCode, series, metricValue(t, body, series))
		}
	})
}

// TestMetricsPushCounters: with WebDAV-Push on, its sender's counters are
// exposed and follow the service's figures.
func TestMetricsPushCounters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		svc := newPushService(t, st, push.Config{})
		svc.Stats.Sent.Add(3)
		svc.Stats.Dropped.Add(1)
		e := newEnv(t, st, withMetricsToken, func(c *server.Config) { c.Push = svc })
		body := e.scrape()
		for series, want := range map[string]float64{
			"davenport_push_sent_total": 3, "davenport_push_failed_total": 0,
			"davenport_push_dropped_total": 1, "davenport_push_coalesced_total": 0,
		} {
			if got := metricValue(t, body, series); got != want {
				t.Errorf("%s = %v, want %v", series, got, want)
			}
		}
	})
}

// TestMetricsPushDelivered: real deliveries move the counters on /metrics:
// a burst of writes to a calendar with a working push service and a
// failing one gives sent messages, changes coalesced into them (sent plus
// coalesced is the number of changes) and failed attempts.
func TestMetricsPushDelivered(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		svc := newPushService(t, st, push.Config{Coalesce: 300 * time.Millisecond})
		e := newEnv(t, st, withMetricsToken, func(c *server.Config) { c.Push = svc })
		good, bad := pushtest.New(t), pushtest.New(t)
		bad.Set(500, false)
		col := "/dav/calendars/alice/personal/"
		e.register("alice", alicePassword, col, good, false)
		e.register("alice", alicePassword, col, bad, false)
		const n = 20
		for i := range n {
			if r := e.put("alice", alicePassword, fmt.Sprintf("%sm%d.ics", col, i), fmt.Sprintf(sharedEvent, fmt.Sprint("m", i), "m"), nil); r.StatusCode != 201 {
				t.Fatalf("PUT: %d", r.StatusCode)
			}
		}
		tok, id := e.token("alice", store.KindCalendar, "personal")
		pushed(t, good, "last change", svc.Topic(id), tok)
		var body string
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			body = e.scrape()
			sent, coalesced := metricValue(t, body, "davenport_push_sent_total"), metricValue(t, body, "davenport_push_coalesced_total")
			if sent+coalesced == n && metricValue(t, body, "davenport_push_failed_total") > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("sent %v + coalesced %v, want %d changes; failed %v", sent, coalesced, n,
					metricValue(t, body, "davenport_push_failed_total"))
			}
		}
		if sent := metricValue(t, body, "davenport_push_sent_total"); sent < 1 || sent >= n || int(sent) != len(good.Messages()) {
			t.Errorf("sent %v for %d writes and %d messages received: not coalesced", sent, n, len(good.Messages()))
		}
	})
}
