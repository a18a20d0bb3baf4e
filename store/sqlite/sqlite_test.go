package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-migrate/migrate/v4"
	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/davenport-dav/davenport/migrations"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/storetest"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openT(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, discard())
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawExec runs statements on the file directly, bypassing the store.
func rawExec(t testing.TB, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seed creates a user with one calendar and returns the calendar.
func seed(t testing.TB, s *Store) (*store.User, *store.Collection) {
	t.Helper()
	ctx := context.Background()
	u := &store.User{Username: "alice", PasswordHash: "x"}
	cols := []store.Collection{{Kind: store.KindCalendar, Name: "default", Components: []string{"VEVENT", "VTODO"}}}
	if err := s.CreateUser(ctx, u, cols); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	c, err := s.GetCollection(ctx, u.ID, store.KindCalendar, "default")
	if err != nil {
		t.Fatalf("GetCollection: %v", err)
	}
	return u, c
}

func event(c *store.Collection, name, uid string) *store.Object {
	body := []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	return &store.Object{
		CollectionID: c.ID, Name: name, UID: uid, ETag: fmt.Sprintf("%x", len(body)) + uid,
		ContentType: "text/calendar; charset=utf-8", Component: "VEVENT", Body: body,
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "davenport.db")
	openT(t, path)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("directory mode = %o, want 700", got)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not created: %v", err)
	}
}

func TestOpenUnwritable(t *testing.T) {
	tmp := t.TempDir()
	notDir := filepath.Join(tmp, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
		skip             string
	}{
		{name: "parent is a file", path: filepath.Join(notDir, "sub", "davenport.db"), want: notDir},
		{name: "read-only directory", path: filepath.Join(tmp, "ro", "davenport.db"), want: filepath.Join(tmp, "ro")},
	}
	if os.Geteuid() == 0 {
		tests[1].skip = "running as root: permission bits do not stop root"
	}
	if err := os.Mkdir(filepath.Join(tmp, "ro"), 0o500); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			s, err := Open(context.Background(), tt.path, discard())
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
		})
	}
}

func TestOpenRefusesCorruptFile(t *testing.T) {
	random := make([]byte, 8192)
	rand.Read(random)

	// A real database whose later pages are overwritten with garbage: the
	// header is intact, the b-trees are not.
	valid := filepath.Join(t.TempDir(), "valid.db")
	s := openT(t, valid)
	_, c := seed(t, s)
	for i := range 50 {
		o := event(c, fmt.Sprintf("e%d.ics", i), fmt.Sprintf("uid-%d", i))
		o.Body = bytes.Repeat([]byte("x"), 2000)
		if _, err := s.PutObject(context.Background(), o, store.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	damaged := readFile(t, valid)
	for i := 4096 * 2; i < len(damaged) && i < 4096*8; i++ {
		damaged[i] = byte(i * 7)
	}

	tests := []struct {
		name    string
		content []byte
	}{
		{"random bytes", random},
		{"zeros", make([]byte, 4096)},
		{"text", []byte("this is not a database\n")},
		{"short header", []byte("SQLite for")},
		{"header only", []byte(sqliteHeader)},
		{"damaged pages", damaged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "davenport.db")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), path, discard())
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded on a corrupt file")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if got := readFile(t, path); !bytes.Equal(got, tt.content) {
				t.Error("the corrupt file was modified")
			}
			if _, _, err := Migrate(context.Background(), path); err == nil {
				t.Error("Migrate succeeded on a corrupt file")
			}
			if got := readFile(t, path); !bytes.Equal(got, tt.content) {
				t.Error("Migrate modified the corrupt file")
			}
		})
	}
}

func TestOpenRefusesForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	rawExec(t, path, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`, `INSERT INTO notes (body) VALUES ('keep me')`)
	before := readFile(t, path)
	s, err := Open(context.Background(), path, discard())
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded on another application's database")
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Error("the foreign database was modified")
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "davenport.db")
	s := openT(t, path)
	seed(t, s)
	s.Close()
	rawExec(t, path, `UPDATE schema_migrations SET version = 9999`)
	before := readFile(t, path)

	s2, err := Open(context.Background(), path, discard())
	if err == nil {
		s2.Close()
		t.Fatal("Open succeeded on a database from a newer version")
	}
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("Open error = %v, want ErrSchemaTooNew", err)
	}
	if _, _, err := Migrate(context.Background(), path); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("Migrate error = %v, want ErrSchemaTooNew", err)
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Error("the newer database was modified")
	}
}

func TestOpenRefusesDirtySchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "davenport.db")
	openT(t, path).Close()
	rawExec(t, path, `UPDATE schema_migrations SET dirty = 1`)
	before := readFile(t, path)
	s, err := Open(context.Background(), path, discard())
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded on a dirty database")
	}
	if !strings.Contains(err.Error(), "dirty") {
		t.Errorf("error %q does not say dirty", err)
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Error("the dirty database was modified")
	}
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "davenport.db")
	from, to, err := Migrate(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if from != 0 || to == 0 {
		t.Errorf("first Migrate = %d → %d, want 0 → latest", from, to)
	}
	from2, to2, err := Migrate(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if from2 != to || to2 != to {
		t.Errorf("second Migrate = %d → %d, want %d → %d", from2, to2, to, to)
	}
	// An empty file (as touch(1) leaves it) is an empty database.
	empty := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, to3, err := Migrate(ctx, empty); err != nil || to3 != to {
		t.Errorf("Migrate(empty file) = %d, %v; want %d", to3, err, to)
	}
}

func TestRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "davenport.db")
	s := openT(t, path)
	u, c := seed(t, s)
	o := event(c, "a.ics", "uid-a")
	if _, err := s.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteObject(ctx, c.ID, "a.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	o2 := event(c, "b.ics", "uid-b")
	if _, err := s.PutObject(ctx, o2, store.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, path)
	got, err := s.GetObject(ctx, c.ID, "b.ics")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Body, o2.Body) || got.ETag != o2.ETag || got.ModSeq != o2.ModSeq ||
		!got.Created.Equal(o2.Created) || !got.Updated.Equal(o2.Updated) {
		t.Errorf("after restart got %+v, want %+v", got, o2)
	}
	ch, err := s.ListChangesSince(ctx, c.ID, 0, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Changes) != 2 || !ch.Changes[0].Deleted || ch.Changes[0].Name != "a.ics" || ch.ModSeq != 3 {
		t.Errorf("changes after restart = %+v", ch)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v", n, err)
	}
	c2, err := s.GetCollection(ctx, u.ID, store.KindCalendar, "default")
	if err != nil {
		t.Fatal(err)
	}
	if c2.ModSeq != 3 || len(c2.Components) != 2 {
		t.Errorf("collection after restart = %+v", c2)
	}
}

// TestConcurrentWriters: many goroutines writing one collection get unique,
// gap-free modseqs that increase in each goroutine's order, with no
// SQLITE_BUSY surfacing, while readers keep reading.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "davenport.db"))
	_, c := seed(t, s)
	const writers, each = 8, 20

	var (
		mu      sync.Mutex
		seen    = map[int64]string{}
		wg      sync.WaitGroup
		errs    = make(chan error, writers*each+64)
		stop    = make(chan struct{})
		readers sync.WaitGroup
	)
	for r := range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.ListObjects(ctx, c.ID, store.ListObjectsOptions{}); err != nil {
					errs <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
				if _, err := s.ListChangesSince(ctx, c.ID, 0, 10, false); err != nil {
					errs <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last int64
			for i := range each {
				name := fmt.Sprintf("w%d-%d.ics", w, i)
				o := event(c, name, name)
				if _, err := s.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				if o.ModSeq <= last {
					errs <- fmt.Errorf("writer %d: modseq %d after %d", w, o.ModSeq, last)
				}
				last = o.ModSeq
				mu.Lock()
				if prev, dup := seen[o.ModSeq]; dup {
					errs <- fmt.Errorf("modseq %d given to %s and %s", o.ModSeq, prev, name)
				}
				seen[o.ModSeq] = name
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for m := int64(1); m <= writers*each; m++ {
		if _, ok := seen[m]; !ok {
			t.Errorf("modseq %d never handed out", m)
		}
	}
	got, err := s.GetCollection(ctx, c.OwnerID, store.KindCalendar, "default")
	if err != nil {
		t.Fatal(err)
	}
	if got.ModSeq != writers*each {
		t.Errorf("collection modseq = %d, want %d", got.ModSeq, writers*each)
	}
}

// TestConcurrentIfMatch: writers racing with the same If-Match; exactly one
// wins, the others get ErrPreconditionFailed.
func TestConcurrentIfMatch(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "davenport.db"))
	_, c := seed(t, s)
	o := event(c, "a.ics", "uid-a")
	if _, err := s.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	const n = 12
	var (
		wg          sync.WaitGroup
		mu          sync.Mutex
		wins, fails int
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := event(c, "a.ics", "uid-a")
			w.ETag = fmt.Sprintf("etag-%d", i)
			_, err := s.PutObject(ctx, w, store.PutObjectOptions{IfMatch: o.ETag})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrPreconditionFailed):
				fails++
			default:
				t.Errorf("writer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || fails != n-1 {
		t.Errorf("wins = %d, precondition failures = %d; want 1 and %d", wins, fails, n-1)
	}
}

// TestWritesWaitForContext: a queued writer gives up when its context ends.
func TestWriteHonoursContext(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "davenport.db"))
	_, c := seed(t, s)
	tx, err := s.w.BeginTx(context.Background(), nil) // occupy the writer
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = s.PutObject(ctx, event(c, "a.ics", "a"), store.PutObjectOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("PutObject with a busy writer = %v, want context.DeadlineExceeded", err)
	}
	tx.Rollback()
	if _, err := s.PutObject(context.Background(), event(c, "a.ics", "a"), store.PutObjectOptions{}); err != nil {
		t.Errorf("PutObject after the writer is free: %v", err)
	}
}

// queryPlan returns the details of EXPLAIN QUERY PLAN for query, one line a
// step.
func queryPlan(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	rows, err := s.r.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

// TestTimeRangeUsesIndex pins the query plan of a time-range listing: both
// bounds of the span are searched in the R*Tree, and objects is then read by
// rowid, never scanned.
func TestTimeRangeUsesIndex(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "davenport.db"))
	start, end := time.Now(), time.Now().Add(time.Hour)
	// The R*Tree's index string names each constraint it searches: B is
	// <= and D is >=, on coordinates 0 and 1 (the collection) and 2 and 3
	// (the span).
	tests := []struct {
		opts store.ListObjectsOptions
		want string
	}{
		{store.ListObjectsOptions{Start: &start, End: &end, Component: "VEVENT"}, "SCAN s VIRTUAL TABLE INDEX 2:B0D1D3B2"},
		{store.ListObjectsOptions{Start: &start, Component: "VTODO", After: "a.ics", Limit: 10}, "SCAN s VIRTUAL TABLE INDEX 2:B0D1D3\n"},
		{store.ListObjectsOptions{End: &end}, "SCAN s VIRTUAL TABLE INDEX 2:B0D1B2\n"},
	}
	for _, tt := range tests {
		query, args := listQuery(1, tt.opts)
		plan := queryPlan(t, s, query, args...)
		if !strings.Contains(plan, tt.want) || !strings.Contains(plan, "SEARCH objects USING INTEGER PRIMARY KEY (rowid=?)") {
			t.Errorf("plan of %s does not search the R*Tree (%q), then objects by rowid:\n%s", query, tt.want, plan)
		}
	}
}

// TestPreparedQueriesUseIndexes pins the plans of the prepared statements
// whose text no longer depends on their arguments: GetObjects looks each
// name of its JSON array up in the (collection_id, name) unique index, and
// ListChangesSince searches the modseq indexes of both tables.
func TestPreparedQueriesUseIndexes(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "davenport.db"))
	tests := []struct {
		name, query string
		args        []any
		want        []string
	}{
		{"get objects", getObjectsSQL(false), []any{1, `["612e696373"]`},
			[]string{"SEARCH objects USING INDEX sqlite_autoindex_objects_1 (collection_id=? AND name=?)"}},
		{"get objects with body", getObjectsSQL(true), []any{1, `["612e696373", "622e696373"]`},
			[]string{"SEARCH objects USING INDEX sqlite_autoindex_objects_1 (collection_id=? AND name=?)"}},
		{"changes", changesSQL(false), []any{1, 5, -1}, []string{
			"SEARCH objects USING INDEX objects_collection_id_modseq_idx (collection_id=? AND modseq>?)",
			"SEARCH tombstones USING INDEX tombstones_collection_id_modseq_idx (collection_id=? AND modseq>?)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := queryPlan(t, s, tt.query, tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(plan, w) {
					t.Errorf("plan lacks %q:\n%s", w, plan)
				}
			}
			if strings.Contains(plan, "SCAN objects") || strings.Contains(plan, "SCAN tombstones") {
				t.Errorf("plan scans a table:\n%s", plan)
			}
		})
	}
}

// TestListStatementsBounded: a listing's statement is kept for the next
// listing with the same options, and listings with many search terms, whose
// number a client picks, add none; listings answer the same either way.
func TestListStatementsBounded(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "davenport.db"))
	_, c := seed(t, s)
	o := event(c, "greek.ics", "greek")
	o.SearchText = "alpha beta gamma delta epsilon zeta eta"
	if _, err := s.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	list := func(opts store.ListObjectsOptions) []store.Object {
		t.Helper()
		objs, err := s.ListObjects(ctx, c.ID, opts)
		if err != nil {
			t.Fatalf("ListObjects(%+v): %v", opts, err)
		}
		return objs
	}
	words := strings.Fields(o.SearchText)
	for n := 1; n <= len(words); n++ {
		if got := list(store.ListObjectsOptions{SearchText: words[:n]}); len(got) != 1 {
			t.Errorf("search for %q: %d objects, want 1", words[:n], len(got))
		}
		miss := append(slices.Clone(words[:n-1]), "omega")
		if got := list(store.ListObjectsOptions{SearchText: miss}); len(got) != 0 {
			t.Errorf("search for %q: %d objects, want 0", miss, len(got))
		}
	}
	if err := s.st.lists.close(); err != nil { // start counting afresh
		t.Fatal(err)
	}
	s.st.lists = &stmtCache{db: s.r, m: make(map[string]*sql.Stmt)}
	list(store.ListObjectsOptions{})
	list(store.ListObjectsOptions{})
	list(store.ListObjectsOptions{WithBody: true, Component: "VEVENT", Start: &start})
	list(store.ListObjectsOptions{WithBody: true, Component: "VTODO", Start: &start})
	if n := s.st.lists.len(); n != 2 {
		t.Errorf("%d statements cached after listings with two sets of options, want 2", n)
	}
	for n := 1; n <= 3*maxPreparedTerms; n++ {
		list(store.ListObjectsOptions{SearchText: slices.Repeat([]string{"x"}, n)})
	}
	if got, want := s.st.lists.len(), 2+maxPreparedTerms; got != want {
		t.Errorf("%d statements cached after searches with 1 to %d terms, want %d", got, 3*maxPreparedTerms, want)
	}
	s.Close()
	if _, err := s.ListObjects(ctx, c.ID, store.ListObjectsOptions{Component: "VCARD"}); err == nil {
		t.Error("ListObjects after Close succeeded")
	}
}

// TestReadsReleaseSnapshots: a prepared statement is reset when its read is
// done, whatever the outcome, so no reader connection keeps an old snapshot
// that would stop checkpoints from emptying the write-ahead log.
func TestReadsReleaseSnapshots(t *testing.T) {
	// A read that kept its connection would, once the pool is used up,
	// make the next one wait: the deadline turns that into a failure.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := openT(t, filepath.Join(t.TempDir(), "davenport.db"))
	u, c := seed(t, s)
	for i := range 3 {
		if _, err := s.PutObject(ctx, event(c, fmt.Sprintf("%d.ics", i), fmt.Sprint(i)), store.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteObject(ctx, c.ID, "2.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	reads := []struct {
		name string
		read func() error
	}{
		{"GetUser", func() error { _, err := s.GetUser(ctx, u.Username); return err }},
		{"GetUser missing", func() error { _, err := s.GetUser(ctx, "nobody"); return notFound(err) }},
		{"ListAppPasswords", func() error { _, err := s.ListAppPasswords(ctx, u.ID); return err }},
		{"GetCollection", func() error { _, err := s.GetCollection(ctx, u.ID, c.Kind, c.Name); return err }},
		{"GetCollection missing", func() error { _, err := s.GetCollection(ctx, u.ID, c.Kind, "nope"); return notFound(err) }},
		{"ListCollections", func() error { _, err := s.ListCollections(ctx, u.ID, c.Kind); return err }},
		{"ListDeadProps", func() error { _, err := s.ListDeadProps(ctx, c.ID); return err }},
		{"UsedBytes", func() error { _, err := s.UsedBytes(ctx, u.ID); return err }},
		{"GetObject", func() error { _, err := s.GetObject(ctx, c.ID, "0.ics"); return err }},
		{"GetObject missing", func() error { _, err := s.GetObject(ctx, c.ID, "2.ics"); return notFound(err) }},
		{"GetObjects", func() error { _, err := s.GetObjects(ctx, c.ID, []string{"0.ics", "1.ics", "2.ics"}, true); return err }},
		{"ListObjects", func() error { _, err := s.ListObjects(ctx, c.ID, store.ListObjectsOptions{}); return err }},
		{"ListChangesSince", func() error { _, err := s.ListChangesSince(ctx, c.ID, 0, 1, true); return err }},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			if err := r.read(); err != nil {
				t.Fatal(err)
			}
			// A snapshot the read kept would predate these frames, and a
			// checkpoint cannot copy frames past a live reader's snapshot.
			if _, err := s.PutObject(ctx, event(c, "w.ics", "w"), store.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
			var busy, logFrames, checkpointed int
			if err := s.w.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
				t.Fatal(err)
			}
			if busy != 0 || checkpointed != logFrames {
				t.Errorf("after %s, checkpoint moved %d of %d frames (busy %d): a reader holds a snapshot", r.name, checkpointed, logFrames, busy)
			}
		})
	}
}

// notFound turns store.ErrNotFound into nil and anything else into an
// error.
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("want store.ErrNotFound, got %v", err)
}

// TestMigrationsRoundTrip: every down migration undoes its up migration; the
// schema after down-to-zero and up again is the one a fresh install gets.
func TestMigrationsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "davenport.db")
	if _, _, err := Migrate(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	schema := func() string {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_schema
			WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> 'schema_migrations' ORDER BY type, name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var typ, name, text string
			if err := rows.Scan(&typ, &name, &text); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %s %s\n", typ, name, text)
		}
		return b.String()
	}
	fresh := schema()
	if !strings.Contains(fresh, "table objects") {
		t.Fatalf("no objects table after Migrate:\n%s", fresh)
	}

	m := newMigrate(t, path)
	if err := m.Down(); err != nil {
		t.Fatalf("down: %v", err)
	}
	if got := schema(); got != "" {
		t.Errorf("schema left after migrating down:\n%s", got)
	}
	if err := m.Up(); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if got := schema(); got != fresh {
		t.Errorf("schema after down/up differs:\n%s\nwant:\n%s", got, fresh)
	}
}

func newMigrate(t *testing.T, path string) *migrate.Migrate {
	t.Helper()
	src, err := iofs.New(migrations.SQLite, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, "rw", writerParams()))
	if err != nil {
		t.Fatal(err)
	}
	drv, err := migratesqlite.WithInstance(db, &migratesqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "sqlite", drv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestOpaqueNames: any name round-trips exactly through PutObject, GetObject
// and the one-query GetObjects, bytes that are not UTF-8 included.
func TestOpaqueNames(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "davenport.db"))
	_, c := seed(t, s)
	names := []string{"a b.ics", "x@y.ics", "Ünïcødé.ics", "CASE.ics", "case.ics", "bad\xff\xfe.ics", "%2F.ics", `"q".ics`}
	for i, n := range names {
		if _, err := s.PutObject(ctx, event(c, n, fmt.Sprintf("uid-%d", i)), store.PutObjectOptions{}); err != nil {
			t.Fatalf("PutObject(%q): %v", n, err)
		}
	}
	for _, n := range names {
		o, err := s.GetObject(ctx, c.ID, n)
		if err != nil || o.Name != n {
			t.Errorf("GetObject(%q) = %v, %v", n, o, err)
		}
	}
	got, err := s.GetObjects(ctx, c.ID, append([]string{"missing.ics", "bad\xff.ics"}, names...), false)
	if err != nil {
		t.Fatal(err)
	}
	var gotNames []string
	for _, o := range got {
		gotNames = append(gotNames, o.Name)
	}
	slices.Sort(gotNames)
	want := slices.Clone(names)
	slices.Sort(want)
	if !slices.Equal(gotNames, want) {
		t.Errorf("GetObjects names = %q, want %q", gotNames, want)
	}
}

// TestSpanIndexInStep: the triggers of migration 8 keep the R*Tree
// objects_span equal to the spans in objects through every write path, and a
// listing drops what the tree's outward rounding lets through, to the
// microsecond.
func TestSpanIndexInStep(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "davenport.db"))
	u, c := seed(t, s)
	other := &store.Collection{OwnerID: u.ID, Kind: store.KindCalendar, Name: "other", Components: []string{"VEVENT"}}
	if err := s.CreateCollection(ctx, other); err != nil {
		t.Fatal(err)
	}
	inStep := func(step string) {
		t.Helper()
		var objects, entries, wrong int
		err := s.r.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM objects),
			(SELECT count(*) FROM objects_span),
			(SELECT count(*) FROM objects_span s LEFT JOIN objects o ON o.id = s.object_id
			 WHERE o.id IS NULL
			    OR s.collection_lo > o.collection_id OR s.collection_hi < o.collection_id
			    OR s.span_lo > coalesce(o.first_start, -3e38) OR s.span_hi < coalesce(o.last_end, 3e38))`,
		).Scan(&objects, &entries, &wrong)
		if err != nil {
			t.Fatal(err)
		}
		if objects != entries || wrong != 0 {
			t.Errorf("after %s: %d objects, %d R*Tree entries, %d wrong", step, objects, entries, wrong)
		}
	}
	at := time.Date(2026, 3, 1, 9, 0, 0, 123457000, time.UTC)
	put := func(col *store.Collection, name string, start, end *time.Time) {
		t.Helper()
		o := event(col, name, name)
		o.FirstStart, o.LastEnd = start, end
		if _, err := s.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	hour := at.Add(time.Hour)
	put(c, "a.ics", &at, &hour)
	put(c, "open.ics", nil, nil)
	put(other, "b.ics", &at, &hour)
	inStep("create")

	list := func(col *store.Collection, start, end time.Time) []string {
		t.Helper()
		objs, err := s.ListObjects(ctx, col.ID, store.ListObjectsOptions{Start: &start, End: &end})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range objs {
			names = append(names, o.Name)
		}
		return names
	}
	µs := time.Microsecond
	for _, tt := range []struct {
		start, end time.Time
		want       string
	}{
		{hour, hour.Add(time.Hour), "a.ics open.ics"},
		{hour.Add(µs), hour.Add(time.Hour), "open.ics"},
		{at.Add(-time.Hour), at, "a.ics open.ics"},
		{at.Add(-time.Hour), at.Add(-µs), "open.ics"},
	} {
		if got := strings.Join(list(c, tt.start, tt.end), " "); got != tt.want {
			t.Errorf("range %v–%v: got %q, want %q", tt.start, tt.end, got, tt.want)
		}
	}

	later, laterEnd := at.AddDate(1, 0, 0), at.AddDate(1, 0, 1)
	put(c, "a.ics", &later, &laterEnd)
	inStep("update")
	if got := list(c, at, hour); strings.Join(got, " ") != "open.ics" {
		t.Errorf("old span still found after update: %q", got)
	}
	if _, err := s.MoveObject(ctx, c.ID, "a.ics", other.ID, "moved.ics", store.MoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	inStep("move")
	if got := list(other, later, laterEnd); strings.Join(got, " ") != "moved.ics" {
		t.Errorf("moved object not found in its new collection: %q", got)
	}
	if got := list(c, later, laterEnd); strings.Join(got, " ") != "open.ics" {
		t.Errorf("moved object still found in its old collection: %q", got)
	}
	if err := s.DeleteObject(ctx, c.ID, "open.ics", store.DeleteObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	inStep("delete")
	if err := s.DeleteCollection(ctx, u.ID, other.ID); err != nil {
		t.Fatal(err)
	}
	inStep("collection delete")
	var left int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM objects_span`).Scan(&left); err != nil || left != 0 {
		t.Errorf("R*Tree entries left after all objects are gone: %d (%v)", left, err)
	}
}

// TestListingsReadNoBody: listings (PROPFIND Depth 1, sync-collection, a
// multiget of etags) never read the body column, so their cost does not
// depend on how large the items are, and a large body's overflow pages are
// never loaded. The test reads the compiled program of each query: no
// Column instruction may read the body (the last column) through a cursor
// on the objects table. The same queries asking for the body must read it,
// so the test can tell.
func TestListingsReadNoBody(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "davenport.db"))
	var root int
	if err := s.r.QueryRow(`SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = 'objects'`).Scan(&root); err != nil {
		t.Fatal(err)
	}
	var bodyColumn int
	if err := s.r.QueryRow(`SELECT cid FROM pragma_table_info('objects') WHERE name = 'body'`).Scan(&bodyColumn); err != nil {
		t.Fatal(err)
	}
	for _, withBody := range []bool{false, true} {
		type query struct {
			name string
			sql  string
			args []any
		}
		var queries []query
		for _, c := range storetest.ListingShapes(withBody) {
			q, args := listQuery(1, c.Opts)
			queries = append(queries, query{c.Name, q, args})
		}
		queries = append(queries,
			query{"changes", changesSQL(withBody), []any{1, 0, 100}},
			query{"get objects", getObjectsSQL(withBody), []any{1, `["612e696373"]`}},
		)
		for _, q := range queries {
			if got := readsColumn(t, s, root, bodyColumn, q.sql, q.args...); got != withBody {
				t.Errorf("%s (withBody %v): program reads the body = %v", q.name, withBody, got)
			}
		}
	}
}

// readsColumn reports whether the program of query reads column col of the
// table whose B-tree is rooted at page root.
func readsColumn(t *testing.T, s *Store, root, col int, query string, args ...any) bool {
	t.Helper()
	rows, err := s.r.Query(`EXPLAIN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	onTable := map[int64]bool{} // cursors opened on the table
	reads := false
	for rows.Next() {
		var (
			addr, p1, p2, p3 int64
			opcode           string
			p4, p5, comment  any
		)
		if err := rows.Scan(&addr, &opcode, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
			t.Fatal(err)
		}
		switch opcode {
		case "OpenRead":
			onTable[p1] = p2 == int64(root)
		case "Column":
			if onTable[p1] && p2 == int64(col) {
				reads = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return reads
}

// TestSearchIndexInStep: the triggers of migration 10 keep the trigram index
// objects_search equal to the search text of objects through every write
// path. The exact test in ListObjects would hide a stale entry, so the
// index is compared with the table directly.
func TestSearchIndexInStep(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "davenport.db"))
	u, _ := seed(t, s)
	book := &store.Collection{OwnerID: u.ID, Kind: store.KindAddressBook, Name: "book"}
	other := &store.Collection{OwnerID: u.ID, Kind: store.KindAddressBook, Name: "other"}
	for _, c := range []*store.Collection{book, other} {
		if err := s.CreateCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	put := func(c *store.Collection, name, text string) {
		t.Helper()
		o := event(c, name, name)
		o.Component, o.SearchText = "VCARD", text
		if _, err := s.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	trigrams := []string{"ALI", "LIC", "ICE", "BOB", "MÜL", "ÜLL", "CAR", "DAN"}
	inStep := func(step string) {
		t.Helper()
		for _, tri := range trigrams {
			var indexed, stored []int64
			for _, q := range []struct {
				sql string
				to  *[]int64
			}{
				{`SELECT rowid FROM objects_search WHERE objects_search MATCH '"' || $1 || '"' ORDER BY rowid`, &indexed},
				{`SELECT id FROM objects WHERE instr(search_text, $1) > 0 ORDER BY id`, &stored},
			} {
				rows, err := s.r.QueryContext(ctx, q.sql, tri)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var id int64
					if err := rows.Scan(&id); err != nil {
						t.Fatal(err)
					}
					*q.to = append(*q.to, id)
				}
				rows.Close()
			}
			if fmt.Sprint(indexed) != fmt.Sprint(stored) {
				t.Errorf("after %s, %q: index has %v, objects %v", step, tri, indexed, stored)
			}
		}
	}
	put(book, "a.vcf", "ALICE SMITH")
	put(book, "b.vcf", "BOB MÜLLER")
	put(book, "e.vcf", "")
	put(other, "c.vcf", "CAROL ALICE")
	inStep("create")
	put(book, "a.vcf", "DANIEL")
	put(book, "e.vcf", "ALICIA")
	put(book, "b.vcf", "")
	inStep("update")
	if _, err := s.MoveObject(ctx, other.ID, "c.vcf", book.ID, "c.vcf", store.MoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteObject(ctx, book.ID, "e.vcf", store.DeleteObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	inStep("move and delete")
	if err := s.DeleteCollection(ctx, u.ID, book.ID); err != nil {
		t.Fatal(err)
	}
	inStep("collection delete")
}

// TestSearchUsesIndex pins the plan of a text search: the trigram index is
// searched first, and objects is then read by rowid, never scanned. Terms
// without a trigram cannot use it.
func TestSearchUsesIndex(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "davenport.db"))
	for _, tt := range []struct {
		terms []string
		fts   bool
	}{
		{[]string{"ALICE"}, true},
		{[]string{"AL", "SMITH"}, true},
		{[]string{"AL"}, false},
		{[]string{"\xff\xfeX"}, false},
	} {
		query, args := listQuery(1, store.ListObjectsOptions{SearchText: tt.terms, WithBody: true})
		plan := queryPlan(t, s, query, args...)
		fts := strings.Contains(plan, "SCAN f VIRTUAL TABLE INDEX 0:M") && strings.Contains(plan, "SEARCH objects USING INTEGER PRIMARY KEY (rowid=?)")
		if fts != tt.fts {
			t.Errorf("terms %q: plan searches the trigram index = %v, want %v:\n%s", tt.terms, fts, tt.fts, plan)
		}
	}
}
