package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// errValidation marks an answer that came back with the right status but
// the wrong content: a correctness failure of the server, not a timing.
var errValidation = errors.New("wrong answer")

// Workload names, in the order they run.
const (
	wSeedEvents   = "seed-events"
	wSeedCards    = "seed-cards"
	wPropfind     = "propfind"
	wQuery        = "calendar-query"
	wQueryNarrow  = "calendar-query-narrow"
	wMultiget     = "multiget"
	wSyncInitial  = "sync-initial"
	wSyncIncr     = "sync-incremental"
	wGet          = "get"
	wPut          = "put"
	wCardQuery    = "addressbook-query"
	wFreeBusy     = "free-busy"
	multigetHrefs = 100
	syncChanges   = 10
)

// allWorkloads are the measured workloads after seeding, in order.
var allWorkloads = []string{wPropfind, wQuery, wQueryNarrow, wMultiget, wSyncInitial, wSyncIncr, wGet, wPut, wCardQuery, wFreeBusy}

// optInWorkloads run only when named: "all" leaves them out because not
// every peer answers them (Radicale 3.1 has no free-busy-query).
var optInWorkloads = map[string]bool{wFreeBusy: true}

var descriptions = map[string]string{
	wSeedEvents:  "PUT If-None-Match:* of N events (80% single, 15% weekly, 5% own VTIMEZONE)",
	wSeedCards:   "PUT If-None-Match:* of N vCards 3.0",
	wPropfind:    "PROPFIND Depth:1 getetag+getcontenttype on the calendar (N members)",
	wQuery:       "calendar-query VEVENT time-range of one week, getetag+calendar-data",
	wQueryNarrow: "calendar-query VEVENT time-range of one week × 1,000/N (≈13 events at any N), getetag+calendar-data",
	wMultiget:    "calendar-multiget of 100 hrefs, getetag+calendar-data",
	wSyncInitial: "sync-collection with an empty token, getetag (N members)",
	wSyncIncr:    "sync-collection since a token taken before 10 changes (8 updates, 1 delete, 1 create)",
	wGet:         "GET of one event",
	wPut:         "PUT update of one event with If-Match",
	wCardQuery:   "addressbook-query text-match EMAIL contains (≈1%), getetag+address-data",
	wFreeBusy:    "free-busy-query over one year (about half of the N events and their instances)",
}

// shouldValidate picks the answers that are parsed and checked: the first
// three and every 50th. The rest are only read to the end, so the client
// spends its CPU on sending requests, not on parsing XML.
func shouldValidate(seq int) bool { return seq < 3 || seq%50 == 0 }

// bench is one run against one server.
type bench struct {
	c      *client
	gen    generator
	n      int
	spec   runSpec
	seedTO time.Duration
	fill   string   // how to complete a seeding cut short by seedTO
	cal    *url.URL // our calendar (trailing slash)
	book   *url.URL // our address book
	log    *slog.Logger

	events []event // metadata of events 0..n (n is created by the sync workload)

	mu         sync.Mutex
	etags      []string // current ETag per event index, "" when unknown
	revs       []int    // current revision per event index
	evPresent  []bool
	cardPresnt []bool
}

// Fill modes: what happens when seeding by PUT has not stored N items
// within --seed-timeout.
const (
	fillNone          = "none"           // the run fails
	fillCollectionPut = "collection-put" // PUT all N to the collection URL
)

func newBench(c *client, gen generator, n int, spec runSpec, seedTimeout time.Duration, fill string, log *slog.Logger) *bench {
	b := &bench{c: c, gen: gen, n: n, spec: spec, seedTO: seedTimeout, fill: fill, log: log,
		events: make([]event, n+1), etags: make([]string, n+1), revs: make([]int, n+1),
		evPresent: make([]bool, n+1), cardPresnt: make([]bool, n)}
	for i := range b.events {
		b.events[i] = gen.event(i)
	}
	return b
}

func (b *bench) eventURL(i int) string { return joinURL(b.cal, eventName(i)) }
func (b *bench) cardURL(i int) string  { return joinURL(b.book, cardName(i)) }

