package imip

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/store"
)

// bare is a calendar user address without its mailto: scheme.
func bare(addr string) string {
	if len(addr) > 7 && strings.EqualFold(addr[:7], "mailto:") {
		return addr[7:]
	}
	return addr
}

// headerText makes s safe as header text: control characters (CR and LF
// above all, which would start a header of the event author's choosing)
// become spaces, runs of spaces one, and the rest is RFC 2047-encoded when
// not plain ASCII.
func headerText(s string) string {
	return mime.QEncoding.Encode("utf-8", truncate(oneLine(s), 200))
}

// address is a header's address: name (encoded) and a checked addr-spec.
func address(name, addr string) (string, error) {
	a, err := mail.ParseAddress(addr)
	if err != nil || strings.ContainsAny(addr, "\r\n<>,;\"") {
		return "", fmt.Errorf("imip: not a mail address: %q", addr)
	}
	a.Name = oneLine(name)
	return a.String(), nil
}

// Compose writes m as the RFC 5322 message the relay is given: From the
// server's address (what the relay accepts and SPF covers) on behalf of
// the calendar user, who is the Reply-To; To the recipient. The Message-ID
// is stable for the queued message, so a relay or a recipient that sees a
// retry of a message it has can drop it.
func Compose(m *store.Mail, from, hostname string, now time.Time) ([]byte, error) {
	c, err := ical.NewDecoder(bytes.NewReader(m.Body)).Decode()
	if err != nil {
		return nil, fmt.Errorf("imip: queued calendar: %w", err)
	}
	ev := summarize(c)
	senderName := ev.nameOf(bare(m.From))
	fromHdr, err := address(senderName, from)
	if err != nil {
		return nil, err
	}
	toHdr, err := address(ev.nameOf(bare(m.To)), bare(m.To))
	if err != nil {
		return nil, err
	}
	replyTo, err := address(senderName, bare(m.From))
	if err != nil {
		return nil, err
	}
	boundary := "davenport-" + randomHex(12)
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", fromHdr)
	hdr("Reply-To", replyTo)
	hdr("To", toHdr)
	hdr("Subject", headerText(subject(m.Method, ev, senderName)))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", fmt.Sprintf("<imip-%d-%d@%s>", m.ID, m.Created.UnixMicro(), headerText(hostname)))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	hdr("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	part := func(contentType string, body []byte) error {
		b.WriteString("--" + boundary + "\r\n")
		hdr("Content-Type", contentType)
		hdr("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		w := quotedprintable.NewWriter(&b)
		if _, err := w.Write(body); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		b.WriteString("\r\n")
		return nil
	}
	method := strings.ToUpper(m.Method)
	if !validToken(method) {
		return nil, fmt.Errorf("imip: method %q", m.Method)
	}
	if err := part("text/plain; charset=utf-8", []byte(readable(m.Method, ev, senderName))); err != nil {
		return nil, err
	}
	// RFC 6047 §2.4: the method parameter repeats the iCalendar METHOD.
	if err := part("text/calendar; charset=utf-8; method="+method, m.Body); err != nil {
		return nil, err
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

// oneLine is s with control characters (CR and LF above all) as spaces and
// runs of spaces as one.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)), " ")
}

// truncate cuts s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func validToken(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r == '-') {
			return false
		}
	}
	return s != ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// event is what the readable part says of the event.
type event struct {
	summary, location, description string
	start, end                     time.Time
	allDay                         bool
	zone                           *time.Location // the organizer's, from DTSTART's TZID
	organizer                      person
	attendees                      []person
	names                          map[string]string
	instance                       bool // a reply for one instance
}

type person struct{ name, addr, partstat string }

func (e *event) nameOf(addr string) string {
	return e.names[strings.ToLower(addr)]
}

func personOf(p *ical.Prop) person {
	return person{name: p.Params.Get("CN"), addr: bare(p.Value), partstat: strings.ToUpper(p.Params.Get("PARTSTAT"))}
}

func summarize(c *ical.Calendar) *event {
	e := &event{names: map[string]string{}}
	var comp *ical.Component
	for _, ch := range c.Children {
		if ch.Name != ical.CompEvent && ch.Name != ical.CompToDo {
			continue
		}
		if comp == nil || ch.Props.Get(ical.PropRecurrenceID) == nil && comp.Props.Get(ical.PropRecurrenceID) != nil {
			comp = ch
		}
	}
	if comp == nil {
		return e
	}
	e.instance = comp.Props.Get(ical.PropRecurrenceID) != nil
	text := func(name string) string {
		if p := comp.Props.Get(name); p != nil {
			v, err := p.Text()
			if err == nil {
				return v
			}
			return p.Value
		}
		return ""
	}
	e.summary, e.location, e.description = text(ical.PropSummary), text(ical.PropLocation), text(ical.PropDescription)
	// A local time is in its TZID's zone (an IANA name; others read as
	// UTC), floating times in UTC.
	at := func(p *ical.Prop) time.Time {
		loc := time.UTC
		if tzid := p.Params.Get("TZID"); tzid != "" {
			if l, err := time.LoadLocation(tzid); err == nil {
				loc = l
			}
		}
		t, _ := p.DateTime(loc)
		return t
	}
	if p := comp.Props.Get(ical.PropDateTimeStart); p != nil {
		e.allDay = p.ValueType() == ical.ValueDate || len(p.Value) == 8
		if tzid := p.Params.Get("TZID"); tzid != "" {
			if loc, err := time.LoadLocation(tzid); err == nil {
				e.zone = loc
			}
		}
		e.start = at(p)
	}
	if p := comp.Props.Get(ical.PropDateTimeEnd); p != nil {
		e.end = at(p)
	} else if p := comp.Props.Get(ical.PropDuration); p != nil && !e.start.IsZero() {
		if d, err := p.Duration(); err == nil {
			e.end = e.start.Add(d)
		}
	}
	if p := comp.Props.Get(ical.PropOrganizer); p != nil {
		e.organizer = personOf(p)
		e.names[strings.ToLower(e.organizer.addr)] = e.organizer.name
	}
	for _, p := range comp.Props[ical.PropAttendee] {
		a := personOf(&p)
		e.attendees = append(e.attendees, a)
		e.names[strings.ToLower(a.addr)] = a.name
	}
	return e
}

