//go:build unix

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// benchStore is a store with one user and a calendar of n events, named
// ev-0.ics … ev-(n-1).ics, each spanning one hour in March 2026.
func benchStore(b *testing.B, n int) (*Store, *store.User, *store.Collection) {
	b.Helper()
	s := openT(b, filepath.Join(b.TempDir(), "davenport.db"))
	u, c := seed(b, s)
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		o := event(c, fmt.Sprintf("ev-%d.ics", i), fmt.Sprintf("ev-%d", i))
		start, end := base.Add(time.Duration(i)*time.Hour), base.Add(time.Duration(i+1)*time.Hour)
		o.FirstStart, o.LastEnd = &start, &end
		if _, err := s.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	return s, u, c
}

// loop runs op b.N times through b.Loop. Besides the wall time per
// operation it reports the CPU time the process spent per operation
// (cpu-ns/op), which other load on a shared machine inflates far less.
func loop(b *testing.B, op func() error) {
	b.Helper()
	b.ReportAllocs()
	start := cpuTime(b)
	n := 0
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(cpuTime(b)-start)/float64(n), "cpu-ns/op")
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAuthLookups is the store's share of authenticating a request.
func BenchmarkAuthLookups(b *testing.B) {
	s, _, _ := benchStore(b, 0)
	ctx := context.Background()
	loop(b, func() error {
		_, _, err := s.GetUserCredentials(ctx, "alice")
		return err
	})
}

// BenchmarkGetObject is the lookups of a GET: the collection, then the
// object with its body.
func BenchmarkGetObject(b *testing.B) {
	s, u, c := benchStore(b, 100)
	ctx := context.Background()
	loop(b, func() error {
		if _, err := s.GetCollection(ctx, u.ID, store.KindCalendar, c.Name); err != nil {
			return err
		}
		return wantObjects(s.GetObjects(ctx, c.ID, []string{"ev-42.ics"}, true))(1)
	})
}

// BenchmarkGetObjects100 is a calendar-multiget of 100 names.
func BenchmarkGetObjects100(b *testing.B) {
	s, _, c := benchStore(b, 1000)
	names := make([]string, 100)
	for i := range names {
		names[i] = fmt.Sprintf("ev-%d.ics", i*7)
	}
	ctx := context.Background()
	loop(b, func() error {
		return wantObjects(s.GetObjects(ctx, c.ID, names, true))(len(names))
	})
}

// BenchmarkListObjects1000 is the listing of a PROPFIND Depth:1.
func BenchmarkListObjects1000(b *testing.B) {
	s, _, c := benchStore(b, 1000)
	ctx := context.Background()
	loop(b, func() error {
		return wantObjects(s.ListObjects(ctx, c.ID, store.ListObjectsOptions{}))(1000)
	})
}

// BenchmarkTimeRange is the candidate query of a calendar-query over one
// day of a 1000-event calendar.
func BenchmarkTimeRange(b *testing.B) {
	s, _, c := benchStore(b, 1000)
	ctx := context.Background()
	start := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	end := start.Add(24 * time.Hour)
	opts := store.ListObjectsOptions{WithBody: true, Component: "VEVENT", Start: &start, End: &end}
	loop(b, func() error {
		// The inclusive bounds also take the events ending at start and
		// starting at end.
		return wantObjects(s.ListObjects(ctx, c.ID, opts))(26)
	})
}

// bulkBase and bulkStep place bulkStore's events: event i starts at
// bulkBase + i*bulkStep(n), so n events cover two years evenly.
var bulkBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func bulkStep(n int) time.Duration { return 2 * 365 * 24 * time.Hour / time.Duration(n) }