// eventHref is the absolute path of event i, as multiget sends it.
func (b *bench) eventHref(i int) string {
	u, _ := url.Parse(b.eventURL(i))
	return u.EscapedPath()
}

func (b *bench) setEvent(i int, present bool, etag string, rev int) {
	b.mu.Lock()
	b.evPresent[i], b.etags[i], b.revs[i] = present, etag, rev
	b.mu.Unlock()
}

func (b *bench) eventState(i int) (present bool, etag string, rev int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.evPresent[i], b.etags[i], b.revs[i]
}

// presentEvents lists the indexes of stored events, ascending.
func (b *bench) presentEvents() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []int
	for i, p := range b.evPresent {
		if p {
			out = append(out, i)
		}
	}
	return out
}

// pick returns a deterministic pseudo-random element of live for request
// seq under salt.
func pick(live []int, seq int, salt uint64) int {
	r := rand.New(rand.NewPCG(salt, uint64(seq)))
	return live[r.IntN(len(live))]
}

func withDesc(name string, st runStats, validated bool) Result {
	r := newResult(name, descriptions[name], st)
	r.Validated = validated && st.Ops > 0
	return r
}

func failed(name string, err error) Result {
	return Result{Workload: name, Description: descriptions[name], Failure: err.Error()}
}

func davHeaders(depth string) map[string]string {
	h := map[string]string{"Content-Type": "application/xml; charset=utf-8"}
	if depth != "" {
		h["Depth"] = depth
	}
	return h
}

// --- seeding ---

func (b *bench) progress(name string) func(done, failed int) {
	return func(done, failed int) {
		b.log.Info("seeding", "name", name, "done", done, "of", b.n, "failed", failed)
	}
}

// seeding describes one kind of item to seed: events or cards.
type seeding struct {
	workload    string // wSeedEvents, wSeedCards
	noun, home  string // "events", "calendar"
	contentType string
	url         func(i int) string
	body        func(i int) []byte
	collection  string                   // the collection's URL, for the whole-collection PUT
	whole       func() []byte            // all N items as one body
	stored      func(i int, etag string) // item i was PUT
	storedAll   func()                   // every item was stored by the whole-collection PUT
}

// seed PUTs N items one by one within the seed time bound (the figures);
// with --fill collection-put, what is left is stored with one PUT of the
// whole collection, a Radicale extension.
func (b *bench) seed(ctx context.Context, sd seeding) Result {
	spec := runSpec{Concurrency: b.spec.Concurrency, Duration: b.seedTO, MaxOps: b.n, Progress: b.progress(sd.workload)}
	st := runWorkload(ctx, spec, func(ctx context.Context, w, i int) (opOutcome, error) {
		body := sd.body(i)
		rep, err := b.c.do(ctx, request{Method: http.MethodPut, URL: sd.url(i), Body: body,
			Header: map[string]string{"Content-Type": sd.contentType, "If-None-Match": "*"},
			Want:   []int{201, 204}})
		if err != nil {
			return opOutcome{}, err
		}
		sd.stored(i, rep.Header.Get("ETag"))
		return opOutcome{Items: 1, Bytes: int64(len(body))}, nil
	})
	r := withDesc(sd.workload, st, true)
	if st.Ops == b.n || r.Failure != "" || ctx.Err() != nil {
		return r
	}
	if b.fill != fillCollectionPut {
		r.Failure = fmt.Sprintf("seeded only %d of %d %s within %s", st.Ops, b.n, sd.noun, b.seedTO)
		return r
	}
	t0 := time.Now()
	_, err := b.c.do(ctx, request{Method: http.MethodPut, URL: sd.collection, Body: sd.whole(),
		Header: map[string]string{"Content-Type": sd.contentType}, Want: []int{200, 201, 204}})
	if err != nil {
		r.Failure = fmt.Sprintf("filling the %s with one PUT of all %d %s: %v", sd.home, b.n, sd.noun, err)
		return r
	}
	sd.storedAll()
	r.Note = fmt.Sprintf("%d of %d %s PUT one by one within %s (the figures); all %d then stored with one whole-collection PUT in %.1fs",
		st.Ops, b.n, sd.noun, b.seedTO, b.n, time.Since(t0).Seconds())
	return r
}

