package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
)

// Sharing from the web UI: an owner finds users and groups by name, shares
// a collection with them read-only or read-write, sees each sharee's answer
// and revokes; a sharee answers invitations on "Shared with me". Every
// change goes through the store's shares, which the CLI (davenport share)
// and CalendarServer sharing over the protocol (dav/sharing.go) use too: a
// share made here is an invitation the sharee's client sees in its
// notification collection.

// shareRow is one sharee of a collection as the owner's page lists it.
type shareRow struct {
	ID          int64
	Name        string // user or group name
	DisplayName string
	Group       bool
	Access      store.Access
	Status      store.ShareStatus
}

// shares lists the sharees of c, naming each.
func (h *Handler) shares(ctx context.Context, c *store.Collection) ([]shareRow, error) {
	ss, err := h.cfg.Store.ListShares(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	var n principalNamer
	rows := make([]shareRow, 0, len(ss))
	for _, s := range ss {
		row := shareRow{ID: s.ID, Access: s.Access, Status: s.Status}
		if row.Name, row.DisplayName, row.Group, err = n.name(ctx, h.cfg.Store, s.UserID, s.GroupID); err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// principalNamer names the users and groups of shares and grants, reading
// the groups once.
type principalNamer struct {
	groups map[int64]store.Group
}

// name returns the name and display name of user userID, or else of group
// groupID.
func (n *principalNamer) name(ctx context.Context, st store.Store, userID, groupID int64) (name, display string, group bool, err error) {
	if userID != 0 {
		u, err := st.GetUserByID(ctx, userID)
		if err != nil {
			return "", "", false, err
		}
		return u.Username, u.DisplayName, false, nil
	}
	if n.groups == nil {
		gs, err := st.ListGroups(ctx)
		if err != nil {
			return "", "", false, err
		}
		n.groups = make(map[int64]store.Group, len(gs))
		for _, g := range gs {
			n.groups[g.ID] = g
		}
	}
	g := n.groups[groupID]
	return g.Name, g.DisplayName, true, nil
}

// findPrincipal resolves what a form names ("user:NAME", "group:NAME", or
// a bare name: a user, else a group) to a user or a group ID; both are 0
// when there is none.
func (h *Handler) findPrincipal(ctx context.Context, value string) (userID, groupID int64, err error) {
	kind, name, ok := strings.Cut(strings.TrimSpace(value), ":")
	if !ok {
		kind, name = "", kind
	}
	if name == "" {
		return 0, 0, nil
	}
	if kind == "" || kind == "user" {
		u, err := h.cfg.Store.GetUser(ctx, name)
		if err == nil {
			return u.ID, 0, nil
		}
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrInvalidUsername) {
			return 0, 0, err
		}
	}
	if kind == "" || kind == "group" {
		g, err := h.cfg.Store.GetGroup(ctx, name)
		if err == nil {
			return 0, g.ID, nil
		}
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrInvalidUsername) {
			return 0, 0, err
		}
	}
	return 0, 0, nil
}

// match is a user or group the share search found: only names, nothing
// else about another account.
type match struct {
	Kind        string `json:"kind"` // "user" or "group"
	Name        string `json:"name"`
	DisplayName string `json:"displayName,omitempty"`
}

// Value is what the share form sends for the match.
func (m match) Value() string { return m.Kind + ":" + m.Name }

// Search bounds: a query names at least minQuery characters and gets at
// most maxMatches answers, and one user makes at most searchBurst searches
// per searchWindow, so that nobody lists the server's accounts by asking
// for every pair of letters.
const (
	minQuery     = 2
	maxMatches   = 10
	searchTerms  = 1000 // index terms read per search (store.SearchPrincipals)
	searchBurst  = 30
	searchWindow = time.Minute
)

// searchLimiter counts each user's searches in fixed windows.
type searchLimiter struct {
	mu sync.Mutex
	m  map[int64]*searchWindowCount
}

type searchWindowCount struct {
	start time.Time
	n     int
}

// allow records a search by user at now and reports whether it is within
// the limit; when not, it returns how long until the next is.
func (l *searchLimiter) allow(user int64, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[int64]*searchWindowCount)
	}
	w := l.m[user]
	if w == nil || now.Sub(w.start) >= searchWindow {
		if len(l.m) > 10000 { // forget finished windows now and then
			for id, x := range l.m {
				if now.Sub(x.start) >= searchWindow {
					delete(l.m, id)
				}
			}
		}
		w = &searchWindowCount{start: now}
		l.m[user] = w
	}
	if w.n >= searchBurst {
		return false, searchWindow - now.Sub(w.start)
	}
	w.n++
	return true, 0
}

