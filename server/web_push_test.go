package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/davenport-dav/davenport/push"
	"github.com/davenport-dav/davenport/push/pushtest"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

const davx5Agent = "DAVx5/4.4.3.1-ose (2024/10/09; dav4jvm; okhttp/4.12.0) Android/14"

// registerAs push-registers ep on path as user with a User-Agent, and
// returns the registration's id.
func (e *env) registerAs(user, pw, path, agent string, ep *pushtest.Endpoint, resource string) int64 {
	e.t.Helper()
	r := e.do(request{method: "POST", path: path, user: user, password: pw,
		header: map[string]string{"Content-Type": "application/xml", "User-Agent": agent},
		body:   pushRegister(resource, ep.PublicKey(), ep.AuthSecret(), "", false)})
	if r.StatusCode != http.StatusCreated {
		e.t.Fatalf("push-register %s as %s: %d %s", path, user, r.StatusCode, readBody(e.t, r))
	}
	var id int64
	if _, err := fmt.Sscanf(r.Header.Get("Location"), "/dav/push/%d", &id); err != nil {
		e.t.Fatalf("Location %q: %v", r.Header.Get("Location"), err)
	}
	return id
}

// TestWebPushDevices: the Push devices page lists the user's own push
// registrations (device, collection, dates, failures) and nobody else's;
// revoking needs the CSRF token, removes exactly that registration, and
// another user's registration is not found (404) and stays.
func TestWebPushDevices(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		svc := newPushService(t, st, push.Config{})
		e := newEnv(t, st, func(c *server.Config) { c.Push = svc })
		ep := pushtest.New(t)
		phone := e.registerAs("alice", alicePassword, "/dav/calendars/alice/personal/", davx5Agent, ep, ep.URL+"/phone")
		e.registerAs("alice", alicePassword, "/dav/addressbooks/alice/contacts/", davx5Agent, ep, ep.URL+"/phone-contacts")
		bobs := e.registerAs("bob", bobPassword, "/dav/calendars/bob/personal/", "BobsSecretDevice/1.0", ep, ep.URL+"/bob")

		alice := e.browser(t)
		alice.signIn("alice", alicePassword)
		code, body, _ := alice.get("/web/push")
		if code != http.StatusOK {
			t.Fatalf("GET /web/push = %d", code)
		}
		for _, want := range []string{"DAVx5/4.4.3.1-ose", "(calendar)", "(address book)", `id="revoke-push-`, "never"} {
			if !strings.Contains(body, want) {
				t.Errorf("push page lacks %q", want)
			}
		}
		if strings.Contains(body, "BobsSecretDevice") || strings.Contains(body, fmt.Sprintf("push-%d", bobs)) {
			t.Error("alice's push page shows bob's registration")
		}
		if n := strings.Count(body, `<tr id="push-`); n != 2 {
			t.Errorf("alice's push page lists %d registrations, want 2", n)
		}

		count := func(user string) int {
			u, _ := st.GetUser(t.Context(), user)
			rs, err := st.ListPushRegistrations(t.Context(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return len(rs)
		}
		revoke := fmt.Sprintf("/web/push/%d/revoke", phone)
		for _, csrf := range []string{"", "forged-token-forged-token-forged"} {
			if code, _, _ := alice.post(revoke, url.Values{"csrf": {csrf}}); code != http.StatusForbidden {
				t.Errorf("revoke with CSRF token %q = %d, want 403", csrf, code)
			}
		}
		if n := count("alice"); n != 2 {
			t.Fatalf("alice has %d registrations after refused revokes, want 2", n)
		}
		alice.get("/web/push")
		if code, _, _ := alice.post(fmt.Sprintf("/web/push/%d/revoke", bobs), url.Values{}); code != http.StatusNotFound {
			t.Errorf("alice revoking bob's registration = %d, want 404", code)
		}
		if n := count("bob"); n != 1 {
			t.Fatalf("bob has %d registrations after alice's attempt, want 1", n)
		}
		alice.get("/web/push")
		code, _, h := alice.post(revoke, url.Values{})
		if code != http.StatusSeeOther || h.Get("Location") != "/web/push?done=push-revoked" {
			t.Fatalf("revoke = %d %q", code, h.Get("Location"))
		}
		if n := count("alice"); n != 1 {
			t.Fatalf("alice has %d registrations after revoking one, want 1", n)
		}
		if _, body, _ := alice.get("/web/push?done=push-revoked"); !strings.Contains(body, "Push stopped") ||
			strings.Count(body, `<tr id="push-`) != 1 {
			t.Error("the page after revoking does not say so or still lists the registration")
		}
		if code, _, _ := alice.post(revoke, url.Values{}); code != http.StatusNotFound {
			t.Errorf("revoking twice = %d, want 404", code)
		}
	})
}

