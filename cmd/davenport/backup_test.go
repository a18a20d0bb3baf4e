package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-webdav"
	gocarddav "github.com/emersion/go-webdav/carddav"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestBackupAcrossStores is issue 17's move between stores, both ways: a
// backup of a running server on one store, restored into an empty store
// of the other kind, serves the same data, and a client continues its
// incremental sync with the token it had (no full re-sync): it is told
// exactly the changes made after that token.
func TestBackupAcrossStores(t *testing.T) {
	sqlite := func(t *testing.T) string { return filepath.Join(t.TempDir(), "store.db") }
	postgres := func(t *testing.T) string { return testdb.PostgresDSN(t) }
	for _, tc := range []struct {
		name     string
		from, to func(t *testing.T) string
	}{
		{"sqlite_to_postgres", sqlite, postgres},
		{"postgres_to_sqlite", postgres, sqlite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, to := tc.from(t), tc.to(t)
			archive := filepath.Join(t.TempDir(), "backup.tar")
			if code, _, errs := runCmd(t, "alice-password\n", "user", "add", "alice", "--password-stdin", "--admin", "--database", from); code != 0 {
				t.Fatalf("user add: %d %s", code, errs)
			}
			// Sharing, delegation and public links, to carry along.
			sharing := [][]string{
				{"share", "list", "alice"}, {"group", "members", "family"}, {"delegate", "list", "alice"},
				{"delegate", "list", "bob"}, {"link", "list", "alice", "personal"},
			}
			for _, args := range [][]string{
				{"user", "add", "bob"}, {"group", "add", "family"}, {"group", "members", "family", "--add", "alice,bob"},
				{"share", "add", "alice", "personal", "--user", "bob", "--access", "read-write"},
				{"share", "add", "alice", "contacts", "--addressbook", "--group", "family"},
				{"delegate", "add", "alice", "--user", "bob", "--access", "read-write"},
				{"delegate", "add", "bob", "--group", "family", "--access", "free-busy"},
				{"delegate", "free-busy", "bob", "granted"},
				{"link", "add", "alice", "personal"},
			} {
				if code, _, errs := runCmd(t, "", append(args, "--database", from)...); code != 0 {
					t.Fatalf("%v: %d %s", args, code, errs)
				}
			}
			var wantSharing []string
			for _, args := range sharing {
				_, out, _ := runCmd(t, "", append(args, "--database", from)...)
				wantSharing = append(wantSharing, out)
			}
			ctx := context.Background()
			queueUnderWay(t, from)
			s := startServe(t, nil, "--database", from)
			c, cards := davClients(t, s.url, "Phone/1")
			put := func(c *webdav.Client, path, body string) { davPut(t, c, path, body) }
			for i := range 5 {
				put(c, fmt.Sprintf("%sévénement %d.ics", historyCalendar, i), historyEvent(fmt.Sprint("ev-", i), fmt.Sprint("Event ", i)))
				put(c, fmt.Sprintf("%scard-%d.vcf", historyBook, i), historyCard(fmt.Sprint("card-", i), fmt.Sprint("Person ", i)))
			}
			put(c, historyBook+"card-0.vcf", historyCard("card-0", "Person 0, renamed"))
			if err := c.RemoveAll(ctx, historyBook+"card-4.vcf"); err != nil {
				t.Fatal(err)
			}
			// The client syncs: this is the token it will continue from.
			first, err := cards.SyncCollection(ctx, historyBook, &gocarddav.SyncQuery{})
			if err != nil || len(first.Updated) != 4 {
				t.Fatalf("first sync: %d cards, %v", len(first.Updated), err)
			}
			// Changes after the token, before the backup.
			put(c, historyBook+"card-new.vcf", historyCard("card-new", "Newcomer"))
			put(c, historyBook+"card-1.vcf", historyCard("card-1", "Person 1, edited"))
			if err := c.RemoveAll(ctx, historyBook+"card-2.vcf"); err != nil {
				t.Fatal(err)
			}
			// And a deleted event (in the trash), to carry along.
			if err := c.RemoveAll(ctx, historyCalendar+"événement 4.ics"); err != nil {
				t.Fatal(err)
			}
			wantCal, wantBook := davState(t, c, historyCalendar), davState(t, c, historyBook)

			// The backup is taken while the server runs.
			code, out, errs := runCmd(t, "", "backup", archive, "--database", from)
			if code != 0 || !strings.Contains(out, "2 users") || !strings.Contains(out, "8 items") {
				t.Fatalf("backup: %d %s\n%s", code, errs, out)
			}
			_, hist, _ := runCmd(t, "", "history", "list", "alice", "--limit", "0", "--database", from)
			s.stop()
			wantUnderWay := underWay(t, from)

			if code, out, errs := runCmd(t, "", "backup", "verify", archive); code != 0 || !strings.Contains(out, "every checksum matches") {
				t.Fatalf("backup verify: %d %s\n%s", code, errs, out)
			}
			if code, out, errs := runCmd(t, "", "restore", archive, "--database", to); code != 0 || !strings.Contains(out, "restored 2 users") {
				t.Fatalf("restore: %d %s\n%s", code, errs, out)
			}
			if code, _, errs := runCmd(t, "", "restore", archive, "--database", to); code != 1 || !strings.Contains(errs, "only into an empty store") {
				t.Errorf("a second restore into the same store: %d %s", code, errs)
			}
			// What was under way came along, the VAPID keys unchanged (else
			// every push subscription would have to be made again).
			if got := underWay(t, to); got != wantUnderWay {
				t.Errorf("under way after the move:\n%s\nwant\n%s", got, wantUnderWay)
			}
			if _, got, _ := runCmd(t, "", "history", "list", "alice", "--limit", "0", "--database", to); got != hist {
				t.Errorf("history after the move:\n%s\nwant\n%s", got, hist)
			}

			for i, args := range sharing {
				if _, got, _ := runCmd(t, "", append(args, "--database", to)...); got != wantSharing[i] {
					t.Errorf("%v after the move:\n%s\nwant\n%s", args, got, wantSharing[i])
				}
			}
			if !strings.Contains(wantSharing[2], "user bob") || !strings.Contains(wantSharing[3], "group family") ||
				strings.Contains(wantSharing[3], "everyone") || !strings.Contains(wantSharing[4], "/public/") {
				t.Errorf("the sharing set up before the backup:\n%s", strings.Join(wantSharing, "\n"))
			}

			// The admin role came along: else nobody administers the
			// restored server's web UI.
			st, err := openStore(ctx, to, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			accs, err := st.ListAccounts(ctx)
			st.Close()
			if err != nil || len(accs) != 2 || !accs[0].Admin || accs[1].Admin {
				t.Errorf("accounts after the move = %+v, %v; want alice, admin, and bob", accs, err)
			}

			s = startServe(t, nil, "--database", to)
			c, cards = davClients(t, s.url, "Phone/1")
			wantDAVState(t, c, "after the move", wantCal, wantBook)
			delta, err := cards.SyncCollection(ctx, historyBook, &gocarddav.SyncQuery{SyncToken: first.SyncToken})
			if err != nil {
				t.Fatalf("incremental sync with the old token: %v", err)
			}
			updated := updatedPaths(delta)
			if !slices.Equal(updated, []string{historyBook + "card-1.vcf", historyBook + "card-new.vcf"}) ||
				!slices.Equal(delta.Deleted, []string{historyBook + "card-2.vcf"}) {
				t.Errorf("incremental sync after the move: updated %q, deleted %q; want card-1 and card-new, card-2", updated, delta.Deleted)
			}
			// And the server writes on from there.
			put(c, historyBook+"after.vcf", historyCard("after", "After"))
			next, err := cards.SyncCollection(ctx, historyBook, &gocarddav.SyncQuery{SyncToken: delta.SyncToken})
			if err != nil || len(next.Updated) != 1 || len(next.Deleted) != 0 {
				t.Errorf("sync after a new write: %+v, %v", next, err)
			}
			s.stop()
		})
	}
}

