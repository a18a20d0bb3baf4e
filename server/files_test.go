package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// The files home (/dav/files/{user}/, plain WebDAV folders, RFC 4918) over
// real HTTP on both stores. Each test has its own stores and servers, so
// they run in parallel: the package's wall time grows by the longest, not
// by their sum.

const filesHome = "/dav/files/alice/"

// step is one request of a scenario and the status it must get; body,
// when set, is what a GET of path must then answer.
type step struct {
	method, path, body string
	header             map[string]string
	user, password     string
	want               int
	wantGet            string // after the step, GET path answers this (or 404 for "-")
}

func (e *env) run(t *testing.T, steps []step) {
	t.Helper()
	for i, s := range steps {
		resp := e.do(request{method: s.method, path: s.path, body: s.body, header: s.header, user: s.user, password: s.password})
		body := readBody(t, resp)
		if resp.StatusCode != s.want {
			t.Fatalf("step %d: %s %s = %d, want %d\n%s", i, s.method, s.path, resp.StatusCode, s.want, body)
		}
	}
}

// wantFile fails unless GET path answers status (and, for 200, body).
func (e *env) wantFile(t *testing.T, path string, status int, body string) {
	t.Helper()
	resp := e.do(request{method: http.MethodGet, path: path})
	got := readBody(t, resp)
	if resp.StatusCode != status || status == http.StatusOK && got != body {
		t.Errorf("GET %s = %d %q, want %d %q", path, resp.StatusCode, got, status, body)
	}
}

func dest(e *env, path string) map[string]string {
	return map[string]string{"Destination": e.srv.URL + path}
}

// TestFilesPutGet: any bytes and any Content-Type round-trip, with the
// headers a plain HTTP client relies on; a PUT needs its parent folder.
func TestFilesPutGet(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		bin := string([]byte{0, 1, 2, 0xff, 0xfe, '\r', '\n', 0x80})
		for _, tc := range []struct {
			name, body, ctype, wantType string
		}{
			{"plain.txt", "hello\n", "text/plain; charset=utf-8", "text/plain; charset=utf-8"},
			{"blob.bin", bin, "", "application/octet-stream"},
			{"odd.type", "x", "application/x-whatever; foo=\"bar baz\"", "application/x-whatever; foo=\"bar baz\""},
			{"empty", "", "text/plain", "text/plain"},
		} {
			h := map[string]string{}
			if tc.ctype != "" {
				h["Content-Type"] = tc.ctype
			}
			resp := e.do(request{method: http.MethodPut, path: filesHome + tc.name, body: tc.body, header: h})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("PUT %s = %d %s", tc.name, resp.StatusCode, readBody(t, resp))
			}
			etag := resp.Header.Get("ETag")
			for _, m := range []string{http.MethodGet, http.MethodHead} {
				resp := e.do(request{method: m, path: filesHome + tc.name})
				got := readBody(t, resp)
				if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != etag || etag == "" ||
					resp.Header.Get("Content-Type") != tc.wantType ||
					resp.Header.Get("Content-Length") != strconv.Itoa(len(tc.body)) ||
					resp.Header.Get("Last-Modified") == "" {
					t.Errorf("%s %s = %d %v", m, tc.name, resp.StatusCode, resp.Header)
				}
				if want := map[string]string{http.MethodGet: tc.body, http.MethodHead: ""}[m]; got != want {
					t.Errorf("%s %s body = %q, want %q", m, tc.name, got, want)
				}
			}
		}
		e.run(t, []step{
			{method: http.MethodPut, path: filesHome + "plain.txt", body: "again", want: http.StatusNoContent},
			{method: http.MethodPut, path: filesHome + "plain.txt", body: "x", header: map[string]string{"If-None-Match": "*"}, want: http.StatusPreconditionFailed},
			{method: http.MethodPut, path: filesHome + "missing/x.txt", body: "x", want: http.StatusConflict},
			{method: http.MethodPut, path: filesHome, body: "x", want: http.StatusMethodNotAllowed},
			{method: "MKCOL", path: filesHome + "plain.txt/", want: http.StatusMethodNotAllowed},
			{method: "MKCOL", path: filesHome + "d/e/", want: http.StatusConflict},
			{method: "MKCOL", path: filesHome + "d/", want: http.StatusCreated},
			{method: "MKCOL", path: filesHome + "d/", want: http.StatusMethodNotAllowed},
			{method: "MKCOL", path: filesHome + "d/e/", body: "junk", header: map[string]string{"Content-Type": "text/plain"}, want: http.StatusUnsupportedMediaType},
			{method: "MKCOL", path: filesHome + "d/e", want: http.StatusCreated},
			{method: http.MethodPut, path: filesHome + "d/e/f.txt", body: "deep", want: http.StatusCreated},
		})
		e.wantFile(t, filesHome+"plain.txt", http.StatusOK, "again")
		e.wantFile(t, filesHome+"d/e/f.txt", http.StatusOK, "deep")
	})
}

