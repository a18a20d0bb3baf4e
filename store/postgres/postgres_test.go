package postgres_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/golang-migrate/migrate/v4"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/davenport-dav/davenport/migrations"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/storetest"
	"github.com/davenport-dav/davenport/store/testdb"
)

func TestStore(t *testing.T) {
	storetest.Run(t, testdb.Postgres)
}

var discard = slog.New(slog.DiscardHandler)

// latest is the newest embedded migration version.
func latest(t *testing.T) uint {
	t.Helper()
	entries, err := fs.ReadDir(migrations.Postgres, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	var v uint
	for _, e := range entries {
		n, err := strconv.ParseUint(strings.SplitN(e.Name(), "_", 2)[0], 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", e.Name(), err)
		}
		v = max(v, uint(n))
	}
	if v == 0 {
		t.Fatal("no migrations embedded")
	}
	return v
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// newMigrate drives the embedded migrations directly, for the steps Open
// never takes (down).
func newMigrate(t *testing.T, dsn string) *migrate.Migrate {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	src, err := iofs.New(migrations.Postgres, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	drv, err := pgxmigrate.WithInstance(stdlib.OpenDB(*cfg), &pgxmigrate.Config{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// schemaDump describes the current schema's tables, columns, indexes,
// constraints, functions and triggers, to compare schemas.
func schemaDump(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	queries := []string{
		`SELECT table_name || '.' || column_name || ' ' || data_type || ' null=' || is_nullable ||
			' default=' || COALESCE(column_default, '') || ' collation=' || COALESCE(collation_name, '')
		FROM information_schema.columns
		WHERE table_schema = current_schema()
		ORDER BY table_name, column_name`,
		`SELECT indexname || ': ' || indexdef FROM pg_indexes
		WHERE schemaname = current_schema()
		ORDER BY indexname`,
		`SELECT conrelid::regclass::text || ' ' || conname || ': ' || pg_get_constraintdef(oid)
		FROM pg_constraint
		WHERE connamespace = current_schema()::regnamespace
		ORDER BY conrelid::regclass::text, conname`,
		`SELECT 'function ' || p.oid::regprocedure::text || ': ' || md5(pg_get_functiondef(p.oid))
		FROM pg_proc p
		WHERE p.pronamespace = current_schema()::regnamespace
		ORDER BY 1`,
		`SELECT 'trigger ' || tgname || ': ' || pg_get_triggerdef(oid)
		FROM pg_trigger
		WHERE NOT tgisinternal AND tgrelid::regclass::text IN
			(SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema())
		ORDER BY 1`,
	}
	var b strings.Builder
	for _, q := range queries {
		rows, _ := conn.Query(t.Context(), q)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("schema dump: %v", err)
		}
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func tables(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, _ := conn.Query(t.Context(), `
		SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema()
		ORDER BY table_name`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func schemaVersion(t *testing.T, conn *pgx.Conn) (int64, bool) {
	t.Helper()
	var (
		v     int64
		dirty bool
	)
	if err := conn.QueryRow(t.Context(), `SELECT version, dirty FROM schema_migrations`).Scan(&v, &dirty); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return v, dirty
}

func TestMigrateUpFromEmpty(t *testing.T) {
	ctx := t.Context()
	dsn := testdb.PostgresDSN(t)
	from, to, err := postgres.Migrate(ctx, dsn)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if from != 0 || to != latest(t) {
		t.Errorf("Migrate = %d → %d, want 0 → %d", from, to, latest(t))
	}
	conn := connect(t, dsn)
	want := []string{"app_passwords", "collection_properties", "collection_trash", "collections", "derived_cursors", "grants", "group_members", "groups", "locks", "mail_queue", "object_properties", "object_versions", "objects", "principal_terms", "public_links", "push_deliveries", "push_keys", "push_pending", "push_registrations", "schema_migrations", "sessions", "share_views", "shares", "tombstones", "users"}
	if got := tables(t, conn); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("tables = %q, want %q", got, want)
	}
	if v, dirty := schemaVersion(t, conn); v != int64(latest(t)) || dirty {
		t.Errorf("schema_migrations = %d dirty=%v", v, dirty)
	}

	// Again: nothing to do.
	from, to, err = postgres.Migrate(ctx, dsn)
	if err != nil || from != latest(t) || to != latest(t) {
		t.Errorf("second Migrate = %d → %d, %v; want %d → %d", from, to, err, latest(t), latest(t))
	}
	s, err := postgres.Open(ctx, dsn, discard)
	if err != nil {
		t.Fatalf("Open on a migrated schema: %v", err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// TestMigrateDownUp steps every migration down and up again and checks that
// the schema comes back identical and usable.
func TestMigrateDownUp(t *testing.T) {
	ctx := t.Context()
	dsn := testdb.PostgresDSN(t)
	if _, _, err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	conn := connect(t, dsn)
	want := schemaDump(t, conn)
	m := newMigrate(t, dsn)

	for v := latest(t); v > 0; v-- {
		if err := m.Steps(-1); err != nil {
			t.Fatalf("down from %d: %v", v, err)
		}
		if err := m.Steps(1); err != nil {
			t.Fatalf("up to %d again: %v", v, err)
		}
		if err := m.Steps(-1); err != nil {
			t.Fatalf("down from %d again: %v", v, err)
		}
	}
	if got := tables(t, conn); len(got) != 1 || got[0] != "schema_migrations" {
		t.Fatalf("after all downs, tables = %q; want only schema_migrations", got)
	}
	var funcs int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_proc WHERE pronamespace = current_schema()::regnamespace`).
		Scan(&funcs); err != nil || funcs != 0 {
		t.Fatalf("after all downs, %d functions are left (%v); want none", funcs, err)
	}
	if err := m.Up(); err != nil {
		t.Fatalf("up: %v", err)
	}
	if got := schemaDump(t, conn); got != want {
		t.Errorf("schema after down/up differs:\n%s\nwant:\n%s", got, want)
	}

	s, err := postgres.Open(ctx, dsn, discard)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if err := s.CreateUser(ctx, &store.User{Username: "after-round-trip"}, []store.Collection{
		{Kind: store.KindCalendar, Name: "cal"},
	}); err != nil {
		t.Fatalf("CreateUser after down/up: %v", err)
	}
}

// TestMigrateKeepsData upgrades a schema that holds data from an older
// version.
func TestMigrateKeepsData(t *testing.T) {
	ctx := t.Context()
	dsn := testdb.PostgresDSN(t)
	if err := newMigrate(t, dsn).Migrate(3); err != nil {
		t.Fatalf("migrate to 3: %v", err)
	}
	conn := connect(t, dsn)
	var uid, cid int64
	if err := conn.QueryRow(ctx, `INSERT INTO users (username, password_hash) VALUES ('old', 'h') RETURNING id`).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `INSERT INTO collections (owner_id, kind, name, display_name, modseq)
		VALUES ($1, 'calendar', 'cal', 'Old', 7) RETURNING id`, uid).Scan(&cid); err != nil {
		t.Fatal(err)
	}

	s, err := postgres.Open(ctx, dsn, discard)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	c, err := s.GetCollection(ctx, uid, store.KindCalendar, "cal")
	if err != nil {
		t.Fatalf("GetCollection: %v", err)
	}
	if c.ID != cid || c.DisplayName != "Old" || c.ModSeq != 7 {
		t.Errorf("collection after upgrade = %+v", c)
	}
	o := &store.Object{CollectionID: cid, Name: "a.ics", UID: "a", ETag: "e", Body: []byte("x")}
	if _, err := s.PutObject(ctx, o, store.PutObjectOptions{}); err != nil || o.ModSeq != 8 {
		t.Fatalf("PutObject after upgrade: modseq %d, %v; want 8", o.ModSeq, err)
	}
}

// TestMigrateBackfillsUsedBytes upgrades a schema from before migration 8,
// holding objects, and checks that each collection's used_bytes starts out
// as the sum of its objects' sizes and that the triggers keep it there.
func TestMigrateBackfillsUsedBytes(t *testing.T) {
	ctx := t.Context()
	dsn := testdb.PostgresDSN(t)
	if err := newMigrate(t, dsn).Migrate(7); err != nil {
		t.Fatalf("migrate to 7: %v", err)
	}
	conn := connect(t, dsn)
	exec := func(q string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := conn.QueryRow(ctx, q+` RETURNING id`, args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	const addUser = `INSERT INTO users (username, password_hash) VALUES ($1, 'h')`
	const addCollection = `INSERT INTO collections (owner_id, kind, name) VALUES ($1, $2, $3)`
	const addObject = `INSERT INTO objects (collection_id, name, uid, etag, body, size, modseq)
		VALUES ($1, $2, $2, 'e', $3::bytea, length($3::bytea), 1)`
	alice, bob := exec(addUser, "alice"), exec(addUser, "bob")
	cal := exec(addCollection, alice, "calendar", "cal")
	book := exec(addCollection, alice, "addressbook", "book")
	exec(addCollection, alice, "calendar", "empty")
	bobCal := exec(addCollection, bob, "calendar", "cal")
	want := map[int64]int64{}
	for i, o := range []struct {
		collection int64
		size       int
	}{{cal, 100}, {cal, 2500}, {cal, 0}, {book, 70}, {bobCal, 9000}} {
		owner := alice
		if o.collection == bobCal {
			owner = bob
		}
		exec(addObject, o.collection, "o"+strconv.Itoa(i), []byte(strings.Repeat("x", o.size)))
		want[owner] += int64(o.size)
	}

	s, err := postgres.Open(ctx, dsn, discard)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	check := func(what string) {
		t.Helper()
		for _, owner := range []int64{alice, bob} {
			if n, err := s.UsedBytes(ctx, owner); err != nil || n != want[owner] {
				t.Errorf("%s: UsedBytes(%d) = %d, %v; want %d", what, owner, n, err, want[owner])
			}
		}
		var wrong int
		err := conn.QueryRow(ctx, `
			SELECT count(*) FROM collections c
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

// TestRefuseNewerSchema: a database migrated by a newer binary is refused
// and left exactly as it was.
func TestRefuseNewerSchema(t *testing.T) {
	ctx := t.Context()
	dsn := testdb.PostgresDSN(t)
	s, err := postgres.Open(ctx, dsn, discard)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.CreateUser(ctx, &store.User{Username: "kept"}, nil); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	s.Close()

	conn := connect(t, dsn)
	newer := int64(latest(t)) + 1
	if _, err := conn.Exec(ctx, `UPDATE schema_migrations SET version = $1`, newer); err != nil {
		t.Fatal(err)
	}
	before := schemaDump(t, conn)

	s, err = postgres.Open(ctx, dsn, discard)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open on a newer schema: %v, want ErrSchemaTooNew", err)
	}
	if _, _, err := postgres.Migrate(ctx, dsn); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Migrate on a newer schema: %v, want ErrSchemaTooNew", err)
	}
	if v, dirty := schemaVersion(t, conn); v != newer || dirty {
		t.Errorf("schema_migrations = %d dirty=%v after refusal, want %d clean", v, dirty, newer)
	}
	if got := schemaDump(t, conn); got != before {
		t.Errorf("schema changed by a refused Open:\n%s\nwas:\n%s", got, before)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM users WHERE username = 'kept'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("data after refusal: %d users, %v", n, err)
	}
}

// TestRefuseDirtySchema: a migration that failed halfway needs a person.
func TestRefuseDirtySchema(t *testing.T) {
	ctx := t.Context()
	dsn := testdb.PostgresDSN(t)
	if _, _, err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, `UPDATE schema_migrations SET dirty = true`); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Open(ctx, dsn, discard)
	if err == nil || errors.Is(err, store.ErrSchemaTooNew) || !strings.Contains(err.Error(), "dirty") {
		t.Fatalf("Open on a dirty schema: %v, want an error about the dirty version", err)
	}
	if v, dirty := schemaVersion(t, conn); v != int64(latest(t)) || !dirty {
		t.Errorf("schema_migrations = %d dirty=%v, want untouched", v, dirty)
	}
}

func TestOpenBadDSN(t *testing.T) {
	for _, dsn := range []string{"postgres://%zz", "host=127.0.0.1 port=notaport"} {
		if s, err := postgres.Open(t.Context(), dsn, discard); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}
