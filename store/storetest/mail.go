package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// The iMIP mail queue (RFC 6047 delivery of RFC 6638 scheduling messages)
// and the unscheduled mark on calendar objects.
var mailTests = []test{
	{"QueuedWithWrite", testMailQueuedWithWrite},
	{"NotQueuedWhenWriteFails", testMailNotQueuedWhenWriteFails},
	{"ClaimLeaseRetryDelete", testMailClaimLeaseRetryDelete},
	{"ConcurrentClaimsOnce", testMailConcurrentClaims},
	{"UnscheduledKept", testUnscheduledKept},
}

func mailFor(u *store.User, to string) store.Mail {
	return store.Mail{UserID: u.ID, UID: "ev1", From: "mailto:" + u.Email, To: to, Method: "REQUEST",
		Body: []byte("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n")}
}

func testMailQueuedWithWrite(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, c := newCalendar(t, s)
	o := event(c.ID, "a.ics", "ev1", "x")
	if _, err := s.PutObject(ctx, o, store.PutObjectOptions{Mail: []store.Mail{mailFor(u, "mailto:a@ext.example"), mailFor(u, "mailto:b@ext.example")}}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteObject", s.DeleteObject(ctx, c.ID, "a.ics", store.DeleteObjectOptions{Mail: []store.Mail{mailFor(u, "mailto:c@ext.example")}}), nil)
	alone := []store.Mail{mailFor(u, "mailto:d@ext.example")}
	wantErr(t, "QueueMail", s.QueueMail(ctx, alone), nil)
	if alone[0].ID == 0 {
		t.Errorf("QueueMail set no ID")
	}
	mail, err := s.ListMail(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, m := range mail {
		to = append(to, m.To)
		if m.UserID != u.ID || m.UID != "ev1" || m.Method != "REQUEST" || string(m.Body) == "" || m.Attempts != 0 {
			t.Errorf("queued mail = %+v", m)
		}
	}
	if len(to) != 4 || to[0] != "mailto:a@ext.example" || to[2] != "mailto:c@ext.example" || to[3] != "mailto:d@ext.example" {
		t.Errorf("queued recipients = %v", to)
	}
	// The user's deletion takes their queue with it.
	wantErr(t, "DeleteUser", s.DeleteUser(ctx, u.ID), nil)
	if mail, _ := s.ListMail(ctx); len(mail) != 0 {
		t.Errorf("mail of a deleted user left queued: %v", mail)
	}
}

func testMailNotQueuedWhenWriteFails(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, c := newCalendar(t, s)
	o := event(c.ID, "a.ics", "ev1", "x")
	_, err := s.PutObject(ctx, o, store.PutObjectOptions{IfMatch: "nope", Mail: []store.Mail{mailFor(u, "mailto:a@ext.example")}})
	wantErr(t, "PutObject with a failing If-Match", err, store.ErrPreconditionFailed)
	err = s.DeleteObject(ctx, c.ID, "missing.ics", store.DeleteObjectOptions{Mail: []store.Mail{mailFor(u, "mailto:a@ext.example")}})
	wantErr(t, "DeleteObject of a missing name", err, store.ErrNotFound)
	if mail, _ := s.ListMail(ctx); len(mail) != 0 {
		t.Errorf("a failed write queued mail: %v", mail)
	}
}

func testMailClaimLeaseRetryDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, c := newCalendar(t, s)
	if _, err := s.PutObject(ctx, event(c.ID, "a.ics", "ev1", "x"), store.PutObjectOptions{Mail: []store.Mail{mailFor(u, "mailto:a@ext.example")}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(time.Second)
	got, err := s.ClaimMail(ctx, now, time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].Attempts != 1 {
		t.Fatalf("ClaimMail = %+v, %v; want the message, attempt 1", got, err)
	}
	if due, waiting, err := s.CountMail(ctx, now.Add(30*time.Second)); err != nil || due != 0 || waiting != 1 {
		t.Errorf("CountMail while leased = %d due, %d waiting, %v; want 0, 1", due, waiting, err)
	}
	if due, waiting, err := s.CountMail(ctx, now.Add(2*time.Minute)); err != nil || due != 1 || waiting != 0 {
		t.Errorf("CountMail after the lease = %d due, %d waiting, %v; want 1, 0", due, waiting, err)
	}
	if again, _ := s.ClaimMail(ctx, now.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
		t.Errorf("a leased message was claimed again: %+v", again)
	}
	// The lease runs out (the sender died): the message is due again.
	if again, _ := s.ClaimMail(ctx, now.Add(2*time.Minute), time.Minute, 10); len(again) != 1 || again[0].Attempts != 2 {
		t.Errorf("after the lease, ClaimMail = %+v; want the message, attempt 2", again)
	}
	wantErr(t, "RetryMail", s.RetryMail(ctx, got[0].ID, now.Add(time.Hour), "relay down"), nil)
	if again, _ := s.ClaimMail(ctx, now.Add(59*time.Minute), time.Minute, 10); len(again) != 0 {
		t.Errorf("a message retried in an hour was claimed early: %+v", again)
	}
	if mail, _ := s.ListMail(ctx); len(mail) != 1 || mail[0].LastError != "relay down" {
		t.Errorf("ListMail = %+v; want the reason kept", mail)
	}
	wantErr(t, "DeleteMail", s.DeleteMail(ctx, got[0].ID), nil)
	wantErr(t, "DeleteMail again", s.DeleteMail(ctx, got[0].ID), store.ErrNotFound)
	wantErr(t, "RetryMail of a deleted message", s.RetryMail(ctx, got[0].ID, now, ""), store.ErrNotFound)
}

// testMailConcurrentClaims: senders claiming at once, as several server
// instances do, take each message exactly once.
func testMailConcurrentClaims(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, c := newCalendar(t, s)
	const n = 40
	var mail []store.Mail
	for i := range n {
		mail = append(mail, mailFor(u, "mailto:r"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@ext.example"))
	}
	if _, err := s.PutObject(ctx, event(c.ID, "a.ics", "ev1", "x"), store.PutObjectOptions{Mail: mail}); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen = map[int64]int{}
	)
	now := time.Now().Add(time.Second)
	errs := race(8, func(int) error {
		for {
			got, err := s.ClaimMail(ctx, now, time.Hour, 3)
			if err != nil {
				return err
			}
			if len(got) == 0 {
				return nil
			}
			mu.Lock()
			for _, m := range got {
				seen[m.ID]++
			}
			mu.Unlock()
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("ClaimMail: %v", err)
		}
	}
	if len(seen) != n {
		t.Errorf("%d messages claimed, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("message %d claimed %d times", id, k)
		}
	}
}

func testUnscheduledKept(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, c := newCalendar(t, s)
	o := event(c.ID, "a.ics", "ev1", "x")
	o.Unscheduled = true
	put(t, s, o)
	check := func(want bool) {
		t.Helper()
		got, err := s.GetObject(ctx, c.ID, "a.ics")
		if err != nil || got.Unscheduled != want {
			t.Fatalf("GetObject: Unscheduled = %v, %v; want %v", got != nil && got.Unscheduled, err, want)
		}
		list, err := s.ListObjects(ctx, c.ID, store.ListObjectsOptions{})
		if err != nil || len(list) != 1 || list[0].Unscheduled != want {
			t.Fatalf("ListObjects: %+v, %v; want Unscheduled %v", list, err, want)
		}
	}
	check(true)
	o = event(c.ID, "a.ics", "ev1", "y")
	put(t, s, o)
	check(false)
}