// TestFilesCopyMove: COPY and MOVE of files and trees, with Overwrite and
// Depth (RFC 4918 §9.8, §9.9).
func TestFilesCopyMove(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		h := filesHome
		e.run(t, []step{
			{method: "MKCOL", path: h + "src/", want: http.StatusCreated},
			{method: "MKCOL", path: h + "src/sub/", want: http.StatusCreated},
			{method: http.MethodPut, path: h + "src/a.txt", body: "A", want: http.StatusCreated},
			{method: http.MethodPut, path: h + "src/sub/b.txt", body: "B", want: http.StatusCreated},
			{method: http.MethodPut, path: h + "file.txt", body: "F", want: http.StatusCreated},
		})
		for _, tc := range []struct {
			name                      string
			method, from, to          string
			depth, overwrite, ifMatch string
			want                      int
			present                   map[string]string // path → body after
			absent                    []string
		}{
			{name: "copy tree", method: "COPY", from: "src/", to: "dst/", want: http.StatusCreated,
				present: map[string]string{"dst/a.txt": "A", "dst/sub/b.txt": "B", "src/sub/b.txt": "B"}},
			{name: "copy tree onto tree, Overwrite F", method: "COPY", from: "src/", to: "dst/", overwrite: "F", want: http.StatusPreconditionFailed},
			{name: "copy tree onto tree", method: "COPY", from: "src/sub/", to: "dst/", overwrite: "T", want: http.StatusNoContent,
				present: map[string]string{"dst/b.txt": "B"}, absent: []string{"dst/a.txt", "dst/sub/b.txt"}},
			{name: "copy shallow", method: "COPY", from: "src/", to: "shallow/", depth: "0", want: http.StatusCreated,
				absent: []string{"shallow/a.txt", "shallow/sub/b.txt"}},
			{name: "copy Depth 1", method: "COPY", from: "src/", to: "one/", depth: "1", want: http.StatusBadRequest},
			{name: "copy file", method: "COPY", from: "file.txt", to: "src/copy.txt", want: http.StatusCreated,
				present: map[string]string{"src/copy.txt": "F", "file.txt": "F"}},
			{name: "copy file onto file, Overwrite F", method: "COPY", from: "file.txt", to: "src/a.txt", overwrite: "F", want: http.StatusPreconditionFailed,
				present: map[string]string{"src/a.txt": "A"}},
			{name: "copy file onto file", method: "COPY", from: "file.txt", to: "src/a.txt", want: http.StatusNoContent,
				present: map[string]string{"src/a.txt": "F"}},
			{name: "copy file, If-Match stale", method: "COPY", from: "file.txt", to: "src/stale.txt", ifMatch: `"0000"`, want: http.StatusPreconditionFailed,
				absent: []string{"src/stale.txt"}},
			{name: "move folder, If-Match", method: "MOVE", from: "src/sub/", to: "src/sub2/", ifMatch: `"0000"`, want: http.StatusPreconditionFailed,
				present: map[string]string{"src/sub/b.txt": "B"}},
			{name: "copy into a missing folder", method: "COPY", from: "file.txt", to: "nope/x.txt", want: http.StatusConflict},
			{name: "copy tree into itself", method: "COPY", from: "src/", to: "src/sub/in/", want: http.StatusForbidden},
			{name: "copy onto itself", method: "COPY", from: "file.txt", to: "file.txt", want: http.StatusForbidden},
			{name: "move tree", method: "MOVE", from: "dst/", to: "moved/", want: http.StatusCreated,
				present: map[string]string{"moved/b.txt": "B"}, absent: []string{"dst/b.txt"}},
			{name: "move tree Depth 0", method: "MOVE", from: "moved/", to: "m0/", depth: "0", want: http.StatusBadRequest},
			{name: "move file onto folder", method: "MOVE", from: "file.txt", to: "moved/", want: http.StatusNoContent,
				present: map[string]string{"moved": "F"}, absent: []string{"file.txt", "moved/b.txt"}},
			{name: "move folder onto file", method: "MOVE", from: "shallow/", to: "moved", want: http.StatusNoContent,
				absent: []string{"shallow/"}},
			{name: "move tree, Overwrite F", method: "MOVE", from: "src/", to: "moved/", overwrite: "F", want: http.StatusPreconditionFailed,
				present: map[string]string{"src/a.txt": "F"}},
			{name: "move the home", method: "MOVE", from: "", to: "home2/", want: http.StatusForbidden},
			{name: "move a missing file", method: "MOVE", from: "gone.txt", to: "x.txt", want: http.StatusNotFound},
			{name: "delete tree", method: http.MethodDelete, from: "src/", want: http.StatusNoContent,
				absent: []string{"src/a.txt", "src/sub/b.txt", "src/"}},
			{name: "delete the home", method: http.MethodDelete, from: "", want: http.StatusForbidden},
		} {
			hd := map[string]string{}
			if tc.to != "" {
				hd = dest(e, h+tc.to)
			}
			if tc.depth != "" {
				hd["Depth"] = tc.depth
			}
			if tc.overwrite != "" {
				hd["Overwrite"] = tc.overwrite
			}
			if tc.ifMatch != "" {
				hd["If-Match"] = tc.ifMatch
			}
			resp := e.do(request{method: tc.method, path: h + tc.from, header: hd})
			if resp.StatusCode != tc.want {
				t.Fatalf("%s: %s = %d, want %d: %s", tc.name, tc.method, resp.StatusCode, tc.want, readBody(t, resp))
			}
			for p, body := range tc.present {
				e.wantFile(t, h+p, http.StatusOK, body)
			}
			for _, p := range tc.absent {
				if resp := e.do(request{method: "PROPFIND", path: h + p, header: map[string]string{"Depth": "0"}}); resp.StatusCode != http.StatusNotFound {
					t.Errorf("%s: %s is still there (%d)", tc.name, p, resp.StatusCode)
				}
			}
		}
		e.run(t, []step{
			{method: "COPY", path: h + "moved/", header: map[string]string{"Destination": "http://elsewhere.example" + h + "x/"}, want: http.StatusBadGateway},
			{method: "COPY", path: h + "moved/", header: dest(e, "/dav/calendars/alice/x/"), want: http.StatusForbidden},
		})
	})
}

