package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, restore the default: a second one kills.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var err error
	switch {
	case len(args) > 0 && args[0] == "compare":
		err = cmdCompare(args[1:], stdout)
	case len(args) > 0 && args[0] == "flat":
		err = cmdFlat(args[1:], stdout)
	case len(args) > 0 && args[0] == "soak":
		err = cmdSoak(ctx, args[1:], stdout, stderr)
	default:
		err = cmdRun(ctx, args, stdout, stderr)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage), errors.Is(err, errCompareUsage):
		fmt.Fprintln(stderr, "davbench:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "davbench:", err)
		return 1
	}
}

type config struct {
	url, user, password string
	n, concurrency      int
	duration, seedTO    time.Duration
	timeout, settleTO   time.Duration
	pid                 int
	jsonPath, label     string
	workloads           string
	seed                uint64
	allowRemote, keep   bool
	fill                string
	base                *url.URL // --url, checked
	spread              []string // --spread: host:port of more instances
	// soak only
	interval time.Duration
	debugURL string
}

// parseConfig reads the flags of a run, or of a soak (soak): a soak runs
// the mixed load for one --duration (default 10 minutes) and reports every
// --interval.
func parseConfig(args []string, stderr io.Writer, soak bool) (*config, error) {
	cfg := &config{}
	name, duration, durationUsage := "davbench", 10*time.Second, "time per workload"
	if soak {
		name, duration, durationUsage = "davbench soak", 10*time.Minute, "time of the mixed load"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.url, "url", "http://127.0.0.1:8008/", "server URL (context path or principal discovery start)")
	fs.StringVar(&cfg.user, "user", "admin", "user name")
	fs.StringVar(&cfg.password, "password", "", "password (default $DAVBENCH_PASSWORD)")
	fs.IntVar(&cfg.n, "n", 1000, "events and vCards to seed")
	fs.IntVar(&cfg.concurrency, "concurrency", 8, "concurrent requests")
	fs.DurationVar(&cfg.duration, "duration", duration, durationUsage)
	fs.DurationVar(&cfg.seedTO, "seed-timeout", 30*time.Minute, "time bound of each seeding workload")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Minute, "time bound of one request")
	fs.IntVar(&cfg.pid, "pid", 0, "server process id: report its peak RSS (VmHWM), and before each workload wait until it is idle (Linux)")
	fs.DurationVar(&cfg.settleTO, "settle-timeout", 10*time.Minute, "longest wait for the server (--pid) to go idle between workloads")
	fs.StringVar(&cfg.jsonPath, "json", "", "write the results as JSON to this file")
	fs.StringVar(&cfg.label, "label", "", "name of the server in the report")
	fs.StringVar(&cfg.workloads, "workloads", "all", "comma-separated workloads after seeding, or all (every one but "+wFreeBusy+"): "+strings.Join(allWorkloads, ","))
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the data generator")
	fs.BoolVar(&cfg.allowRemote, "allow-remote", false, "allow a server that is not on a loopback address")
	fs.StringVar(&cfg.fill, "fill", fillNone, "when seeding by PUT stops at --seed-timeout short of N: \"none\" (fail) or \"collection-put\" (store all N with one PUT of the whole collection, a Radicale extension)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the calendar and address book after the run")
	fs.Func("spread", "comma-separated `host:port` list of instances serving --url's database: connections are dialled to each in turn (--url's own address is not used unless listed)", func(v string) error {
		for _, a := range strings.Split(v, ",") {
			if _, _, err := net.SplitHostPort(strings.TrimSpace(a)); err != nil {
				return err
			}
			cfg.spread = append(cfg.spread, strings.TrimSpace(a))
		}
		return nil
	})
	if soak {
		fs.DurationVar(&cfg.interval, "interval", time.Minute, "length of a window: figures are printed after each")
		fs.StringVar(&cfg.debugURL, "debug-url", "", "the server's profiler (davenport serve --debug-listen), e.g. http://127.0.0.1:6060: report its goroutine count")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if soak && (cfg.interval <= 0 || cfg.interval > cfg.duration) {
		return nil, fmt.Errorf("%w: --interval must be positive and at most --duration", errUsage)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	var err error
	if cfg.base, err = cfg.baseURL(); err != nil {
		return nil, err
	}
	if cfg.password == "" {
		cfg.password = os.Getenv("DAVBENCH_PASSWORD")
	}
	if cfg.n < 10 {
		return nil, fmt.Errorf("%w: --n must be at least 10", errUsage)
	}
	if cfg.concurrency < 1 {
		return nil, fmt.Errorf("%w: --concurrency must be at least 1", errUsage)
	}
	if cfg.fill != fillNone && cfg.fill != fillCollectionPut {
		return nil, fmt.Errorf("%w: --fill must be %s or %s", errUsage, fillNone, fillCollectionPut)
	}
	if cfg.duration <= 0 || cfg.seedTO <= 0 || cfg.timeout <= 0 {
		return nil, fmt.Errorf("%w: durations must be positive", errUsage)
	}
	return cfg, nil
}

// baseURL parses --url, refusing a remote host without --allow-remote.
func (cfg *config) baseURL() (*url.URL, error) {
	base, err := url.Parse(cfg.url)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("%w: --url must be an http(s) URL", errUsage)
	}
	if !cfg.allowRemote && !isLoopbackHost(base.Hostname()) {
		return nil, fmt.Errorf("%w: %s", errNotLoopback, base.Host)
	}
	return base, nil
}

