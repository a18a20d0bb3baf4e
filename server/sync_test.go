package server_test

import (
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// Tests of REPORT sync-collection (RFC 6578), getctag and sync-token, and
// tombstone retention, over the full stack on both stores.

var (
	syncSeed = flag.Uint64("sync.seed", 0, "seed of TestSyncModel (0 picks one from the clock; the test logs it)")
	syncOps  = flag.Int("sync.ops", 400, "random operations per store in TestSyncModel")
)

const (
	syncCal         = "/dav/calendars/alice/personal/"
	syncWork        = "/dav/calendars/alice/work/"
	syncBook        = "/dav/addressbooks/alice/contacts/"
	syncTokenPrefix = "http://davenport.invalid/sync/"
)

// syncReply is one HTTP answer, read in full.
type syncReply struct {
	status int
	header http.Header
	body   string
}

// syncSend makes one request as alice. It never touches a testing.T, so writer
// goroutines may call it.
func (e *env) syncSend(method, path, body string, header map[string]string) (syncReply, error) {
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		return syncReply{}, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	req.SetBasicAuth("alice", alicePassword)
	resp, err := noRedirect.Do(req)
	if err != nil {
		return syncReply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return syncReply{}, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	return syncReply{status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}

// syncMust sends a request and fails t unless the answer has one of the wanted
// statuses.
func (e *env) syncMust(t testing.TB, method, path, body string, header map[string]string, want ...int) syncReply {
	t.Helper()
	r, err := e.syncSend(method, path, body, header)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(want, r.status) {
		t.Fatalf("%s %s: status %d, want %v\n%s", method, path, r.status, want, r.body)
	}
	return r
}

// syncEvent is a small valid VEVENT; summary varies the bytes (and ETag).
func syncEvent(uid, summary string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//sync tests//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20250101T090000Z\r\n" +
		"DTSTART:20250310T100000Z\r\nDTEND:20250310T110000Z\r\nSUMMARY:" + summary + "\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
}

// syncCard is a small valid vCard 3.0.
func syncCard(uid, fn string) string {
	return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\nN:" + fn + ";;;;\r\nEND:VCARD\r\n"
}

var (
	syncICS    = map[string]string{"Content-Type": "text/calendar; charset=utf-8"}
	syncVCF    = map[string]string{"Content-Type": "text/vcard; charset=utf-8"}
	syncDepth0 = map[string]string{"Content-Type": "application/xml; charset=utf-8", "Depth": "0"}
	syncDepth1 = map[string]string{"Content-Type": "application/xml; charset=utf-8", "Depth": "1"}
)

func syncWith(h map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for hk, hv := range h {
		if hk != k {
			out[hk] = hv
		}
	}
	return out
}

// syncRequest builds a DAV:sync-collection body. props are qualified with
// the prefixes D (DAV:), C (CalDAV) and CR (CardDAV).
func syncRequest(token string, limit int, props ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` +
		`<D:sync-collection xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav">` +
		`<D:sync-token>`)
	xml.EscapeText(&b, []byte(token))
	b.WriteString(`</D:sync-token><D:sync-level>1</D:sync-level>`)
	if limit > 0 {
		fmt.Fprintf(&b, `<D:limit><D:nresults>%d</D:nresults></D:limit>`, limit)
	}
	b.WriteString(`<D:prop>`)
	for _, p := range props {
		b.WriteString("<" + p + "/>")
	}
	b.WriteString(`</D:prop></D:sync-collection>`)
	return b.String()
}

// syncPage is one sync-collection answer, as a client reads it.
type syncPage struct {
	token     string
	changed   map[string]string // member href → ETag
	deleted   []string          // member hrefs answered 404
	truncated bool              // a 507 on the collection's own href
}

func (p *syncPage) members() int { return len(p.changed) + len(p.deleted) }

// parseSyncPage reads a sync-collection 207 for the collection at href,
// checking what RFC 6578 §3.2 and §3.6 demand of its shape.
func parseSyncPage(body, collection string) (*syncPage, error) {
	root, err := dav.ParseXML([]byte(body), dav.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("sync answer is not XML: %w", err)
	}
	if root.Name != dav.Name("multistatus") {
		return nil, fmt.Errorf("sync answer root is %v", root.Name)
	}
	p := &syncPage{changed: map[string]string{}}
	tokens := root.ChildrenNamed(dav.Name("sync-token"))
	if len(tokens) != 1 || tokens[0].Text == "" {
		return nil, fmt.Errorf("sync answer has %d DAV:sync-token elements, want one (RFC 6578 §6.2)", len(tokens))
	}
	p.token = tokens[0].Text
	seen := map[string]bool{}
	for _, r := range root.ChildrenNamed(dav.Name("response")) {
		hrefs := r.ChildrenNamed(dav.Name("href"))
		if len(hrefs) != 1 {
			return nil, fmt.Errorf("a response has %d hrefs", len(hrefs))
		}
		href := hrefs[0].Text
		if st := r.Child(dav.Name("status")); st != nil {
			code := syncStatus(st.Text)
			switch {
			case code == http.StatusInsufficientStorage && href == collection:
				if p.truncated {
					return nil, errors.New("two 507 responses")
				}
				if r.Child(dav.Name("error")).Child(dav.Name("number-of-matches-within-limits")) == nil {
					return nil, errors.New("507 without DAV:number-of-matches-within-limits (RFC 6578 §3.6)")
				}
				p.truncated = true
				continue
			case code == http.StatusNotFound:
				p.deleted = append(p.deleted, href)
			default:
				return nil, fmt.Errorf("unexpected status %q for %s", st.Text, href)
			}
		} else {
			etag := ""
			for _, ps := range r.ChildrenNamed(dav.Name("propstat")) {
				if syncStatus(syncText(ps.Child(dav.Name("status")))) == http.StatusOK {
					etag = syncText(ps.Child(dav.Name("prop")).Child(dav.Name("getetag")))
				}
			}
			if etag == "" {
				return nil, fmt.Errorf("changed member %s has no getetag", href)
			}
			p.changed[href] = etag
		}
		if seen[href] {
			return nil, fmt.Errorf("%s is listed twice in one answer", href)
		}
		seen[href] = true
		if href == collection || !strings.HasPrefix(href, collection) {
			return nil, fmt.Errorf("response href %s is not a member of %s", href, collection)
		}
	}
	return p, nil
}

// syncText is the text of an element that may be missing.
func syncText(e *dav.Element) string {
	if e == nil {
		return ""
	}
	return e.Text
}

func syncStatus(line string) int {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// syncTokenModSeq reads the collection id and modseq out of a Davenport
// token. A truncated answer's token may carry a third part, the floor above
// which the client still needs every deletion (floor is modseq otherwise).
func syncTokenModSeq(tok string) (id, modseq int64, err error) {
	id, modseq, _, err = syncTokenParts(tok)
	return id, modseq, err
}

func syncTokenParts(tok string) (id, modseq, floor int64, err error) {
	rest, ok := strings.CutPrefix(tok, syncTokenPrefix)
	if !ok {
		return 0, 0, 0, fmt.Errorf("token %q lacks the prefix %s", tok, syncTokenPrefix)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 2 && len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("token %q is not id/modseq[/floor]", tok)
	}
	var n [3]int64
	for i, p := range parts {
		if n[i], err = strconv.ParseInt(p, 10, 64); err != nil {
			return 0, 0, 0, fmt.Errorf("token %q: %w", tok, err)
		}
	}
	floor = n[1]
	if len(parts) == 3 {
		floor = n[2]
	}
	return n[0], n[1], floor, nil
}

func syncMustModSeq(t testing.TB, tok string) int64 {
	t.Helper()
	_, m, err := syncTokenModSeq(tok)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// syncRefused is a 403 DAV:valid-sync-token answer to page page of a sync.
type syncRefused struct {
	token string
	page  int
}

func (e *syncRefused) Error() string {
	return fmt.Sprintf("token %s refused (page %d)", e.token, e.page)
}

// syncOnce sends one sync-collection REPORT and reads its answer; a token
// refused with DAV:valid-sync-token is a *syncRefused.
func (e *env) syncOnce(collection, token string, limit int, header map[string]string) (*syncPage, error) {
	if header == nil {
		header = syncDepth0
	}
	r, err := e.syncSend("REPORT", collection, syncRequest(token, limit, "D:getetag"), header)
	if err != nil {
		return nil, err
	}
	if r.status == http.StatusForbidden && token != "" {
		root, err := dav.ParseXML([]byte(r.body), dav.DefaultLimits)
		if err == nil && root.Name == dav.Name("error") && root.Child(dav.Name("valid-sync-token")) != nil {
			return nil, &syncRefused{token: token}
		}
	}
	if r.status != http.StatusMultiStatus {
		return nil, fmt.Errorf("sync of %s from %q: status %d\n%s", collection, token, r.status, r.body)
	}
	return parseSyncPage(r.body, collection)
}

// syncReplica is a client's copy of one collection: what a sync client keeps.
type syncReplica struct {
	href  string
	token string            // "" before the first sync
	items map[string]string // member href → ETag
}

func newSyncReplica(href string) *syncReplica {
	return &syncReplica{href: href, items: map[string]string{}}
}

func (r *syncReplica) clone() *syncReplica {
	c := *r
	c.items = make(map[string]string, len(r.items))
	for k, v := range r.items {
		c.items[k] = v
	}
	return &c
}

// syncStats count what syncReplica.sync saw.
type syncStats struct{ pages, truncated, restarts int }

// sync brings the replica up to date like DAVx5 does: sync-collection from
// its token, following 507 answers until the server says the list is
// complete. Tokens never go backwards, and a truncated answer always moves
// the token on. When strict (no writer runs meanwhile), each page respects the
// limit and no member is listed twice across the pages: nothing is repeated.
// A refused token ends the sync with a *syncRefused.
func (r *syncReplica) sync(e *env, limit int, header map[string]string, strict bool) (syncStats, error) {
	var st syncStats
	listed := map[string]bool{}
	for {
		page, err := e.syncOnce(r.href, r.token, limit, header)
		if err != nil {
			var tr *syncRefused
			if errors.As(err, &tr) {
				tr.page = st.pages + 1
			}
			return st, err
		}
		st.pages++
		if r.token != "" {
			_, prev, err := syncTokenModSeq(r.token)
			if err != nil {
				return st, err
			}
			_, next, err := syncTokenModSeq(page.token)
			if err != nil {
				return st, err
			}
			if next < prev || (page.truncated && next == prev) {
				return st, fmt.Errorf("token went from %d to %d (truncated %v)", prev, next, page.truncated)
			}
		}
		if strict {
			if limit > 0 && page.members() > limit {
				return st, fmt.Errorf("a page with limit %d lists %d members", limit, page.members())
			}
			for _, h := range append(slices.Collect(syncKeys(page.changed)), page.deleted...) {
				if listed[h] {
					return st, fmt.Errorf("%s listed again on page %d", h, st.pages)
				}
				listed[h] = true
			}
		}
		for _, h := range page.deleted {
			delete(r.items, h)
		}
		for h, etag := range page.changed {
			r.items[h] = etag
		}
		r.token = page.token
		if !page.truncated {
			return st, nil
		}
		st.truncated++
		if st.pages > 10000 {
			return st, errors.New("more than 10000 pages")
		}
	}
}

// syncOrRestart is sync, and on DAV:valid-sync-token what DAVx5 does: forget
// the replica and sync in full. The refusal must be deserved — the token's
// floor is below the collection's pruned_modseq — and, when strict (nothing
// is pruned meanwhile), only the token the sync started from may be refused:
// a token the server handed out in the same sync must be served.
func (r *syncReplica) syncOrRestart(e *env, c func() (*store.Collection, error), limit int, header map[string]string, strict bool) (syncStats, error) {
	var total syncStats
	for {
		st, err := r.sync(e, limit, header, strict)
		total.pages += st.pages
		total.truncated += st.truncated
		var tr *syncRefused
		if !errors.As(err, &tr) {
			return total, err
		}
		col, cerr := c()
		if cerr != nil {
			return total, cerr
		}
		_, _, floor, perr := syncTokenParts(tr.token)
		if perr != nil {
			return total, perr
		}
		switch {
		case floor >= col.PrunedModSeq:
			return total, fmt.Errorf("%w, though its floor %d is not below pruned_modseq %d", err, floor, col.PrunedModSeq)
		case strict && tr.page > 1:
			return total, fmt.Errorf("%w: the server refused a token it handed out in the same sync", err)
		case strict && total.restarts >= 1:
			// Nothing was pruned since the full sync began.
			return total, fmt.Errorf("%w: a second full sync in a row", err)
		case total.restarts >= 1000:
			return total, fmt.Errorf("%w: 1000 full syncs in a row", err)
		}
		total.restarts++
		r.token, r.items = "", map[string]string{}
	}
}

func syncKeys(m map[string]string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// syncListing is the server's view of a collection: member href → ETag, by
// PROPFIND Depth 1.
func (e *env) syncListing(collection string) (map[string]string, error) {
	body := `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`
	r, err := e.syncSend("PROPFIND", collection, body, syncDepth1)
	if err != nil {
		return nil, err
	}
	if r.status != http.StatusMultiStatus {
		return nil, fmt.Errorf("PROPFIND %s: status %d", collection, r.status)
	}
	root, err := dav.ParseXML([]byte(r.body), dav.DefaultLimits)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, resp := range root.ChildrenNamed(dav.Name("response")) {
		href := syncText(resp.Child(dav.Name("href")))
		if href == collection {
			continue
		}
		for _, ps := range resp.ChildrenNamed(dav.Name("propstat")) {
			if syncStatus(syncText(ps.Child(dav.Name("status")))) == http.StatusOK {
				out[href] = syncText(ps.Child(dav.Name("prop")).Child(dav.Name("getetag")))
			}
		}
		if out[href] == "" {
			return nil, fmt.Errorf("PROPFIND %s: member %s without getetag", collection, href)
		}
	}
	return out, nil
}

// syncDiff describes how got differs from want ("" when equal).
func syncDiff(want, got map[string]string) string {
	var b strings.Builder
	keys := slices.Sorted(syncKeys(want))
	for _, k := range keys {
		if g, ok := got[k]; !ok {
			fmt.Fprintf(&b, "  missing %s (%s)\n", k, want[k])
		} else if g != want[k] {
			fmt.Fprintf(&b, "  stale %s: %s, server has %s\n", k, g, want[k])
		}
	}
	for _, k := range slices.Sorted(syncKeys(got)) {
		if _, ok := want[k]; !ok {
			fmt.Fprintf(&b, "  extra %s (%s)\n", k, got[k])
		}
	}
	return b.String()
}

// syncCheck compares a replica with the server's collection.
func (e *env) syncCheck(r *syncReplica) error {
	want, err := e.syncListing(r.href)
	if err != nil {
		return err
	}
	if d := syncDiff(want, r.items); d != "" {
		return fmt.Errorf("replica of %s (token %s) differs from the server:\n%s", r.href, r.token, d)
	}
	return nil
}

// syncCollectionToken reads getctag and sync-token of a collection, which
// must be equal.
func (e *env) syncCollectionToken(t testing.TB, collection string) string {
	t.Helper()
	tok, err := e.syncTokenOf(collection)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *env) syncTokenOf(collection string) (string, error) {
	body := `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><CS:getctag/><D:sync-token/></D:prop></D:propfind>`
	r, err := e.syncSend("PROPFIND", collection, body, syncDepth0)
	if err != nil {
		return "", err
	}
	if r.status != http.StatusMultiStatus {
		return "", fmt.Errorf("PROPFIND %s: status %d", collection, r.status)
	}
	root, err := dav.ParseXML([]byte(r.body), dav.DefaultLimits)
	if err != nil {
		return "", err
	}
	prop := root.Child(dav.Name("response")).Child(dav.Name("propstat")).Child(dav.Name("prop"))
	ctag := syncText(prop.Child(xml.Name{Space: dav.NSCS, Local: "getctag"}))
	tok := syncText(prop.Child(dav.Name("sync-token")))
	if ctag == "" || ctag != tok {
		return "", fmt.Errorf("%s: getctag %q and sync-token %q differ\n%s", collection, ctag, tok, r.body)
	}
	return tok, nil
}

func (e *env) syncCollection(t testing.TB, user string, kind store.Kind, name string) *store.Collection {
	t.Helper()
	u, err := e.st.GetUser(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.st.GetCollection(t.Context(), u.ID, kind, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// syncCollectionGetter reads a collection afresh from the store on each call.
func (e *env) syncCollectionGetter(t testing.TB, user string, kind store.Kind, name string) func() (*store.Collection, error) {
	u, err := e.st.GetUser(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	return func() (*store.Collection, error) {
		return e.st.GetCollection(context.Background(), u.ID, kind, name)
	}
}

// TestSyncGolden pins the 207 of each kind of sync: initial, incremental with
// an update, a create and a delete, nothing new, truncated pages,
// calendar-data and address-data, and the bodies DAVx5 and Thunderbird send.
// Both stores must give the same bytes after canonicalization.
func TestSyncGolden(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, n := range []string{"a", "b", "c"} {
			e.syncMust(t, "PUT", syncCal+n+".ics", syncEvent("uid-"+n, "Event "+n), syncWith(syncICS, "If-None-Match", "*"), http.StatusCreated)
		}
		e.syncMust(t, "PUT", syncBook+"ann.vcf", syncCard("card-ann", "Ann"), syncVCF, http.StatusCreated)
		e.syncMust(t, "PUT", syncBook+"bo.vcf", syncCard("card-bo", "Bo"), syncVCF, http.StatusCreated)

		// tokens remembered by name between steps
		tok := map[string]string{}
		calChanges := func(t *testing.T) {
			etag := e.syncMust(t, "GET", syncCal+"a.ics", "", nil, http.StatusOK).header.Get("ETag")
			e.syncMust(t, "PUT", syncCal+"a.ics", syncEvent("uid-a", "Event a, moved to Friday"), syncWith(syncICS, "If-Match", etag), http.StatusNoContent)
			e.syncMust(t, "PUT", syncCal+"d.ics", syncEvent("uid-d", "Event d"), syncWith(syncICS, "If-None-Match", "*"), http.StatusCreated)
			e.syncMust(t, "DELETE", syncCal+"b.ics", "", nil, http.StatusNoContent)
		}
		steps := []struct {
			golden    string
			before    func(t *testing.T)
			path      string
			body      func(t *testing.T) string
			header    map[string]string
			save      string // remember the answer's token under this name
			members   int    // responses on members expected
			truncated bool
			current   bool // the answer's token is the collection's token
			nochange  bool // the token is the one sent
		}{
			{golden: "calendar-initial", path: syncCal, body: func(t *testing.T) string { return syncRequest("", 0, "D:getetag", "D:getcontenttype") },
				save: "initial", members: 3, current: true},
			{golden: "calendar-incremental", before: calChanges, path: syncCal,
				body: func(t *testing.T) string { return syncRequest(tok["initial"], 0, "D:getetag", "D:getcontenttype") },
				save: "incremental", members: 3, current: true},
			{golden: "calendar-unchanged", path: syncCal,
				body: func(t *testing.T) string { return syncRequest(tok["incremental"], 0, "D:getetag") }, members: 0, current: true, nochange: true},
			// a1 b2 c3, then a4 d5 and b's tombstone 6: the first page of
			// two is c and a, the second d and the deletion of b.
			{golden: "calendar-truncated-1", path: syncCal,
				body: func(t *testing.T) string { return syncRequest("", 2, "D:getetag") }, save: "page1", members: 2, truncated: true},
			{golden: "calendar-truncated-2", path: syncCal,
				body: func(t *testing.T) string { return syncRequest(tok["page1"], 2, "D:getetag") }, members: 2, current: true},
			{golden: "calendar-truncated-incremental", path: syncCal,
				body: func(t *testing.T) string { return syncRequest(tok["initial"], 1, "D:getetag") }, members: 1, truncated: true},
			{golden: "calendar-data", path: syncCal,
				body: func(t *testing.T) string { return syncRequest(tok["initial"], 0, "D:getetag", "C:calendar-data") }, members: 3, current: true},
			{golden: "addressbook-initial", path: syncBook,
				body: func(t *testing.T) string { return syncRequest("", 0, "D:getetag", "CR:address-data") }, save: "cards", members: 2, current: true},
			{golden: "addressbook-incremental", path: syncBook,
				before: func(t *testing.T) {
					e.syncMust(t, "DELETE", syncBook+"ann.vcf", "", nil, http.StatusNoContent)
					e.syncMust(t, "PUT", syncBook+"cy.vcf", syncCard("card-cy", "Cy"), syncVCF, http.StatusCreated)
					e.syncMust(t, "PUT", syncBook+"bo.vcf", syncCard("card-bo", "Bo Jr."), syncVCF, http.StatusNoContent)
				},
				body: func(t *testing.T) string { return syncRequest(tok["cards"], 0, "D:getetag", "CR:address-data") }, members: 3, current: true},
			// The clients' own bodies (shared/clients), on both kinds.
			{golden: "davx5-06-calendar", path: syncCal, header: with(davx5, "0"),
				body: func(t *testing.T) string { return clientBody(t, "davx5-06-sync-collection-initial.xml") }, save: "davx5", members: 3, current: true},
			{golden: "davx5-07-calendar", path: syncCal, header: with(davx5, "0"),
				before: func(t *testing.T) {
					e.syncMust(t, "PUT", syncCal+"b.ics", syncEvent("uid-b", "Event b is back"), syncWith(syncICS, "If-None-Match", "*"), http.StatusCreated)
					e.syncMust(t, "DELETE", syncCal+"c.ics", "", nil, http.StatusNoContent)
				},
				body: func(t *testing.T) string {
					return strings.ReplaceAll(clientBody(t, "davx5-07-sync-collection-incremental.xml"), "SYNC-TOKEN-FROM-LAST-RESPONSE", tok["davx5"])
				}, save: "davx5-2", members: 2, current: true},
			{golden: "thunderbird-05-calendar", path: syncCal, header: with(thunderbird, "1"),
				before: func(t *testing.T) {
					e.syncMust(t, "MOVE", syncCal+"d.ics", "", map[string]string{"Destination": e.srv.URL + syncCal + "e.ics"}, http.StatusCreated)
				},
				body: func(t *testing.T) string {
					return strings.ReplaceAll(clientBody(t, "thunderbird-05-sync-collection.xml"), "SYNC-TOKEN-FROM-LAST-RESPONSE", tok["davx5-2"])
				}, members: 2, current: true},
			{golden: "davx5-06-addressbook", path: syncBook, header: with(davx5, "0"),
				body: func(t *testing.T) string { return clientBody(t, "davx5-06-sync-collection-initial.xml") }, save: "davx5-cards", members: 2, current: true},
			{golden: "davx5-07-addressbook", path: syncBook, header: with(davx5, "0"),
				before: func(t *testing.T) {
					e.syncMust(t, "DELETE", syncBook+"cy.vcf", "", nil, http.StatusNoContent)
				},
				body: func(t *testing.T) string {
					return strings.ReplaceAll(clientBody(t, "davx5-07-sync-collection-incremental.xml"), "SYNC-TOKEN-FROM-LAST-RESPONSE", tok["davx5-cards"])
				}, members: 1, current: true},
		}
		for _, s := range steps {
			t.Run(s.golden, func(t *testing.T) {
				if s.before != nil {
					s.before(t)
				}
				header := s.header
				if header == nil {
					header = syncDepth0
				}
				body := s.body(t)
				if strings.Contains(body, "SYNC-TOKEN-FROM-LAST-RESPONSE") {
					t.Fatalf("request without the token of an earlier step:\n%s", body)
				}
				r := e.syncMust(t, "REPORT", s.path, body, header, http.StatusMultiStatus)
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
					t.Errorf("Content-Type %q", ct)
				}
				golden(t, "sync/"+s.golden, canonical(t, r.body))
				page, err := parseSyncPage(r.body, s.path)
				if err != nil {
					t.Fatal(err)
				}
				if page.members() != s.members || page.truncated != s.truncated {
					t.Errorf("%d member responses (truncated %v), want %d (truncated %v)", page.members(), page.truncated, s.members, s.truncated)
				}
				cur := e.syncCollectionToken(t, s.path)
				if s.current != (page.token == cur) {
					t.Errorf("answer token %s, collection token %s: want equal = %v", page.token, cur, s.current)
				}
				if s.truncated {
					// RFC 6578 §3.6: the token continues after the last
					// change listed, so it is older than the collection's.
					if syncMustModSeq(t, page.token) >= syncMustModSeq(t, cur) {
						t.Errorf("truncated answer's token %s is not behind the collection's %s", page.token, cur)
					}
				}
				if s.nochange && !strings.Contains(body, page.token) {
					t.Errorf("nothing changed, yet the token moved to %s", page.token)
				}
				if s.save != "" {
					tok[s.save] = page.token
				}
			})
		}
		// What DAVx5 and Thunderbird read before they sync: the token of
		// the last answer as getctag and sync-token, and sync-collection
		// in supported-report-set (DAVx5 uses it only when offered).
		for _, c := range []struct {
			golden, file, path string
			header             map[string]string
		}{
			{"davx5-05-calendar", "davx5-05-collection-sync-state.xml", syncCal, with(davx5, "0")},
			{"davx5-05-addressbook", "davx5-05-collection-sync-state.xml", syncBook, with(davx5, "0")},
			{"thunderbird-04-calendar", "thunderbird-04-ctag.xml", syncCal, with(thunderbird, "0")},
		} {
			t.Run(c.golden, func(t *testing.T) {
				rep := newSyncReplica(c.path)
				if _, err := rep.sync(e, 0, nil, true); err != nil {
					t.Fatal(err)
				}
				r := e.syncMust(t, "PROPFIND", c.path, clientBody(t, c.file), c.header, http.StatusMultiStatus)
				golden(t, "sync/"+c.golden, canonical(t, r.body))
				root, err := dav.ParseXML([]byte(r.body), dav.DefaultLimits)
				if err != nil {
					t.Fatal(err)
				}
				var prop *dav.Element
				for _, ps := range root.Child(dav.Name("response")).ChildrenNamed(dav.Name("propstat")) {
					if syncStatus(syncText(ps.Child(dav.Name("status")))) == http.StatusOK {
						prop = ps.Child(dav.Name("prop"))
					}
				}
				if got := syncText(prop.Child(xml.Name{Space: dav.NSCS, Local: "getctag"})); got != rep.token {
					t.Errorf("getctag %q, the last sync answered %q", got, rep.token)
				}
				if c.file == "thunderbird-04-ctag.xml" {
					return
				}
				if got := syncText(prop.Child(dav.Name("sync-token"))); got != rep.token {
					t.Errorf("sync-token %q, the last sync answered %q", got, rep.token)
				}
				offered := false
				for _, sr := range prop.Child(dav.Name("supported-report-set")).ChildrenNamed(dav.Name("supported-report")) {
					offered = offered || sr.Child(dav.Name("report")).Child(dav.Name("sync-collection")) != nil
				}
				if !offered {
					t.Errorf("supported-report-set does not offer sync-collection")
				}
			})
		}
	})
}

// TestSyncTokens: tokens a server did not issue for this collection, or can
// no longer serve, get 403 DAV:valid-sync-token (RFC 6578 §3.2), the
// precondition DAVx5 answers with a full sync; bad requests get clear 4xx.
func TestSyncTokens(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		cal := e.syncCollection(t, "alice", store.KindCalendar, "personal")
		book := e.syncCollection(t, "alice", store.KindAddressBook, "contacts")
		bobs := e.syncCollection(t, "bob", store.KindCalendar, "personal")
		tokenOf := func(id, modseq int64) string { return fmt.Sprintf("%s%d/%d", syncTokenPrefix, id, modseq) }

		e.syncMust(t, "PUT", syncCal+"a.ics", syncEvent("uid-a", "A"), syncICS, http.StatusCreated)
		e.syncMust(t, "PUT", syncCal+"b.ics", syncEvent("uid-b", "B"), syncICS, http.StatusCreated)
		beforeDelete := e.syncCollectionToken(t, syncCal)
		e.syncMust(t, "DELETE", syncCal+"a.ics", "", nil, http.StatusNoContent)
		// A calendar deleted and made again under the same name is another
		// collection: its old tokens must not be served.
		e.syncMust(t, "MKCALENDAR", syncWork, "", nil, http.StatusCreated)
		e.syncMust(t, "PUT", syncWork+"w.ics", syncEvent("uid-w", "W"), syncICS, http.StatusCreated)
		oldWork := e.syncCollectionToken(t, syncWork)
		e.syncMust(t, "DELETE", syncWork, "", nil, http.StatusNoContent)
		e.syncMust(t, "MKCALENDAR", syncWork, "", nil, http.StatusCreated)
		e.syncMust(t, "PUT", syncWork+"w.ics", syncEvent("uid-w", "W"), syncICS, http.StatusCreated)
		e.syncMust(t, "PUT", syncWork+"x.ics", syncEvent("uid-x", "X"), syncICS, http.StatusCreated)

		cur := syncMustModSeq(t, e.syncCollectionToken(t, syncCal))
		invalid := []struct {
			name, path, token string
		}{
			{"garbage", syncCal, "not a token"},
			{"letters for modseq", syncCal, syncTokenPrefix + strconv.FormatInt(cal.ID, 10) + "/x"},
			{"no modseq", syncCal, syncTokenPrefix + strconv.FormatInt(cal.ID, 10)},
			{"empty modseq", syncCal, syncTokenPrefix + strconv.FormatInt(cal.ID, 10) + "/"},
			{"negative modseq", syncCal, tokenOf(cal.ID, -1)},
			{"four segments", syncCal, tokenOf(cal.ID, 1) + "/2/3"},
			{"floor not above the modseq", syncCal, tokenOf(cal.ID, 2) + "/2"},
			{"floor below the modseq", syncCal, tokenOf(cal.ID, 2) + "/1"},
			{"floor from the future", syncCal, tokenOf(cal.ID, 1) + "/" + strconv.FormatInt(cur+1, 10)},
			{"overflowing modseq", syncCal, syncTokenPrefix + strconv.FormatInt(cal.ID, 10) + "/99999999999999999999"},
			{"unknown prefix", syncCal, fmt.Sprintf("http://example.com/sync/%d/%d", cal.ID, cur)},
			{"https prefix", syncCal, fmt.Sprintf("https://davenport.invalid/sync/%d/%d", cal.ID, cur)},
			{"another server's uuid", syncCal, "urn:uuid:9c7c7c6e-56a4-4a7c-8c2b-2c3ad8c1ab01"},
			{"address book token on a calendar", syncCal, tokenOf(book.ID, 0)},
			{"calendar token on an address book", syncBook, tokenOf(cal.ID, 0)},
			{"another user's calendar", syncCal, tokenOf(bobs.ID, 0)},
			{"from the future", syncCal, tokenOf(cal.ID, cur+1)},
			{"deleted and re-created collection", syncWork, oldWork},
		}
		var wantBody string
		for _, c := range invalid {
			t.Run(c.name, func(t *testing.T) {
				for _, limit := range []int{0, 1} {
					r := e.syncMust(t, "REPORT", c.path, syncRequest(c.token, limit, "D:getetag"), syncDepth0, http.StatusForbidden)
					got := canonical(t, r.body)
					golden(t, "sync/invalid-token", got)
					wantBody = got
				}
			})
		}
		if !strings.Contains(wantBody, "<D:valid-sync-token/>") {
			t.Errorf("403 body lacks DAV:valid-sync-token:\n%s", wantBody)
		}
		t.Run("valid tokens still work", func(t *testing.T) {
			for _, tok := range []string{beforeDelete, tokenOf(cal.ID, 0), tokenOf(cal.ID, cur), " " + tokenOf(cal.ID, cur) + "\n"} {
				e.syncMust(t, "REPORT", syncCal, syncRequest(tok, 0, "D:getetag"), syncDepth0, http.StatusMultiStatus)
			}
		})
		t.Run("pruned", func(t *testing.T) {
			// Tombstones are gone: a token from before the deletion could
			// miss it and must be refused (RFC 6578 §3.2).
			n, err := st.PruneTombstones(t.Context(), time.Now().Add(time.Hour))
			if err != nil || n < 1 {
				t.Fatalf("PruneTombstones = %d, %v; want at least the tombstone of a.ics", n, err)
			}
			r := e.syncMust(t, "REPORT", syncCal, syncRequest(beforeDelete, 0, "D:getetag"), syncDepth0, http.StatusForbidden)
			golden(t, "sync/invalid-token", canonical(t, r.body))
			// Depth 1 (Thunderbird) is refused the same way.
			e.syncMust(t, "REPORT", syncCal, syncRequest(beforeDelete, 0, "D:getetag"), syncDepth1, http.StatusForbidden)
			// The client's full sync works, and the current token too.
			rep := newSyncReplica(syncCal)
			if _, err := rep.sync(e, 0, nil, true); err != nil {
				t.Fatal(err)
			}
			if err := e.syncCheck(rep); err != nil {
				t.Fatal(err)
			}
			e.syncMust(t, "REPORT", syncCal, syncRequest(tokenOf(cal.ID, cur), 0, "D:getetag"), syncDepth0, http.StatusMultiStatus)
		})

		requestErrors := []struct {
			name, path, body string
			header           map[string]string
			status           int
			condition        string
		}{
			{"Depth infinity", syncCal, syncRequest("", 0, "D:getetag"), syncWith(syncDepth0, "Depth", "infinity"), http.StatusBadRequest, ""},
			{"sync-level 2", syncCal, strings.Replace(syncRequest("", 0, "D:getetag"), "<D:sync-level>1<", "<D:sync-level>2<", 1), syncDepth0, http.StatusBadRequest, ""},
			{"nresults 0", syncCal, strings.Replace(syncRequest("", 1, "D:getetag"), ">1</D:nresults>", ">0</D:nresults>", 1), syncDepth0, http.StatusForbidden, "number-of-matches-within-limits"},
			{"nresults not a number", syncCal, strings.Replace(syncRequest("", 1, "D:getetag"), ">1</D:nresults>", ">many</D:nresults>", 1), syncDepth0, http.StatusForbidden, "number-of-matches-within-limits"},
			{"nresults negative", syncCal, strings.Replace(syncRequest("", 1, "D:getetag"), ">1</D:nresults>", ">-3</D:nresults>", 1), syncDepth0, http.StatusForbidden, "number-of-matches-within-limits"},
			{"on an object", syncCal + "b.ics", syncRequest("", 0, "D:getetag"), syncDepth0, http.StatusForbidden, "supported-report"},
			{"on a home", "/dav/calendars/alice/", syncRequest("", 0, "D:getetag"), syncDepth0, http.StatusForbidden, "supported-report"},
			{"on a principal", "/dav/principals/alice/", syncRequest("", 0, "D:getetag"), syncDepth0, http.StatusForbidden, "supported-report"},
		}
		for _, c := range requestErrors {
			t.Run(c.name, func(t *testing.T) {
				r := e.syncMust(t, "REPORT", c.path, c.body, c.header, c.status)
				if c.condition != "" && !strings.Contains(canonical(t, r.body), "<D:"+c.condition+"/>") {
					t.Errorf("body lacks DAV:%s:\n%s", c.condition, r.body)
				}
			})
		}
	})
}

// TestSyncTokenProperties: getctag and sync-token carry the token a sync
// returns, move on every write to the collection's members, and stay put on
// writes that fail or touch another collection.
func TestSyncTokenProperties(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.syncMust(t, "MKCALENDAR", syncWork, "", nil, http.StatusCreated)
		etag := func(path string) string {
			return e.syncMust(t, "GET", path, "", nil, http.StatusOK).header.Get("ETag")
		}
		dest := func(path string) map[string]string { return map[string]string{"Destination": e.srv.URL + path} }
		writes := []struct {
			name             string
			method, path     string
			body             string
			header           func() map[string]string
			status           int
			personal, others bool // which collections the write changes
		}{
			{"create", "PUT", syncCal + "a.ics", syncEvent("uid-a", "A"), func() map[string]string { return syncICS }, 201, true, false},
			{"create another", "PUT", syncCal + "b.ics", syncEvent("uid-b", "B"), func() map[string]string { return syncICS }, 201, true, false},
			{"update", "PUT", syncCal + "a.ics", syncEvent("uid-a", "A2"), func() map[string]string { return syncWith(syncICS, "If-Match", etag(syncCal+"a.ics")) }, 204, true, false},
			{"update with the same bytes", "PUT", syncCal + "a.ics", syncEvent("uid-a", "A2"), func() map[string]string { return syncICS }, 204, true, false},
			{"stale If-Match", "PUT", syncCal + "a.ics", syncEvent("uid-a", "A3"), func() map[string]string { return syncWith(syncICS, "If-Match", `"0123456789abcdef0123456789abcdef"`) }, 412, false, false},
			{"If-None-Match on an existing name", "PUT", syncCal + "a.ics", syncEvent("uid-a", "A3"), func() map[string]string { return syncWith(syncICS, "If-None-Match", "*") }, 412, false, false},
			{"UID conflict", "PUT", syncCal + "c.ics", syncEvent("uid-a", "C"), func() map[string]string { return syncICS }, 409, false, false},
			{"invalid body", "PUT", syncCal + "c.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", func() map[string]string { return syncICS }, 403, false, false},
			{"move within", "MOVE", syncCal + "b.ics", "", func() map[string]string { return dest(syncCal + "c.ics") }, 201, true, false},
			{"copy to work", "COPY", syncCal + "c.ics", "", func() map[string]string { return dest(syncWork + "c.ics") }, 201, false, true},
			{"copy within (UID conflict)", "COPY", syncCal + "c.ics", "", func() map[string]string { return dest(syncCal + "d.ics") }, 409, false, false},
			{"move to work over an existing name, Overwrite F", "MOVE", syncCal + "a.ics", "", func() map[string]string { return syncWith(dest(syncWork+"c.ics"), "Overwrite", "F") }, 412, false, false},
			{"move to work", "MOVE", syncCal + "a.ics", "", func() map[string]string { return dest(syncWork + "a.ics") }, 201, true, true},
			{"move back from work", "MOVE", syncWork + "a.ics", "", func() map[string]string { return dest(syncCal + "a.ics") }, 201, true, true},
			{"delete with stale If-Match", "DELETE", syncCal + "a.ics", "", func() map[string]string { return map[string]string{"If-Match": `"0123456789abcdef0123456789abcdef"`} }, 412, false, false},
			{"delete a missing name", "DELETE", syncCal + "zz.ics", "", func() map[string]string { return nil }, 404, false, false},
			{"delete", "DELETE", syncCal + "a.ics", "", func() map[string]string { return nil }, 204, true, false},
			{"write to the address book", "PUT", syncBook + "x.vcf", syncCard("card-x", "X"), func() map[string]string { return syncVCF }, 201, false, false},
			{"re-create a deleted name", "PUT", syncCal + "a.ics", syncEvent("uid-a", "A again"), func() map[string]string { return syncICS }, 201, true, false},
			{"proppatch displayname", "PROPPATCH", syncCal, `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Mine</D:displayname></D:prop></D:set></D:propertyupdate>`, func() map[string]string { return syncDepth0 }, 207, false, false},
		}
		personal := newSyncReplica(syncCal)
		work := newSyncReplica(syncWork)
		for _, r := range []*syncReplica{personal, work} {
			if _, err := r.sync(e, 0, nil, true); err != nil {
				t.Fatal(err)
			}
		}
		for _, w := range writes {
			t.Run(w.name, func(t *testing.T) {
				before := map[*syncReplica]string{personal: e.syncCollectionToken(t, syncCal), work: e.syncCollectionToken(t, syncWork)}
				e.syncMust(t, w.method, w.path, w.body, w.header(), w.status)
				for r, changed := range map[*syncReplica]bool{personal: w.personal, work: w.others} {
					after := e.syncCollectionToken(t, r.href)
					if changed != (after != before[r]) {
						t.Errorf("%s: token %s → %s; want a change: %v", r.href, before[r], after, changed)
					}
					if changed && syncMustModSeq(t, after) <= syncMustModSeq(t, before[r]) {
						t.Errorf("%s: token went from %s to %s", r.href, before[r], after)
					}
					if _, err := r.sync(e, 0, nil, true); err != nil {
						t.Fatal(err)
					}
					if r.token != after {
						t.Errorf("%s: sync returned %s, getctag and sync-token are %s", r.href, r.token, after)
					}
					if err := e.syncCheck(r); err != nil {
						t.Error(err)
					}
				}
			})
		}
	})
}

// syncObject is what the model knows of one server object.
type syncObject struct{ uid, etag string }

// syncModel drives TestSyncModel: a model of two calendars, a client replica
// of each, and older replicas kept with their tokens.
type syncModel struct {
	t       *testing.T
	e       *env
	rng     *rand.Rand
	cals    [2]string
	objs    [2]map[string]syncObject // name → object
	reps    [2]*syncReplica
	old     [2][]*syncReplica // snapshots taken after syncs, to sync again later
	ids     [2]int64
	col     [2]func() (*store.Collection, error)
	nextUID int
	version int
	counts  map[string]int
}

// Names include ones that need escaping; the pool is small so that names
// are deleted and re-created often.
var syncNames = []string{"a.ics", "b.ics", "c.ics", "d.ics", "e.ics", "f.ics", "g.ics", "with space.ics", "ünï@côde.ics", "100%.ics"}

func (m *syncModel) pick(cal int) (string, bool) {
	if len(m.objs[cal]) == 0 {
		return "", false
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range m.objs[cal] {
			if !yield(n) {
				return
			}
		}
	})
	return names[m.rng.IntN(len(names))], true
}

func (m *syncModel) anyName() string { return syncNames[m.rng.IntN(len(syncNames))] }

func (m *syncModel) freeName(cal int) (string, bool) {
	var free []string
	for _, n := range syncNames {
		if _, ok := m.objs[cal][n]; !ok {
			free = append(free, n)
		}
	}
	if len(free) == 0 {
		return "", false
	}
	return free[m.rng.IntN(len(free))], true
}

func (m *syncModel) path(cal int, name string) string { return m.cals[cal] + url.PathEscape(name) }

func (m *syncModel) holder(cal int, uid string) (string, bool) {
	for n, o := range m.objs[cal] {
		if o.uid == uid {
			return n, true
		}
	}
	return "", false
}

func (m *syncModel) do(op, method, path, body string, header map[string]string, want int) syncReply {
	m.t.Helper()
	r := m.e.syncMust(m.t, method, path, body, header, want)
	m.counts[op]++
	return r
}

func (m *syncModel) step() {
	m.t.Helper()
	cal := m.rng.IntN(2)
	other := 1 - cal
	switch n := m.rng.IntN(100); {
	case n < 22: // create, sometimes a name deleted before
		name, ok := m.freeName(cal)
		if !ok {
			return
		}
		m.nextUID++
		uid := fmt.Sprintf("uid-%d", m.nextUID)
		r := m.do("create", "PUT", m.path(cal, name), syncEvent(uid, "v0"), syncWith(syncICS, "If-None-Match", "*"), http.StatusCreated)
		m.objs[cal][name] = syncObject{uid: uid, etag: r.header.Get("ETag")}
	case n < 25: // create with a UID another name holds: 409, nothing changes
		holder, ok := m.pick(cal)
		name, free := m.freeName(cal)
		if !ok || !free {
			return
		}
		m.do("uid-conflict", "PUT", m.path(cal, name), syncEvent(m.objs[cal][holder].uid, "dup"), syncICS, http.StatusConflict)
	case n < 43: // update
		name, ok := m.pick(cal)
		if !ok {
			return
		}
		o := m.objs[cal][name]
		m.version++
		r := m.do("update", "PUT", m.path(cal, name), syncEvent(o.uid, fmt.Sprintf("v%d", m.version)), syncWith(syncICS, "If-Match", o.etag), http.StatusNoContent)
		o.etag = r.header.Get("ETag")
		m.objs[cal][name] = o
	case n < 45: // update with a stale ETag: 412
		name, ok := m.pick(cal)
		if !ok {
			return
		}
		m.do("stale-update", "PUT", m.path(cal, name), syncEvent(m.objs[cal][name].uid, "lost"), syncWith(syncICS, "If-Match", `"00000000000000000000000000000000"`), http.StatusPreconditionFailed)
	case n < 58: // delete
		name, ok := m.pick(cal)
		if !ok {
			return
		}
		m.do("delete", "DELETE", m.path(cal, name), "", map[string]string{"If-Match": m.objs[cal][name].etag}, http.StatusNoContent)
		delete(m.objs[cal], name)
	case n < 68: // MOVE within the calendar
		src, ok := m.pick(cal)
		if !ok {
			return
		}
		dst := m.anyName()
		if dst == src {
			return
		}
		m.moveOrCopy("move-within", "MOVE", cal, src, cal, dst)
	case n < 78: // MOVE to the other calendar
		src, ok := m.pick(cal)
		if !ok {
			return
		}
		m.moveOrCopy("move-between", "MOVE", cal, src, other, m.anyName())
	case n < 85: // COPY to the other calendar
		src, ok := m.pick(cal)
		if !ok {
			return
		}
		m.moveOrCopy("copy-between", "COPY", cal, src, other, m.anyName())
	case n < 87: // COPY within: the copy would share the UID
		src, ok := m.pick(cal)
		if !ok {
			return
		}
		dst := m.anyName()
		if dst == src {
			return
		}
		m.moveOrCopy("copy-within", "COPY", cal, src, cal, dst)
	case n < 95: // sync, often in small pages
		limit := []int{0, 0, 1, 2, 3, 5}[m.rng.IntN(6)]
		m.sync(cal, m.reps[cal], limit)
		m.keep(cal, m.reps[cal].clone())
	case n < 99: // a client that synced long ago comes back
		if len(m.old[cal]) == 0 {
			return
		}
		r := m.old[cal][m.rng.IntN(len(m.old[cal]))].clone()
		m.sync(cal, r, []int{0, 1, 4}[m.rng.IntN(3)])
		m.counts["old-token-sync"]++
	default: // every tombstone so far is pruned: older tokens are refused
		n, err := m.e.st.PruneTombstones(m.t.Context(), time.Now().Add(time.Hour))
		if err != nil {
			m.t.Fatal(err)
		}
		m.counts["prune"]++
		m.counts["pruned-tombstones"] += int(n)
	}
}

// ops counts the operations run: writes (refused ones too), syncs and
// prunes.
func (m *syncModel) ops() int {
	n := 0
	for _, k := range []string{"create", "uid-conflict", "update", "stale-update", "delete", "move-within", "move-between", "copy-between", "copy-within", "sync", "prune"} {
		n += m.counts[k]
	}
	return n
}

// moveOrCopy runs MOVE or COPY with a random Overwrite and checks the status
// the model predicts: 412 for an existing destination with Overwrite F, 409
// when another object of the destination holds the UID, 403 when the
// destination holds another UID (an overwrite keeps the UID, RFC 4791
// §5.3.2.1).
func (m *syncModel) moveOrCopy(op, method string, from int, src string, to int, dst string) {
	m.t.Helper()
	overwrite := m.rng.IntN(3) > 0
	h := map[string]string{"Destination": m.e.srv.URL + m.path(to, dst), "Overwrite": "T"}
	if !overwrite {
		h["Overwrite"] = "F"
	}
	o := m.objs[from][src]
	_, exists := m.objs[to][dst]
	holder, held := m.holder(to, o.uid)
	want := http.StatusCreated
	switch {
	case exists && !overwrite:
		want = http.StatusPreconditionFailed
	case held && holder != dst && !(method == "MOVE" && from == to && holder == src):
		want = http.StatusConflict
	case exists && m.objs[to][dst].uid != o.uid:
		want = http.StatusForbidden
	case exists:
		want = http.StatusNoContent
	}
	r := m.do(op, method, m.path(from, src), "", h, want)
	if want == http.StatusConflict {
		if root, err := dav.ParseXML([]byte(r.body), dav.DefaultLimits); err != nil || root.Child(xml.Name{Space: dav.NSCalDAV, Local: "no-uid-conflict"}) == nil {
			m.t.Errorf("%s: 409 without CALDAV:no-uid-conflict: %s", op, r.body)
		}
	}
	if want >= 400 {
		m.counts[op+"-refused"]++
		return
	}
	if method == "MOVE" {
		delete(m.objs[from], src)
	}
	m.objs[to][dst] = o
}

func (m *syncModel) keep(cal int, r *syncReplica) {
	m.old[cal] = append(m.old[cal], r)
	if len(m.old[cal]) > 30 {
		m.old[cal] = slices.Delete(m.old[cal], 0, 1)
	}
}

// sync brings r up to date and checks it against the server's listing, the
// listing against the model, and the store's change log for its shape.
func (m *syncModel) sync(cal int, r *syncReplica, limit int) {
	m.t.Helper()
	st, err := r.syncOrRestart(m.e, m.col[cal], limit, nil, true)
	if err != nil {
		m.t.Fatalf("sync %s (limit %d): %v", r.href, limit, err)
	}
	m.counts["sync"]++
	m.counts["sync-pages"] += st.pages
	m.counts["sync-507"] += st.truncated
	m.counts["full-resync"] += st.restarts
	list, err := m.e.syncListing(m.cals[cal])
	if err != nil {
		m.t.Fatal(err)
	}
	if d := syncDiff(list, r.items); d != "" {
		m.t.Fatalf("after a sync with limit %d, the replica of %s (token %s) differs from the server:\n%s", limit, r.href, r.token, d)
	}
	m.checkServer(cal, list)
}

// checkServer compares the server's listing with the model, and the store's
// full change log with it: one entry per name, no tombstone for a live name.
func (m *syncModel) checkServer(cal int, list map[string]string) {
	m.t.Helper()
	want := map[string]string{}
	for name, o := range m.objs[cal] {
		want[m.cals[cal]+url.PathEscape(name)] = o.etag
	}
	if d := syncDiff(want, list); d != "" {
		m.t.Fatalf("the server's %s differs from the model:\n%s", m.cals[cal], d)
	}
	ch, err := m.e.st.ListChangesSince(m.t.Context(), m.ids[cal], 0, 0, false)
	if err != nil {
		m.t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range ch.Changes {
		if seen[c.Name] {
			m.t.Fatalf("%s: the change log lists %q twice", m.cals[cal], c.Name)
		}
		seen[c.Name] = true
		if _, live := m.objs[cal][c.Name]; live == c.Deleted {
			m.t.Fatalf("%s: the change log says %q deleted=%v, the model disagrees", m.cals[cal], c.Name, c.Deleted)
		}
	}
}

// TestSyncModel interleaves random creates, updates, deletes, MOVEs (within
// and between two calendars) and COPYs with syncs at random points, many in
// small pages; after every completed sync the client's replica must equal the
// server's collection. -sync.seed replays a run, -sync.ops makes it longer.
func TestSyncModel(t *testing.T) {
	seed := *syncSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -sync.seed=%d)", seed, seed)
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.syncMust(t, "MKCALENDAR", syncWork, "", nil, http.StatusCreated)
		m := &syncModel{
			t: t, e: e, rng: rand.New(rand.NewPCG(seed, 0x5eed)),
			cals:   [2]string{syncCal, syncWork},
			objs:   [2]map[string]syncObject{{}, {}},
			reps:   [2]*syncReplica{newSyncReplica(syncCal), newSyncReplica(syncWork)},
			ids:    [2]int64{e.syncCollection(t, "alice", store.KindCalendar, "personal").ID, e.syncCollection(t, "alice", store.KindCalendar, "work").ID},
			counts: map[string]int{},
		}
		for i, name := range []string{"personal", "work"} {
			m.col[i] = e.syncCollectionGetter(t, "alice", store.KindCalendar, name)
		}
		start := time.Now()
		for step := 0; m.ops() < *syncOps; step++ {
			m.step()
			if t.Failed() {
				t.Fatalf("failed at step %d (seed %d)", step, seed)
			}
		}
		for cal := range m.cals {
			m.sync(cal, m.reps[cal], 0)
			for _, r := range m.old[cal] {
				m.sync(cal, r, 2)
			}
		}
		ops := m.ops()
		t.Logf("%d operations in %v: %v", ops, time.Since(start).Round(time.Millisecond), m.counts)
	})
}

