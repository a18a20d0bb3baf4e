package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"howett.net/plist"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// One Chromium serves every browser test of this binary: starting it costs
// about a second, a tab (in its own browser context, so cookies never mix)
// costs milliseconds.
var chrome struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	dir    string
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if chrome.cancel != nil {
		chrome.cancel()
		for range 50 { // the browser's children may still write for a moment
			if os.RemoveAll(chrome.dir) == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	os.Exit(code)
}

// findChromium returns Debian's chromium (or another Chrome) on PATH.
func findChromium() string {
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// browserTab opens a tab with its own cookies in the shared browser. With
// no Chromium installed the test skips loudly, or fails when
// DAVENPORT_REQUIRE_BROWSER=1 (scripts/test.sh sets it, as CI must not skip).
func browserTab(t *testing.T) context.Context {
	t.Helper()
	chrome.once.Do(func() {
		path := findChromium()
		if path == "" {
			chrome.err = fmt.Errorf("no chromium on PATH (apt-get install chromium)")
			return
		}
		chrome.dir, chrome.err = os.MkdirTemp("", "davenport-chromium-")
		if chrome.err != nil {
			return
		}
		actx, acancel := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(path),
			chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.Flag("force-color-profile", "srgb"),
			chromedp.UserDataDir(chrome.dir),
		)
		bctx, bcancel := chromedp.NewContext(actx)
		if err := chromedp.Do(bctx); err != nil {
			chrome.err = err
			bcancel()
			acancel()
			return
		}
		chrome.ctx, chrome.cancel = bctx, func() { bcancel(); acancel() }
	})
	if chrome.err != nil {
		if os.Getenv("DAVENPORT_REQUIRE_BROWSER") == "1" {
			t.Fatalf("browser tests need Chromium: %v", chrome.err)
		}
		t.Skipf("SKIPPING browser tests: %v", chrome.err)
	}
	ctx, cancel := chromedp.NewContext(chrome.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	limit := 3 * time.Minute
	if os.Getenv("DAVENPORT_SCREENSHOTS") == "1" {
		limit = 10 * time.Minute
	}
	ctx, cancel2 := context.WithTimeout(ctx, limit)
	t.Cleanup(cancel2)
	// Open the tab now, on this context: a tab opened by a first action
	// run on a shorter-lived child context would close with that child.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// page drives one tab against one server.
type page struct {
	t   *testing.T
	ctx context.Context
	e   *env
}

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("at %s: %v", p.location(), err)
	}
}

// open loads path and returns the HTTP status of the document.
func (p *page) open(path string) int64 {
	p.t.Helper()
	resp, err := chromedp.Run(p.ctx, chromedp.NavigateResponse(p.e.srv.URL+path))
	if err != nil {
		p.t.Fatalf("open %s: %v", path, err)
	}
	return resp.Status
}

// submit clicks sel, waits for the page it leads to and returns its status.
func (p *page) submit(sel string) int64 {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel, chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("click %s at %s: %v", sel, p.location(), err)
	}
	return resp.Status
}

func (p *page) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(sel, chromedp.NodeVisible))
	if err != nil {
		html, _ := chromedp.Run(p.ctx, chromedp.OuterHTML("html"))
		p.t.Fatalf("text of %s: %v\nat %s:\n%s", sel, err, p.location(), html)
	}
	return strings.TrimSpace(s)
}

func (p *page) location() string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

