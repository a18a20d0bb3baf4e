package server_test

import (
	"net/http"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// Protocol corners strict suites and real clients probe (issue 13), full
// stack on both stores.

// TestPropfindInvalidBody: RFC 4918 §9.1 answers a PROPFIND body that breaks
// the propfind grammar (§14.20) with 400, while unknown properties inside a
// well-formed prop stay 404 propstats of a 207.
func TestPropfindInvalidBody(t *testing.T) {
	const open = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:">`
	cases := []struct {
		name, body string
		want       int
	}{
		{"allprop with propname", open + `<D:allprop/><D:propname/></D:propfind>`, http.StatusBadRequest},
		{"prop with allprop", open + `<D:prop><D:displayname/></D:prop><D:allprop/></D:propfind>`, http.StatusBadRequest},
		{"prop with propname", open + `<D:propname/><D:prop><D:displayname/></D:prop></D:propfind>`, http.StatusBadRequest},
		{"two props", open + `<D:prop><D:displayname/></D:prop><D:prop><D:getetag/></D:prop></D:propfind>`, http.StatusBadRequest},
		{"unknown child", open + `<D:prop><D:displayname/></D:prop><D:bogus/></D:propfind>`, http.StatusBadRequest},
		{"prop with text", open + `<D:prop>displayname</D:prop></D:propfind>`, http.StatusBadRequest},
		{"prop with text and children", open + `<D:prop>x<D:displayname/></D:prop></D:propfind>`, http.StatusBadRequest},
		{"propfind with text", open + `hello<D:allprop/></D:propfind>`, http.StatusBadRequest},
		{"include without allprop", open + `<D:include><D:displayname/></D:include></D:propfind>`, http.StatusBadRequest},
		{"allprop with children", open + `<D:allprop><D:displayname/></D:allprop></D:propfind>`, http.StatusBadRequest},
		{"unknown properties", open + `<D:prop><D:displayname/><X:unknown xmlns:X="urn:x-example"/><D:nonsense/></D:prop></D:propfind>`, http.StatusMultiStatus},
		{"allprop with include", open + `<D:allprop/><D:include><D:current-user-principal/></D:include></D:propfind>`, http.StatusMultiStatus},
		{"extension element", open + `<D:prop><D:displayname/></D:prop><X:hint xmlns:X="urn:x-example"/></D:propfind>`, http.StatusMultiStatus},
		{"empty prop", open + `<D:prop/></D:propfind>`, http.StatusMultiStatus},
		{"empty body", ``, http.StatusMultiStatus},
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				resp := e.do(request{method: "PROPFIND", path: calHome + "personal/", body: c.body, header: map[string]string{"Depth": "0"}})
				expectStatus(t, "PROPFIND", resp, c.want)
			})
		}
	})
}