// TestSyncConcurrent: writers PUT and DELETE on one calendar while a
// pruner forgets tombstones 40 milliseconds old and a client syncs
// incrementally (often in pages) and polls getctag. Tokens and ctags never go
// backwards, every refused token deserved it, and after the writers stop one
// more sync makes the replica equal to the server.
func TestSyncConcurrent(t *testing.T) {
	const (
		nWriters = 4
		opsEach  = 60
	)
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		var (
			writers, all            sync.WaitGroup
			writersDone, done, stop atomic.Bool
			prunes, pruned          atomic.Int64
			own                     [nWriters]map[string]string // each writer's private names → ETag
		)
		for w := range nWriters {
			own[w] = map[string]string{}
			writers.Add(1)
			go func() {
				defer writers.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 42))
				for i := range opsEach {
					if stop.Load() {
						return
					}
					if rng.IntN(5) == 0 {
						// Names every writer touches: unconditional writes
						// that race each other.
						name := fmt.Sprintf("shared-%d.ics", rng.IntN(3))
						if rng.IntN(2) == 0 {
							r, err := e.syncSend("PUT", syncCal+name, syncEvent("uid-"+name, fmt.Sprintf("w%d-%d", w, i)), syncICS)
							if err != nil || (r.status != 201 && r.status != 204) {
								t.Errorf("writer %d: PUT %s: %v %d %s", w, name, err, r.status, r.body)
								return
							}
						} else {
							r, err := e.syncSend("DELETE", syncCal+name, "", nil)
							if err != nil || (r.status != 204 && r.status != 404) {
								t.Errorf("writer %d: DELETE %s: %v %d", w, name, err, r.status)
								return
							}
						}
						continue
					}
					name := fmt.Sprintf("w%d-%d.ics", w, rng.IntN(6))
					etag, live := own[w][name]
					if live && rng.IntN(3) == 0 {
						r, err := e.syncSend("DELETE", syncCal+name, "", map[string]string{"If-Match": etag})
						if err != nil || r.status != 204 {
							t.Errorf("writer %d: DELETE %s: %v %d", w, name, err, r.status)
							return
						}
						delete(own[w], name)
						continue
					}
					h, want := syncWith(syncICS, "If-None-Match", "*"), 201
					if live {
						h, want = syncWith(syncICS, "If-Match", etag), 204
					}
					r, err := e.syncSend("PUT", syncCal+name, syncEvent("uid-"+name, fmt.Sprintf("v%d", i)), h)
					if err != nil || r.status != want {
						t.Errorf("writer %d: PUT %s: %v %d, want %d %s", w, name, err, r.status, want, r.body)
						return
					}
					own[w][name] = r.header.Get("ETag")
				}
			}()
		}
		all.Add(1)
		go func() {
			defer all.Done()
			for !writersDone.Load() && !stop.Load() {
				n, err := st.PruneTombstones(context.Background(), time.Now().Add(-40*time.Millisecond))
				if err != nil {
					t.Errorf("PruneTombstones: %v", err)
					return
				}
				prunes.Add(1)
				pruned.Add(n)
				time.Sleep(10 * time.Millisecond)
			}
		}()
		go func() { writers.Wait(); writersDone.Store(true); all.Wait(); done.Store(true) }()

		col := e.syncCollectionGetter(t, "alice", store.KindCalendar, "personal")
		rep := newSyncReplica(syncCal)
		var (
			total syncStats
			syncs int
			last  int64 // highest modseq seen in a token or getctag
		)
		rng := rand.New(rand.NewPCG(7, 7))
		step := func() error {
			st, err := rep.syncOrRestart(e, col, []int{0, 1, 3}[rng.IntN(3)], nil, false)
			if err != nil {
				return err
			}
			syncs++
			total.pages += st.pages
			total.restarts += st.restarts
			_, m, err := syncTokenModSeq(rep.token)
			if err != nil {
				return err
			}
			if m < last {
				return fmt.Errorf("sync token %d went behind %d", m, last)
			}
			last = m
			tok, err := e.syncTokenOf(syncCal)
			if err != nil {
				return err
			}
			_, ctag, err := syncTokenModSeq(tok)
			if err != nil {
				return err
			}
			if ctag < last {
				return fmt.Errorf("getctag %d is behind the last sync token %d", ctag, last)
			}
			last = ctag
			return nil
		}
		for !done.Load() {
			if err := step(); err != nil {
				// Stop the writers before failing: the server goes
				// away with the test.
				stop.Store(true)
				writers.Wait()
				all.Wait()
				t.Fatal(err)
			}
		}
		if t.Failed() {
			return
		}
		// Everyone has stopped: an incremental sync (a full one if the
		// token fell behind the pruning) must now give the server's state.
		if _, err := rep.syncOrRestart(e, col, 2, nil, true); err != nil {
			t.Fatal(err)
		}
		if err := e.syncCheck(rep); err != nil {
			t.Fatal(err)
		}
		if cur := e.syncCollectionToken(t, syncCal); rep.token != cur {
			t.Errorf("final token %s, collection token %s", rep.token, cur)
		}
		for w := range nWriters {
			for name, etag := range own[w] {
				if rep.items[syncCal+name] != etag {
					t.Errorf("writer %d's %s: replica has %q, writer wrote %q", w, name, rep.items[syncCal+name], etag)
				}
			}
		}
		t.Logf("%d writers × %d operations against %d syncs (%d pages, %d full resyncs after pruning) and %d prunes (%d tombstones)",
			nWriters, opsEach, syncs, total.pages, total.restarts, prunes.Load(), pruned.Load())
	})
}

