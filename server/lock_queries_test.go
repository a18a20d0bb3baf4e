package server_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// lockQueries is a real store that counts the lock reads and lock
// deletions asked of it.
type lockQueries struct {
	store.Store
	list, del atomic.Int64
}

func (s *lockQueries) ListLocks(ctx context.Context, path string) ([]store.Lock, error) {
	s.list.Add(1)
	return s.Store.ListLocks(ctx, path)
}

func (s *lockQueries) DeleteLocks(ctx context.Context, path string) (int64, error) {
	s.del.Add(1)
	return s.Store.DeleteLocks(ctx, path)
}

// TestLockQueriesPerWrite: a write reads the locks once, and a DELETE or
// MOVE of what no lock is on or below sends no lock deletion; a listing
// with DAV:lockdiscovery reads them once for all its members. Locks on
// what is removed still go with it (TestLockRemovedWithResource).
func TestLockQueriesPerWrite(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		lq := &lockQueries{Store: st}
		e := newEnv(t, lq)
		e.status("create a", putEvent(lockItem, "a", nil), 201)
		e.status("create b", putEvent(lockCal+"b.ics", "b", nil), 201)
		e.status("create c", putEvent(lockCal+"c.ics", "c", nil), 201)
		e.status("MKCALENDAR", request{method: "MKCALENDAR", path: "/dav/calendars/alice/work/"}, 201)
		tests := []struct {
			name       string
			r          request
			status     int
			list, dels int64
		}{
			{"PUT", putEvent(lockItem, "a", nil), http.StatusNoContent, 1, 0},
			{"DELETE", request{method: "DELETE", path: lockCal + "b.ics"}, http.StatusNoContent, 1, 0},
			{"MOVE", request{method: "MOVE", path: lockCal + "c.ics", header: map[string]string{"Destination": lockCal + "d.ics"}}, http.StatusCreated, 1, 0},
			{"MOVE to another collection", request{method: "MOVE", path: lockCal + "d.ics", header: map[string]string{"Destination": "/dav/calendars/alice/work/d.ics"}}, http.StatusCreated, 2, 0},
			{"DELETE collection", request{method: "DELETE", path: "/dav/calendars/alice/work/"}, http.StatusNoContent, 1, 0},
			{"PROPFIND lockdiscovery", request{method: "PROPFIND", path: lockCal, header: map[string]string{"Depth": "1"},
				body: `<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/><D:getetag/></D:prop></D:propfind>`}, http.StatusMultiStatus, 1, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				lq.list.Store(0)
				lq.del.Store(0)
				e.status(tt.name, tt.r, tt.status)
				if n := lq.list.Load(); n != tt.list {
					t.Errorf("ListLocks called %d times, want %d", n, tt.list)
				}
				if n := lq.del.Load(); n != tt.dels {
					t.Errorf("DeleteLocks called %d times, want %d", n, tt.dels)
				}
			})
		}
	})
}

// collectionReads is a real store that counts collection lookups.
type collectionReads struct {
	store.Store
	n atomic.Int64
}

func (s *collectionReads) GetCollection(ctx context.Context, ownerID int64, kind store.Kind, name string) (*store.Collection, error) {
	s.n.Add(1)
	return s.Store.GetCollection(ctx, ownerID, kind, name)
}

// TestDestinationResolvedOnce: a COPY or MOVE resolves its Destination
// once, for the lock check and the write: the collection lookups of the
// source and of the destination (two each for a file: its path is tried
// as a folder first).
func TestDestinationResolvedOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		cr := &collectionReads{Store: st}
		e := newEnv(t, cr)
		e.status("create a", putEvent(lockItem, "a", nil), 201)
		e.status("MKCALENDAR", request{method: "MKCALENDAR", path: "/dav/calendars/alice/work/"}, 201)
		e.status("MKCOL", request{method: "MKCOL", path: "/dav/files/alice/docs/"}, 201)
		e.status("PUT file", request{method: "PUT", path: "/dav/files/alice/docs/f.txt", body: "x"}, 201)
		tests := []struct {
			name   string
			r      request
			status int
			reads  int64
		}{
			{"COPY", request{method: "COPY", path: lockItem, header: map[string]string{"Destination": "/dav/calendars/alice/work/a.ics"}}, http.StatusCreated, 2},
			{"MOVE", request{method: "MOVE", path: lockItem, header: map[string]string{"Destination": lockCal + "b.ics"}}, http.StatusCreated, 2},
			{"COPY file", request{method: "COPY", path: "/dav/files/alice/docs/f.txt", header: map[string]string{"Destination": "/dav/files/alice/docs/g.txt"}}, http.StatusCreated, 4},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cr.n.Store(0)
				e.status(tt.name, tt.r, tt.status)
				if n := cr.n.Load(); n != tt.reads {
					t.Errorf("GetCollection called %d times, want %d", n, tt.reads)
				}
			})
		}
	})
}
