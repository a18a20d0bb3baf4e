package server_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// WebDAV class 2 over real HTTP (RFC 4918 §6, §7, §9.10, §9.11, §10.4).

const (
	lockCal  = "/dav/calendars/alice/personal/"
	lockItem = lockCal + "a.ics"
)

func lockBody(scope, owner string) string {
	o := ""
	if owner != "" {
		o = "<D:owner>" + owner + "</D:owner>"
	}
	return `<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:` + scope +
		`/></D:lockscope><D:locktype><D:write/></D:locktype>` + o + `</D:lockinfo>`
}

// lock takes a lock as user (alice when ""), expecting status, and returns
// the token of the Lock-Token header and the body.
func (e *env) lock(user, path, scope, depth, timeout string, want int) (token, body string) {
	e.t.Helper()
	h := map[string]string{"Content-Type": "application/xml"}
	if depth != "" {
		h["Depth"] = depth
	}
	if timeout != "" {
		h["Timeout"] = timeout
	}
	r := request{method: "LOCK", path: path, body: lockBody(scope, `<D:href>mailto:`+cmp(user, "alice")+`@example.org</D:href>`), header: h}
	if user == "bob" {
		r.user, r.password = "bob", bobPassword
	}
	resp := e.do(r)
	body = readBody(e.t, resp)
	if resp.StatusCode != want {
		e.t.Fatalf("LOCK %s (%s, depth %q): status %d, want %d\n%s", path, scope, depth, resp.StatusCode, want, body)
	}
	if want < 300 {
		token = strings.TrimSuffix(strings.TrimPrefix(resp.Header.Get("Lock-Token"), "<"), ">")
		if !strings.HasPrefix(token, "urn:uuid:") || len(token) != len("urn:uuid:")+36 {
			e.t.Fatalf("LOCK %s: Lock-Token %q", path, resp.Header.Get("Lock-Token"))
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
			e.t.Errorf("LOCK: Content-Type %q", ct)
		}
	}
	return token, body
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// status does r and checks the status; it returns the body.
func (e *env) status(what string, r request, want int) string {
	e.t.Helper()
	resp := e.do(r)
	body := readBody(e.t, resp)
	if resp.StatusCode != want {
		e.t.Fatalf("%s: %s %s: status %d, want %d\n%s", what, r.method, r.path, resp.StatusCode, want, body)
	}
	return body
}

func putEvent(path, uid string, header map[string]string) request {
	h := map[string]string{"Content-Type": "text/calendar; charset=utf-8"}
	for k, v := range header {
		h[k] = v
	}
	return request{method: "PUT", path: path, body: fmt.Sprintf(sharedEvent, uid, "Locked "+uid), header: h}
}

func ifHdr(v string) map[string]string { return map[string]string{"If": v} }

// wantCondition checks that body is a DAV:error holding condition name (a
// DAV: element, or a CalDAV one prefixed "C:") with exactly the hrefs
// given.
func wantCondition(t *testing.T, body, name string, hrefs ...string) {
	t.Helper()
	root, err := dav.ParseXML([]byte(body), dav.DefaultLimits)
	if err != nil || root.Name != dav.Name("error") {
		t.Fatalf("not a DAV:error body (%v):\n%s", err, body)
	}
	cond := dav.Name(name)
	if local, ok := strings.CutPrefix(name, "C:"); ok {
		cond = xml.Name{Space: dav.NSCalDAV, Local: local}
	}
	c := root.Child(cond)
	if c == nil {
		t.Fatalf("no DAV:%s in\n%s", name, body)
	}
	var got []string
	for _, h := range c.ChildrenNamed(dav.Name("href")) {
		got = append(got, h.Text)
	}
	if strings.Join(got, " ") != strings.Join(hrefs, " ") {
		t.Errorf("DAV:%s hrefs = %q, want %q", name, got, hrefs)
	}
}

var (
	reLockToken = regexp.MustCompile(`urn:uuid:[0-9a-f-]{36}`)
	reTimeout   = regexp.MustCompile(`Second-\d+`)
)

func canonicalLock(t *testing.T, body string) string {
	s := reLockToken.ReplaceAllString(canonical(t, body), "LOCK-TOKEN")
	return reTimeout.ReplaceAllString(s, "Second-N")
}

// TestLockExclusive: an exclusive lock refuses other locks (423
// no-conflicting-lock) and writes without its token (423
// lock-token-submitted), lets writes with it through, and UNLOCK ends it.
func TestLockExclusive(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.status("create", putEvent(lockItem, "a", nil), 201)
		e.status("create b", putEvent(lockCal+"b.ics", "b", nil), 201)
		tok, body := e.lock("", lockItem, "exclusive", "0", "Second-600", 200)
		golden(t, "locks/lock-response", canonicalLock(t, body))
		if !strings.Contains(body, "Second-600") {
			t.Errorf("LOCK answer does not grant the 600 s asked for:\n%s", body)
		}

		_, body = e.lock("", lockItem, "exclusive", "0", "", 423)
		wantCondition(t, body, "no-conflicting-lock", lockItem)
		_, body = e.lock("", lockItem, "shared", "0", "", 423)
		wantCondition(t, body, "no-conflicting-lock", lockItem)
		_, body = e.lock("", lockCal, "shared", "infinity", "", 423) // would cover it
		wantCondition(t, body, "no-conflicting-lock", lockItem)
		ctok, _ := e.lock("", lockCal, "exclusive", "0", "", 200) // the collection itself, depth 0: no conflict

		// Writes without the token.
		body = e.status("PUT without token", putEvent(lockItem, "a", nil), 423)
		wantCondition(t, body, "lock-token-submitted", lockItem)
		e.status("DELETE without token", request{method: "DELETE", path: lockItem}, 423)
		e.status("MOVE without token", request{method: "MOVE", path: lockItem, header: map[string]string{"Destination": lockCal + "b.ics"}}, 423)
		// The If header is evaluated first (as mod_dav does; litmus's
		// fail_cond_put expects it): a false one is 412 even without a
		// token; a true one without the token is 423.
		e.status("corrupt token", putEvent(lockItem, "a", ifHdr("(<"+tok+"x>)")), 412)
		e.status("corrupt token or no lock", putEvent(lockItem, "a", ifHdr("(<"+tok+"x>) (Not <DAV:no-lock>)")), 423)
		body = e.status("COPY onto it", request{method: "COPY", path: lockCal + "b.ics", header: map[string]string{"Destination": lockItem}}, 423)
		wantCondition(t, body, "lock-token-submitted", lockItem)
		e.status("MOVE onto it", request{method: "MOVE", path: lockCal + "b.ics", header: map[string]string{"Destination": e.srv.URL + lockItem}}, 423)
		e.status("PUT with DAV:no-lock", putEvent(lockItem, "a", ifHdr("(Not <DAV:no-lock>)")), 423)
		// COPY reads its source: no token needed.
		e.status("COPY a locked source", request{method: "COPY", path: lockItem, header: map[string]string{"Destination": lockCal + "copy.ics", "If": ""}}, 423) // the collection's depth-0 lock: a new member
		// With the token.
		e.status("PUT with token", putEvent(lockItem, "a", ifHdr("(<"+tok+">)")), 204)
		// With the token the COPY gets past the lock, to the calendar's own
		// rule: one UID per calendar (RFC 4791 §5.3.2.1).
		body = e.status("COPY onto it with its token", request{method: "COPY", path: lockCal + "b.ics", header: map[string]string{"Destination": lockItem, "If": "<" + lockItem + "> (<" + tok + ">)"}}, 409)
		wantCondition(t, body, "C:no-uid-conflict", lockCal+"b.ics")
		e.status("MOVE b away needs the collection's token", request{method: "MOVE", path: lockCal + "b.ics", header: map[string]string{"Destination": lockCal + "c.ics", "If": "<" + lockCal + "> (<" + ctok + ">)"}}, 201)
		e.status("PUT with token, wrong etag", putEvent(lockItem, "a", ifHdr(`(<`+tok+`> ["0123"])`)), 412)

		// UNLOCK: the right resource and token, or 409.
		body = e.status("UNLOCK wrong token", request{method: "UNLOCK", path: lockItem, header: map[string]string{"Lock-Token": "<urn:uuid:00000000-0000-4000-8000-000000000000>"}}, 409)
		wantCondition(t, body, "lock-token-matches-request-uri")
		e.status("UNLOCK without header", request{method: "UNLOCK", path: lockItem}, 400)
		e.status("UNLOCK", request{method: "UNLOCK", path: lockItem, header: map[string]string{"Lock-Token": "<" + tok + ">"}}, 204)
		e.status("UNLOCK again", request{method: "UNLOCK", path: lockItem, header: map[string]string{"Lock-Token": "<" + tok + ">"}}, 409)
		e.status("PUT after UNLOCK", putEvent(lockItem, "a", nil), 204)
		e.status("PUT with the stale token", putEvent(lockItem, "a", ifHdr("(<"+tok+">)")), 412)
	})
}