func (b *bench) seedEvents(ctx context.Context) Result {
	return b.seed(ctx, seeding{
		workload: wSeedEvents, noun: "events", home: "calendar",
		contentType: "text/calendar; charset=utf-8",
		url:         b.eventURL,
		body:        func(i int) []byte { return b.events[i].ICS(0) },
		collection:  b.cal.String(),
		whole:       func() []byte { return wholeCalendar(b.events[:b.n]) },
		stored:      func(i int, etag string) { b.setEvent(i, true, etag, 0) },
		storedAll: func() {
			for i := range b.n {
				b.setEvent(i, true, "", 0) // the server re-filed them: ETags unknown
			}
		},
	})
}

func (b *bench) seedCards(ctx context.Context) Result {
	return b.seed(ctx, seeding{
		workload: wSeedCards, noun: "cards", home: "address book",
		contentType: "text/vcard; charset=utf-8",
		url:         b.cardURL,
		body:        func(i int) []byte { return b.gen.card(i).VCF() },
		collection:  b.book.String(),
		whole: func() []byte {
			var all []byte
			for i := range b.n {
				all = append(all, b.gen.card(i).VCF()...)
			}
			return all
		},
		stored: func(i int, _ string) {
			b.mu.Lock()
			b.cardPresnt[i] = true
			b.mu.Unlock()
		},
		storedAll: func() {
			b.mu.Lock()
			for i := range b.cardPresnt {
				b.cardPresnt[i] = true
			}
			b.mu.Unlock()
		},
	})
}

// --- listings ---

// checkNames compares the member names of a 207 (status 200, with the
// property have() accepts) with the expected set.
func checkNames(ms *multistatus, want []string, have func(*msProp) bool) error {
	var got []string
	for _, m := range ms.members() {
		name := memberName(m.Href)
		if name == "" || m.Status != 200 {
			continue
		}
		if !have(&m.Prop) {
			return fmt.Errorf("%w: %s came back without the requested property", errValidation, m.Href)
		}
		got = append(got, name)
	}
	slices.Sort(got)
	w := slices.Sorted(slices.Values(want))
	if slices.Equal(got, w) {
		return nil
	}
	missing, extra := diffSorted(w, got)
	return fmt.Errorf("%w: expected %d members, got %d (missing %s; unexpected %s)",
		errValidation, len(w), len(got), sample(missing), sample(extra))
}

// diffSorted returns a−b and b−a of two sorted lists.
func diffSorted(a, b []string) (onlyA, onlyB []string) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			onlyA = append(onlyA, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			onlyB = append(onlyB, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return onlyA, onlyB
}

func sample(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
	}
	return strings.Join(names, ", ")
}

func (b *bench) eventNames(idx []int) []string {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = eventName(i)
	}
	return out
}

func hasETag(p *msProp) bool { return strings.TrimSpace(p.GetETag) != "" }
func hasCalendarData(p *msProp) bool {
	return hasETag(p) && strings.Contains(p.CalendarData, "BEGIN:VCALENDAR")
}
func hasAddressData(p *msProp) bool {
	return hasETag(p) && strings.Contains(p.AddressData, "BEGIN:VCARD")
}

func (b *bench) propfind(ctx context.Context) Result {
	return withDesc(wPropfind, runWorkload(ctx, b.spec, b.propfindOp()), true)
}

func (b *bench) propfindOp() op {
	live := b.presentEvents()
	want := b.eventNames(live)
	body := propfindBody(`<d:getetag/><d:getcontenttype/>`)
	return func(ctx context.Context, w, seq int) (opOutcome, error) {
		check := shouldValidate(seq)
		rep, err := b.c.do(ctx, request{Method: "PROPFIND", URL: b.cal.String(), Header: davHeaders("1"),
			Body: body, Want: []int{207}, Keep: check})
		if err != nil {
			return opOutcome{}, err
		}
		if check {
			ms, err := parseMultistatus(rep.Body)
			if err != nil {
				return opOutcome{}, err
			}
			if err := checkNames(ms, want, func(p *msProp) bool {
				return hasETag(p) && strings.HasPrefix(strings.ToLower(p.GetContentType), "text/calendar")
			}); err != nil {
				return opOutcome{}, err
			}
		}
		return opOutcome{Items: len(want), Bytes: rep.Bytes}, nil
	}
}

