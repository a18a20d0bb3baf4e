package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/davenport-dav/davenport/caldav"
	"github.com/davenport-dav/davenport/imip"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// Tests of scheduling by email (iMIP, RFC 6047) over the full stack, with
// an in-process SMTP relay (go-smtp's server) that receives what the
// server sends, on both stores.

// relay is an in-process SMTP server keeping what it is given.
type relay struct {
	mu       sync.Mutex
	msgs     []relayed
	refuse   map[string]bool // RCPT TO refused with 550
	listener net.Listener
	srv      *smtp.Server
}

type relayed struct {
	from string
	to   []string
	data []byte
}

func newRelay(t *testing.T) *relay {
	t.Helper()
	r := &relay{refuse: map[string]bool{}}
	r.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &relaySession{r: r}, nil }))
	r.srv.Domain = "relay.test"
	r.srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.listener = l
	go r.srv.Serve(l)
	t.Cleanup(func() { r.srv.Close() })
	return r
}

func (r *relay) port() int { return r.listener.Addr().(*net.TCPAddr).Port }

func (r *relay) received() []relayed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]relayed(nil), r.msgs...)
}

type relaySession struct {
	r    *relay
	from string
	to   []string
}

func (s *relaySession) Reset()        { s.from, s.to = "", nil }
func (s *relaySession) Logout() error { return nil }
func (s *relaySession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.refuse[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.to = append(s.to, to)
	return nil
}
func (s *relaySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.msgs = append(s.r.msgs, relayed{s.from, s.to, b})
	s.r.mu.Unlock()
	return nil
}

// sender is a Sender through r (port 0: a relay that is down).
func sender(st store.Store, port int) *imip.Sender {
	return &imip.Sender{Store: st, Logger: slog.New(slog.DiscardHandler), Hostname: "dav.test",
		SMTP:    imip.SMTP{Host: "127.0.0.1", Port: port, From: "calendar@example.org", Timeout: 5 * time.Second},
		Backoff: time.Minute, MaxAttempts: 3}
}

// downPort is a port where nothing listens.
func downPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return p
}

func imipOn(c *server.Config) { c.IMIP = true }

// parsedMail is a message the relay got, parsed as a client would.
type parsedMail struct {
	header           mail.Header
	text, cal        string
	calType, subject string
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the relay got no mail message: %v\n%s", err, data)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q, %v; want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	out := parsedMail{header: m.Header, subject: subject}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		ct := p.Header.Get("Content-Type")
		switch {
		case strings.HasPrefix(ct, "text/plain"):
			out.text = string(b)
		case strings.HasPrefix(ct, "text/calendar"):
			out.cal, out.calType = string(b), ct
		}
	}
	if out.text == "" || out.cal == "" {
		t.Fatalf("want a text part and a calendar part:\n%s", data)
	}
	return out
}