// TestLockShared: shared locks coexist, exclude an exclusive one, and any
// one of their tokens lets a write through.
func TestLockShared(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.status("create", putEvent(lockItem, "a", nil), 201)
		t1, _ := e.lock("", lockItem, "shared", "0", "", 200)
		t2, _ := e.lock("", lockItem, "shared", "0", "", 200)
		e.lock("", lockItem, "exclusive", "0", "", 423)
		e.status("PUT without token", putEvent(lockItem, "a", nil), 423)
		e.status("PUT with the second", putEvent(lockItem, "a", ifHdr("(<"+t2+">)")), 204)
		body := e.status("lockdiscovery", request{method: "PROPFIND", path: lockItem, body: propfind("<D:lockdiscovery/>"), header: map[string]string{"Depth": "0"}}, 207)
		if strings.Count(body, "activelock>") != 4 || !strings.Contains(body, t1) || !strings.Contains(body, t2) {
			t.Errorf("lockdiscovery does not show both shared locks:\n%s", body)
		}
	})
}

// TestLockRefresh: a LOCK without a body and with the token in If
// restarts the lock's timeout, also through a member of a collection
// locked with depth infinity; a token that is not there is 412.
func TestLockRefresh(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.status("create", putEvent(lockItem, "a", nil), 201)
		tok, body := e.lock("", lockCal, "exclusive", "infinity", "Second-100", 200)
		if !strings.Contains(body, "<D:timeout>Second-100</D:timeout>") {
			t.Errorf("LOCK answer:\n%s", body)
		}
		refresh := func(path, token, timeout string, want int) string {
			t.Helper()
			return e.status("refresh", request{method: "LOCK", path: path, header: map[string]string{"If": "(<" + token + ">)", "Timeout": timeout}}, want)
		}
		body = refresh(lockCal, tok, "Second-3000", 200)
		if !strings.Contains(body, "<D:timeout>Second-3000</D:timeout>") || !strings.Contains(body, tok) {
			t.Errorf("refresh answer:\n%s", body)
		}
		body = refresh(lockItem, tok, "Infinite", 200) // through a member; capped
		if !strings.Contains(body, fmt.Sprintf("<D:timeout>Second-%d</D:timeout>", int(dav.DefaultMaxLockTimeout.Seconds()))) {
			t.Errorf("indirect refresh answer:\n%s", body)
		}
		refresh(lockCal, "urn:uuid:00000000-0000-4000-8000-000000000000", "Second-10", 412)
		e.status("refresh without If", request{method: "LOCK", path: lockCal}, 400)
		e.status("malformed If", request{method: "LOCK", path: lockCal, header: ifHdr("(<" + tok)}, 400)
	})
}

