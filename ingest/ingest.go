package ingest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
)

// A file is read in two passes over a seekable copy: the first (Group)
// splits it into parts and groups them by UID (an event and its overrides
// may lie anywhere in the file; RFC 4791 §4.1 wants them in one resource),
// remembering only offsets; the second (Target.WriteUnits) assembles each
// item with the VTIMEZONEs it names, validates it through the kind's
// PrepareObject and writes it. Memory is bounded by the number of items (a
// few dozen bytes each), never by the size of the file.

// File is what Group and WriteUnits read: a spooled upload or a file on
// disk.
type File interface {
	io.Reader
	io.ReaderAt
	io.Seeker
}

// unit is one future resource: every component with one UID.
type unit struct {
	uid    string
	spans  []span
	tzrefs []string
}

type span struct{ off, n int64 }

// Units is the result of pass 1, in the order UIDs first appear.
type Units struct {
	wrapper string
	header  []byte // VERSION, PRODID, CALSCALE of the VCALENDAR
	order   []*unit
	byUID   map[string]*unit
	tz      map[string]span // VTIMEZONE by TZID; the first definition wins
}

// Len is the number of items the file holds.
func (us *Units) Len() int { return len(us.order) }

// Wrapper returns the object type a kind's items are wrapped in: VCALENDAR
// for calendars, VCARD for address books.
func Wrapper(k store.Kind) string {
	if k == store.KindAddressBook {
		return "VCARD"
	}
	return "VCALENDAR"
}

// ErrNotCalendarData is Group's answer to a file that does not hold the
// object type asked for.
var ErrNotCalendarData = errNotCalendarData

// Group is pass 1 over f, which must hold wrapper objects ("VCALENDAR" or
// "VCARD"). The VCALENDAR's VERSION, PRODID and CALSCALE lines are copied
// into every item (METHOD is left out: RFC 4791 §4.1 forbids it in a
// calendar object resource).
func Group(f File, wrapper string) (*Units, error) {
	us, header, err := groupUnits(f, wrapper)
	if err != nil {
		return nil, err
	}
	us.wrapper, us.header = wrapper, header
	return us, nil
}

func groupUnits(f File, wrapper string) (*Units, []byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, err
	}
	us := &Units{byUID: map[string]*unit{}, tz: map[string]span{}}
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
				u = &unit{uid: p.uid}
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

// Target is one collection items are imported into, as the user's PUTs
// would write them.
type Target struct {
	Store      store.Store
	Kind       dav.Kind // the kind serving Collection
	User       *store.User
	Collection *store.Collection
	// MaxResourceSize bounds one item, as for a PUT (0: 10 MiB, the
	// server's default).
	MaxResourceSize int64
	// Skip keeps an item whose UID is already in the collection as it is;
	// otherwise it is replaced when its bytes differ.
	Skip bool
	// Actor is recorded in the history of every write.
	Actor store.Actor
	// DryRun validates and counts what would happen, writing nothing.
	DryRun bool
	// Quota bounds the user's storage in bytes, as for a PUT (RFC 4331;
	// 0: none): an item that would take the user past it is rejected.
	Quota int64

	used      int64 // the user's storage, once read (with Quota only)
	usedKnown bool
	locks     dav.Locks // on the collection and below it, once read
	owner     string    // the collection's owner, whose hrefs locks are on
}

// quotaReason is why an item that does not fit is rejected.
const quotaReason = "the storage quota would be exceeded (quota-not-exceeded)"

// lockedReason is why an item a WebDAV client has locked is rejected: an
// import cannot submit the lock's token (RFC 4918 §7).
const lockedReason = "a WebDAV client holds a lock on it (lock-token-submitted); import it again once the lock is gone"

// unlocked reports whether a write to the collection's member name may
// go ahead: no lock covers it (nor, when create, the collection's
// membership). The collection's locks are read once per import.
func (t *Target) unlocked(ctx context.Context, name string, create bool) (bool, error) {
	if t.owner == "" {
		owner := t.User
		if t.Collection.OwnerID != t.User.ID {
			u, err := t.Store.GetUserByID(ctx, t.Collection.OwnerID)
			if err != nil {
				return false, err
			}
			owner = u
		}
		t.owner = owner.Username
		ls, err := dav.LocksAt(ctx, t.Store, dav.CollectionHref(t.Kind, t.owner, t.Collection.Name))
		if err != nil {
			return false, err
		}
		t.locks = ls
	}
	err := t.locks.Check(dav.ObjectHref(t.Kind, t.owner, t.Collection.Name, name), create, false)
	if errors.Is(err, dav.ErrLocked) {
		return false, nil
	}
	return err == nil, err
}

// fits reports whether the user's storage may grow by grow bytes, and
// counts them when it may: the caller writes right after.
func (t *Target) fits(ctx context.Context, grow int64) (bool, error) {
	if t.Quota <= 0 || grow <= 0 {
		return true, nil
	}
	if !t.usedKnown {
		n, err := t.Store.UsedBytes(ctx, t.User.ID)
		if err != nil {
			return false, err
		}
		t.used, t.usedKnown = n, true
	}
	if t.used+grow > t.Quota {
		return false, nil
	}
	t.used += grow
	return true, nil
}