// syncPruneOnce is what the serve command's pruning loop does each hour.
func syncPruneOnce(ctx context.Context, st store.Store, retention time.Duration) (int64, error) {
	return st.PruneTombstones(ctx, time.Now().Add(-retention))
}

// TestSyncTombstoneRetention: pruning tombstones older than the retention
// raises pruned_modseq to the newest pruned deletion, so tokens from before
// it are refused while later ones keep working; a re-created name comes
// back as a change.
func TestSyncTombstoneRetention(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ctx := t.Context()
		// d.ics stays untouched: a live member older than the pruning.
		for _, n := range []string{"a", "b", "c", "d"} {
			e.syncMust(t, "PUT", syncCal+n+".ics", syncEvent("uid-"+n, n), syncICS, http.StatusCreated)
		}
		t0 := e.syncCollectionToken(t, syncCal)
		e.syncMust(t, "DELETE", syncCal+"a.ics", "", nil, http.StatusNoContent)
		t1 := e.syncCollectionToken(t, syncCal)
		time.Sleep(30 * time.Millisecond)
		between := time.Now()
		time.Sleep(30 * time.Millisecond)
		e.syncMust(t, "DELETE", syncCal+"b.ics", "", nil, http.StatusNoContent)
		t2 := e.syncCollectionToken(t, syncCal)

		// try syncs from tok: the number of deletions listed, or -1 for a
		// refused token.
		try := func(t *testing.T, tok string) (*syncPage, int) {
			t.Helper()
			r := e.syncMust(t, "REPORT", syncCal, syncRequest(tok, 0, "D:getetag"), syncDepth0, http.StatusMultiStatus, http.StatusForbidden)
			if r.status != http.StatusMultiStatus {
				if !strings.Contains(canonical(t, r.body), "<D:valid-sync-token/>") {
					t.Errorf("403 without DAV:valid-sync-token: %s", r.body)
				}
				return nil, -1
			}
			p, err := parseSyncPage(r.body, syncCal)
			if err != nil {
				t.Fatal(err)
			}
			return p, len(p.deleted)
		}
		const refused = -1
		steps := []struct {
			name      string
			retention func() time.Duration // read when the step prunes
			removed   int64
			pruned    int64          // PrunedModSeq after the step
			answers   map[string]int // token → deletions listed, or refused
		}{
			// The default keeps everything this young.
			{"default retention", func() time.Duration { return 90 * 24 * time.Hour }, 0, 0, map[string]int{t0: 2, t1: 1, t2: 0}},
			// Forget the first deletion only: t0 could miss it; t1 has
			// seen it and needs only what came after.
			{"older than the first deletion", func() time.Duration { return time.Since(between) }, 1, syncMustModSeq(t, t1), map[string]int{t0: refused, t1: 1, t2: 0}},
			{"again, nothing more to prune", func() time.Duration { return time.Since(between) }, 0, syncMustModSeq(t, t1), map[string]int{t0: refused, t1: 1, t2: 0}},
			// Retention 0 forgets every deletion so far.
			{"zero retention", func() time.Duration { return 0 }, 1, syncMustModSeq(t, t2), map[string]int{t0: refused, t1: refused, t2: 0}},
			// An older cutoff never lowers pruned_modseq.
			{"a longer retention later", func() time.Duration { return time.Hour }, 0, syncMustModSeq(t, t2), map[string]int{t0: refused, t1: refused, t2: 0}},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				n, err := syncPruneOnce(ctx, st, s.retention())
				if err != nil || n != s.removed {
					t.Fatalf("pruned %d tombstones (%v), want %d", n, err, s.removed)
				}
				if got := e.syncCollection(t, "alice", store.KindCalendar, "personal").PrunedModSeq; got != s.pruned {
					t.Errorf("PrunedModSeq = %d, want %d", got, s.pruned)
				}
				for _, tok := range []string{t0, t1, t2} {
					if _, got := try(t, tok); got != s.answers[tok] {
						t.Errorf("sync from %s: %d deletions (-1: refused), want %d", tok, got, s.answers[tok])
					}
				}
			})
		}
		t.Run("re-created names", func(t *testing.T) {
			e.syncMust(t, "DELETE", syncCal+"c.ics", "", nil, http.StatusNoContent)
			t3 := e.syncCollectionToken(t, syncCal)
			// a's tombstone was pruned, c's is fresh: both go when the
			// names are made again, which syncs report as changes.
			e.syncMust(t, "PUT", syncCal+"a.ics", syncEvent("uid-a", "a is back"), syncICS, http.StatusCreated)
			e.syncMust(t, "PUT", syncCal+"c.ics", syncEvent("uid-c", "c is back"), syncICS, http.StatusCreated)
			for _, tok := range []string{t2, t3} {
				p, deleted := try(t, tok)
				if deleted != 0 || len(p.changed) != 2 || p.changed[syncCal+"a.ics"] == "" || p.changed[syncCal+"c.ics"] == "" {
					t.Errorf("sync from %s after re-creating a.ics and c.ics: %+v", tok, p)
				}
			}
			ch, err := st.ListChangesSince(ctx, e.syncCollection(t, "alice", store.KindCalendar, "personal").ID, 0, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range ch.Changes {
				if c.Deleted {
					t.Errorf("tombstone left for %q", c.Name)
				}
			}
		})
		t.Run("full sync in pages after pruning", func(t *testing.T) {
			// d.ics predates pruned_modseq, so the first page's plain
			// token would be refused: the server must hand out one it
			// serves, or the client could never finish (RFC 6578 §3.6).
			for _, limit := range []int{1, 2} {
				rep := newSyncReplica(syncCal)
				st, err := rep.sync(e, limit, nil, true)
				if err != nil {
					t.Fatal(err)
				}
				if st.truncated == 0 {
					t.Errorf("limit %d: no page was cut", limit)
				}
				if err := e.syncCheck(rep); err != nil {
					t.Fatal(err)
				}
			}
		})
	})
}

