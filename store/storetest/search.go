package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

var searchTests = []test{
	{"user by email", testGetUserByEmail},
	{"principal search by terms", testSearchPrincipals},
	{"search limit", testSearchLimit},
}

func pairSearchTests() []pairTest {
	return []pairTest{{"load rebuilds search terms", testLoadSearchTerms}}
}

func testGetUserByEmail(t *testing.T, s store.Store) {
	ctx := t.Context()
	ann := newUser(t, s, "ann")   // ann@example.com
	zed := newUser(t, s, "zed")   // zed@example.com
	newUser(t, s, "noemail-user") // replaced below
	for _, c := range []struct {
		email string
		want  string
	}{
		{"ann@example.com", "ann"},
		{"ANN@Example.COM", "ann"},
		{"zed@example.com", "zed"},
		{"nobody@example.com", ""},
		{"", ""},
		{"ann@example", ""},
	} {
		u, err := s.GetUserByEmail(ctx, c.email)
		switch {
		case c.want == "" && !errors.Is(err, store.ErrNotFound):
			t.Errorf("GetUserByEmail(%q) = %v, %v; want ErrNotFound", c.email, u, err)
		case c.want != "" && (err != nil || u.Username != c.want):
			t.Errorf("GetUserByEmail(%q) = %v, %v; want %s", c.email, u, err, c.want)
		}
	}
	// A changed address is found at once, the old one no more; a shared
	// address finds the first user by name.
	if err := s.SetEmail(ctx, zed.ID, "Shared@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetEmail(ctx, ann.ID, "shared@EXAMPLE.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUserByEmail(ctx, "zed@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old address still found: %v", err)
	}
	if u, err := s.GetUserByEmail(ctx, "shared@example.com"); err != nil || u.ID != ann.ID {
		t.Errorf("shared address: %v, %v; want ann", u, err)
	}
	if err := s.SetEmail(ctx, 1<<40, "x@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetEmail of a missing user: %v, want ErrNotFound", err)
	}
}

// search returns the names (users) and "group:"-names of what a search for
// word in fields finds, sorted.
func search(t *testing.T, s store.Store, word string, fields store.SearchField) []string {
	t.Helper()
	found, _, err := s.SearchPrincipals(t.Context(), store.SearchPrefix(word), fields, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range found {
		if p.User != nil {
			names = append(names, p.User.Username)
		} else {
			names = append(names, "group:"+p.Group.Name)
		}
	}
	slices.Sort(names)
	return names
}

func testSearchPrincipals(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := &store.User{Username: "alice", DisplayName: "Alice Liddell", Email: "alice@wonder.example", PasswordHash: testHash}
	if err := s.CreateUser(ctx, alice, nil); err != nil {
		t.Fatal(err)
	}
	zoe := &store.User{Username: "zoë", DisplayName: "ZOË Ångström", Email: "z@north.example", PasswordHash: testHash}
	if err := s.CreateUser(ctx, zoe, nil); err != nil {
		t.Fatal(err)
	}
	bob := newUser(t, s, "bob") // "User bob", bob@example.com
	newGroup(t, s, "wonderland", bob)
	both := store.SearchName | store.SearchEmail
	for _, c := range []struct {
		word   string
		fields store.SearchField
		want   []string
	}{
		{"lic", both, []string{"alice"}},  // inside a word
		{"LIDD", both, []string{"alice"}}, // any case
		{"ddell", store.SearchName, []string{"alice"}},
		{"ddell", store.SearchEmail, nil},                                    // not an address
		{"wonder", store.SearchEmail, []string{"alice", "group:wonderland"}}, // a group's address is its URL
		{"alice", store.SearchName, []string{"alice"}},
		{"wonder", store.SearchName, []string{"group:wonderland"}},
		{"wonder", both, []string{"alice", "group:wonderland"}},
		{"ångs", both, []string{"zoë"}}, // Unicode case folding
		{"zoë", store.SearchName, []string{"zoë"}},
		{"user", store.SearchName, []string{"bob"}},
		{"nothing", both, nil},
	} {
		if got := search(t, s, c.word, c.fields); !slices.Equal(got, c.want) {
			t.Errorf("search %q in %b = %q, want %q", c.word, c.fields, got, c.want)
		}
	}
	// Terms follow changes: a new address, a deleted user.
	if err := s.SetEmail(ctx, alice.ID, "alice@looking-glass.example"); err != nil {
		t.Fatal(err)
	}
	if got := search(t, s, "wonder", store.SearchEmail); !slices.Equal(got, []string{"group:wonderland"}) {
		t.Errorf("old address still found: %q", got)
	}
	if got := search(t, s, "glass", store.SearchEmail); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("new address: %q", got)
	}
	if err := s.DeleteUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if got := search(t, s, "user", store.SearchName); got != nil {
		t.Errorf("deleted user found: %q", got)
	}
	g, err := s.GetGroup(ctx, "wonderland")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if got := search(t, s, "wonder", store.SearchName); got != nil {
		t.Errorf("deleted group found: %q", got)
	}
}

func testSearchLimit(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, n := range []string{"sam1", "sam2", "sam3", "sam4", "sam5"} {
		newUser(t, s, n)
	}
	// Each user has several terms starting with "sam" (sam1, and the
	// address's sam1): a limit counts terms read, and more says so.
	found, more, err := s.SearchPrincipals(ctx, "sam", store.SearchName|store.SearchEmail, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !more || len(found) == 0 || len(found) > 3 {
		t.Errorf("limit 3: %d found, more %v", len(found), more)
	}
	found, more, err = s.SearchPrincipals(ctx, "sam", store.SearchName, 100)
	if err != nil {
		t.Fatal(err)
	}
	if more || len(found) != 5 {
		t.Errorf("limit 100: %d found, more %v; want 5, false", len(found), more)
	}
	// The empty prefix is every principal.
	if found, _, err = s.SearchPrincipals(ctx, "", store.SearchName, 100); err != nil || len(found) != 5 {
		t.Errorf("empty prefix: %d, %v", len(found), err)
	}
}

func testLoadSearchTerms(t *testing.T, s store.Store, newStore func(t testing.TB) store.Store) {
	ctx := t.Context()
	u := &store.User{Username: "carol", DisplayName: "Carol Singer", Email: "carol@choir.example", PasswordHash: testHash}
	if err := s.CreateUser(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	recs, _ := dumpAll(t, s)
	dst := newStore(t)
	if err := dst.Load(ctx, records(recs)); err != nil {
		t.Fatal(err)
	}
	if got := search(t, dst, "singer", store.SearchName); !slices.Equal(got, []string{"carol"}) {
		t.Errorf("after Load: %q", got)
	}
	if got, err := dst.GetUserByEmail(ctx, "carol@choir.example"); err != nil || got.ID != u.ID {
		t.Errorf("GetUserByEmail after Load: %v, %v", got, err)
	}
}
