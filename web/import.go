package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
)

// An import is read in two passes over a spooled copy of the upload: the
// first splits it into parts and groups them by UID (an event and its
// overrides may lie anywhere in the file; RFC 4791 §4.1 wants them in one
// resource), remembering only offsets; the second assembles each item with
// the VTIMEZONEs it names, validates it through the kind's PrepareObject and
// writes it. Memory is bounded by the number of items (a few dozen bytes
// each), never by the size of the file.

// importUnit is one future resource: every component with one UID.
type importUnit struct {
	uid    string
	spans  []span
	tzrefs []string
}

type span struct{ off, n int64 }

// importResult is what the result page shows: which items went in and
// which did not, one by one (up to maxListed of each), so that nothing is
// half-imported without the page saying exactly what.
type importResult struct {
	Collection    collectionRow
	Created       itemList
	Updated       itemList
	Skipped       itemList
	Rejected      []rejected
	RejectedCount int
	Total         int
	Noun          string
	NewCollection bool
	// Stopped is set when a failure of the server (not of an item) ended
	// the import early: the lists above are what went in, and NotTried
	// items after them were not looked at.
	Stopped  bool
	NotTried int
}

// itemList is the UIDs of the items of one outcome, counted in full and
// listed up to maxListed.
type itemList struct {
	Count int
	UIDs  []string
}

func (l *itemList) add(uid string) {
	l.Count++
	if len(l.UIDs) < maxListed {
		l.UIDs = append(l.UIDs, uid)
	}
}

// More is how many items the list counts but does not name.
func (l itemList) More() int { return l.Count - len(l.UIDs) }

type rejected struct{ UID, Reason string }