// fetch makes a request with the tab's cookies, as a download would.
func (p *page) fetch(method, path string, form url.Values) (*http.Response, []byte) {
	p.t.Helper()
	res, err := chromedp.Call(p.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{p.e.srv.URL}})
	if err != nil {
		p.t.Fatal(err)
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, p.e.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range res.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (p *page) signIn(user, pw string) {
	p.t.Helper()
	if code := p.open("/"); code != 200 {
		p.t.Fatalf("GET / = %d", code)
	}
	p.do(chromedp.SendKeys("#username", user), chromedp.SendKeys("#password", pw))
	if code := p.submit("#signin"); code != 200 {
		p.t.Fatalf("sign in as %s: %d", user, code)
	}
	if got := p.text("h1"); got != "Calendars and address books" {
		p.t.Fatalf("after sign-in the page says %q", got)
	}
}

// davStatus answers a PROPFIND of user's principal with Basic credentials.
func (e *env) davStatus(user, pw string) int {
	resp := e.do(request{method: "PROPFIND", path: "/dav/principals/" + user + "/", user: user, password: pw, header: map[string]string{"Depth": "0"}})
	return resp.StatusCode
}

// axe holds axe-core's source, read once per test binary from the file
// DAVENPORT_AXE names (scripts/test.sh sets it) or that scripts/axe.sh
// fetches with npm.
var axe struct {
	once sync.Once
	src  string
	err  error
}

// axeSource returns axe-core's source. Without it the test skips loudly, or
// fails when DAVENPORT_REQUIRE_BROWSER=1: CI must not skip the check.
func axeSource(t *testing.T) string {
	t.Helper()
	axe.once.Do(func() {
		path := os.Getenv("DAVENPORT_AXE")
		if path == "" {
			out, err := exec.Command(filepath.Join("..", "scripts", "axe.sh")).Output()
			if err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					err = fmt.Errorf("%v: %s", err, ee.Stderr)
				}
				axe.err = fmt.Errorf("scripts/axe.sh could not fetch axe-core from npm: %w", err)
				return
			}
			path = strings.TrimSpace(string(out))
		}
		b, err := os.ReadFile(path)
		axe.src, axe.err = string(b), err
	})
	if axe.err != nil {
		if os.Getenv("DAVENPORT_REQUIRE_BROWSER") == "1" {
			t.Fatalf("the accessibility check needs axe-core: %v", axe.err)
		}
		t.Skipf("SKIPPING the accessibility check: %v", axe.err)
	}
	return axe.src
}

// axeViolation is one rule a page breaks, as axe-core reports it.
type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// checkA11y runs axe-core in the page as it is now (WCAG 2.1 A and AA and
// axe's best practices) and fails the test on every violation of serious or
// critical impact; lesser ones are logged. It runs in the SQLite subtest
// only: the pages do not depend on the store, and each run costs about a
// second of the two cores CI has.
func (p *page) checkA11y(name string) {
	p.t.Helper()
	p.axe(name, `{type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}`)
}

// checkContrast runs only axe-core's colour-contrast rule: what a change of
// colour scheme can break.
func (p *page) checkContrast(name string) {
	p.t.Helper()
	p.axe(name, `{type: "rule", values: ["color-contrast", "link-in-text-block"]}`)
}

