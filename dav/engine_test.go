package dav

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// The engine's own tests: the Handler against thingKind (kind_test.go) and
// a real store of each backend, without the server around it.

// probeStore is a real store that counts the reads the engine makes and can
// fail them on demand.
type probeStore struct {
	store.Store
	mu         sync.Mutex
	lists      int  // ListObjects calls
	listBodies bool // some ListObjects call asked for bodies
	gets       int  // GetObjects calls
	failList   error
}

func (p *probeStore) ListObjects(ctx context.Context, id int64, opts store.ListObjectsOptions) ([]store.Object, error) {
	p.mu.Lock()
	p.lists++
	p.listBodies = p.listBodies || opts.WithBody
	err := p.failList
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return p.Store.ListObjects(ctx, id, opts)
}

func (p *probeStore) GetObjects(ctx context.Context, id int64, names []string, withBody bool) ([]store.Object, error) {
	p.mu.Lock()
	p.gets++
	p.mu.Unlock()
	return p.Store.GetObjects(ctx, id, names, withBody)
}

func (p *probeStore) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lists, p.listBodies, p.gets, p.failList = 0, false, 0, nil
}

// engine is a Handler serving thingKind for user alice, who owns the
// collection /dav/things/alice/box/.
type engine struct {
	h     *Handler
	st    *probeStore
	user  *store.User
	col   *store.Collection
	log   *bytes.Buffer
	logMu sync.Mutex
}

const boxHref = "/dav/things/alice/box/"

func newEngine(t *testing.T, s store.Store) *engine {
	t.Helper()
	ctx := context.Background()
	e := &engine{st: &probeStore{Store: s}, log: &bytes.Buffer{}}
	e.user = &store.User{Username: "alice", PasswordHash: "x"}
	if err := s.CreateUser(ctx, e.user, nil); err != nil {
		t.Fatal(err)
	}
	e.col = &store.Collection{OwnerID: e.user.ID, Kind: store.KindCalendar, Name: "box"}
	if err := s.CreateCollection(ctx, e.col); err != nil {
		t.Fatal(err)
	}
	e.h = &Handler{
		Store:       e.st,
		Kinds:       []Kind{thingKind{}},
		Logger:      slog.New(slog.NewTextHandler(lockedWriter{&e.logMu, e.log}, nil)),
		CurrentUser: func(context.Context) (*store.User, bool) { return e.user, true },
	}
	e.h.Init()
	return e
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *engine) logged() string {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return e.log.String()
}

// do serves one request; hdr holds header name/value pairs.
func (e *engine) do(t *testing.T, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, e.request(method, path, body, hdr...))
	return w
}