// TestLockExpiry: a lock past its timeout binds nobody and is not shown;
// the pruning deletes it.
func TestLockExpiry(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.status("create", putEvent(lockItem, "a", nil), 201)
		e.lock("", lockItem, "exclusive", "0", "Second-1", 200)
		e.status("PUT while locked", putEvent(lockItem, "a", nil), 423)
		time.Sleep(1100 * time.Millisecond)
		e.status("PUT after expiry", putEvent(lockItem, "a", nil), 204)
		body := e.status("lockdiscovery", request{method: "PROPFIND", path: lockItem, body: propfind("<D:lockdiscovery/>"), header: map[string]string{"Depth": "0"}}, 207)
		if strings.Contains(body, "activelock") {
			t.Errorf("expired lock shown:\n%s", body)
		}
		if n, err := st.PruneLocks(context.Background(), time.Now()); err != nil || n != 1 {
			t.Errorf("PruneLocks = %d, %v; want the expired lock", n, err)
		}
	})
}

// TestLockUnmapped: a LOCK of an unmapped URL answers 201 and reserves
// it (RFC 4918 §7.3): a calendar object cannot be empty, so nothing is
// made until the holder PUTs it with the token; an unmapped collection
// URL likewise until MKCALENDAR.
func TestLockUnmapped(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		item := lockCal + "new.ics"
		tok, _ := e.lock("", item, "exclusive", "0", "", 201)
		e.status("GET", request{method: "GET", path: item}, 404)
		e.lock("", item, "exclusive", "0", "", 423)
		e.status("PUT without token", putEvent(item, "n", nil), 423)
		e.status("PUT with token", putEvent(item, "n", ifHdr("(<"+tok+">)")), 201)
		body := e.status("lockdiscovery", request{method: "PROPFIND", path: item, body: propfind("<D:lockdiscovery/>"), header: map[string]string{"Depth": "0"}}, 207)
		if !strings.Contains(body, tok) {
			t.Errorf("the made resource lost its lock:\n%s", body)
		}

		col := "/dav/calendars/alice/newcal/"
		ctok, _ := e.lock("", col, "exclusive", "infinity", "", 201)
		e.status("MKCALENDAR without token", request{method: "MKCALENDAR", path: col}, 423)
		e.status("MKCALENDAR with token", request{method: "MKCALENDAR", path: col, header: ifHdr("(<" + ctok + ">)")}, 201)
		e.status("PUT into it without token", putEvent(col+"x.ics", "x", nil), 423)

		e.status("LOCK under a missing collection", request{method: "LOCK", path: "/dav/calendars/alice/nope/x.ics", body: lockBody("exclusive", "")}, 409)
		e.status("LOCK of the principal", request{method: "LOCK", path: "/dav/principals/alice/", body: lockBody("exclusive", "")}, 405)
	})
}

