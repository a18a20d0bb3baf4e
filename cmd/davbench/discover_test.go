package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Answers as two real servers spell them: Davenport with a "d:" prefix,
// Radicale with DAV: as the default namespace and CalDAV prefixed.
const (
	davenportPrincipal = `<?xml version="1.0" encoding="UTF-8"?>
<d:multistatus xmlns:d="DAV:"><d:response><d:href>/</d:href><d:propstat><d:prop>
<d:current-user-principal><d:href>/dav/principals/admin/</d:href></d:current-user-principal>
</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`

	radicalePrincipal = `<?xml version='1.0' encoding='utf-8'?>
<multistatus xmlns="DAV:"><response><href>/</href><propstat><prop><current-user-principal><href>/admin/</href></current-user-principal></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>`

	davenportHomes = `<?xml version="1.0" encoding="UTF-8"?>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cr="urn:ietf:params:xml:ns:carddav">
<d:response><d:href>/dav/principals/admin/</d:href><d:propstat><d:prop>
<c:calendar-home-set><d:href>/dav/calendars/admin/</d:href></c:calendar-home-set>
<cr:addressbook-home-set><d:href>/dav/addressbooks/admin/</d:href></cr:addressbook-home-set>
</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`

	radicaleHomes = `<?xml version='1.0' encoding='utf-8'?>
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav"><response><href>/admin/</href><propstat><prop><C:calendar-home-set><href>/admin/</href></C:calendar-home-set><CR:addressbook-home-set><href>/admin/</href></CR:addressbook-home-set></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>`

	// A home set that is missing comes back in a 404 propstat.
	noCardHome = `<?xml version="1.0"?>
<D:multistatus xmlns:D="DAV:"><D:response><D:href>/p/u/</D:href>
<D:propstat><D:prop><calendar-home-set xmlns="urn:ietf:params:xml:ns:caldav"><D:href>https://cal.example/u</D:href></calendar-home-set></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>
<D:propstat><D:prop><addressbook-home-set xmlns="urn:ietf:params:xml:ns:carddav"><D:href>/x/</D:href></addressbook-home-set></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>
</D:response></D:multistatus>`
)

