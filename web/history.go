package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
)

// Version history and trash in the web UI (issue 17): an item's changes
// with a readable diff and a restore of any earlier state, a collection's
// deleted items, the deleted collections, and "undo everything this client
// changed lately". Every restore is store.RestoreVersion, RevertClient or
// RestoreCollection, as for the CLI (davenport history, davenport trash): a
// new change that clients pick up by their normal sync.

// webAgent is the client the history records for changes made here:
// restores and imports.
const webAgent = "Davenport web UI"

// Bounds of what one page reads.
const (
	itemVersions       = 20   // versions of one item, each with its diff
	collectionVersions = 50   // recent changes of a collection
	trashListed        = 200  // deleted items of a collection
	clientVersions     = 1000 // changes looked at to list the clients
)

func (h *Handler) actor(r *http.Request) store.Actor {
	return store.Actor{UserID: sessionFrom(r.Context()).acct.ID, UserAgent: webAgent}
}

// versionRow is one change as the pages list it.
type versionRow struct {
	ID        int64
	ChangedAt time.Time
	Op        store.Op
	Name      string
	UID       string
	Client    string
	ItemPath  string    // the item's history page
	Diff      []diffRow // on the item's page only
	Current   bool      // the state before this change is the item's state now
}

// clientName shows a User-Agent, or says there was none.
func clientName(ua string) string {
	if ua == "" {
		return "(a client that did not name itself)"
	}
	return ua
}

func (h *Handler) versionRow(base string, v store.Version) versionRow {
	return versionRow{
		ID: v.ID, ChangedAt: v.ChangedAt, Op: v.Op, Name: v.Name, UID: v.UID, Client: clientName(v.Actor.UserAgent),
		ItemPath: base + "/items/" + url.PathEscape(v.Name),
	}
}

type itemHistoryData struct {
	C        collectionRow
	Name     string
	UID      string
	Exists   bool
	Versions []versionRow
	Back     string
}

// itemHistory lists an item's changes, newest first, each with what it
// changed: the state before a change is its version's body, the state
// after it the next newer version's (or the item as it is now).
func (h *Handler) itemHistory(w http.ResponseWriter, r *http.Request) {
	c := h.ownCollection(w, r)
	if c == nil {
		return
	}
	ctx := r.Context()
	s := sessionFrom(ctx)
	name := r.PathValue("item")
	row := h.row(r, *c, store.CollectionTotals{})
	vs, err := h.cfg.Store.ListVersions(ctx, s.acct.ID, store.HistoryFilter{CollectionID: c.ID, Name: name, Limit: itemVersions})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	cur, err := h.cfg.Store.GetObject(ctx, c.ID, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.serverError(w, r, err)
		return
	}
	if cur == nil && len(vs) == 0 {
		h.notFound(w, r)
		return
	}
	d := itemHistoryData{C: row, Name: name, Exists: cur != nil, Back: r.URL.Path}
	var after []byte // the state after the change being looked at
	if cur != nil {
		after, d.UID = cur.Body, cur.UID
	}
	for i, v := range vs {
		var before []byte
		if v.Op != store.OpCreate {
			full, err := h.cfg.Store.GetVersion(ctx, s.acct.ID, v.ID)
			if err != nil {
				h.storeError(w, r, err)
				return
			}
			before = full.Body
		}
		vr := h.versionRow(row.WebPath, v)
		vr.Diff = diffItems(before, after)
		vr.Current = i == 0 && v.Op != store.OpCreate && cur != nil && cur.ETag == v.ETag
		d.Versions = append(d.Versions, vr)
		if d.UID == "" {
			d.UID = v.UID
		}
		after = before
	}
	h.render(w, r, http.StatusOK, "item", "History of "+name, "home", d)
}

type collectionHistoryData struct {
	C       collectionRow
	Trash   []versionRow
	Changes []versionRow
	Back    string
}

