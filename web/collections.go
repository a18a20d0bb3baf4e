package web

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
)

// collectionRow is one calendar or address book as the pages show it.
type collectionRow struct {
	store.Collection
	Objects    int64
	UsedBytes  int64
	Segment    string // "calendars" or "addressbooks"
	WebPath    string // the collection's page
	ClientURL  string // what a client is given
	InputColor string // #rrggbb for <input type=color>
	Swatch     string // a colour for the SVG swatch, always valid
	Noun       string // "events", "tasks" or "contacts"
	One        string // the same, singular
}

// Components a calendar may be made for, in the order the form lists them.
var componentChoices = []struct{ Name, Label string }{
	{"VEVENT", "Events"}, {"VTODO", "Tasks"}, {"VJOURNAL", "Journal"},
}

// componentLabel names a component for people ("VTODO" is "Tasks").
func componentLabel(name string) string {
	for _, c := range componentChoices {
		if c.Name == name {
			return c.Label
		}
	}
	return name
}

func (h *Handler) row(r *http.Request, c store.Collection, t store.CollectionTotals) collectionRow {
	k := h.kind(c.Kind)
	row := collectionRow{Collection: c, Objects: t.Objects, UsedBytes: t.UsedBytes}
	row.Segment = k.HomeSegment()
	row.WebPath = Prefix + "c/" + row.Segment + "/" + url.PathEscape(c.Name)
	row.ClientURL = h.baseURL(r) + dav.CollectionHref(k, sessionFrom(r.Context()).acct.Username, c.Name)
	row.InputColor, row.Swatch = "#3a7bd5", "#3a7bd5"
	if reColor.MatchString(c.Color) {
		row.InputColor = strings.ToLower(c.Color[:7])
		row.Swatch = c.Color
	}
	switch {
	case c.Kind == store.KindAddressBook:
		row.One, row.Noun = "contact", "contacts"
	case len(c.Components) == 1 && c.Components[0] == "VTODO":
		row.One, row.Noun = "task", "tasks"
	case len(c.Components) == 1 && c.Components[0] == "VJOURNAL":
		row.One, row.Noun = "journal entry", "journal entries"
	default:
		row.One, row.Noun = "event", "events"
	}
	return row
}

var reColor = regexp.MustCompile(`^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$`)

// collections lists the user's calendars and address books with totals.
func (h *Handler) collections(r *http.Request) (cals, books []collectionRow, err error) {
	ctx := r.Context()
	uid := sessionFrom(ctx).acct.ID
	totals, err := h.cfg.Store.ListCollectionTotals(ctx, uid)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[int64]store.CollectionTotals, len(totals))
	for _, t := range totals {
		byID[t.ID] = t
	}
	for _, k := range []store.Kind{store.KindCalendar, store.KindAddressBook} {
		cs, err := h.cfg.Store.ListCollections(ctx, uid, k)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range cs {
			if k == store.KindCalendar {
				cals = append(cals, h.row(r, c, byID[c.ID]))
			} else {
				books = append(books, h.row(r, c, byID[c.ID]))
			}
		}
	}
	return cals, books, nil
}

type homeData struct {
	Calendars, AddressBooks []collectionRow
	// Invitations is how many shares wait for the user's answer.
	Invitations int
	Components  any
	Form        collectionForm
	MaxImport   string
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	h.homePage(w, r, http.StatusOK, collectionForm{Kind: "calendar", Color: "#3a7bd5", Components: []string{"VEVENT", "VTODO"}}, "")
}

