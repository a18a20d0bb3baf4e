package server_test

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// Object methods on address books (RFC 6352 §6.3.2, RFC 4918 §9.6-§9.9,
// RFC 9110 §13): PUT with its preconditions, GET/HEAD with version
// negotiation, DELETE, COPY and MOVE.

var cardTypeHeader = map[string]string{"Content-Type": "text/vcard; charset=utf-8"}

// cardWith returns a 3.0 card with the given UID and FN.
func cardWith(uid, fn string) string {
	return cardLines("BEGIN:VCARD", "VERSION:3.0", "UID:"+uid, "FN:"+fn, "N:"+fn+";;;;", "END:VCARD")
}

// cardGet GETs path and returns status, ETag and body.
func (e *env) cardGet(path string, header map[string]string) (int, string, string) {
	e.t.Helper()
	resp := e.do(request{method: "GET", path: path, header: header})
	return resp.StatusCode, resp.Header.Get("ETag"), readBody(e.t, resp)
}

// cardETag reads an object's getetag by PROPFIND Depth 0.
func (e *env) cardETag(t *testing.T, path string) string {
	t.Helper()
	resp := e.do(request{method: "PROPFIND", path: path, body: cardPropfind(`<D:getetag/>`), header: map[string]string{"Depth": "0"}})
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("PROPFIND %s: %d", path, resp.StatusCode)
	}
	_, rest, ok := strings.Cut(body, "<D:getetag>")
	if !ok {
		t.Fatalf("PROPFIND %s: no getetag\n%s", path, body)
	}
	etag, _, _ := strings.Cut(rest, "</D:getetag>")
	return strings.ReplaceAll(etag, "&#34;", `"`)
}

// cardCTag reads a collection's getctag.
func (e *env) cardCTag(t *testing.T, path string) string {
	t.Helper()
	resp := e.do(request{method: "PROPFIND", path: path, body: cardPropfind(`<CS:getctag/>`), header: map[string]string{"Depth": "0"}})
	body := readBody(t, resp)
	_, rest, ok := strings.Cut(body, "<CS:getctag>")
	if !ok {
		t.Fatalf("PROPFIND %s: no getctag\n%s", path, body)
	}
	tag, _, _ := strings.Cut(rest, "</CS:getctag>")
	return tag
}