func TestPrincipalFromPropfind(t *testing.T) {
	tests := []struct {
		name, body, want string
		wantErr          error
	}{
		{"davenport", davenportPrincipal, "/dav/principals/admin/", nil},
		{"radicale", radicalePrincipal, "/admin/", nil},
		{"no principal", `<multistatus xmlns="DAV:"><response><href>/</href><propstat><prop/><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>`, "", errDiscovery},
		{"principal in a 404 propstat", `<multistatus xmlns="DAV:"><response><href>/</href><propstat><prop><current-user-principal><href>/x/</href></current-user-principal></prop><status>HTTP/1.1 404 Not Found</status></propstat></response></multistatus>`, "", errDiscovery},
		{"not XML", `<html>login</html>`, "", errNoMultistatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := principalFromPropfind([]byte(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("principal = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHomesFromPropfind(t *testing.T) {
	tests := []struct {
		name, body, cal, book string
		wantErr               string
	}{
		{"davenport", davenportHomes, "/dav/calendars/admin/", "/dav/addressbooks/admin/", ""},
		{"radicale shares one home", radicaleHomes, "/admin/", "/admin/", ""},
		{"missing address book home", noCardHome, "", "", "no addressbook-home-set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cal, book, err := homesFromPropfind([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, errDiscovery) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cal != tt.cal || book != tt.book {
				t.Errorf("homes = %q, %q; want %q, %q", cal, book, tt.cal, tt.book)
			}
		})
	}
}

func TestResolveHrefAndMemberName(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1:8008/dav/principals/admin/")
	tests := []struct{ href, want string }{
		{"/dav/calendars/admin/", "http://127.0.0.1:8008/dav/calendars/admin/"},
		{"http://[::1]:5232/admin/", "http://[::1]:5232/admin/"},
		{"../../calendars/admin/", "http://127.0.0.1:8008/dav/calendars/admin/"},
		{" /a%20b/ ", "http://127.0.0.1:8008/a%20b/"},
	}
	for _, tt := range tests {
		u, err := resolveHref(base, tt.href)
		if err != nil {
			t.Fatal(err)
		}
		if u.String() != tt.want {
			t.Errorf("resolveHref(%q) = %s, want %s", tt.href, u, tt.want)
		}
	}
	names := []struct{ href, want string }{
		{"/dav/calendars/admin/work/davbench-e1.ics", "davbench-e1.ics"},
		{"http://127.0.0.1:5232/admin/cal/a%20b%40c.ics", "a b@c.ics"},
		{"/dav/calendars/admin/work/", ""},
		{"", ""},
	}
	for _, tt := range names {
		if got := memberName(tt.href); got != tt.want {
			t.Errorf("memberName(%q) = %q, want %q", tt.href, got, tt.want)
		}
	}
}

func TestStatusCode(t *testing.T) {
	for line, want := range map[string]int{"HTTP/1.1 200 OK": 200, "HTTP/1.1 404 Not Found": 404, " HTTP/1.1 507 x ": 507, "": 0, "HTTP/1.1": 0, "HTTP/1.1 abc": 0} {
		if got := statusCode(line); got != want {
			t.Errorf("statusCode(%q) = %d, want %d", line, got, want)
		}
	}
}

func TestCheckNames(t *testing.T) {
	body := `<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<response><href>/c/</href><propstat><prop><getetag>"x"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>
<response><href>/c/a.ics</href><propstat><prop><getetag>"1"</getetag><C:calendar-data>BEGIN:VCALENDAR
END:VCALENDAR</C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>
<response><href>/c/b.ics</href><propstat><prop><getetag>"2"</getetag><C:calendar-data>BEGIN:VCALENDAR
END:VCALENDAR</C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>
</multistatus>`
	ms, err := parseMultistatus([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkNames(ms, []string{"b.ics", "a.ics"}, hasCalendarData); err != nil {
		t.Errorf("matching set refused: %v", err)
	}
	err = checkNames(ms, []string{"a.ics", "c.ics"}, hasCalendarData)
	if !errors.Is(err, errValidation) || !strings.Contains(err.Error(), "missing c.ics; unexpected b.ics") {
		t.Errorf("wrong set: %v", err)
	}
	if err := checkNames(ms, []string{"a.ics", "b.ics"}, hasAddressData); !errors.Is(err, errValidation) {
		t.Errorf("missing property not caught: %v", err)
	}
}

func TestCheckSyncDelta(t *testing.T) {
	ok := `<d:multistatus xmlns:d="DAV:">
<d:response><d:href>/c/x.ics</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
<d:response><d:href>/c/y.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>
<d:sync-token>http://example/sync/5</d:sync-token></d:multistatus>`
	tests := []struct {
		name, body string
		ok         bool
	}{
		{"exact", ok, true},
		{"deleted listed as changed", strings.Replace(ok, `<d:status>HTTP/1.1 404 Not Found</d:status></d:response>`,
			`<d:propstat><d:prop><d:getetag>"2"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`, 1), false},
		{"no token", strings.Replace(ok, `<d:sync-token>http://example/sync/5</d:sync-token>`, "", 1), false},
		{"a 500 member", strings.Replace(ok, "404 Not Found", "500 Internal Server Error", 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := parseMultistatus([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			err = checkSyncDelta(ms, []string{"x.ics"}, []string{"y.ics"})
			if (err == nil) != tt.ok {
				t.Errorf("checkSyncDelta = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestDiffSorted(t *testing.T) {
	a, b := diffSorted([]string{"a", "c", "d"}, []string{"b", "c", "e"})
	if strings.Join(a, ",") != "a,d" || strings.Join(b, ",") != "b,e" {
		t.Errorf("diffSorted = %v, %v", a, b)
	}
}

// Discovery end to end over HTTP: the URL given answers 404, the
// well-known URL redirects to the context path, which names the principal.
func TestDiscoverFollowsWellKnown(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/.well-known/caldav":
			http.Redirect(w, r, "/dav/", http.StatusPermanentRedirect) // keeps the method
		case "/dav/":
			if r.Method != "PROPFIND" || r.Header.Get("Depth") != "0" {
				t.Errorf("%s %s Depth %q", r.Method, r.URL.Path, r.Header.Get("Depth"))
			}
			w.WriteHeader(207)
			io.WriteString(w, davenportPrincipal)
		case "/dav/principals/admin/":
			w.WriteHeader(207)
			io.WriteString(w, strings.ReplaceAll(davenportHomes, "<d:href>/dav/addressbooks/admin/</d:href>",
				"<d:href>"+srv.URL+"/dav/addressbooks/admin</d:href>"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := newClient("admin", "pw", 2, 10*time.Second, false)
	base, _ := url.Parse(srv.URL + "/start/")
	h, err := discover(context.Background(), c, base)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Principal.String(), srv.URL+"/dav/principals/admin/"; got != want {
		t.Errorf("principal %s, want %s", got, want)
	}
	if got, want := h.Calendar.String(), srv.URL+"/dav/calendars/admin/"; got != want {
		t.Errorf("calendar home %s, want %s", got, want)
	}
	if got, want := h.Addressbk.String(), srv.URL+"/dav/addressbooks/admin/"; got != want {
		t.Errorf("address-book home %s, want %s (absolute href, slash added)", got, want)
	}
}
