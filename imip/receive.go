package imip

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"

	"github.com/davenport-dav/davenport/caldav"
	"github.com/davenport-dav/davenport/store"
)

// MaxMessageSize bounds one incoming message.
const MaxMessageSize = 10 << 20

// maxDepth bounds the nesting of multiparts walked.
const maxDepth = 8

// Receiver applies iTIP messages that arrive by email.
type Receiver struct {
	Store  store.Store
	Logger *slog.Logger
	// IMIP lets answers go out by mail (a REFRESH answered with the
	// event, a COUNTER declined): set when a Sender runs.
	IMIP bool
}

// Message is an incoming message, parsed.
type Message struct {
	From     string // the From header's address
	To       []string
	Calendar []byte // the text/calendar part
}

// Parse reads one RFC 5322 message and finds its calendar: the first
// text/calendar (or application/ics) part at any depth.
func Parse(r io.Reader) (*Message, error) {
	msg, err := mail.ReadMessage(io.LimitReader(r, MaxMessageSize))
	if err != nil {
		return nil, &caldav.Rejection{Reason: "not a mail message: " + err.Error()}
	}
	from, err := mail.ParseAddress(msg.Header.Get("From"))
	if err != nil {
		return nil, &caldav.Rejection{Reason: "no readable From address"}
	}
	out := &Message{From: from.Address}
	for _, h := range []string{"To", "Cc"} {
		if list, err := msg.Header.AddressList(h); err == nil {
			for _, a := range list {
				out.To = append(out.To, a.Address)
			}
		}
	}
	cal, err := findCalendar(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
	if err != nil {
		return nil, err
	}
	if cal == nil {
		return nil, &caldav.Rejection{Reason: "no text/calendar part"}
	}
	out.Calendar = cal
	return out, nil
}

func findCalendar(contentType, encoding string, body io.Reader, depth int) ([]byte, error) {
	if contentType == "" {
		contentType = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, nil
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if depth >= maxDepth {
			return nil, nil
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil, nil
			}
			if err != nil {
				return nil, &caldav.Rejection{Reason: "broken multipart: " + err.Error()}
			}
			cal, err := findCalendar(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
			if cal != nil || err != nil {
				return cal, err
			}
		}
	case mt == "text/calendar" || mt == "application/ics":
		var r io.Reader = body
		switch strings.ToLower(strings.TrimSpace(encoding)) {
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
		case "quoted-printable":
			r = quotedprintable.NewReader(body)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, &caldav.Rejection{Reason: "undecodable calendar part: " + err.Error()}
		}
		return b, nil
	}
	return nil, nil
}

// newlineStripper drops CR and LF, which base64 bodies are wrapped with.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	j := 0
	for _, c := range p[:k] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}

// Deliver applies the message read from r for each of recipients (when
// none are given, the local users among its To and Cc). It returns the
// first error; a *caldav.Rejection is logged with its reason and means
// the message is refused, anything else that it may be tried again.
func (rc *Receiver) Deliver(ctx context.Context, r io.Reader, recipients []string) error {
	msg, err := Parse(r)
	if err != nil {
		rc.logRejection(err, "", "")
		return err
	}
	if len(recipients) == 0 {
		recipients = msg.To
	}
	if len(recipients) == 0 {
		err := &caldav.Rejection{Reason: "no recipient"}
		rc.logRejection(err, msg.From, "")
		return err
	}
	var first error
	for _, to := range recipients {
		if err := rc.DeliverTo(ctx, msg, to); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// DeliverTo applies msg for one recipient.
func (rc *Receiver) DeliverTo(ctx context.Context, msg *Message, to string) error {
	res, err := caldav.ReceiveITIP(ctx, rc.Store, rc.IMIP, msg.From, to, msg.Calendar)
	if err != nil {
		rc.logRejection(err, msg.From, to)
		return err
	}
	rc.Logger.Info("imip: received", "method", res.Method, "uid", res.UID, "from", msg.From, "user", res.User)
	return nil
}

func (rc *Receiver) logRejection(err error, from, to string) {
	var rej *caldav.Rejection
	if errors.As(err, &rej) {
		rc.Logger.Warn("imip: message rejected", "reason", rej.Reason, "from", from, "to", to)
		return
	}
	rc.Logger.Error("imip: delivery failed", "err", err, "from", from, "to", to)
}

// readAll reads r whole, within MaxMessageSize.
func readAll(r io.Reader) ([]byte, error) {
	var b bytes.Buffer
	n, err := b.ReadFrom(io.LimitReader(r, MaxMessageSize+1))
	if err != nil {
		return nil, err
	}
	if n > MaxMessageSize {
		return nil, fmt.Errorf("imip: message over %d bytes", MaxMessageSize)
	}
	return b.Bytes(), nil
}