// TestLockDepthInfinity: a depth-infinity lock on a calendar covers its
// members, old and new; a depth-0 one covers its membership only. A tagged
// If list naming the collection submits its token.
func TestLockDepthInfinity(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.status("create", putEvent(lockItem, "a", nil), 201)
		tok, _ := e.lock("", lockCal, "exclusive", "infinity", "", 200)
		body := e.status("new member", putEvent(lockCal+"b.ics", "b", nil), 423)
		wantCondition(t, body, "lock-token-submitted", lockCal)
		e.status("existing member", putEvent(lockItem, "a", nil), 423)
		e.status("PROPPATCH", request{method: "PROPPATCH", path: lockCal, body: `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>X</D:displayname></D:prop></D:set></D:propertyupdate>`}, 423)
		e.lock("", lockItem, "shared", "0", "", 423)
		tagged := ifHdr("<" + e.srv.URL + lockCal + "> (<" + tok + ">)")
		e.status("new member, tagged", putEvent(lockCal+"b.ics", "b", tagged), 201)
		body = e.status("member lockdiscovery", request{method: "PROPFIND", path: lockCal, body: propfind("<D:lockdiscovery/>"), header: map[string]string{"Depth": "1"}}, 207)
		golden(t, "locks/lockdiscovery-depth-infinity", canonicalLock(t, body))
		e.status("UNLOCK through a member", request{method: "UNLOCK", path: lockCal + "b.ics", header: map[string]string{"Lock-Token": "<" + tok + ">"}}, 204)

		// Depth 0: the membership, not the members.
		tok0, _ := e.lock("", lockCal, "exclusive", "0", "", 200)
		e.status("change a member", putEvent(lockItem, "a", nil), 204)
		e.status("add a member", putEvent(lockCal+"c.ics", "c", nil), 423)
		e.status("remove a member", request{method: "DELETE", path: lockCal + "b.ics"}, 423)
		e.status("add with the token", putEvent(lockCal+"c.ics", "c", ifHdr("(<"+tok0+">)")), 412) // untagged: about c.ics, which the lock does not cover
		e.status("add with the tagged token", putEvent(lockCal+"c.ics", "c", ifHdr("<"+lockCal+"> (<"+tok0+">)")), 201)
	})
}