// collectionHistory is a collection's trash (its deleted items that are
// still gone) and its recent changes.
func (h *Handler) collectionHistory(w http.ResponseWriter, r *http.Request) {
	c := h.ownCollection(w, r)
	if c == nil {
		return
	}
	ctx := r.Context()
	owner := sessionFrom(ctx).acct.ID
	row := h.row(r, *c, store.CollectionTotals{})
	d := collectionHistoryData{C: row, Back: r.URL.Path}
	dels, err := h.cfg.Store.ListVersions(ctx, owner, store.HistoryFilter{CollectionID: c.ID, Op: store.OpDelete, Limit: trashListed})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	// An item deleted and then made again, or deleted twice, is listed
	// once, and only while its name is free.
	var names []string
	for _, v := range dels {
		if !slices.Contains(names, v.Name) {
			names = append(names, v.Name)
		}
	}
	live, err := h.cfg.Store.GetObjects(ctx, c.ID, names, false)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	taken := map[string]bool{}
	for _, o := range live {
		taken[o.Name] = true
	}
	for _, v := range dels {
		if !taken[v.Name] {
			taken[v.Name] = true
			d.Trash = append(d.Trash, h.versionRow(row.WebPath, v))
		}
	}
	vs, err := h.cfg.Store.ListVersions(ctx, owner, store.HistoryFilter{CollectionID: c.ID, Limit: collectionVersions})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, v := range vs {
		d.Changes = append(d.Changes, h.versionRow(row.WebPath, v))
	}
	h.render(w, r, http.StatusOK, "history", "History and trash of "+displayName(c), "home", d)
}

// localPath accepts a form's "back" only when it is a page of the UI.
func localPath(p string) string {
	if !strings.HasPrefix(p, Prefix) || strings.ContainsAny(p, "\\?#") || strings.Contains(p, "//") {
		return Prefix + "history"
	}
	return p
}

// restoreVersion brings back the state before one change.
func (h *Handler) restoreVersion(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r)
		return
	}
	owner := sessionFrom(r.Context()).acct.ID
	v, err := h.cfg.Store.GetVersion(r.Context(), owner, id)
	if err != nil {
		h.restoreFailed(w, r, err)
		return
	}
	if err := h.checkItemsUnlocked(r, []store.Version{*v}); err != nil {
		h.restoreFailed(w, r, err)
		return
	}
	res, err := store.RestoreVersion(r.Context(), h.cfg.Store, owner, id, h.actor(r))
	if err != nil {
		h.restoreFailed(w, r, err)
		return
	}
	back := localPath(r.PostFormValue("back"))
	done := "restored"
	switch {
	case res.Skipped != "":
		done = "restore-skipped"
	case res.Unchanged:
		done = "restore-unchanged"
	case res.Deleted:
		done = "restore-removed"
	case res.Renamed:
		done = "restore-renamed"
		// The item's page is under its new name now.
		if i := strings.Index(back, "/items/"); i >= 0 {
			back = back[:i] + "/items/" + url.PathEscape(res.Name)
		}
	}
	seeOther(w, r, back, done)
}

// restoreFailed explains why a restore could not be made.
func (h *Handler) restoreFailed(w http.ResponseWriter, r *http.Request, err error) {
	var uc *store.UIDConflictError
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.fail(w, r, http.StatusNotFound, "That version is gone: it may have been pruned after the retention period.")
	case errors.As(err, &uc):
		h.fail(w, r, http.StatusConflict, "Not restored: another item ("+uc.Name+") now has the same UID. Delete or move that item first.")
	case errors.Is(err, store.ErrInTrashedCollection):
		h.fail(w, r, http.StatusConflict, "Not restored: its calendar or address book was deleted. Restore that first (History → Deleted calendars and address books).")
	case errors.Is(err, store.ErrPreconditionFailed):
		h.fail(w, r, http.StatusConflict, "Not restored: the item changed meanwhile. Reload the page and try again.")
	case errors.Is(err, dav.ErrLocked):
		h.fail(w, r, http.StatusLocked, lockedText)
	case errors.Is(err, store.ErrQuotaExceeded):
		// RFC 4331 §6: 507, as a PUT past the quota gets.
		h.fail(w, r, http.StatusInsufficientStorage, "Not restored: it would take you past your storage quota. Delete something first; nothing was changed.")
	default:
		h.serverError(w, r, err)
	}
}