func (e *engine) request(method, path, body string, hdr ...string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

// put stores things named name → body through the store (quicker than PUT
// for many; PUT itself is tested on its own).
func (e *engine) put(t *testing.T, things ...string) {
	t.Helper()
	for i := 0; i+1 < len(things); i += 2 {
		name, body := things[i], things[i+1]
		uid, _, _ := strings.Cut(strings.TrimPrefix(body, "UID:"), "\n")
		o := &store.Object{CollectionID: e.col.ID, Name: name, UID: uid, Component: "THING",
			ContentType: "text/plain; charset=utf-8", Body: []byte(body), Size: int64(len(body)), ETag: computeETag([]byte(body))}
		if _, err := e.st.PutObject(context.Background(), o, store.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// A parsed 207, for canonical comparison (never strings.Contains on XML).
type msDoc struct {
	Responses []struct {
		Href      string   `xml:"DAV: href"`
		Status    string   `xml:"DAV: status"`
		Error     *anyNode `xml:"DAV: error"`
		PropStats []struct {
			Prop   anyNode  `xml:"DAV: prop"`
			Status string   `xml:"DAV: status"`
			Error  *anyNode `xml:"DAV: error"`
		} `xml:"DAV: propstat"`
	} `xml:"DAV: response"`
	SyncToken string `xml:"DAV: sync-token"`
}

// summary renders a 207 as one line per response: the href, then either
// "=> <code> [error]" or per propstat "<code>{prop prop}" with the error
// element after "!", in document order. A property's text, if any, follows
// "=" for the T:data and DAV:displayname elements.
func summary(t *testing.T, w *httptest.ResponseRecorder) []string {
	t.Helper()
	if w.Code != http.StatusMultiStatus {
		t.Fatalf("status %d, want 207; body:\n%s", w.Code, w.Body)
	}
	var doc msDoc
	if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("207 does not parse: %v\n%s", err, w.Body)
	}
	var out []string
	for _, r := range doc.Responses {
		line := r.Href
		if r.Status != "" {
			line += " => " + statusCode(r.Status)
			if r.Error != nil {
				line += " !" + errorNames(r.Error)
			}
		}
		for _, ps := range r.PropStats {
			var names []string
			for _, p := range ps.Prop.Nodes {
				n := p.XMLName.Local
				if (p.XMLName == tn("data") || p.XMLName == Name("displayname")) && p.Text != "" {
					n += "=" + p.Text
				}
				names = append(names, n)
			}
			line += " " + statusCode(ps.Status) + "{" + strings.Join(names, " ") + "}"
			if ps.Error != nil {
				line += "!" + errorNames(ps.Error)
			}
		}
		out = append(out, line)
	}
	if doc.SyncToken != "" {
		out = append(out, "token")
	}
	return out
}

func statusCode(line string) string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return "?" + line
	}
	return f[1]
}

func errorNames(e *anyNode) string {
	var names []string
	for _, n := range e.Nodes {
		names = append(names, n.XMLName.Local)
	}
	return strings.Join(names, ",")
}

func propfindBody(props ...string) string {
	return `<D:propfind xmlns:D="DAV:" xmlns:T="` + nsThing + `"><D:prop>` + strings.Join(props, "") + `</D:prop></D:propfind>`
}

func queryBody(inner string) string {
	return `<T:query xmlns:D="DAV:" xmlns:T="` + nsThing + `">` + inner + `</T:query>`
}

func checkLines(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("answer:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestEnginePropfind(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s store.Store) {
		e := newEngine(t, s)
		e.put(t, "a.txt", "UID:a\napple", "b.txt", "UID:b\nbanana")
		etagOnly := propfindBody(`<D:getetag/>`)
		tests := []struct {
			name, path, depth, body string
			hdr                     []string
			code                    int
			want                    []string // the summary of a 207
			cond                    string   // the precondition of an error answer
		}{
			{name: "depth 0 on a collection", path: boxHref, depth: "0", body: propfindBody(`<D:displayname/><T:label/>`), code: 207,
				want: []string{boxHref + " 200{displayname=box label}"}},
			{name: "depth 1 lists the members", path: boxHref, depth: "1", body: etagOnly, code: 207,
				want: []string{boxHref + " 404{getetag}", boxHref + "a.txt 200{getetag}", boxHref + "b.txt 200{getetag}"}},
			{name: "depth 1 on a home lists collections", path: "/dav/things/alice/", depth: "1", body: propfindBody(`<D:displayname/>`), code: 207,
				want: []string{"/dav/things/alice/ 404{displayname}", boxHref + " 200{displayname=box}"}},
			{name: "depth infinity refused on a collection", path: boxHref, depth: "infinity", body: etagOnly, code: 403, cond: "propfind-finite-depth"},
			{name: "no depth is infinity", path: boxHref, body: etagOnly, code: 403, cond: "propfind-finite-depth"},
			{name: "depth infinity on an object", path: boxHref + "a.txt", depth: "infinity", body: etagOnly, code: 207,
				want: []string{boxHref + "a.txt 200{getetag}"}},
			{name: "bad depth", path: boxHref, depth: "2", body: etagOnly, code: 400},
			{name: "propstats grouped by status, 200 first", path: boxHref, depth: "1",
				body: propfindBody(`<T:nope/><D:displayname/><T:data upper="no"/><D:getetag/><T:label/><T:data/>`), code: 207,
				want: []string{
					boxHref + " 200{displayname=box label} 404{nope data getetag data}",
					boxHref + "a.txt 200{getetag data=UID:a\napple} 403{data}!supported-data 404{nope displayname label}",
					boxHref + "b.txt 200{getetag data=UID:b\nbanana} 403{data}!supported-data 404{nope displayname label}",
				}},
			{name: "Prefer return=minimal drops the 404s", path: boxHref + "a.txt", depth: "0", hdr: []string{"Prefer", "return=minimal"},
				body: propfindBody(`<T:nope/><D:getetag/>`), code: 207, want: []string{boxHref + "a.txt 200{getetag}"}},
			{name: "Brief t drops the 404s", path: boxHref + "a.txt", depth: "0", hdr: []string{"Brief", "t"},
				body: propfindBody(`<T:nope/><D:getetag/>`), code: 207, want: []string{boxHref + "a.txt 200{getetag}"}},
			{name: "an empty prop answers each resource empty", path: boxHref, depth: "1", body: propfindBody(), code: 207,
				want: []string{boxHref + " 200{}", boxHref + "a.txt 200{}", boxHref + "b.txt 200{}"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.st.reset()
				hdr := tt.hdr
				if tt.depth != "" {
					hdr = append(hdr, "Depth", tt.depth)
				}
				w := e.do(t, "PROPFIND", tt.path, tt.body, hdr...)
				if w.Code != tt.code {
					t.Fatalf("status %d, want %d; body:\n%s", w.Code, tt.code, w.Body)
				}
				if tt.code == 207 {
					checkLines(t, summary(t, w), tt.want)
				}
				if tt.cond != "" {
					checkCondition(t, w, Name(tt.cond))
				}
				// A listing without a data property never reads bodies.
				if !strings.Contains(tt.body, "T:data") && e.st.listBodies {
					t.Errorf("the listing read bodies")
				}
			})
		}
	})
}

