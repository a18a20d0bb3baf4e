package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// The backup archive, format version 4 (docs/backup-format.md): a tar
// stream of JSON Lines chunks, with the exact bytes of items and versions in
// a raw .data entry beside each chunk, and a SHA-256 for every entry in its
// PAX header. The trailer end.json counts the records and digests the list
// of entries, so a truncated or reordered archive is refused.
//
// Version 2 added the users' admin role and last sign-in and the app
// passwords' last use; a version 1 archive lacks them and loads with the
// defaults (no admin, never signed in, never used). Version 3 added
// groups, shares, delegations and free-busy grants, and public links, and
// the users' free-busy setting; an older archive loads without any.
// Version 4 added what is under way: the Birthdays calendars' cursors, the
// iMIP mail queue, the VAPID keys and push registrations, and the unexpired
// WebDAV locks; an older archive loads without them (new VAPID keys are
// made at start-up, so push clients register again).
const (
	archiveFormat     = "davenport-backup"
	archiveVersion    = 4 // written
	archiveMinVersion = 1 // the oldest read
	manifestName      = "davenport-backup.json"
	trailerName       = "end.json"
	paxSHA256         = "DAVENPORT.sha256"
	chunkRecords      = 1000    // records per chunk at most
	chunkDataBytes    = 8 << 20 // raw bytes per chunk, about (one item may pass it)
	maxArchiveEntry   = 64 << 20
)

// Record kinds, in the order an archive holds them.
const (
	kindUsers        = "users"
	kindAppPasswords = "app_passwords"
	kindCollections  = "collections"
	kindObjects      = "objects"
	kindTombstones   = "tombstones"
	kindTrash        = "trash"
	kindVersions     = "versions"
	// Since version 3.
	kindGroups       = "groups"
	kindGroupMembers = "group_members"
	kindShares       = "shares"
	kindShareViews   = "share_views"
	kindGrants       = "grants"
	kindPublicLinks  = "public_links"
	// Since version 4.
	kindDerivedCursors    = "derived_cursors"
	kindMail              = "mail"
	kindPushKeys          = "push_keys"
	kindPushRegistrations = "push_registrations"
	kindLocks             = "locks"
)

var archiveKinds = []string{kindUsers, kindAppPasswords, kindCollections, kindObjects, kindTombstones, kindTrash, kindVersions,
	kindGroups, kindGroupMembers, kindShares, kindShareViews, kindGrants, kindPublicLinks,
	kindDerivedCursors, kindMail, kindPushKeys, kindPushRegistrations, kindLocks}

func kindHasBodies(kind string) bool {
	return kind == kindObjects || kind == kindVersions || kind == kindMail
}

type manifest struct {
	Format    string    `json:"format"`
	Version   int       `json:"version"`
	Created   time.Time `json:"created"`
	Source    string    `json:"source"` // "postgres" or "sqlite"
	Davenport string    `json:"davenport"`
}

type trailer struct {
	Records map[string]int64 `json:"records"`
	Entries int              `json:"entries"`
	// Digest is the SHA-256 of the lines "NAME SHA256\n" of every entry
	// before end.json, in order.
	Digest string `json:"digest"`
}

// blobRef locates a record's bytes in its chunk's .data entry.
type blobRef struct {
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

type deadPropLine struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	XML       string `json:"xml"`
}

type userLine struct {
	ID           int64      `json:"id"`
	Username     string     `json:"username"`
	DisplayName  string     `json:"display_name"`
	Email        string     `json:"email"`
	PasswordHash string     `json:"password_hash"`
	Created      time.Time  `json:"created"`
	UnlockedAt   *time.Time `json:"unlocked_at,omitempty"`
	// Since version 2.
	Admin     bool       `json:"admin,omitempty"`
	LastLogin *time.Time `json:"last_login,omitempty"`
	// Since version 3: the user lets only those they grant it see their
	// busy time.
	FreeBusyHidden bool `json:"free_busy_hidden,omitempty"`
}

// The sharing records, since version 3; each mirrors its store type so the
// two convert.
type groupLine struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	Created     time.Time `json:"created"`
}