func (b *bench) calendarQuery(ctx context.Context) Result {
	return b.timeRangeQuery(ctx, wQuery, b.gen.weekRange)
}

// calendarQueryNarrow asks for ranges that hold as many events at any N as
// a week holds at N = 1,000 (generator.narrowRange). Its answer does not
// grow with the collection, so neither should its cost.
func (b *bench) calendarQueryNarrow(ctx context.Context) Result {
	return b.timeRangeQuery(ctx, wQueryNarrow, func(w int) (time.Time, time.Time) { return b.gen.narrowRange(w, b.n) })
}

// timeRangeQuery runs a calendar-query workload over the ranges window
// gives for the weeks of the spread.
func (b *bench) timeRangeQuery(ctx context.Context, name string, window func(week int) (time.Time, time.Time)) Result {
	return withDesc(name, runWorkload(ctx, b.spec, b.timeRangeOp(window)), true)
}

// timeRangeOp is one calendar-query over the ranges window gives.
func (b *bench) timeRangeOp(window func(week int) (time.Time, time.Time)) op {
	live := b.presentEvents()
	expect := make(map[int][]string, 2*spreadWeeks)
	for w := -spreadWeeks; w < spreadWeeks; w++ {
		s, e := window(w)
		var names []string
		for _, i := range live {
			if b.events[i].Overlaps(s, e) {
				names = append(names, eventName(i))
			}
		}
		expect[w] = names
	}
	return func(ctx context.Context, w, seq int) (opOutcome, error) {
		week := queryWeek(seq)
		s, e := window(week)
		check := shouldValidate(seq)
		rep, err := b.c.do(ctx, request{Method: "REPORT", URL: b.cal.String(), Header: davHeaders("1"),
			Body: calendarQueryBody(s, e), Want: []int{207}, Keep: check})
		if err != nil {
			return opOutcome{}, err
		}
		if check {
			ms, err := parseMultistatus(rep.Body)
			if err != nil {
				return opOutcome{}, err
			}
			if err := checkNames(ms, expect[week], hasCalendarData); err != nil {
				return opOutcome{}, fmt.Errorf("REPORT calendar-query %s..%s: %w", s.Format(time.DateOnly), e.Format(time.DateOnly), err)
			}
		}
		return opOutcome{Items: len(expect[week]), Bytes: rep.Bytes}, nil
	}
}

func (b *bench) multiget(ctx context.Context) Result {
	return withDesc(wMultiget, runWorkload(ctx, b.spec, b.multigetOp()), true)
}

func (b *bench) multigetOp() op {
	live := b.presentEvents()
	k := min(multigetHrefs, len(live))
	return func(ctx context.Context, w, seq int) (opOutcome, error) {
		r := rand.New(rand.NewPCG(0x6d676574, uint64(seq)))
		chosen := make([]int, 0, k)
		for _, p := range r.Perm(len(live))[:k] {
			chosen = append(chosen, live[p])
		}
		hrefs := make([]string, k)
		for j, i := range chosen {
			hrefs[j] = b.eventHref(i)
		}
		check := shouldValidate(seq)
		rep, err := b.c.do(ctx, request{Method: "REPORT", URL: b.cal.String(), Header: davHeaders("1"),
			Body: calendarMultigetBody(hrefs), Want: []int{207}, Keep: check})
		if err != nil {
			return opOutcome{}, err
		}
		if check {
			ms, err := parseMultistatus(rep.Body)
			if err != nil {
				return opOutcome{}, err
			}
			if err := checkNames(ms, b.eventNames(chosen), hasCalendarData); err != nil {
				return opOutcome{}, fmt.Errorf("REPORT calendar-multiget: %w", err)
			}
		}
		return opOutcome{Items: k, Bytes: rep.Bytes}, nil
	}
}

// --- sync ---

