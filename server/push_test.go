package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/push"
	"github.com/davenport-dav/davenport/push/pushtest"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// newPushService is a WebDAV-Push sender on st, allowed to reach the
// loopback endpoints of pushtest, with its worker running until t ends.
func newPushService(t testing.TB, st store.Store, cfg push.Config) *push.Service {
	t.Helper()
	cfg.AllowHTTP, cfg.AllowPrivate = true, true
	return newPushServiceStrict(t, st, cfg)
}

// newPushServiceStrict is newPushService with cfg's address policy.
func newPushServiceStrict(t testing.TB, st store.Store, cfg push.Config) *push.Service {
	t.Helper()
	cfg.Store = st
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Poll == 0 {
		cfg.Poll = 20 * time.Millisecond
	}
	if cfg.Coalesce == 0 {
		cfg.Coalesce = 100 * time.Millisecond
	}
	svc, err := push.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return svc
}

func newPushEnv(t *testing.T, st store.Store, cfg push.Config) (*env, *push.Service) {
	svc := newPushService(t, st, cfg)
	return newEnv(t, st, func(c *server.Config) { c.Push = svc }), svc
}

// pushRegister is a push-register body as DAVx5 (dav4jvm) sends it.
func pushRegister(resource, pub, auth, expires string, property bool) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<push-register xmlns="https://bitfire.at/webdav-push" xmlns:D="DAV:"><subscription><web-push-subscription>`)
	fmt.Fprintf(&b, `<push-resource>%s</push-resource><content-encoding>aes128gcm</content-encoding>`, resource)
	fmt.Fprintf(&b, `<subscription-public-key type="p256dh">%s</subscription-public-key><auth-secret>%s</auth-secret>`, pub, auth)
	b.WriteString(`</web-push-subscription></subscription><trigger><content-update><D:depth>1</D:depth></content-update>`)
	if property {
		b.WriteString(`<property-update><D:depth>0</D:depth></property-update>`)
	}
	b.WriteString(`</trigger>`)
	if expires != "" {
		b.WriteString(`<expires>` + expires + `</expires>`)
	}
	b.WriteString(`</push-register>`)
	return b.String()
}

// register subscribes ep to the collection at path as user and returns the
// registration URL.
func (e *env) register(user, pw, path string, ep *pushtest.Endpoint, property bool) string {
	e.t.Helper()
	resp := e.do(request{method: "POST", path: path, user: user, password: pw,
		header: map[string]string{"Content-Type": "application/xml; charset=utf-8"},
		body:   pushRegister(ep.URL, ep.PublicKey(), ep.AuthSecret(), "", property)})
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("push-register %s: %d %s", path, resp.StatusCode, readBody(e.t, resp))
	}
	loc := resp.Header.Get("Location")
	if !regexp.MustCompile(`^/dav/push/[0-9]+$`).MatchString(loc) {
		e.t.Fatalf("push-register Location %q", loc)
	}
	if _, err := http.ParseTime(resp.Header.Get("Expires")); err != nil {
		e.t.Fatalf("push-register Expires %q: %v", resp.Header.Get("Expires"), err)
	}
	return loc
}

// token is the sync token of a collection now.
func (e *env) token(owner string, kind store.Kind, name string) (string, int64) {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.st.GetUser(ctx, owner)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.st.GetCollection(ctx, u.ID, kind, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return dav.SyncToken(c), c.ID
}

// pushed waits for a message with topic and sync token.
func pushed(t *testing.T, ep *pushtest.Endpoint, what, topic, token string) {
	t.Helper()
	ep.Wait(t, 5*time.Second, what, func(ms []pushtest.Message) bool {
		for _, m := range ms {
			if m.Topic == topic && m.SyncToken == token {
				return true
			}
		}
		return false
	})
}

// TestPushDiscovery: every calendar, address book and inbox, own or
// shared, announces Web Push with the server's VAPID key and its topic
// (the properties dav4jvm parses); the outbox does not.
func TestPushDiscovery(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e, svc := newPushEnv(t, st, push.Config{})
		sh := e.share("alice", "personal", store.KindCalendar, "bob", store.AccessRead)
		for _, c := range []struct {
			user, pw, path string
			id             int64
			want           bool
		}{
			{"alice", alicePassword, "/dav/calendars/alice/personal/", sh.CollectionID, true},
			{"alice", alicePassword, "/dav/addressbooks/alice/contacts/", 0, true},
			{"alice", alicePassword, "/dav/inbox/alice/inbox/", 0, true},
			{"alice", alicePassword, "/dav/outbox/alice/outbox/", 0, false},
			{"bob", bobPassword, fmt.Sprintf("/dav/calendars/bob/shared-%d/", sh.CollectionID), sh.CollectionID, true},
		} {
			t.Run(c.path, func(t *testing.T) {
				resp := e.do(request{method: "PROPFIND", path: c.path, user: c.user, password: c.pw,
					header: map[string]string{"Depth": "0"},
					body: `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:P="https://bitfire.at/webdav-push">` +
						`<D:prop><P:transports/><P:topic/><P:supported-triggers/></D:prop></D:propfind>`})
				body := readBody(t, resp)
				root, err := dav.ParseXML([]byte(body), dav.DefaultLimits)
				if err != nil {
					t.Fatal(err)
				}
				var key, topic string
				var walk func(el *dav.Element)
				walk = func(el *dav.Element) {
					if el.Name.Space == dav.NSPush && el.Name.Local == "vapid-public-key" {
						key = el.Text
						if v, _ := el.AttrValue("type"); v != "p256ecdsa" {
							t.Errorf("vapid-public-key type %q", v)
						}
					}
					if el.Name.Space == dav.NSPush && el.Name.Local == "topic" {
						topic = el.Text
					}
					for _, ch := range el.Children {
						walk(ch)
					}
				}
				walk(root)
				if !c.want {
					if key != "" || topic != "" {
						t.Fatalf("outbox announces push: %s", body)
					}
					return
				}
				if key != svc.PublicKey() || topic == "" {
					t.Fatalf("key %q topic %q; want key %q:\n%s", key, topic, svc.PublicKey(), body)
				}
				if c.id != 0 && topic != svc.Topic(c.id) {
					t.Fatalf("topic %q, want %q", topic, svc.Topic(c.id))
				}
			})
		}
	})
}

// TestPushEndToEnd registers an in-process Web Push endpoint as DAVx5
// would and checks that every kind of change reaches it, VAPID-signed and
// aes128gcm-encrypted, naming the collection's topic and new sync token:
// PUT, DELETE, MOVE (both collections), a change by the sharee's owner on
// a shared calendar, a scheduling delivery into an inbox, and a share
// change (property-update); DELETE of the registration stops it.
func TestPushEndToEnd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e, svc := newPushEnv(t, st, push.Config{})
		ctx := context.Background()
		bob, err := st.GetUser(ctx, "bob")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SetEmail(ctx, bob.ID, "bob@example.org"); err != nil {
			t.Fatal(err)
		}
		if r := e.do(request{method: "MKCALENDAR", path: "/dav/calendars/alice/work/"}); r.StatusCode != 201 {
			t.Fatalf("MKCALENDAR: %d", r.StatusCode)
		}
		ep := pushtest.New(t)
		ep.VAPIDKey = svc.PublicKey()
		reg := e.register("alice", alicePassword, "/dav/calendars/alice/personal/", ep, true)
		e.register("alice", alicePassword, "/dav/calendars/alice/work/", ep, false)

		// Re-registering refreshes (204) the same registration.
		resp := e.do(request{method: "POST", path: "/dav/calendars/alice/personal/",
			header: map[string]string{"Content-Type": "application/xml"},
			body:   pushRegister(ep.URL, ep.PublicKey(), ep.AuthSecret(), time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), true)})
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Location") != reg {
			t.Fatalf("refresh: %d %q, want 204 %q", resp.StatusCode, resp.Header.Get("Location"), reg)
		}
		if exp, _ := http.ParseTime(resp.Header.Get("Expires")); time.Until(exp) > time.Hour+time.Minute {
			t.Fatalf("refresh kept expiry %v, asked for an hour", exp)
		}

		put := func(path, body string) {
			t.Helper()
			if r := e.put("alice", alicePassword, path, body, nil); r.StatusCode/100 != 2 {
				t.Fatalf("PUT %s: %d", path, r.StatusCode)
			}
		}
		put("/dav/calendars/alice/personal/a.ics", fmt.Sprintf(sharedEvent, "a", "one"))
		tok, personal := e.token("alice", store.KindCalendar, "personal")
		pushed(t, ep, "PUT", svc.Topic(personal), tok)

		if r := e.do(request{method: "DELETE", path: "/dav/calendars/alice/personal/a.ics"}); r.StatusCode != 204 {
			t.Fatalf("DELETE: %d", r.StatusCode)
		}
		tok, _ = e.token("alice", store.KindCalendar, "personal")
		pushed(t, ep, "DELETE", svc.Topic(personal), tok)

		put("/dav/calendars/alice/personal/m.ics", fmt.Sprintf(sharedEvent, "m", "moving"))
		if r := e.do(request{method: "MOVE", path: "/dav/calendars/alice/personal/m.ics",
			header: map[string]string{"Destination": e.srv.URL + "/dav/calendars/alice/work/m.ics"}}); r.StatusCode != 201 {
			t.Fatalf("MOVE: %d", r.StatusCode)
		}
		tok, _ = e.token("alice", store.KindCalendar, "personal")
		wtok, work := e.token("alice", store.KindCalendar, "work")
		pushed(t, ep, "MOVE source", svc.Topic(personal), tok)
		pushed(t, ep, "MOVE destination", svc.Topic(work), wtok)

		// Bob, a sharee, registers on the shared calendar and hears of
		// alice's changes; the share itself is a property change.
		bep := pushtest.New(t)
		bep.VAPIDKey = svc.PublicKey()
		sh := e.share("alice", "personal", store.KindCalendar, "bob", store.AccessRead)
		e.register("bob", bobPassword, fmt.Sprintf("/dav/calendars/bob/shared-%d/", sh.CollectionID), bep, false)
		put("/dav/calendars/alice/personal/s.ics", fmt.Sprintf(sharedEvent, "s", "shared"))
		tok, _ = e.token("alice", store.KindCalendar, "personal")
		pushed(t, bep, "PUT seen by sharee", svc.Topic(personal), tok)

		share := `<?xml version="1.0"?><CS:share xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">` +
			`<CS:set><D:href>mailto:bob@example.org</D:href><CS:read-write/></CS:set></CS:share>`
		if r := e.do(request{method: "POST", path: "/dav/calendars/alice/personal/", body: share,
			header: map[string]string{"Content-Type": "application/xml"}}); r.StatusCode != 200 {
			t.Fatalf("CS:share: %d %s", r.StatusCode, readBody(t, r))
		}
		ep.Wait(t, 5*time.Second, "share change", func(ms []pushtest.Message) bool {
			for _, m := range ms {
				if m.Topic == svc.Topic(personal) && m.Property {
					return true
				}
			}
			return false
		})

		// PROPPATCH is a property-update, sent to those who asked (the
		// registration on personal) and to nobody else.
		before := len(bep.Messages())
		if r := e.do(request{method: "PROPPATCH", path: "/dav/calendars/alice/personal/",
			body: `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Renamed</D:displayname></D:prop></D:set></D:propertyupdate>`}); r.StatusCode != 207 {
			t.Fatalf("PROPPATCH: %d", r.StatusCode)
		}
		n0 := len(ep.Messages())
		ep.Wait(t, 5*time.Second, "PROPPATCH", func(ms []pushtest.Message) bool {
			for _, m := range ms[n0:] {
				if m.Topic == svc.Topic(personal) && m.Property {
					return true
				}
			}
			return false
		})
		if got := len(bep.Messages()); got != before {
			t.Fatalf("bob, who asked for content updates only, got %d messages for a PROPPATCH", got-before)
		}

		// Scheduling: alice invites bob; the request lands in bob's inbox.
		iep := pushtest.New(t)
		e.register("bob", bobPassword, "/dav/inbox/bob/inbox/", iep, false)
		put("/dav/calendars/alice/personal/meet.ics", meeting("meet-1", "20260110T100000Z", "", "bob@example.org"))
		itok, inbox := e.token("bob", store.KindInbox, "inbox")
		if strings.HasSuffix(itok, "/0") {
			t.Fatal("nothing was delivered into bob's inbox")
		}
		pushed(t, iep, "scheduling delivery", svc.Topic(inbox), itok)
		// Alice's own message for meet.ics is delivered asynchronously;
		// wait for it, so it cannot arrive after the unregistration below.
		mtok, _ := e.token("alice", store.KindCalendar, "personal")
		pushed(t, ep, "PUT of the invitation", svc.Topic(personal), mtok)

		// No message ever holds event data.
		for _, m := range append(ep.Messages(), bep.Messages()...) {
			if strings.Contains(m.Plaintext, "VEVENT") || strings.Contains(m.Plaintext, "shared") {
				t.Fatalf("payload leaks data: %s", m.Plaintext)
			}
		}

		// Unregistering stops the messages.
		if r := e.do(request{method: "DELETE", path: reg, user: "bob", password: bobPassword}); r.StatusCode != 404 {
			t.Fatalf("bob DELETEs alice's registration: %d", r.StatusCode)
		}
		if r := e.do(request{method: "DELETE", path: reg}); r.StatusCode != 204 {
			t.Fatalf("DELETE registration: %d", r.StatusCode)
		}
		n := len(ep.Messages())
		put("/dav/calendars/alice/personal/z.ics", fmt.Sprintf(sharedEvent, "z", "after"))
		tok, _ = e.token("alice", store.KindCalendar, "personal")
		pushed(t, bep, "PUT after alice unregistered (bob still)", svc.Topic(personal), tok)
		time.Sleep(200 * time.Millisecond)
		for _, m := range ep.Messages()[n:] {
			if m.Topic == svc.Topic(personal) && m.SyncToken != mtok {
				t.Fatalf("message after unregistering: %+v", m)
			}
		}
		if got := svc.Stats.Sent.Load(); got == 0 {
			t.Fatal("sent counter is zero")
		}
	})
}