// TestWebPushBrowser: in a real browser, the Push devices page lists two
// devices, passes the accessibility checks, fits a phone's width, and its
// Revoke button removes the registration it names. With
// DAVENPORT_SCREENSHOTS=1 it writes docs/screenshots/push-*.png.
func TestWebPushBrowser(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		svc := newPushService(t, st, push.Config{})
		e := newEnv(t, st, func(c *server.Config) { c.Push = svc })
		ep := pushtest.New(t)
		ep.Set(500, false) // one device's push service fails: the page shows it
		phone := e.registerAs("alice", alicePassword, "/dav/calendars/alice/personal/", davx5Agent, ep, ep.URL+"/phone")
		e.registerAs("alice", alicePassword, "/dav/addressbooks/alice/contacts/", "DAVx5/4.4.3.1-ose (dav4jvm; okhttp/4.12.0) Android/15 (tablet)", ep, ep.URL+"/tablet")
		e.put("alice", alicePassword, "/dav/calendars/alice/personal/one.ics", fmt.Sprintf(sharedEvent, "one", "x"), nil)
		alice, _ := st.GetUser(t.Context(), "alice")
		for deadline := time.Now().Add(10 * time.Second); ; {
			r, err := st.GetPushRegistration(t.Context(), alice.ID, phone)
			if err != nil {
				t.Fatal(err)
			}
			if r.Failures > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the failing push service was not tried")
			}
			time.Sleep(20 * time.Millisecond)
		}

		p := &page{t: t, ctx: browserTab(t), e: e}
		p.signIn("alice", alicePassword)
		if code := p.open("/web/push"); code != 200 {
			t.Fatalf("GET /web/push = %d", code)
		}
		if got := p.text("#push-registrations"); !strings.Contains(got, "Android/14") || !strings.Contains(got, "push service answered 500") {
			t.Errorf("push table = %q", got)
		}
		p.checkA11y("push")
		p.checkPhoneWidthOf(struct{ name, path string }{"push", "/web/push"})
		if e.shots() {
			pushScreenshots(t, p)
		}
		p.open("/web/push")
		if code := p.submit(fmt.Sprintf("#revoke-push-%d", phone)); code != 200 || p.location() != "/web/push?done=push-revoked" {
			t.Fatalf("revoke: %d at %s", code, p.location())
		}
		if _, err := st.GetPushRegistration(t.Context(), alice.ID, phone); err == nil {
			t.Error("the registration is still there after Revoke")
		}
		if got := p.text("#push-registrations"); strings.Contains(got, "Android/14") || !strings.Contains(got, "tablet") {
			t.Errorf("push table after revoking = %q", got)
		}
		p.checkA11y("push after revoking")
	})
}

// pushScreenshots writes the push page at desktop and phone width, light
// and dark, into docs/screenshots as screenshots does for the others.
func pushScreenshots(t *testing.T, p *page) {
	for _, v := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 860, false}, {"phone", 390, 844, true}} {
		for _, scheme := range []string{"light", "dark"} {
			opts := []chromedp.EmulateViewportOption{}
			if v.mobile {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
			}
			p.do(chromedp.EmulateViewport(v.width, v.height, opts...))
			if _, err := chromedp.Call(p.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			}); err != nil {
				t.Fatal(err)
			}
			p.open("/web/push")
			buf, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", "push-"+v.name+"-"+scheme+".png"), buf, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	p.do(chromedp.EmulateViewport(1280, 860))
	if _, err := chromedp.Call(p.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
}
