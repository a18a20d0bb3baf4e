package server_test

import (
	"bufio"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// BenchmarkWebImport imports the file issue 14 names, 50 MB with 100,000
// events, through the web UI's import form (a multipart upload into a new
// calendar), on both stores, and reports the time, items/s and the peak
// Go heap in use during the import (sampled every 5 ms) against the file's
// size: the upload is spooled to a temporary file and read in two passes
// (package ingest), so the heap grows with the number of items (their
// offsets), never with the size of the file.
//
//	go test ./server -run '^$' -bench BenchmarkWebImport -benchtime 1x
func BenchmarkWebImport(b *testing.B) {
	const items = 100_000
	path := filepath.Join(b.TempDir(), "big.ics")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n")
	// About 500 bytes an event, the description folded (RFC 5545 §3.1):
	// 100,000 of them make 50 MB, just under the 50 MiB an import takes.
	desc := strings.Repeat("Agenda and notes. ", 17)[:300]
	for i := 300 - 300%70; i > 0; i -= 70 {
		desc = desc[:i] + "\r\n " + desc[i:]
	}
	for i := range items {
		fmt.Fprintf(w, "BEGIN:VEVENT\r\nUID:import-%d@example.org\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T%02d0000Z\r\nDURATION:PT1H\r\nSUMMARY:Imported event %d\r\nLOCATION:Room %d\r\nDESCRIPTION:%s\r\nEND:VEVENT\r\n", i, i%24, i, i%100, desc)
	}
	w.WriteString("END:VCALENDAR\r\n")
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	size, _ := f.Seek(0, io.SeekCurrent)
	f.Close()
	testdb.EachBench(b, func(b *testing.B, st store.Store) {
		e := newEnvTB(b, st)
		h := e.srv.Config.Handler
		session := webSession(b, h)
		for n := 0; b.Loop(); n++ {
			pr, pw := io.Pipe()
			mw := multipart.NewWriter(pw)
			go func() {
				mw.WriteField("target", "new-calendar")
				mw.WriteField("name", "Imported "+strconv.Itoa(n))
				fw, _ := mw.CreateFormFile("file", "big.ics")
				src, err := os.Open(path)
				if err != nil {
					pw.CloseWithError(err)
					return
				}
				defer src.Close()
				io.Copy(fw, src)
				pw.CloseWithError(mw.Close())
			}()
			req := httptest.NewRequest("POST", "/web/import?csrf="+url.QueryEscape(session.csrf), pr)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.AddCookie(session.cookie)
			rec := httptest.NewRecorder()

			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapInuse
			var peak atomic.Uint64
			done := make(chan struct{})
			go func() {
				t := time.NewTicker(5 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-done:
						return
					case <-t.C:
						var ms runtime.MemStats
						runtime.ReadMemStats(&ms)
						if ms.HeapInuse > peak.Load() {
							peak.Store(ms.HeapInuse)
						}
					}
				}
			}()
			t0 := time.Now()
			h.ServeHTTP(rec, req)
			took := time.Since(t0)
			close(done)
			if rec.Code != http.StatusOK {
				b.Fatalf("import = %d\n%.2000s", rec.Code, rec.Body)
			}
			if m := regexp.MustCompile(`id="created">(\d+)<`).FindStringSubmatch(rec.Body.String()); m == nil || m[1] != strconv.Itoa(items) {
				b.Fatalf("import created %v, want %d\n%.3000s", m, items, rec.Body)
			}
			grown := float64(peak.Load()) - float64(base)
			b.ReportMetric(took.Seconds(), "s/import")
			b.ReportMetric(items/took.Seconds(), "items/s")
			b.ReportMetric(float64(size)/(1<<20), "MiB-file")
			b.ReportMetric(grown/(1<<20), "MiB-peak-heap-growth")
			b.Logf("%d-byte file of %d events imported in %v; heap in use %d MiB before, peak %d MiB; %s",
				size, items, took.Round(time.Millisecond), base>>20, peak.Load()>>20, peakRSS())
		}
	})
}

// peakRSS is the process's peak resident set (Linux), for the log.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "peak RSS unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return "peak RSS of the process " + strings.Join(strings.Fields(strings.TrimPrefix(l, "VmHWM:")), " ")
		}
	}
	return "peak RSS unknown"
}