// pruneDuringSync is a real store that prunes every tombstone right before it
// lists a collection's changes once armed: the interleaving of an hourly
// prune with a sync that had already checked its token.
type pruneDuringSync struct {
	store.Store
	armed atomic.Bool
}

func (p *pruneDuringSync) ListChangesSince(ctx context.Context, collectionID, modseq int64, limit int, withBody bool) (*store.Changes, error) {
	if p.armed.CompareAndSwap(true, false) {
		if _, err := p.Store.PruneTombstones(ctx, time.Now().Add(time.Hour)); err != nil {
			return nil, err
		}
	}
	return p.Store.ListChangesSince(ctx, collectionID, modseq, limit, withBody)
}

// TestSyncPruneRace: a prune that lands between the token check and the
// listing must not let a sync answer without the deletions it removed.
func TestSyncPruneRace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		ps := &pruneDuringSync{Store: st}
		e := newEnv(t, ps)
		e.syncMust(t, "PUT", syncCal+"a.ics", syncEvent("uid-a", "a"), syncICS, http.StatusCreated)
		e.syncMust(t, "PUT", syncCal+"b.ics", syncEvent("uid-b", "b"), syncICS, http.StatusCreated)
		rep := newSyncReplica(syncCal)
		if _, err := rep.sync(e, 0, nil, true); err != nil {
			t.Fatal(err)
		}
		e.syncMust(t, "DELETE", syncCal+"a.ics", "", nil, http.StatusNoContent)
		ps.armed.Store(true)
		r := e.syncMust(t, "REPORT", syncCal, syncRequest(rep.token, 0, "D:getetag"), syncDepth0, http.StatusMultiStatus, http.StatusForbidden)
		if ps.armed.Load() {
			t.Fatal("the sync never listed changes")
		}
		if r.status == http.StatusMultiStatus {
			p, err := parseSyncPage(r.body, syncCal)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.deleted) == 0 {
				t.Fatalf("the deletion of a.ics was pruned during the sync, and the answer is a 207 without it:\n%s", r.body)
			}
			return
		}
		if !strings.Contains(canonical(t, r.body), "<D:valid-sync-token/>") {
			t.Errorf("403 without DAV:valid-sync-token: %s", r.body)
		}
	})
}