func TestCardDAVPut(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)

		t.Run("create and replace", func(t *testing.T) {
			path := contactsPath + "ada.vcf"
			body := cardWith("put-ada", "Ada")
			resp := e.do(request{method: "PUT", path: path, body: body, header: cardTypeHeader})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("PUT new: %d, want 201", resp.StatusCode)
			}
			created := resp.Header.Get("ETag")
			if !strings.HasPrefix(created, `"`) || len(created) < 3 {
				t.Fatalf("PUT new: ETag %q, want a strong quoted entity tag", created)
			}
			status, etag, got := e.cardGet(path, nil)
			if status != 200 || etag != created || got != body {
				t.Fatalf("GET after PUT: %d ETag %q (PUT said %q), body equal %v", status, etag, created, got == body)
			}
			if pe := e.cardETag(t, path); pe != created {
				t.Errorf("PROPFIND getetag %q, PUT said %q", pe, created)
			}

			body2 := cardWith("put-ada", "Ada Lovelace")
			resp = e.do(request{method: "PUT", path: path, body: body2, header: cardTypeHeader})
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("PUT replace: %d, want 204", resp.StatusCode)
			}
			replaced := resp.Header.Get("ETag")
			if replaced == "" || replaced == created {
				t.Fatalf("PUT replace: ETag %q (was %q), want a new one", replaced, created)
			}
			if status, etag, got := e.cardGet(path, nil); status != 200 || etag != replaced || got != body2 {
				t.Fatalf("GET after replace: %d ETag %q, want %q", status, etag, replaced)
			}
			// The same bytes again: still 204, the same ETag (a hash of the bytes).
			resp = e.do(request{method: "PUT", path: path, body: body2, header: cardTypeHeader})
			if resp.StatusCode != http.StatusNoContent || resp.Header.Get("ETag") != replaced {
				t.Errorf("PUT of identical bytes: %d ETag %q, want 204 %q", resp.StatusCode, resp.Header.Get("ETag"), replaced)
			}
			// HEAD: the GET headers, no body.
			resp = e.do(request{method: "HEAD", path: path})
			if resp.StatusCode != 200 || resp.Header.Get("ETag") != replaced || resp.Header.Get("Content-Length") != strconv.Itoa(len(body2)) || readBody(t, resp) != "" {
				t.Errorf("HEAD: %d ETag %q Content-Length %q", resp.StatusCode, resp.Header.Get("ETag"), resp.Header.Get("Content-Length"))
			}
			// PUT without a Content-Type is judged by the body alone.
			resp = e.do(request{method: "PUT", path: contactsPath + "no-type.vcf", body: cardWith("put-no-type", "No Type")})
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("PUT without Content-Type: %d, want 201", resp.StatusCode)
			}
			// text/x-vcard and a version parameter are vCard too.
			for i, ct := range []string{"text/x-vcard", "text/vcard; version=3.0", "TEXT/VCARD; CHARSET=UTF-8"} {
				resp = e.do(request{method: "PUT", path: contactsPath + "type-" + strconv.Itoa(i) + ".vcf", body: cardWith("put-type-"+strconv.Itoa(i), "T"), header: map[string]string{"Content-Type": ct}})
				if resp.StatusCode != http.StatusCreated {
					t.Errorf("PUT with Content-Type %q: %d, want 201", ct, resp.StatusCode)
				}
			}
		})

		t.Run("conditional", func(t *testing.T) {
			path := contactsPath + "cond.vcf"
			e.cardPut(path, cardWith("put-cond", "Cond"))
			current := e.cardETag(t, path)
			missing := contactsPath + "cond-missing.vcf"
			cases := []struct {
				name, path string
				header     map[string]string
				want       int
			}{
				{"If-None-Match * on existing", path, map[string]string{"If-None-Match": "*"}, 412},
				{"If-Match wrong", path, map[string]string{"If-Match": `"0000"`}, 412},
				{"If-Match weak form of the current", path, map[string]string{"If-Match": "W/" + current}, 412},
				{"If-Match unquoted current", path, map[string]string{"If-Match": strings.Trim(current, `"`)}, 412},
				{"If-Match on missing", missing, map[string]string{"If-Match": current}, 412},
				{"If-Match * on missing", missing, map[string]string{"If-Match": "*"}, 412},
				{"If-None-Match current", path, map[string]string{"If-None-Match": current}, 412},
				// The first case to succeed: the table holds the ETag as it was.
				{"If-Match current in a list", path, map[string]string{"If-Match": `"0000", ` + current}, 204},
				{"If-Match *", path, map[string]string{"If-Match": "*"}, 204},
				{"If-None-Match other", path, map[string]string{"If-None-Match": `"0000"`}, 204},
				{"If-None-Match * on missing", missing, map[string]string{"If-None-Match": "*"}, 201},
			}
			for _, c := range cases {
				h := map[string]string{"Content-Type": "text/vcard"}
				for k, v := range c.header {
					h[k] = v
				}
				body := cardWith("put-cond", "Cond "+c.name)
				if c.path == missing {
					body = cardWith("put-cond-missing", "Missing")
				}
				before, _, beforeBody := e.cardGet(c.path, nil)
				resp := e.do(request{method: "PUT", path: c.path, body: body, header: h})
				if resp.StatusCode != c.want {
					t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
				}
				if c.want == 412 {
					// Nothing changed.
					after, _, afterBody := e.cardGet(c.path, nil)
					if after != before || afterBody != beforeBody {
						t.Errorf("%s: the refused PUT changed the resource", c.name)
					}
				} else if resp.Header.Get("ETag") == "" {
					t.Errorf("%s: %d without an ETag", c.name, resp.StatusCode)
				}
			}
		})

		t.Run("If-Match is atomic", func(t *testing.T) {
			// DESIGN.md: two writers with the same If-Match cannot both win.
			path := contactsPath + "race.vcf"
			e.cardPut(path, cardWith("put-race", "Race"))
			etag := e.cardETag(t, path)
			const writers = 8
			statuses := make([]int, writers)
			var wg sync.WaitGroup
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest("PUT", e.srv.URL+path, strings.NewReader(cardWith("put-race", "Writer "+strconv.Itoa(i))))
					req.SetBasicAuth("alice", alicePassword)
					req.Header.Set("If-Match", etag)
					req.Header.Set("Content-Type", "text/vcard")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						return
					}
					resp.Body.Close()
					statuses[i] = resp.StatusCode
				}()
			}
			wg.Wait()
			won, lost := 0, 0
			for _, s := range statuses {
				switch s {
				case 204:
					won++
				case 412:
					lost++
				}
			}
			if won != 1 || lost != writers-1 {
				t.Errorf("concurrent If-Match PUTs: %v, want one 204 and %d 412", statuses, writers-1)
			}

			// And If-None-Match: * creates exactly once.
			created := 0
			var mu sync.Mutex
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest("PUT", e.srv.URL+contactsPath+"race-new.vcf", strings.NewReader(cardWith("put-race-new", "New "+strconv.Itoa(i))))
					req.SetBasicAuth("alice", alicePassword)
					req.Header.Set("If-None-Match", "*")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						return
					}
					resp.Body.Close()
					if resp.StatusCode == 201 {
						mu.Lock()
						created++
						mu.Unlock()
					} else if resp.StatusCode != 412 {
						t.Errorf("concurrent If-None-Match PUT: %d", resp.StatusCode)
					}
				}()
			}
			wg.Wait()
			if created != 1 {
				t.Errorf("concurrent If-None-Match: * PUTs created %d times, want once", created)
			}
		})

		t.Run("preconditions", func(t *testing.T) {
			e.cardPut(contactsPath+"holder.vcf", cardWith("uid-held", "Holder"))
			big := cardLines("BEGIN:VCARD", "VERSION:3.0", "UID:put-big", "FN:Big", "NOTE:"+strings.Repeat("x", 1<<20), "END:VCARD")
			cases := []struct {
				golden, name, body, ctype string
				status                    int
			}{
				// RFC 6352 §6.3.2.1 CARDDAV:valid-address-data.
				{"put-garbage", "garbage.vcf", "this is not a vCard\r\n", "text/vcard", 403},
				{"put-empty", "empty.vcf", "", "text/vcard", 403},
				{"put-two-vcards", "two.vcf", cardWith("two-1", "One") + cardWith("two-2", "Two"), "text/vcard", 403},
				{"put-no-fn", "nofn.vcf", cardLines("BEGIN:VCARD", "VERSION:3.0", "UID:put-nofn", "N:Nobody;;;;", "END:VCARD"), "text/vcard", 403},
				{"put-no-uid", "nouid.vcf", cardLines("BEGIN:VCARD", "VERSION:3.0", "FN:No UID", "END:VCARD"), "text/vcard", 403},
				{"put-no-end", "noend.vcf", cardLines("BEGIN:VCARD", "VERSION:3.0", "UID:put-noend", "FN:No End"), "text/vcard", 403},
				{"put-vcalendar", "cal.vcf", cardLines("BEGIN:VCALENDAR", "VERSION:2.0", "END:VCALENDAR"), "text/vcard", 403},
				// vCard 2.1 is text/vcard in a version supported-address-data
				// does not list (RFC 6352 §6.2.2): CARDDAV:supported-address-data.
				{"put-version-2.1", "v21.vcf", cardLines("BEGIN:VCARD", "VERSION:2.1", "UID:put-v21", "FN:Old", "TEL;WORK;VOICE:123", "END:VCARD"), "text/vcard", 403},
				// CARDDAV:supported-address-data: not a vCard media type.
				{"put-wrong-content-type", "json.vcf", cardWith("put-json", "Json"), "application/json", 403},
				{"put-calendar-content-type", "ics.vcf", cardWith("put-ics", "Ics"), "text/calendar", 403},
				{"put-latin1", "latin1.vcf", cardWith("put-latin1", "Latin"), "text/vcard; charset=iso-8859-1", 403},
				// CARDDAV:max-resource-size (1 MiB in this server).
				{"put-too-large", "big.vcf", big, "text/vcard", 403},
				// CARDDAV:no-uid-conflict names the resource holding the UID.
				{"put-uid-conflict", "thief.vcf", cardWith("uid-held", "Thief"), "text/vcard", 409},
			}
			ctag := e.cardCTag(t, contactsPath)
			for _, c := range cases {
				t.Run(c.golden, func(t *testing.T) {
					resp := e.do(request{method: "PUT", path: contactsPath + c.name, body: c.body, header: map[string]string{"Content-Type": c.ctype}})
					golden(t, "carddav/"+c.golden, cardError(t, resp, c.status))
					if resp.Header.Get("ETag") != "" {
						t.Errorf("refused PUT carries an ETag")
					}
					if status, _, _ := e.cardGet(contactsPath+c.name, nil); status != http.StatusNotFound {
						t.Errorf("after a refused PUT, GET: %d, want 404", status)
					}
				})
			}
			if got := e.cardCTag(t, contactsPath); got != ctag {
				t.Errorf("refused PUTs changed the ctag: %s → %s", ctag, got)
			}
			// Rewriting a card under its own UID is no conflict; taking
			// another card's UID on replace is.
			resp := e.do(request{method: "PUT", path: contactsPath + "holder.vcf", body: cardWith("uid-held", "Holder II"), header: cardTypeHeader})
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("replace with the same UID: %d, want 204", resp.StatusCode)
			}
			e.cardPut(contactsPath+"other.vcf", cardWith("uid-other", "Other"))
			resp = e.do(request{method: "PUT", path: contactsPath + "other.vcf", body: cardWith("uid-held", "Other"), header: cardTypeHeader})
			golden(t, "carddav/put-uid-conflict-replace", cardError(t, resp, http.StatusConflict))
			// A card just under the limit is fine.
			fits := cardLines("BEGIN:VCARD", "VERSION:3.0", "UID:put-fits", "FN:Fits", "NOTE:"+strings.Repeat("y", (1<<20)-200), "END:VCARD")
			e.cardPut(contactsPath+"fits.vcf", fits)
			if _, _, got := e.cardGet(contactsPath+"fits.vcf", nil); got != fits {
				t.Errorf("large card did not round-trip")
			}
		})

		t.Run("targets", func(t *testing.T) {
			cases := []struct {
				name, path string
				want       int
			}{
				{"the address book itself", contactsPath, http.StatusMethodNotAllowed},
				{"the home", "/dav/addressbooks/alice/", http.StatusMethodNotAllowed},
				{"a missing address book", "/dav/addressbooks/alice/nosuch/x.vcf", http.StatusConflict},
				{"another user's book", "/dav/addressbooks/bob/contacts/x.vcf", http.StatusForbidden},
			}
			for _, c := range cases {
				resp := e.do(request{method: "PUT", path: c.path, body: cardWith("put-target", "T"), header: cardTypeHeader})
				if resp.StatusCode != c.want {
					t.Errorf("PUT to %s: %d, want %d", c.name, resp.StatusCode, c.want)
				}
			}
		})
	})
}

