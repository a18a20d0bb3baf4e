package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/caldav"
	"github.com/davenport-dav/davenport/store"
)

const imipEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:cmd-imip\r\nDTSTAMP:20260101T000000Z\r\n" +
	"DTSTART:20260105T100000Z\r\nDTEND:20260105T110000Z\r\nSUMMARY:Review\r\nORGANIZER:mailto:alice@example.org\r\n" +
	"ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org\r\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:dave@elsewhere.example\r\n" +
	"END:VEVENT\r\nEND:VCALENDAR\r\n"

func imipReply(from, partstat string) string {
	return "From: " + from + "\r\nTo: alice@example.org\r\nSubject: re\r\nContent-Type: text/calendar; method=REPLY\r\n\r\n" +
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:cmd-imip\r\nDTSTAMP:20260102T000000Z\r\n" +
		"ORGANIZER:mailto:alice@example.org\r\nATTENDEE;PARTSTAT=" + partstat + ":mailto:dave@elsewhere.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

// TestIMIPDeliverCommand: `davenport imip deliver` applies a REPLY read on
// standard input (exit 0), refuses a forged one with EX_DATAERR (65) and a
// logged reason, and changes nothing then.
func TestIMIPDeliverCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "d.db")
	if code, _, errOut := runCmd(t, "a long enough password\n", "user", "add", "alice", "--password-stdin", "--email", "alice@example.org", "--database", db); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut)
	}
	ctx := context.Background()
	st, err := openStore(ctx, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.GetUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	cals, err := st.ListCollections(ctx, u.ID, store.KindCalendar)
	if err != nil || len(cals) == 0 {
		t.Fatalf("alice's calendars: %v, %v", cals, err)
	}
	p, err := caldav.ParseObject([]byte(imipEvent), "text/calendar", nil)
	if err != nil {
		t.Fatal(err)
	}
	o := &store.Object{CollectionID: cals[0].ID, Name: "review.ics", UID: p.UID, Component: p.Component, ContentType: "text/calendar", ETag: "e1", Body: p.Body}
	if _, err := st.PutObject(ctx, o, store.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	partstat := func() string {
		t.Helper()
		st, err := openStore(ctx, db, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		got, err := st.GetObject(ctx, cals[0].ID, "review.ics")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(got.Body), "\r\n") {
			if strings.HasSuffix(l, "dave@elsewhere.example") {
				return l
			}
		}
		return ""
	}

	code, _, errOut := runCmd(t, imipReply("mallory@evil.example", "DECLINED"), "imip", "deliver", "--database", db)
	if code != 65 || !strings.Contains(errOut, "rejected") {
		t.Errorf("forged reply: exit %d, stderr %q; want 65 and the reason logged", code, errOut)
	}
	if l := partstat(); !strings.Contains(l, "NEEDS-ACTION") {
		t.Errorf("a forged reply changed the event: %q", l)
	}
	code, _, errOut = runCmd(t, imipReply("Dave <dave@elsewhere.example>", "ACCEPTED"), "imip", "deliver", "--database", db, "--recipient", "alice@example.org")
	if code != 0 {
		t.Fatalf("imip deliver: exit %d %s", code, errOut)
	}
	if l := partstat(); !strings.Contains(l, "PARTSTAT=ACCEPTED") {
		t.Errorf("after the reply: %q", l)
	}
	if code, _, _ := runCmd(t, "", "imip", "nonsense"); code != 2 {
		t.Errorf("imip nonsense: exit %d; want 2", code)
	}
}

// TestSMTPConfig: the relay from flags or one URL; the password is never
// echoed, in errors or in what is logged.
func TestSMTPConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     smtpConfig
		want    string // host:port user tls starttls, "" for off
		wantErr bool
	}{
		{"off", smtpConfig{}, "", false},
		{"flags", smtpConfig{host: "mx.example", user: "u", password: "s3cret", from: "cal@example.org", startTLS: true}, "mx.example:587 u false true", false},
		{"url", smtpConfig{url: "smtps://u:s3cret@mx.example", from: "cal@example.org", startTLS: true}, "mx.example:465 u true false", false},
		{"url with port", smtpConfig{url: "smtp://u:s3cret@mx.example:2525", from: "cal@example.org", startTLS: true}, "mx.example:2525 u false true", false},
		{"no from", smtpConfig{host: "mx.example"}, "", true},
		{"bad url", smtpConfig{url: "http://u:s3cret@mx.example", from: "cal@example.org"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.cfg.relay()
			if (err != nil) != tc.wantErr {
				t.Fatalf("relay() error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			got := ""
			if r != nil {
				got = fmt.Sprintf("%s:%d %s %v %v", r.Host, r.Port, r.Username, r.TLS, r.StartTLS)
				var b strings.Builder
				slog.New(slog.NewTextHandler(&b, nil)).Info("x", "smtp", r)
				if strings.Contains(b.String(), "s3cret") || !strings.Contains(b.String(), "mx.example") {
					t.Errorf("logged relay: %s", b.String())
				}
				if r.Password != "s3cret" {
					t.Errorf("password %q not taken", r.Password)
				}
			}
			if got != tc.want {
				t.Errorf("relay = %q, want %q", got, tc.want)
			}
		})
	}
}
