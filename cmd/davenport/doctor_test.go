package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDoctorCommand: usage errors exit 2, a deployment that cannot be
// reached exits 1 with the finding printed, and the flags may follow the
// URL. The checks themselves are tested against the real server in
// server/doctor_test.go.
func TestDoctorCommand(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/"
	l.Close() // nothing listens there now
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string // in stdout+stderr
	}{
		{"no URL", []string{"doctor"}, 2, "one URL"},
		{"not a URL", []string{"doctor", "ftp://x/"}, 2, "not an http(s) URL"},
		{"user without password", []string{"doctor", closed, "--user", "alice"}, 2, "--password-file"},
		{"unreachable", []string{"doctor", closed, "--user", "alice", "--password-file", pw}, 1, "FAIL  http: cannot reach"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, "", tc.args...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.out) {
				t.Errorf("%v = %d %q %q, want %d mentioning %q", tc.args, code, stdout, stderr, tc.code, tc.out)
			}
		})
	}
}