// TestFilesOverwriteAncestor: a COPY or MOVE with Overwrite: T onto a
// folder that holds the source would delete the source with the
// destination; it is refused (403) and the destination stays as it was.
// (It used to delete the folder and then find no source: 404, and the
// folder and everything in it gone.)
func TestFilesOverwriteAncestor(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		h := filesHome
		e.run(t, []step{
			{method: "MKCOL", path: h + "top/", want: http.StatusCreated},
			{method: "MKCOL", path: h + "top/sub/", want: http.StatusCreated},
			{method: http.MethodPut, path: h + "top/a.txt", body: "A", want: http.StatusCreated},
			{method: http.MethodPut, path: h + "top/sub/b.txt", body: "B", want: http.StatusCreated},
		})
		for _, tc := range []struct{ method, from string }{
			{"MOVE", "top/sub/"}, {"COPY", "top/sub/"}, {"MOVE", "top/sub/b.txt"}, {"COPY", "top/a.txt"},
		} {
			hd := dest(e, h+"top/")
			hd["Overwrite"] = "T"
			resp := e.do(request{method: tc.method, path: h + tc.from, header: hd})
			if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s onto top/ = %d, want 403\n%s", tc.method, tc.from, resp.StatusCode, body)
			}
			e.wantFile(t, h+"top/a.txt", http.StatusOK, "A")
			e.wantFile(t, h+"top/sub/b.txt", http.StatusOK, "B")
		}
		// A folder replacing a folder elsewhere replaces it whole.
		e.run(t, []step{
			{method: "MKCOL", path: h + "other/", want: http.StatusCreated},
			{method: http.MethodPut, path: h + "other/c.txt", body: "C", want: http.StatusCreated},
			{method: "MOVE", path: h + "other/", header: dest(e, h+"top/"), want: http.StatusNoContent},
		})
		e.wantFile(t, h+"top/c.txt", http.StatusOK, "C")
		e.wantFile(t, h+"top/a.txt", http.StatusNotFound, "")
		e.wantFile(t, h+"other/c.txt", http.StatusNotFound, "")
		// A file replacing a file is one store transaction too.
		e.run(t, []step{
			{method: http.MethodPut, path: h + "d.txt", body: "D", want: http.StatusCreated},
			{method: "MOVE", path: h + "d.txt", header: dest(e, h+"top/c.txt"), want: http.StatusNoContent},
		})
		e.wantFile(t, h+"top/c.txt", http.StatusOK, "D")
		e.wantFile(t, h+"d.txt", http.StatusNotFound, "")
	})
}