// TestCardDAVStoredBytes: DESIGN.md "store and serve the bytes the client
// sent" — every accepted card comes back from GET, multiget and a query
// byte for byte, whatever its line endings, folding and case.
func TestCardDAVStoredBytes(t *testing.T) {
	bodies := map[string]string{
		"lf.vcf":        "BEGIN:VCARD\nVERSION:3.0\nUID:bytes-lf\nFN:Line Feeds\nEND:VCARD\n",
		"no-eol.vcf":    "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:bytes-noeol\r\nFN:No final newline\r\nEND:VCARD",
		"folded.vcf":    "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bytes-fol\r\n ded\r\nFN:Folded in the mid\r\n\tdle of a word\r\nNOTE:Ünïcödé folded ac\r\n ross lines\r\nEND:VCARD\r\n",
		"lowercase.vcf": "begin:vcard\r\nversion:3.0\r\nuid:bytes-lower\r\nfn:lower case names\r\nend:vcard\r\n",
		"ordering.vcf":  "BEGIN:VCARD\r\nFN:Version last\r\nUID:bytes-order\r\nX-CUSTOM;X-PARAM=\"a:b;c\":value\\, with\\; escapes\r\nVERSION:4.0\r\nEND:VCARD\r\n",
		"apple.vcf":     cardFixtures[3].body,
		"davx5.vcf":     cardFixtures[4].body,
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		var hrefs []string
		for name, body := range bodies {
			resp := e.do(request{method: "PUT", path: contactsPath + name, body: body, header: cardTypeHeader})
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("PUT %s: %d\n%s", name, resp.StatusCode, readBody(t, resp))
				continue
			}
			etag := resp.Header.Get("ETag")
			status, getETag, got := e.cardGet(contactsPath+name, nil)
			if status != 200 || got != body || getETag != etag {
				t.Errorf("GET %s: %d, ETag %q (PUT %q), bytes equal %v\n got %q\nwant %q", name, status, getETag, etag, got == body, got, body)
			}
			hrefs = append(hrefs, contactsPath+name)
		}
		// The same bytes inside address-data (XML-escaped on the wire; the
		// parser gives the text back).
		resp := e.do(request{method: "REPORT", path: contactsPath, body: cardMultiget(cardETagData, hrefs...), header: map[string]string{"Depth": "0"}})
		ms := cardParse207(t, resp)
		if len(ms) != len(hrefs) {
			t.Fatalf("multiget answered %d of %d hrefs", len(ms), len(hrefs))
		}
		for href, data := range ms {
			name := href[strings.LastIndex(href, "/")+1:]
			want := bodies[name]
			if strings.Contains(want, "VERSION:4.0") && !strings.Contains(name, "davx5") {
				// address-data without a version asks for 3.0 (RFC 6352
				// §10.4 default): a stored 4.0 card is converted.
				continue
			}
			if name == "davx5.vcf" {
				continue
			}
			if data != want {
				t.Errorf("multiget address-data of %s differs from the stored bytes\n got %q\nwant %q", name, data, want)
			}
		}
		// Asking for 4.0 gives the stored 4.0 cards verbatim.
		resp = e.do(request{method: "REPORT", path: contactsPath, body: cardMultiget(`<D:prop><CR:address-data version="4.0"/></D:prop>`, contactsPath+"no-eol.vcf", contactsPath+"ordering.vcf", contactsPath+"davx5.vcf"), header: map[string]string{"Depth": "0"}})
		for href, data := range cardParse207(t, resp) {
			name := href[strings.LastIndex(href, "/")+1:]
			if data != bodies[name] {
				t.Errorf("address-data version 4.0 of stored 4.0 %s differs\n got %q\nwant %q", name, data, bodies[name])
			}
		}
	})
}