func (e *env) mail() []store.Mail {
	e.t.Helper()
	m, err := e.st.ListMail(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// reply is an iMIP REPLY from an external attendee, as Thunderbird or
// Gmail send it.
func reply(from, to, uid, partstat, rid string) string {
	return attendeeMail("REPLY", from, to, uid, partstat, rid)
}

// attendeeMail is an iTIP message of method from an external attendee.
func attendeeMail(method, from, to, uid, partstat, rid string) string {
	ridLine := ""
	if rid != "" {
		ridLine = "RECURRENCE-ID:" + rid + "\r\n"
	}
	cal := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\nMETHOD:" + method + "\r\n" +
		"BEGIN:VEVENT\r\nUID:" + uid + "\r\n" + ridLine + "DTSTAMP:20260102T000000Z\r\nSEQUENCE:0\r\n" +
		"ORGANIZER:mailto:alice@example.org\r\nATTENDEE;PARTSTAT=" + partstat + ":mailto:" + from + "\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
	return "From: Dave <" + from + ">\r\nTo: " + to + "\r\nSubject: Accepted\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nI'll come.\r\n" +
		"--b1\r\nContent-Type: text/calendar; charset=utf-8; method=" + method + "\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		b64(cal) + "\r\n--b1--\r\n"
}

// b64 is s in base64, wrapped at 76 columns as mail is.
func b64(s string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	return b.String()
}

func receiver(st store.Store) *imip.Receiver {
	return &imip.Receiver{Store: st, Logger: slog.New(slog.DiscardHandler), IMIP: true}
}

// TestIMIPInvitation walks an invitation to an external attendee: the
// REQUEST is queued with the PUT, sent through the relay as multipart
// text + text/calendar, SCHEDULE-STATUS follows; the attendee's REPLY comes
// back through `imip deliver` (Receiver.Deliver) and LMTP and updates the
// organizer's copy; the cancellation goes out too.
func TestIMIPInvitation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st, imipOn)
		r := newRelay(t)
		ctx := context.Background()
		const ev = "/dav/calendars/alice/personal/planning.ics"
		body := meeting("plan-x", "20260105T100000Z", "LOCATION:Room 1\r\n", "bob@example.org", "Dave@Elsewhere.example")
		body = strings.Replace(body, "DTSTART:20260105T100000Z\r\nDTEND:20260105T110000Z", "DTSTART;TZID=Europe/Berlin:20260105T100000\r\nDTEND;TZID=Europe/Berlin:20260105T110000", 1)
		if resp := e.put("", "", ev, body, nil); resp.StatusCode != 201 {
			t.Fatalf("organizer PUT: %d %s", resp.StatusCode, readBody(t, resp))
		}
		_, stored, _ := e.get("", "", ev)
		if l := attendeeLine(stored, "mailto:dave@elsewhere.example"); !strings.Contains(l, "SCHEDULE-STATUS=1.0") {
			t.Errorf("the external attendee before sending: %q; want 1.0 (pending)", l)
		}
		if q := e.mail(); len(q) != 1 || q[0].Method != "REQUEST" || q[0].To != "mailto:dave@elsewhere.example" || q[0].From != "mailto:alice@example.org" {
			t.Fatalf("queue after the PUT = %+v; want one REQUEST to dave", q)
		}
		if n, err := sender(st, r.port()).RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("RunOnce = %d, %v", n, err)
		}
		got := r.received()
		if len(got) != 1 || got[0].from != "calendar@example.org" || len(got[0].to) != 1 || got[0].to[0] != "dave@elsewhere.example" {
			t.Fatalf("the relay got %+v", got)
		}
		m := parseMail(t, got[0].data)
		if mt, params, _ := mime.ParseMediaType(m.calType); mt != "text/calendar" || params["method"] != "REQUEST" {
			t.Errorf("calendar part Content-Type %q; want text/calendar; method=REQUEST", m.calType)
		}
		for _, want := range []string{"METHOD:REQUEST", "UID:plan-x", "mailto:Dave@Elsewhere.example"} {
			if !strings.Contains(m.cal, want) {
				t.Errorf("calendar part lacks %q:\n%s", want, m.cal)
			}
		}
		if strings.Contains(m.cal, "SCHEDULE-STATUS") {
			t.Errorf("the sent calendar carries the organizer's SCHEDULE-STATUS:\n%s", m.cal)
		}
		for _, want := range []string{"Planning", "09:00 – 10:00 UTC", "10:00 – 11:00 Europe/Berlin", "Room 1", "Alice <alice@example.org>", "Dave@Elsewhere.example"} {
			if !strings.Contains(m.text, want) {
				t.Errorf("text part lacks %q:\n%s", want, m.text)
			}
		}
		if !strings.HasPrefix(m.subject, "Invitation: Planning") || !strings.Contains(m.header.Get("Reply-To"), "alice@example.org") {
			t.Errorf("Subject %q, Reply-To %q", m.subject, m.header.Get("Reply-To"))
		}
		if q := e.mail(); len(q) != 0 {
			t.Errorf("queue after sending: %+v", q)
		}
		_, stored, _ = e.get("", "", ev)
		if l := attendeeLine(stored, "mailto:dave@elsewhere.example"); !strings.Contains(l, "SCHEDULE-STATUS=1.1") {
			t.Errorf("the external attendee after sending: %q; want 1.1 (sent)", l)
		}

		// Dave accepts, through an MTA pipe.
		rc := receiver(st)
		if err := rc.Deliver(ctx, strings.NewReader(reply("dave@elsewhere.example", "alice@example.org", "plan-x", "ACCEPTED", "")), nil); err != nil {
			t.Fatalf("deliver REPLY: %v", err)
		}
		_, stored, _ = e.get("", "", ev)
		if l := attendeeLine(stored, "mailto:dave@elsewhere.example"); !strings.Contains(l, "PARTSTAT=ACCEPTED") {
			t.Errorf("organizer's copy after dave's REPLY: %q", l)
		}
		if n := countContaining(e.inbox("alice"), "METHOD:REPLY", "dave@elsewhere.example"); n != 1 {
			t.Errorf("alice's inbox holds %d REPLYs from dave; want 1", n)
		}
		// Then changes his mind to tentative, through LMTP.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lctx, stop := context.WithCancel(ctx)
		defer stop()
		go rc.ServeLMTP(lctx, l, "dav.test")
		conn, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c := smtp.NewClientLMTP(conn)
		if err := c.Hello("mx.test"); err != nil {
			t.Fatal(err)
		}
		if err := c.Mail("dave@elsewhere.example", nil); err != nil {
			t.Fatal(err)
		}
		for _, rcpt := range []string{"alice@example.org", "nobody@example.org"} {
			if err := c.Rcpt(rcpt, nil); err != nil {
				t.Fatal(err)
			}
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, reply("dave@elsewhere.example", "alice@example.org", "plan-x", "TENTATIVE", ""))
		resps, err := w.CloseWithLMTPResponse()
		var lerr smtp.LMTPDataError
		if !errors.As(err, &lerr) || lerr["nobody@example.org"] == nil || lerr["nobody@example.org"].Code != 550 || lerr["alice@example.org"] != nil {
			t.Errorf("LMTP answers %v, %v; want 250 for alice, 550 for nobody", resps, err)
		}
		c.Quit()
		_, stored, _ = e.get("", "", ev)
		if l := attendeeLine(stored, "mailto:dave@elsewhere.example"); !strings.Contains(l, "PARTSTAT=TENTATIVE") {
			t.Errorf("organizer's copy after dave's LMTP REPLY: %q", l)
		}

		// Alice cancels: dave gets a CANCEL by mail.
		if resp := e.do(request{method: "DELETE", path: ev}); resp.StatusCode != 204 {
			t.Fatalf("DELETE: %d", resp.StatusCode)
		}
		if q := e.mail(); len(q) != 1 || q[0].Method != "CANCEL" {
			t.Fatalf("queue after the DELETE = %+v; want one CANCEL", q)
		}
		sender(st, r.port()).RunOnce(ctx)
		if got := r.received(); len(got) != 2 {
			t.Fatalf("relay got %d messages; want 2", len(got))
		} else if m := parseMail(t, got[1].data); !strings.Contains(m.cal, "METHOD:CANCEL") || !strings.Contains(m.calType, "method=CANCEL") || !strings.HasPrefix(m.subject, "Cancelled: Planning") {
			t.Errorf("the CANCEL mail: %q %q\n%s", m.subject, m.calType, m.cal)
		}
	})
}