// TestLockRemovedWithResource: DELETE and MOVE of a locked resource end
// its locks; a DELETE of a collection needs the tokens of locked members.
func TestLockRemovedWithResource(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.status("create", putEvent(lockItem, "a", nil), 201)
		e.status("create b", putEvent(lockCal+"b.ics", "b", nil), 201)
		ta, _ := e.lock("", lockItem, "exclusive", "0", "", 200)
		tb, _ := e.lock("", lockCal+"b.ics", "exclusive", "0", "", 200)
		e.status("DELETE", request{method: "DELETE", path: lockItem, header: ifHdr("(<" + ta + ">)")}, 204)
		e.status("PUT anew", putEvent(lockItem, "a", nil), 201)
		e.status("MOVE", request{method: "MOVE", path: lockCal + "b.ics", header: map[string]string{"Destination": lockCal + "c.ics", "If": "(<" + tb + ">)"}}, 201)
		e.status("PUT at the old name", putEvent(lockCal+"b.ics", "b2", nil), 201)
		e.status("PUT at the new name", putEvent(lockCal+"c.ics", "b", nil), 204)
		if ls, err := st.ListLocks(context.Background(), lockCal); err != nil || len(ls) != 0 {
			t.Errorf("locks left: %+v, %v", ls, err)
		}
		// A collection with a locked member.
		e.status("MKCALENDAR", request{method: "MKCALENDAR", path: "/dav/calendars/alice/work/"}, 201)
		e.status("create w", putEvent("/dav/calendars/alice/work/w.ics", "w", nil), 201)
		tw, _ := e.lock("", "/dav/calendars/alice/work/w.ics", "exclusive", "0", "", 200)
		body := e.status("DELETE collection", request{method: "DELETE", path: "/dav/calendars/alice/work/"}, 423)
		wantCondition(t, body, "lock-token-submitted", "/dav/calendars/alice/work/w.ics")
		e.status("MOVE collection", request{method: "MOVE", path: "/dav/calendars/alice/work/", header: map[string]string{"Destination": "/dav/calendars/alice/work2/"}}, 423)
		e.status("DELETE collection with token", request{method: "DELETE", path: "/dav/calendars/alice/work/", header: ifHdr("</dav/calendars/alice/work/w.ics> (<" + tw + ">)")}, 204)
		if ls, _ := st.ListLocks(context.Background(), "/dav/calendars/alice/"); len(ls) != 0 {
			t.Errorf("locks left after the collection's DELETE: %+v", ls)
		}
	})
}

// TestIfHeader: the If header on unlocked resources — entity tags, Not,
// DAV:no-lock, tagged lists, ORed lists — on each kind of write: 412 when
// false and nothing changes.
func TestIfHeader(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		etag := e.create(lockItem, "a")
		betag := e.create(lockCal+"b.ics", "b")
		for _, tc := range []struct {
			ifh  string
			want int
		}{
			{"([" + etag + "])", 204},
			{`(["0000"])`, 412},
			{"(Not [" + etag + "])", 412},
			{`(Not ["0000"])`, 204},
			{"(Not <DAV:no-lock>)", 204},
			{"(<DAV:no-lock>)", 412},
			{`(<DAV:no-lock>) (["0000"]) ([` + etag + `])`, 204},
			{"(<DAV:no-lock> [" + etag + "])", 412},
			{"<" + lockCal + "b.ics> ([" + betag + "])", 204},
			{"<" + lockCal + "b.ics> ([" + etag + "])", 412},
			{"<" + e.srv.URL + lockItem + "> ([" + etag + "])", 204},
			{"</dav/calendars/bob/personal/> (Not <DAV:no-lock>)", 204}, // another user's URL: no state, Not holds
			{"([" + etag, 400},
		} {
			r := putEvent(lockItem, "a", ifHdr(tc.ifh))
			got := e.do(r)
			readBody(t, got)
			if got.StatusCode != tc.want {
				t.Errorf("PUT If: %s = %d, want %d", tc.ifh, got.StatusCode, tc.want)
			}
			if got.StatusCode == 204 {
				etag = got.Header.Get("ETag")
			}
		}
		// Every write evaluates it.
		no := ifHdr(`(["0000"])`)
		for _, r := range []request{
			{method: "DELETE", path: lockItem, header: no},
			{method: "PROPPATCH", path: lockCal, header: no, body: `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>X</D:displayname></D:prop></D:set></D:propertyupdate>`},
			{method: "MKCALENDAR", path: "/dav/calendars/alice/x/", header: no},
			{method: "MKCOL", path: "/dav/calendars/alice/y/", header: no},
			{method: "COPY", path: lockItem, header: map[string]string{"Destination": lockCal + "c.ics", "If": `(["0000"])`}},
			{method: "MOVE", path: lockItem, header: map[string]string{"Destination": lockCal + "c.ics", "If": `(["0000"])`}},
			{method: "LOCK", path: lockItem, header: no, body: lockBody("exclusive", "")},
			{method: "POST", path: lockCal, header: map[string]string{"If": `(["0000"])`, "Content-Type": "application/xml"}, body: `<CS:share xmlns:CS="http://calendarserver.org/ns/" xmlns:D="DAV:"/>`},
		} {
			e.status("If false", r, 412)
		}
		e.status("still there", request{method: "GET", path: lockItem}, 200)
		e.status("not copied", request{method: "GET", path: lockCal + "c.ics"}, 404)
	})
}

