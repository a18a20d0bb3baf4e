package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/ingest"
	"github.com/davenport-dav/davenport/store"
)

// An import is spooled to a temporary file and read in two passes by
// package ingest: memory is bounded by the number of items, never by the
// size of the file.

// importResult is what the result page shows.
type importResult struct {
	ingest.Result
	Collection    collectionRow
	Total         int
	Noun          string
	NewCollection bool
	// Stopped is set when a failure of the server (not of an item) ended
	// the import early: the items listed are what went in, and NotTried
	// items after them were not looked at.
	Stopped  bool
	NotTried int
}

// uidList is one outcome's items for the result page: counted in full,
// named up to ingest.MaxListed.
type uidList struct {
	ID, Title string
	Count     int
	UIDs      []string
}

// More is how many items the list counts but does not name.
func (l uidList) More() int { return l.Count - len(l.UIDs) }

// Lists are the outcomes the result page names item by item.
func (res *importResult) Lists() []uidList {
	return []uidList{
		{"created-list", "Created", res.Created, res.CreatedUIDs},
		{"updated-list", "Updated", res.Updated, res.UpdatedUIDs},
		{"unchanged-list", "Unchanged (already there, byte for byte)", res.Unchanged, res.UnchangedUIDs},
		{"skipped-list", "Skipped (already there, kept as it was)", res.Skipped, res.SkippedUIDs},
	}
}

// importForm is what the multipart fields before the file say.
type importForm struct {
	target string // "calendars/NAME", "addressbooks/NAME", "new-calendar", "new-addressbook"
	mode   string // "update" or "skip"
	name   string // the display name of a new collection
}

func (h *Handler) importFile(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s := sessionFrom(ctx)
	// Room for the form fields around the file.
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxImportSize+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, "Choose a file to import.")
		return
	}
	var (
		f    importForm
		file *os.File
		size int64
	)
	defer func() {
		if file != nil {
			file.Close()
			os.Remove(file.Name())
		}
	}()
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			h.importTooLarge(w, r, err)
			return
		}
		switch p.FormName() {
		case "target", "mode", "name":
			b, _ := io.ReadAll(io.LimitReader(p, 4096))
			v := strings.TrimSpace(string(b))
			switch p.FormName() {
			case "target":
				f.target = v
			case "mode":
				f.mode = v
			case "name":
				f.name = v
			}
		case "file":
			if file != nil {
				continue
			}
			file, err = os.CreateTemp("", "davenport-import-*")
			if err != nil {
				h.serverError(w, r, err)
				return
			}
			size, err = io.Copy(file, io.LimitReader(p, h.cfg.MaxImportSize+1))
			if err != nil {
				h.importTooLarge(w, r, err)
				return
			}
			if size > h.cfg.MaxImportSize {
				h.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %s, the most one import takes. Nothing was imported.", formatSize(h.cfg.MaxImportSize)))
				return
			}
		}
		p.Close()
	}
	if file == nil || size == 0 {
		h.fail(w, r, http.StatusBadRequest, "Choose a file to import. Nothing was imported.")
		return
	}

	// Where to: an existing collection of the user's, or a new one.
	var (
		c      *store.Collection
		kind   store.Kind
		newCol bool
	)
	switch f.target {
	case "new-calendar":
		kind, newCol = store.KindCalendar, true
	case "new-addressbook":
		kind, newCol = store.KindAddressBook, true
	default:
		seg, name, _ := strings.Cut(f.target, "/")
		for _, k := range h.cfg.Kinds {
			if k.HomeSegment() == seg {
				kind = k.StoreKind()
				break // the home's own kind, not a derived one living in it
			}
		}
		if kind == "" {
			h.fail(w, r, http.StatusBadRequest, "Choose where to import to.")
			return
		}
		c, err = h.cfg.Store.GetCollection(ctx, s.acct.ID, kind, name)
		if err != nil {
			h.storeError(w, r, err)
			return
		}
	}
	if newCol {
		if f.name == "" {
			f.name = "Imported"
		}
		if msg := checkText("Name", f.name, 100, true); msg != "" {
			h.fail(w, r, http.StatusBadRequest, msg+" Nothing was imported.")
			return
		}
	}
	wrapper := ingest.Wrapper(kind)

	// Pass 1: split and group.
	units, err := ingest.Group(file, wrapper)
	if errors.Is(err, ingest.ErrNotCalendarData) {
		what := "an iCalendar (.ics) file"
		if kind == store.KindAddressBook {
			what = "a vCard (.vcf) file"
		}
		h.fail(w, r, http.StatusBadRequest, "This is not "+what+". Nothing was imported.")
		return
	}
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, "The file could not be read: "+err.Error()+". Nothing was imported.")
		return
	}
	if newCol {
		form := collectionForm{Kind: string(kind), DisplayName: f.name, Components: []string{"VEVENT", "VTODO"}}
		if c, err = h.newCollection(r, form); errors.Is(err, dav.ErrLocked) {
			h.fail(w, r, http.StatusLocked, lockedText)
			return
		} else if err != nil {
			h.serverError(w, r, err)
			return
		}
	}
	user, err := h.cfg.Store.GetUserByID(ctx, s.acct.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	res := &importResult{Collection: h.row(r, *c, store.CollectionTotals{}), NewCollection: newCol, Total: units.Len()}
	res.Noun = res.Collection.Noun
	t := &ingest.Target{
		Store: h.cfg.Store, Kind: h.kind(c.Kind), User: user, Collection: c,
		MaxResourceSize: h.cfg.MaxResourceSize, Skip: f.mode == "skip", Quota: h.cfg.Quota,
		Actor: h.actor(r),
	}
	code := http.StatusOK
	if err := t.WriteUnits(ctx, file, units, &res.Result); err != nil {
		if ctx.Err() != nil {
			return // the browser is gone; nobody reads the page
		}
		// Every item is its own transaction: those counted in res are in,
		// the others are not. Say so rather than answer a bare 500.
		h.log.ErrorContext(ctx, "web import stopped", "path", r.URL.Path, "err", err)
		res.Stopped = true
		res.NotTried = res.Total - res.Done()
		code = http.StatusInternalServerError
	}
	h.render(w, r, code, "import", "Import result", "home", res)
}

func (h *Handler) importTooLarge(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		h.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %s, the most one import takes. Nothing was imported.", formatSize(h.cfg.MaxImportSize)))
		return
	}
	h.fail(w, r, http.StatusBadRequest, "The upload was cut short. Nothing was imported.")
}