// TestIMIPRelayOutage: a relay that is down, then up — the queued message
// arrives exactly once, after the back-off; one that stays down is given
// up after the bound (SCHEDULE-STATUS 5.1); a recipient the relay refuses
// is 3.7 at once. Two senders at once (two instances) send each message
// once.
func TestIMIPRelayOutage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st, imipOn)
		r := newRelay(t)
		r.refuse["nobody@refused.example"] = true
		ctx := context.Background()
		const ev = "/dav/calendars/alice/personal/outage.ics"
		if resp := e.put("", "", ev, meeting("outage", "20260105T100000Z", "", "x1@up.example", "x2@down.example", "nobody@refused.example"), nil); resp.StatusCode != 201 {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
		now := time.Now()
		down := sender(st, downPort(t))
		down.Now = func() time.Time { return now }
		if n, err := down.RunOnce(ctx); err != nil || n != 3 {
			t.Fatalf("RunOnce with the relay down = %d, %v", n, err)
		}
		q := e.mail()
		if len(q) != 3 || q[0].Attempts != 1 || q[0].LastError == "" || !q[0].NextAttempt.After(now.Add(59*time.Second)) {
			t.Fatalf("queue after a failed attempt: %+v; want all three kept, retried in a minute", q)
		}
		// Not due yet: nothing is tried.
		if n, _ := down.RunOnce(ctx); n != 0 {
			t.Errorf("a retry before the back-off: %d tried", n)
		}
		// The relay is up a minute later; two instances send at once.
		up1, up2 := sender(st, r.port()), sender(st, r.port())
		later := now.Add(61 * time.Second)
		up1.Now, up2.Now = func() time.Time { return later }, func() time.Time { return later }
		var wg sync.WaitGroup
		for _, s := range []*imip.Sender{up1, up2} {
			wg.Add(1)
			go func() { defer wg.Done(); s.RunOnce(ctx) }()
		}
		wg.Wait()
		got := r.received()
		counts := map[string]int{}
		for _, m := range got {
			counts[strings.Join(m.to, ",")]++
		}
		if counts["x1@up.example"] != 1 || counts["x2@down.example"] != 1 || len(got) != 2 {
			t.Errorf("after the outage the relay got %v; want each message exactly once", counts)
		}
		_, stored, _ := e.get("", "", ev)
		for addr, want := range map[string]string{"x1@up.example": "1.1", "x2@down.example": "1.1", "nobody@refused.example": "3.7"} {
			if l := attendeeLine(stored, "mailto:"+addr); !strings.Contains(l, "SCHEDULE-STATUS="+want) {
				t.Errorf("%s: %q; want SCHEDULE-STATUS=%s", addr, l, want)
			}
		}
		if q := e.mail(); len(q) != 0 {
			t.Errorf("queue after delivery: %+v", q)
		}

		// A relay that stays down: given up after MaxAttempts.
		moved := strings.ReplaceAll(stored, "20260105T1", "20260107T1")
		if resp := e.put("", "", ev, moved, nil); resp.StatusCode != 204 {
			t.Fatalf("reschedule: %d", resp.StatusCode)
		}
		clock := now.Add(time.Hour)
		down.Now = func() time.Time { return clock }
		for range 3 {
			down.RunOnce(ctx)
			clock = clock.Add(10 * time.Minute)
		}
		if q := e.mail(); len(q) != 0 {
			t.Errorf("queue after giving up: %+v", q)
		}
		_, stored, _ = e.get("", "", ev)
		if l := attendeeLine(stored, "mailto:x1@up.example"); !strings.Contains(l, "SCHEDULE-STATUS=5.1") {
			t.Errorf("after giving up: %q; want SCHEDULE-STATUS=5.1", l)
		}
	})
}