func (b *bench) syncReport(ctx context.Context, token string, keep bool) (*reply, error) {
	// RFC 6578 §3.2: the report is defined for Depth: 0.
	return b.c.do(ctx, request{Method: "REPORT", URL: b.cal.String(), Header: davHeaders("0"),
		Body: syncCollectionBody(token), Want: []int{207}, Keep: keep})
}

func (b *bench) syncInitial(ctx context.Context) Result {
	return withDesc(wSyncInitial, runWorkload(ctx, b.spec, b.syncInitialOp()), true)
}

func (b *bench) syncInitialOp() op {
	want := b.eventNames(b.presentEvents())
	return func(ctx context.Context, w, seq int) (opOutcome, error) {
		check := shouldValidate(seq)
		rep, err := b.syncReport(ctx, "", check)
		if err != nil {
			return opOutcome{}, err
		}
		if check {
			ms, err := parseMultistatus(rep.Body)
			if err != nil {
				return opOutcome{}, err
			}
			if strings.TrimSpace(ms.SyncToken) == "" {
				return opOutcome{}, fmt.Errorf("%w: sync-collection answered without DAV:sync-token", errValidation)
			}
			if err := checkNames(ms, want, hasETag); err != nil {
				return opOutcome{}, fmt.Errorf("REPORT sync-collection (initial): %w", err)
			}
		}
		return opOutcome{Items: len(want), Bytes: rep.Bytes}, nil
	}
}

// syncChangesSetup takes a token, then makes 10 changes: 8 updates with
// If-Match, 1 delete, 1 create. It returns the token and what a sync from
// it must list.
func (b *bench) syncChangesSetup(ctx context.Context) (token string, changed, deleted []string, err error) {
	rep, err := b.syncReport(ctx, "", true)
	if err != nil {
		return "", nil, nil, err
	}
	ms, err := parseMultistatus(rep.Body)
	if err != nil {
		return "", nil, nil, err
	}
	token = strings.TrimSpace(ms.SyncToken)
	if token == "" {
		return "", nil, nil, fmt.Errorf("%w: sync-collection answered without DAV:sync-token", errValidation)
	}
	live := b.presentEvents()
	if len(live) < syncChanges {
		return "", nil, nil, fmt.Errorf("only %d events stored, need %d", len(live), syncChanges)
	}
	var targets []int
	for k := range syncChanges - 1 {
		targets = append(targets, live[k*len(live)/(syncChanges-1)])
	}
	for _, i := range targets[:syncChanges-2] {
		if err := b.updateEvent(ctx, i, nil); err != nil {
			return "", nil, nil, err
		}
		changed = append(changed, eventName(i))
	}
	del := targets[syncChanges-2]
	_, etag, _ := b.eventState(del)
	h := map[string]string{}
	if etag != "" {
		h["If-Match"] = etag
	}
	if _, err := b.c.do(ctx, request{Method: http.MethodDelete, URL: b.eventURL(del), Header: h, Want: []int{200, 204}}); err != nil {
		return "", nil, nil, err
	}
	b.setEvent(del, false, "", 0)
	deleted = append(deleted, eventName(del))
	created := b.n // the spare index
	body := b.events[created].ICS(0)
	prep, err := b.c.do(ctx, request{Method: http.MethodPut, URL: b.eventURL(created), Body: body,
		Header: map[string]string{"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"}, Want: []int{201, 204}})
	if err != nil {
		return "", nil, nil, err
	}
	b.setEvent(created, true, prep.Header.Get("ETag"), 0)
	changed = append(changed, eventName(created))
	return token, changed, deleted, nil
}

func (b *bench) syncIncremental(ctx context.Context) Result {
	token, changed, deleted, err := b.syncChangesSetup(ctx)
	if err != nil {
		return failed(wSyncIncr, fmt.Errorf("setting up 10 changes: %w", err))
	}
	st := runWorkload(ctx, b.spec, func(ctx context.Context, w, seq int) (opOutcome, error) {
		check := shouldValidate(seq)
		rep, err := b.syncReport(ctx, token, check)
		if err != nil {
			return opOutcome{}, err
		}
		if check {
			ms, err := parseMultistatus(rep.Body)
			if err != nil {
				return opOutcome{}, err
			}
			if err := checkSyncDelta(ms, changed, deleted); err != nil {
				return opOutcome{}, fmt.Errorf("REPORT sync-collection since %s: %w", token, err)
			}
		}
		return opOutcome{Items: len(changed) + len(deleted), Bytes: rep.Bytes}, nil
	})
	return withDesc(wSyncIncr, st, true)
}