func (e *event) title() string {
	if e.summary == "" {
		return "(no title)"
	}
	return e.summary
}

func display(p person) string {
	if p.name != "" {
		return p.name + " <" + p.addr + ">"
	}
	return p.addr
}

func subject(method string, e *event, sender string) string {
	if sender == "" {
		sender = e.organizer.addr
	}
	switch strings.ToUpper(method) {
	case "REQUEST":
		return "Invitation: " + e.title() + e.when(time.UTC)
	case "CANCEL":
		return "Cancelled: " + e.title() + e.when(time.UTC)
	case "REPLY":
		state := "Replied"
		if len(e.attendees) == 1 {
			switch e.attendees[0].partstat {
			case "ACCEPTED":
				state = "Accepted"
			case "DECLINED":
				state = "Declined"
			case "TENTATIVE":
				state = "Tentative"
			}
		}
		return state + ": " + e.title()
	case "DECLINECOUNTER":
		return "Proposal declined: " + e.title()
	}
	return e.title()
}

// when is the event's time in loc, for a subject: " (Mon 5 Jan 2026 10:00 UTC)".
func (e *event) when(loc *time.Location) string {
	if e.start.IsZero() {
		return ""
	}
	if e.allDay {
		return " (" + e.start.Format("Mon 2 Jan 2006") + ")"
	}
	return " (" + e.start.In(loc).Format("Mon 2 Jan 2006 15:04 MST") + ")"
}

// readable is the text part: what, when (in UTC, which is the same for
// every reader, and in the organizer's zone), where, who.
func readable(method string, e *event, sender string) string {
	var b strings.Builder
	line := func(k, v string) {
		if v == "" {
			return
		}
		if k != "" {
			k += ":"
		}
		fmt.Fprintf(&b, "%-11s %s\n", k, v)
	}
	switch strings.ToUpper(method) {
	case "REQUEST":
		fmt.Fprintf(&b, "%s invites you to an event.\n\n", nonEmpty(sender, e.organizer.addr))
	case "CANCEL":
		fmt.Fprintf(&b, "%s has cancelled this event.\n\n", nonEmpty(sender, e.organizer.addr))
	case "REPLY":
		for _, a := range e.attendees {
			fmt.Fprintf(&b, "%s has answered: %s.\n\n", display(a), strings.ToLower(nonEmpty(a.partstat, "NEEDS-ACTION")))
		}
	case "DECLINECOUNTER":
		b.WriteString("Your proposal for this event was not taken; please write to the organizer.\n\n")
	}
	line("What", e.title())
	if !e.start.IsZero() {
		if e.allDay {
			line("When", e.start.Format("Monday 2 January 2006")+" (all day)")
		} else {
			span := e.start.UTC().Format("Monday 2 January 2006 15:04")
			if !e.end.IsZero() {
				span += " – " + e.end.UTC().Format("15:04")
			}
			line("When", span+" UTC")
			if e.zone != nil && e.zone != time.UTC {
				s := e.start.In(e.zone)
				span := s.Format("Monday 2 January 2006 15:04")
				if !e.end.IsZero() {
					span += " – " + e.end.In(e.zone).Format("15:04")
				}
				line("", span+" "+e.zone.String()+" (the organizer's time)")
			}
		}
		if e.instance {
			line("", "(this occurrence)")
		}
	}
	line("Where", e.location)
	if e.organizer.addr != "" {
		line("Organizer", display(e.organizer))
	}
	for i, a := range e.attendees {
		k := ""
		if i == 0 {
			k = "Who"
		}
		state := ""
		if a.partstat != "" && a.partstat != "NEEDS-ACTION" {
			state = " (" + strings.ToLower(a.partstat) + ")"
		}
		line(k, display(a)+state)
	}
	if e.description != "" {
		b.WriteString("\n" + e.description + "\n")
	}
	b.WriteString("\nYour calendar program can answer with the attached invitation.\n")
	return strings.ReplaceAll(b.String(), "\n", "\r\n")
}

func nonEmpty(s, or string) string {
	if s == "" {
		return or
	}
	return s
}