// checkCondition checks an RFC 4918 §16 error body naming cond.
func checkCondition(t *testing.T, w *httptest.ResponseRecorder, cond xml.Name) {
	t.Helper()
	var doc anyNode
	if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("error body does not parse: %v\n%s", err, w.Body)
	}
	// The condition, and beside it only the sentence for a person.
	if doc.XMLName != Name("error") || len(doc.Nodes) == 0 || len(doc.Nodes) > 2 || doc.Nodes[0].XMLName != cond ||
		len(doc.Nodes) == 2 && doc.Nodes[1].XMLName != davenportName("message") {
		t.Errorf("error body %s, want DAV:error holding %v", w.Body, cond)
	}
}

func TestEngineReportPlans(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s store.Store) {
		e := newEngine(t, s)
		e.put(t, "a.txt", "UID:a\napple pie", "b.txt", "UID:b\nbanana", "c.txt", "UID:c\napple tart")
		multiget := `<T:multiget xmlns:D="DAV:" xmlns:T="` + nsThing + `"><D:prop><D:getetag/></D:prop>` +
			`<D:href>` + boxHref + `c.txt</D:href><D:href>` + boxHref + `missing.txt</D:href>` +
			`<D:href>/dav/things/alice/other/a.txt</D:href><D:href>http://host` + boxHref + `a.txt</D:href></T:multiget>`
		tests := []struct {
			name, path, body string
			code             int
			want             []string // 207 summary
			cond             xml.Name // precondition of an error answer
			text             string   // a finished body
			lists, gets      int      // store reads, -1 unchecked
			bodies           bool     // a listing read bodies
		}{
			{name: "query without match reads no body", path: boxHref, body: queryBody(`<D:prop><D:getetag/></D:prop>`), code: 207,
				want:  []string{boxHref + "a.txt 200{getetag}", boxHref + "b.txt 200{getetag}", boxHref + "c.txt 200{getetag}"},
				lists: 1, gets: 0},
			{name: "query with match", path: boxHref, body: queryBody(`<D:prop><D:getetag/></D:prop><T:contains>apple</T:contains>`), code: 207,
				want: []string{boxHref + "a.txt 200{getetag}", boxHref + "c.txt 200{getetag}"}, lists: 1, gets: 0, bodies: true},
			{name: "query rendering data", path: boxHref, body: queryBody(`<D:prop><T:data/></D:prop><T:contains>banana</T:contains>`), code: 207,
				want: []string{boxHref + "b.txt 200{data=UID:b\nbanana}"}, lists: 1, gets: 0, bodies: true},
			{name: "query on an object that matches", path: boxHref + "a.txt", body: queryBody(`<D:prop><D:getetag/></D:prop><T:contains>apple</T:contains>`), code: 207,
				want: []string{boxHref + "a.txt 200{getetag}"}, lists: 0, gets: -1},
			{name: "query on an object that does not", path: boxHref + "b.txt", body: queryBody(`<T:contains>apple</T:contains>`), code: 207,
				want: nil, lists: 0, gets: -1},
			{name: "limit cuts with a 507", path: boxHref, body: queryBody(`<T:limit>1</T:limit><T:contains>apple</T:contains>`), code: 207,
				want: []string{boxHref + "a.txt 200{}", boxHref + " => 507 !number-of-matches-within-limits"}, lists: 1, gets: -1, bodies: true},
			{name: "limit counts matches only", path: boxHref, body: queryBody(`<T:limit>2</T:limit><T:contains>apple</T:contains>`), code: 207,
				want: []string{boxHref + "a.txt 200{}", boxHref + "c.txt 200{}"}, lists: 1, gets: -1, bodies: true},
			{name: "a data request the kind cannot produce fails the report", path: boxHref,
				body: queryBody(`<D:prop><D:getetag/><T:data upper="no"/></D:prop>`), code: 403, cond: tn("supported-data"), lists: 0, gets: 0},
			{name: "multiget in one query, 404 per missing href", path: boxHref, body: multiget, code: 207,
				want:  []string{boxHref + "c.txt 200{getetag}", boxHref + "missing.txt => 404", "/dav/things/alice/other/a.txt => 404", boxHref + "a.txt 200{getetag}"},
				lists: 0, gets: 1},
			{name: "fold pages every object with its body", path: boxHref, body: `<T:count xmlns:T="` + nsThing + `"/>`, code: 200,
				text: fmt.Sprintf("3 %d", len("UID:a\napple pie")+len("UID:b\nbanana")+len("UID:c\napple tart")), lists: 1, gets: 0, bodies: true},
			{name: "finished body", path: boxHref, body: `<T:hello xmlns:T="` + nsThing + `"/>`, code: 200, text: "hello", lists: 0, gets: 0},
			{name: "unknown report", path: boxHref, body: `<T:nope xmlns:T="` + nsThing + `"/>`, code: 403, cond: Name("supported-report"), lists: 0, gets: 0},
			{name: "report on a home", path: "/dav/things/alice/", body: `<T:hello xmlns:T="` + nsThing + `"/>`, code: 403, cond: Name("supported-report"), lists: 0, gets: 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.st.reset()
				w := e.do(t, "REPORT", tt.path, tt.body)
				if w.Code != tt.code {
					t.Fatalf("status %d, want %d; body:\n%s", w.Code, tt.code, w.Body)
				}
				switch {
				case tt.code == 207:
					checkLines(t, summary(t, w), tt.want)
				case tt.cond != xml.Name{}:
					checkCondition(t, w, tt.cond)
				default:
					if got := w.Body.String(); got != tt.text {
						t.Errorf("body %q, want %q", got, tt.text)
					}
					if ct := w.Header().Get("Content-Type"); ct != "text/plain" {
						t.Errorf("Content-Type %q", ct)
					}
				}
				if tt.lists >= 0 && e.st.lists != tt.lists {
					t.Errorf("%d listings, want %d", e.st.lists, tt.lists)
				}
				if tt.gets >= 0 && e.st.gets != tt.gets {
					t.Errorf("%d GetObjects calls, want %d", e.st.gets, tt.gets)
				}
				if e.st.listBodies != tt.bodies {
					t.Errorf("listing read bodies: %v, want %v", e.st.listBodies, tt.bodies)
				}
			})
		}
	})
}