type groupMemberLine struct {
	GroupID int64 `json:"group_id"`
	UserID  int64 `json:"user_id"`
}

type shareLine struct {
	ID           int64             `json:"id"`
	CollectionID int64             `json:"collection_id"`
	UserID       int64             `json:"user_id,omitempty"`
	GroupID      int64             `json:"group_id,omitempty"`
	Access       store.Access      `json:"access"`
	Status       store.ShareStatus `json:"status"`
	Created      time.Time         `json:"created"`
}

type shareViewLine struct {
	UserID       int64  `json:"user_id"`
	CollectionID int64  `json:"collection_id"`
	DisplayName  string `json:"display_name"`
	Color        string `json:"color"`
}

type grantLine struct {
	ID      int64             `json:"id"`
	OwnerID int64             `json:"owner_id"`
	UserID  int64             `json:"user_id,omitempty"`
	GroupID int64             `json:"group_id,omitempty"`
	Access  store.GrantAccess `json:"access"`
	Created time.Time         `json:"created"`
}

type publicLinkLine struct {
	ID           int64     `json:"id"`
	CollectionID int64     `json:"collection_id"`
	Token        string    `json:"token"`
	Created      time.Time `json:"created"`
}

// The records of what is under way, since version 4.
type derivedCursorLine struct {
	CollectionID int64 `json:"collection_id"`
	SourceID     int64 `json:"source_id"`
	ModSeq       int64 `json:"modseq"`
}

type mailLine struct {
	ID          int64     `json:"id"`
	UserID      int64     `json:"user_id"`
	UID         string    `json:"uid"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	Method      string    `json:"method"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error"`
	Created     time.Time `json:"created"`
	Body        *blobRef  `json:"body"`
}

type pushKeysLine struct {
	Private string    `json:"private_key"`
	Public  string    `json:"public_key"`
	Created time.Time `json:"created"`
}

type pushRegistrationLine struct {
	ID             int64      `json:"id"`
	UserID         int64      `json:"user_id"`
	CollectionID   int64      `json:"collection_id"`
	PushResource   string     `json:"push_resource"`
	PublicKey      string     `json:"public_key"`
	AuthSecret     string     `json:"auth_secret"`
	ContentUpdate  bool       `json:"content_update"`
	PropertyUpdate bool       `json:"property_update"`
	UserAgent      string     `json:"user_agent"`
	Expires        time.Time  `json:"expires"`
	Created        time.Time  `json:"created"`
	LastDelivery   *time.Time `json:"last_delivery,omitempty"`
	Failures       int        `json:"failures"`
	LastError      string     `json:"last_error"`
}