// selectWorkloads parses --workloads.
func selectWorkloads(spec string) ([]string, error) {
	if strings.TrimSpace(spec) == "all" {
		var out []string
		for _, a := range allWorkloads {
			if !optInWorkloads[a] {
				out = append(out, a)
			}
		}
		return out, nil
	}
	want := map[string]bool{}
	for _, w := range strings.Split(spec, ",") {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		known := false
		for _, a := range allWorkloads {
			known = known || a == w
		}
		if !known {
			return nil, fmt.Errorf("%w: unknown workload %q (known: %s)", errUsage, w, strings.Join(allWorkloads, ","))
		}
		want[w] = true
	}
	var out []string
	for _, a := range allWorkloads { // keep the defined order
		if want[a] {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no workload selected", errUsage)
	}
	return out, nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr, false)
	if err != nil {
		return err
	}
	selected, err := selectWorkloads(cfg.workloads)
	if err != nil {
		return err
	}
	base := cfg.base
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	needEvents, needCards := false, false
	for _, w := range selected {
		if w == wCardQuery {
			needCards = true
		} else {
			needEvents = true
		}
	}
	spec := runSpec{Concurrency: cfg.concurrency, Duration: cfg.duration}
	b, cleanup, err := prepare(ctx, cfg, base, spec, log, needEvents, needCards)
	if err != nil {
		return err
	}
	defer cleanup()
	rep := &Report{Label: cfg.label, URL: base.String(), N: cfg.n, Concurrency: cfg.concurrency,
		Duration: cfg.duration.String(), TimeoutMs: ms(cfg.timeout), Seed: cfg.seed, Started: time.Now().UTC().Truncate(time.Second), Machine: machine(), LoadBefore: loadAvg()}

	type step struct {
		name string
		fn   func(context.Context) Result
	}
	var steps []step
	if needEvents {
		steps = append(steps, step{wSeedEvents, b.seedEvents})
	}
	if needCards {
		steps = append(steps, step{wSeedCards, b.seedCards})
	}
	fns := map[string]func(context.Context) Result{
		wPropfind: b.propfind, wQuery: b.calendarQuery, wQueryNarrow: b.calendarQueryNarrow, wMultiget: b.multiget, wSyncInitial: b.syncInitial,
		wSyncIncr: b.syncIncremental, wGet: b.get, wPut: b.put, wCardQuery: b.addressbookQuery,
		wFreeBusy: b.freeBusy,
	}
	for _, w := range selected {
		steps = append(steps, step{w, fns[w]})
	}
	for _, s := range steps {
		if ctx.Err() != nil {
			rep.Interrupted = true
			break
		}
		var busy time.Duration
		if cfg.pid > 0 {
			// A server may still be working on requests the client gave up
			// on (timeouts): let it finish, or the next figures pay for them.
			var err error
			if busy, err = settle(ctx, cfg.pid, cfg.settleTO); err != nil {
				log.Warn("server not idle before the workload", "name", s.name, "busy", busy.Round(time.Second).String(), "err", err)
			} else if busy >= time.Second {
				log.Info("server was busy before the workload", "name", s.name, "busy", busy.Round(time.Second).String())
			}
		}
		log.Info("workload", "name", s.name, "n", cfg.n)
		r := s.fn(ctx)
		r.SettleSeconds = busy.Seconds()
		if cfg.pid > 0 {
			if hwm, err := readVmHWM(cfg.pid); err != nil {
				log.Warn("reading peak RSS", "pid", cfg.pid, "err", err)
			} else {
				r.PeakRSSKiB = hwm
				rep.PeakRSSKiB = max(rep.PeakRSSKiB, hwm)
			}
		}
		log.Info("done", "name", s.name, "ops", r.Ops, "ops_per_sec", fmt.Sprintf("%.1f", r.OpsPerSec),
			"p50_ms", r.P50Ms, "p99_ms", r.P99Ms, "errors", r.Errors)
		if r.Failure != "" {
			log.Warn("workload failed", "name", s.name, "failure", r.Failure)
		}
		rep.Results = append(rep.Results, r)
		if (s.name == wSeedEvents || s.name == wSeedCards) && r.Ops == 0 {
			log.Error("seeding stored nothing; the other workloads would measure an empty collection")
			break
		}
	}
	if ctx.Err() != nil {
		rep.Interrupted = true
	}
	rep.LoadAfter = loadAvg()
	writeTable(stdout, rep)
	if cfg.jsonPath != "" {
		if err := writeJSON(cfg.jsonPath, rep); err != nil {
			return err
		}
	}
	return nil
}

