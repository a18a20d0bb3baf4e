package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
)

// Result is one workload's figures, as printed and written to JSON.
type Result struct {
	Workload   string  `json:"workload"`
	Ops        int     `json:"ops"`
	Errors     int     `json:"errors"`
	Timeouts   int     `json:"timeouts,omitempty"`
	Seconds    float64 `json:"seconds"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MeanMs     float64 `json:"mean_ms"`
	MaxMs      float64 `json:"max_ms"`
	ItemsPerOp float64 `json:"items_per_op"`
	BytesPerOp float64 `json:"bytes_per_op"`
	PeakRSSKiB int64   `json:"peak_rss_kib,omitempty"`
	Validated  bool    `json:"validated"`
	Failure    string  `json:"failure,omitempty"`
	Note       string  `json:"note,omitempty"`
	// SettleSeconds is how long the server stayed busy after the previous
	// workload (finishing requests the client had given up on) before this
	// one started; see settle.
	SettleSeconds float64 `json:"settle_seconds,omitempty"`
	Description   string  `json:"description"`
}

// Report is a whole run.
type Report struct {
	Label       string `json:"label,omitempty"`
	URL         string `json:"url"`
	N           int    `json:"n"`
	Concurrency int    `json:"concurrency"`
	Duration    string `json:"duration"`
	// TimeoutMs bounds one request; a request still unanswered then is a
	// failure, and the p50 of a workload whose requests all timed out is
	// above it.
	TimeoutMs   float64   `json:"timeout_ms"`
	Seed        uint64    `json:"seed"`
	Started     time.Time `json:"started"`
	Machine     Machine   `json:"machine"`
	Results     []Result  `json:"results"`
	PeakRSSKiB  int64     `json:"peak_rss_kib,omitempty"`
	Interrupted bool      `json:"interrupted,omitempty"`
	// LoadBefore and LoadAfter are /proc/loadavg's 1-minute figure: other
	// work on the machine shows up in the figures, and here.
	LoadBefore string `json:"load_before,omitempty"`
	LoadAfter  string `json:"load_after,omitempty"`
}

// Machine records where the figures were taken.
type Machine struct {
	CPUs      int    `json:"cpus"`
	MemoryKiB int64  `json:"memory_kib"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
}

