package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/ingest"
	"github.com/davenport-dav/davenport/store"
)

// fromFile imports a file, a .zip of files, or a directory (see importNote).
func (im *importer) fromFile(ctx context.Context, p, collection string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	switch {
	case fi.IsDir():
		return im.fromDir(ctx, p, collection)
	case strings.EqualFold(filepath.Ext(p), ".zip"):
		if collection != "" {
			return fmt.Errorf("%w: --collection goes with one .ics or .vcf file; a .zip makes one collection per file", errUsage)
		}
		return im.fromZip(ctx, p)
	}
	want := store.Collection{Name: cmpOr(collection, collectionName(p))}
	return im.importPaths(ctx, want, p, false, []string{p})
}

// importFiles imports n files into the collection like want; open(i)
// opens the i-th (and returns its closer). The first file tells the kind;
// a file of the other kind is rejected as a whole.
// perItem says each file is one resource of a storage folder.
func (im *importer) importFiles(ctx context.Context, want store.Collection, source string, perItem bool, n int, open func(i int) (ingest.File, func(), error)) error {
	start := time.Now()
	res := &ingest.Result{}
	items := 0
	var t *ingest.Target
	var c *store.Collection
	var state string
	for i := range n {
		f, done, err := open(i)
		if err != nil {
			return err
		}
		err = func() error {
			defer done()
			kind, err := sniffKind(f)
			if err != nil && t == nil {
				return fmt.Errorf("%s: %w", source, err)
			}
			if t == nil {
				want.Kind = kind
				want.DisplayName = cmpOr(want.DisplayName, want.Name)
				if c, state, err = im.collection(ctx, want); err != nil {
					return err
				}
				t = im.target(c)
			}
			us, err := ingest.Group(f, ingest.Wrapper(c.Kind))
			if errors.Is(err, ingest.ErrNotCalendarData) {
				res.Reject(fileName(f), "not "+string(c.Kind)+" data")
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", fileName(f), err)
			}
			items += us.Len()
			if us.Len() == 1 && perItem {
				// A storage folder's file is one resource: keep its name
				// and its bytes.
				return putWhole(ctx, t, f, res)
			}
			return t.WriteUnits(ctx, f, us, res)
		}()
		if err != nil {
			return err
		}
	}
	if c != nil {
		im.report(c, state, source, items, res, time.Since(start))
	}
	return nil
}

// putWhole writes a one-item file as it is, under the file's name.
func putWhole(ctx context.Context, t *ingest.Target, f ingest.File, res *ingest.Result) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	b, err := io.ReadAll(io.LimitReader(f, t.MaxResourceSize+1))
	if err != nil {
		return err
	}
	return t.Put(ctx, fileName(f), b, res)
}

func fileName(f ingest.File) string {
	if nf, ok := f.(interface{ Name() string }); ok {
		return filepath.Base(nf.Name())
	}
	return "(file)"
}

// openFile opens one of paths for importFiles.
func openFile(paths []string) func(i int) (ingest.File, func(), error) {
	return func(i int) (ingest.File, func(), error) {
		f, err := os.Open(paths[i])
		if err != nil {
			return nil, nil, err
		}
		return f, func() { f.Close() }, nil
	}
}

// sniffKind tells a calendar file from a vCard file by its first BEGIN.
func sniffKind(f ingest.File) (store.Kind, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		line := bytes.TrimSpace(bytes.TrimPrefix(sc.Bytes(), []byte("\xef\xbb\xbf")))
		if len(line) == 0 {
			continue
		}
		switch strings.ToUpper(string(line)) {
		case "BEGIN:VCALENDAR":
			return store.KindCalendar, nil
		case "BEGIN:VCARD":
			return store.KindAddressBook, nil
		}
		break
	}
	return "", errors.New("neither iCalendar (BEGIN:VCALENDAR) nor vCard (BEGIN:VCARD)")
}