// TestFilesPropfind: listings show folders and files with the live
// properties of RFC 4918 §15; Depth infinity is refused as elsewhere.
func TestFilesPropfind(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.run(t, []step{
			{method: "MKCOL", path: filesHome + "docs/", want: http.StatusCreated},
			{method: "MKCOL", path: filesHome + "docs/inner/", want: http.StatusCreated},
			{method: http.MethodPut, path: filesHome + "docs/r.txt", body: "12345", header: map[string]string{"Content-Type": "text/x-r"}, want: http.StatusCreated},
		})
		etag := e.do(request{method: http.MethodHead, path: filesHome + "docs/r.txt"}).Header.Get("ETag")
		resp := e.do(request{method: "PROPFIND", path: filesHome + "docs/", header: map[string]string{"Depth": "1"}})
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusMultiStatus {
			t.Fatalf("PROPFIND = %d: %s", resp.StatusCode, body)
		}
		for _, want := range []string{
			"<D:href>/dav/files/alice/docs/</D:href>",
			"<D:href>/dav/files/alice/docs/inner/</D:href>",
			"<D:href>/dav/files/alice/docs/r.txt</D:href>",
			"<D:displayname>inner</D:displayname>",
			"<D:getcontentlength>5</D:getcontentlength>",
			"<D:getcontenttype>text/x-r</D:getcontenttype>",
			"<D:getetag>" + strings.ReplaceAll(etag, `"`, "&#34;") + "</D:getetag>",
			"<D:resourcetype><D:collection/></D:resourcetype>",
			"<D:creationdate>",
		} {
			if !strings.Contains(body, want) && !strings.Contains(body, strings.ReplaceAll(want, "&#34;", `"`)) {
				t.Errorf("PROPFIND Depth 1 lacks %s:\n%s", want, body)
			}
		}
		if n := strings.Count(body, "<D:response>"); n != 3 {
			t.Errorf("PROPFIND Depth 1 has %d responses, want 3 (the folder, its folder and its file)", n)
		}
		resp = e.do(request{method: "PROPFIND", path: filesHome, header: map[string]string{"Depth": "infinity"}})
		if got := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(got, "propfind-finite-depth") {
			t.Errorf("PROPFIND Depth infinity = %d %s", resp.StatusCode, got)
		}
		resp = e.do(request{method: "PROPFIND", path: filesHome, header: map[string]string{"Depth": "1"}})
		if got := readBody(t, resp); strings.Contains(got, "inner") || !strings.Contains(got, "/dav/files/alice/docs/<") {
			t.Errorf("the home's Depth 1 listing shows more or less than its own members:\n%s", got)
		}
		// sync-collection on a folder comes from the engine: its files.
		resp = e.do(request{method: "REPORT", path: filesHome + "docs/", header: map[string]string{"Depth": "1"},
			body: `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`})
		if got := readBody(t, resp); resp.StatusCode != http.StatusMultiStatus || !strings.Contains(got, "/dav/files/alice/docs/r.txt<") || !strings.Contains(got, "<D:sync-token>") {
			t.Errorf("sync-collection on a folder = %d:\n%s", resp.StatusCode, got)
		}
	})
}