// TestIMIPInboundChecks: mail that is not what it claims is refused with a
// reason, and nothing changes: a reply from someone else than the
// attendee, for an unknown UID, from a non-attendee, an invitation in a
// local user's name, a reply to a user who is not the organizer; a
// request from outside lands in the local attendee's calendar and inbox,
// and their answer goes back by mail.
func TestIMIPInboundChecks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st, imipOn)
		ctx := context.Background()
		const ev = "/dav/calendars/alice/personal/in.ics"
		if resp := e.put("", "", ev, meeting("in-1", "20260105T100000Z", "", "dave@elsewhere.example"), nil); resp.StatusCode != 201 {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
		_, before, _ := e.get("", "", ev)
		rc := receiver(st)
		forged := strings.Replace(reply("dave@elsewhere.example", "alice@example.org", "in-1", "DECLINED", ""), "From: Dave <dave@elsewhere.example>", "From: mallory@evil.example", 1)
		external := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:ext-1\r\nDTSTAMP:20260101T000000Z\r\n" +
			"DTSTART:20260110T100000Z\r\nDTEND:20260110T110000Z\r\nSUMMARY:Their meeting\r\nORGANIZER;CN=Olga:mailto:olga@outside.example\r\n" +
			"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		requestMail := func(from, cal string) string {
			return "From: " + from + "\r\nTo: bob@example.org\r\nSubject: x\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n" + cal
		}
		spoofLocal := strings.ReplaceAll(external, "olga@outside.example", "alice@example.org")
		for _, tc := range []struct{ name, msg, reason string }{
			{"forged sender", forged, "speaks for"},
			{"unknown UID", reply("dave@elsewhere.example", "alice@example.org", "no-such-uid", "ACCEPTED", ""), "unknown UID"},
			{"not an attendee", reply("eve@elsewhere.example", "alice@example.org", "in-1", "ACCEPTED", ""), "no ATTENDEE"},
			{"to a non-organizer", reply("dave@elsewhere.example", "bob@example.org", "in-1", "ACCEPTED", ""), "not its ORGANIZER"},
			{"a local organizer spoofed", requestMail("alice@example.org", spoofLocal), "user of this server"},
			{"organizer is not the sender", requestMail("mallory@evil.example", external), "ORGANIZER is"},
			{"no calendar", "From: a@b.example\r\nTo: alice@example.org\r\n\r\nhello\r\n", "no text/calendar"},
		} {
			err := rc.Deliver(ctx, strings.NewReader(tc.msg), nil)
			var rej *caldav.Rejection
			if !errors.As(err, &rej) || !strings.Contains(rej.Reason, tc.reason) {
				t.Errorf("%s: %v; want a rejection saying %q", tc.name, err, tc.reason)
			}
		}
		if _, after, _ := e.get("", "", ev); after != before {
			t.Errorf("a refused message changed the organizer's copy:\n%s", after)
		}
		if code, _, _ := e.get("bob", bobPassword, "/dav/calendars/bob/personal/ext-1.ics"); code != 404 {
			t.Errorf("a refused invitation reached bob's calendar: %d", code)
		}
		if n := len(e.inbox("alice")); n != 0 {
			t.Errorf("refused messages reached alice's inbox: %d", n)
		}

		// A genuine invitation from outside.
		if err := rc.Deliver(ctx, strings.NewReader(requestMail("Olga <olga@outside.example>", external)), nil); err != nil {
			t.Fatalf("external REQUEST: %v", err)
		}
		code, copyBody, _ := e.get("bob", bobPassword, "/dav/calendars/bob/personal/ext-1.ics")
		if code != 200 || !strings.Contains(copyBody, "Their meeting") {
			t.Fatalf("bob's copy of the external invitation: %d\n%s", code, copyBody)
		}
		if n := countContaining(e.inbox("bob"), "METHOD:REQUEST", "UID:ext-1"); n != 1 {
			t.Errorf("bob's inbox holds %d external REQUESTs; want 1", n)
		}
		// Bob accepts: the REPLY goes to olga by mail.
		if resp := e.put("bob", bobPassword, "/dav/calendars/bob/personal/ext-1.ics", acceptFor(t, copyBody, "mailto:bob@example.org", "ACCEPTED"), nil); resp.StatusCode != 204 {
			t.Fatalf("bob's answer: %d %s", resp.StatusCode, readBody(t, resp))
		}
		q := e.mail()
		if len(q) != 2 || q[1].Method != "REPLY" || q[1].To != "mailto:olga@outside.example" || q[1].From != "mailto:bob@example.org" ||
			!strings.Contains(string(q[1].Body), "PARTSTAT=ACCEPTED") {
			t.Errorf("queue after bob's answer = %+v; want a REPLY to olga", q)
		}
		_, bobCopy, _ := e.get("bob", bobPassword, "/dav/calendars/bob/personal/ext-1.ics")
		if !strings.Contains(strings.ReplaceAll(bobCopy, "\r\n ", ""), "SCHEDULE-STATUS=1.0") {
			t.Errorf("bob's ORGANIZER carries no pending SCHEDULE-STATUS:\n%s", bobCopy)
		}
		// Olga cannot replace alice's event by sending its UID.
		hijack := strings.ReplaceAll(external, "UID:ext-1", "UID:in-1")
		hijack = strings.ReplaceAll(hijack, "mailto:bob@example.org", "mailto:alice@example.org")
		hijackMail := strings.Replace(requestMail("olga@outside.example", hijack), "To: bob@example.org", "To: alice@example.org", 1)
		var rej *caldav.Rejection
		if err := rc.Deliver(ctx, strings.NewReader(hijackMail), nil); !errors.As(err, &rej) {
			t.Errorf("a REQUEST reusing alice's UID: %v; want a rejection", err)
		}
		if _, after, _ := e.get("", "", ev); after != before {
			t.Errorf("an external REQUEST overwrote alice's own event")
		}
	})
}

