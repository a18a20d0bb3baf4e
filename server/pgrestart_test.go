package server_test

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store/postgres"
	"github.com/davenport-dav/davenport/store/testdb"
)

// pgScript is scripts/pg.sh, from this package's directory.
const pgScript = "../scripts/pg.sh"

// TestPostgresRestart restarts a real PostgreSQL under a running server
// and its clients' PUTs and PROPFINDs (underOutage): a fast shutdown ends
// every session, the server answers 503 with Retry-After until the
// database is back, then recovers by itself, without a restart of its
// own, and loses nothing acknowledged. The shared test cluster cannot be
// restarted under the other tests, so this one starts its own with
// scripts/pg.sh (a few seconds).
func TestPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own PostgreSQL cluster")
	}
	dir, err := os.MkdirTemp("", "davenport-pg-restart-")
	if err != nil {
		t.Fatal(err)
	}
	// As root the cluster runs as the postgres user, who must reach it.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cluster := filepath.Join(dir, "pg")
	t.Cleanup(func() {
		if out, err := exec.Command(pgScript, "stop", cluster).CombinedOutput(); err != nil {
			t.Errorf("pg.sh stop: %v\n%s", err, out)
		}
		os.RemoveAll(dir)
	})
	out, err := exec.Command(pgScript, "start", cluster).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		if os.Getenv("CI") != "" || os.Getenv(testdb.EnvRequireDB) != "" {
			t.Fatalf("pg.sh start: %v\n%s", err, stderr)
		}
		t.Skipf("SKIPPING: cannot start a PostgreSQL cluster of its own (pg.sh start: %v)\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	dsn := lines[len(lines)-1]
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("pg.sh start printed %q", out)
	}
	st, err := postgres.Open(context.Background(), dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pg := func(cmd string) func() {
		return func() {
			if out, err := exec.Command(pgScript, cmd, cluster).CombinedOutput(); err != nil {
				t.Fatalf("pg.sh %s: %v\n%s", cmd, err, out)
			}
		}
	}
	underOutage(t, newEnv(t, st), outage{down: pg("halt"), up: pg("resume"), secrets: []string{"postgres", u.Host}})
}