// bulkStore is a store with a calendar of n one-hour events, ev-0.ics …,
// spread over two years, each with a body of about 700 bytes (the size of
// cmd/davbench's events), so that at n = 100,000 the database is far larger
// than SQLite's page cache. It is filled in one transaction of plain
// INSERTs, since PutObject would take minutes; the triggers still run.
func bulkStore(b *testing.B, n int) (*Store, *store.Collection) {
	b.Helper()
	pad := "DESCRIPTION:" + strings.Repeat("x", 600) + "\r\n"
	return bulkFill(b, n, func(i int) bulkRow {
		start := bulkBase.Add(time.Duration(i) * bulkStep(n))
		uid := fmt.Sprintf("ev-%d", i)
		return bulkRow{
			name: uid + ".ics", uid: uid, contentType: "text/calendar; charset=utf-8", component: "VEVENT",
			start: start, end: start.Add(time.Hour),
			body: "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\n" + pad + "END:VEVENT\r\nEND:VCALENDAR\r\n",
		}
	})
}

// bulkRow is one object of bulkFill.
type bulkRow struct {
	name, uid, contentType, component, searchText, body string
	start, end                                          time.Time
}

// bulkFill is a store with one collection of n objects made by row, filled
// in one transaction of plain INSERTs, since PutObject would take minutes
// for 100,000 objects; the triggers still run.
func bulkFill(b *testing.B, n int, row func(i int) bulkRow) (*Store, *store.Collection) {
	b.Helper()
	s := openT(b, filepath.Join(b.TempDir(), "davenport.db"))
	_, c := seed(b, s)
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	for i := range n {
		r := row(i)
		var start, end sql.NullInt64
		if !r.start.IsZero() {
			start, end = sql.NullInt64{Int64: toMicros(r.start), Valid: true}, sql.NullInt64{Int64: toMicros(r.end), Valid: true}
		}
		_, err := tx.ExecContext(ctx, insertObjectSQL, c.ID, r.name, r.uid, fmt.Sprintf("%x", i),
			r.contentType, r.component, len(r.body), i+1, start, end, r.searchText, toMicros(bulkBase), []byte(r.body))
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return s, c
}

// BenchmarkSearchSpread is the candidate query of an addressbook-query,
// EMAIL contains a term about 1% of the cards carry (as cmd/davbench asks),
// over address books of 1,000 and 100,000 cards. Per returned card the cost
// should not grow with the address book.
func BenchmarkSearchSpread(b *testing.B) {
	first := []string{"ANNA", "BEN", "CLARA", "DAVID", "EMMA", "FELIX", "GRETA", "HUGO"}
	last := []string{"SMITH", "MÜLLER", "GARCIA", "ROSSI", "DUBOIS", "NOWAK", "JANSEN", "SILVA"}
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			s, c := bulkFill(b, n, func(i int) bulkRow {
				f, l := first[i%len(first)], last[i/len(first)%len(last)]
				text := fmt.Sprintf("%s %s\n%s;%s\n%s.%s.K%03dQ@EXAMPLE.ORG\n+1-555-%03d-%04d\n%s CONSULTING\nGENERATED BY DAVBENCH, CARD %d.",
					f, l, l, f, f, l, i%97, i%1000, i%10000, l, i)
				uid := fmt.Sprintf("c-%d", i)
				return bulkRow{name: uid + ".vcf", uid: uid, contentType: "text/vcard; charset=utf-8", component: "VCARD",
					searchText: text, body: "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + f + " " + l + "\r\nEND:VCARD\r\n"}
			})
			ctx := context.Background()
			opts := store.ListObjectsOptions{WithBody: true, SearchText: []string{"K017Q"}}
			var got int
			loop(b, func() error {
				objs, err := s.ListObjects(ctx, c.ID, opts)
				got = len(objs)
				return err
			})
			if want := (n + 96 - 17) / 97; got != want {
				b.Fatalf("got %d cards, want %d", got, want)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(got), "ns/item")
		})
	}
}

// BenchmarkGetObjectsSpread is a calendar-multiget of 100 random names, with
// bodies, from calendars of 1,000 and 100,000 events. Its cost should not
// grow with the collection.
func BenchmarkGetObjectsSpread(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			s, c := bulkStore(b, n)
			ctx := context.Background()
			rnd := rand.New(rand.NewPCG(1, 2))
			names := make([]string, 100)
			loop(b, func() error {
				for i := range names {
					names[i] = fmt.Sprintf("ev-%d.ics", rnd.IntN(n))
				}
				objs, err := s.GetObjects(ctx, c.ID, names, true)
				if err == nil && len(objs) == 0 {
					err = fmt.Errorf("no objects found")
				}
				return err
			})
		})
	}
}