// cardParse207 returns href → address-data text of a 207.
func cardParse207(t *testing.T, resp *http.Response) map[string]string {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("status %d, want 207\n%s", resp.StatusCode, body)
	}
	root, err := dav.ParseXML([]byte(body), dav.DefaultLimits)
	if err != nil {
		t.Fatalf("207 is not XML: %v", err)
	}
	out := map[string]string{}
	for _, r := range root.Children {
		href := r.Child(dav.Name("href"))
		if href == nil {
			continue
		}
		data := ""
		for _, ps := range r.ChildrenNamed(dav.Name("propstat")) {
			if ad := ps.Child(dav.Name("prop")).Child(xml.Name{Space: dav.NSCardDAV, Local: "address-data"}); ad != nil {
				data = ad.Text
			}
		}
		out[href.Text] = data
	}
	return out
}

// TestCardDAVOddNames: resource names are opaque (DESIGN.md "URL space"):
// spaces, @, non-ASCII, case, reserved characters round-trip through PUT,
// PROPFIND, GET, multiget and DELETE.
func TestCardDAVOddNames(t *testing.T) {
	names := []string{
		"with space.vcf", "user@example.com.vcf", "Ünïcödé-名前.vcf", "UPPER.VCF", "upper.vcf",
		"100%.vcf", "semi;colon,comma.vcf", "plus+sign&amp.vcf", "quote'\"<>.vcf", "hash#frag.vcf",
		"question?mark.vcf", "{3A5F-11D4}.vcf", "no-extension", ".hidden", "tilde~.vcf",
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		bodies := map[string]string{}
		for i, name := range names {
			body := cardWith("odd-"+strconv.Itoa(i), "Odd "+name)
			bodies[name] = body
			e.cardPut(contactsPath+url.PathEscape(name), body)
		}
		// PROPFIND lists each once, with an href that decodes to the name.
		resp := e.do(request{method: "PROPFIND", path: contactsPath, body: cardPropfind(`<D:getetag/>`), header: map[string]string{"Depth": "1"}})
		listed := cardParse207(t, resp)
		found := map[string]string{} // name → href
		for href := range listed {
			if href == contactsPath {
				continue
			}
			if !strings.HasPrefix(href, contactsPath) {
				t.Errorf("href %q outside the book", href)
				continue
			}
			name, err := url.PathUnescape(strings.TrimPrefix(href, contactsPath))
			if err != nil {
				t.Errorf("href %q does not decode: %v", href, err)
				continue
			}
			found[name] = href
		}
		if len(found) != len(names) {
			t.Errorf("PROPFIND listed %d members, want %d: %v", len(found), len(names), found)
		}
		var hrefs []string
		for _, name := range names {
			href, ok := found[name]
			if !ok {
				t.Errorf("%q not listed", name)
				continue
			}
			hrefs = append(hrefs, href)
			// The listed href is usable as is.
			if status, _, got := e.cardGet(href, nil); status != 200 || got != bodies[name] {
				t.Errorf("GET of listed href %q: %d, body equal %v", href, status, got == bodies[name])
			}
		}
		// multiget by the listed hrefs (XML-escaped in the body).
		var b strings.Builder
		for _, h := range hrefs {
			b.WriteString("<D:href>")
			b.WriteString(cardXMLEscape(h))
			b.WriteString("</D:href>")
		}
		mg := cardXMLHeader + `<CR:addressbook-multiget ` + cardNS + `>` + cardETagProp + b.String() + `</CR:addressbook-multiget>`
		resp = e.do(request{method: "REPORT", path: contactsPath, body: mg, header: map[string]string{"Depth": "0"}})
		got := card207(t, resp)
		if strings.Contains(got, "404") {
			t.Errorf("multiget of listed hrefs has a 404:\n%s", got)
		}
		// DELETE by the escaped name.
		for _, name := range names {
			resp := e.do(request{method: "DELETE", path: contactsPath + url.PathEscape(name)})
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("DELETE %q: %d", name, resp.StatusCode)
			}
		}
	})
}

func cardXMLEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

func TestCardDAVDelete(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		path := contactsPath + "del.vcf"
		e.cardPut(path, cardWith("del", "Delete Me"))
		etag := e.cardETag(t, path)
		ctag := e.cardCTag(t, contactsPath)
		for _, im := range []string{`"0000"`, "W/" + etag} {
			if resp := e.do(request{method: "DELETE", path: path, header: map[string]string{"If-Match": im}}); resp.StatusCode != http.StatusPreconditionFailed {
				t.Errorf("DELETE with If-Match %s: %d, want 412", im, resp.StatusCode)
			}
		}
		if status, _, _ := e.cardGet(path, nil); status != 200 {
			t.Fatalf("a refused DELETE removed the card: GET %d", status)
		}
		if got := e.cardCTag(t, contactsPath); got != ctag {
			t.Errorf("refused DELETE changed the ctag")
		}
		if resp := e.do(request{method: "DELETE", path: path, header: map[string]string{"If-Match": etag}}); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE with the right If-Match: %d, want 204", resp.StatusCode)
		}
		if status, _, _ := e.cardGet(path, nil); status != 404 {
			t.Errorf("GET after DELETE: %d, want 404", status)
		}
		if got := e.cardCTag(t, contactsPath); got == ctag {
			t.Errorf("DELETE did not change the ctag")
		}
		if resp := e.do(request{method: "DELETE", path: path}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("second DELETE: %d, want 404", resp.StatusCode)
		}
		if resp := e.do(request{method: "DELETE", path: path, header: map[string]string{"If-Match": etag}}); resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusPreconditionFailed {
			t.Errorf("DELETE of a missing card with If-Match: %d, want 404 or 412", resp.StatusCode)
		}
		// The UID is free again.
		e.cardPut(contactsPath+"del-again.vcf", cardWith("del", "Reborn"))
	})
}