// TestIMIPHeaderInjection: event text with line breaks cannot add
// headers to the mail.
func TestIMIPHeaderInjection(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st, imipOn)
		r := newRelay(t)
		body := strings.Replace(meeting("inj", "20260105T100000Z", "", "dave@elsewhere.example"), "SUMMARY:Planning", `SUMMARY:Hi\nBcc: victim@example.net\n\nbody`, 1)
		body = strings.Replace(body, "ATTENDEE;CUTYPE=INDIVIDUAL;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:dave", "ATTENDEE;CN=\"Dave\r\n Bcc: x@y\";PARTSTAT=NEEDS-ACTION:mailto:dave", 1)
		if resp := e.put("", "", "/dav/calendars/alice/personal/inj.ics", body, nil); resp.StatusCode != 201 {
			t.Fatalf("PUT: %d %s", resp.StatusCode, readBody(t, resp))
		}
		if _, err := sender(st, r.port()).RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := r.received()
		if len(got) != 1 {
			t.Fatalf("relay got %d messages", len(got))
		}
		m := parseMail(t, got[0].data)
		if m.header.Get("Bcc") != "" || len(got[0].to) != 1 {
			t.Errorf("event text added a header or recipient: Bcc %q, to %v", m.header.Get("Bcc"), got[0].to)
		}
		if strings.ContainsAny(m.subject, "\r\n") || !strings.Contains(m.subject, "Hi Bcc: victim@example.net body") {
			t.Errorf("Subject %q", m.subject)
		}
	})
}

