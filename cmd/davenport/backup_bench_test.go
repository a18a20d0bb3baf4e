package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// benchItems is how many events BenchmarkBackupRestore stores:
// DAVENPORT_BENCH_ITEMS, or 2,000 so that CI's default run stays short.
// Issue 17's figures are taken with 100000.
func benchItems(b *testing.B) int {
	if v := os.Getenv("DAVENPORT_BENCH_ITEMS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("DAVENPORT_BENCH_ITEMS=%q", v)
		}
		return n
	}
	return 2000
}

// benchRecords is a store of one user with a calendar of n 1 KiB events,
// as records for Load (the fastest way to fill a store).
func benchRecords(n int) func(yield func(store.Record, error) bool) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	desc := strings.Repeat("Agenda item, notes and a link to the minutes. ", 16)
	return func(yield func(store.Record, error) bool) {
		if !yield(store.Record{User: &store.User{ID: 1, Username: "bench", PasswordHash: "x", Created: now}}, nil) {
			return
		}
		c := &store.Collection{ID: 1, OwnerID: 1, Kind: store.KindCalendar, Name: "personal", DisplayName: "Personal",
			Components: []string{"VEVENT"}, ModSeq: int64(n), Created: now, Updated: now}
		if !yield(store.Record{Collection: c}, nil) {
			return
		}
		for i := range n {
			body := []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:ev-" + strconv.Itoa(i) +
				"\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250102T100000Z\r\nDURATION:PT1H\r\nSUMMARY:Meeting " +
				strconv.Itoa(i) + "\r\nDESCRIPTION:" + desc + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
			start := time.Date(2025, 1, 2, 10, 0, 0, 0, time.UTC)
			end := start.Add(time.Hour)
			o := &store.Object{ID: int64(i + 1), CollectionID: 1, Name: fmt.Sprintf("ev-%d.ics", i), UID: "ev-" + strconv.Itoa(i),
				ETag: fmt.Sprintf("%032x", i), ContentType: "text/calendar; charset=utf-8", Component: "VEVENT",
				ModSeq: int64(i + 1), FirstStart: &start, LastEnd: &end, Created: now, Updated: now, Body: body}
			if !yield(store.Record{Object: o}, nil) {
				return
			}
		}
	}
}

// peakHeap samples the Go heap while f runs and returns its peak in MiB.
func peakHeap(f func()) float64 {
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return float64(peak.Load()) / (1 << 20)
}

// BenchmarkBackupRestore measures davenport backup and restore on both
// stores: items/s, and the peak Go heap while each runs (bounded by a
// chunk of the archive, not by the store). One pass is one backup or one
// restore of the whole store:
//
//	DAVENPORT_BENCH_ITEMS=100000 go test -run '^$' -bench BackupRestore -benchtime 1x ./cmd/davenport
func BenchmarkBackupRestore(b *testing.B) {
	n := benchItems(b)
	ctx := context.Background()
	newStore := map[string]func(testing.TB) store.Store{"sqlite": testdb.SQLite, "postgres": testdb.Postgres}
	for _, kind := range []string{"sqlite", "postgres"} {
		src := newStore[kind](b)
		if err := src.Load(ctx, benchRecords(n)); err != nil {
			b.Fatal(err)
		}
		archive := filepath.Join(b.TempDir(), "bench.tar")
		b.Run("backup/"+kind, func(b *testing.B) {
			var elapsed time.Duration
			var heap float64
			for b.Loop() {
				f, err := os.Create(archive)
				if err != nil {
					b.Fatal(err)
				}
				heap = max(heap, peakHeap(func() {
					start := time.Now()
					if _, err := writeBackup(ctx, src, f, manifest{Format: archiveFormat, Version: archiveVersion}); err != nil {
						b.Fatal(err)
					}
					elapsed += time.Since(start)
				}))
				f.Close()
			}
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "items/s")
			b.ReportMetric(heap, "peak-heap-MiB")
		})
		b.Run("restore/"+kind, func(b *testing.B) {
			var elapsed time.Duration
			var heap float64
			for b.Loop() {
				b.StopTimer()
				dst := newStore[kind](b)
				b.StartTimer()
				f, err := os.Open(archive)
				if err != nil {
					b.Fatal(err)
				}
				heap = max(heap, peakHeap(func() {
					start := time.Now()
					err := dst.Load(ctx, func(yield func(store.Record, error) bool) {
						if _, _, err := readArchive(f, func(r store.Record) error {
							if !yield(r, nil) {
								return errStop
							}
							return nil
						}); err != nil {
							yield(store.Record{}, err)
						}
					})
					if err != nil {
						b.Fatal(err)
					}
					elapsed += time.Since(start)
				}))
				f.Close()
			}
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "items/s")
			b.ReportMetric(heap, "peak-heap-MiB")
		})
	}
}
