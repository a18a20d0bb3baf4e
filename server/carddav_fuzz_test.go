package server_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/carddav"
	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// Fuzz targets over the full stack (STYLE.md §8): client bytes go in
// through HTTP exactly as a client sends them, on every store available
// (the embedded one always, PostgreSQL when DAVENPORT_TEST_DATABASE_URL is
// set; only PostgreSQL then while generating inputs). Run them with
// `make fuzz` or `go test ./server -run '^$' -fuzz FuzzPutCard
// -fuzzminimizetime 5s`: each new input is minimised for up to a minute by
// default, which over HTTP shows as long pauses at 0 execs/sec.

// cardFuzzServer is a Davenport on one store with the user alice, for a
// fuzz target (newEnv wants a *testing.T; a target has a *testing.F).
type cardFuzzServer struct {
	name string
	url  string
}

func cardFuzzServers(f *testing.F) []cardFuzzServer {
	f.Helper()
	backends := []testdb.Backend{{Name: "sqlite", New: testdb.SQLite}}
	if os.Getenv(testdb.EnvDatabaseURL) != "" {
		backends = append(backends, testdb.Backend{Name: "postgres", New: testdb.Postgres})
		if fuzzing() {
			// Under -fuzz every package is instrumented for coverage, and
			// the embedded SQLite (C translated to Go) then costs about a
			// second per input; the seeds still run on both stores.
			backends = backends[1:]
		}
	}
	var out []cardFuzzServer
	for _, b := range backends {
		st := b.New(f)
		hash, err := auth.HashPasswordParams(alicePassword, cheapParams)
		if err != nil {
			f.Fatal(err)
		}
		if err := st.CreateUser(context.Background(), &store.User{Username: "alice", DisplayName: "Alice", PasswordHash: hash}, server.DefaultCollections()); err != nil {
			f.Fatal(err)
		}
		logger := slog.New(slog.DiscardHandler)
		a, err := auth.New(st, logger, auth.Options{Params: cheapParams})
		if err != nil {
			f.Fatal(err)
		}
		srv := httptest.NewServer(server.New(server.Config{Store: st, Auth: a, Logger: logger, MaxResourceSize: 1 << 20, Version: "fuzz"}))
		f.Cleanup(srv.Close)
		out = append(out, cardFuzzServer{name: b.Name, url: srv.URL})
	}
	return out
}

// fuzzing reports whether the test binary runs with -fuzz (generating
// inputs), rather than replaying the seed corpus.
func fuzzing() bool {
	fl := flag.Lookup("test.fuzz")
	return fl != nil && fl.Value.String() != ""
}

type cardReply struct {
	status int
	header http.Header
	body   string
}

func (s cardFuzzServer) send(t *testing.T, method, path, body string, header map[string]string) cardReply {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("alice", alicePassword)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %s %s: %v", s.name, method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: %s %s: reading the answer: %v", s.name, method, path, err)
	}
	if resp.StatusCode >= 500 {
		t.Fatalf("%s: %s %s answered %d\n%s", s.name, method, path, resp.StatusCode, b)
	}
	return cardReply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// xmlSafe reports whether s can travel in XML text unchanged (XML 1.0
// §2.2 Char; the parser would reject or the writer replace anything else).
func xmlSafe(s string) bool {
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r == utf8.RuneError:
			return false
		}
	}
	return utf8.ValidString(s)
}