// TestIMIPPerInstanceReply: an external attendee answers one instance of
// a weekly meeting by mail; the organizer's copy gains an override with
// that answer, and the master keeps the attendee's first answer.
func TestIMIPPerInstanceReply(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st, imipOn)
		const ev = "/dav/calendars/alice/personal/weekly-x.ics"
		if resp := e.put("", "", ev, meeting("weekly-x", "20260105T100000Z", "RRULE:FREQ=WEEKLY;COUNT=10\r\n", "dave@elsewhere.example"), nil); resp.StatusCode != 201 {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
		rc := receiver(st)
		ctx := context.Background()
		if err := rc.Deliver(ctx, strings.NewReader(reply("dave@elsewhere.example", "alice@example.org", "weekly-x", "ACCEPTED", "")), nil); err != nil {
			t.Fatal(err)
		}
		if err := rc.Deliver(ctx, strings.NewReader(reply("dave@elsewhere.example", "alice@example.org", "weekly-x", "DECLINED", "20260112T100000Z")), nil); err != nil {
			t.Fatal(err)
		}
		_, org, _ := e.get("", "", ev)
		var master, ov string
		for _, block := range strings.Split(strings.ReplaceAll(org, "\r\n ", ""), "BEGIN:VEVENT")[1:] {
			if strings.Contains(block, "RECURRENCE-ID:20260112T100000Z") {
				ov = block
			} else {
				master = block
			}
		}
		if !strings.Contains(attendeeLine(ov, "mailto:dave@elsewhere.example"), "PARTSTAT=DECLINED") {
			t.Errorf("the override after the per-instance reply:\n%s", org)
		}
		if !strings.Contains(attendeeLine(master, "mailto:dave@elsewhere.example"), "PARTSTAT=ACCEPTED") {
			t.Errorf("the master after the per-instance reply:\n%s", org)
		}
	})
}

