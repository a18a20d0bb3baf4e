package caldav

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParseObject measures validating and indexing a PUT body; the
// recurring ones are the fixtures of internal/recur.
func BenchmarkParseObject(b *testing.B) {
	for _, name := range []string{"testdata/validate/ok-event.ics", "../internal/recur/testdata/recur/overrides.ics",
		"../internal/recur/testdata/recur/windows.ics", "../internal/recur/testdata/recur/custom-tz.ics"} {
		body, err := os.ReadFile(filepath.FromSlash(name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(name), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := ParseObject(body, "text/calendar; charset=utf-8", nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
