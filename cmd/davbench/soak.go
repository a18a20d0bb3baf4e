package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// soakMix is the soak's load: each request is one of these, drawn by
// weight, the way a household of clients mixes them: mostly single GETs and
// updates, some time-range queries, listings and multigets, an address-book
// search now and then and the occasional full sync. Membership does not
// change (updates only), so every answer can be checked against what was
// seeded for as long as the soak runs.
var soakMix = []struct {
	workload string
	weight   int
}{
	{wGet, 30}, {wPut, 20}, {wQueryNarrow, 15}, {wPropfind, 10}, {wMultiget, 10}, {wCardQuery, 10}, {wSyncInitial, 5},
}

// soakWindow is one interval's figures.
type soakWindow struct {
	Index     int       `json:"index"`
	End       string    `json:"end"` // time since the load started
	Ops       int       `json:"ops"`
	Errors    int       `json:"errors"`
	OpsPerSec float64   `json:"ops_per_sec"`
	P50Ms     float64   `json:"p50_ms"`
	P99Ms     float64   `json:"p99_ms"`
	Server    procStats `json:"server"`
	Load      string    `json:"load"`
	Partial   bool      `json:"partial,omitempty"` // shorter than --interval (the last one)
}

// procStats is the server process as seen from outside; -1 is unknown.
type procStats struct {
	RSSKiB     int64 `json:"rss_kib"`
	FDs        int   `json:"fds"`
	Threads    int   `json:"threads"`
	Goroutines int   `json:"goroutines"`
}

// soakReport is a whole soak, as printed at the end and written to --json.
type soakReport struct {
	Label       string       `json:"label,omitempty"`
	N           int          `json:"n"`
	Concurrency int          `json:"concurrency"`
	Duration    string       `json:"duration"`
	Interval    string       `json:"interval"`
	Started     time.Time    `json:"started"`
	Machine     Machine      `json:"machine"`
	IdleBefore  procStats    `json:"idle_before"`
	IdleAfter   procStats    `json:"idle_after"`
	Windows     []soakWindow `json:"windows"`
	FirstErr    string       `json:"first_error,omitempty"`
	Verdict     []criterion  `json:"verdict"`
	Pass        bool         `json:"pass"`
	Interrupted bool         `json:"interrupted,omitempty"`
}

// criterion is one test of the soak's verdict.
type criterion struct {
	Name   string `json:"name"`
	Pass   bool   `json:"pass"`
	Known  bool   `json:"known"` // false: not measured (no --pid or --debug-url)
	Detail string `json:"detail"`
}

var errSoakFailed = errors.New("soak verdict: FAIL")

