package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/davenport-dav/davenport/caldav"
	"github.com/davenport-dav/davenport/imip"
)

// smtpConfig is the relay iMIP mail goes through (RFC 6047). The password
// comes from the flag, DAVENPORT_SMTP_PASSWORD or
// DAVENPORT_SMTP_PASSWORD_FILE, and is never printed.
type smtpConfig struct {
	url, host, user, password, from string
	port                            int
	startTLS                        bool
}

func (c *smtpConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.url, "smtp-url", "", "the relay as one URL: smtp://user:pass@host:port (STARTTLS) or smtps://… (TLS); the separate --smtp-* flags override its parts")
	fs.StringVar(&c.host, "smtp-host", "", "SMTP relay for invitations to people elsewhere (iMIP); off when empty")
	fs.IntVar(&c.port, "smtp-port", 0, "SMTP relay port (default 587, or 465 for smtps://)")
	fs.StringVar(&c.user, "smtp-user", "", "SMTP relay login (AUTH PLAIN); none when empty")
	fs.StringVar(&c.password, "smtp-password", "", "SMTP relay password (prefer DAVENPORT_SMTP_PASSWORD_FILE)")
	fs.StringVar(&c.from, "smtp-from", "", "sender address of invitation mail, e.g. calendar@example.org")
	fs.BoolVar(&c.startTLS, "smtp-starttls", true, "require STARTTLS before logging in to the relay")
}

// relay is the checked relay configuration, nil when iMIP is off.
func (c *smtpConfig) relay() (*imip.SMTP, error) {
	r := &imip.SMTP{Host: c.host, Port: c.port, Username: c.user, Password: c.password, From: c.from, StartTLS: c.startTLS}
	if c.url != "" {
		u, err := url.Parse(c.url)
		if err != nil || u.Host == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
			// Never echo the URL: it may hold the password.
			return nil, fmt.Errorf("%w: --smtp-url: want smtp://[user:pass@]host[:port] or smtps://…", errUsage)
		}
		if r.Host == "" {
			r.Host = u.Hostname()
		}
		if r.Port == 0 && u.Port() != "" {
			r.Port, _ = strconv.Atoi(u.Port())
		}
		if u.Scheme == "smtps" {
			r.TLS, r.StartTLS = true, false
			if r.Port == 0 {
				r.Port = 465
			}
		}
		if r.Username == "" {
			r.Username = u.User.Username()
		}
		if p, ok := u.User.Password(); ok && r.Password == "" {
			r.Password = p
		}
	}
	if r.Host == "" {
		return nil, nil
	}
	if r.Port == 0 {
		r.Port = 587
	}
	if r.From == "" || !strings.Contains(r.From, "@") {
		return nil, fmt.Errorf("%w: --smtp-from must name the sender address of invitation mail", errUsage)
	}
	return r, nil
}

// serveLMTP starts the LMTP listener of iMIP deliveries.
func serveLMTP(ctx context.Context, addr string, rc *imip.Receiver) error {
	network := "tcp"
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, addr = "unix", path
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		return fmt.Errorf("lmtp listen: %w", err)
	}
	host, _ := os.Hostname()
	go func() {
		if err := rc.ServeLMTP(ctx, l, host); err != nil {
			rc.Logger.Error("lmtp: serve", "err", err)
		}
	}()
	rc.Logger.Info("imip: LMTP listening", "addr", l.Addr().String())
	return nil
}

// cmdIMIP: davenport imip deliver.
func cmdIMIP(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "deliver" {
		fmt.Fprintln(stderr, "Usage: davenport imip deliver [flags] < message")
		return errUsage
	}
	fs := flag.NewFlagSet("imip deliver", flag.ContinueOnError)
	database := fs.String("database", defaultDatabase, "postgres://… URL, or sqlite:PATH / PATH for the embedded store")
	var recipients stringList
	fs.Var(&recipients, "recipient", "local recipient address (the envelope recipient; repeatable); the message's To and Cc when none")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	var smtp smtpConfig
	smtp.flags(fs)
	if err := parseFlags(fs, "davenport imip deliver [flags] < message", args[1:], stdout, stderr); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logLevel, "text")
	if err != nil {
		return err
	}
	relay, err := smtp.relay()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *database, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	rc := &imip.Receiver{Store: st, Logger: logger, IMIP: relay != nil}
	if err := rc.Deliver(ctx, stdin, recipients); err != nil {
		var rej *caldav.Rejection
		if errors.As(err, &rej) {
			// EX_DATAERR: the MTA bounces the message.
			return exitError{code: 65, err: err}
		}
		return exitError{code: 75, err: err} // EX_TEMPFAIL: try again later
	}
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