// BenchmarkTimeRangeSpread is the candidate query of a one-week
// calendar-query over calendars of 1,000 and 100,000 one-hour events spread
// evenly over two years, the shape of cmd/davbench's data. The week is in
// the middle, where a one-sided index on either bound would still read
// half of the collection. Per returned item the cost should not grow with
// the collection.
func BenchmarkTimeRangeSpread(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			s, c := bulkStore(b, n)
			ctx := context.Background()
			step := bulkStep(n)
			start := bulkBase.AddDate(1, 0, 0)
			end := start.AddDate(0, 0, 7)
			opts := store.ListObjectsOptions{WithBody: true, Component: "VEVENT", Start: &start, End: &end}
			var got int
			loop(b, func() error {
				objs, err := s.ListObjects(ctx, c.ID, opts)
				got = len(objs)
				return err
			})
			// Events ending inside the week's first hour count too.
			if want := int((7*24*time.Hour + time.Hour) / step); got < want-1 || got > want+1 {
				b.Fatalf("got %d events in the week, want about %d", got, want)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(got), "ns/item")
		})
	}
}

// BenchmarkChangesSince is a sync-collection report of the last ten
// changes.
func BenchmarkChangesSince(b *testing.B) {
	s, _, c := benchStore(b, 1000)
	ctx := context.Background()
	cur, err := s.GetCollection(ctx, c.OwnerID, c.Kind, c.Name)
	if err != nil {
		b.Fatal(err)
	}
	loop(b, func() error {
		ch, err := s.ListChangesSince(ctx, c.ID, cur.ModSeq-10, 0, false)
		if err == nil && len(ch.Changes) != 10 {
			err = fmt.Errorf("%d changes, want 10", len(ch.Changes))
		}
		return err
	})
}

// BenchmarkPutObject replaces one object again and again, with each
// durability setting: the difference is the price of syncing the log at
// every commit (synchronous=FULL, the default) over syncing at checkpoints.
func BenchmarkPutObject(b *testing.B) {
	for _, sync := range []Synchronous{SyncFull, SyncNormal} {
		b.Run("synchronous="+string(sync), func(b *testing.B) {
			s, _, c := benchStore(b, 100)
			if sync != SyncFull {
				if _, err := s.w.Exec(`PRAGMA synchronous = ` + string(sync)); err != nil {
					b.Fatal(err)
				}
			}
			ctx := context.Background()
			o := event(c, "ev-42.ics", "ev-42")
			loop(b, func() error {
				_, err := s.PutObject(ctx, o, store.PutObjectOptions{})
				return err
			})
		})
	}
}

// wantObjects checks the result of a call returning objects: no error and
// n objects.
func wantObjects(objs []store.Object, err error) func(n int) error {
	return func(n int) error {
		if err == nil && len(objs) != n {
			err = fmt.Errorf("%d objects, want %d", len(objs), n)
		}
		return err
	}
}

// BenchmarkTimeRangePaged reads a year of a 10,000-event calendar with
// bodies a page of 500 at a time, as the engine's folds (free-busy) and
// queries do: each page must cost what it returns, not a re-read of every
// body in the range.
func BenchmarkTimeRangePaged(b *testing.B) {
	const n, page = 10000, 500
	s, c := bulkStore(b, n)
	ctx := context.Background()
	start := bulkBase
	end := start.AddDate(1, 0, 0)
	var got int
	loop(b, func() error {
		got = 0
		opts := store.ListObjectsOptions{WithBody: true, Component: "VEVENT", Start: &start, End: &end, Limit: page}
		for {
			objs, err := s.ListObjects(ctx, c.ID, opts)
			if err != nil {
				return err
			}
			got += len(objs)
			if len(objs) < page {
				return nil
			}
			opts.After = objs[len(objs)-1].Name
		}
	})
	if got < n/2-10 || got > n/2+10 {
		b.Fatalf("got %d events in the year, want about %d", got, n/2)
	}
}
