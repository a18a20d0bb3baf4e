package imip

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/davenport-dav/davenport/caldav"
	"github.com/davenport-dav/davenport/store"
)

// SMTP is how to reach the relay. Password is a secret: it is never
// logged (LogValue leaves it out) nor put in an error.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	// From is the envelope and header sender of every message.
	From string
	// StartTLS upgrades the connection before AUTH (RFC 3207) and fails
	// when the relay does not offer it; TLS connects with TLS at once
	// (port 465). Neither: plain, for a relay on the same host.
	StartTLS, TLS bool
	// TLSConfig, when set, replaces the default (the host's name checked
	// against the system roots).
	TLSConfig *tls.Config
	// Timeout bounds one delivery (connect to QUIT); 0 is a minute.
	Timeout time.Duration
}

// LogValue is the relay as logs may show it.
func (c SMTP) LogValue() slog.Value {
	return slog.GroupValue(slog.String("host", c.Host), slog.Int("port", c.Port), slog.String("user", c.Username),
		slog.String("from", c.From), slog.Bool("starttls", c.StartTLS), slog.Bool("tls", c.TLS))
}

func (c SMTP) addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// Sender sends the store's mail queue through the relay.
type Sender struct {
	Store  store.Store
	SMTP   SMTP
	Logger *slog.Logger
	// Hostname names this server in Message-IDs and EHLO.
	Hostname string
	// MaxAttempts bounds the tries of one message (0: 10); Backoff is the
	// wait after the first failure (0: a minute), doubled after each up
	// to MaxBackoff (0: an hour). Lease is how long a claimed message is
	// left to its sender before another may take it (0: ten minutes).
	MaxAttempts         int
	Backoff, MaxBackoff time.Duration
	Lease               time.Duration
	// Interval is how often the queue is polled (0: five seconds).
	Interval time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Run sends until ctx ends.
func (s *Sender) Run(ctx context.Context) {
	t := time.NewTicker(orDefault(s.Interval, 5*time.Second))
	defer t.Stop()
	for {
		if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Error("imip: send queue", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce sends what is due now and reports how many messages it handled
// (sent, retried later or given up).
func (s *Sender) RunOnce(ctx context.Context) (int, error) {
	n := 0
	for {
		batch, err := s.Store.ClaimMail(ctx, s.now(), orDefault(s.Lease, 10*time.Minute), 20)
		if err != nil {
			return n, err
		}
		if len(batch) == 0 {
			return n, nil
		}
		for i := range batch {
			if err := s.handle(ctx, &batch[i]); err != nil {
				return n, err
			}
			n++
		}
	}
}

// handle sends one claimed message and records what became of it.
func (s *Sender) handle(ctx context.Context, m *store.Mail) error {
	log := s.Logger.With("mail_id", m.ID, "uid", m.UID, "method", m.Method, "to", m.To, "attempt", m.Attempts)
	err := s.send(ctx, m)
	if err == nil {
		log.Info("imip: sent")
		if err := s.Store.DeleteMail(ctx, m.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return caldav.RecordMailOutcome(ctx, s.Store, m, caldav.StatusSent)
	}
	var se *smtp.SMTPError
	permanent := errors.As(err, &se) && se.Code >= 500
	if !permanent && m.Attempts < orDefault(s.MaxAttempts, 10) {
		wait := orDefault(s.Backoff, time.Minute) << min(m.Attempts-1, 16)
		wait = min(wait, orDefault(s.MaxBackoff, time.Hour))
		log.Warn("imip: send failed; retrying", "err", err, "retry_in", wait)
		return s.Store.RetryMail(ctx, m.ID, s.now().Add(wait), err.Error())
	}
	// RFC 6638 §3.2.9: 3.7 the recipient's server refused the address
	// (or the message), 5.1 delivery could not be completed.
	status := caldav.StatusNoDelivery
	if permanent {
		status = caldav.StatusInvalidUser
	}
	log.Error("imip: send failed; giving up", "err", err, "schedule_status", status)
	if err := s.Store.DeleteMail(ctx, m.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return caldav.RecordMailOutcome(ctx, s.Store, m, status)
}

// send hands m to the relay in one SMTP session.
func (s *Sender) send(ctx context.Context, m *store.Mail) error {
	msg, err := Compose(m, s.SMTP.From, orDefault(s.Hostname, "localhost"), s.now())
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: err.Error()} // never sendable
	}
	timeout := orDefault(s.SMTP.Timeout, time.Minute)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", s.SMTP.addr())
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Now().Add(timeout))
	tlsConfig := s.SMTP.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: s.SMTP.Host}
	}
	var c *smtp.Client
	switch {
	case s.SMTP.TLS:
		c = smtp.NewClient(tls.Client(conn, tlsConfig))
	case s.SMTP.StartTLS:
		if c, err = smtp.NewClientStartTLS(conn, tlsConfig); err != nil {
			conn.Close()
			return err
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if err := c.Hello(orDefault(s.Hostname, "localhost")); err != nil {
		return err
	}
	if s.SMTP.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.SMTP.Username, s.SMTP.Password)); err != nil {
			// A refused login is the relay's configuration, not the
			// recipient's: retried, never a 3.7.
			var se *smtp.SMTPError
			if errors.As(err, &se) {
				return fmt.Errorf("smtp auth: %d %s", se.Code, se.Message)
			}
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	// A refusal of the sender is the relay's configuration (retried); of
	// the recipient or the message, the recipient's server's answer.
	if err := c.Mail(s.SMTP.From, nil); err != nil {
		return fmt.Errorf("smtp MAIL FROM: %s", err.Error())
	}
	if err := c.Rcpt(bare(m.To), nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := bytes.NewReader(msg).WriteTo(w); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	c.Quit() // the message is accepted: a failing QUIT must not resend it
	return nil
}
