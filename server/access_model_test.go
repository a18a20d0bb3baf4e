package server_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

var accessSteps = flag.Int("access-steps", 0, "steps of TestAccessModel per store (0: the default)")

// The model-based access test. Three users (one with a non-ASCII name)
// share their calendars with each other and with a group, and make each
// other delegates (CalendarServer calendar proxies, set by PROPPATCH of
// the proxy groups as clients do), in random sequences of shares,
// revocations, group membership changes, delegations and writes;
// a model says who may do what. After every step each user tries every
// method on every calendar (as it appears to them, through a share in
// their home and through a delegation at the owner's own path) and on
// spellings of the owners' paths, and the answers must be exactly what the
// model says: the status
// of each method, which collections a home lists, which objects PROPFIND,
// sync, multiget and query show, and what current-user-privilege-set
// claims. Probes that would write carry an If-Match that cannot hold, so
// a permitted write answers 412 and a refused one 403 without changing
// anything; the steps make the real writes.

// level is what a user may do with a calendar.
type level int

const (
	levelNone level = iota
	levelRead
	levelReadWrite
	levelOwner
)

type modelShare struct {
	access store.Access
	status store.ShareStatus
}

type accessModel struct {
	users      []string
	userShares map[[2]string]modelShare // owner, sharee
	groupShare map[string]store.Access  // owner → the group's access
	members    map[string]bool
	objects    map[string]map[string]bool      // owner → object names
	delegates  map[[2]string]store.GrantAccess // owner, delegate → read or read-write
}

// delegatesOf lists owner's delegates of level a, as the proxy group's
// group-member-set names them.
func (m *accessModel) delegatesOf(owner string, a store.GrantAccess) []string {
	var out []string
	for _, u := range m.users {
		if m.delegates[[2]string{owner, u}] == a {
			out = append(out, "/dav/principals/"+escapeName(u)+"/")
		}
	}
	return out
}

func (m *accessModel) level(owner, user string) level {
	if owner == user {
		return levelOwner
	}
	l := levelNone
	grant := func(a store.Access) {
		switch {
		case a == store.AccessReadWrite:
			l = levelReadWrite
		case a == store.AccessRead && l < levelRead:
			l = levelRead
		}
	}
	if s, ok := m.userShares[[2]string{owner, user}]; ok && s.status == store.ShareAccepted {
		grant(s.access)
	}
	if m.members[user] {
		grant(m.groupShare[owner])
	}
	return l
}

// accessWorld is the server and store under test, reached without a
// network: each request goes straight to the handler.
type accessWorld struct {
	t      *testing.T
	st     store.Store
	h      http.Handler
	users  map[string]*store.User
	calIDs map[string]int64
	group  *store.Group
	reqs   atomic.Int64
}

const accessPassword = "access-model-password"

func newAccessWorld(t *testing.T, st store.Store, names []string) *accessWorld {
	ctx := context.Background()
	w := &accessWorld{t: t, st: st, users: map[string]*store.User{}, calIDs: map[string]int64{}}
	hash, err := auth.HashPasswordParams(accessPassword, cheapParams)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		u := &store.User{Username: n, PasswordHash: hash}
		if err := st.CreateUser(ctx, u, server.DefaultCollections()); err != nil {
			t.Fatal(err)
		}
		c, err := st.GetCollection(ctx, u.ID, store.KindCalendar, "personal")
		if err != nil {
			t.Fatal(err)
		}
		w.users[n], w.calIDs[n] = u, c.ID
	}
	w.group = &store.Group{Name: "team"}
	if err := st.CreateGroup(ctx, w.group); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	a, err := auth.New(st, logger, auth.Options{Params: cheapParams})
	if err != nil {
		t.Fatal(err)
	}
	w.h = server.New(server.Config{Store: st, Auth: a, Logger: logger, MaxResourceSize: 1 << 20, Version: "test"})
	return w
}

type accessResp struct {
	code int
	body string
}

