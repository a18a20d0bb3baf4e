package imip

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/davenport-dav/davenport/caldav"
)

// LMTP serves the receiver over LMTP (RFC 2033), for an MTA that delivers
// to it (Postfix's lmtp: transport, for example): each recipient gets its
// own answer — 250 applied, 550 refused with the reason, 451 try later.
func (rc *Receiver) LMTP(domain string) *smtp.Server {
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &lmtpSession{rc: rc}, nil
	}))
	s.LMTP = true
	s.Domain = domain
	s.MaxMessageBytes = MaxMessageSize
	s.MaxRecipients = 100
	s.ReadTimeout = time.Minute
	s.WriteTimeout = time.Minute
	return s
}

// ServeLMTP serves LMTP on l until ctx ends.
func (rc *Receiver) ServeLMTP(ctx context.Context, l net.Listener, domain string) error {
	s := rc.LMTP(domain)
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	err := s.Serve(l)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

type lmtpSession struct {
	rc   *Receiver
	rcpt []string
}

var _ smtp.LMTPSession = (*lmtpSession)(nil)

func (s *lmtpSession) Reset()                               { s.rcpt = nil }
func (s *lmtpSession) Logout() error                        { return nil }
func (s *lmtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *lmtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpt = append(s.rcpt, to)
	return nil
}

func (s *lmtpSession) Data(r io.Reader) error {
	return s.LMTPData(r, nil)
}

func (s *lmtpSession) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	raw, err := readAll(r)
	if err != nil {
		return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "message too big"}
	}
	msg, err := Parse(bytes.NewReader(raw))
	if err != nil {
		s.rc.logRejection(err, "", "")
		return answer(err)
	}
	ctx := context.Background()
	var last error
	for _, to := range s.rcpt {
		err := answer(s.rc.DeliverTo(ctx, msg, to))
		if status != nil {
			status.SetStatus(to, err)
		}
		last = err
	}
	return last
}

// answer is the LMTP reply for a delivery's error.
func answer(err error) error {
	if err == nil {
		return nil
	}
	var rej *caldav.Rejection
	if errors.As(err, &rej) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "refused: " + truncate(oneLine(rej.Reason), 300)}
	}
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
}
