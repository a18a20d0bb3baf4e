package main

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/auth"
)

// TestAppPasswordCommands: add prints a password once that authenticates,
// list shows it, revoke (by label or id) removes it; set-admin and
// add --admin grant the role.
func TestAppPasswordCommands(t *testing.T) {
	testdbEach(t, func(t *testing.T, db string) {
		if code, _, errs := runCmd(t, "", "user", "add", "erin", "--database", db); code != 0 {
			t.Fatalf("user add: %s", errs)
		}
		code, out, errs := runCmd(t, "", "user", "app-password", "add", "erin", "Erin's phone", "--database", db)
		if code != 0 {
			t.Fatalf("app-password add: %d %s", code, errs)
		}
		m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("app-password add printed no password:\n%s", out)
		}
		st, err := openStore(context.Background(), db, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		a, err := auth.New(st, slog.New(slog.DiscardHandler), auth.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Authenticate(context.Background(), "erin", m[1], "192.0.2.1"); err != nil {
			t.Errorf("the printed app password does not authenticate: %v", err)
		}
		_, out, _ = runCmd(t, "", "user", "app-password", "list", "erin", "--database", db)
		if !strings.Contains(out, "Erin's phone") || strings.Contains(out, m[1]) {
			t.Errorf("app-password list:\n%s", out)
		}
		if code, _, _ := runCmd(t, "", "user", "app-password", "revoke", "erin", "no such device", "--database", db); code != 1 {
			t.Errorf("revoke of an unknown label = %d, want 1", code)
		}
		if code, out, errs := runCmd(t, "", "user", "app-password", "revoke", "erin", "Erin's phone", "--database", db); code != 0 || !strings.Contains(out, "revoked") {
			t.Errorf("revoke = %d %s %s", code, out, errs)
		}
		if _, err := a.Authenticate(context.Background(), "erin", m[1], "192.0.2.1"); err == nil {
			t.Error("a revoked app password still authenticates")
		}
		if code, _, _ := runCmd(t, "", "user", "app-password", "add", "nobody", "x", "--database", db); code != 1 {
			t.Errorf("app-password add for an unknown user = %d, want 1", code)
		}
		if code, _, _ := runCmd(t, "", "user", "app-password", "frobnicate", "erin", "--database", db); code != 2 {
			t.Errorf("unknown app-password command = %d, want 2", code)
		}

		u, _ := st.GetUser(context.Background(), "erin")
		isAdmin := func(name string) bool {
			u, err := st.GetUser(context.Background(), name)
			if err != nil {
				t.Fatal(err)
			}
			acc, err := st.GetAccount(context.Background(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return acc.Admin
		}
		if isAdmin(u.Username) {
			t.Fatal("a new user is an admin")
		}
		runCmd(t, "", "user", "set-admin", "erin", "--database", db)
		if !isAdmin("erin") {
			t.Error("set-admin did not grant the role")
		}
		runCmd(t, "", "user", "set-admin", "erin", "--off", "--database", db)
		if isAdmin("erin") {
			t.Error("set-admin --off did not withdraw the role")
		}
		if code, _, errs := runCmd(t, "", "user", "add", "frank", "--admin", "--database", db); code != 0 || !isAdmin("frank") {
			t.Errorf("user add --admin: %d %s, admin %v", code, errs, isAdmin("frank"))
		}
	})
}