func (t *Target) maxSize() int64 {
	if t.MaxResourceSize > 0 {
		return t.MaxResourceSize
	}
	return 10 << 20
}

// Result counts what an import did.
type Result struct {
	Created, Updated int
	Unchanged        int // already there byte for byte
	Skipped          int // already there (Target.Skip), left as it was
	Rejected         []Rejected
	RejectedCount    int
	// The UIDs of the items of each outcome, in the order they were
	// written, up to MaxListed of each (the counts above are complete):
	// so a page can say exactly which items went in.
	CreatedUIDs, UpdatedUIDs, UnchangedUIDs, SkippedUIDs []string
}

// Done is how many items have an outcome.
func (res *Result) Done() int {
	return res.Created + res.Updated + res.Unchanged + res.Skipped + res.RejectedCount
}

// listUID appends uid to l while l is shorter than MaxListed.
func listUID(l []string, uid string) []string {
	if len(l) < MaxListed {
		l = append(l, uid)
	}
	return l
}

// listUIDs appends more to l up to MaxListed.
func listUIDs(l, more []string) []string {
	return append(l, more[:min(len(more), max(MaxListed-len(l), 0))]...)
}

// Rejected is an item the collection refused, and why.
type Rejected struct{ UID, Reason string }

// MaxListed bounds the rejected items a Result lists one by one.
const MaxListed = 1000

// Reject records a refused item.
func (res *Result) Reject(uid, reason string) {
	res.RejectedCount++
	if len(res.Rejected) < MaxListed {
		if uid == "" {
			uid = "(no UID)"
		}
		res.Rejected = append(res.Rejected, Rejected{UID: uid, Reason: reason})
	}
}

// Add adds another result's counts to res.
func (res *Result) Add(o *Result) {
	res.Created += o.Created
	res.Updated += o.Updated
	res.Unchanged += o.Unchanged
	res.Skipped += o.Skipped
	res.CreatedUIDs = listUIDs(res.CreatedUIDs, o.CreatedUIDs)
	res.UpdatedUIDs = listUIDs(res.UpdatedUIDs, o.UpdatedUIDs)
	res.UnchangedUIDs = listUIDs(res.UnchangedUIDs, o.UnchangedUIDs)
	res.SkippedUIDs = listUIDs(res.SkippedUIDs, o.SkippedUIDs)
	for _, r := range o.Rejected {
		if len(res.Rejected) < MaxListed {
			res.Rejected = append(res.Rejected, r)
		}
	}
	res.RejectedCount += o.RejectedCount
}

