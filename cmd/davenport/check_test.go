package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckCommand: `davenport check` refuses an embedded store that is
// not there (and does not create one), passes a sound store, and exits 1
// listing what it found on a damaged one.
func TestCheckCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "davenport.db")
	if code, _, stderr := runCmd(t, "", "check", "--database", db); code != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("check of a missing store = %d %q, want 1 naming the missing file", code, stderr)
	}
	if _, err := os.Stat(db); err == nil {
		t.Fatal("check created the store it was asked to check")
	}
	if code, _, stderr := runCmd(t, "", "user", "add", "--database", db, "alice"); code != 0 {
		t.Fatalf("user add = %d %s", code, stderr)
	}
	if code, stdout, stderr := runCmd(t, "", "check", "--database", db); code != 0 || !strings.Contains(stdout, "no problems found") {
		t.Fatalf("check of a sound store = %d %q %q", code, stdout, stderr)
	}
	sqldb, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqldb.Exec(`UPDATE collections SET object_count = 3 WHERE name = 'personal'`); err != nil {
		t.Fatal(err)
	}
	sqldb.Close()
	code, stdout, _ := runCmd(t, "", "check", "--database", db)
	if code != 1 || !strings.Contains(stdout, "object_count 3, but 0 objects") || !strings.Contains(stdout, "1 problems") {
		t.Errorf("check of a damaged store = %d %q, want 1 with the problem", code, stdout)
	}
}