// TestFilesDeadProps: dead properties of files and folders, in any
// namespace, with xml:lang and inner XML, round-trip and follow COPY and
// MOVE; live protected ones are refused.
func TestFilesDeadProps(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.run(t, []step{
			{method: "MKCOL", path: filesHome + "f/", want: http.StatusCreated},
			{method: http.MethodPut, path: filesHome + "f/p.txt", body: "p", want: http.StatusCreated},
		})
		set := `<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://example.com/z"><D:set><D:prop>
<Z:lang xml:lang="fr">bonjour</Z:lang>
<Z:tree><Z:leaf a="1">x</Z:leaf><Y:other xmlns:Y="urn:y">y</Y:other></Z:tree>
<nons xmlns="">plain</nons>
<D:displayname>Shown</D:displayname>
</D:prop></D:set></D:propertyupdate>`
		find := `<D:propfind xmlns:D="DAV:" xmlns:Z="http://example.com/z"><D:prop><Z:lang/><Z:tree/><nons xmlns=""/><D:displayname/></D:prop></D:propfind>`
		check := func(path string) {
			t.Helper()
			resp := e.do(request{method: "PROPFIND", path: path, body: find, header: map[string]string{"Depth": "0"}})
			body := readBody(t, resp)
			for _, want := range []string{`xml:lang="fr"`, ">bonjour<", `a="1"`, ">x<", "urn:y", ">y<", ">plain<", ">Shown<"} {
				if !strings.Contains(body, want) {
					t.Errorf("PROPFIND %s lacks %s:\n%s", path, want, body)
				}
			}
			if strings.Contains(body, "404") {
				t.Errorf("PROPFIND %s has a 404 propstat:\n%s", path, body)
			}
		}
		for _, p := range []string{filesHome + "f/p.txt", filesHome + "f/"} {
			resp := e.do(request{method: "PROPPATCH", path: p, body: set})
			if body := readBody(t, resp); resp.StatusCode != http.StatusMultiStatus || strings.Contains(body, "HTTP/1.1 4") {
				t.Fatalf("PROPPATCH %s = %d %s", p, resp.StatusCode, body)
			}
			check(p)
		}
		e.run(t, []step{
			{method: "COPY", path: filesHome + "f/p.txt", header: dest(e, filesHome+"copy.txt"), want: http.StatusCreated},
			{method: "MOVE", path: filesHome + "f/p.txt", header: dest(e, filesHome+"moved.txt"), want: http.StatusCreated},
			{method: "COPY", path: filesHome + "f/", header: dest(e, filesHome+"g/"), want: http.StatusCreated},
		})
		check(filesHome + "copy.txt")
		check(filesHome + "moved.txt")
		check(filesHome + "g/")

		resp := e.do(request{method: "PROPPATCH", path: filesHome + "moved.txt", body: `<D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://example.com/z">
<D:remove><D:prop><Z:lang/></D:prop></D:remove>
<D:set><D:prop><D:getetag>"x"</D:getetag></D:prop></D:set></D:propertyupdate>`})
		body := readBody(t, resp)
		if !strings.Contains(body, "cannot-modify-protected-property") || !strings.Contains(body, "424") {
			t.Errorf("PROPPATCH of getetag = %d %s", resp.StatusCode, body)
		}
		check(filesHome + "moved.txt") // the failed patch changed nothing
		e.run(t, []step{{method: "PROPPATCH", path: filesHome + "moved.txt", want: http.StatusMultiStatus, body: `<D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://example.com/z">
<D:remove><D:prop><Z:lang/></D:prop></D:remove></D:propertyupdate>`}})
		resp = e.do(request{method: "PROPFIND", path: filesHome + "moved.txt", body: find, header: map[string]string{"Depth": "0"}})
		if body := readBody(t, resp); strings.Contains(body, "bonjour") || !strings.Contains(body, ">plain<") {
			t.Errorf("after removing Z:lang:\n%s", body)
		}
	})
}