// collectionName is the collection a file goes to: its name without the
// extension.
func collectionName(p string) string {
	base := filepath.Base(p)
	return cmpOr(strings.TrimSuffix(base, filepath.Ext(base)), "imported")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func itemFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return (ext == ".ics" || ext == ".vcf" || ext == ".vcard") && !strings.HasPrefix(filepath.Base(name), ".")
}

// fromZip imports each .ics/.vcf file of a zip archive into a collection of
// its own, spooling each to a temporary file (the splitter reads twice).
func (im *importer) fromZip(ctx context.Context, p string) error {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return err
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() || !itemFile(zf.Name) {
			continue
		}
		if err := im.fromZipEntry(ctx, zf); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) fromZipEntry(ctx context.Context, zf *zip.File) error {
	r, err := zf.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", zf.Name, err)
	}
	defer r.Close()
	tmp, err := os.CreateTemp("", "davenport-import-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, r); err != nil {
		return fmt.Errorf("%s: %w", zf.Name, err)
	}
	return im.importFiles(ctx, store.Collection{Name: collectionName(zf.Name)}, zf.Name, false, 1,
		func(int) (ingest.File, func(), error) { return tmp, func() {}, nil })
}

// fromDir imports a directory's item files as one collection (named by
// collection or the directory), and each subdirectory's as one more.
func (im *importer) fromDir(ctx context.Context, dir, collection string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var subdirs []string
	var files []string
	for _, e := range entries {
		switch {
		case e.IsDir() && !strings.HasPrefix(e.Name(), "."):
			subdirs = append(subdirs, filepath.Join(dir, e.Name()))
		case e.Type().IsRegular() && itemFile(e.Name()):
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) > 0 {
		want := dirCollection(dir)
		want.Name = cmpOr(collection, want.Name)
		if err := im.importPaths(ctx, want, dir, true, files); err != nil {
			return err
		}
	} else if collection != "" {
		return fmt.Errorf("%w: %s holds no .ics or .vcf file of its own for --collection", errUsage, dir)
	}
	sort.Strings(subdirs)
	for _, sd := range subdirs {
		var files []string
		entries, err := os.ReadDir(sd)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Type().IsRegular() && itemFile(e.Name()) {
				files = append(files, filepath.Join(sd, e.Name()))
			}
		}
		if len(files) == 0 {
			continue
		}
		if err := im.importPaths(ctx, dirCollection(sd), sd, true, files); err != nil {
			return err
		}
	}
	return nil
}

// importPaths imports files into one collection, opening one at a time.
func (im *importer) importPaths(ctx context.Context, want store.Collection, source string, perItem bool, paths []string) error {
	sort.Strings(paths)
	return im.importFiles(ctx, want, source, perItem, len(paths), openFile(paths))
}

// dirCollection reads what a storage folder says of its collection:
// Radicale's .Radicale.props (JSON of DAV property names to values) or
// vdirsyncer's displayname and color files.
func dirCollection(dir string) store.Collection {
	c := store.Collection{Name: filepath.Base(dir)}
	if b, err := os.ReadFile(filepath.Join(dir, ".Radicale.props")); err == nil {
		var props map[string]string
		if json.Unmarshal(b, &props) == nil {
			c.DisplayName = props["D:displayname"]
			c.Color = props["ICAL:calendar-color"]
			c.Description = cmpOr(props["C:calendar-description"], props["CR:addressbook-description"])
			c.Timezone = props["C:calendar-timezone"]
			if comps := props["C:supported-calendar-component-set"]; comps != "" {
				c.Components = strings.Split(comps, ",")
			}
		}
	}
	for file, dst := range map[string]*string{"displayname": &c.DisplayName, "color": &c.Color} {
		if b, err := os.ReadFile(filepath.Join(dir, file)); err == nil && *dst == "" {
			*dst = strings.TrimSpace(string(b))
		}
	}
	return c
}