// clientRow is a client that changed things in the window.
type clientRow struct {
	UserAgent string
	Name      string
	Changes   int64
	Items     int64
	Last      time.Time
}

// windows are the spans "undo a client" offers.
var windows = []struct {
	Value string
	Label string
	D     time.Duration
}{
	{"1h", "the last hour", time.Hour},
	{"24h", "the last 24 hours", 24 * time.Hour},
	{"168h", "the last 7 days", 7 * 24 * time.Hour},
}

func window(v string) (string, string, time.Duration) {
	for _, w := range windows {
		if w.Value == v {
			return w.Value, w.Label, w.D
		}
	}
	return windows[0].Value, windows[0].Label, windows[0].D
}

type trashedRow struct {
	ID          int64
	Kind        string
	Name        string
	DisplayName string
	Items       int
	DeletedAt   time.Time
	Client      string
}

type historyData struct {
	Window, WindowLabel string
	Windows             any
	Clients             []clientRow
	// More: the window holds more changes than were looked at.
	More      bool
	Trashed   []trashedRow
	Reverted  []string
	RevertFor string
}

// history is the user's recovery page: the clients that changed things in
// a recent window, each with "undo everything it changed", and the deleted
// calendars and address books.
func (h *Handler) history(w http.ResponseWriter, r *http.Request) {
	h.historyPage(w, r, http.StatusOK, historyData{})
}

func (h *Handler) historyPage(w http.ResponseWriter, r *http.Request, code int, d historyData) {
	ctx := r.Context()
	owner := sessionFrom(ctx).acct.ID
	var span time.Duration
	d.Window, d.WindowLabel, span = window(r.URL.Query().Get("window"))
	d.Windows = windows
	vs, err := h.cfg.Store.ListVersions(ctx, owner, store.HistoryFilter{Since: h.cfg.Now().Add(-span), Limit: clientVersions})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d.More = len(vs) == clientVersions
	byUA := map[string]*clientRow{}
	items := map[string]map[string]bool{}
	for _, v := range vs {
		c := byUA[v.Actor.UserAgent]
		if c == nil {
			c = &clientRow{UserAgent: v.Actor.UserAgent, Name: clientName(v.Actor.UserAgent), Last: v.ChangedAt}
			byUA[v.Actor.UserAgent] = c
			items[v.Actor.UserAgent] = map[string]bool{}
		}
		c.Changes++
		items[v.Actor.UserAgent][strconv.FormatInt(v.CollectionID, 10)+"/"+v.Name] = true
	}
	for _, v := range vs { // newest first: the order of each client's last change
		if c := byUA[v.Actor.UserAgent]; c != nil {
			c.Items = int64(len(items[v.Actor.UserAgent]))
			d.Clients = append(d.Clients, *c)
			delete(byUA, v.Actor.UserAgent)
		}
	}
	ts, err := h.cfg.Store.ListTrashedCollections(ctx, owner)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, t := range ts {
		d.Trashed = append(d.Trashed, trashedRow{
			ID: t.ID, Kind: kindLabel(t.Collection.Kind), Name: t.Collection.Name, DisplayName: displayName(&t.Collection),
			Items: t.Items, DeletedAt: t.DeletedAt, Client: clientName(t.Actor.UserAgent),
		})
	}
	h.render(w, r, code, "historyall", "History and trash", "history", d)
}

