package main

import (
	"strings"
	"testing"
)

// TestShareAndGroupCommands drives share and group through the CLI on both
// stores, checking each step by what share list and group members print.
func TestShareAndGroupCommands(t *testing.T) {
	testdbEach(t, func(t *testing.T, db string) {
		ok, fails := cli(t, db)
		for _, u := range []string{"alice", "bob", "carol"} {
			ok("user", "add", u)
		}
		ok("group", "add", "Family", "--display-name", "The family")
		if out := ok("group", "members", "family", "--add", "bob,Carol"); out != "bob\ncarol\n" {
			t.Errorf("group members after add = %q", out)
		}
		if out := ok("group", "members", "family", "--remove", "carol"); out != "bob\n" {
			t.Errorf("group members after remove = %q", out)
		}
		fails(1, "group", "members", "family", "--remove", "carol")
		fails(1, "group", "add", "FAMILY")
		if out := ok("group", "list"); !strings.Contains(out, "family") || !strings.Contains(out, "The family") {
			t.Errorf("group list = %q", out)
		}

		ok("share", "add", "alice", "personal", "--user", "Bob", "--access", "read-write")
		ok("share", "add", "alice", "personal", "--group", "family")
		ok("share", "add", "alice", "contacts", "--addressbook", "--user", "carol", "--pending")
		fails(1, "share", "add", "alice", "personal", "--user", "alice")
		fails(1, "share", "add", "alice", "nosuch", "--user", "bob")
		fails(2, "share", "add", "alice", "personal", "--user", "bob", "--access", "all")
		fails(2, "share", "add", "alice", "personal")
		out := ok("share", "list", "alice")
		for _, want := range []string{"personal    user bob      read-write  accepted", "personal    group family  read        accepted"} {
			if !strings.Contains(out, want) {
				t.Errorf("share list lacks %q:\n%s", want, out)
			}
		}
		if out := ok("share", "list", "alice", "--addressbook"); !strings.Contains(out, "user carol") || !strings.Contains(out, "pending") {
			t.Errorf("share list --addressbook:\n%s", out)
		}
		ok("share", "remove", "alice", "personal", "--user", "bob")
		fails(1, "share", "remove", "alice", "personal", "--user", "bob")
		if out := ok("share", "list", "alice", "personal"); strings.Contains(out, "user bob") {
			t.Errorf("bob's share listed after remove:\n%s", out)
		}
		ok("group", "delete", "family")
		if out := ok("share", "list", "alice", "personal"); strings.Contains(out, "family") {
			t.Errorf("a deleted group's share listed:\n%s", out)
		}
	})
}
