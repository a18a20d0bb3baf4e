package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

type test struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// pairTest is a test that needs a second, empty store of the same kind.
type pairTest struct {
	name string
	fn   func(t *testing.T, s store.Store, newStore func(t testing.TB) store.Store)
}

// Run runs the whole suite against stores made by newStore.
func Run(t *testing.T, newStore func(t testing.TB) store.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"users", userTests},
		{"credentials", credentialTests},
		{"collections", collectionTests},
		{"objects", objectTests},
		{"moves", moveTests},
		{"sync", syncTests},
		{"concurrency", concurrencyTests},
		{"quota", quotaTests},
		{"history", historyTests},
		{"restore", restoreTests},
		{"dump", dumpTests},
		{"accounts", accountTests},
		{"shares", shareTests},
		{"grants", grantTests},
		{"scheduling", schedulingTests},
		{"integrity", integrityTests},
		{"files", fileTests},
		{"mail", mailTests},
		{"locks", lockTests},
		{"search", searchTests},
		{"derived", derivedTests},
		{"push", pushTests},
	}
	t.Run("dump_load", func(t *testing.T) {
		t.Parallel()
		for _, tc := range append(pairTests, pairSearchTests()...) {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.fn(t, newStore(t), newStore)
			})
		}
	})
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, newStore(t))
				})
			}
		})
	}
}

// testHash is a syntactically valid PHC argon2id string; the store never
// interprets it.
const testHash = "$argon2id$v=19$m=65536,t=1,p=2$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"

func newUser(t *testing.T, s store.Store, username string) *store.User {
	t.Helper()
	u := &store.User{
		Username:     username,
		DisplayName:  "User " + username,
		Email:        username + "@example.com",
		PasswordHash: testHash,
	}
	if err := s.CreateUser(t.Context(), u, nil); err != nil {
		t.Fatalf("CreateUser(%q): %v", username, err)
	}
	return u
}

func newCollection(t *testing.T, s store.Store, ownerID int64, kind store.Kind, name string) *store.Collection {
	t.Helper()
	c := &store.Collection{OwnerID: ownerID, Kind: kind, Name: name, DisplayName: "Collection " + name}
	if kind == store.KindCalendar {
		c.Components = []string{"VEVENT", "VTODO"}
	}
	if err := s.CreateCollection(t.Context(), c); err != nil {
		t.Fatalf("CreateCollection(%q): %v", name, err)
	}
	return c
}

// newCalendar makes a user with one calendar.
func newCalendar(t *testing.T, s store.Store) (*store.User, *store.Collection) {
	t.Helper()
	u := newUser(t, s, "cal-owner")
	return u, newCollection(t, s, u.ID, store.KindCalendar, "calendar")
}

// ics is a small calendar object; the store keeps it as opaque bytes.
func ics(uid, summary string) []byte {
	return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//storetest//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20240101T000000Z\r\n" +
		"DTSTART:20240102T100000Z\r\nSUMMARY:" + summary + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
}

func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:16])
}

// event builds an unsaved VEVENT object with a body derived from uid and
// summary.
func event(collectionID int64, name, uid, summary string) *store.Object {
	body := ics(uid, summary)
	return &store.Object{
		CollectionID: collectionID,
		Name:         name,
		UID:          uid,
		ETag:         etagOf(body),
		ContentType:  "text/calendar; charset=utf-8",
		Component:    "VEVENT",
		Body:         body,
		SearchText:   summary,
	}
}

func put(t *testing.T, s store.Store, o *store.Object) bool {
	t.Helper()
	created, err := s.PutObject(t.Context(), o, store.PutObjectOptions{})
	if err != nil {
		t.Fatalf("PutObject(%q): %v", o.Name, err)
	}
	return created
}

// putEvent stores a new event and returns it as stored.
func putEvent(t *testing.T, s store.Store, collectionID int64, name, uid string) *store.Object {
	t.Helper()
	o := event(collectionID, name, uid, "summary of "+name)
	put(t, s, o)
	return o
}

func getCollection(t *testing.T, s store.Store, c *store.Collection) *store.Collection {
	t.Helper()
	got, err := s.GetCollection(t.Context(), c.OwnerID, c.Kind, c.Name)
	if err != nil {
		t.Fatalf("GetCollection(%q): %v", c.Name, err)
	}
	return got
}

func modSeq(t *testing.T, s store.Store, c *store.Collection) int64 {
	t.Helper()
	return getCollection(t, s, c).ModSeq
}

// wantErr fails unless errors.Is(err, target); a nil target wants no error.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	switch {
	case target == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", what, err)
	case target != nil && !errors.Is(err, target):
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}

func date(y int, m time.Month, d int) *time.Time {
	v := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return &v
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func fmtTime(p *time.Time) string {
	if p == nil {
		return "nil"
	}
	return p.UTC().Format(time.RFC3339Nano)
}

// checkObject compares the fields a caller sets and the store stamps;
// withBody says whether got must carry the body or must not.
func checkObject(t *testing.T, got, want *store.Object, withBody bool) {
	t.Helper()
	diffs := ""
	add := func(field string, g, w any) { diffs += fmt.Sprintf("\n\t%s = %v, want %v", field, g, w) }
	if got.ID != want.ID {
		add("ID", got.ID, want.ID)
	}
	if got.CollectionID != want.CollectionID {
		add("CollectionID", got.CollectionID, want.CollectionID)
	}
	if got.Name != want.Name {
		add("Name", got.Name, want.Name)
	}
	if got.UID != want.UID {
		add("UID", got.UID, want.UID)
	}
	if got.ETag != want.ETag {
		add("ETag", got.ETag, want.ETag)
	}
	if got.ContentType != want.ContentType {
		add("ContentType", got.ContentType, want.ContentType)
	}
	if got.Component != want.Component {
		add("Component", got.Component, want.Component)
	}
	if got.Size != int64(len(want.Body)) {
		add("Size", got.Size, len(want.Body))
	}
	if got.ModSeq != want.ModSeq {
		add("ModSeq", got.ModSeq, want.ModSeq)
	}
	if !sameTime(got.FirstStart, want.FirstStart) {
		add("FirstStart", fmtTime(got.FirstStart), fmtTime(want.FirstStart))
	}
	if !sameTime(got.LastEnd, want.LastEnd) {
		add("LastEnd", fmtTime(got.LastEnd), fmtTime(want.LastEnd))
	}
	if got.SearchText != want.SearchText {
		add("SearchText", got.SearchText, want.SearchText)
	}
	if got.Created.IsZero() || got.Updated.IsZero() {
		add("Created/Updated", got.Created.String()+" / "+got.Updated.String(), "non-zero")
	}
	if withBody && !bytes.Equal(got.Body, want.Body) {
		add("Body", fmt.Sprintf("%q", got.Body), fmt.Sprintf("%q", want.Body))
	}
	if !withBody && len(got.Body) != 0 {
		add("Body", fmt.Sprintf("%d bytes", len(got.Body)), "not loaded")
	}
	if diffs != "" {
		t.Errorf("object %q:%s", want.Name, diffs)
	}
}

// names lists the objects' names in order.
func names(objs []store.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Name
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