// cmdSoak seeds N events and N vCards, runs soakMix at --concurrency for
// --duration, prints each --interval's p50/p99 and the server's RSS,
// goroutines and open files, and ends with a verdict: the p99 of the last
// window within 2× of the first's, RSS flat, no goroutine or descriptor
// growth between idle before and idle after.
func cmdSoak(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr, true)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	spec := runSpec{Concurrency: cfg.concurrency, Duration: cfg.duration}
	b, cleanup, err := prepare(ctx, cfg, cfg.base, spec, log, true, true)
	if err != nil {
		return err
	}
	defer cleanup()
	for _, seed := range []func(context.Context) Result{b.seedEvents, b.seedCards} {
		if r := seed(ctx); r.Failure != "" || r.Ops == 0 {
			return fmt.Errorf("%s: %s (ops %d)", r.Workload, r.Failure, r.Ops)
		}
	}
	probe := &prober{pid: cfg.pid, debugURL: strings.TrimSuffix(cfg.debugURL, "/"), hc: &http.Client{Timeout: 10 * time.Second}}

	rep := &soakReport{Label: cfg.label, N: cfg.n, Concurrency: cfg.concurrency, Duration: cfg.duration.String(),
		Interval: cfg.interval.String(), Started: time.Now().UTC().Truncate(time.Second), Machine: machine()}
	b.settle(ctx, cfg)
	rep.IdleBefore = probe.sample(ctx)

	ops := map[string]op{
		wGet: b.getOp(), wPut: b.putOp(), wPropfind: b.propfindOp(), wMultiget: b.multigetOp(),
		wQueryNarrow: b.timeRangeOp(func(w int) (time.Time, time.Time) { return b.gen.narrowRange(w, b.n) }),
		wCardQuery:   b.addressbookQueryOp(), wSyncInitial: b.syncInitialOp(),
	}
	total := 0
	for _, m := range soakMix {
		total += m.weight
	}
	mixed := func(ctx context.Context, w, seq int) (opOutcome, error) {
		k := rand.New(rand.NewPCG(0x736f616b, uint64(seq))).IntN(total)
		for _, m := range soakMix {
			if k < m.weight {
				return ops[m.workload](ctx, w, seq)
			}
			k -= m.weight
		}
		panic("unreachable")
	}

	fmt.Fprintf(stdout, "soak: %s of the mixed load (%s) at concurrency %d, N = %d, windows of %s\n",
		cfg.duration, mixDescription(), cfg.concurrency, cfg.n, cfg.interval)
	fmt.Fprintf(stdout, "idle before: %s\n", rep.IdleBefore)
	fmt.Fprintf(stdout, "%-6s %-8s %8s %8s %7s %8s %8s %8s %10s %5s %7s %6s\n",
		"window", "end", "ops", "ops/s", "errors", "p50_ms", "p99_ms", "rss_MiB", "goroutines", "fds", "threads", "load")
	firstErr := soakLoad(ctx, cfg, mixed, probe, func(w soakWindow) {
		rep.Windows = append(rep.Windows, w)
		end := w.End
		if w.Partial {
			end += "+" // the requests still in flight at the deadline
		}
		fmt.Fprintf(stdout, "%-6d %-8s %8d %8.1f %7d %8.1f %8.1f %8s %10s %5s %7s %6s\n",
			w.Index, end, w.Ops, w.OpsPerSec, w.Errors, w.P50Ms, w.P99Ms,
			known(w.Server.RSSKiB, func(v int64) string { return fmt.Sprintf("%.1f", float64(v)/1024) }),
			known(int64(w.Server.Goroutines), itoa), known(int64(w.Server.FDs), itoa), known(int64(w.Server.Threads), itoa), w.Load)
	})
	if firstErr != nil {
		rep.FirstErr = firstErr.Error()
	}
	rep.Interrupted = ctx.Err() != nil
	b.settle(ctx, cfg)
	rep.IdleAfter = probe.sample(context.WithoutCancel(ctx))
	fmt.Fprintf(stdout, "idle after:  %s\n", rep.IdleAfter)
	if rep.FirstErr != "" {
		fmt.Fprintf(stdout, "first error: %s\n", rep.FirstErr)
	}
	rep.Verdict, rep.Pass = judge(rep.Windows, rep.IdleBefore, rep.IdleAfter)
	for _, v := range rep.Verdict {
		mark := "ok  "
		switch {
		case !v.Known:
			mark = "n/a "
		case !v.Pass:
			mark = "FAIL"
		}
		fmt.Fprintf(stdout, "%s %-11s %s\n", mark, v.Name, v.Detail)
	}
	if cfg.jsonPath != "" {
		f, err := os.Create(cfg.jsonPath)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		if err := errors.Join(enc.Encode(rep), f.Close()); err != nil {
			return err
		}
	}
	if rep.Interrupted {
		return ctx.Err()
	}
	if !rep.Pass {
		fmt.Fprintln(stdout, "soak: FAIL")
		return errSoakFailed
	}
	fmt.Fprintln(stdout, "soak: PASS")
	return nil
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// known formats v, or "-" when it was not measured.
func known(v int64, f func(int64) string) string {
	if v < 0 {
		return "-"
	}
	return f(v)
}

func mixDescription() string {
	var parts []string
	for _, m := range soakMix {
		parts = append(parts, fmt.Sprintf("%d%% %s", m.weight, m.workload))
	}
	return strings.Join(parts, ", ")
}

// settle waits, with --pid, until the server is idle.
func (b *bench) settle(ctx context.Context, cfg *config) {
	if cfg.pid <= 0 {
		return
	}
	if busy, err := settle(ctx, cfg.pid, cfg.settleTO); err != nil {
		b.log.Warn("server not idle", "busy", busy.Round(time.Second).String(), "err", err)
	}
}