func TestCardDAVCopyMove(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		work := "/dav/addressbooks/alice/work/"
		mk := cardXMLHeader + `<D:mkcol ` + cardNS + `><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype><D:displayname>Work</D:displayname></D:prop></D:set></D:mkcol>`
		if resp := e.do(request{method: "MKCOL", path: work, body: mk}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("MKCOL: %d", resp.StatusCode)
		}
		a := cardWith("cm-a", "Copy Source")
		b := cardWith("cm-b", "Move Source")
		e.cardPut(contactsPath+"a.vcf", a)
		e.cardPut(contactsPath+"b.vcf", b)
		move := func(method, from, to string, h map[string]string) int {
			t.Helper()
			header := map[string]string{"Destination": to}
			for k, v := range h {
				header[k] = v
			}
			return e.do(request{method: method, path: from, header: header}).StatusCode
		}

		workCTag := e.cardCTag(t, work)
		if s := move("COPY", contactsPath+"a.vcf", work+"a.vcf", nil); s != http.StatusCreated {
			t.Fatalf("COPY to another book: %d, want 201", s)
		}
		for _, p := range []string{contactsPath + "a.vcf", work + "a.vcf"} {
			if status, _, got := e.cardGet(p, nil); status != 200 || got != a {
				t.Errorf("after COPY, GET %s: %d, bytes equal %v", p, status, got == a)
			}
		}
		if e.cardETag(t, work+"a.vcf") != e.cardETag(t, contactsPath+"a.vcf") {
			t.Errorf("a copy of the same bytes has another ETag")
		}
		if e.cardCTag(t, work) == workCTag {
			t.Errorf("COPY did not change the destination's ctag")
		}
		// Overwrite (default T) replaces: 204; Overwrite: F refuses: 412.
		if s := move("COPY", contactsPath+"a.vcf", work+"a.vcf", nil); s != http.StatusNoContent {
			t.Errorf("COPY over an existing card: %d, want 204", s)
		}
		if s := move("COPY", contactsPath+"a.vcf", work+"a.vcf", map[string]string{"Overwrite": "F"}); s != http.StatusPreconditionFailed {
			t.Errorf("COPY with Overwrite: F over an existing card: %d, want 412", s)
		}
		// The destination already holds the UID under another name:
		// CARDDAV:no-uid-conflict naming the destination's card.
		resp := e.do(request{method: "COPY", path: contactsPath + "a.vcf", header: map[string]string{"Destination": work + "a-again.vcf"}})
		golden(t, "carddav/copy-uid-conflict", cardError(t, resp, http.StatusConflict))

		// MOVE with a wrong If-Match moves nothing.
		if s := move("MOVE", contactsPath+"b.vcf", work+"moved.vcf", map[string]string{"If-Match": `"0000"`}); s != http.StatusPreconditionFailed {
			t.Errorf("MOVE with a wrong If-Match: %d, want 412", s)
		}
		if status, _, _ := e.cardGet(work+"moved.vcf", nil); status != 404 {
			t.Errorf("a refused MOVE created the destination")
		}
		// MOVE by absolute URL, with the right If-Match.
		etag := e.cardETag(t, contactsPath+"b.vcf")
		if s := move("MOVE", contactsPath+"b.vcf", e.srv.URL+work+"moved.vcf", map[string]string{"If-Match": etag}); s != http.StatusCreated {
			t.Fatalf("MOVE to another book: %d, want 201", s)
		}
		if status, _, _ := e.cardGet(contactsPath+"b.vcf", nil); status != 404 {
			t.Errorf("after MOVE the source still answers %d", status)
		}
		if status, _, got := e.cardGet(work+"moved.vcf", nil); status != 200 || got != b {
			t.Errorf("after MOVE the destination: %d, bytes equal %v", status, got == b)
		}
		// Within one book, to an odd name.
		if s := move("MOVE", work+"moved.vcf", work+url.PathEscape("renamed é.vcf"), nil); s != http.StatusCreated {
			t.Errorf("MOVE within a book: %d, want 201", s)
		}
		// Refusals.
		cases := []struct {
			name, method, from, to string
			want                   int
		}{
			{"onto itself", "COPY", contactsPath + "a.vcf", contactsPath + "a.vcf", http.StatusForbidden},
			{"into a calendar", "COPY", contactsPath + "a.vcf", "/dav/calendars/alice/personal/a.ics", http.StatusForbidden},
			{"into a missing book", "COPY", contactsPath + "a.vcf", "/dav/addressbooks/alice/nosuch/a.vcf", http.StatusConflict},
			{"into bob's book", "COPY", contactsPath + "a.vcf", "/dav/addressbooks/bob/contacts/a.vcf", http.StatusForbidden},
			{"to another server", "COPY", contactsPath + "a.vcf", "http://elsewhere.example/dav/addressbooks/alice/work/z.vcf", http.StatusBadGateway},
			{"a missing source", "MOVE", contactsPath + "nosuch.vcf", work + "z.vcf", http.StatusNotFound},
			{"a book", "COPY", contactsPath, "/dav/addressbooks/alice/copy/", http.StatusForbidden},
		}
		for _, c := range cases {
			if s := move(c.method, c.from, c.to, nil); s != c.want {
				t.Errorf("%s %s: %d, want %d", c.method, c.name, s, c.want)
			}
		}
		if resp := e.do(request{method: "COPY", path: contactsPath + "a.vcf"}); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("COPY without Destination: %d, want 400", resp.StatusCode)
		}
	})
}

