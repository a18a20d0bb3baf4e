package caldav

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/internal/recur"
)

func addSeeds(f *testing.F) {
	for _, dir := range []string{"../internal/recur/testdata/recur", "testdata/validate"} {
		files, _ := filepath.Glob(filepath.Join(filepath.FromSlash(dir), "*.ics"))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// FuzzParseObject: validation never panics, and an accepted object can be
// expanded over a year and indexed without panicking or failing with
// anything but ErrTooManyInstances.
func FuzzParseObject(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		po, err := ParseObject(body, "text/calendar; charset=utf-8", []string{"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY"})
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error is not a ValidationError: %v", err)
			}
			// Stored objects passed validation, but expansion must
			// not panic on anything the decoder accepts either.
			if cal, err := decodeCalendar(body); err == nil {
				lim := recur.Limits{MaxInstances: 200, MaxWork: 5_000}
				recur.Instances(cal, time.Time{}, time.Time{}, nil, lim)
				recur.Span(cal, nil, lim)
			}
			return
		}
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		lim := recur.Limits{MaxInstances: 1000, MaxWork: 20_000}
		for _, loc := range []*time.Location{time.UTC, time.FixedZone("x", -11*3600)} {
			ins, err := recur.Instances(po.Cal, start, start.AddDate(1, 0, 0), loc, lim)
			if err != nil && !errors.Is(err, recur.ErrTooManyInstances) {
				t.Fatalf("Instances: %v", err)
			}
			for _, in := range ins {
				if in.Component == nil {
					t.Fatal("instance without component")
				}
				for _, a := range in.Component.Children {
					if _, err := recur.ComponentInstances(po.Cal, a, start, start.AddDate(1, 0, 0), loc, lim); err != nil && !errors.Is(err, recur.ErrTooManyInstances) {
						t.Fatalf("ComponentInstances: %v", err)
					}
				}
			}
		}
		if _, err := FreeBusy(nil, start, start.AddDate(0, 1, 0), nil, lim); err != nil {
			t.Fatal(err)
		}
	})
}