// create PUTs a new event and returns its ETag.
func (e *env) create(path, uid string) string {
	e.t.Helper()
	resp := e.do(putEvent(path, uid, nil))
	readBody(e.t, resp)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 201 || etag == "" {
		e.t.Fatalf("PUT %s: %d, ETag %q", path, resp.StatusCode, etag)
	}
	return etag
}

// TestIfHeaderOnReads: RFC 4918 §10.4 makes the If header a precondition
// of any method, not only of writes: a GET, HEAD, PROPFIND or REPORT whose
// If does not hold is 412, one whose If holds is answered as without it,
// and a malformed one is 400. A lock's token in If makes a read
// conditional on the lock still being there.
func TestIfHeaderOnReads(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		etag := e.create(lockItem, "a")
		tok, _ := e.lock("", lockItem, "exclusive", "0", "", 200)
		report := `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><D:href>` + lockItem + `</D:href></C:calendar-multiget>`
		reads := []struct {
			method, path, body string
			ok                 int
		}{
			{"GET", lockItem, "", 200},
			{"HEAD", lockItem, "", 200},
			{"PROPFIND", lockItem, propfind("<D:getetag/>"), 207},
			{"PROPFIND", lockCal, propfind("<D:displayname/>"), 207},
			{"REPORT", lockCal, report, 207},
		}
		for _, tc := range []struct {
			ifh  string
			want int // 0: the read's own success
		}{
			{"([" + etag + "])", 0},
			{`(["0000"])`, 412},
			{"(<" + tok + ">)", 0},
			{"(<urn:uuid:00000000-0000-4000-8000-000000000000>)", 412},
			{"<" + lockItem + "> (<" + tok + ">)", 0},
			{"<" + lockItem + `> (["0000"])`, 412},
			{"(Not <DAV:no-lock>)", 0},
			{"([" + etag, 400},
		} {
			for _, rd := range reads {
				want := cmpInt(tc.want, rd.ok)
				if rd.path == lockCal && strings.HasPrefix(tc.ifh, "(") && tc.want == 0 && !strings.Contains(tc.ifh, "no-lock") {
					// An untagged list applies to the collection, which
					// has neither the item's ETag nor its lock.
					want = 412
				}
				h := map[string]string{"If": tc.ifh, "Depth": "0", "Content-Type": "application/xml"}
				got := e.do(request{method: rd.method, path: rd.path, body: rd.body, header: h})
				readBody(t, got)
				if got.StatusCode != want {
					t.Errorf("%s %s with If: %s = %d, want %d", rd.method, rd.path, tc.ifh, got.StatusCode, want)
				}
			}
		}
		// A missing resource is 404, whatever the If header says.
		e.status("GET of nothing", request{method: "GET", path: lockCal + "none.ics", header: ifHdr(`(["0000"])`)}, 404)
	})
}

func cmpInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// TestLockOtherUser: a sharee with write access is bound by the owner's
// lock, sees it (without its token) in their own URL space, and can
// neither use nor remove it; a read-only sharee cannot lock.
func TestLockOtherUser(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.status("create", putEvent(lockItem, "a", nil), 201)
		sh := e.share("alice", "personal", store.KindCalendar, "bob", store.AccessReadWrite)
		bobCol := fmt.Sprintf("/dav/calendars/bob/shared-%d/", sh.CollectionID)
		tok, _ := e.lock("", lockItem, "exclusive", "0", "", 200)

		body := e.status("bob PUT", bobReq("PUT", bobCol+"a.ics", fmt.Sprintf(sharedEvent, "a", "bob"), map[string]string{"Content-Type": "text/calendar"}), 423)
		wantCondition(t, body, "lock-token-submitted", bobCol+"a.ics")
		e.status("bob PUT with alice's token", bobReq("PUT", bobCol+"a.ics", fmt.Sprintf(sharedEvent, "a", "bob"), map[string]string{"Content-Type": "text/calendar", "If": "(<" + tok + ">)"}), 423)
		e.status("bob UNLOCK", bobReq("UNLOCK", bobCol+"a.ics", "", map[string]string{"Lock-Token": "<" + tok + ">"}), 403)
		e.status("bob refresh", bobReq("LOCK", bobCol+"a.ics", "", map[string]string{"If": "(<" + tok + ">)"}), 403)
		body = e.status("bob lockdiscovery", bobReq("PROPFIND", bobCol+"a.ics", propfind("<D:lockdiscovery/>"), map[string]string{"Depth": "0"}), 207)
		if strings.Contains(body, tok) || !strings.Contains(body, "<D:href>"+bobCol+"a.ics</D:href></D:lockroot>") {
			t.Errorf("bob's lockdiscovery shows the token or alice's URL:\n%s", body)
		}
		e.lock("bob", bobCol+"a.ics", "exclusive", "0", "", 423)
		// bob's own lock on the shared calendar binds alice.
		e.status("alice UNLOCK", request{method: "UNLOCK", path: lockItem, header: map[string]string{"Lock-Token": "<" + tok + ">"}}, 204)
		btok, _ := e.lock("bob", bobCol, "exclusive", "infinity", "", 200)
		body = e.status("alice PUT", putEvent(lockItem, "a", nil), 423)
		wantCondition(t, body, "lock-token-submitted", lockCal)
		e.status("alice with bob's token", putEvent(lockItem, "a", ifHdr("(<"+btok+">)")), 423)
		e.status("bob with his token", bobReq("PUT", bobCol+"a.ics", fmt.Sprintf(sharedEvent, "a", "bob"), map[string]string{"Content-Type": "text/calendar", "If": "(<" + btok + ">)"}), 204)

		// Read-only: no LOCK (RFC 3744: it needs write-content).
		e.share("alice", "personal", store.KindCalendar, "bob", store.AccessRead)
		e.status("read-only LOCK", bobReq("LOCK", bobCol+"a.ics", lockBody("shared", ""), nil), 403)
		// Another user's URL space stays forbidden.
		e.status("bob LOCK alice's URL", bobReq("LOCK", lockItem, lockBody("shared", ""), nil), 403)
	})
}

// TestLockTwoServers: two server instances on one store see each other's
// locks.
func TestLockTwoServers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.status("create", putEvent(lockItem, "a", nil), 201)
		a, err := auth.New(st, slog.New(slog.DiscardHandler), auth.Options{Params: cheapParams})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(server.New(server.Config{Store: st, Auth: a, Logger: slog.New(slog.DiscardHandler), MaxResourceSize: 1 << 20, Version: "test"}))
		t.Cleanup(srv.Close)
		twin := &env{t: t, st: st, srv: srv}
		tok, _ := e.lock("", lockItem, "exclusive", "0", "", 200)
		twin.status("PUT on the other instance", putEvent(lockItem, "a", nil), 423)
		twin.lock("", lockItem, "shared", "0", "", 423)
		twin.status("UNLOCK on the other instance", request{method: "UNLOCK", path: lockItem, header: map[string]string{"Lock-Token": "<" + tok + ">"}}, 204)
		e.status("PUT", putEvent(lockItem, "a", nil), 204)
	})
}

// TestLockOptions: DAV says class 2 (and keeps the rest); Allow lists LOCK
// and UNLOCK where they work; supportedlock is on every lockable resource.
func TestLockOptions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		resp := e.do(request{method: "OPTIONS", path: lockCal})
		if d := resp.Header.Get("DAV"); !strings.HasPrefix(d, "1, 2, 3, ") || !strings.Contains(d, "calendar-access") || !strings.Contains(d, "addressbook") {
			t.Errorf("DAV: %q", d)
		}
		if a := resp.Header.Get("Allow"); !strings.Contains(a, "LOCK, UNLOCK") {
			t.Errorf("Allow: %q", a)
		}
		for _, p := range []string{"/dav/calendars/alice/", lockCal, "/dav/addressbooks/alice/"} {
			body := e.status("supportedlock", request{method: "PROPFIND", path: p, body: propfind("<D:supportedlock/>"), header: map[string]string{"Depth": "0"}}, 207)
			if !strings.Contains(body, "<D:exclusive/>") || !strings.Contains(body, "<D:shared/>") {
				t.Errorf("%s supportedlock:\n%s", p, body)
			}
		}
		body := e.status("principal", request{method: "PROPFIND", path: "/dav/principals/alice/", body: propfind("<D:supportedlock/>"), header: map[string]string{"Depth": "0"}}, 207)
		if !strings.Contains(body, "404 Not Found") {
			t.Errorf("a principal offers locks:\n%s", body)
		}
	})
}