func (p *page) axe(name, runOnly string) {
	p.t.Helper()
	if !strings.HasSuffix(p.t.Name(), "sqlite") {
		return // the pages are the same on both stores; once is enough
	}
	src := axeSource(p.t)
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === "object" || (function () { `+src+`
; return true })()`)); err != nil {
		p.t.Fatalf("axe-core does not load into %s: %v", name, err)
	}
	run := `axe.run(document, {runOnly: ` + runOnly + `, resultTypes: ["violations"]})
		.then(r => JSON.stringify(r.violations.map(v => ({ID: v.id, Impact: v.impact || "", Help: v.help,
			Nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "))}))))`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](run, func(ep *cdpruntime.EvaluateParams) { ep.AwaitPromise = ptrTrue() }))
	if err != nil {
		p.t.Fatalf("axe-core on %s: %v", name, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		p.t.Fatalf("axe-core's answer on %s: %v\n%s", name, err, out)
	}
	for _, v := range vs {
		msg := fmt.Sprintf("%s (%s): axe %s, %s: %s\n\t%s", name, p.location(), v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n\t"))
		if v.Impact == "serious" || v.Impact == "critical" {
			p.t.Error(msg)
		} else {
			p.t.Log(msg)
		}
	}
}

func ptrTrue() *bool { b := true; return &b }

// webImportFile has two good items (a recurring event in a VTIMEZONE whose
// override comes last in the file, and a plain event) and three bad ones.
const webImportFile = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Import//EN\r\nMETHOD:PUBLISH\r\n" +
	"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n" +
	"BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n" +
	"BEGIN:VEVENT\r\nUID:weekly-1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260105T090000\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=10\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:plain-2\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260110T100000Z\r\nDTEND:20260110T110000Z\r\nSUMMARY:Plain\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:bad-date\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:not-a-date\r\nSUMMARY:Broken\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260111T100000Z\r\nSUMMARY:No UID\r\nEND:VEVENT\r\n" +
	"BEGIN:VTODO\r\nUID:task-3\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:A task in an events-only calendar\r\nEND:VTODO\r\n" +
	"BEGIN:VEVENT\r\nUID:weekly-1\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260112T090000\r\nDTSTART;TZID=Europe/Berlin:20260112T100000\r\nDURATION:PT1H\r\nSUMMARY:Weekly, moved\r\nEND:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

var reComponent = regexp.MustCompile(`(?s)BEGIN:(VEVENT|VTIMEZONE)\r\n.*?END:(VEVENT|VTIMEZONE)\r\n`)

// components returns the sorted VEVENT and VTIMEZONE blocks of an iCalendar
// text, for comparing an export with what went in.
func components(s string) []string {
	all := reComponent.FindAllString(s, -1)
	sort.Strings(all)
	return all
}

// TestWebBrowser drives the UI in Chromium, as a person would, on both stores.
func TestWebBrowser(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ctx := t.Context()
		alice, _ := st.GetUser(ctx, "alice")
		if err := st.SetUserAdmin(ctx, alice.ID, true); err != nil {
			t.Fatal(err)
		}
		p := &page{t: t, ctx: browserTab(t), e: e}
		p.signIn("alice", alicePassword)
		p.checkA11y("home")
		port := e.srv.Listener.Addr().(interface{ String() string }).String()
		port = port[strings.LastIndex(port, ":")+1:]

		// Create a calendar for events only.
		p.do(chromedp.SendKeys("#new-name", "Team"), chromedp.Click(`input[name=components][value=VTODO]`))
		if code := p.submit("#create"); code != 200 || p.location() != "/web/c/calendars/team?done=created" {
			t.Fatalf("create calendar: %d at %s", code, p.location())
		}
		if got := p.text("#count"); got != "0" {
			t.Errorf("new calendar count = %q", got)
		}
		p.checkA11y("collection")

		// Import a file with good and bad items.
		file := filepath.Join(t.TempDir(), "mixed.ics")
		os.WriteFile(file, []byte(webImportFile), 0o644)
		p.do(chromedp.SetUploadFiles("#import-file", []string{file}))
		if code := p.submit("#import"); code != 200 {
			t.Fatalf("import: %d", code)
		}
		for sel, want := range map[string]string{"#created": "2", "#updated": "0", "#skipped": "0", "#rejected": "3"} {
			if got := p.text(sel); got != want {
				t.Errorf("import result %s = %s, want %s", sel, got, want)
			}
		}
		rej := p.text("#rejected-list")
		for _, want := range []string{"bad-date", "(no UID)", "task-3", "supported-calendar-component"} {
			if !strings.Contains(rej, want) {
				t.Errorf("rejected list lacks %q:\n%s", want, rej)
			}
		}
		p.checkA11y("import result")
		p.open("/web/c/calendars/team")
		if got := p.text("#count"); got != "2" {
			t.Errorf("count after import = %s, want 2", got)
		}
		if got := p.text("#lost"); got != "2 events" {
			t.Errorf("delete confirmation names %q, want 2 events", got)
		}

		// The same file again, skipping existing UIDs.
		p.do(chromedp.Click(`input[name=mode][value=skip]`), chromedp.SetUploadFiles("#import-file", []string{file}))
		p.submit("#import")
		if c, s := p.text("#created"), p.text("#skipped"); c != "0" || s != "2" {
			t.Errorf("second import: created %s skipped %s, want 0 and 2", c, s)
		}

		// Export, and compare with what went in.
		resp, body := p.fetch("GET", "/web/c/calendars/team/export", nil)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), `filename=team.ics`) {
			t.Fatalf("export = %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
		}
		good := strings.Join([]string{webImportFile[strings.Index(webImportFile, "BEGIN:VTIMEZONE"):strings.Index(webImportFile, "BEGIN:VEVENT\r\nUID:bad-date")],
			webImportFile[strings.Index(webImportFile, "BEGIN:VEVENT\r\nUID:weekly-1\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID"):]}, "")
		if got, want := components(string(body)), components(good); strings.Join(got, "") != strings.Join(want, "") {
			t.Errorf("export differs from the good items of the import:\n%s\nwant components:\n%s", body, strings.Join(want, ""))
		}
		if !strings.HasPrefix(string(body), "BEGIN:VCALENDAR\r\n") || strings.Count(string(body), "BEGIN:VTIMEZONE") != 1 {
			t.Errorf("export is not one VCALENDAR with the zone once:\n%s", body)
		}

		// Share the calendar with bob, found by name, read-write; bob
		// accepts the invitation on his "Shared with me" page.
		p.open("/web/c/calendars/team")
		p.submit("#share")
		p.do(chromedp.SendKeys("#share-q", "bo"))
		p.submit("#find")
		p.checkA11y("share dialog")
		p.do(chromedp.SetValue("#access-user-bob", "read-write"))
		p.submit("#matches button")
		if got := p.text("#sharees"); !strings.Contains(got, "Bob") || !strings.Contains(got, "Can edit") || !strings.Contains(got, "Invited, no answer yet") {
			t.Errorf("sharees after sharing with bob: %q", got)
		}
		b := &page{t: t, ctx: browserTab(t), e: e}
		b.open("/")
		b.checkA11y("sign-in")
		b.signIn("bob", bobPassword)
		b.open("/web/shared")
		b.checkA11y("shared with me")
		b.submit(`#invitations button[value=accepted]`)
		if got := b.text("#shared"); !strings.Contains(got, "Team") || !strings.Contains(got, "/dav/calendars/bob/shared-") {
			t.Errorf("bob's shared collections after accepting: %q", got)
		}
		p.open("/web/c/calendars/team/share")
		if got := p.text("#sharees"); !strings.Contains(got, "Accepted") {
			t.Errorf("sharees after bob accepted: %q", got)
		}

		// Public links of the calendar: create two, revoke one; the other
		// serves the calendar to anybody.
		p.open("/web/c/calendars/team")
		p.submit("#links")
		if got := p.text("#no-links"); !strings.Contains(got, "no public link") {
			t.Errorf("links page before any: %q", got)
		}
		p.submit("#create-link")
		p.submit("#create-link")
		p.checkA11y("public links")
		p.submit(`#links li:first-child form button`)
		links, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#links code")].map(c => c.textContent)`))
		if err != nil || len(links) != 1 || !strings.Contains(links[0], "/public/") {
			t.Fatalf("links after creating two and revoking one: %q %v", links, err)
		}
		if resp := e.do(request{method: "GET", path: links[0][strings.Index(links[0], "/public/"):], anonymous: true}); resp.StatusCode != http.StatusOK {
			t.Errorf("GET the public link = %d, want 200", resp.StatusCode)
		}
		// Delegation: bob, found by name, may edit alice's calendars; only
		// her delegates see when she is busy.
		p.open("/web/account")
		p.submit("#delegates-link")
		p.do(chromedp.SendKeys("#delegate-q", "bo"))
		p.submit("#find")
		p.checkA11y("delegates search")
		p.do(chromedp.SetValue("#access-user-bob", "read-write"))
		p.submit("#matches button")
		if got := p.text("#grants"); !strings.Contains(got, "Bob") || !strings.Contains(got, "Sees and edits all calendars") {
			t.Errorf("delegates after adding bob: %q", got)
		}
		p.do(chromedp.Click(`input[name=everyone][value=no]`))
		p.submit("#save-free-busy")
		if on, _ := st.FreeBusyEveryone(ctx, alice.ID); on {
			t.Errorf("free/busy for everyone still on after the form")
		}
		p.checkA11y("delegates")
		// The Birthdays calendar: off, and on again.
		p.open("/web/account")
		if got := p.text("#birthdays-state"); got != "On" {
			t.Errorf("birthdays state = %q, want On", got)
		}
		p.submit("#birthdays-toggle")
		if got := p.text("#birthdays-state"); got != "Off" {
			t.Errorf("birthdays state after turning it off = %q", got)
		}
		if on, _ := store.BirthdaysOn(ctx, st, alice.ID); on {
			t.Errorf("the Birthdays calendar is still there")
		}
		p.submit("#birthdays-toggle")
		if on, _ := store.BirthdaysOn(ctx, st, alice.ID); !on {
			t.Errorf("the Birthdays calendar did not come back")
		}

		// A broken client rewrites an event: its history shows the change,
		// and one click puts it back.
		team, _ := st.GetCollection(ctx, alice.ID, store.KindCalendar, "team")
		plain, err := st.GetObject(ctx, team.ID, "plain-2.ics")
		if err != nil {
			t.Fatal(err)
		}
		broken := map[string]string{"User-Agent": "BrokenSync/2.0"}
		wrecked := strings.Replace(string(plain.Body), "SUMMARY:Plain", "SUMMARY:Wrecked", 1)
		if resp := e.put("alice", alicePassword, "/dav/calendars/alice/team/plain-2.ics", wrecked, broken); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("BrokenSync PUT = %d", resp.StatusCode)
		}
		p.open("/web/c/calendars/team/history")
		p.checkA11y("collection history")
		p.submit(`#changes a[href$="/plain-2.ics"]`)
		p.checkA11y("item history")
		if got := p.text("table.diff"); !strings.Contains(got, "SUMMARY") || !strings.Contains(got, "Plain") || !strings.Contains(got, "Wrecked") {
			t.Errorf("the newest change's diff = %q", got)
		}
		p.submit(".version form button")
		if got, _ := st.GetObject(ctx, team.ID, "plain-2.ics"); got == nil || string(got.Body) != string(plain.Body) {
			t.Errorf("plain-2.ics after the restore is not as before")
		}
		// Undo everything the client did in the last hour.
		e.put("alice", alicePassword, "/dav/calendars/alice/team/plain-2.ics", wrecked, broken)
		if resp := e.do(request{method: "DELETE", path: "/dav/calendars/alice/team/weekly-1.ics", header: broken}); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("BrokenSync DELETE = %d", resp.StatusCode)
		}
		p.open("/web/history")
		p.checkA11y("history")
		p.submit(`form:has(input[value="BrokenSync/2.0"]) button`)
		if got := p.text("#reverted"); !strings.Contains(got, "plain-2.ics restored") || !strings.Contains(got, "weekly-1.ics restored") {
			t.Errorf("undo list = %q", got)
		}
		p.open("/web/c/calendars/team")
		if got := p.text("#count"); got != "2" {
			t.Errorf("count after undoing BrokenSync = %s, want 2", got)
		}

		// An app password, used by a CalDAV client, then revoked.
		p.open("/web/account")
		p.do(chromedp.SendKeys("#label", "Phone"))
		p.submit("#create-app-password")
		appPW := p.text("#new-app-password")
		p.checkA11y("account")
		// On a phone's width the table stacks and no date breaks over
		// lines.
		p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		dates, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](`(() => { const ds = [...document.querySelectorAll("#app-passwords .date")];
			return ds.length > 0 && ds.every(d => d.getClientRects().length === 1) ? ds.length : -1 })()`))
		if err != nil || dates <= 0 {
			t.Errorf("app password dates on a phone's width: %d %v (want every one on one line)", dates, err)
		}
		p.checkA11y("account (phone)")
		p.do(chromedp.EmulateViewport(1280, 860))
		if code := e.davStatus("alice", appPW); code != http.StatusMultiStatus {
			t.Errorf("PROPFIND with the new app password = %d, want 207", code)
		}
		p.open("/web/account")
		if row := p.text("#app-passwords tbody tr"); !strings.Contains(row, "Phone") || strings.Contains(row, "never") {
			t.Errorf("app password row after use = %q, want Phone with a last-used time", row)
		}
		p.submit("#app-passwords button")
		if code := e.davStatus("alice", appPW); code != http.StatusUnauthorized {
			t.Errorf("PROPFIND with the revoked app password = %d, want 401", code)
		}

		// Connect a device: the QR code and the Apple profile.
		p.open("/web/connect")
		wantURI := "caldav://alice@127.0.0.1:" + port + "/dav/"
		if got := p.text("#davx5-uri"); got != wantURI {
			t.Errorf("DAVx5 URI on the page = %q, want %q", got, wantURI)
		}
		shot, err := chromedp.Run(p.ctx, chromedp.Screenshot("#qr", chromedp.NodeVisible))
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeQR(t, shot); got != wantURI {
			t.Errorf("QR code decodes to %q, want %q", got, wantURI)
		}
		p.checkA11y("connect")
		resp, body = p.fetch("GET", "/web/connect/davenport.mobileconfig", nil)
		checkProfile(t, resp, body, port, "")
		csrf, err := chromedp.Run(p.ctx, chromedp.Value(`input[name=csrf]`))
		if err != nil {
			t.Fatal(err)
		}
		resp, body = p.fetch("POST", "/web/connect/davenport.mobileconfig", url.Values{"csrf": {csrf}})
		profilePW := checkProfile(t, resp, body, port, "with password")
		if code := e.davStatus("alice", profilePW); code != http.StatusMultiStatus {
			t.Errorf("PROPFIND with the profile's app password = %d, want 207", code)
		}
		if resp, _ := p.fetch("POST", "/web/connect/davenport.mobileconfig", url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("profile POST without CSRF token = %d, want 403", resp.StatusCode)
		}

		// Admin: create a user, then delete them by typing the name.
		p.open("/web/admin")
		p.do(chromedp.SendKeys("#nu-name", "carol"))
		p.submit("#create-user")
		carolPW := p.text("#new-user-password")
		p.checkA11y("admin")
		// A group, with bob in it.
		p.open("/web/admin/groups")
		p.do(chromedp.SendKeys("#ng-name", "family"), chromedp.SendKeys("#ng-display", "The Family"))
		p.submit("#create-group")
		p.do(chromedp.SendKeys("#add-family", "bob"))
		p.submit("#add-member-family")
		if got := p.text("#members-family"); !strings.Contains(got, "bob") {
			t.Errorf("family's members = %q, want bob", got)
		}
		p.checkA11y("groups")
		p.open("/web/admin")
		if code := e.davStatus("carol", carolPW); code != http.StatusMultiStatus {
			t.Errorf("carol's generated password = %d, want 207", code)
		}
		p.checkPhoneWidth()
		if e.shots() {
			p.screenshots(t)
		}
		p.open("/web/admin")
		carol, err := st.GetUser(ctx, "carol")
		if err != nil {
			t.Fatal(err)
		}
		confirm := fmt.Sprintf("#confirm-%d", carol.ID)
		p.do(chromedp.Click(fmt.Sprintf("tr:has(%s) summary", confirm)), chromedp.SendKeys(confirm, "carol"))
		p.submit(fmt.Sprintf("form:has(%s) button", confirm))
		if _, err := st.GetUser(ctx, "carol"); err == nil {
			t.Error("carol still exists after the admin deleted her")
		}

		// Change password: the wrong current one changes nothing.
		p.open("/web/account")
		p.do(chromedp.SendKeys("#current", "not my password"), chromedp.SendKeys("#new", "a new passphrase"), chromedp.SendKeys("#again", "a new passphrase"))
		if code := p.submit("#change-password"); code != http.StatusForbidden || !strings.Contains(p.text("#error"), "current password is wrong") {
			t.Errorf("change with a wrong current password: %d", code)
		}
		p.checkA11y("account with an error")
		p.do(chromedp.SendKeys("#current", alicePassword), chromedp.SendKeys("#new", "a new passphrase"), chromedp.SendKeys("#again", "a new passphrase"))
		p.submit("#change-password")
		if code := e.davStatus("alice", "a new passphrase"); code != http.StatusMultiStatus {
			t.Errorf("PROPFIND with the new password = %d", code)
		}
		if code := e.davStatus("alice", alicePassword); code != http.StatusUnauthorized {
			t.Errorf("PROPFIND with the old password = %d, want 401", code)
		}

		// Bob cannot reach alice's pages.
		for _, path := range []string{"/web/c/calendars/team", "/web/c/calendars/team/export", "/web/admin"} {
			if code := b.open(path); code != http.StatusNotFound && code != http.StatusForbidden {
				t.Errorf("bob opening %s = %d, want 404 or 403", path, code)
			}
		}
		b.checkA11y("refusal")
		p.open("/web/admin/status")
		p.checkA11y("status")

		// Dark mode has its own colours: every page's contrast again, in
		// the dark (on one store: the pages are the same on both).
		if strings.HasSuffix(t.Name(), "sqlite") {
			for _, q := range []*page{p, b} {
				if _, err := chromedp.Call(q.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
				}); err != nil {
					t.Fatal(err)
				}
			}
			for _, path := range []string{"/web/", "/web/c/calendars/team", "/web/c/calendars/team/share?q=bo",
				"/web/c/calendars/team/history", "/web/c/calendars/team/items/plain-2.ics", "/web/history",
				"/web/account", "/web/connect", "/web/admin", "/web/admin/groups", "/web/admin/status", "/web/nothing-here",
				"/web/c/calendars/team/links", "/web/delegates?q=bo"} {
				p.open(path)
				p.checkContrast(path + " (dark)")
			}
			b.open("/web/shared")
			b.checkContrast("/web/shared (dark)")
		}
	})
}

