package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/davenport-dav/davenport/store"
)

var fileTests = []test{
	{"copy_tree", testCopyTree},
	{"copy_shallow", testCopyShallow},
	{"move_tree", testMoveTree},
	{"delete_tree", testDeleteTree},
	{"replace_tree", testReplaceTree},
	{"object_dead_props", testObjectDeadProps},
}

// file builds an unsaved file object.
func file(collectionID int64, name, body string) *store.Object {
	return &store.Object{CollectionID: collectionID, Name: name, UID: "uid-" + name,
		ETag: etagOf([]byte(body)), ContentType: "application/octet-stream", Body: []byte(body)}
}

// newTree makes a user with the folders "", "a", "a/b", "a/b/c" and "ab" (a
// sibling whose name starts like "a"), one file in each, and dead
// properties on "a" and on its file. It returns the user and the folders
// by name.
func newTree(t *testing.T, s store.Store) (*store.User, map[string]*store.Collection) {
	t.Helper()
	u := newUser(t, s, "files")
	cols := map[string]*store.Collection{}
	for _, name := range []string{"", "a", "a/b", "a/b/c", "ab"} {
		c := newCollection(t, s, u.ID, store.KindFiles, name)
		cols[name] = c
		put(t, s, file(c.ID, "f", "body of "+name+"/f"))
	}
	ctx := t.Context()
	prop := store.DeadProp{Namespace: "urn:x", Name: "p", XML: `<p xmlns="urn:x">v</p>`}
	if err := s.UpdateCollection(ctx, u.ID, cols["a"].ID, store.CollectionPatch{DeadProps: []store.DeadProp{prop}}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateObjectDeadProps(ctx, cols["a"].ID, "f", []store.DeadProp{prop}); err != nil {
		t.Fatalf("UpdateObjectDeadProps: %v", err)
	}
	return u, cols
}

// folders lists the user's folder names.
func folders(t *testing.T, s store.Store, u *store.User) []string {
	t.Helper()
	cols, err := s.ListCollections(t.Context(), u.ID, store.KindFiles)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	return names
}

func wantFolders(t *testing.T, s store.Store, u *store.User, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := folders(t, s, u); !slices.Equal(got, want) {
		t.Fatalf("folders = %q, want %q", got, want)
	}
}

// fileIn returns the file name in folder, or nil.
func fileIn(t *testing.T, s store.Store, u *store.User, folder, name string) *store.Object {
	t.Helper()
	c, err := s.GetCollection(t.Context(), u.ID, store.KindFiles, folder)
	if err != nil {
		t.Fatalf("GetCollection(%q): %v", folder, err)
	}
	o, err := s.GetObject(t.Context(), c.ID, name)
	if err != nil {
		return nil
	}
	return o
}

func objectProps(t *testing.T, s store.Store, o *store.Object) []store.DeadProp {
	t.Helper()
	props, err := s.ListObjectDeadProps(t.Context(), o.ID)
	if err != nil {
		t.Fatalf("ListObjectDeadProps: %v", err)
	}
	return props
}

// wantIntact fails unless CheckIntegrity finds nothing after tree work.
func wantIntact(t *testing.T, s store.Store) {
	t.Helper()
	problems, err := s.CheckIntegrity(t.Context())
	if err != nil || len(problems) > 0 {
		t.Errorf("CheckIntegrity = %q, %v", problems, err)
	}
}

func usedBytes(t *testing.T, s store.Store, u *store.User) int64 {
	t.Helper()
	n, err := s.UsedBytes(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// testCopyTree: a deep copy makes every folder below the source anew,
// with its files (new UIDs, same bytes) and the dead properties of folders
// and files, and leaves a sibling sharing the prefix alone; the storage
// use grows by what was copied.
func testCopyTree(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, _ := newTree(t, s)
	before := usedBytes(t, s, u)
	if err := s.CopyCollectionTree(ctx, u.ID, store.KindFiles, "a", "x/y", true); err != nil {
		t.Fatalf("CopyCollectionTree: %v", err)
	}
	wantFolders(t, s, u, "", "a", "a/b", "a/b/c", "ab", "x/y", "x/y/b", "x/y/b/c")
	var copied int64
	for _, p := range []string{"a", "a/b", "a/b/c"} {
		orig, cp := fileIn(t, s, u, p, "f"), fileIn(t, s, u, "x/y"+p[1:], "f")
		if cp == nil || string(cp.Body) != string(orig.Body) || cp.ETag != orig.ETag {
			t.Fatalf("copy of %s/f = %+v, want the bytes of %+v", p, cp, orig)
		}
		if cp.UID == orig.UID {
			t.Errorf("copy of %s/f kept the UID %q", p, orig.UID)
		}
		copied += orig.Size
	}
	if props := objectProps(t, s, fileIn(t, s, u, "x/y", "f")); len(props) != 1 || props[0].Name != "p" {
		t.Errorf("dead properties of the copied file = %+v", props)
	}
	c, err := s.GetCollection(ctx, u.ID, store.KindFiles, "x/y")
	if err != nil {
		t.Fatal(err)
	}
	if props, err := s.ListDeadProps(ctx, c.ID); err != nil || len(props) != 1 {
		t.Errorf("dead properties of the copied folder = %+v, %v", props, err)
	}
	if got := usedBytes(t, s, u); got != before+copied {
		t.Errorf("UsedBytes = %d, want %d", got, before+copied)
	}
	wantErr(t, "copy onto an existing folder", s.CopyCollectionTree(ctx, u.ID, store.KindFiles, "a", "ab", true), store.ErrPreconditionFailed)
	wantErr(t, "copy of a missing folder", s.CopyCollectionTree(ctx, u.ID, store.KindFiles, "nope", "z", true), store.ErrNotFound)
	wantFolders(t, s, u, "", "a", "a/b", "a/b/c", "ab", "x/y", "x/y/b", "x/y/b/c")
	wantIntact(t, s)
}

// testCopyShallow: Depth 0 copies the folder and its properties only.
func testCopyShallow(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, _ := newTree(t, s)
	if err := s.CopyCollectionTree(ctx, u.ID, store.KindFiles, "a", "z", false); err != nil {
		t.Fatalf("CopyCollectionTree: %v", err)
	}
	wantFolders(t, s, u, "", "a", "a/b", "a/b/c", "ab", "z")
	if o := fileIn(t, s, u, "z", "f"); o != nil {
		t.Errorf("a Depth 0 copy copied the member %q", o.Name)
	}
	c, err := s.GetCollection(ctx, u.ID, store.KindFiles, "z")
	if err != nil {
		t.Fatal(err)
	}
	if props, err := s.ListDeadProps(ctx, c.ID); err != nil || len(props) != 1 {
		t.Errorf("dead properties of the copied folder = %+v, %v", props, err)
	}
}

// testMoveTree: a move renames the folder and everything below it, which
// keep their IDs, files and properties; the sibling stays.
func testMoveTree(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cols := newTree(t, s)
	before := usedBytes(t, s, u)
	if err := s.MoveCollectionTree(ctx, u.ID, store.KindFiles, "a", "ab/m"); err != nil {
		t.Fatalf("MoveCollectionTree: %v", err)
	}
	wantFolders(t, s, u, "", "ab", "ab/m", "ab/m/b", "ab/m/b/c")
	c, err := s.GetCollection(ctx, u.ID, store.KindFiles, "ab/m/b")
	if err != nil || c.ID != cols["a/b"].ID {
		t.Errorf("moved folder = %+v, %v; want the ID %d", c, err, cols["a/b"].ID)
	}
	if o := fileIn(t, s, u, "ab/m", "f"); o == nil || len(objectProps(t, s, o)) != 1 {
		t.Errorf("the moved file or its dead property is missing: %+v", o)
	}
	if got := usedBytes(t, s, u); got != before {
		t.Errorf("UsedBytes = %d after a move, want %d", got, before)
	}
	wantErr(t, "move onto an existing folder", s.MoveCollectionTree(ctx, u.ID, store.KindFiles, "ab/m", "ab"), store.ErrPreconditionFailed)
	wantErr(t, "move of a missing folder", s.MoveCollectionTree(ctx, u.ID, store.KindFiles, "a", "q"), store.ErrNotFound)
	wantIntact(t, s)
}

// testDeleteTree: a delete removes the folder and everything below it, and
// nothing else.
func testDeleteTree(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, _ := newTree(t, s)
	if err := s.DeleteCollectionTree(ctx, u.ID, store.KindFiles, "a"); err != nil {
		t.Fatalf("DeleteCollectionTree: %v", err)
	}
	wantFolders(t, s, u, "", "ab")
	var want int64
	for _, p := range []string{"", "ab"} {
		want += fileIn(t, s, u, p, "f").Size
	}
	checkUsedBytes(t, s, "after the delete", u.ID, want)
	wantErr(t, "delete of a missing folder", s.DeleteCollectionTree(ctx, u.ID, store.KindFiles, "a"), store.ErrNotFound)
	other := newUser(t, s, "other")
	wantErr(t, "delete of another user's folder", s.DeleteCollectionTree(ctx, other.ID, store.KindFiles, "ab"), store.ErrNotFound)
	if _, err := s.GetCollection(ctx, u.ID, store.KindFiles, "ab"); err != nil {
		t.Errorf("another user's delete removed the folder: %v", err)
	}
	wantIntact(t, s)
}

// testReplaceTree: a COPY or MOVE with Overwrite: T replaces the
// destination tree, and one that fails after the destination was deleted
// (the source is gone, or the copy clashes) leaves the destination, its
// folders, files and trash, as it was.
func testReplaceTree(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, cols := newTree(t, s)
	state := func() string {
		t.Helper()
		out := fmt.Sprint(folders(t, s, u))
		for _, p := range folders(t, s, u) {
			if o := fileIn(t, s, u, p, "f"); o != nil {
				out += " " + p + ":" + string(o.Body)
			}
		}
		ts, err := s.ListTrashedCollections(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return out + fmt.Sprintf(" trash:%d used:%d", len(ts), usedBytes(t, s, u))
	}
	was := state()
	for _, tc := range []struct {
		name     string
		from, to string
		opts     store.TreeOptions
		want     error
	}{
		{"move of a missing source", "nope", "a", store.TreeOptions{Move: true}, store.ErrNotFound},
		{"copy of a missing source", "nope", "a", store.TreeOptions{Deep: true}, store.ErrNotFound},
		// The destination's deletion takes the source with it: the move
		// finds nothing to move, and the deletion is undone.
		{"move of a folder onto its parent", "a/b", "a", store.TreeOptions{Move: true}, store.ErrNotFound},
		{"onto a missing destination", "ab", "nope", store.TreeOptions{Move: true}, store.ErrNotFound},
	} {
		err := s.ReplaceCollectionTree(ctx, u.ID, store.KindFiles, tc.from, tc.to, tc.opts)
		wantErr(t, tc.name, err, tc.want)
		if got := state(); got != was {
			t.Errorf("after a failed %s:\n\t%s\nwant\n\t%s", tc.name, got, was)
		}
	}
	// A copy replaces the destination tree with a copy of the source.
	if err := s.ReplaceCollectionTree(ctx, u.ID, store.KindFiles, "ab", "a", store.TreeOptions{Deep: true}); err != nil {
		t.Fatalf("ReplaceCollectionTree (copy): %v", err)
	}
	wantFolders(t, s, u, "", "a", "ab")
	if o := fileIn(t, s, u, "a", "f"); o == nil || string(o.Body) != "body of ab/f" {
		t.Errorf("a/f after the copy = %+v", o)
	}
	// A move replaces it with the source itself.
	if err := s.ReplaceCollectionTree(ctx, u.ID, store.KindFiles, "ab", "a", store.TreeOptions{Move: true}); err != nil {
		t.Fatalf("ReplaceCollectionTree (move): %v", err)
	}
	wantFolders(t, s, u, "", "a")
	if c, err := s.GetCollection(ctx, u.ID, store.KindFiles, "a"); err != nil || c.ID != cols["ab"].ID {
		t.Errorf("a after the move = %+v, %v; want the folder ab was (%d)", c, err, cols["ab"].ID)
	}
	// A file replaces a file (of another UID: a file's is the store's
	// own) in the move's transaction; a failed condition leaves both.
	home, a := cols[""], fileIn(t, s, u, "a", "f")
	_, err := s.MoveObject(ctx, home.ID, "f", a.CollectionID, "f", store.MoveObjectOptions{IfMatch: "stale", Overwrite: true})
	wantErr(t, "a move over a file with a stale If-Match", err, store.ErrPreconditionFailed)
	if o := fileIn(t, s, u, "a", "f"); o == nil || string(o.Body) != string(a.Body) {
		t.Errorf("the destination after a failed move = %+v", o)
	}
	if _, err := s.MoveObject(ctx, home.ID, "f", a.CollectionID, "f", store.MoveObjectOptions{Overwrite: true}); err != nil {
		t.Fatalf("a move over a file: %v", err)
	}
	if o := fileIn(t, s, u, "a", "f"); o == nil || string(o.Body) != "body of /f" {
		t.Errorf("the destination after the move = %+v", o)
	}
	wantIntact(t, s)
}

// testObjectDeadProps: a file's dead properties are set and removed
// atomically, listed in order, kept across an overwrite and a move, and
// gone with the file.
func testObjectDeadProps(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser(t, s, "props")
	c := newCollection(t, s, u.ID, store.KindFiles, "")
	d := newCollection(t, s, u.ID, store.KindFiles, "d")
	put(t, s, file(c.ID, "f", "one"))
	set := []store.DeadProp{
		{Namespace: "urn:b", Name: "z", XML: `<z xmlns="urn:b" xml:lang="en">zed</z>`},
		{Namespace: "urn:a", Name: "y", XML: `<y xmlns="urn:a"><i:x xmlns:i="urn:i">inner</i:x></y>`},
		{Namespace: "", Name: "nons", XML: `<nons xmlns="">v</nons>`},
	}
	if err := s.UpdateObjectDeadProps(ctx, c.ID, "f", set); err != nil {
		t.Fatalf("UpdateObjectDeadProps: %v", err)
	}
	if err := s.UpdateObjectDeadProps(ctx, c.ID, "f", []store.DeadProp{{Namespace: "urn:b", Name: "z"}}); err != nil {
		t.Fatalf("UpdateObjectDeadProps (remove): %v", err)
	}
	want := []store.DeadProp{set[2], set[1]}
	o := fileIn(t, s, u, "", "f")
	if got := objectProps(t, s, o); !slices.Equal(got, want) {
		t.Fatalf("dead properties = %+v, want %+v", got, want)
	}
	o2 := file(c.ID, "f", "two")
	o2.UID = o.UID
	put(t, s, o2)
	if got := objectProps(t, s, fileIn(t, s, u, "", "f")); !slices.Equal(got, want) {
		t.Errorf("dead properties after an overwrite = %+v, want %+v", got, want)
	}
	if _, err := s.MoveObject(ctx, c.ID, "f", d.ID, "g", store.MoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	moved := fileIn(t, s, u, "d", "g")
	if got := objectProps(t, s, moved); !slices.Equal(got, want) {
		t.Errorf("dead properties after a move = %+v, want %+v", got, want)
	}
	wantErr(t, "properties of a missing file", s.UpdateObjectDeadProps(ctx, c.ID, "f", set), store.ErrNotFound)
	if err := s.UpdateObjectDeadProps(ctx, d.ID, "g", []store.DeadProp{{Namespace: "urn:a", XML: "<x/>"}}); err == nil {
		t.Errorf("a dead property without a name was stored")
	}
	if err := s.DeleteObject(ctx, d.ID, "g", store.DeleteObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	put(t, s, file(d.ID, "g", "three"))
	if got := objectProps(t, s, fileIn(t, s, u, "d", "g")); len(got) != 0 {
		t.Errorf("a new file at a deleted one's name has its properties: %+v", got)
	}
}