// TestIMIPRefreshAndCounter: an external attendee's REFRESH is answered
// with the event, a COUNTER is declined politely (RFC 5546 §3.2.6-8);
// neither changes the organizer's copy.
func TestIMIPRefreshAndCounter(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st, imipOn)
		r := newRelay(t)
		ctx := context.Background()
		const ev = "/dav/calendars/alice/personal/rc.ics"
		if resp := e.put("", "", ev, meeting("rc-1", "20260105T100000Z", "", "dave@elsewhere.example"), nil); resp.StatusCode != 201 {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
		sender(st, r.port()).RunOnce(ctx) // the invitation
		_, before, _ := e.get("", "", ev)
		rc := receiver(st)
		refresh := attendeeMail("REFRESH", "dave@elsewhere.example", "alice@example.org", "rc-1", "NEEDS-ACTION", "")
		counter := attendeeMail("COUNTER", "dave@elsewhere.example", "alice@example.org", "rc-1", "TENTATIVE", "")
		for _, m := range []string{refresh, counter} {
			if err := rc.Deliver(ctx, strings.NewReader(m), nil); err != nil {
				t.Fatalf("deliver: %v", err)
			}
		}
		q := e.mail()
		if len(q) != 2 || q[0].Method != "REQUEST" || q[1].Method != "DECLINECOUNTER" || q[0].To != "mailto:dave@elsewhere.example" || q[1].To != "mailto:dave@elsewhere.example" {
			t.Fatalf("queue = %+v; want the REQUEST again and a DECLINECOUNTER to dave", q)
		}
		sender(st, r.port()).RunOnce(ctx)
		got := r.received()
		if len(got) != 3 {
			t.Fatalf("relay got %d messages; want 3", len(got))
		}
		if m := parseMail(t, got[1].data); !strings.Contains(m.cal, "METHOD:REQUEST") || !strings.Contains(m.cal, "UID:rc-1") {
			t.Errorf("the answer to REFRESH:\n%s", m.cal)
		}
		if m := parseMail(t, got[2].data); !strings.Contains(m.cal, "METHOD:DECLINECOUNTER") || !strings.Contains(m.calType, "method=DECLINECOUNTER") || !strings.Contains(m.cal, "COMMENT:") {
			t.Errorf("the answer to COUNTER: %q\n%s", m.calType, m.cal)
		}
		_, after, _ := e.get("", "", ev)
		if attendeeLine(after, "mailto:dave@elsewhere.example") != attendeeLine(before, "mailto:dave@elsewhere.example") {
			t.Errorf("REFRESH or COUNTER changed dave's ATTENDEE: %q → %q", attendeeLine(before, "mailto:dave@elsewhere.example"), attendeeLine(after, "mailto:dave@elsewhere.example"))
		}
	})
}