// TestFilesQuota: files count toward the user's quota (RFC 4331), and a
// write past it is 507 with DAV:quota-not-exceeded.
func TestFilesQuota(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, func(c *server.Config) { c.Quota = 1000 })
		big := strings.Repeat("x", 600)
		e.run(t, []step{
			{method: http.MethodPut, path: filesHome + "a", body: big, want: http.StatusCreated},
			{method: http.MethodPut, path: filesHome + "a", body: big + strings.Repeat("y", 300), want: http.StatusNoContent},
			{method: "MKCOL", path: filesHome + "d/", want: http.StatusCreated},
		})
		for _, tc := range []struct {
			name, method, path, body string
			header                   map[string]string
		}{
			{"put", http.MethodPut, filesHome + "b", big, nil},
			{"put in a folder", http.MethodPut, filesHome + "d/b", strings.Repeat("z", 101), nil},
			{"copy", "COPY", filesHome + "a", "", dest(e, filesHome+"d/a")},
		} {
			resp := e.do(request{method: tc.method, path: tc.path, body: tc.body, header: tc.header})
			if body := readBody(t, resp); resp.StatusCode != http.StatusInsufficientStorage || !strings.Contains(body, "quota-not-exceeded") {
				t.Errorf("%s over the quota = %d %s", tc.name, resp.StatusCode, body)
			}
		}
		e.run(t, []step{
			{method: http.MethodPut, path: filesHome + "d/b", body: strings.Repeat("z", 100), want: http.StatusCreated},
			{method: "MOVE", path: filesHome + "a", header: dest(e, filesHome+"d/a"), want: http.StatusCreated},
			{method: http.MethodDelete, path: filesHome + "d/", want: http.StatusNoContent},
			{method: http.MethodPut, path: filesHome + "b", body: big, want: http.StatusCreated},
		})
		resp := e.do(request{method: "PROPFIND", path: filesHome, header: map[string]string{"Depth": "0"},
			body: `<D:propfind xmlns:D="DAV:"><D:prop><D:quota-used-bytes/><D:quota-available-bytes/></D:prop></D:propfind>`})
		if body := readBody(t, resp); !strings.Contains(body, "<D:quota-used-bytes>600<") || !strings.Contains(body, "<D:quota-available-bytes>400<") {
			t.Errorf("quota properties:\n%s", body)
		}
	})
}