// TestCardDAVGetVersion: GET serves the stored bytes unless Accept asks for
// the other vCard version (RFC 6352 §5.1.1, RFC 6350 §10.1), then the
// converted card with a matching Content-Type.
func TestCardDAVGetVersion(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		e.cardPutFixtures()
		zoe, taro := cardFixtures[3], cardFixtures[4]
		cases := []struct {
			golden, name, accept, wantVersion string
			verbatim                          bool
		}{
			{"", zoe.name, "", "", true},
			{"", zoe.name, "*/*", "", true},
			{"", zoe.name, "text/vcard", "", true},
			{"", zoe.name, "text/vcard; version=3.0", "", true},
			{"get-accept-4.0-on-3.0", zoe.name, "text/vcard; version=4.0", "4.0", false},
			{"", zoe.name, "text/vcard;version=4.0, text/vcard;version=3.0;q=0.5", "4.0", false},
			{"", zoe.name, "text/vcard;version=4.0;q=0.2, text/vcard;version=3.0", "", true},
			{"", taro.name, "", "", true},
			{"", taro.name, "text/vcard; version=4.0", "", true},
			{"get-accept-3.0-on-4.0", taro.name, "text/vcard; version=3.0", "3.0", false},
			{"get-accept-x-vcard-on-4.0", "climbing.vcf", "text/x-vcard", "3.0", false},
		}
		stored := map[string]string{}
		for _, c := range cardFixtures {
			stored[c.name] = c.body
		}
		for _, c := range cases {
			h := map[string]string{}
			if c.accept != "" {
				h["Accept"] = c.accept
			}
			resp := e.do(request{method: "GET", path: contactsPath + c.name, header: h})
			body := readBody(t, resp)
			if resp.StatusCode != 200 {
				t.Errorf("GET %s Accept %q: %d", c.name, c.accept, resp.StatusCode)
				continue
			}
			ct := resp.Header.Get("Content-Type")
			if c.verbatim {
				if body != stored[c.name] {
					t.Errorf("GET %s Accept %q: not the stored bytes\n%s", c.name, c.accept, body)
				}
				if !strings.HasPrefix(ct, "text/vcard") {
					t.Errorf("GET %s: Content-Type %q", c.name, ct)
				}
				continue
			}
			if body == stored[c.name] || !strings.Contains(body, "\r\nVERSION:"+c.wantVersion+"\r\n") {
				t.Errorf("GET %s Accept %q: not converted to %s\n%s", c.name, c.accept, c.wantVersion, body)
			}
			if !strings.Contains(ct, "version="+c.wantVersion) {
				t.Errorf("GET %s Accept %q: Content-Type %q lacks version=%s", c.name, c.accept, ct, c.wantVersion)
			}
			if resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
				t.Errorf("GET %s Accept %q: Content-Length %q for %d bytes", c.name, c.accept, resp.Header.Get("Content-Length"), len(body))
			}
			if c.golden != "" {
				golden(t, "carddav/"+c.golden, body)
			}
			// HEAD agrees with GET.
			head := e.do(request{method: "HEAD", path: contactsPath + c.name, header: h})
			if head.Header.Get("Content-Length") != strconv.Itoa(len(body)) || head.Header.Get("Content-Type") != ct {
				t.Errorf("HEAD %s Accept %q: Content-Length %q Content-Type %q, GET said %d %q", c.name, c.accept,
					head.Header.Get("Content-Length"), head.Header.Get("Content-Type"), len(body), ct)
			}
		}
		// The stored card is untouched by conversions.
		if _, _, got := e.cardGet(contactsPath+zoe.name, nil); got != zoe.body {
			t.Errorf("conversion changed the stored card")
		}
	})
}