// FuzzPutCard PUTs arbitrary bytes as a vCard. The server never answers
// 5xx; a card it accepts (201) comes back from GET byte for byte (less a
// leading byte order mark) with the PUT's ETag, converts to both versions in a multiget, and is found by an
// addressbook-query on its own UID — the SQL prefilter must never hide a
// card the exact filter matches.
func FuzzPutCard(f *testing.F) {
	for _, c := range cardFixtures {
		f.Add([]byte(c.body))
	}
	for _, s := range []string{
		cardLines("BEGIN:VCARD", "VERSION:4.0", "FN:A", "UID:u", "END:VCARD"),
		"BEGIN:VCARD\nVERSION:3.0\nFN:lf only\nUID:lf\nEND:VCARD",
		"begin:vcard\r\nversion:3.0\r\nfn:lower\r\nuid:lower\r\nend:vcard\r\n",
		cardLines("BEGIN:VCARD", "VERSION:3.0", "FN:Folded", " continued", "UID:fol", " ded", "END:VCARD"),
		cardLines("BEGIN:VCARD", "VERSION:4.0", "FN:Ünïcödé 名前", "UID:urn:uuid:ü", "NOTE:a\\nb\\,c\\;d", "END:VCARD"),
		cardLines("BEGIN:VCARD", "VERSION:4.0", "FN:P", "UID:p", `ADR;LABEL="a^nb^'c^^":;;St;City;;1;X`, "END:VCARD"),
		cardLines("BEGIN:VCARD", "VERSION:3.0", "FN:G", "UID:g", "X-ADDRESSBOOKSERVER-KIND:group", "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:x", "END:VCARD"),
		cardLines("BEGIN:VCARD", "VERSION:3.0", "FN:Two", "UID:2", "END:VCARD", "BEGIN:VCARD", "VERSION:3.0", "FN:Three", "UID:3", "END:VCARD"),
		cardLines("BEGIN:VCARD", "VERSION:2.1", "FN:Old", "UID:old", "TEL;WORK;VOICE:1", "END:VCARD"),
		cardLines("BEGIN:VCARD", "VERSION:3.0", "UID:nofn", "END:VCARD"),
		"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:\x00\r\nUID:nul\r\nEND:VCARD\r\n",
		bom + cardLines("BEGIN:VCARD", "VERSION:3.0", "FN:Byte Order", "UID:bom", "END:VCARD"),
		"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:\xff\xfe\r\nUID:latin\r\nEND:VCARD\r\n",
		"",
		"BEGIN:VCARD",
	} {
		f.Add([]byte(s))
	}
	servers := cardFuzzServers(f)
	var seq atomic.Int64
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, s := range servers {
			name := fmt.Sprintf("fuzz-%d.vcf", seq.Add(1))
			path := contactsPath + name
			put := s.send(t, "PUT", path, string(body), map[string]string{"Content-Type": "text/vcard; charset=utf-8", "If-None-Match": "*"})
			if put.status != http.StatusCreated {
				if put.status != http.StatusForbidden && put.status != http.StatusConflict {
					t.Fatalf("%s: PUT answered %d, want 201, 403 or 409\n%s", s.name, put.status, put.body)
				}
				if got := s.send(t, "GET", path, "", nil); got.status != http.StatusNotFound {
					t.Fatalf("%s: refused PUT (%d) left a resource: GET %d", s.name, put.status, got.status)
				}
				continue
			}
			pc, err := carddav.ParseCard(body, "text/vcard")
			if err != nil {
				t.Fatalf("%s: the server stored a card its own validator refuses: %v", s.name, err)
			}
			// A leading byte order mark is dropped; then the PUT answer has
			// no ETag (RFC 6352 §6.3.2.3).
			want, hadBOM := bytes.CutPrefix(body, []byte(bom))
			get := s.send(t, "GET", path, "", nil)
			if get.status != 200 || get.body != string(want) {
				t.Fatalf("%s: GET %d, stored bytes differ\n got %q\nwant %q", s.name, get.status, get.body, want)
			}
			if etag := put.header.Get("ETag"); hadBOM && etag != "" || !hadBOM && (etag == "" || get.header.Get("ETag") != etag) {
				t.Fatalf("%s: PUT ETag %q, GET ETag %q (byte order mark dropped: %v)", s.name, etag, get.header.Get("ETag"), hadBOM)
			}
			for _, v := range []string{"3.0", "4.0"} {
				mg := s.send(t, "REPORT", contactsPath, cardMultiget(`<D:prop><D:getetag/><CR:address-data version="`+v+`"/></D:prop>`, path), map[string]string{"Depth": "0"})
				if mg.status != http.StatusMultiStatus {
					t.Fatalf("%s: multiget for %s: %d", s.name, v, mg.status)
				}
				root, err := dav.ParseXML([]byte(mg.body), dav.DefaultLimits)
				if err != nil {
					t.Fatalf("%s: multiget for %s is not XML: %v\n%s", s.name, v, err, mg.body)
				}
				if strings.Contains(mg.body, "HTTP/1.1 403") || strings.Contains(mg.body, "HTTP/1.1 404") {
					t.Fatalf("%s: an accepted card cannot be served as %s:\n%s", s.name, v, mg.body)
				}
				if v == pc.Version && xmlSafe(string(want)) {
					data := root.Child(dav.Name("response")).Child(dav.Name("propstat")).Child(dav.Name("prop")).Child(xml.Name{Space: dav.NSCardDAV, Local: "address-data"})
					if data == nil || data.Text != string(want) {
						t.Fatalf("%s: address-data in the stored version is not the stored bytes\n%s", s.name, mg.body)
					}
				}
			}
			if xmlSafe(pc.UID) {
				q := cardQuery(cardETagProp, `<CR:filter><CR:prop-filter name="UID"><CR:text-match collation="i;octet" match-type="contains">`+
					cardXMLEscape(pc.UID)+`</CR:text-match></CR:prop-filter></CR:filter>`, "")
				res := s.send(t, "REPORT", contactsPath, q, map[string]string{"Depth": "1"})
				if res.status != http.StatusMultiStatus || !strings.Contains(res.body, "<D:href>"+dav.ObjectHref(carddav.Kind{}, "alice", "contacts", name)+"</D:href>") {
					t.Fatalf("%s: addressbook-query on UID %q does not find the card (%d)\n%s", s.name, pc.UID, res.status, res.body)
				}
			}
			// Free the name and the UID for the next input.
			if del := s.send(t, "DELETE", path, "", nil); del.status != http.StatusNoContent {
				t.Fatalf("%s: DELETE %d", s.name, del.status)
			}
		}
	})
}