// TestFilesIsolation: another user can neither read nor write a files
// home, by any method, nor copy or move into it (403, as the rest of the
// server answers another user's URL space).
func TestFilesIsolation(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.run(t, []step{
			{method: "MKCOL", path: filesHome + "private/", want: http.StatusCreated},
			{method: http.MethodPut, path: filesHome + "private/secret.txt", body: "secret", want: http.StatusCreated},
			{method: http.MethodPut, path: "/dav/files/bob/mine.txt", body: "bob's", user: "bob", password: bobPassword, want: http.StatusCreated},
		})
		for _, tc := range []struct {
			method, path string
			header       map[string]string
		}{
			{http.MethodGet, filesHome + "private/secret.txt", nil},
			{http.MethodHead, filesHome + "private/secret.txt", nil},
			{"PROPFIND", filesHome, map[string]string{"Depth": "1"}},
			{"PROPFIND", "/dav/files/ALICE/private/", map[string]string{"Depth": "1"}},
			{http.MethodPut, filesHome + "private/new.txt", nil},
			{http.MethodPut, filesHome + "private/secret.txt", nil},
			{http.MethodDelete, filesHome + "private/", nil},
			{"MKCOL", filesHome + "bobs/", nil},
			{"PROPPATCH", filesHome + "private/secret.txt", nil},
			{"COPY", filesHome + "private/secret.txt", dest(e, "/dav/files/bob/stolen.txt")},
			{"MOVE", filesHome + "private/", dest(e, "/dav/files/bob/stolen/")},
			{"COPY", "/dav/files/bob/mine.txt", dest(e, filesHome+"planted.txt")},
			{"MOVE", "/dav/files/bob/mine.txt", dest(e, filesHome+"private/secret.txt")},
		} {
			resp := e.do(request{method: tc.method, path: tc.path, header: tc.header, body: "x", user: "bob", password: bobPassword})
			if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden {
				t.Errorf("bob's %s %s = %d, want 403: %s", tc.method, tc.path, resp.StatusCode, body)
			}
		}
		e.wantFile(t, filesHome+"private/secret.txt", http.StatusOK, "secret")
		e.wantFile(t, filesHome+"planted.txt", http.StatusNotFound, "")
		resp := e.do(request{method: http.MethodGet, path: "/dav/files/bob/mine.txt", user: "bob", password: bobPassword})
		if got := readBody(t, resp); got != "bob's" {
			t.Errorf("bob's own file = %d %q", resp.StatusCode, got)
		}
		resp = e.do(request{method: "PROPFIND", path: "/dav/files/bob/", header: map[string]string{"Depth": "1"}, user: "bob", password: bobPassword})
		if got := readBody(t, resp); strings.Contains(got, "secret") || strings.Contains(got, "private") {
			t.Errorf("bob's home lists alice's files:\n%s", got)
		}
	})
}