// maxListed bounds the items of each outcome the result page lists one by
// one.
const maxListed = 1000

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
	wrapper := "VCALENDAR"
	if kind == store.KindAddressBook {
		wrapper = "VCARD"
	}

	// Pass 1: split and group.
	units, header, err := groupUnits(file, wrapper)
	if errors.Is(err, errNotCalendarData) {
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
		if c, err = h.newCollection(r, form); err != nil {
			h.serverError(w, r, err)
			return
		}
	}
	user, err := h.cfg.Store.GetUserByID(ctx, s.acct.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	res := &importResult{Collection: h.row(r, *c, store.CollectionTotals{}), NewCollection: newCol, Total: len(units.order)}
	res.Noun = res.Collection.Noun
	actor := store.Actor{UserID: user.ID, UserAgent: r.UserAgent()}
	code := http.StatusOK
	if err := h.writeUnits(ctx, file, units, header, wrapper, actor, user, c, f.mode == "skip", res); err != nil {
		if ctx.Err() != nil {
			return // the browser is gone; nobody reads the page
		}
		// Every item is its own transaction: those counted in res are in,
		// the others are not. Say so rather than answer a bare 500.
		h.log.ErrorContext(ctx, "web import stopped", "path", r.URL.Path, "err", err)
		res.Stopped = true
		res.NotTried = res.Total - res.Created.Count - res.Updated.Count - res.Skipped.Count - res.RejectedCount
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

// unitSet is the result of pass 1, in the order UIDs first appear.
type unitSet struct {
	order []*importUnit
	byUID map[string]*importUnit
	tz    map[string]span // VTIMEZONE by TZID; the first definition wins
}

// groupUnits is pass 1. header holds the VCALENDAR's VERSION, PRODID and
// CALSCALE lines, copied into every item (METHOD is left out: RFC 4791
// §4.1 forbids it in a calendar object resource).
func groupUnits(f *os.File, wrapper string) (*unitSet, []byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, err
	}
	us := &unitSet{byUID: map[string]*importUnit{}, tz: map[string]span{}}
	var header []span
	n := 0
	err := split(f, wrapper, func(p part) error {
		switch p.typ {
		case partHeader:
			if (p.name == "VERSION" || p.name == "PRODID" || p.name == "CALSCALE") && len(header) < 8 {
				header = append(header, span{p.off, p.n})
			}
		case partTimezone:
			if _, ok := us.tz[p.tzid]; !ok && p.tzid != "" {
				us.tz[p.tzid] = span{p.off, p.n}
			}
		case partComponent:
			key := p.uid
			if key == "" {
				// Without a UID nothing groups it; PrepareObject will say
				// what is wrong with it.
				n++
				key = fmt.Sprintf("\x00%d", n)
			}
			u := us.byUID[key]
			if u == nil {
				u = &importUnit{uid: p.uid}
				us.byUID[key] = u
				us.order = append(us.order, u)
			}
			u.spans = append(u.spans, span{p.off, p.n})
			for _, t := range p.tzrefs {
				if !containsString(u.tzrefs, t) {
					u.tzrefs = append(u.tzrefs, t)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var hb bytes.Buffer
	for _, s := range header {
		b := make([]byte, s.n)
		if _, err := f.ReadAt(b, s.off); err != nil {
			return nil, nil, err
		}
		hb.Write(crlf(b))
	}
	if !bytes.Contains(hb.Bytes(), []byte("VERSION")) {
		hb.WriteString("VERSION:2.0\r\n")
	}
	return us, hb.Bytes(), nil
}

// crlf ends a line with CRLF whatever it ended with.
// It never writes into b's backing array (b may be a window on a larger
// body).
func crlf(b []byte) []byte {
	b = bytes.TrimRight(b, "\r\n")
	return append(b[:len(b):len(b)], '\r', '\n')
}

// writeUnits is pass 2.
func (h *Handler) writeUnits(ctx context.Context, f *os.File, us *unitSet, header []byte, wrapper string, actor store.Actor, user *store.User, c *store.Collection, skip bool, res *importResult) error {
	k := h.kind(c.Kind)
	ext := ".ics"
	if wrapper == "VCARD" {
		ext = ".vcf"
	}
	var body bytes.Buffer
	readSpan := func(s span) error {
		if s.n > h.cfg.MaxResourceSize+1 {
			s.n = h.cfg.MaxResourceSize + 1 // enough to be refused below
		}
		b := make([]byte, s.n)
		if _, err := f.ReadAt(b, s.off); err != nil {
			return err
		}
		body.Write(crlf(b))
		return nil
	}
	for _, u := range us.order {
		if err := ctx.Err(); err != nil {
			return err
		}
		body.Reset()
		if wrapper == "VCALENDAR" {
			body.WriteString("BEGIN:VCALENDAR\r\n")
			body.Write(header)
			for _, t := range u.tzrefs {
				if s, ok := us.tz[t]; ok {
					if err := readSpan(s); err != nil {
						return err
					}
				}
			}
		}
		for _, s := range u.spans {
			if err := readSpan(s); err != nil {
				return err
			}
			if int64(body.Len()) > h.cfg.MaxResourceSize {
				break
			}
		}
		if wrapper == "VCALENDAR" {
			body.WriteString("END:VCALENDAR\r\n")
		}
		uid := u.uid
		if int64(body.Len()) > h.cfg.MaxResourceSize {
			res.reject(uid, fmt.Sprintf("larger than %s, the most one item may be", formatSize(h.cfg.MaxResourceSize)))
			continue
		}
		o, reason, err := prepare(ctx, k, user, c, body.Bytes())
		if err != nil {
			return err
		}
		if reason != "" {
			res.reject(uid, reason)
			continue
		}
		o.CollectionID = c.ID
		o.Body = append([]byte(nil), body.Bytes()...)
		o.Size = int64(len(o.Body))
		o.ETag = dav.BodyETag(o.Body)
		if err := h.putImported(ctx, o, itemName(o.UID, ext), skip, actor, res); err != nil {
			return err
		}
	}
	return nil
}

func (res *importResult) reject(uid, reason string) {
	res.RejectedCount++
	if len(res.Rejected) < maxListed {
		if uid == "" {
			uid = "(no UID)"
		}
		res.Rejected = append(res.Rejected, rejected{UID: uid, Reason: reason})
	}
}

// putImported writes one validated item: a new UID under a new name; an
// existing UID replaced where it is, or skipped.
func (h *Handler) putImported(ctx context.Context, o *store.Object, name string, skip bool, actor store.Actor, res *importResult) error {
	st := h.cfg.Store
	for attempt := 0; ; attempt++ {
		o.Name = name
		_, err := st.PutObject(ctx, o, store.PutObjectOptions{IfNoneMatch: true, Actor: actor})
		var uc *store.UIDConflictError
		switch {
		case err == nil:
			res.Created.add(o.UID)
			return nil
		case errors.As(err, &uc):
			name = uc.Name
		case errors.Is(err, store.ErrPreconditionFailed):
			// The name is taken: by this UID (then it is the same item) or
			// by another (then choose another name).
			got, gerr := st.GetObjects(ctx, o.CollectionID, []string{name}, false)
			if gerr != nil {
				return gerr
			}
			if len(got) == 0 || got[0].UID != o.UID {
				if attempt > 3 {
					return err
				}
				name = randomName() + name[strings.LastIndexByte(name, '.'):]
				continue
			}
		default:
			return err
		}
		if skip {
			res.Skipped.add(o.UID)
			return nil
		}
		o.Name = name
		if _, err := st.PutObject(ctx, o, store.PutObjectOptions{Actor: actor}); err != nil {
			return err
		}
		res.Updated.add(o.UID)
		return nil
	}
}

var reSafeName = regexp.MustCompile(`^[A-Za-z0-9@._-]{1,120}$`)

// itemName is the resource name of an imported item: its UID when that is
// a plain name (what most clients do), else a random one.
func itemName(uid, ext string) string {
	if reSafeName.MatchString(uid) && !strings.HasPrefix(uid, ".") {
		return uid + ext
	}
	return randomName() + ext
}

func randomName() string { return strings.ToLower(randomToken()[:20]) }