// revertClient undoes everything one client changed in the window.
func (h *Handler) revertClient(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	owner := sessionFrom(ctx).acct.ID
	ua := r.PostFormValue("client")
	if ua == "" {
		h.fail(w, r, http.StatusBadRequest, "Only a client that named itself can be undone this way; restore its items one by one from their history.")
		return
	}
	_, label, span := window(r.PostFormValue("window"))
	since := h.cfg.Now().Add(-span)
	d := historyData{RevertFor: ua + ", " + label}
	// A locked item stops the undo before anything changes: all of the
	// client's changes go back, or none.
	vs, err := h.cfg.Store.ListVersions(ctx, owner, store.HistoryFilter{UserAgent: ua, Since: since})
	if err == nil {
		err = h.checkItemsUnlocked(r, vs)
	}
	if errors.Is(err, dav.ErrLocked) {
		sessionFrom(ctx).flash = lockedText
		h.historyPage(w, r, http.StatusLocked, d)
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	rs, err := store.RevertClient(ctx, h.cfg.Store, owner, ua, since, h.actor(r))
	names := map[int64]string{}
	for _, k := range []store.Kind{store.KindCalendar, store.KindAddressBook} {
		cs, lerr := h.cfg.Store.ListCollections(ctx, owner, k)
		if lerr != nil {
			h.serverError(w, r, lerr)
			return
		}
		for _, c := range cs {
			names[c.ID] = displayName(&c)
		}
	}
	for _, x := range rs {
		where := names[x.CollectionID] + ": " + x.Name
		switch {
		case x.Skipped != "":
			where += " left alone: " + x.Skipped
		case x.Unchanged:
			where += " was already as before"
		case x.Deleted:
			where += " removed (the client had created it)"
		case x.Renamed:
			where += " restored under this new name (its old name holds another item)"
		default:
			where += " restored"
		}
		d.Reverted = append(d.Reverted, where)
	}
	code := http.StatusOK
	if err != nil {
		// What was done before the failure is listed; say what stopped it.
		// A conflict is the user's to resolve (409); anything else is
		// the server's failure (500), still with the page.
		var uc *store.UIDConflictError
		msg := "The undo stopped early; the items listed were put back."
		code = http.StatusConflict
		switch {
		case errors.As(err, &uc):
			msg = "The undo stopped: another item (" + uc.Name + ") now has the UID of one to put back. The items listed were put back."
		case errors.Is(err, store.ErrPreconditionFailed):
			msg = "The undo stopped: an item changed meanwhile. The items listed were put back; try again for the rest."
		default:
			h.log.ErrorContext(ctx, "web revert client failed", "err", err)
			code = http.StatusInternalServerError
		}
		sessionFrom(ctx).flash = msg
	} else {
		sessionFrom(ctx).flash, sessionFrom(ctx).flashOK = "Done: "+strconv.Itoa(len(rs))+" items put back as they were.", true
	}
	h.historyPage(w, r, code, d)
}

// restoreCollection brings a deleted collection back from the trash.
func (h *Handler) restoreCollection(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r)
		return
	}
	c, err := store.RestoreCollection(r.Context(), h.cfg.Store, sessionFrom(r.Context()).acct.ID, id,
		store.RestoreCollectionOptions{Actor: h.actor(r), Quota: h.cfg.Quota})
	if err != nil {
		h.restoreFailed(w, r, err)
		return
	}
	seeOther(w, r, h.row(r, *c, store.CollectionTotals{}).WebPath, "restored-collection")
}

// checkItemsUnlocked returns a *dav.LockedError when a WebDAV client holds
// a lock on one of the items the versions are of, or on the calendar or
// address book that would gain or lose it: a restore writes them, and the
// web UI cannot submit a lock token (RFC 4918 §7). One query per home.
func (h *Handler) checkItemsUnlocked(r *http.Request, vs []store.Version) error {
	ctx := r.Context()
	acct := sessionFrom(ctx).acct
	type col struct {
		kind dav.Kind
		name string
	}
	cols := map[int64]col{}
	locks := map[dav.Kind]dav.Locks{}
	for _, sk := range []store.Kind{store.KindCalendar, store.KindAddressBook} {
		k := h.kind(sk)
		if k == nil {
			continue
		}
		ls, err := dav.LocksAt(ctx, h.cfg.Store, dav.HomeHref(k, acct.Username))
		if err != nil {
			return err
		}
		if len(ls) == 0 {
			continue // the usual case: nothing locked, nothing more to read
		}
		locks[k] = ls
		cs, err := h.cfg.Store.ListCollections(ctx, acct.ID, sk)
		if err != nil {
			return err
		}
		for _, c := range cs {
			cols[c.ID] = col{k, c.Name}
		}
	}
	for _, v := range vs {
		c, ok := cols[v.CollectionID]
		if !ok {
			continue
		}
		if err := locks[c.kind].Check(dav.ObjectHref(c.kind, acct.Username, c.name, v.Name), true, false); err != nil {
			return err
		}
	}
	return nil
}
