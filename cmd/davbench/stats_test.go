package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func ds(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1 // 1..100 ms
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample p50", ds(7), 50, 7 * time.Millisecond},
		{"one sample p99", ds(7), 99, 7 * time.Millisecond},
		{"two samples p50 is the lower", ds(1, 9), 50, 1 * time.Millisecond},
		{"two samples p99 is the upper", ds(1, 9), 99, 9 * time.Millisecond},
		{"odd count median", ds(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"even count median, nearest rank", ds(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"1..100 p50", ds(hundred...), 50, 50 * time.Millisecond},
		{"1..100 p99", ds(hundred...), 99, 99 * time.Millisecond},
		{"1..100 p100", ds(hundred...), 100, 100 * time.Millisecond},
		{"1..100 p1", ds(hundred...), 1, 1 * time.Millisecond},
		{"p0 clamps to the minimum", ds(3, 4), 0, 3 * time.Millisecond},
		// 99% of 10 samples is rank 9.9 → 10: the slowest.
		{"ten samples p99 is the max", ds(1, 1, 1, 1, 1, 1, 1, 1, 1, 500), 99, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	in := ds(30, 10, 20, 40) // unsorted on purpose
	s := summarize(in)
	if s.N != 4 || s.Min != 10*time.Millisecond || s.Max != 40*time.Millisecond ||
		s.Mean != 25*time.Millisecond || s.P50 != 20*time.Millisecond || s.P99 != 40*time.Millisecond {
		t.Errorf("summarize = %+v", s)
	}
	if in[0] != 30*time.Millisecond {
		t.Error("summarize sorted its input in place")
	}
	if z := summarize(nil); z.N != 0 || z.P50 != 0 {
		t.Errorf("summarize(nil) = %+v", z)
	}
}

// The runner's bookkeeping, without timing assertions: a generous duration
// and a MaxOps bound make the number of operations exact.
func TestRunWorkloadCounts(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]bool{}
	st := runWorkload(context.Background(), runSpec{Concurrency: 4, Duration: time.Hour, MaxOps: 103},
		func(ctx context.Context, w, seq int) (opOutcome, error) {
			mu.Lock()
			dup := seen[seq]
			seen[seq] = true
			mu.Unlock()
			if dup {
				t.Errorf("sequence %d handed out twice", seq)
			}
			if seq%10 == 3 {
				return opOutcome{}, errors.New("boom")
			}
			return opOutcome{Items: 2, Bytes: 100}, nil
		})
	if len(seen) != 103 {
		t.Fatalf("ran %d operations, want 103", len(seen))
	}
	if st.Errors != 10 || st.Ops != 93 {
		t.Errorf("ops %d errors %d, want 93 and 10", st.Ops, st.Errors)
	}
	if st.Items != 186 || st.Bytes != 9300 || st.Latency.N != 93 {
		t.Errorf("items %d bytes %d samples %d", st.Items, st.Bytes, st.Latency.N)
	}
	if st.FirstErr == nil || st.Aborted {
		t.Errorf("first error %v, aborted %v", st.FirstErr, st.Aborted)
	}
}

func TestRunWorkloadAbortsWhenEverythingFails(t *testing.T) {
	st := runWorkload(context.Background(), runSpec{Concurrency: 2, Duration: time.Hour, MaxOps: 1000},
		func(ctx context.Context, w, seq int) (opOutcome, error) {
			return opOutcome{}, errors.New("500")
		})
	if !st.Aborted || st.Ops != 0 {
		t.Errorf("aborted %v ops %d", st.Aborted, st.Ops)
	}
	// Workers stop soon after the threshold: at most one more each.
	if st.Errors < abortAfter || st.Errors > abortAfter+2 {
		t.Errorf("%d errors before stopping, want about %d", st.Errors, abortAfter)
	}
}

func TestRunWorkloadStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel once 20 operations have succeeded (not at sequence number 20:
	// with three workers a lower number may still be running then, and
	// would see the cancel).
	var done atomic.Int64
	st := runWorkload(ctx, runSpec{Concurrency: 3, Duration: time.Hour},
		func(ctx context.Context, w, seq int) (opOutcome, error) {
			if ctx.Err() != nil {
				return opOutcome{}, ctx.Err()
			}
			if done.Add(1) == 20 {
				cancel()
			}
			return opOutcome{}, nil
		})
	if st.Errors != 0 {
		t.Errorf("an interrupted operation counted as %d errors", st.Errors)
	}
	if st.Ops < 20 {
		t.Errorf("%d operations before the cancel, want at least 20", st.Ops)
	}
}

func TestRunWorkloadUntimed(t *testing.T) {
	st := runWorkload(context.Background(), runSpec{Concurrency: 1, Duration: time.Hour, MaxOps: 1},
		func(ctx context.Context, w, seq int) (opOutcome, error) {
			time.Sleep(20 * time.Millisecond)
			return opOutcome{Untimed: 20 * time.Millisecond}, nil
		})
	// The sample is the operation's time less the untimed part, and the
	// operation ran within the elapsed time, whatever the clock did.
	if st.Latency.N != 1 || st.Latency.Max > st.Elapsed-20*time.Millisecond {
		t.Errorf("latency %v includes the untimed part (elapsed %v)", st.Latency.Max, st.Elapsed)
	}
}
