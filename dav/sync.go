package dav

import (
	"errors"
	"hash/maphash"
	"net/http"
	"strconv"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// syncCollection answers REPORT DAV:sync-collection (RFC 6578 §3.2) on a
// calendar or address book: every member changed since the token (all live
// members for an empty token), removed members as 404 responses, and a new
// token. With DAV:limit the answer is cut after nresults changes and marked
// by a 507 response on the collection itself (§3.6); the returned token
// resumes exactly after the last change listed, because each modseq stamps
// one name (floorSuffix keeps such a token servable when it falls behind the
// pruned tombstones).
func (h *Handler) syncCollection(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource, body *Element) error {
	if res.Type != ResCollection {
		return &Error{Status: http.StatusForbidden, Condition: NewElement(Name("supported-report"))}
	}
	// RFC 6578 §3.2 asks for Depth: 0; Thunderbird sends 1. Both mean the
	// collection's immediate members here, as collections do not nest.
	if d := r.Header.Get("Depth"); d != "" && d != "0" && d != "1" {
		return &Error{Status: http.StatusBadRequest, Message: "dav: sync-collection with Depth " + d}
	}
	c := res.Collection
	var since, floor int64
	initial := true
	if tok := body.Child(Name("sync-token")); tok != nil && strings.TrimSpace(tok.Text) != "" {
		var ok bool
		since, floor, ok = parseSyncToken(strings.TrimSpace(tok.Text), c)
		if !ok {
			return invalidSyncToken("dav: sync token not valid for this collection")
		}
		initial = false
	}
	switch lvl := strings.TrimSpace(body.Child(Name("sync-level")).textOr("1")); lvl {
	case "1", "infinite":
		// §3.3: infinite on a collection without child collections is the
		// same answer as level 1.
	default:
		return &Error{Status: http.StatusBadRequest, Message: "dav: bad sync-level " + lvl}
	}
	limit := 0
	if l := body.Child(Name("limit")); l != nil {
		n, err := strconv.Atoi(strings.TrimSpace(l.Child(Name("nresults")).textOr("")))
		if err != nil || n < 1 {
			// §3.6: a limit the server cannot honour.
			return &Error{Status: http.StatusForbidden, Condition: NewElement(Name("number-of-matches-within-limits"))}
		}
		limit = n
	}
	pr, err := propRequestFromProp(body.Child(Name("prop")), r)
	if err != nil {
		return err
	}
	cur := &changeCursor{h: h, rq: rq, col: res, initial: initial, floor: floor, limit: limit, remaining: limit,
		withBody: pr.needsBody(h), bound: c.ModSeq}
	if initial && limit == 0 {
		cur.seen, cur.seed = map[uint64]struct{}{}, maphash.MakeSeed()
	}
	changes, err := h.Store.ListChangesSince(rq.Context(), c.ID, since, cur.pageLimit(), cur.withBody)
	if err != nil {
		return err
	}
	if err := h.checkNotPruned(rq, c, initial, floor); err != nil {
		return err
	}
	cur.changes = changes
	s := h.newStream(rq, w, res, pr, "sync-collection", 0)
	if done, _, err := s.run(cur.next, nil, 0); !done {
		return err
	}
	tokenCol := *c
	tokenCol.ModSeq = c.ModSeq // complete up to the modseq of the request's start
	if cur.truncated {
		tokenCol.ModSeq = cur.changes.ModSeq
	}
	token := SyncToken(&tokenCol)
	if cur.truncated {
		token += floorSuffix(cur.changes.ModSeq, floor, initial, c)
	}
	return s.close(cur.truncated, token)
}

// changeCursor walks the change log a page at a time, so a full sync of a
// large collection costs the memory of one page. remaining counts down the
// client's own limit (§3.6): the pages are cut to it, so the token of the
// last page read resumes exactly after the last change listed.
//
// Each page is read in a snapshot of its own, and a member written while
// the pages are read moves to the end of the log: read as it comes, it
// would be listed twice (once on a page read before the write, once after)
// and, deleted, listed live first while its tombstone, an initial sync
// skips, lies beyond the token. So the pages stop at bound, the
// collection's modseq when the request began, and the token is bound: the
// answer is exactly the log up to bound, and what was written since is
// the next sync's. An initial sync must still list every member (§3.8),
// also those written since from a page not yet read: after the pages it
// reads the changes since bound and adds the live members it has not
// listed (seen holds the hashes of the names listed; a collision only
// leaves a member to the next sync, which lists it as changed since
// bound). Under a client's limit the answer is cut anyway, and the rest
// comes from the token.
type changeCursor struct {
	h         *Handler
	rq        *Request
	col       *Resource
	initial   bool
	floor     int64
	limit     int
	remaining int
	withBody  bool
	changes   *store.Changes
	i         int
	truncated bool
	bound     int64
	catchUp   bool                // reading the changes after bound (initial sync only)
	seen      map[uint64]struct{} // an initial sync without a limit: the names listed
	seed      maphash.Seed
}

func (c *changeCursor) pageLimit() int {
	if c.remaining > 0 && c.remaining < pageSize {
		return c.remaining
	}
	return pageSize
}

func (c *changeCursor) next() (member, bool, error) {
	for {
		past := false // the page reached beyond bound
		for c.i < len(c.changes.Changes) {
			ch := &c.changes.Changes[c.i]
			c.i++
			if !c.catchUp && ch.ModSeq > c.bound {
				past = true
				break
			}
			if c.seen != nil {
				h := maphash.String(c.seed, ch.Name)
				if _, dup := c.seen[h]; dup || ch.Deleted {
					continue
				}
				c.seen[h] = struct{}{}
				return member{obj: ch.Object}, true, nil
			}
			if !ch.Deleted {
				return member{obj: ch.Object}, true, nil
			}
			// §3.5.1: an initial sync lists only existing members.
			if !c.initial {
				return member{href: c.col.collectionHref() + escapeSegment(ch.Name), status: http.StatusNotFound}, true, nil
			}
		}
		if c.remaining > 0 {
			c.remaining -= len(c.changes.Changes)
		}
		col := c.col.Collection
		var since int64
		switch {
		case (past || !c.changes.Truncated) && !c.catchUp && c.seen != nil:
			c.catchUp, since = true, c.bound
		case past, !c.changes.Truncated:
			return member{}, false, nil
		case c.limit > 0 && c.remaining <= 0:
			c.truncated = true // the client's limit: it asks again from the token
			return member{}, false, nil
		default:
			since = c.changes.ModSeq
		}
		next, err := c.h.Store.ListChangesSince(c.rq.Context(), col.ID, since, c.pageLimit(), c.withBody)
		if err != nil {
			return member{}, false, err
		}
		if err := c.h.checkNotPruned(c.rq, col, c.initial, c.floor); err != nil {
			// A prune between pages: end here as if limited; the token
			// then is refused and the client resynchronizes fully.
			c.truncated = true
			return member{}, false, nil
		}
		c.changes, c.i = next, 0
	}
}

// checkNotPruned refuses an incremental sync whose tombstones were pruned
// after its token was checked. RFC 6578 §3.2, DAV:valid-sync-token: "A
// token can become invalid as the result of being 'out of date' (out of
// the range of change history maintained by the server)" — refused, never
// answered without a deletion. The token was checked against the
// pruned_modseq read when the request began; a prune that committed
// between that read and a listing removed tombstones the listing needed.
// Reading pruned_modseq again after the listing sees any such prune.
func (h *Handler) checkNotPruned(rq *Request, c *store.Collection, initial bool, floor int64) error {
	if initial {
		return nil
	}
	now, err := h.Store.GetCollection(rq.Context(), c.OwnerID, c.Kind, c.Name)
	if errors.Is(err, store.ErrNotFound) || err == nil && (now.ID != c.ID || floor < now.PrunedModSeq) {
		return invalidSyncToken("dav: tombstones pruned during sync-collection")
	}
	return err
}

func invalidSyncToken(msg string) *Error {
	return &Error{Status: http.StatusForbidden, Condition: NewElement(Name("valid-sync-token")), Message: msg}
}

// floorSuffix extends the token of a truncated answer, cut after modseq
// next, when that plain token would be refused at once because tombstones
// above next are pruned already: an initial sync of a collection whose
// oldest live members predate the pruning could otherwise never get past
// its first page (RFC 6578 §3.6 wants a token from which the client
// continues; a 403 would send it back to a full sync, and the same page).
//
// The floor is the lowest modseq above which every deletion the client
// still needs to hear of lies. A client in an initial sync holds only
// members that were live when its first page was read, so the deletions it
// needs are all above the collection's modseq of that moment (c.ModSeq, read
// before the listing); the pruned tombstones below it are of names it never
// had. An incremental client needs every deletion above its token. The
// extended token stays valid while pruned_modseq is at most the floor.
func floorSuffix(next, floor int64, initial bool, c *store.Collection) string {
	if initial {
		floor = c.ModSeq
	}
	if next >= c.PrunedModSeq || floor <= next {
		return ""
	}
	return "/" + strconv.FormatInt(floor, 10)
}

// parseSyncToken reads a token issued by sync-collection for collection c:
// the modseq to list changes after, and the floor above which the client
// needs every deletion (the modseq itself, unless floorSuffix extended the
// token). A token of another collection, from the future, or whose floor is
// below the pruned tombstones is refused: the client must start a full sync.
func parseSyncToken(tok string, c *store.Collection) (since, floor int64, ok bool) {
	rest, ok := strings.CutPrefix(tok, syncTokenPrefix)
	if !ok {
		return 0, 0, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 2 && len(parts) != 3 {
		return 0, 0, false
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	since, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || id != c.ID || since < 0 {
		return 0, 0, false
	}
	floor = since
	if len(parts) == 3 {
		f, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil || f <= since {
			return 0, 0, false
		}
		floor = f
	}
	if floor > c.ModSeq || floor < c.PrunedModSeq {
		return 0, 0, false
	}
	return since, floor, true
}

func (e *Element) textOr(def string) string {
	if e == nil {
		return def
	}
	return e.Text
}