// WriteUnits is pass 2: every unit of us, read from f again, validated and
// written.
func (t *Target) WriteUnits(ctx context.Context, f io.ReaderAt, us *Units, res *Result) error {
	limit := t.maxSize()
	ext := ".ics"
	if us.wrapper == "VCARD" {
		ext = ".vcf"
	}
	var body bytes.Buffer
	readSpan := func(s span) error {
		if s.n > limit+1 {
			s.n = limit + 1 // enough to be refused below
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
		if us.wrapper == "VCALENDAR" {
			body.WriteString("BEGIN:VCALENDAR\r\n")
			body.Write(us.header)
			for _, tz := range u.tzrefs {
				if s, ok := us.tz[tz]; ok {
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
			if int64(body.Len()) > limit {
				break
			}
		}
		if us.wrapper == "VCALENDAR" {
			body.WriteString("END:VCALENDAR\r\n")
		}
		if err := t.put(ctx, u.uid, "", ext, body.Bytes(), res); err != nil {
			return err
		}
	}
	return nil
}

// Put validates body as a PUT to name would and writes it there: under
// name if it is free or holds the same UID, under the name the UID already
// has in the collection, or under a new name when name is taken by another
// UID. A refused item is listed under name. An item already there byte for byte is not written again, so an
// import run twice changes nothing. A refused item is recorded in res; only
// store failures are returned.
func (t *Target) Put(ctx context.Context, name string, body []byte, res *Result) error {
	ext := ".ics"
	if t.Collection.Kind == store.KindAddressBook {
		ext = ".vcf"
	}
	return t.put(ctx, name, name, ext, body, res)
}

func (t *Target) put(ctx context.Context, uid, name, ext string, body []byte, res *Result) error {
	if limit := t.maxSize(); int64(len(body)) > limit {
		res.Reject(uid, fmt.Sprintf("larger than %d bytes, the most one item may be", limit))
		return nil
	}
	o, reason, err := Prepare(ctx, t.Kind, t.User, t.Collection, body)
	if err != nil {
		return err
	}
	if reason != "" {
		res.Reject(uid, reason)
		return nil
	}
	if o.Body == nil {
		o.Body = body
	}
	o.Body = bytes.Clone(o.Body)
	o.CollectionID = t.Collection.ID
	o.Size = int64(len(o.Body))
	o.ETag = dav.BodyETag(o.Body)
	if name == "" {
		name = ItemName(o.UID, ext)
	}
	return t.write(ctx, o, name, res)
}

// write stores one validated item: a new UID under name; an existing UID
// replaced where it is, skipped, or left alone when nothing changed.
func (t *Target) write(ctx context.Context, o *store.Object, name string, res *Result) error {
	st := t.Store
	if t.DryRun {
		return t.dryWrite(ctx, o, name, res)
	}
	for attempt := 0; ; attempt++ {
		o.Name = name
		// A new item grows the storage by its size; when that does not
		// fit, only a replacement (below) may still go in.
		free, err := t.unlocked(ctx, name, true)
		if err != nil {
			return err
		}
		fits := false
		if free {
			if fits, err = t.fits(ctx, o.Size); err != nil {
				return err
			}
		}
		if fits {
			_, err = st.PutObject(ctx, o, store.PutObjectOptions{IfNoneMatch: true, Actor: t.Actor})
		} else {
			err = store.ErrPreconditionFailed
		}
		if err != nil && fits && t.usedKnown {
			t.used -= o.Size // not created after all
		}
		var uc *store.UIDConflictError
		switch {
		case err == nil:
			res.Created++
			res.CreatedUIDs = listUID(res.CreatedUIDs, o.UID)
			return nil
		case errors.As(err, &uc):
			name = uc.Name
		case errors.Is(err, store.ErrPreconditionFailed):
			// The name is taken: by this UID (then it is the same item) or
			// by another (then choose another name).
		default:
			return err
		}
		got, err := st.GetObjects(ctx, o.CollectionID, []string{name}, false)
		if err != nil {
			return err
		}
		if !fits && (len(got) == 0 || got[0].UID != o.UID) {
			if !free {
				res.Reject(o.UID, lockedReason)
			} else {
				res.Reject(o.UID, quotaReason)
			}
			return nil
		}
		if len(got) == 0 || got[0].UID != o.UID {
			if attempt > 3 {
				return fmt.Errorf("ingest: no free name for %q", o.UID)
			}
			name = randomName() + name[max(strings.LastIndexByte(name, '.'), 0):]
			continue
		}
		switch {
		case t.Skip:
			res.Skipped++
			res.SkippedUIDs = listUID(res.SkippedUIDs, o.UID)
			return nil
		case got[0].ETag == o.ETag:
			res.Unchanged++
			res.UnchangedUIDs = listUID(res.UnchangedUIDs, o.UID)
			return nil
		}
		if free, err := t.unlocked(ctx, name, false); err != nil {
			return err
		} else if !free {
			res.Reject(o.UID, lockedReason)
			return nil
		}
		if ok, err := t.fits(ctx, o.Size-got[0].Size); err != nil {
			return err
		} else if !ok {
			res.Reject(o.UID, quotaReason)
			return nil
		}
		o.Name = name
		if _, err := st.PutObject(ctx, o, store.PutObjectOptions{IfMatch: got[0].ETag, Actor: t.Actor}); err != nil {
			return err
		}
		res.Updated++
		res.UpdatedUIDs = listUID(res.UpdatedUIDs, o.UID)
		return nil
	}
}

// dryWrite counts what write would do.
func (t *Target) dryWrite(ctx context.Context, o *store.Object, name string, res *Result) error {
	var got []store.Object
	if o.CollectionID != 0 { // 0: a collection the dry run did not create
		var err error
		if got, err = t.Store.GetObjects(ctx, o.CollectionID, []string{name}, false); err != nil {
			return err
		}
	}
	switch {
	case len(got) == 0 || got[0].UID != o.UID:
		res.Created++
	case t.Skip:
		res.Skipped++
	case got[0].ETag == o.ETag:
		res.Unchanged++
	default:
		res.Updated++
	}
	return nil
}

// Prepare validates and indexes one item exactly as a PUT of body into c
// would, through the kind's PrepareObject. The reason is for the person
// importing: the precondition the PUT would have answered with, and what
// the validator said.
func Prepare(ctx context.Context, k dav.Kind, user *store.User, c *store.Collection, body []byte) (o *store.Object, reason string, err error) {
	rq := &dav.Request{User: user, HTTP: (&http.Request{Header: http.Header{}}).WithContext(ctx)}
	o, err = k.PrepareObject(rq, c, body, "")
	var de *dav.Error
	if errors.As(err, &de) {
		reason = de.Message
		if i := strings.Index(reason, ": "); i >= 0 && i < 10 {
			reason = reason[i+2:]
		}
		if de.Condition != nil {
			reason += " (" + de.Condition.Name.Local + ")"
		}
		return nil, reason, nil
	}
	return o, "", err
}

var reSafeName = regexp.MustCompile(`^[A-Za-z0-9@._-]{1,120}$`)

// ItemName is the resource name of an imported item: its UID when that is
// a plain name (what most clients do), else a random one.
func ItemName(uid, ext string) string {
	if reSafeName.MatchString(uid) && !strings.HasPrefix(uid, ".") {
		return uid + ext
	}
	return randomName() + ext
}

func randomName() string {
	var b [15]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))[:20]
}