// FuzzAddressbookQueryBody sends arbitrary REPORT bodies to an address
// book holding the fixture cards: the server never answers 5xx, and every
// 207 it writes is well-formed XML.
func FuzzAddressbookQueryBody(f *testing.F) {
	for _, c := range cardReportCases() {
		f.Add([]byte(c.body))
	}
	for _, c := range cardReportErrorCases() {
		f.Add([]byte(c.body))
	}
	for _, c := range cardReportBadBodies() {
		f.Add([]byte(c.body))
	}
	f.Add([]byte(cardQuery(`<D:prop><CR:address-data><CR:prop name="EMAIL" novalue="yes"/><CR:allprop/></CR:address-data></D:prop>`,
		`<CR:filter test="allof"><CR:prop-filter name="TEL" test="allof"><CR:param-filter name="TYPE"><CR:is-not-defined/></CR:param-filter>`+
			`<CR:text-match negate-condition="yes" collation="i;ascii-casemap" match-type="starts-with">+</CR:text-match></CR:prop-filter></CR:filter>`,
		`<CR:limit><CR:nresults>1</CR:nresults></CR:limit>`)))
	f.Add([]byte(`<?xml version="1.0"?><CR:addressbook-query xmlns:CR="urn:ietf:params:xml:ns:carddav"/>`))
	servers := cardFuzzServers(f)
	for _, s := range servers {
		for _, c := range cardFixtures {
			req, _ := http.NewRequest("PUT", s.url+contactsPath+c.name, strings.NewReader(c.body))
			req.SetBasicAuth("alice", alicePassword)
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusCreated {
				f.Fatalf("%s: PUT fixture %s: %v %v", s.name, c.name, err, resp)
			}
			resp.Body.Close()
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, s := range servers {
			for _, depth := range []string{"1", "0"} {
				r := s.send(t, "REPORT", contactsPath, string(body), map[string]string{"Depth": depth, "Content-Type": "application/xml; charset=utf-8"})
				if r.status == http.StatusMultiStatus {
					if _, err := dav.ParseXML([]byte(r.body), dav.DefaultLimits); err != nil {
						t.Fatalf("%s: the 207 is not well-formed XML: %v\n%s", s.name, err, r.body)
					}
				}
			}
		}
	})
}