func (h *Handler) homePage(w http.ResponseWriter, r *http.Request, code int, f collectionForm, errMsg string) {
	cals, books, err := h.collections(r)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	s := sessionFrom(r.Context())
	invs, err := h.cfg.Store.ListInvitations(r.Context(), s.acct.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	pending := 0
	for _, inv := range invs {
		if inv.Share.Status == store.SharePending {
			pending++
		}
	}
	s.flash, s.flashOK = errMsg, false
	h.render(w, r, code, "home", "Calendars and address books", "home", homeData{
		Calendars: cals, AddressBooks: books, Invitations: pending, Components: componentChoices, Form: f,
		MaxImport: formatSize(h.cfg.MaxImportSize),
	})
}

// collectionForm is the create and edit form.
type collectionForm struct {
	Kind        string // "calendar" or "addressbook"
	DisplayName string
	Description string
	Color       string
	Components  []string
}

func (f collectionForm) Has(c string) bool { return slices.Contains(f.Components, c) }

// readCollectionForm reads and checks the form; the message says what to fix.
func readCollectionForm(r *http.Request) (collectionForm, string) {
	f := collectionForm{
		Kind:        r.PostFormValue("kind"),
		DisplayName: strings.TrimSpace(r.PostFormValue("displayname")),
		Description: strings.TrimSpace(r.PostFormValue("description")),
		Color:       strings.TrimSpace(r.PostFormValue("color")),
	}
	for _, c := range r.PostForm["components"] {
		if slices.ContainsFunc(componentChoices, func(x struct{ Name, Label string }) bool { return x.Name == c }) && !slices.Contains(f.Components, c) {
			f.Components = append(f.Components, c)
		}
	}
	if msg := checkText("Name", f.DisplayName, 100, true); msg != "" {
		return f, msg
	}
	if msg := checkText("Description", f.Description, 1000, false); msg != "" {
		return f, msg
	}
	if f.Color != "" && !reColor.MatchString(f.Color) {
		return f, "Colour must look like #3a7bd5."
	}
	return f, ""
}

// checkText refuses empty required values, overlong ones, control
// characters and markup: a name with "<script>" would be escaped on every
// page, but it is never what a person meant, and other clients show names
// unescaped.
func checkText(field, v string, maxRunes int, required bool) string {
	switch {
	case required && v == "":
		return field + " is required."
	case !utf8.ValidString(v):
		return field + " is not valid text."
	case utf8.RuneCountInString(v) > maxRunes:
		return field + " is too long."
	case strings.ContainsAny(v, "<>"):
		return field + " cannot contain < or >."
	case strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0:
		return field + " cannot contain control characters."
	}
	return ""
}

// appleColor stores a colour as Apple's calendar-color (#RRGGBBAA).
func appleColor(c string) string {
	if len(c) == 7 {
		return strings.ToUpper(c) + "FF"
	}
	return strings.ToUpper(c)
}

// slug makes a URL segment from a display name: lowercase letters, digits
// and dashes; "" when nothing is left.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

func (h *Handler) createCollection(w http.ResponseWriter, r *http.Request) {
	f, msg := readCollectionForm(r)
	if msg == "" && f.Kind != "calendar" && f.Kind != "addressbook" {
		msg = "Choose a calendar or an address book."
	}
	if msg == "" && f.Kind == "calendar" && len(f.Components) == 0 {
		msg = "Choose what the calendar holds: events, tasks or journal."
	}
	if msg != "" {
		h.homePage(w, r, http.StatusBadRequest, f, msg)
		return
	}
	c, err := h.newCollection(r, f)
	if errors.Is(err, dav.ErrLocked) {
		h.fail(w, r, http.StatusLocked, lockedText)
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	seeOther(w, r, h.row(r, *c, store.CollectionTotals{}).WebPath, "created")
}

// newCollection creates a collection from a checked form, choosing a free
// URL segment from its name.
func (h *Handler) newCollection(r *http.Request, f collectionForm) (*store.Collection, error) {
	s := sessionFrom(r.Context())
	kind := store.KindCalendar
	if f.Kind == "addressbook" {
		kind = store.KindAddressBook
	}
	base := slug(f.DisplayName)
	if base == "" {
		base = string(kind)
	}
	for i := 0; ; i++ {
		c := &store.Collection{OwnerID: s.acct.ID, Kind: kind, Name: base, DisplayName: f.DisplayName, Description: f.Description}
		if i > 0 {
			c.Name = base + "-" + randomToken()[:6]
		}
		if f.Color != "" {
			c.Color = appleColor(f.Color)
		}
		if kind == store.KindCalendar {
			c.Components = f.Components
		}
		// A lock on the home (its membership) or on the unmapped URL
		// (RFC 4918 §7.3) keeps the web UI from making it there.
		if k := h.kind(kind); k != nil {
			err := dav.CheckUnlocked(r.Context(), h.cfg.Store, dav.CollectionHref(k, s.acct.Username, c.Name), true, false)
			if err != nil {
				return nil, err
			}
		}
		err := h.cfg.Store.CreateCollection(r.Context(), c)
		if errors.Is(err, store.ErrConflict) && i < 5 {
			continue
		}
		return c, err
	}
}

// lookupCollection finds the signed-in user's collection named by the path;
// another user's is simply not found.
func (h *Handler) lookupCollection(r *http.Request) (*store.Collection, error) {
	var kind store.Kind
	for _, k := range h.cfg.Kinds {
		if k.HomeSegment() == r.PathValue("kind") {
			kind = k.StoreKind()
			break // the home's own kind, not a derived one living in it
		}
	}
	if kind == "" {
		return nil, store.ErrNotFound
	}
	return h.cfg.Store.GetCollection(r.Context(), sessionFrom(r.Context()).acct.ID, kind, r.PathValue("name"))
}

// ownCollection returns the collection the path names, or answers the
// request (404, 500) and returns nil.
func (h *Handler) ownCollection(w http.ResponseWriter, r *http.Request) *store.Collection {
	c, err := h.lookupCollection(r)
	if err != nil {
		h.storeError(w, r, err)
		return nil
	}
	return c
}

type collectionData struct {
	C          collectionRow
	Sharees    int // how many users and groups it is shared with
	Form       collectionForm
	Components any
	MaxImport  string
}

func (h *Handler) collection(w http.ResponseWriter, r *http.Request) {
	h.collectionPage(w, r, http.StatusOK, nil, "")
}

func (h *Handler) collectionPage(w http.ResponseWriter, r *http.Request, code int, f *collectionForm, errMsg string) {
	c := h.ownCollection(w, r)
	if c == nil {
		return
	}
	totals, err := h.cfg.Store.ListCollectionTotals(r.Context(), c.OwnerID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	var t store.CollectionTotals
	for _, x := range totals {
		if x.ID == c.ID {
			t = x
		}
	}
	row := h.row(r, *c, t)
	if f == nil {
		f = &collectionForm{DisplayName: c.DisplayName, Description: c.Description, Color: row.InputColor, Components: c.Components}
	}
	s := sessionFrom(r.Context())
	s.flash, s.flashOK = errMsg, false
	title := c.DisplayName
	if title == "" {
		title = c.Name
	}
	d := collectionData{C: row, Form: *f, Components: componentChoices, MaxImport: formatSize(h.cfg.MaxImportSize)}
	if c.Shared {
		ss, err := h.cfg.Store.ListShares(r.Context(), c.ID)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		d.Sharees = len(ss)
	}
	h.render(w, r, code, "collection", title, "home", d)
}

// editCollection renames, recolours and describes a collection.
func (h *Handler) editCollection(w http.ResponseWriter, r *http.Request) {
	c := h.ownCollection(w, r)
	if c == nil {
		return
	}
	f, msg := readCollectionForm(r)
	if msg != "" {
		h.collectionPage(w, r, http.StatusBadRequest, &f, msg)
		return
	}
	p := store.CollectionPatch{DisplayName: &f.DisplayName, Description: &f.Description}
	if f.Color != "" {
		col := appleColor(f.Color)
		p.Color = &col
	}
	if msg, err := h.lockedMessage(r, c, false); err != nil || msg != "" {
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		h.collectionPage(w, r, http.StatusLocked, &f, msg)
		return
	}
	if err := h.cfg.Store.UpdateCollection(r.Context(), c.OwnerID, c.ID, p); err != nil {
		h.serverError(w, r, err)
		return
	}
	seeOther(w, r, h.row(r, *c, store.CollectionTotals{}).WebPath, "saved")
}

// deleteCollection deletes a collection once the form confirms it.
func (h *Handler) deleteCollection(w http.ResponseWriter, r *http.Request) {
	c := h.ownCollection(w, r)
	if c == nil {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		h.collectionPage(w, r, http.StatusBadRequest, nil, "Tick the box to confirm the deletion.")
		return
	}
	if msg, err := h.lockedMessage(r, c, true); err != nil || msg != "" {
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		h.collectionPage(w, r, http.StatusLocked, nil, msg)
		return
	}
	if err := h.cfg.Store.DeleteCollection(r.Context(), c.OwnerID, c.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.serverError(w, r, err)
		return
	}
	seeOther(w, r, Prefix, "deleted")
}

// lockedMessage says why the user's collection c cannot be changed (its
// properties, or with whole the collection and its members) while a
// WebDAV client holds a lock on it (RFC 4918 §7): the web UI cannot
// submit the lock's token. "" when nothing stops the change.
func (h *Handler) lockedMessage(r *http.Request, c *store.Collection, whole bool) (string, error) {
	k := h.kind(c.Kind)
	if k == nil {
		return "", nil
	}
	href := dav.CollectionHref(k, sessionFrom(r.Context()).acct.Username, c.Name)
	err := dav.CheckUnlocked(r.Context(), h.cfg.Store, href, whole, whole)
	if errors.Is(err, dav.ErrLocked) {
		return lockedText, nil
	}
	return "", err
}

// lockedText is the web UI's answer to a change of something a WebDAV
// client has locked.
const lockedText = "Not changed: a WebDAV client (a file manager or an editor) holds a lock on this. " +
	"Close it there, or wait until the lock expires (at most an hour), and try again."