func decodeQR(t *testing.T, pngData []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("QR code does not decode: %v", err)
	}
	return res.GetText()
}

// checkProfile parses an Apple configuration profile and checks its two
// account payloads; it returns the password in it ("" when want says none).
func checkProfile(t *testing.T, resp *http.Response, body []byte, port, want string) string {
	t.Helper()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-apple-aspen-config" {
		t.Fatalf("profile %s: %d %s", want, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var prof struct {
		PayloadType    string
		PayloadVersion int
		PayloadUUID    string
		PayloadContent []map[string]any
	}
	if _, err := plist.Unmarshal(body, &prof); err != nil {
		t.Fatalf("profile is not a plist: %v\n%s", err, body)
	}
	if prof.PayloadType != "Configuration" || prof.PayloadVersion != 1 || prof.PayloadUUID == "" || len(prof.PayloadContent) != 2 {
		t.Fatalf("profile = %+v", prof)
	}
	var pw string
	for i, pre := range []string{"CalDAV", "CardDAV"} {
		pl := prof.PayloadContent[i]
		wantType := "com.apple." + strings.ToLower(pre) + ".account"
		if pl["PayloadType"] != wantType || pl[pre+"HostName"] != "127.0.0.1" || fmt.Sprint(pl[pre+"Port"]) != port ||
			pl[pre+"PrincipalURL"] != "/dav/principals/alice/" || pl[pre+"UseSSL"] != false || pl[pre+"Username"] != "alice" {
			t.Errorf("profile payload %d = %v", i, pl)
		}
		p, has := pl[pre+"Password"].(string)
		if has != (want != "") {
			t.Errorf("profile %q: payload %s has password %v", want, pre, has)
		}
		pw = p
	}
	return pw
}

// signedInPages are the pages a signed-in administrator sees, as the
// browser test leaves them (with the team calendar and plain-2.ics).
var signedInPages = []struct{ name, path string }{
	{"home", "/web/"}, {"collection", "/web/c/calendars/team"}, {"connect", "/web/connect"},
	{"admin", "/web/admin"}, {"status", "/web/admin/status"},
	{"share", "/web/c/calendars/team/share?q=bo"}, {"shared", "/web/shared"},
	{"collection-history", "/web/c/calendars/team/history"},
	{"item-history", "/web/c/calendars/team/items/plain-2.ics"}, {"history", "/web/history"},
	{"groups", "/web/admin/groups"},
	{"links", "/web/c/calendars/team/links"}, {"delegates", "/web/delegates?q=bo"},
}

// checkPhoneWidth opens every signed-in page at a phone's width and fails
// on anything cut off: a page wider than the screen, or a table scrolling
// sideways inside its frame (where its last column is out of sight).
func (p *page) checkPhoneWidth() {
	p.t.Helper()
	p.checkPhoneWidthOf(append(signedInPages, struct{ name, path string }{"account", "/web/account"})...)
}

// checkPhoneWidthOf is checkPhoneWidth for the pages given.
func (p *page) checkPhoneWidthOf(pages ...struct{ name, path string }) {
	p.t.Helper()
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	defer p.do(chromedp.EmulateViewport(1280, 860))
	for _, pg := range pages {
		p.open(pg.path)
		wide, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".table-wrap")]
			.filter(w => w.scrollWidth > w.clientWidth + 1).map(w => "table#" + (w.querySelector("table") || w).id)
			.concat(document.documentElement.scrollWidth > innerWidth + 1 ? ["the page"] : [])`))
		if err != nil || len(wide) > 0 {
			p.t.Errorf("%s at a phone's width: %v overflow sideways %v", pg.name, wide, err)
		}
	}
}

func (e *env) shots() bool {
	return os.Getenv("DAVENPORT_SCREENSHOTS") == "1" && strings.HasSuffix(e.t.Name(), "sqlite")
}

// screenshots writes every page at desktop and phone width, light and
// dark, into docs/screenshots (only with DAVENPORT_SCREENSHOTS=1).
func (p *page) screenshots(t *testing.T) {
	dir := filepath.Join("..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Something on every page: an invitation and an accepted share from
	// bob, and a deleted calendar in the trash.
	st, ctx := p.e.st, t.Context()
	alice, _ := st.GetUser(ctx, "alice")
	bob, _ := st.GetUser(ctx, "bob")
	bobCal, _ := st.GetCollection(ctx, bob.ID, store.KindCalendar, "personal")
	bobBook, _ := st.GetCollection(ctx, bob.ID, store.KindAddressBook, "contacts")
	old := &store.Collection{OwnerID: alice.ID, Kind: store.KindCalendar, Name: "old-projects", DisplayName: "Old projects", Components: []string{"VEVENT"}}
	for _, err := range []error{
		st.PutShare(ctx, &store.Share{CollectionID: bobCal.ID, UserID: alice.ID, Access: store.AccessRead}),
		st.PutShare(ctx, &store.Share{CollectionID: bobBook.ID, UserID: alice.ID, Access: store.AccessReadWrite, Status: store.ShareAccepted}),
		st.CreateCollection(ctx, old),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteCollection(ctx, alice.ID, old.ID); err != nil {
		t.Fatal(err)
	}
	signedOut := &page{t: t, ctx: browserTab(t), e: p.e}
	file := filepath.Join(t.TempDir(), "mixed.ics")
	os.WriteFile(file, []byte(webImportFile), 0o644)
	for _, v := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 860, false}, {"phone", 390, 844, true}} {
		for _, scheme := range []string{"light", "dark"} {
			setup := func(q *page) {
				opts := []chromedp.EmulateViewportOption{}
				if v.mobile {
					opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
				}
				q.do(chromedp.EmulateViewport(v.width, v.height, opts...))
				if _, err := chromedp.Call(q.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
				}); err != nil {
					t.Fatal(err)
				}
			}
			shoot := func(q *page, name string) {
				buf, err := chromedp.Run(q.ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name+"-"+v.name+"-"+scheme+".png"), buf, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			setup(signedOut)
			signedOut.open("/")
			shoot(signedOut, "signin")
			setup(p)
			for _, pg := range signedInPages {
				p.open(pg.path)
				shoot(p, pg.name)
			}
			p.open("/web/c/calendars/team")
			p.do(chromedp.SetUploadFiles("#import-file", []string{file}))
			p.submit("#import")
			shoot(p, "import-result")
			p.open("/web/account")
			p.do(chromedp.SendKeys("#label", "Laptop ("+v.name+", "+scheme+")"))
			p.submit("#create-app-password")
			shoot(p, "account")
		}
	}
	p.do(chromedp.EmulateViewport(1280, 860))
	if _, err := chromedp.Call(p.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
}