// checkSyncDelta checks an incremental sync answer: each changed member
// with its ETag, each deleted one as a 404 response (RFC 6578 §3.5.2), and
// nothing else.
func checkSyncDelta(ms *multistatus, changed, deleted []string) error {
	if strings.TrimSpace(ms.SyncToken) == "" {
		return fmt.Errorf("%w: no DAV:sync-token", errValidation)
	}
	var gotChanged, gotDeleted []string
	for _, m := range ms.members() {
		name := memberName(m.Href)
		switch {
		case name == "":
			continue // the collection itself (e.g. a 507 for truncation)
		case m.Status == 200 && hasETag(&m.Prop):
			gotChanged = append(gotChanged, name)
		case m.Status == 404:
			gotDeleted = append(gotDeleted, name)
		default:
			return fmt.Errorf("%w: %s came back with status %d", errValidation, m.Href, m.Status)
		}
	}
	slices.Sort(gotChanged)
	slices.Sort(gotDeleted)
	wc, wd := slices.Sorted(slices.Values(changed)), slices.Sorted(slices.Values(deleted))
	if !slices.Equal(gotChanged, wc) || !slices.Equal(gotDeleted, wd) {
		return fmt.Errorf("%w: expected changed %s and deleted %s, got changed %s and deleted %s",
			errValidation, sample(wc), sample(wd), sample(gotChanged), sample(gotDeleted))
	}
	return nil
}

// --- single objects ---

func (b *bench) get(ctx context.Context) Result {
	return withDesc(wGet, runWorkload(ctx, b.spec, b.getOp()), true)
}

func (b *bench) getOp() op {
	live := b.presentEvents()
	return func(ctx context.Context, w, seq int) (opOutcome, error) {
		i := pick(live, seq, 0x67657420)
		rep, err := b.c.do(ctx, request{Method: http.MethodGet, URL: b.eventURL(i), Want: []int{200}, Keep: true})
		if err != nil {
			return opOutcome{}, err
		}
		if shouldValidate(seq) {
			if !strings.Contains(string(rep.Body), "UID:"+b.events[i].UID) {
				return opOutcome{}, fmt.Errorf("%w: GET %s: body without UID %s: %s", errValidation, b.eventURL(i), b.events[i].UID, excerpt(rep.Body, 200))
			}
			if rep.Header.Get("ETag") == "" {
				return opOutcome{}, fmt.Errorf("%w: GET %s: no ETag header", errValidation, b.eventURL(i))
			}
		}
		return opOutcome{Items: 1, Bytes: rep.Bytes}, nil
	}
}

// updateEvent PUTs the next revision of event i with If-Match on the ETag
// last seen. When the server answers without an ETag (RFC 4791 §5.3.4
// allows that when it changed the data), a HEAD learns it, and its time is
// added to *untimed.
func (b *bench) updateEvent(ctx context.Context, i int, untimed *time.Duration) error {
	_, etag, rev := b.eventState(i)
	if etag == "" {
		t0 := time.Now()
		var err error
		if etag, err = b.headETag(ctx, i); err != nil {
			return err
		}
		if untimed != nil {
			*untimed += time.Since(t0)
		}
	}
	rev++
	rep, err := b.c.do(ctx, request{Method: http.MethodPut, URL: b.eventURL(i), Body: b.events[i].ICS(rev),
		Header: map[string]string{"Content-Type": "text/calendar; charset=utf-8", "If-Match": etag},
		Want:   []int{200, 201, 204}})
	if err != nil {
		return err
	}
	b.setEvent(i, true, rep.Header.Get("ETag"), rev)
	return nil
}