type lockLine struct {
	Token    string    `json:"token"`
	Root     string    `json:"root"`
	UserID   int64     `json:"user_id"`
	Infinite bool      `json:"depth_infinity"`
	Shared   bool      `json:"shared"`
	Owner    string    `json:"owner_xml"`
	Timeout  int64     `json:"timeout_seconds"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
}

type appPasswordLine struct {
	ID           int64     `json:"id"`
	UserID       int64     `json:"user_id"`
	Label        string    `json:"label"`
	PasswordHash string    `json:"password_hash"`
	Created      time.Time `json:"created"`
	// LastUsed mirrors store.AppPassword, so the two convert; since
	// version 2 (a version 1 writer never set it).
	LastUsed *time.Time `json:"last_used,omitempty"`
}

// collectionProps are the properties a live and a trashed collection share.
type collectionProps struct {
	OwnerID       int64          `json:"owner_id"`
	Kind          string         `json:"kind"`
	Name          string         `json:"name"`
	DisplayName   string         `json:"display_name"`
	Description   string         `json:"description"`
	Color         string         `json:"color"`
	ColorSymbolic string         `json:"color_symbolic"`
	Order         *int           `json:"order,omitempty"`
	Timezone      string         `json:"timezone"`
	Components    []string       `json:"components,omitempty"`
	DeadProps     []deadPropLine `json:"dead_props,omitempty"`
	Created       time.Time      `json:"created"`
}

type collectionLine struct {
	ID int64 `json:"id"`
	collectionProps
	ModSeq       int64     `json:"modseq"`
	PrunedModSeq int64     `json:"pruned_modseq"`
	Updated      time.Time `json:"updated"`
}

type objectLine struct {
	ID           int64      `json:"id"`
	CollectionID int64      `json:"collection_id"`
	Name         string     `json:"name"`
	UID          string     `json:"uid"`
	ETag         string     `json:"etag"`
	ContentType  string     `json:"content_type"`
	Component    string     `json:"component"`
	ModSeq       int64      `json:"modseq"`
	FirstStart   *time.Time `json:"first_start,omitempty"`
	LastEnd      *time.Time `json:"last_end,omitempty"`
	SearchText   string     `json:"search_text"`
	Created      time.Time  `json:"created"`
	Updated      time.Time  `json:"updated"`
	Body         *blobRef   `json:"body"`
	// DeadProps are a file's (files home) dead properties; since
	// version 2, absent when none.
	DeadProps []deadPropLine `json:"dead_props,omitempty"`
}

type tombstoneLine struct {
	CollectionID int64     `json:"collection_id"`
	Name         string    `json:"name"`
	ModSeq       int64     `json:"modseq"`
	DeletedAt    time.Time `json:"deleted_at"`
}

type trashLine struct {
	ID           int64 `json:"id"`
	CollectionID int64 `json:"collection_id"`
	collectionProps
	DeletedAt time.Time `json:"deleted_at"`
	UserID    int64     `json:"user_id"`
	UserAgent string    `json:"user_agent"`
}

type versionLine struct {
	ID           int64      `json:"id"`
	OwnerID      int64      `json:"owner_id"`
	CollectionID int64      `json:"collection_id"`
	TrashID      int64      `json:"trash_id,omitempty"`
	Name         string     `json:"name"`
	Op           string     `json:"op"`
	UID          string     `json:"uid"`
	ETag         string     `json:"etag"`
	ContentType  string     `json:"content_type"`
	Component    string     `json:"component"`
	Size         int64      `json:"size"`
	FirstStart   *time.Time `json:"first_start,omitempty"`
	LastEnd      *time.Time `json:"last_end,omitempty"`
	SearchText   string     `json:"search_text"`
	ChangedAt    time.Time  `json:"changed_at"`
	UserID       int64      `json:"user_id"`
	UserAgent    string     `json:"user_agent"`
	Body         *blobRef   `json:"body,omitempty"` // none for a creation
}

func deadLines(ps []store.DeadProp) []deadPropLine {
	var out []deadPropLine
	for _, p := range ps {
		out = append(out, deadPropLine(p))
	}
	return out
}

func deadProps(ls []deadPropLine) []store.DeadProp {
	var out []store.DeadProp
	for _, l := range ls {
		out = append(out, store.DeadProp(l))
	}
	return out
}

func propsOf(c *store.Collection, dead []store.DeadProp) collectionProps {
	return collectionProps{OwnerID: c.OwnerID, Kind: string(c.Kind), Name: c.Name, DisplayName: c.DisplayName,
		Description: c.Description, Color: c.Color, ColorSymbolic: c.ColorSymbolic, Order: c.Order,
		Timezone: c.Timezone, Components: c.Components, DeadProps: deadLines(dead), Created: c.Created}
}

func (p collectionProps) collection() store.Collection {
	return store.Collection{OwnerID: p.OwnerID, Kind: store.Kind(p.Kind), Name: p.Name, DisplayName: p.DisplayName,
		Description: p.Description, Color: p.Color, ColorSymbolic: p.ColorSymbolic, Order: p.Order,
		Timezone: p.Timezone, Components: p.Components, Created: p.Created}
}

// archiveWriter writes an archive, one chunk of one kind at a time.
type archiveWriter struct {
	tw      *tar.Writer
	seq     int
	kind    string
	lines   bytes.Buffer
	data    bytes.Buffer
	n       int
	counts  map[string]int64
	digest  hash.Hash
	entries int
}

func newArchiveWriter(w io.Writer, m manifest) (*archiveWriter, error) {
	aw := &archiveWriter{tw: tar.NewWriter(w), counts: make(map[string]int64), digest: sha256.New()}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return aw, aw.entry(manifestName, append(b, '\n'))
}

// entry writes one tar entry with its SHA-256 in the PAX header.
func (w *archiveWriter) entry(name string, content []byte) error {
	sum := sha256.Sum256(content)
	hexSum := hex.EncodeToString(sum[:])
	hdr := &tar.Header{
		Typeflag:   tar.TypeReg,
		Name:       name,
		Size:       int64(len(content)),
		Mode:       0o600,
		ModTime:    time.Now().Truncate(time.Second),
		Format:     tar.FormatPAX,
		PAXRecords: map[string]string{paxSHA256: hexSum},
	}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := w.tw.Write(content); err != nil {
		return err
	}
	fmt.Fprintf(w.digest, "%s %s\n", name, hexSum)
	w.entries++
	return nil
}

// add appends one record of kind; body, for kinds with bodies, is stored
// in the chunk's .data entry and located by the returned reference.
func (w *archiveWriter) add(kind string, line any, body []byte, ref **blobRef) error {
	if kind != w.kind || w.n >= chunkRecords || w.data.Len() >= chunkDataBytes {
		if err := w.flush(); err != nil {
			return err
		}
		w.kind = kind
	}
	if ref != nil {
		sum := sha256.Sum256(body)
		*ref = &blobRef{Offset: int64(w.data.Len()), Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}
		w.data.Write(body)
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	w.lines.Write(b)
	w.lines.WriteByte('\n')
	w.n++
	w.counts[kind]++
	return nil
}

func (w *archiveWriter) flush() error {
	if w.n == 0 {
		return nil
	}
	w.seq++
	base := fmt.Sprintf("%06d.%s", w.seq, w.kind)
	if err := w.entry(base+".jsonl", w.lines.Bytes()); err != nil {
		return err
	}
	if kindHasBodies(w.kind) {
		if err := w.entry(base+".data", w.data.Bytes()); err != nil {
			return err
		}
	}
	w.lines.Reset()
	w.data.Reset()
	w.n = 0
	return nil
}

// record adds one store record.
func (w *archiveWriter) record(r store.Record) error {
	switch {
	case r.User != nil:
		u := r.User
		l := userLine{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email,
			PasswordHash: u.PasswordHash, Created: u.Created, Admin: r.Admin, LastLogin: r.LastLogin,
			FreeBusyHidden: r.FreeBusyHidden}
		if !u.UnlockedAt.IsZero() {
			l.UnlockedAt = &u.UnlockedAt
		}
		return w.add(kindUsers, l, nil, nil)
	case r.AppPassword != nil:
		return w.add(kindAppPasswords, appPasswordLine(*r.AppPassword), nil, nil)
	case r.Collection != nil:
		c := r.Collection
		return w.add(kindCollections, collectionLine{ID: c.ID, collectionProps: propsOf(c, r.DeadProps),
			ModSeq: c.ModSeq, PrunedModSeq: c.PrunedModSeq, Updated: c.Updated}, nil, nil)
	case r.Object != nil:
		o := r.Object
		l := &objectLine{ID: o.ID, CollectionID: o.CollectionID, Name: o.Name, UID: o.UID, ETag: o.ETag,
			ContentType: o.ContentType, Component: o.Component, ModSeq: o.ModSeq, FirstStart: o.FirstStart,
			LastEnd: o.LastEnd, SearchText: o.SearchText, Created: o.Created, Updated: o.Updated,
			DeadProps: deadLines(r.DeadProps)}
		return w.add(kindObjects, l, o.Body, &l.Body)
	case r.Tombstone != nil:
		return w.add(kindTombstones, tombstoneLine(*r.Tombstone), nil, nil)
	case r.Trashed != nil:
		t := r.Trashed
		return w.add(kindTrash, trashLine{ID: t.ID, CollectionID: t.Collection.ID,
			collectionProps: propsOf(&t.Collection, t.DeadProps), DeletedAt: t.DeletedAt,
			UserID: t.Actor.UserID, UserAgent: t.Actor.UserAgent}, nil, nil)
	case r.Version != nil:
		v := r.Version
		l := &versionLine{ID: v.ID, OwnerID: v.OwnerID, CollectionID: v.CollectionID, TrashID: v.TrashID,
			Name: v.Name, Op: string(v.Op), UID: v.UID, ETag: v.ETag, ContentType: v.ContentType,
			Component: v.Component, Size: v.Size, FirstStart: v.FirstStart, LastEnd: v.LastEnd,
			SearchText: v.SearchText, ChangedAt: v.ChangedAt, UserID: v.Actor.UserID, UserAgent: v.Actor.UserAgent}
		if v.Op == store.OpCreate {
			return w.add(kindVersions, l, nil, nil)
		}
		return w.add(kindVersions, l, v.Body, &l.Body)
	case r.Group != nil:
		return w.add(kindGroups, groupLine(*r.Group), nil, nil)
	case r.GroupMember != nil:
		return w.add(kindGroupMembers, groupMemberLine(*r.GroupMember), nil, nil)
	case r.Share != nil:
		return w.add(kindShares, shareLine(*r.Share), nil, nil)
	case r.ShareView != nil:
		return w.add(kindShareViews, shareViewLine(*r.ShareView), nil, nil)
	case r.Grant != nil:
		return w.add(kindGrants, grantLine(*r.Grant), nil, nil)
	case r.PublicLink != nil:
		return w.add(kindPublicLinks, publicLinkLine(*r.PublicLink), nil, nil)
	case r.DerivedCursor != nil:
		return w.add(kindDerivedCursors, derivedCursorLine(*r.DerivedCursor), nil, nil)
	case r.Mail != nil:
		m := r.Mail
		l := &mailLine{ID: m.ID, UserID: m.UserID, UID: m.UID, From: m.From, To: m.To, Method: m.Method,
			Attempts: m.Attempts, NextAttempt: m.NextAttempt, LastError: m.LastError, Created: m.Created}
		return w.add(kindMail, l, m.Body, &l.Body)
	case r.PushKeys != nil:
		return w.add(kindPushKeys, pushKeysLine(*r.PushKeys), nil, nil)
	case r.PushRegistration != nil:
		return w.add(kindPushRegistrations, pushRegistrationLine(*r.PushRegistration), nil, nil)
	case r.Lock != nil:
		l := r.Lock
		return w.add(kindLocks, lockLine{Token: l.Token, Root: l.Root, UserID: l.UserID, Infinite: l.Infinite,
			Shared: l.Shared, Owner: l.Owner, Timeout: int64(l.Timeout / time.Second), Created: l.Created,
			Expires: l.Expires}, nil, nil)
	}
	return errors.New("backup: empty record")
}

// close writes the trailer and ends the tar stream.
func (w *archiveWriter) close() (trailer, error) {
	if err := w.flush(); err != nil {
		return trailer{}, err
	}
	t := trailer{Records: w.counts, Entries: w.entries, Digest: hex.EncodeToString(w.digest.Sum(nil))}
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return t, err
	}
	if err := w.entry(trailerName, append(b, '\n')); err != nil {
		return t, err
	}
	return t, w.tw.Close()
}

// errArchive marks an archive that is damaged or not one of ours.
var errArchive = errors.New("backup: not a valid archive")

func archiveErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errArchive, fmt.Sprintf(format, args...))
}

// readArchive reads and checks a whole archive, calling fn with every
// record in order. Memory is bounded by one chunk. It fails on any checksum
// mismatch, on a missing, extra or reordered entry, and on a count that
// does not match the trailer; fn sees records before that last check, so a
// caller that loads them must do so in a transaction it can roll back.
func readArchive(r io.Reader, fn func(store.Record) error) (manifest, trailer, error) {
	var (
		m       manifest
		t       trailer
		tr      = tar.NewReader(r)
		digest  = sha256.New()
		entries int
		counts  = make(map[string]int64)
		kindIdx int
		seq     int
		pending *pendingChunk
	)
	next := func() (*tar.Header, []byte, error) {
		hdr, err := tr.Next()
		if err != nil {
			return nil, nil, err
		}
		if hdr.Size > maxArchiveEntry {
			return nil, nil, archiveErr("entry %s is %d bytes", hdr.Name, hdr.Size)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, nil, err
		}
		want := hdr.PAXRecords[paxSHA256]
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); want != got {
			return nil, nil, archiveErr("entry %s: checksum %s, header says %q", hdr.Name, got, want)
		}
		if hdr.Name != trailerName {
			fmt.Fprintf(digest, "%s %s\n", hdr.Name, want)
			entries++
		}
		return hdr, b, nil
	}
	hdr, b, err := next()
	if err != nil {
		return m, t, archiveErr("reading the manifest: %v", err)
	}
	if hdr.Name != manifestName {
		return m, t, archiveErr("first entry is %q, not %s", hdr.Name, manifestName)
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Format != archiveFormat {
		return m, t, archiveErr("the manifest does not name the %s format", archiveFormat)
	}
	if m.Version < archiveMinVersion || m.Version > archiveVersion {
		return m, t, fmt.Errorf("backup: archive format version %d; this davenport reads versions %d to %d",
			m.Version, archiveMinVersion, archiveVersion)
	}
	for {
		hdr, b, err := next()
		if err == io.EOF {
			return m, t, archiveErr("it ends before %s: truncated", trailerName)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, tar.ErrHeader) {
			// Cut inside an entry, or a damaged header: where the cut
			// falls depends on the archive's size, the answer must not.
			return m, t, archiveErr("it ends inside an entry or a header is damaged: %v", err)
		}
		if err != nil {
			return m, t, err
		}
		if hdr.Name == trailerName {
			if pending != nil {
				return m, t, archiveErr("%s without its .data entry", pending.name)
			}
			if err := json.Unmarshal(b, &t); err != nil {
				return m, t, archiveErr("%s: %v", trailerName, err)
			}
			if got := hex.EncodeToString(digest.Sum(nil)); t.Digest != got || t.Entries != entries {
				return m, t, archiveErr("the entries do not match %s (%d entries, digest %s)", trailerName, entries, got)
			}
			for _, k := range archiveKinds {
				if counts[k] != t.Records[k] {
					return m, t, archiveErr("%d %s, %s says %d", counts[k], k, trailerName, t.Records[k])
				}
			}
			if _, err := tr.Next(); err != io.EOF {
				return m, t, archiveErr("entries after %s", trailerName)
			}
			return m, t, nil
		}
		// NNNNNN.KIND.jsonl, or its .data right after it.
		parts := strings.Split(hdr.Name, ".")
		if len(parts) != 3 {
			return m, t, archiveErr("unexpected entry %q", hdr.Name)
		}
		n, err := strconv.Atoi(parts[0])
		if err != nil {
			return m, t, archiveErr("unexpected entry %q", hdr.Name)
		}
		kind, ext := parts[1], parts[2]
		if pending != nil {
			if ext != "data" || n != seq || kind != pending.kind {
				return m, t, archiveErr("%s is not followed by its .data entry", pending.name)
			}
			if err := pending.emit(b, counts, fn); err != nil {
				return m, t, err
			}
			pending = nil
			continue
		}
		if ext != "jsonl" || n != seq+1 {
			return m, t, archiveErr("entry %q out of order", hdr.Name)
		}
		seq = n
		for kindIdx < len(archiveKinds) && archiveKinds[kindIdx] != kind {
			kindIdx++
		}
		if kindIdx == len(archiveKinds) {
			return m, t, archiveErr("entry %q: unknown or out-of-order kind", hdr.Name)
		}
		pending = &pendingChunk{name: hdr.Name, kind: kind, lines: b}
		if !kindHasBodies(kind) {
			if err := pending.emit(nil, counts, fn); err != nil {
				return m, t, err
			}
			pending = nil
		}
	}
}

// pendingChunk is a chunk's JSON lines waiting for its raw data.
type pendingChunk struct {
	name, kind string
	lines      []byte
}

// blob returns the bytes ref locates in data, checked against its sum.
func blob(data []byte, ref *blobRef) ([]byte, error) {
	if ref == nil || ref.Offset < 0 || ref.Size < 0 || ref.Offset+ref.Size > int64(len(data)) {
		return nil, archiveErr("a body reference points outside its .data entry")
	}
	b := data[ref.Offset : ref.Offset+ref.Size]
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != ref.SHA256 {
		return nil, archiveErr("a body does not match its checksum")
	}
	return bytes.Clone(b), nil
}

func (p *pendingChunk) emit(data []byte, counts map[string]int64, fn func(store.Record) error) error {
	dec := json.NewDecoder(bytes.NewReader(p.lines))
	dec.DisallowUnknownFields()
	for dec.More() {
		var rec store.Record
		switch p.kind {
		case kindUsers:
			var l userLine
			if err := dec.Decode(&l); err != nil {
				return archiveErr("%s: %v", p.name, err)
			}
			u := &store.User{ID: l.ID, Username: l.Username, DisplayName: l.DisplayName, Email: l.Email,
				PasswordHash: l.PasswordHash, Created: l.Created}
			if l.UnlockedAt != nil {
				u.UnlockedAt = *l.UnlockedAt
			}
			rec.User, rec.Admin, rec.LastLogin, rec.FreeBusyHidden = u, l.Admin, l.LastLogin, l.FreeBusyHidden
		case kindAppPasswords:
			var l appPasswordLine
			if err := dec.Decode(&l); err != nil {
				return archiveErr("%s: %v", p.name, err)
			}
			ap := store.AppPassword(l)
			rec.AppPassword = &ap
		case kindCollections:
			var l collectionLine
			if err := dec.Decode(&l); err != nil {
				return archiveErr("%s: %v", p.name, err)
			}
			c := l.collection()
			c.ID, c.ModSeq, c.PrunedModSeq, c.Updated = l.ID, l.ModSeq, l.PrunedModSeq, l.Updated
			rec.Collection, rec.DeadProps = &c, deadProps(l.DeadProps)
		case kindObjects:
			var l objectLine
			if err := dec.Decode(&l); err != nil {
				return archiveErr("%s: %v", p.name, err)
			}
			body, err := blob(data, l.Body)
			if err != nil {
				return err
			}
			rec.Object = &store.Object{ID: l.ID, CollectionID: l.CollectionID, Name: l.Name, UID: l.UID, ETag: l.ETag,
				ContentType: l.ContentType, Component: l.Component, Size: int64(len(body)), ModSeq: l.ModSeq,
				FirstStart: l.FirstStart, LastEnd: l.LastEnd, SearchText: l.SearchText, Created: l.Created,
				Updated: l.Updated, Body: body}
			rec.DeadProps = deadProps(l.DeadProps)
		case kindTombstones:
			var l tombstoneLine
			if err := dec.Decode(&l); err != nil {
				return archiveErr("%s: %v", p.name, err)
			}
			tb := store.Tombstone(l)
			rec.Tombstone = &tb
		case kindTrash:
			var l trashLine
			if err := dec.Decode(&l); err != nil {
				return archiveErr("%s: %v", p.name, err)
			}
			c := l.collection()
			c.ID = l.CollectionID
			rec.Trashed = &store.TrashedCollection{ID: l.ID, Collection: c, DeadProps: deadProps(l.DeadProps),
				DeletedAt: l.DeletedAt, Actor: store.Actor{UserID: l.UserID, UserAgent: l.UserAgent}}
		case kindVersions:
			var l versionLine
			if err := dec.Decode(&l); err != nil {
				return archiveErr("%s: %v", p.name, err)
			}
			v := &store.Version{ID: l.ID, OwnerID: l.OwnerID, CollectionID: l.CollectionID, TrashID: l.TrashID,
				Name: l.Name, Op: store.Op(l.Op), UID: l.UID, ETag: l.ETag, ContentType: l.ContentType,
				Component: l.Component, Size: l.Size, FirstStart: l.FirstStart, LastEnd: l.LastEnd,
				SearchText: l.SearchText, ChangedAt: l.ChangedAt,
				Actor: store.Actor{UserID: l.UserID, UserAgent: l.UserAgent}}
			if l.Body != nil {
				body, err := blob(data, l.Body)
				if err != nil {
					return err
				}
				v.Body = body
			}
			rec.Version = v
		case kindGroups, kindGroupMembers, kindShares, kindShareViews, kindGrants, kindPublicLinks:
			if err := decodeSharing(dec, p.kind, &rec); err != nil {
				return archiveErr("%s: %v", p.name, err)
			}
		case kindMail:
			var l mailLine
			if err := dec.Decode(&l); err != nil {
				return archiveErr("%s: %v", p.name, err)
			}
			body, err := blob(data, l.Body)
			if err != nil {
				return err
			}
			rec.Mail = &store.Mail{ID: l.ID, UserID: l.UserID, UID: l.UID, From: l.From, To: l.To, Method: l.Method,
				Body: body, Attempts: l.Attempts, NextAttempt: l.NextAttempt, LastError: l.LastError, Created: l.Created}
		case kindDerivedCursors, kindPushKeys, kindPushRegistrations, kindLocks:
			if err := decodeUnderWay(dec, p.kind, &rec); err != nil {
				return archiveErr("%s: %v", p.name, err)
			}
		default:
			return archiveErr("%s: unknown kind", p.name)
		}
		counts[p.kind]++
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// decodeSharing decodes one record of the sharing kinds (version 3).
func decodeSharing(dec *json.Decoder, kind string, rec *store.Record) error {
	switch kind {
	case kindGroups:
		var l groupLine
		if err := dec.Decode(&l); err != nil {
			return err
		}
		g := store.Group(l)
		rec.Group = &g
	case kindGroupMembers:
		var l groupMemberLine
		if err := dec.Decode(&l); err != nil {
			return err
		}
		m := store.GroupMember(l)
		rec.GroupMember = &m
	case kindShares:
		var l shareLine
		if err := dec.Decode(&l); err != nil {
			return err
		}
		sh := store.Share(l)
		rec.Share = &sh
	case kindShareViews:
		var l shareViewLine
		if err := dec.Decode(&l); err != nil {
			return err
		}
		v := store.SavedShareView(l)
		rec.ShareView = &v
	case kindGrants:
		var l grantLine
		if err := dec.Decode(&l); err != nil {
			return err
		}
		g := store.Grant(l)
		rec.Grant = &g
	case kindPublicLinks:
		var l publicLinkLine
		if err := dec.Decode(&l); err != nil {
			return err
		}
		pl := store.PublicLink(l)
		rec.PublicLink = &pl
	}
	return nil
}

// decodeUnderWay decodes one record of the kinds of version 4 without
// bodies: cursors, push keys and registrations, locks.
func decodeUnderWay(dec *json.Decoder, kind string, rec *store.Record) error {
	switch kind {
	case kindDerivedCursors:
		var l derivedCursorLine
		if err := dec.Decode(&l); err != nil {
			return err
		}
		c := store.DerivedCursor(l)
		rec.DerivedCursor = &c
	case kindPushKeys:
		var l pushKeysLine
		if err := dec.Decode(&l); err != nil {
			return err
		}
		k := store.PushKeys(l)
		rec.PushKeys = &k
	case kindPushRegistrations:
		var l pushRegistrationLine
		if err := dec.Decode(&l); err != nil {
			return err
		}
		r := store.PushRegistration(l)
		rec.PushRegistration = &r
	case kindLocks:
		var l lockLine
		if err := dec.Decode(&l); err != nil {
			return err
		}
		rec.Lock = &store.Lock{Token: l.Token, Root: l.Root, UserID: l.UserID, Infinite: l.Infinite, Shared: l.Shared,
			Owner: l.Owner, Timeout: time.Duration(l.Timeout) * time.Second, Created: l.Created, Expires: l.Expires}
	}
	return nil
}