func (w *accessWorld) do(user, method, path, body string, hdr ...string) accessResp {
	w.reqs.Add(1)
	r := httptest.NewRequest(method, "http://dav.test"+path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	r.SetBasicAuth(user, accessPassword)
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	return accessResp{rec.Code, rec.Body.String()}
}

// colHref is where user finds owner's calendar: their own path, or the
// shared segment in their home.
func (w *accessWorld) colHref(owner, user string) string {
	if owner == user {
		return "/dav/calendars/" + escapeName(owner) + "/personal/"
	}
	return fmt.Sprintf("/dav/calendars/%s/shared-%d/", escapeName(user), w.calIDs[owner])
}

func escapeName(n string) string { return (&urlPath{n}).String() }

type urlPath struct{ s string }

func (p *urlPath) String() string {
	var b strings.Builder
	for _, c := range []byte(p.s) {
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

var reHref = regexp.MustCompile(`<D:response><D:href>([^<]*)</D:href>(?:<D:status>([^<]*)</D:status>)?`)

// hrefs lists the hrefs of a 207's responses that have no status of their
// own (found members), sorted.
func hrefs(body string) []string {
	var out []string
	for _, m := range reHref.FindAllStringSubmatch(body, -1) {
		if m[2] == "" {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

const modelEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\nDTEND:20260105T110000Z\r\nSUMMARY:event\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

func TestAccessModel(t *testing.T) {
	steps := accessModelSteps
	if testing.Short() {
		steps /= 5
	}
	if *accessSteps > 0 {
		steps = *accessSteps
	}
	names := []string{"alice", "bob", "zoë"}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		w := newAccessWorld(t, st, names)
		m := &accessModel{users: names, userShares: map[[2]string]modelShare{}, groupShare: map[string]store.Access{},
			members: map[string]bool{}, objects: map[string]map[string]bool{}, delegates: map[[2]string]store.GrantAccess{}}
		for _, n := range names {
			m.objects[n] = map[string]bool{}
			w.put(n, n, "seed.ics", http.StatusCreated)
			m.objects[n]["seed.ics"] = true
		}
		rng := rand.New(rand.NewPCG(15, 3744))
		start := time.Now()
		var log []string
		all := w.pairs(m, "", "")
		for step := range steps {
			desc, changed := w.step(m, rng, step)
			log = append(log, desc)
			if len(log) > 20 {
				log = log[1:]
			}
			// Every pair a step can change is probed after it, and one
			// more at random; every pair after every sweepEvery steps
			// and at the end.
			probe := append(changed, pick(rng, all))
			if step%sweepEvery == sweepEvery-1 || step == steps-1 {
				probe = all
			}
			if !w.check(m, rng, probe) {
				t.Fatalf("step %d: the server and the model disagree; the last steps:\n%s", step, strings.Join(log, "\n"))
			}
		}
		t.Logf("%d steps, %d requests in %v", steps, w.reqs.Load(), time.Since(start).Round(time.Millisecond))
	})
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// sweepEvery is how often every user probes every calendar.
const sweepEvery = 25

// step makes one random change, to the store (shares, groups) or through
// the server (writes), and to the model.
func (w *accessWorld) step(m *accessModel, rng *rand.Rand, n int) (string, [][2]string) {
	ctx := context.Background()
	owner, other := pick(rng, m.users), pick(rng, m.users)
	accesses := []store.Access{store.AccessRead, store.AccessReadWrite}
	switch rng.IntN(8) {
	case 0: // share with a user
		if owner == other {
			return "noop", nil
		}
		s := modelShare{pick(rng, accesses), pick(rng, []store.ShareStatus{store.ShareAccepted, store.ShareAccepted, store.SharePending, store.ShareDeclined})}
		sh := &store.Share{CollectionID: w.calIDs[owner], UserID: w.users[other].ID, Access: s.access, Status: s.status}
		if err := w.st.PutShare(ctx, sh); err != nil {
			w.t.Fatal(err)
		}
		m.userShares[[2]string{owner, other}] = s
		return fmt.Sprintf("%d: %s shares with %s %s %s", n, owner, other, s.access, s.status), [][2]string{{owner, other}}
	case 1: // revoke a user share
		if _, ok := m.userShares[[2]string{owner, other}]; !ok {
			return "noop", nil
		}
		w.deleteShare(owner, func(sh store.Share) bool { return sh.UserID == w.users[other].ID })
		delete(m.userShares, [2]string{owner, other})
		return fmt.Sprintf("%d: %s revokes %s", n, owner, other), [][2]string{{owner, other}}
	case 2: // group membership
		var err error
		if m.members[other] {
			err = w.st.RemoveGroupMember(ctx, w.group.ID, w.users[other].ID)
		} else {
			err = w.st.AddGroupMember(ctx, w.group.ID, w.users[other].ID)
		}
		if err != nil {
			w.t.Fatal(err)
		}
		m.members[other] = !m.members[other]
		return fmt.Sprintf("%d: %s in group: %v", n, other, m.members[other]), w.pairs(m, "", other)
	case 3: // share with the group, or stop
		if _, ok := m.groupShare[owner]; ok && rng.IntN(2) == 0 {
			w.deleteShare(owner, func(sh store.Share) bool { return sh.GroupID == w.group.ID })
			delete(m.groupShare, owner)
			return fmt.Sprintf("%d: %s unshares with the group", n, owner), w.pairs(m, owner, "")
		}
		a := pick(rng, accesses)
		if err := w.st.PutShare(ctx, &store.Share{CollectionID: w.calIDs[owner], GroupID: w.group.ID, Access: a}); err != nil {
			w.t.Fatal(err)
		}
		m.groupShare[owner] = a
		return fmt.Sprintf("%d: %s shares with the group %s", n, owner, a), w.pairs(m, owner, "")
	case 7: // owner makes other a read or write delegate, or stops
		if owner == other {
			return "noop", nil
		}
		key := [2]string{owner, other}
		old := m.delegates[key]
		a := pick(rng, []store.GrantAccess{store.GrantRead, store.GrantReadWrite, ""})
		if a == "" {
			delete(m.delegates, key)
		} else {
			m.delegates[key] = a
		}
		group := map[store.GrantAccess]string{store.GrantRead: "calendar-proxy-read", store.GrantReadWrite: "calendar-proxy-write"}
		patch := a
		if a == "" {
			if patch = old; patch == "" {
				patch = store.GrantRead // removing one who is no delegate changes nothing
			}
		}
		body := proxyMembers(m.delegatesOf(owner, patch)...)
		if r := w.do(owner, "PROPPATCH", "/dav/principals/"+escapeName(owner)+"/"+group[patch]+"/", body); r.code != 207 || !strings.Contains(r.body, "200 OK") {
			w.t.Fatalf("%s PROPPATCH %s: %d\n%s", owner, group[patch], r.code, r.body)
		}
		return fmt.Sprintf("%d: %s makes %s a delegate: %q", n, owner, other, a), [][2]string{key}
	case 4, 5: // create an object through whatever access other has
		name := fmt.Sprintf("e%d.ics", n)
		if owner != other && m.delegates[[2]string{owner, other}] == store.GrantReadWrite && rng.IntN(2) == 0 {
			// As the owner's write delegate, at the owner's own path.
			path := "/dav/calendars/" + escapeName(owner) + "/personal/" + name
			if r := w.do(other, "PUT", path, fmt.Sprintf(modelEvent, owner+name)); r.code != http.StatusCreated {
				w.t.Fatalf("%s PUT %s as %s's delegate: %d\n%s", other, name, owner, r.code, r.body)
			}
			m.objects[owner][name] = true
			return fmt.Sprintf("%d: %s puts %s into %s's as a delegate", n, other, name, owner), w.pairs(m, owner, "")
		}
		l := m.level(owner, other)
		want := http.StatusCreated
		switch l {
		case levelNone:
			want = http.StatusConflict // no such collection in other's home
		case levelRead:
			want = http.StatusForbidden
		}
		w.put(other, owner, name, want)
		if l >= levelReadWrite {
			m.objects[owner][name] = true
		}
		return fmt.Sprintf("%d: %s (%d) puts %s into %s's", n, other, l, name, owner), w.pairs(m, owner, "")
	default: // delete an object
		var names []string
		for name := range m.objects[owner] {
			if name != "seed.ics" {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			return "noop", nil
		}
		slices.Sort(names)
		name := pick(rng, names)
		l := m.level(owner, other)
		want := map[level]int{levelNone: 404, levelRead: 403, levelReadWrite: 204, levelOwner: 204}[l]
		if r := w.do(other, "DELETE", w.colHref(owner, other)+name, ""); r.code != want {
			w.t.Fatalf("%s (%d) DELETE %s of %s: %d, want %d", other, l, name, owner, r.code, want)
		}
		if want == 204 {
			delete(m.objects[owner], name)
		}
		return fmt.Sprintf("%d: %s (%d) deletes %s of %s", n, other, l, name, owner), w.pairs(m, owner, "")
	}
}

// pairs lists the (owner, user) pairs of owner (all owners when "") and
// user (all users when "").
func (w *accessWorld) pairs(m *accessModel, owner, user string) [][2]string {
	var out [][2]string
	for _, o := range m.users {
		for _, u := range m.users {
			if (owner == "" || o == owner) && (user == "" || u == user) {
				out = append(out, [2]string{o, u})
			}
		}
	}
	return out
}

func (w *accessWorld) put(user, owner, name string, want int) {
	if r := w.do(user, "PUT", w.colHref(owner, user)+name, fmt.Sprintf(modelEvent, owner+name)); r.code != want {
		w.t.Fatalf("%s PUT %s into %s's: %d, want %d\n%s", user, name, owner, r.code, want, r.body)
	}
}

func (w *accessWorld) deleteShare(owner string, match func(store.Share) bool) {
	ctx := context.Background()
	shares, err := w.st.ListShares(ctx, w.calIDs[owner])
	if err != nil {
		w.t.Fatal(err)
	}
	for _, sh := range shares {
		if match(sh) {
			if err := w.st.DeleteShare(ctx, sh.CollectionID, sh.ID); err != nil {
				w.t.Fatal(err)
			}
			return
		}
	}
	w.t.Fatalf("no share of %s to delete", owner)
}

const (
	syncBody     = `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`
	queryBody    = `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>`
	privBody     = `<D:propfind xmlns:D="DAV:"><D:prop><D:current-user-privilege-set/><D:owner/></D:prop></D:propfind>`
	patchBody    = `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>seen by me</D:displayname></D:prop></D:set></D:propertyupdate>`
	noSuchETag   = `"00000000000000000000000000000000"`
	statusNotSet = 0
)

// check makes every user try every method on every calendar and compares
// the answers with the model; it reports the first disagreement.
func (w *accessWorld) check(m *accessModel, rng *rand.Rand, pairs [][2]string) bool {
	t := w.t
	var ok atomic.Bool
	ok.Store(true)
	fail := func(format string, args ...any) {
		t.Errorf(format, args...)
		ok.Store(false)
	}
	for _, user := range m.users {
		// The home lists the user's own calendar, their Birthdays
		// calendar and exactly the shared ones the model grants.
		home := "/dav/calendars/" + escapeName(user) + "/"
		want := []string{home, home + "contact_birthdays/", home + "personal/"}
		for _, owner := range m.users {
			if owner != user && m.level(owner, user) > levelNone {
				want = append(want, w.colHref(owner, user))
			}
		}
		sort.Strings(want)
		if r := w.do(user, "PROPFIND", home, "", "Depth", "1"); r.code != 207 || !slices.Equal(hrefs(r.body), want) {
			fail("%s home: %d %v, want %v", user, r.code, hrefs(r.body), want)
		}
	}
	// The probes change nothing the model tracks, so the pairs are probed
	// concurrently.
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, pair := range pairs {
		owner, user := pair[0], pair[1]
		trick := ownerPaths(owner, user, rng)
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := m.level(owner, user)
			col := w.colHref(owner, user)
			var objs []string
			for name := range m.objects[owner] {
				objs = append(objs, col+name)
			}
			sort.Strings(objs)
			read := func(what string, r accessResp, members []string) {
				if l == levelNone {
					if r.code != 404 {
						fail("%s %s of %s's without access: %d, want 404", user, what, owner, r.code)
					}
					return
				}
				if r.code != 207 && r.code != 200 {
					fail("%s (%d) %s of %s's: %d\n%s", user, l, what, owner, r.code, r.body)
					return
				}
				if members != nil && !slices.Equal(hrefs(r.body), members) {
					fail("%s (%d) %s of %s's lists %v, want %v", user, l, what, owner, hrefs(r.body), members)
				}
			}
			r := w.do(user, "PROPFIND", col, privBody, "Depth", "0")
			read("PROPFIND 0", r, []string{col})
			if l > levelNone && strings.Contains(r.body, "<D:write-content/>") != (l >= levelReadWrite) {
				fail("%s (%d) current-user-privilege-set of %s's:\n%s", user, l, owner, r.body)
			}
			read("PROPFIND 1", w.do(user, "PROPFIND", col, "", "Depth", "1"), append([]string{col}, objs...))
			read("sync-collection", w.do(user, "REPORT", col, syncBody), objs)
			read("calendar-query", w.do(user, "REPORT", col, queryBody), objs)
			mg := `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>`
			for _, o := range objs {
				mg += "<D:href>" + o + "</D:href>"
			}
			mg += "<D:href>" + col + "nosuch.ics</D:href></C:calendar-multiget>"
			read("calendar-multiget", w.do(user, "REPORT", col, mg), objs)
			read("GET", w.do(user, "GET", col+"seed.ics", ""), nil)

			// Writes, refused or failing on their If-Match.
			write := map[level]int{levelNone: 404, levelRead: 403, levelReadWrite: 412, levelOwner: 412}
			for _, c := range []struct {
				what string
				r    accessResp
				want map[level]int
			}{
				{"PUT", w.do(user, "PUT", col+"seed.ics", fmt.Sprintf(modelEvent, "x"), "If-Match", noSuchETag),
					map[level]int{levelNone: 409, levelRead: 403, levelReadWrite: 412, levelOwner: 412}},
				{"DELETE", w.do(user, "DELETE", col+"seed.ics", "", "If-Match", noSuchETag), write},
				{"MOVE", w.do(user, "MOVE", col+"seed.ics", "", "If-Match", noSuchETag, "Destination", "/dav/calendars/"+escapeName(user)+"/personal/moved.ics"), write},
				{"PROPPATCH", w.do(user, "PROPPATCH", col, patchBody),
					map[level]int{levelNone: 404, levelRead: 207, levelReadWrite: 207, levelOwner: 207}},
				{"DELETE collection", w.do(user, "DELETE", col, "", "If-Match", noSuchETag),
					map[level]int{levelNone: 404, levelRead: 403, levelReadWrite: 403, levelOwner: 412}},
			} {
				if c.r.code != c.want[l] {
					fail("%s (%d) %s on %s's: %d, want %d\n%s", user, l, c.what, owner, c.r.code, c.want[l], c.r.body)
				}
			}
			if owner != user {
				w.checkDelegated(m, owner, user, objs, fail)
				// COPY onto an existing member, Overwrite: F.
				r := w.do(user, "COPY", "/dav/calendars/"+escapeName(user)+"/personal/seed.ics", "", "Destination", col+"seed.ics", "Overwrite", "F")
				if want := map[level]int{levelNone: 409, levelRead: 403, levelReadWrite: 412}[l]; r.code != want {
					fail("%s (%d) COPY into %s's: %d, want %d", user, l, owner, r.code, want)
				}
				// The owner's own path, in any spelling, is never the way in
				// but for a delegate; dot segments and encoded slashes never.
				if m.delegates[pair] != "" {
					trick = trick[len(trick)-1:]
				}
				for _, p := range trick {
					if r := w.do(user, "PROPFIND", p, "", "Depth", "0"); r.code/100 == 2 || r.code == 500 {
						fail("%s reached %s: %d", user, p, r.code)
					}
				}
			}
		}()
	}
	wg.Wait()
	return ok.Load()
}

// checkDelegated probes owner's calendar at the owner's own path as user:
// what a delegation allows, and for anyone else the answer of no access.
func (w *accessWorld) checkDelegated(m *accessModel, owner, user string, objs []string, fail func(string, ...any)) {
	d := m.delegates[[2]string{owner, user}]
	home := "/dav/calendars/" + escapeName(owner) + "/"
	col := home + "personal/"
	var own []string
	for _, o := range objs {
		own = append(own, col+o[strings.LastIndex(o, "/")+1:])
	}
	if d == "" {
		// A read and a write; the rest of the ways in are the trick paths
		// and TestDelegation's.
		for _, r := range []accessResp{
			w.do(user, "PROPFIND", home, "", "Depth", "1"),
			w.do(user, "PUT", col+"seed.ics", fmt.Sprintf(modelEvent, "x"), "If-Match", noSuchETag),
		} {
			if r.code != 403 {
				fail("%s, no delegate of %s, reached %s's calendar: %d\n%s", user, owner, owner, r.code, r.body)
			}
		}
		return
	}
	list := func(what string, r accessResp, want []string) {
		if (r.code != 207 && r.code != 200) || want != nil && !slices.Equal(hrefs(r.body), want) {
			fail("%s (%s delegate) %s of %s's: %d %v, want %v\n%s", user, d, what, owner, r.code, hrefs(r.body), want, r.body)
		}
	}
	// The owner's Birthdays calendar is in the home too (read-only).
	list("home", w.do(user, "PROPFIND", home, "", "Depth", "1"), []string{home, home + "contact_birthdays/", col})
	r := w.do(user, "PROPFIND", col, privBody, "Depth", "0")
	list("PROPFIND 0", r, []string{col})
	if strings.Contains(r.body, "<D:write-content/>") != (d == store.GrantReadWrite) {
		fail("%s (%s delegate) current-user-privilege-set of %s's:\n%s", user, d, owner, r.body)
	}
	list("PROPFIND 1", w.do(user, "PROPFIND", col, "", "Depth", "1"), append([]string{col}, own...))
	list("sync-collection", w.do(user, "REPORT", col, syncBody), own)
	list("calendar-query", w.do(user, "REPORT", col, queryBody), own)
	list("GET", w.do(user, "GET", col+"seed.ics", ""), nil)
	write := map[store.GrantAccess]int{store.GrantRead: 403, store.GrantReadWrite: 412}[d]
	for _, c := range []struct {
		what string
		r    accessResp
		want int
	}{
		{"PUT", w.do(user, "PUT", col+"seed.ics", fmt.Sprintf(modelEvent, "x"), "If-Match", noSuchETag), write},
		{"DELETE", w.do(user, "DELETE", col+"seed.ics", "", "If-Match", noSuchETag), write},
		{"MOVE", w.do(user, "MOVE", col+"seed.ics", "", "If-Match", noSuchETag, "Destination", "/dav/calendars/"+escapeName(user)+"/personal/moved.ics"), write},
		{"PROPPATCH", w.do(user, "PROPPATCH", col, patchBody), map[store.GrantAccess]int{store.GrantRead: 403, store.GrantReadWrite: 207}[d]},
		{"DELETE collection", w.do(user, "DELETE", col, "", "If-Match", noSuchETag), 403},
		{"MKCALENDAR", w.do(user, "MKCALENDAR", home+"new/", ""), 403},
		{"address books", w.do(user, "PROPFIND", "/dav/addressbooks/"+escapeName(owner)+"/", "", "Depth", "0"), 403},
	} {
		if c.r.code != c.want {
			fail("%s (%s delegate) %s on %s's: %d, want %d\n%s", user, d, c.what, owner, c.r.code, c.want, c.r.body)
		}
	}
}

// ownerPaths are spellings of owner's calendar a user other than the owner
// may try: the owner's path, other cases and Unicode forms of the name,
// dot segments and encoded slashes through the user's own home. The last
// one is always a dot segment or an encoded slash.
func ownerPaths(owner, user string, rng *rand.Rand) []string {
	o, u := escapeName(owner), escapeName(user)
	upper := escapeName(strings.ToUpper(owner))
	decomposed := escapeName(strings.ReplaceAll(owner, "ë", "e\u0308"))
	paths := []string{
		"/dav/calendars/" + o + "/personal/seed.ics",
		"/dav/calendars/" + upper + "/personal/",
		"/dav/calendars/" + decomposed + "/personal/",
		"/dav/calendars/" + o + "./personal/",
		"/dav/calendars/" + u + "/../" + o + "/personal/",
		"/dav/calendars/" + u + "/%2E%2E/" + o + "/personal/",
		"/dav/calendars/" + u + "/..%2F" + o + "%2Fpersonal/",
		"/dav/calendars/" + u + "%2F..%2F" + o + "/personal/",
		"/dav/" + "calendars/" + o + "%2Fpersonal/",
	}
	// One of them per step is enough to be thorough over many steps.
	return []string{paths[0], pick(rng, paths[1:3]), pick(rng, paths[3:])}
}
