package server_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// bodyReads is a real store that counts the reads asking it for item
// bodies.
type bodyReads struct {
	store.Store
	n atomic.Int64
}

func (b *bodyReads) GetObject(ctx context.Context, collectionID int64, name string) (*store.Object, error) {
	b.n.Add(1)
	return b.Store.GetObject(ctx, collectionID, name)
}

func (b *bodyReads) GetObjects(ctx context.Context, collectionID int64, names []string, withBody bool) ([]store.Object, error) {
	if withBody {
		b.n.Add(1)
	}
	return b.Store.GetObjects(ctx, collectionID, names, withBody)
}

func (b *bodyReads) ListObjects(ctx context.Context, collectionID int64, opts store.ListObjectsOptions) ([]store.Object, error) {
	if opts.WithBody {
		b.n.Add(1)
	}
	return b.Store.ListObjects(ctx, collectionID, opts)
}

func (b *bodyReads) ListChangesSince(ctx context.Context, collectionID, modseq int64, limit int, withBody bool) (*store.Changes, error) {
	if withBody {
		b.n.Add(1)
	}
	return b.Store.ListChangesSince(ctx, collectionID, modseq, limit, withBody)
}

// TestListingsReadNoBodies: the requests clients use to list a collection
// (PROPFIND Depth 1, sync-collection, a query without a content filter, a
// multiget of etags) never ask the store for item bodies, so they cost the
// same whatever the size of the events and cards. The requests that need
// the content (GET, calendar-data, address-data, a text filter) do.
func TestListingsReadNoBodies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		br := &bodyReads{Store: st}
		e := newEnv(t, br)
		e.syncMust(t, "PUT", syncCal+"a.ics", syncEvent("uid-a", "a"), syncICS, http.StatusCreated)
		e.syncMust(t, "PUT", syncCal+"b.ics", syncEvent("uid-b", "b"), syncICS, http.StatusCreated)
		e.syncMust(t, "PUT", syncBook+"c.vcf", syncCard("uid-c", "Carol"), syncVCF, http.StatusCreated)
		token, err := e.syncTokenOf(syncCal)
		if err != nil {
			t.Fatal(err)
		}
		bookToken, err := e.syncTokenOf(syncBook)
		if err != nil {
			t.Fatal(err)
		}
		e.syncMust(t, "PUT", syncCal+"a.ics", syncEvent("uid-a", "a2"), syncICS, http.StatusCreated, http.StatusNoContent)

		const (
			listProps = `<D:prop><D:getetag/><D:getcontenttype/><D:getcontentlength/><D:getlastmodified/><D:resourcetype/><D:displayname/></D:prop>`
			dav       = `xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="urn:ietf:params:xml:ns:carddav"`
		)
		depth1 := map[string]string{"Depth": "1", "Content-Type": "application/xml"}
		incremental := func(name, tok string) string {
			return strings.ReplaceAll(clientBody(t, name), "SYNC-TOKEN-FROM-LAST-RESPONSE", tok)
		}
		tests := []struct {
			name, method, path, body string
			header                   map[string]string
			bodies                   bool
		}{
			{"PROPFIND Depth 1 calendar", "PROPFIND", syncCal, `<D:propfind ` + dav + `>` + listProps + `</D:propfind>`, depth1, false},
			{"PROPFIND Depth 1 allprop", "PROPFIND", syncCal, `<D:propfind ` + dav + `><D:allprop/></D:propfind>`, depth1, false},
			{"PROPFIND Depth 1 address book", "PROPFIND", syncBook, `<D:propfind ` + dav + `>` + listProps + `</D:propfind>`, depth1, false},
			{"PROPFIND Depth 1 home", "PROPFIND", "/dav/calendars/alice/", clientBody(t, "davx5-04-home-propfind.xml"), depth1, false},
			{"davx5 sync initial", "REPORT", syncCal, clientBody(t, "davx5-06-sync-collection-initial.xml"), depth1, false},
			{"davx5 sync incremental", "REPORT", syncCal, incremental("davx5-07-sync-collection-incremental.xml", token), depth1, false},
			{"thunderbird sync incremental", "REPORT", syncCal, incremental("thunderbird-05-sync-collection.xml", token), depth1, false},
			{"davx5 sync address book", "REPORT", syncBook, incremental("davx5-07-sync-collection-incremental.xml", bookToken), depth1, false},
			{"davx5 addressbook-query without filter", "REPORT", syncBook, clientBody(t, "davx5-09-addressbook-query-empty-filter.xml"), depth1, false},
			{"calendar-query of all events", "REPORT", syncCal, `<C:calendar-query ` + dav + `><D:prop><D:getetag/></D:prop>` +
				`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>`, depth1, false},
			{"calendar-multiget of etags", "REPORT", syncCal, `<C:calendar-multiget ` + dav + `><D:prop><D:getetag/></D:prop>` +
				`<D:href>` + syncCal + `a.ics</D:href><D:href>` + syncCal + `b.ics</D:href></C:calendar-multiget>`, depth1, false},

			{"GET", "GET", syncCal + "a.ics", "", nil, true},
			{"calendar-multiget with data", "REPORT", syncCal, clientBody(t, "davx5-08-calendar-multiget.xml"), depth1, true},
			{"sync with calendar-data", "REPORT", syncCal, `<D:sync-collection ` + dav + `><D:sync-token/><D:sync-level>1</D:sync-level>` +
				`<D:prop><D:getetag/><C:calendar-data/></D:prop></D:sync-collection>`, depth1, true},
			{"calendar-query with a time range", "REPORT", syncCal, `<C:calendar-query ` + dav + `><D:prop><D:getetag/></D:prop>` +
				`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20250101T000000Z" end="20260101T000000Z"/>` +
				`</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`, depth1, true},
			{"addressbook-query on text", "REPORT", syncBook, `<A:addressbook-query ` + dav + `><D:prop><D:getetag/></D:prop>` +
				`<A:filter><A:prop-filter name="FN"><A:text-match>carol</A:text-match></A:prop-filter></A:filter></A:addressbook-query>`, depth1, true},
		}
		for _, tt := range tests {
			before := br.n.Load()
			resp := e.do(request{method: tt.method, path: tt.path, body: tt.body, header: tt.header})
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusMultiStatus {
				t.Errorf("%s: status %d\n%s", tt.name, resp.StatusCode, body)
				continue
			}
			if got := br.n.Load() - before; (got > 0) != tt.bodies {
				t.Errorf("%s: %d body reads, want bodies read = %v", tt.name, got, tt.bodies)
			}
		}
	})
}
