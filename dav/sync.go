package dav

import (
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
// one name.
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
	var since int64
	initial := true
	if tok := body.Child(Name("sync-token")); tok != nil && strings.TrimSpace(tok.Text) != "" {
		var ok bool
		since, ok = parseSyncToken(strings.TrimSpace(tok.Text), c)
		if !ok {
			return &Error{Status: http.StatusForbidden, Condition: NewElement(Name("valid-sync-token")), Message: "dav: sync token not valid for this collection"}
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
	pr := PropRequestFromProp(body.Child(Name("prop")), r)
	changes, err := h.Store.ListChangesSince(rq.Ctx, c.ID, since, limit, pr.needsBody(h))
	if err != nil {
		return err
	}
	ms := NewMultiStatus(w)
	for i := range changes.Changes {
		ch := &changes.Changes[i]
		if ch.Deleted {
			// §3.5.1: an initial sync lists only existing members.
			if !initial {
				ms.Add(&Response{Href: ObjectHref(res.Kind, res.Owner.Username, c.Name, ch.Name), Status: http.StatusNotFound})
			}
			continue
		}
		resp, err := h.propResponse(rq, h.objectResource(res, ch.Object), pr)
		if err != nil {
			h.Logger.ErrorContext(rq.Ctx, "sync-collection member failed", "name", ch.Name, "err", err)
			return nil
		}
		if ms.Add(resp) != nil {
			return nil
		}
	}
	if changes.Truncated {
		ms.Add(&Response{Href: res.Href, Status: http.StatusInsufficientStorage, Error: NewElement(Name("number-of-matches-within-limits"))})
	}
	tokenCol := *c
	tokenCol.ModSeq = changes.ModSeq
	return ms.Close(SyncToken(&tokenCol))
}

// parseSyncToken reads a token issued by SyncToken for collection c. A token
// of another collection, from the future, or older than the pruned
// tombstones is refused: the client must start a full sync.
func parseSyncToken(tok string, c *store.Collection) (int64, bool) {
	rest, ok := strings.CutPrefix(tok, syncTokenPrefix)
	if !ok {
		return 0, false
	}
	idStr, seqStr, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, false
	}
	id, err1 := strconv.ParseInt(idStr, 10, 64)
	seq, err2 := strconv.ParseInt(seqStr, 10, 64)
	if err1 != nil || err2 != nil || id != c.ID || seq < 0 || seq > c.ModSeq || seq < c.PrunedModSeq {
		return 0, false
	}
	return seq, true
}

func (e *Element) textOr(def string) string {
	if e == nil {
		return def
	}
	return e.Text
}