// soakLoad runs fn on cfg.concurrency workers for cfg.duration and calls
// report with each window's figures (the last may be partial). It returns
// the first error an operation met.
func soakLoad(ctx context.Context, cfg *config, fn op, probe *prober, report func(soakWindow)) error {
	var (
		seq      atomic.Int64
		mu       sync.Mutex
		lat      []time.Duration
		errs     int
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(cfg.duration)
	for w := range cfg.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				n := int(seq.Add(1) - 1)
				t0 := time.Now()
				out, err := fn(ctx, w, n)
				d := time.Since(t0) - out.Untimed
				mu.Lock()
				switch {
				case err != nil && ctx.Err() != nil: // interrupted
				case err != nil:
					errs++
					if firstErr == nil {
						firstErr = err
					}
				default:
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	// take closes a window: its samples are swapped out under the lock.
	idx, winStart := 0, start
	take := func(partial bool) {
		mu.Lock()
		samples, e := lat, errs
		lat, errs = nil, 0
		mu.Unlock()
		now := time.Now()
		idx++
		s := summarize(samples)
		report(soakWindow{Index: idx, End: now.Sub(start).Round(time.Second).String(), Ops: s.N, Errors: e,
			OpsPerSec: float64(s.N) / now.Sub(winStart).Seconds(), P50Ms: ms(s.P50), P99Ms: ms(s.P99),
			Server: probe.sample(context.WithoutCancel(ctx)), Load: loadAvg(), Partial: partial})
		winStart = now
	}
	t := time.NewTicker(cfg.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			take(false)
		case <-done:
			// Operations started before the deadline have finished: what
			// is left is a last window, when it holds anything.
			mu.Lock()
			left := len(lat) + errs
			mu.Unlock()
			if left > 0 {
				take(time.Since(winStart) < cfg.interval*9/10)
			}
			mu.Lock()
			defer mu.Unlock()
			return firstErr
		}
	}
}

// judge applies the soak's criteria. The p99 and RSS compare the first and
// the last full windows (the first window warms the server's caches and
// pools; RSS measured before it is not the steady state); goroutines and
// descriptors compare the idle server before and after the load, with the
// client's keep-alive connections open both times.
func judge(windows []soakWindow, before, after procStats) ([]criterion, bool) {
	var full []soakWindow
	for _, w := range windows {
		if !w.Partial {
			full = append(full, w)
		}
	}
	var out []criterion
	errs := 0
	for _, w := range windows {
		errs += w.Errors
	}
	out = append(out, criterion{Name: "errors", Known: true, Pass: errs == 0, Detail: fmt.Sprintf("%d failed requests", errs)})
	if len(full) < 2 {
		out = append(out, criterion{Name: "p99", Detail: "fewer than two full windows: make --duration at least twice --interval"})
		return out, false
	}
	first, last := full[0], full[len(full)-1]
	out = append(out, criterion{Name: "p99", Known: true, Pass: last.P99Ms <= 2*first.P99Ms,
		Detail: fmt.Sprintf("last window %.1f ms, first %.1f ms (%s×; at most 2×)", last.P99Ms, first.P99Ms, ratio(last.P99Ms/first.P99Ms))})

	// Go returns memory to the system lazily and the heap breathes with
	// the requests in flight: flat is within a quarter of the first
	// window's figure, or 16 MiB for a small server.
	r0, r1 := first.Server.RSSKiB, last.Server.RSSKiB
	rssSlack := max(r0/4, 16<<10)
	out = append(out, criterion{Name: "rss", Known: r0 >= 0 && r1 >= 0, Pass: r1 <= r0+rssSlack,
		Detail: fmt.Sprintf("last window %.1f MiB, first %.1f MiB (growth allowed %.1f MiB)", float64(r1)/1024, float64(r0)/1024, float64(rssSlack)/1024)})
	out = append(out, growth("goroutines", before.Goroutines, after.Goroutines))
	out = append(out, growth("fds", before.FDs, after.FDs))

	pass := true
	for _, v := range out {
		pass = pass && (v.Pass || !v.Known)
	}
	return out, pass
}

// growth judges a count of the idle server: a few more (a timer, a
// connection being closed) is noise, a growing leak is more.
func growth(name string, before, after int) criterion {
	slack := max(5, before/10)
	return criterion{Name: name, Known: before >= 0 && after >= 0, Pass: after <= before+slack,
		Detail: fmt.Sprintf("idle after %d, idle before %d (growth allowed %d)", after, before, slack)}
}

func (p procStats) String() string {
	return fmt.Sprintf("rss %s MiB, goroutines %s, fds %s, threads %s",
		known(p.RSSKiB, func(v int64) string { return fmt.Sprintf("%.1f", float64(v)/1024) }),
		known(int64(p.Goroutines), itoa), known(int64(p.FDs), itoa), known(int64(p.Threads), itoa))
}

// prober reads the server process's figures: RSS, threads and open file
// descriptors from /proc (--pid, Linux), goroutines from the profiler's
// goroutine profile (--debug-url).
type prober struct {
	pid      int
	debugURL string
	hc       *http.Client
}

func (p *prober) sample(ctx context.Context) procStats {
	s := procStats{RSSKiB: -1, FDs: -1, Threads: -1, Goroutines: -1}
	if p.pid > 0 {
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid)); err == nil {
			if v, err := parseProcKiB(bytes.NewReader(st), "VmRSS"); err == nil {
				s.RSSKiB = v
			}
			if v, err := parseProcField(bytes.NewReader(st), "Threads"); err == nil {
				s.Threads = int(v)
			}
		}
		if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.pid)); err == nil {
			s.FDs = len(ents)
		}
	}
	if p.debugURL != "" {
		if n, err := p.goroutines(ctx); err == nil {
			s.Goroutines = n
		}
	}
	return s
}

// goroutines reads "goroutine profile: total N", the first line of the
// text goroutine profile.
func (p *prober) goroutines(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.debugURL+"/debug/pprof/goroutine?debug=1", nil)
	if err != nil {
		return 0, err
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("goroutine profile: %s", resp.Status)
	}
	return parseGoroutineTotal(resp.Body)
}

func parseGoroutineTotal(r io.Reader) (int, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return 0, err
	}
	v, ok := strings.CutPrefix(strings.TrimSpace(line), "goroutine profile: total ")
	if !ok {
		return 0, fmt.Errorf("unexpected goroutine profile header %q", line)
	}
	return strconv.Atoi(v)
}

// parseProcField finds "Key:   123" in a /proc status-style file.
func parseProcField(r io.Reader, key string) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && k == key {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s line", key)
}
