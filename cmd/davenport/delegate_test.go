package main

import (
	"strings"
	"testing"
)

// TestDelegateAndLinkCommands drives delegate and link through the CLI on
// both stores, checking each step by what the list commands print.
func TestDelegateAndLinkCommands(t *testing.T) {
	testdbEach(t, func(t *testing.T, db string) {
		ok, fails := cli(t, db)
		for _, u := range []string{"alice", "bob", "carol"} {
			ok("user", "add", u)
		}
		ok("group", "add", "assistants")
		ok("delegate", "add", "alice", "--user", "Bob", "--access", "read-write")
		ok("delegate", "add", "alice", "--group", "assistants")
		ok("delegate", "add", "alice", "--user", "carol", "--access", "free-busy")
		fails(1, "delegate", "add", "alice", "--user", "alice")
		fails(1, "delegate", "add", "alice", "--user", "nobody")
		fails(2, "delegate", "add", "alice", "--user", "bob", "--access", "all")
		fails(2, "delegate", "add", "alice")
		out := ok("delegate", "list", "alice")
		for _, want := range []string{"user bob          read-write", "user carol        free-busy", "group assistants  read", "everyone          free-busy"} {
			if !strings.Contains(out, want) {
				t.Errorf("delegate list lacks %q:\n%s", want, out)
			}
		}
		ok("delegate", "free-busy", "alice", "granted")
		fails(2, "delegate", "free-busy", "alice", "nobody")
		ok("delegate", "remove", "alice", "--user", "bob")
		fails(1, "delegate", "remove", "alice", "--user", "bob")
		out = ok("delegate", "list", "alice")
		if strings.Contains(out, "bob") || strings.Contains(out, "everyone") {
			t.Errorf("delegate list after remove and free-busy granted:\n%s", out)
		}

		out = ok("link", "add", "alice", "personal", "--base-url", "https://dav.example")
		id, url, _ := strings.Cut(strings.TrimSpace(out), "\t")
		if !strings.HasPrefix(url, "https://dav.example/public/") || !strings.HasSuffix(url, ".ics") || len(url) != len("https://dav.example/public/")+43+4 {
			t.Fatalf("link add printed %q", out)
		}
		if out := ok("link", "list", "alice", "personal"); !strings.Contains(out, strings.TrimPrefix(url, "https://dav.example")) {
			t.Errorf("link list = %q", out)
		}
		fails(1, "link", "add", "alice", "nosuch")
		fails(1, "link", "remove", "alice", "personal", "999")
		fails(2, "link", "remove", "alice", "personal", "x")
		ok("link", "remove", "alice", "personal", id)
		if out := ok("link", "list", "alice", "personal"); out != "" {
			t.Errorf("link list after remove = %q", out)
		}
	})
}