// TestEngineSyncCollection: sync-collection goes through the same stream:
// its DAV:limit ends in the same 507, and its token resumes after the last
// change listed.
func TestEngineSyncCollection(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s store.Store) {
		e := newEngine(t, s)
		e.put(t, "a.txt", "UID:a\n1", "b.txt", "UID:b\n2", "c.txt", "UID:c\n3")
		sync := func(token string, limit int) (*httptest.ResponseRecorder, string) {
			body := `<D:sync-collection xmlns:D="DAV:"><D:sync-token>` + token + `</D:sync-token><D:sync-level>1</D:sync-level>`
			if limit > 0 {
				body += fmt.Sprintf(`<D:limit><D:nresults>%d</D:nresults></D:limit>`, limit)
			}
			w := e.do(t, "REPORT", boxHref, body+`<D:prop><D:getetag/></D:prop></D:sync-collection>`)
			var doc msDoc
			xml.Unmarshal(w.Body.Bytes(), &doc)
			return w, doc.SyncToken
		}
		w, tok := sync("", 2)
		checkLines(t, summary(t, w), []string{boxHref + "a.txt 200{getetag}", boxHref + "b.txt 200{getetag}",
			boxHref + " => 507 !number-of-matches-within-limits", "token"})
		if err := s.DeleteObject(context.Background(), e.col.ID, "a.txt", store.DeleteObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		w, _ = sync(tok, 0)
		checkLines(t, summary(t, w), []string{boxHref + "c.txt 200{getetag}", boxHref + "a.txt => 404", "token"})
	})
}