func (b *bench) headETag(ctx context.Context, i int) (string, error) {
	rep, err := b.c.do(ctx, request{Method: http.MethodHead, URL: b.eventURL(i), Want: []int{200}})
	if err != nil {
		return "", err
	}
	etag := rep.Header.Get("ETag")
	if etag == "" {
		return "", fmt.Errorf("%w: HEAD %s: no ETag header", errValidation, b.eventURL(i))
	}
	return etag, nil
}

func (b *bench) put(ctx context.Context) Result {
	return withDesc(wPut, runWorkload(ctx, b.spec, b.putOp()), true)
}

// putOp updates events with If-Match; worker w owns the events at
// positions ≡ w (mod concurrency), so no two workers race on one ETag:
// every If-Match must succeed.
func (b *bench) putOp() op {
	live := b.presentEvents()
	conc := b.spec.Concurrency
	next := make([]int, conc)
	return func(ctx context.Context, w, seq int) (opOutcome, error) {
		slots := (len(live) - w + conc - 1) / conc
		if slots <= 0 {
			return opOutcome{}, fmt.Errorf("no event for worker %d", w)
		}
		i := live[w+conc*(next[w]%slots)]
		next[w]++
		var untimed time.Duration
		if err := b.updateEvent(ctx, i, &untimed); err != nil {
			return opOutcome{Untimed: untimed}, err
		}
		return opOutcome{Items: 1, Untimed: untimed}, nil
	}
}

// --- address book ---

func (b *bench) addressbookQuery(ctx context.Context) Result {
	return withDesc(wCardQuery, runWorkload(ctx, b.spec, b.addressbookQueryOp()), true)
}

func (b *bench) addressbookQueryOp() op {
	expect := make([][]string, emailTagModulus)
	b.mu.Lock()
	for i, p := range b.cardPresnt {
		if p {
			expect[i%emailTagModulus] = append(expect[i%emailTagModulus], cardName(i))
		}
	}
	b.mu.Unlock()
	return func(ctx context.Context, w, seq int) (opOutcome, error) {
		k := (seq * 31) % emailTagModulus
		check := shouldValidate(seq)
		rep, err := b.c.do(ctx, request{Method: "REPORT", URL: b.book.String(), Header: davHeaders("1"),
			Body: addressbookQueryBody(emailTag(k)), Want: []int{207}, Keep: check})
		if err != nil {
			return opOutcome{}, err
		}
		if check {
			ms, err := parseMultistatus(rep.Body)
			if err != nil {
				return opOutcome{}, err
			}
			if err := checkNames(ms, expect[k], hasAddressData); err != nil {
				return opOutcome{}, fmt.Errorf("REPORT addressbook-query EMAIL contains %q: %w", emailTag(k), err)
			}
		}
		return opOutcome{Items: len(expect[k]), Bytes: rep.Bytes}, nil
	}
}

// freeBusy asks for the busy time of the year after the anchor: every
// event of that year is read, so the server's memory for it shows in the
// peak RSS the run reports (--pid).
func (b *bench) freeBusy(ctx context.Context) Result {
	start := b.gen.anchor
	end := start.AddDate(1, 0, 0)
	busy := 0
	for _, i := range b.presentEvents() {
		if b.events[i].Overlaps(start, end) {
			busy++
		}
	}
	st := runWorkload(ctx, b.spec, func(ctx context.Context, w, seq int) (opOutcome, error) {
		check := shouldValidate(seq)
		rep, err := b.c.do(ctx, request{Method: "REPORT", URL: b.cal.String(), Header: davHeaders("1"),
			Body: freeBusyQueryBody(start, end), Want: []int{200}, Keep: check})
		if err != nil {
			return opOutcome{}, err
		}
		if check {
			text := string(rep.Body)
			if !strings.Contains(text, "BEGIN:VFREEBUSY") || (busy > 0 && !strings.Contains(text, "FREEBUSY")) {
				return opOutcome{}, fmt.Errorf("REPORT free-busy-query: %w: no VFREEBUSY with busy periods", errValidation)
			}
		}
		return opOutcome{Items: busy, Bytes: rep.Bytes}, nil
	})
	return withDesc(wFreeBusy, st, true)
}
