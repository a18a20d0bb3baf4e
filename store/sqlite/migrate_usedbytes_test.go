package sqlite

import (
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

// TestMigrateBackfillsUsedBytes upgrades a database from before the
// used_bytes migration, holding objects, and checks that each collection's
// used_bytes starts out as the sum of its objects' sizes and that the
// triggers keep it there.
func TestMigrateBackfillsUsedBytes(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "davenport.db")
	db, err := sql.Open("sqlite", dsn(path, "rwc", writerParams()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil { // creates the file
		t.Fatal(err)
	}
	m := newMigrate(t, path)
	if err := m.Migrate(7); err != nil {
		t.Fatalf("migrate to 7: %v", err)
	}

	insert := func(q string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := db.QueryRowContext(ctx, q+` RETURNING id`, args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	const addUser = `INSERT INTO users (username, password_hash) VALUES ($1, 'h')`
	const addCollection = `INSERT INTO collections (owner_id, kind, name) VALUES ($1, $2, $3)`
	const addObject = `INSERT INTO objects (collection_id, name, uid, etag, size, modseq, body)
		VALUES ($1, $2, $2, 'e', length($3), 1, $3)`
	alice, bob := insert(addUser, "alice"), insert(addUser, "bob")
	cal := insert(addCollection, alice, "calendar", "cal")
	book := insert(addCollection, alice, "addressbook", "book")
	insert(addCollection, alice, "calendar", "empty")
	bobCal := insert(addCollection, bob, "calendar", "cal")
	want := map[int64]int64{}
	objs := []struct {
		owner, collection int64
		size              int
	}{{alice, cal, 100}, {alice, cal, 2500}, {alice, cal, 0}, {alice, book, 70}, {bob, bobCal, 9000}}
	for i, o := range objs {
		insert(addObject, o.collection, "o"+strconv.Itoa(i), []byte(strings.Repeat("x", o.size)))
		want[o.owner] += int64(o.size)
	}
	if srcErr, dbErr := m.Close(); srcErr != nil || dbErr != nil {
		t.Fatalf("close migrations: %v, %v", srcErr, dbErr)
	}

	s := openT(t, path)
	check := func(what string) {
		t.Helper()
		for _, owner := range []int64{alice, bob} {
			if n, err := s.UsedBytes(ctx, owner); err != nil || n != want[owner] {
				t.Errorf("%s: UsedBytes(%d) = %d, %v; want %d", what, owner, n, err, want[owner])
			}
		}
		ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		var wrong int
		err = ro.QueryRowContext(ctx, `
			SELECT count(*) FROM collections AS c
			WHERE used_bytes <> (SELECT coalesce(sum(size), 0) FROM objects WHERE collection_id = c.id)`).Scan(&wrong)
		if err != nil || wrong != 0 {
			t.Errorf("%s: %d collections' used_bytes differ from their objects' sizes (%v)", what, wrong, err)
		}
	}
	check("after upgrade")

	o := &store.Object{CollectionID: cal, Name: "new.ics", UID: "new", ETag: "e", Body: []byte("12345")}
	if _, err := s.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	want[alice] += 5
	if err := s.DeleteCollection(ctx, bob, bobCal); err != nil {
		t.Fatalf("DeleteCollection: %v", err)
	}
	want[bob] = 0
	check("after writes")
}