// recordingWriter notes how many store listings had been made when the
// first bytes of the answer reached it.
type recordingWriter struct {
	httptest.ResponseRecorder
	st        *probeStore
	firstList int // listings made before the first write; -1 before it
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	if r.firstList < 0 && len(p) > 0 {
		r.st.mu.Lock()
		r.firstList = r.st.lists
		r.st.mu.Unlock()
	}
	return r.ResponseRecorder.Write(p)
}

// TestEngineStreams: a listing of many members is written while the store
// is still being paged, not after the whole answer is built; and a fold over
// them sees every one.
func TestEngineStreams(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s store.Store) {
		e := newEngine(t, s)
		const n = 2*pageSize + 100 // three pages
		var things []string
		size := 0
		for i := range n {
			body := fmt.Sprintf("UID:%d\n%s", i, strings.Repeat("x", 100))
			things = append(things, fmt.Sprintf("thing-%04d.txt", i), body)
			size += len(body)
		}
		e.put(t, things...)
		for _, tt := range []struct{ name, method, body string }{
			{"propfind", "PROPFIND", propfindBody(`<D:getetag/><D:getcontentlength/>`)},
			{"query", "REPORT", queryBody(`<D:prop><D:getetag/><D:getcontentlength/></D:prop><T:contains>x</T:contains>`)},
		} {
			t.Run(tt.name, func(t *testing.T) {
				e.st.reset()
				w := &recordingWriter{ResponseRecorder: *httptest.NewRecorder(), st: e.st, firstList: -1}
				e.h.ServeHTTP(w, e.request(tt.method, boxHref, tt.body, "Depth", "1"))
				if got := len(summary(t, &w.ResponseRecorder)); got < n {
					t.Fatalf("%d responses, want at least %d", got, n)
				}
				if e.st.lists != 3 {
					t.Fatalf("%d listings, want 3 pages", e.st.lists)
				}
				if w.firstList < 1 || w.firstList >= e.st.lists {
					t.Errorf("first bytes written after %d of %d listings: the answer was not streamed", w.firstList, e.st.lists)
				}
			})
		}
		w := e.do(t, "REPORT", boxHref, `<T:count xmlns:T="`+nsThing+`"/>`)
		if want := fmt.Sprintf("%d %d", n, size); w.Body.String() != want {
			t.Errorf("fold: %q, want %q", w.Body, want)
		}
	})
}

