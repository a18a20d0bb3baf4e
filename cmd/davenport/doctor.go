package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/davenport-dav/davenport/internal/doctor"
)

// cmdDoctor checks a running deployment from outside, like a client
// (internal/doctor): exit 1 when something would break clients.
func cmdDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("davenport doctor", flag.ContinueOnError)
	user := fs.String("user", "", "an account to run the authenticated checks with (a scratch calendar is created and removed)")
	passwordFile := fs.String("password-file", "", "file holding that account's password (or an app password)")
	// The URL may come before the flags: davenport doctor URL --user U.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		args = append(append([]string{}, args[1:]...), args[0])
	}
	if err := parseFlags(fs, "davenport doctor URL [--user U --password-file F]", args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: doctor takes one URL, e.g. https://dav.example.org/", errUsage)
	}
	opts := doctor.Options{URL: fs.Arg(0), User: *user}
	if *user != "" {
		if *passwordFile == "" {
			return fmt.Errorf("%w: --user needs --password-file", errUsage)
		}
		b, err := os.ReadFile(*passwordFile)
		if err != nil {
			return err
		}
		opts.Password = strings.TrimRight(string(b), "\r\n")
	}
	rep, err := doctor.Run(ctx, opts)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	rep.Write(stdout)
	if rep.Failed() {
		return errDoctorFailed
	}
	return nil
}
