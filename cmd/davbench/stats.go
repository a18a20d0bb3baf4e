package main

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest sample with at least p% of the samples
// at or below it. No interpolation: every figure reported was a real
// request. An empty sample gives 0.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// summary condenses latency samples.
type summary struct {
	N              int
	P50, P99, Max  time.Duration
	Mean           time.Duration
	Min            time.Duration
	TotalDurations time.Duration
}

func summarize(samples []time.Duration) summary {
	s := slices.Clone(samples)
	slices.Sort(s)
	out := summary{N: len(s)}
	if len(s) == 0 {
		return out
	}
	var total time.Duration
	for _, d := range s {
		total += d
	}
	out.P50 = percentile(s, 50)
	out.P99 = percentile(s, 99)
	out.Min, out.Max = s[0], s[len(s)-1]
	out.Mean = total / time.Duration(len(s))
	out.TotalDurations = total
	return out
}

// opOutcome is what one operation reports besides its duration.
type opOutcome struct {
	Items int   // responses or objects the answer carried
	Bytes int64 // response body bytes
	// Untimed is time spent inside the op that is not part of the measured
	// request (a follow-up to learn an ETag the server did not return).
	Untimed time.Duration
}

// op runs operation number seq (0, 1, 2, … across all workers) on worker w.
type op func(ctx context.Context, w, seq int) (opOutcome, error)

// runSpec bounds a workload.
type runSpec struct {
	Concurrency int
	Duration    time.Duration // stop starting operations after this
	MaxOps      int           // stop after this many operations; 0 = no bound
	// Progress, when set, is called every 15 s with the operations done
	// and failed so far.
	Progress func(done, failed int)
}

// runStats is a finished workload's raw figures.
type runStats struct {
	Latency  summary
	Elapsed  time.Duration
	Ops      int
	Errors   int
	Timeouts int // errors that were the per-request time bound running out
	Items    int64
	Bytes    int64
	FirstErr error
	Aborted  bool // stopped early: every operation so far had failed
}

// abortAfter ends a workload whose first operations all fail: hammering a
// broken endpoint measures nothing.
const abortAfter = 10

// runWorkload runs fn on spec.Concurrency workers until the duration passes,
// MaxOps operations have started, or ctx ends. An operation started before
// the deadline runs to completion; elapsed time runs until the last one
// ends, so throughput = completed operations / elapsed.
func runWorkload(ctx context.Context, spec runSpec, fn op) runStats {
	var (
		seq, okOps, errs atomic.Int64
		timeouts         atomic.Int64
		items, bytes     atomic.Int64
		aborted          atomic.Bool
		mu               sync.Mutex
		firstErr         error
		wg               sync.WaitGroup
	)
	lat := make([][]time.Duration, spec.Concurrency)
	start := time.Now()
	deadline := start.Add(spec.Duration)
	for w := range spec.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && !aborted.Load() && time.Now().Before(deadline) {
				n := int(seq.Add(1) - 1)
				if spec.MaxOps > 0 && n >= spec.MaxOps {
					return
				}
				t0 := time.Now()
				out, err := fn(ctx, w, n)
				d := time.Since(t0) - out.Untimed
				if err != nil {
					if ctx.Err() != nil {
						return // interrupted, not a server failure
					}
					if errors.Is(err, context.DeadlineExceeded) {
						timeouts.Add(1)
					}
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					if errs.Add(1) >= abortAfter && okOps.Load() == 0 {
						aborted.Store(true)
					}
					continue
				}
				okOps.Add(1)
				items.Add(int64(out.Items))
				bytes.Add(out.Bytes)
				lat[w] = append(lat[w], d)
			}
		}()
	}
	stopProgress := make(chan struct{})
	if spec.Progress != nil {
		go func() {
			t := time.NewTicker(15 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-stopProgress:
					return
				case <-t.C:
					spec.Progress(int(okOps.Load()), int(errs.Load()))
				}
			}
		}()
	}
	wg.Wait()
	close(stopProgress)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	return runStats{
		Latency:  summarize(all),
		Elapsed:  time.Since(start),
		Ops:      int(okOps.Load()),
		Errors:   int(errs.Load()),
		Timeouts: int(timeouts.Load()),
		Items:    items.Load(),
		Bytes:    bytes.Load(),
		FirstErr: firstErr,
		Aborted:  aborted.Load(),
	}
}