// TestFilesOddPaths: names are the client's, kept byte for byte and
// escaped once in hrefs; what is not UTF-8 is 400, dot segments 404.
func TestFilesOddPaths(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.run(t, []step{{method: "MKCOL", path: filesHome + "sp%20ace%20%26%20more/", want: http.StatusCreated}})
		for _, tc := range []struct{ path, href string }{
			{"sp%20ace%20%26%20more/a%20b.txt", "sp%20ace%20&amp;%20more/a%20b.txt"},
			{"sp%20ace%20%26%20more/100%25.txt", "sp%20ace%20&amp;%20more/100%25.txt"},
			{"caf%C3%A9.txt", "caf%C3%A9.txt"},   // NFC
			{"cafe%CC%81.txt", "cafe%CC%81.txt"}, // NFD: a name of its own
			{"a@b;c=d,e+f.txt", "a@b%3Bc=d%2Ce+f.txt"},
			{"%E2%9C%93%3F%23.txt", "%E2%9C%93%3F%23.txt"},
		} {
			e.run(t, []step{{method: http.MethodPut, path: filesHome + tc.path, body: tc.path, want: http.StatusCreated}})
			e.wantFile(t, filesHome+tc.path, http.StatusOK, tc.path)
			dir := filesHome
			if i := strings.LastIndex(tc.path, "/"); i >= 0 {
				dir += tc.path[:i+1]
			}
			resp := e.do(request{method: "PROPFIND", path: dir, header: map[string]string{"Depth": "1"}})
			if body := readBody(t, resp); !strings.Contains(body, "<D:href>"+filesHome+tc.href+"</D:href>") {
				t.Errorf("listing of %s lacks the href %s:\n%s", dir, filesHome+tc.href, body)
			}
		}
		e.wantFile(t, filesHome+"cafe%CC%81.txt", http.StatusOK, "cafe%CC%81.txt")
		e.wantFile(t, filesHome+"caf%C3%A9.txt", http.StatusOK, "caf%C3%A9.txt")
		e.run(t, []step{
			{method: http.MethodPut, path: filesHome + "%ff.txt", body: "x", want: http.StatusBadRequest},
			{method: "MKCOL", path: filesHome + "a/%ff/", want: http.StatusBadRequest},
			{method: http.MethodPut, path: filesHome + "a/%2E%2E/x", body: "x", want: http.StatusNotFound},
			{method: http.MethodPut, path: filesHome + "a%2Fb", body: "x", want: http.StatusNotFound},
			{method: "COPY", path: filesHome + "caf%C3%A9.txt", header: dest(e, filesHome+"%ff"), want: http.StatusBadRequest},
		})
	})
}

// TestFilesConnectPage: the web UI's device page names the files home
// beside the CalDAV and CardDAV homes.
func TestFilesConnectPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testdb.SQLite(t))
	b := e.browser(t)
	b.signIn("alice", alicePassword)
	status, body, _ := b.get("/web/connect")
	if status != http.StatusOK || !strings.Contains(body, "/dav/files/alice/</code>") {
		t.Errorf("GET /web/connect = %d, lacks the files home:\n%s", status, body)
	}
}

// TestFilesConcurrentCreate: clients that upload the same new file at
// once all succeed, the last one's bytes standing (a file has no UID a
// client could clash on).
func TestFilesConcurrentCreate(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		const n = 8
		statuses := make(chan int, n)
		for i := range n {
			go func() {
				req, err := http.NewRequest(http.MethodPut, e.srv.URL+filesHome+"same.txt", strings.NewReader("writer "+strconv.Itoa(i)))
				if err != nil {
					statuses <- 0
					return
				}
				req.SetBasicAuth("alice", alicePassword)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					statuses <- 0
					return
				}
				resp.Body.Close()
				statuses <- resp.StatusCode
			}()
		}
		created := 0
		for range n {
			switch s := <-statuses; s {
			case http.StatusCreated:
				created++
			case http.StatusNoContent:
			default:
				t.Errorf("a concurrent PUT of a new file = %d", s)
			}
		}
		if created < 1 {
			t.Errorf("no PUT created the file")
		}
	})
}

// TestFilesHomeMadeOnDemand: a user without a files home (restored from a
// backup older than it, or made without the initial collections) gets one
// at first use.
func TestFilesHomeMadeOnDemand(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		hash, err := auth.HashPasswordParams("carol's password", cheapParams)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateUser(t.Context(), &store.User{Username: "carol", PasswordHash: hash}, nil); err != nil {
			t.Fatal(err)
		}
		e.run(t, []step{
			{method: "PROPFIND", path: "/dav/files/carol/", header: map[string]string{"Depth": "1"}, user: "carol", password: "carol's password", want: http.StatusMultiStatus},
			{method: http.MethodPut, path: "/dav/files/carol/x.txt", body: "x", user: "carol", password: "carol's password", want: http.StatusCreated},
		})
	})
}