func newResult(name, desc string, st runStats) Result {
	r := Result{
		Workload:    name,
		Description: desc,
		Ops:         st.Ops,
		Errors:      st.Errors,
		Timeouts:    st.Timeouts,
		Seconds:     st.Elapsed.Seconds(),
		P50Ms:       ms(st.Latency.P50),
		P99Ms:       ms(st.Latency.P99),
		MeanMs:      ms(st.Latency.Mean),
		MaxMs:       ms(st.Latency.Max),
	}
	if st.Elapsed > 0 {
		r.OpsPerSec = float64(st.Ops) / st.Elapsed.Seconds()
	}
	if st.Ops > 0 {
		r.ItemsPerOp = float64(st.Items) / float64(st.Ops)
		r.BytesPerOp = float64(st.Bytes) / float64(st.Ops)
	}
	if st.FirstErr != nil {
		r.Failure = fmt.Sprintf("%d of %d requests failed; first: %v", st.Errors, st.Errors+st.Ops, st.FirstErr)
		if st.Aborted {
			r.Failure += " (workload stopped: every request failed)"
		}
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// writeTable prints the results for a person.
func writeTable(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "davbench %s  N=%d  concurrency=%d  duration=%s  started=%s\n",
		rep.Label, rep.N, rep.Concurrency, rep.Duration, rep.Started.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tops\terrors\tops/s\tp50 ms\tp99 ms\titems/op\tKiB/op\tpeak RSS MiB\tcheck\t")
	for _, r := range rep.Results {
		check := "ok"
		switch {
		case r.Failure != "":
			check = "FAILED"
		case !r.Validated:
			check = "-"
		}
		rss := "-"
		if r.PeakRSSKiB > 0 {
			rss = fmt.Sprintf("%.1f", float64(r.PeakRSSKiB)/1024)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.1f\t%.1f\t%s\t%s\t\n",
			r.Workload, r.Ops, r.Errors, r.OpsPerSec, r.P50Ms, r.P99Ms, r.ItemsPerOp, r.BytesPerOp/1024, rss, check)
	}
	tw.Flush()
	for _, r := range rep.Results {
		if r.Note != "" {
			fmt.Fprintf(w, "note %s: %s\n", r.Workload, r.Note)
		}
		if r.SettleSeconds >= 1 {
			fmt.Fprintf(w, "note %s: started after the server had been busy %.0f s with earlier requests\n", r.Workload, r.SettleSeconds)
		}
		if r.Failure != "" {
			fmt.Fprintf(w, "FAILED %s: %s\n", r.Workload, r.Failure)
		}
	}
	if rep.PeakRSSKiB > 0 {
		fmt.Fprintf(w, "server peak RSS (VmHWM): %.1f MiB\n", float64(rep.PeakRSSKiB)/1024)
	}
	if rep.LoadBefore != "" {
		fmt.Fprintf(w, "machine: %d CPUs, %.1f GiB; load average (1 min) before %s, after %s\n",
			rep.Machine.CPUs, float64(rep.Machine.MemoryKiB)/(1<<20), rep.LoadBefore, rep.LoadAfter)
	}
	if rep.Interrupted {
		fmt.Fprintln(w, "interrupted: the figures are partial")
	}
}

func writeJSON(path string, rep *Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func readReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &rep, nil
}

func (rep *Report) result(workload string) (Result, bool) {
	for _, r := range rep.Results {
		if r.Workload == workload {
			return r, true
		}
	}
	return Result{}, false
}

// Targets of issue 7 (against Radicale) and issue 21 (against Cyrus, the
// fastest peer: ≥ 5× its throughput); compare --target picks the speedup.
const (
	targetSpeedup = 20.0 // ≥ 20× the peer's throughput, or ≤ 1/20 of its p50
	targetFlat    = 2.0  // p50 at the big N ≤ 2× p50 at the small N
)

// verdict is met / missed / failed for one comparison.
type verdict string

const (
	verdictMet    verdict = "met"
	verdictMissed verdict = "missed"
	verdictFailed verdict = "failed"
	verdictNone   verdict = "not measured"
)

// speedupVerdict judges a workload of candidate c against peer p: how many
// times the peer's throughput c reaches, how many times faster its p50 is,
// and whether either reaches the target. When every request of the peer
// timed out, its p50 is only known to exceed peerTimeoutMs: lat is then a
// lower bound and bound is true.
func speedupVerdict(c, p Result, peerTimeoutMs, target float64) (thr, lat float64, bound bool, v verdict) {
	if c.Failure != "" || c.Ops == 0 {
		return 0, 0, false, verdictFailed
	}
	if p.Ops == 0 {
		if p.Errors > 0 && p.Timeouts == p.Errors && peerTimeoutMs > 0 && c.P50Ms > 0 {
			lat = peerTimeoutMs / c.P50Ms
			if lat >= target {
				return 0, lat, true, verdictMet
			}
			return 0, lat, true, verdictMissed
		}
		return 0, 0, false, verdictFailed // nothing to compare with
	}
	thr = c.OpsPerSec / p.OpsPerSec
	if c.P50Ms > 0 {
		lat = p.P50Ms / c.P50Ms
	}
	if thr >= target || lat >= target {
		return thr, lat, false, verdictMet
	}
	return thr, lat, false, verdictMissed
}

var errCompareUsage = errors.New("usage: davbench compare [--target X] PEER.json CANDIDATE.json… | davbench flat SMALL.json BIG.json")

// compareReports prints each candidate's ratios against the peer (issue 7:
// every workload ≥ 20× the peer's throughput or ≤ 1/20 of its p50).
func compareReports(w io.Writer, peer *Report, cands []*Report, target float64) {
	for _, c := range cands {
		fmt.Fprintf(w, "%s / %s at N=%d (target: throughput ×%.0f, or p50 %.0f× lower)\n",
			c.Label, peer.Label, peer.N, target, target)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "workload\t%s ops/s\t%s ops/s\tthroughput ×\t%s p50 ms\t%s p50 ms\tp50 lower ×\ttarget\n",
			peer.Label, c.Label, peer.Label, c.Label)
		for _, p := range peer.Results {
			r, ok := c.result(p.Workload)
			if !ok {
				fmt.Fprintf(tw, "%s\t%.1f\t-\t-\t%.2f\t-\t-\t%s\n", p.Workload, p.OpsPerSec, p.P50Ms, verdictNone)
				continue
			}
			thr, lat, bound, v := speedupVerdict(r, p, peer.TimeoutMs, target)
			peerP50, latS := fmt.Sprintf("%.2f", p.P50Ms), ratio(lat)
			if bound {
				peerP50, latS = fmt.Sprintf("> %.0f (timed out)", peer.TimeoutMs), "> "+latS
			}
			fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%s\t%s\t%.2f\t%s\t%s\n",
				p.Workload, p.OpsPerSec, r.OpsPerSec, ratio(thr), peerP50, r.P50Ms, latS, v)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
}

// flatWorkloads are the requests whose cost must not grow with N.
var flatWorkloads = []string{"calendar-query", "calendar-query-narrow", "multiget", "sync-incremental", "get"}

// flatVerdict judges p50 growth from the small to the big run.
func flatVerdict(small, big Result) (growth float64, v verdict) {
	if small.Failure != "" || big.Failure != "" || small.Ops == 0 || big.Ops == 0 || small.P50Ms <= 0 {
		return 0, verdictFailed
	}
	growth = big.P50Ms / small.P50Ms
	if growth <= targetFlat {
		return growth, verdictMet
	}
	return growth, verdictMissed
}

// flatReports prints the growth of p50 from the small to the big run. The
// answer of calendar-query grows with N (a week holds about 1% of the
// events), so the growth of p50 per returned item is printed beside it:
// that is the figure that shows whether a request costs what its answer
// costs.
func flatReports(w io.Writer, small, big *Report) {
	fmt.Fprintf(w, "%s: p50 at N=%d vs N=%d (target ≤ ×%.0f)\n", big.Label, big.N, small.N, targetFlat)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "workload\tp50 ms N=%d\tp50 ms N=%d\tgrowth ×\ttarget\titems/op N=%d\titems/op N=%d\tp50 per item growth ×\n",
		small.N, big.N, small.N, big.N)
	for _, name := range flatWorkloads {
		s, ok1 := small.result(name)
		b, ok2 := big.result(name)
		if !ok1 || !ok2 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t%s\t-\t-\t-\n", name, verdictNone)
			continue
		}
		g, v := flatVerdict(s, b)
		perItem := 0.0
		if g > 0 && s.ItemsPerOp > 0 && b.ItemsPerOp > 0 {
			perItem = g * s.ItemsPerOp / b.ItemsPerOp
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%s\t%s\t%.1f\t%.1f\t%s\n",
			name, s.P50Ms, b.P50Ms, ratio(g), v, s.ItemsPerOp, b.ItemsPerOp, ratio(perItem))
	}
	tw.Flush()
	if big.PeakRSSKiB > 0 {
		mib := float64(big.PeakRSSKiB) / 1024
		v := verdictMet
		if mib > 100 {
			v = verdictMissed
		}
		fmt.Fprintf(w, "%s: peak RSS at N=%d: %.1f MiB (target ≤ 100 MiB): %s\n", big.Label, big.N, mib, v)
	}
}

func ratio(x float64) string {
	switch {
	case x == 0:
		return "-"
	case x >= 10:
		return fmt.Sprintf("%.0f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}
