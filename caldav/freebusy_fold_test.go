package caldav

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/internal/recur"
)

// TestMergeBusyIncremental: busyTime merges what it holds as periods
// arrive; merging a merged set with new periods must give what merging
// everything at once gives, whatever the overlaps and types.
func TestMergeBusyIncremental(t *testing.T) {
	types := []string{fbBusy, fbBusyTentative, fbBusyUnavailable}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		var all []busyPeriod
		b := &busyTime{}
		for range 500 {
			s := base.Add(time.Duration(rng.IntN(2000)) * time.Minute)
			p := busyPeriod{s, s.Add(time.Duration(1+rng.IntN(120)) * time.Minute), types[rng.IntN(3)]}
			all = append(all, p)
			b.busy = append(b.busy, p)
			if rng.IntN(7) == 0 {
				b.busy = mergeBusy(b.busy)
			}
		}
		if got, want := mergeBusy(b.busy), mergeBusy(all); !slices.Equal(got, want) {
			t.Fatalf("round %d: incremental merge differs:\n got %v\nwant %v", round, got, want)
		}
	}
}

// TestBusyTimeBounded: busy time folded in object by object holds the
// merged periods, not one period per object.
func TestBusyTimeBounded(t *testing.T) {
	b := newBusyTime(utc("20240101T000000Z"), utc("20240201T000000Z"), time.UTC, recur.DefaultLimits)
	for i := range 2000 {
		// Every event overlaps the same two hours, alternately busy and
		// tentative: two merged periods at most.
		extra := "STATUS:CONFIRMED"
		if i%2 == 1 {
			extra = "STATUS:TENTATIVE"
		}
		cal, err := decodeCalendar([]byte(calText("BEGIN:VEVENT", "UID:e", "DTSTART:20240110T090000Z", "DTEND:20240110T110000Z", extra, "END:VEVENT")))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.add(cal); err != nil {
			t.Fatal(err)
		}
		if len(b.busy) > 200 {
			t.Fatalf("after %d events busyTime holds %d periods", i+1, len(b.busy))
		}
	}
	if got := mergeBusy(b.busy); len(got) != 1 || got[0].fbtype != fbBusy {
		t.Errorf("merged: %v", got)
	}
}