// prepare discovers the user's homes on the server at base and creates
// the bench's own calendar (needEvents) and address book (needCards). The
// returned cleanup removes them (unless --keep), also after ctx ended.
func prepare(ctx context.Context, cfg *config, base *url.URL, spec runSpec, log *slog.Logger, needEvents, needCards bool) (*bench, func(), error) {
	c := newClient(cfg.user, cfg.password, cfg.concurrency, cfg.timeout, cfg.allowRemote)
	if len(cfg.spread) > 0 {
		c.spread(hostPort(base), cfg.spread)
	}
	h, err := discover(ctx, c, base)
	if err != nil {
		return nil, nil, err
	}
	log.Info("discovered", "principal", h.Principal.String(), "calendars", h.Calendar.String(), "addressbooks", h.Addressbk.String())
	b := newBench(c, newGenerator(cfg.seed), cfg.n, spec, cfg.seedTO, cfg.fill, log)
	suffix := uniqueSuffix()
	cleanup := func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		defer cancel()
		for _, u := range []*url.URL{b.cal, b.book} {
			if u == nil {
				continue
			}
			if cfg.keep {
				log.Info("kept", "collection", u.String())
				continue
			}
			if _, err := c.do(cctx, request{Method: "DELETE", URL: u.String(), Want: []int{200, 204}}); err != nil {
				log.Error("removing the bench collection failed; remove it by hand", "collection", u.String(), "err", err)
			} else {
				log.Info("removed", "collection", u.String())
			}
		}
	}
	if needEvents {
		// Some servers (Radicale) use one home for both kinds: the names differ.
		u, err := resolveHref(h.Calendar, "davbench-cal-"+suffix+"/")
		if err != nil {
			return nil, nil, err
		}
		if _, err := c.do(ctx, request{Method: "MKCALENDAR", URL: u.String(), Header: davHeaders(""),
			Body: mkcalendarBody("davbench " + suffix), Want: []int{201}}); err != nil {
			return nil, nil, fmt.Errorf("creating the calendar: %w", err)
		}
		b.cal = u
		log.Info("created", "calendar", u.String())
	}
	if needCards {
		u, err := resolveHref(h.Addressbk, "davbench-card-"+suffix+"/")
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		if _, err := c.do(ctx, request{Method: "MKCOL", URL: u.String(), Header: davHeaders(""),
			Body: mkcolAddressbookBody("davbench " + suffix), Want: []int{201}}); err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("creating the address book: %w", err)
		}
		b.book = u
		log.Info("created", "addressbook", u.String())
	}
	return b, cleanup, nil
}

func uniqueSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatInt(time.Now().Unix(), 10) + "-" + hex.EncodeToString(b[:])
}

// readVmHWM reads a process's peak resident set size in KiB from
// /proc/PID/status (Linux).
func readVmHWM(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseProcKiB(f, "VmHWM")
}

var errSettle = errors.New("server still busy")

// settle waits until process pid has used at most 5% of one core over a
// whole second, and returns how long it was busy before that.
func settle(ctx context.Context, pid int, limit time.Duration) (time.Duration, error) {
	const window = time.Second
	start := time.Now()
	prev, err := processCPUTicks(pid)
	if err != nil {
		return 0, err
	}
	for {
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-time.After(window):
		}
		cur, err := processCPUTicks(pid)
		if err != nil {
			return time.Since(start), err
		}
		// /proc counts in USER_HZ, 100 per second on Linux: 5 ticks = 50 ms.
		if cur-prev <= 5 {
			return time.Since(start) - window, nil
		}
		prev = cur
		if time.Since(start) > limit {
			return time.Since(start), fmt.Errorf("%w after %s", errSettle, limit)
		}
	}
}

// processCPUTicks reads the user+system CPU time of a process from
// /proc/PID/stat, in clock ticks.
func processCPUTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime (field 14) and stime (field 15) of proc(5)'s
// stat line. The command name (field 2) may hold spaces and parentheses,
// so fields are counted after its last ')'.
func parseStatCPU(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat line %q", stat)
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3
	if len(f) < 13 {
		return 0, fmt.Errorf("short stat line %q", stat)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed stat times in %q", stat)
	}
	return u + st, nil
}

// parseProcKiB finds "Key:   123 kB" in a /proc status-style file.
func parseProcKiB(r io.Reader, key string) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != key {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected %s line %q", key, sc.Text())
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s line", key)
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		m.MemoryKiB, _ = parseProcKiB(f, "MemTotal")
		f.Close()
	}
	return m
}

// loadAvg is the 1-minute load average, "" where /proc/loadavg is missing.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func cmdCompare(args []string, stdout io.Writer) error {
	target := targetSpeedup
	if len(args) > 0 && args[0] == "--target" {
		if len(args) < 2 {
			return errCompareUsage
		}
		t, err := strconv.ParseFloat(args[1], 64)
		if err != nil || t <= 0 {
			return errCompareUsage
		}
		target, args = t, args[2:]
	}
	if len(args) < 2 {
		return errCompareUsage
	}
	peer, err := readReport(args[0])
	if err != nil {
		return err
	}
	var cands []*Report
	for _, a := range args[1:] {
		r, err := readReport(a)
		if err != nil {
			return err
		}
		cands = append(cands, r)
	}
	compareReports(stdout, peer, cands, target)
	return nil
}

func cmdFlat(args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return errCompareUsage
	}
	small, err := readReport(args[0])
	if err != nil {
		return err
	}
	big, err := readReport(args[1])
	if err != nil {
		return err
	}
	flatReports(stdout, small, big)
	return nil
}
