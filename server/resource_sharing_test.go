package server_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestResourceSharing: draft-pot-webdav-resource-sharing on the same
// shares as CalendarServer sharing. Alice POSTs DAV:share-resource; the
// shares are the store's (CS:invite shows them too); DAV:invite and
// DAV:share-access tell the owner and the sharees what each has, and
// DAV:sharer-resource-uri points a sharee at the owner's URL; no-access
// stops sharing; a sharee cannot share what is not theirs.
func TestResourceSharing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st)
		ctx := context.Background()
		hdr := map[string]string{"Content-Type": "application/davsharing+xml"}
		col := "/dav/calendars/alice/personal/"
		if r := e.do(request{method: "POST", path: col, body: sharingBody(t, "dav-share-resource.xml"), header: hdr}); r.StatusCode != 200 {
			t.Fatalf("POST share-resource: %d %s", r.StatusCode, readBody(t, r))
		}
		alice, _ := st.GetUser(ctx, "alice")
		cal, _ := st.GetCollection(ctx, alice.ID, store.KindCalendar, "personal")
		shares, err := st.ListShares(ctx, cal.ID)
		if err != nil || len(shares) != 2 || shares[0].Access != store.AccessReadWrite || shares[1].Access != store.AccessRead ||
			shares[0].Status != store.SharePending {
			t.Fatalf("shares after share-resource: %+v %v", shares, err)
		}
		props := `<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><D:invite/><D:share-access/><D:sharer-resource-uri/><CS:invite/></D:prop></D:propfind>`
		resp := e.do(request{method: "PROPFIND", path: col, body: props, header: map[string]string{"Depth": "0"}})
		if resp.StatusCode != 207 {
			t.Fatalf("owner PROPFIND: %d", resp.StatusCode)
		}
		golden(t, "sharing/dav-owner-invite", canonical(t, readBody(t, resp)))

		// Bob accepts (CalendarServer's reply works on these shares too).
		if err := st.SetShareStatus(ctx, shares[0].ID, store.ShareAccepted); err != nil {
			t.Fatal(err)
		}
		bobCol := "/dav/calendars/bob/shared-" + strconv.FormatInt(cal.ID, 10) + "/"
		resp = e.do(bobReq("PROPFIND", bobCol, props, map[string]string{"Depth": "0"}))
		if resp.StatusCode != 207 {
			t.Fatalf("sharee PROPFIND: %d", resp.StatusCode)
		}
		golden(t, "sharing/dav-sharee-invite", canonical(t, stable(readBody(t, resp))))
		if r := e.do(bobReq("POST", bobCol, sharingBody(t, "dav-share-resource.xml"), hdr)); r.StatusCode != http.StatusForbidden {
			t.Errorf("sharee POST share-resource: %d", r.StatusCode)
		}

		for _, c := range []struct {
			name, body string
			code       int
		}{
			{"unknown sharee", `<D:share-resource xmlns:D="DAV:"><D:sharee><D:href>mailto:nobody@example.org</D:href><D:share-access><D:read/></D:share-access></D:sharee></D:share-resource>`, 403},
			{"the owner", `<D:share-resource xmlns:D="DAV:"><D:sharee><D:href>/dav/principals/alice/</D:href><D:share-access><D:read/></D:share-access></D:sharee></D:share-resource>`, 403},
			{"no access element", `<D:share-resource xmlns:D="DAV:"><D:sharee><D:href>/dav/principals/bob/</D:href></D:sharee></D:share-resource>`, 400},
			{"unknown access", `<D:share-resource xmlns:D="DAV:"><D:sharee><D:href>/dav/principals/bob/</D:href><D:share-access><D:all/></D:share-access></D:sharee></D:share-resource>`, 400},
			{"no-access", `<D:share-resource xmlns:D="DAV:"><D:sharee><D:href>/dav/principals/bob/</D:href><D:share-access><D:no-access/></D:share-access></D:sharee></D:share-resource>`, 200},
		} {
			if r := e.do(request{method: "POST", path: col, body: c.body, header: hdr}); r.StatusCode != c.code {
				t.Errorf("%s: %d, want %d", c.name, r.StatusCode, c.code)
			}
		}
		if shares, _ := st.ListShares(ctx, cal.ID); len(shares) != 1 || shares[0].UserID == shares[0].GroupID {
			t.Errorf("after no-access for bob: %+v", shares)
		}
		if r := e.do(bobReq("PROPFIND", bobCol, props, map[string]string{"Depth": "0"})); r.StatusCode != 404 {
			t.Errorf("bob's instance after no-access: %d", r.StatusCode)
		}
	})
}