// openAlice opens the store at dsn (closed when t ends) and finds alice.
func openAlice(t *testing.T, dsn string) (store.Store, *store.User) {
	t.Helper()
	st, err := openStore(context.Background(), dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	u, err := st.GetUser(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	return st, u
}

// queueUnderWay gives alice's store a queued iMIP message, a push
// registration and a lock (the server makes the VAPID keys as it starts).
func queueUnderWay(t *testing.T, dsn string) {
	ctx := context.Background()
	st, u := openAlice(t, dsn)
	cal, err := st.GetCollection(ctx, u.ID, store.KindCalendar, "personal")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.QueueMail(ctx, []store.Mail{{UserID: u.ID, UID: "ev-0", From: "mailto:alice@example.com",
		To: "mailto:guest@example.net", Method: "REQUEST", Body: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutPushRegistration(ctx, &store.PushRegistration{UserID: u.ID, CollectionID: cal.ID,
		PushResource: "https://push.example/alice", PublicKey: "BPk", AuthSecret: "c2Vj", ContentUpdate: true,
		Expires: time.Now().Add(72 * time.Hour)}, 10); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateLock(ctx, &store.Lock{Token: "urn:uuid:backup-lock", Root: "/dav/calendars/alice/personal/x.ics",
		UserID: u.ID, Timeout: time.Hour}); err != nil {
		t.Fatal(err)
	}
}

// underWay describes the VAPID keys, alice's push registrations, the mail
// queue and the lock queueUnderWay took.
func underWay(t *testing.T, dsn string) string {
	ctx := context.Background()
	st, u := openAlice(t, dsn)
	priv, pub, err := st.EnsurePushKeys(ctx, func() (string, string, error) { return "", "", errors.New("no VAPID keys stored") })
	if err != nil || priv == "" || pub == "" {
		t.Fatalf("VAPID keys: %v", err)
	}
	regs, err := st.ListPushRegistrations(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	mail, err := st.ListMail(ctx)
	if err != nil {
		t.Fatal(err)
	}
	locks, err := st.ListLocks(ctx, "/dav/calendars/alice/personal/x.ics")
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("keys %s %s\n", priv, pub)
	for _, r := range regs {
		out += fmt.Sprintf("push %d %s %s\n", r.CollectionID, r.PushResource, r.Expires.UTC())
	}
	for _, m := range mail {
		out += fmt.Sprintf("mail %d %s %s %q %s\n", m.ID, m.To, m.Method, m.Body, m.NextAttempt.UTC())
	}
	for _, l := range locks {
		out += fmt.Sprintf("lock %s %s %s\n", l.Token, l.Root, l.Expires.UTC())
	}
	if len(regs) != 1 || len(mail) != 1 || len(locks) != 1 {
		t.Errorf("under way in %s:\n%s", dsn, out)
	}
	return out
}

// TestBackupVerifyRefusesDamage: a flipped byte, a cut-off archive and
// something that is not an archive are all refused.
func TestBackupVerifyRefusesDamage(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "d.db")
	if code, _, errs := runCmd(t, "alice-password\n", "user", "add", "alice", "--password-stdin", "--database", db); code != 0 {
		t.Fatalf("user add: %d %s", code, errs)
	}
	archive := filepath.Join(dir, "b.tar")
	if code, _, errs := runCmd(t, "", "backup", archive, "--database", db); code != 0 {
		t.Fatalf("backup: %d %s", code, errs)
	}
	good, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	// One byte of the users chunk changes.
	flip := slices.Clone(good)
	i := strings.Index(string(flip), "alice")
	flip[i] = 'A'
	for name, b := range map[string][]byte{
		"flipped":   flip,
		"truncated": good[:len(good)/2],
		"not a tar": []byte("hello"),
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if code, _, errs := runCmd(t, "", "backup", "verify", p); code != 1 || !strings.Contains(errs, "not a valid archive") {
			t.Errorf("verify of a %s archive: exit %d, %s", name, code, errs)
		}
		if code, _, _ := runCmd(t, "", "restore", p, "--database", filepath.Join(dir, name+".db")); code != 1 {
			t.Errorf("restore of a %s archive: exit %d", name, code)
		}
	}
}

// TestRestoreArchiveVersions: a version 1 archive, written before the
// admin role, the last sign-in and the app passwords' last use were kept,
// still restores, with the defaults for those; a version from the future
// is refused.
func TestRestoreArchiveVersions(t *testing.T) {
	dir := t.TempDir()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const hash = "$argon2id$v=19$m=65536,t=1,p=2$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
	write := func(version int) string {
		p := filepath.Join(dir, fmt.Sprintf("v%d.tar", version))
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		w, err := newArchiveWriter(f, manifest{Format: archiveFormat, Version: version, Created: created, Source: "sqlite"})
		if err != nil {
			t.Fatal(err)
		}
		// The records exactly as a version 1 writer wrote them.
		for _, r := range []struct {
			kind string
			line map[string]any
		}{
			{kindUsers, map[string]any{"id": 1, "username": "alice", "display_name": "Alice", "email": "",
				"password_hash": hash, "created": created}},
			{kindAppPasswords, map[string]any{"id": 1, "user_id": 1, "label": "phone",
				"password_hash": hash, "created": created}},
		} {
			if err := w.add(r.kind, r.line, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.close(); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// Version 3, the last before the queues, locks and VAPID keys, still
	// restores: without them.
	if code, out, errs := runCmd(t, "", "restore", write(3), "--database", filepath.Join(dir, "v3.db")); code != 0 || !strings.Contains(out, "restored 1 users") {
		t.Fatalf("restore of a version 3 archive: %d %s\n%s", code, errs, out)
	}
	db := filepath.Join(dir, "v1.db")
	if code, out, errs := runCmd(t, "", "restore", write(1), "--database", db); code != 0 || !strings.Contains(out, "restored 1 users") {
		t.Fatalf("restore of a version 1 archive: %d %s\n%s", code, errs, out)
	}
	ctx := context.Background()
	st, err := openStore(ctx, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	accs, err := st.ListAccounts(ctx)
	if err != nil || len(accs) != 1 || accs[0].Username != "alice" || accs[0].Admin || accs[0].LastLogin != nil {
		t.Errorf("accounts from a version 1 archive = %+v, %v; want alice, no admin, never signed in", accs, err)
	}
	ps, err := st.ListAppPasswords(ctx, 1)
	if err != nil || len(ps) != 1 || ps[0].LastUsed != nil {
		t.Errorf("app passwords from a version 1 archive = %+v, %v; want one never used", ps, err)
	}

	future := write(archiveVersion + 1)
	if code, _, errs := runCmd(t, "", "backup", "verify", future); code != 1 || !strings.Contains(errs, "format version") {
		t.Errorf("verify of a version %d archive: exit %d, %s", archiveVersion+1, code, errs)
	}
}