// findSharees returns the users and groups whose name or display name
// contains q (case-insensitively), the user themself left out: groups
// first, then users, each by name. Candidates come from the store's
// principal search index for q's longest word (store/search.go, as the
// DAV principal searches use it), read up to searchTerms terms, so a
// search costs the same with ten accounts or a hundred thousand; each
// candidate is then tested exactly.
func (h *Handler) findSharees(ctx context.Context, self int64, q string) ([]match, error) {
	q = store.FoldSearch(strings.TrimSpace(q))
	if utf8.RuneCountInString(q) < minQuery {
		return nil, nil
	}
	var word string
	for _, w := range store.SearchWords(q) {
		if utf8.RuneCountInString(w) > utf8.RuneCountInString(word) {
			word = w
		}
	}
	cands, _, err := h.cfg.Store.SearchPrincipals(ctx, store.SearchPrefix(word), store.SearchName, searchTerms)
	if err != nil {
		return nil, err
	}
	has := func(name, display string) bool {
		return strings.Contains(store.FoldSearch(name), q) || strings.Contains(store.FoldSearch(display), q)
	}
	var out []match
	for _, c := range cands {
		switch {
		case c.Group != nil && has(c.Group.Name, c.Group.DisplayName):
			out = append(out, match{Kind: "group", Name: c.Group.Name, DisplayName: c.Group.DisplayName})
		case c.User != nil && c.User.ID != self && has(c.User.Username, c.User.DisplayName):
			out = append(out, match{Kind: "user", Name: c.User.Username, DisplayName: c.User.DisplayName})
		}
	}
	slices.SortFunc(out, func(a, b match) int {
		if a.Kind != b.Kind {
			return strings.Compare(a.Kind, b.Kind) // "group" before "user"
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out[:min(len(out), maxMatches)], nil
}

// limited answers 429 when the user has searched too much.
func (h *Handler) limited(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := h.searches.allow(sessionFrom(r.Context()).acct.ID, h.cfg.Now())
	if ok {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
	h.fail(w, r, http.StatusTooManyRequests, "Too many searches. Wait a minute and try again.")
	return true
}

// search answers the share form's suggestions: GET /web/search?q=… as a
// JSON array of matches.
func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	if h.limited(w, r) {
		return
	}
	ms, err := h.findSharees(r.Context(), sessionFrom(r.Context()).acct.ID, r.URL.Query().Get("q"))
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if ms == nil {
		ms = []match{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(ms)
}

type shareData struct {
	C      collectionRow
	Shares []shareRow
	principalSearch
}

// principalSearch is the name search of the Share dialog and the
// delegates page.
type principalSearch struct {
	Query   string
	Matches []match
	// Searched: the page answers a search (Matches may be empty).
	Searched bool
}

// searchPage answers the search a page's GET carries (?q=…) into ps, for
// the user self; a query too short sets *errMsg. It reports false when it
// has answered the request itself (too many searches, a failure).
func (h *Handler) searchPage(w http.ResponseWriter, r *http.Request, self int64, ps *principalSearch, errMsg *string) bool {
	ps.Query = strings.TrimSpace(r.URL.Query().Get("q"))
	if ps.Query == "" || r.Method != http.MethodGet {
		return true
	}
	if h.limited(w, r) {
		return false
	}
	ps.Searched = true
	ms, err := h.findSharees(r.Context(), self, ps.Query)
	if err != nil {
		h.serverError(w, r, err)
		return false
	}
	ps.Matches = ms
	if utf8.RuneCountInString(ps.Query) < minQuery {
		*errMsg = "Type at least two letters of a name."
	}
	return true
}

// sharePage is the Share dialog of a collection: its sharees, and a search
// whose answers each carry a share form. It works without JavaScript.
func (h *Handler) sharePage(w http.ResponseWriter, r *http.Request) {
	h.shareDialog(w, r, http.StatusOK, "")
}

func (h *Handler) shareDialog(w http.ResponseWriter, r *http.Request, code int, errMsg string) {
	c := h.ownCollection(w, r)
	if c == nil {
		return
	}
	ctx := r.Context()
	d := shareData{C: h.row(r, *c, store.CollectionTotals{})}
	if !h.searchPage(w, r, c.OwnerID, &d.principalSearch, &errMsg) {
		return
	}
	var err error
	if d.Shares, err = h.shares(ctx, c); err != nil {
		h.serverError(w, r, err)
		return
	}
	s := sessionFrom(ctx)
	s.flash, s.flashOK = errMsg, false
	h.render(w, r, code, "share", "Share "+displayName(c), "home", d)
}

func displayName(c *store.Collection) string {
	if c.DisplayName != "" {
		return c.DisplayName
	}
	return c.Name
}

// addShare shares the collection with the user or group the form names
// ("user:NAME", "group:NAME", or a bare name: a user, else a group). A new
// user share is an invitation (pending until the sharee answers); changing
// the access of an existing share keeps its answer.
func (h *Handler) addShare(w http.ResponseWriter, r *http.Request) {
	c := h.ownCollection(w, r)
	if c == nil {
		return
	}
	ctx := r.Context()
	access := store.Access(r.PostFormValue("access"))
	if !access.Valid() {
		h.shareDialog(w, r, http.StatusBadRequest, "Choose read-only or read and write.")
		return
	}
	sh := store.Share{CollectionID: c.ID, Access: access}
	var err error
	if sh.UserID, sh.GroupID, err = h.findPrincipal(ctx, r.PostFormValue("sharee")); err != nil {
		h.serverError(w, r, err)
		return
	}
	if sh.UserID == 0 && sh.GroupID == 0 {
		h.shareDialog(w, r, http.StatusBadRequest, "There is no user or group with that name.")
		return
	}
	if sh.UserID == c.OwnerID {
		h.shareDialog(w, r, http.StatusBadRequest, "This is yours already: choose someone else.")
		return
	}
	existing, err := h.cfg.Store.ListShares(ctx, c.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if i := slices.IndexFunc(existing, func(s store.Share) bool { return s.UserID == sh.UserID && s.GroupID == sh.GroupID }); i >= 0 {
		sh.Status = existing[i].Status
	}
	if err := h.cfg.Store.PutShare(ctx, &sh); err != nil {
		h.storeError(w, r, err)
		return
	}
	seeOther(w, r, h.row(r, *c, store.CollectionTotals{}).WebPath+"/share", "shared")
}

// revokeShare stops one share of the collection.
func (h *Handler) revokeShare(w http.ResponseWriter, r *http.Request) {
	c := h.ownCollection(w, r)
	if c == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r)
		return
	}
	// DeleteShare is scoped to the collection, which is the user's own.
	if err := h.cfg.Store.DeleteShare(r.Context(), c.ID, id); err != nil {
		h.storeError(w, r, err)
		return
	}
	seeOther(w, r, h.row(r, *c, store.CollectionTotals{}).WebPath+"/share", "unshared")
}

// sharedRow is a collection someone shares with the user.
type sharedRow struct {
	Kind        string // "Calendar" or "Address book"
	DisplayName string
	Owner       string
	Access      store.Access
	ClientURL   string
	Swatch      string
}

// invitationRow is a user share as its sharee answers it.
type invitationRow struct {
	ID          int64
	Kind        string
	DisplayName string
	Owner       string
	OwnerName   string
	Access      store.Access
	Status      store.ShareStatus
}

type sharedData struct {
	Invitations []invitationRow
	Shared      []sharedRow
}

func kindLabel(k store.Kind) string {
	if k == store.KindAddressBook {
		return "Address book"
	}
	return "Calendar"
}

// shared is "Shared with me": the invitations the user answers, and the
// collections shared with them (their own shares accepted, and their
// groups'), each with the address their clients find it at.
func (h *Handler) shared(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s := sessionFrom(ctx)
	invs, err := h.cfg.Store.ListInvitations(ctx, s.acct.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	var d sharedData
	for _, inv := range invs {
		d.Invitations = append(d.Invitations, invitationRow{
			ID: inv.Share.ID, Kind: kindLabel(inv.Collection.Kind), DisplayName: displayName(&inv.Collection),
			Owner: inv.Owner, OwnerName: inv.OwnerDisplayName, Access: inv.Share.Access, Status: inv.Share.Status,
		})
	}
	for _, k := range []store.Kind{store.KindCalendar, store.KindAddressBook} {
		scs, err := h.cfg.Store.ListSharedCollections(ctx, s.acct.ID, k)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		for _, sc := range scs {
			row := sharedRow{Kind: kindLabel(k), DisplayName: displayName(&sc.Collection), Owner: sc.Owner, Access: sc.Access, Swatch: "#3a7bd5"}
			if sc.DisplayName != "" {
				row.DisplayName = sc.DisplayName
			}
			color := sc.Collection.Color
			if sc.Color != "" {
				color = sc.Color
			}
			if reColor.MatchString(color) {
				row.Swatch = color
			}
			row.ClientURL = h.baseURL(r) + dav.SharedCollectionHref(h.kind(k), s.acct.Username, &sc.Collection)
			d.Shared = append(d.Shared, row)
		}
	}
	h.render(w, r, http.StatusOK, "shared", "Shared with me", "shared", d)
}

// answerInvitation accepts or declines one of the user's invitations.
func (h *Handler) answerInvitation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r)
		return
	}
	status := store.ShareStatus(r.PostFormValue("answer"))
	if status != store.ShareAccepted && status != store.ShareDeclined {
		h.fail(w, r, http.StatusBadRequest, "Accept or decline the invitation.")
		return
	}
	// Only the user's own invitations: SetShareStatus takes any share id.
	invs, err := h.cfg.Store.ListInvitations(ctx, sessionFrom(ctx).acct.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if !slices.ContainsFunc(invs, func(inv store.Invitation) bool { return inv.Share.ID == id }) {
		h.notFound(w, r)
		return
	}
	if err := h.cfg.Store.SetShareStatus(ctx, id, status); err != nil {
		h.storeError(w, r, err)
		return
	}
	done := "accepted"
	if status == store.ShareDeclined {
		done = "declined"
	}
	seeOther(w, r, Prefix+"shared", done)
}