// TestEngineErrors: store and kind errors map to their status in one place;
// preconditions carry their RFC 4918 §16 body; internal text is logged
// once and never sent.
func TestEngineErrors(t *testing.T) {
	secret := errors.New("secret: relation objects is broken")
	testdb.Each(t, func(t *testing.T, s store.Store) {
		e := newEngine(t, s)
		e.put(t, "a.txt", "UID:a\napple")
		tests := []struct {
			name, method, path, body string
			hdr                      []string
			failList                 error
			code                     int
			cond                     xml.Name
			logged                   bool // an internal error is logged
		}{
			{name: "missing object", method: "GET", path: boxHref + "nope.txt", code: 404},
			{name: "missing collection", method: "PROPFIND", path: "/dav/things/alice/nope/", hdr: []string{"Depth", "0"}, code: 404},
			{name: "another user's resources", method: "PROPFIND", path: "/dav/things/bob/box/", hdr: []string{"Depth", "0"}, code: 403, cond: Name("need-privileges")},
			{name: "put into a missing collection", method: "PUT", path: "/dav/things/alice/nope/x.txt", body: "UID:x\n", code: 409},
			{name: "invalid object", method: "PUT", path: boxHref + "x.txt", body: "no uid", code: 403, cond: tn("valid-thing")},
			{name: "uid in use", method: "PUT", path: boxHref + "x.txt", body: "UID:a\nagain", code: 409, cond: tn("no-uid-conflict")},
			{name: "if-match fails", method: "PUT", path: boxHref + "a.txt", body: "UID:a\nnew", hdr: []string{"If-Match", `"nope"`}, code: 412},
			{name: "malformed XML", method: "PROPFIND", path: boxHref, body: "<D:propfind", hdr: []string{"Depth", "0"}, code: 400},
			{name: "store failure before the answer", method: "PROPFIND", path: boxHref, body: propfindBody(`<D:getetag/>`), hdr: []string{"Depth", "1"},
				failList: secret, code: 500, logged: true},
			{name: "store failure in a report", method: "REPORT", path: boxHref, body: queryBody(``), failList: secret, code: 500, logged: true},
			{name: "property failure", method: "PROPFIND", path: boxHref + "a.txt", body: propfindBody(`<T:secret/>`), hdr: []string{"Depth", "0"}, code: 500, logged: true},
			{name: "match failure", method: "PUT+REPORT", path: boxHref, body: queryBody(`<T:contains>apple</T:contains>`), code: 500, logged: true},
			{name: "canceled", method: "PROPFIND", path: boxHref, body: propfindBody(`<D:getetag/>`), hdr: []string{"Depth", "1"},
				failList: fmt.Errorf("list: %w", context.Canceled), code: 200},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.st.reset()
				e.st.failList = tt.failList
				before := e.logged()
				method := tt.method
				if method == "PUT+REPORT" {
					e.put(t, "fail.txt", "UID:fail\nFAIL")
					defer s.DeleteObject(context.Background(), e.col.ID, "fail.txt", store.DeleteObjectOptions{})
					method = "REPORT"
				}
				w := e.do(t, method, tt.path, tt.body, tt.hdr...)
				if w.Code != tt.code {
					t.Fatalf("status %d, want %d; body:\n%s", w.Code, tt.code, w.Body)
				}
				if tt.cond != (xml.Name{}) {
					checkCondition(t, w, tt.cond)
				}
				if strings.Contains(w.Body.String(), "secret") {
					t.Errorf("internal text sent to the client: %s", w.Body)
				}
				log := strings.TrimPrefix(e.logged(), before)
				if n := strings.Count(log, "secret"); tt.logged != (n == 1) {
					t.Errorf("logged %d times (want logged: %v):\n%s", n, tt.logged, log)
				}
				// A refusal is logged once at info with its reason; nothing
				// else is.
				switch {
				case tt.code >= 400 && tt.code < 500:
					if strings.Count(log, "\n") != 1 || !strings.Contains(log, `level=INFO msg="request refused"`) ||
						!strings.Contains(log, fmt.Sprintf("status=%d", tt.code)) {
						t.Errorf("logged %q, want one info line for the refusal", log)
					}
				case !tt.logged && log != "":
					t.Errorf("logged %q", log)
				}
			})
		}
	})
}

// TestEngineFailureMidAnswer: once the 207 has begun no status can be sent:
// the answer is cut short and the error logged, not sent.
func TestEngineFailureMidAnswer(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s store.Store) {
		e := newEngine(t, s)
		var things []string
		for i := range pageSize + 10 {
			things = append(things, fmt.Sprintf("t-%04d.txt", i), fmt.Sprintf("UID:%d\nok", i))
		}
		things = append(things, "zz.txt", "UID:zz\nFAIL") // after the first page, in name order
		e.put(t, things...)
		w := e.do(t, "REPORT", boxHref, queryBody(`<D:prop><D:getetag/></D:prop><T:contains>ok</T:contains>`))
		if w.Code != http.StatusMultiStatus {
			t.Fatalf("status %d, want the 207 that had begun", w.Code)
		}
		if strings.Contains(w.Body.String(), "secret") {
			t.Errorf("internal text sent to the client")
		}
		if xml.Unmarshal(w.Body.Bytes(), new(msDoc)) == nil {
			t.Errorf("the cut answer parses as a whole document; the client cannot tell it was cut")
		}
		if n := strings.Count(e.logged(), "secret"); n != 1 {
			t.Errorf("logged %d times, want once:\n%s", n, e.logged())
		}
	})
}
