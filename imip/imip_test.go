package imip

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/davenport-dav/davenport/caldav"
	"github.com/davenport-dav/davenport/store"
)

func TestHeaderText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Planning", "Planning"},
		{"Hi\r\nBcc: x@y", "Hi Bcc: x@y"},
		{"tab\tand\x00nul", "tab and nul"},
		{"Café", "=?utf-8?q?Caf=C3=A9?="},
	} {
		if got := headerText(tc.in); got != tc.want {
			t.Errorf("headerText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("é", 150) // 300 bytes
	if got := truncate(long, 201); !utf8.ValidString(got) || len(got) != 200 {
		t.Errorf("truncate cut inside a character: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}

// TestParseFindsTheCalendar: the calendar part is found in the shapes
// mail clients send (alone, in alternative inside mixed, base64 or
// quoted-printable, application/ics), and mail without one is refused.
func TestParseFindsTheCalendar(t *testing.T) {
	cal := "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n"
	for _, tc := range []struct {
		name, msg string
		want      string
	}{
		{"alone", "From: a@b.example\r\nContent-Type: text/calendar; method=REPLY\r\n\r\n" + cal, cal},
		{"nested qp", "From: A <a@b.example>\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n" +
			"--i\r\nContent-Type: text/plain\r\n\r\nhi\r\n--i\r\nContent-Type: text/calendar\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nBEGIN:VCALENDAR\r\nX:a=3Db=\r\nc\r\nEND:VCALENDAR\r\n--i--\r\n--o--\r\n",
			"BEGIN:VCALENDAR\r\nX:a=bc\r\nEND:VCALENDAR"},
		{"application/ics base64", "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: application/ics\r\nContent-Transfer-Encoding: base64\r\n\r\nQkVHSU46VkNBTEVOREFS\r\nDQpFTkQ6VkNBTEVOREFSDQo=\r\n--o--\r\n",
			"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"},
		{"none", "From: a@b.example\r\n\r\nhello\r\n", ""},
		{"no from", "Content-Type: text/calendar\r\n\r\n" + cal, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(strings.NewReader(tc.msg))
			if tc.want == "" {
				var rej *caldav.Rejection
				if !errors.As(err, &rej) {
					t.Fatalf("Parse = %v, %v; want a rejection", m, err)
				}
				return
			}
			if err != nil || string(m.Calendar) != tc.want || m.From != "a@b.example" {
				t.Fatalf("Parse = %+v, %v; want calendar %q from a@b.example", m, err, tc.want)
			}
		})
	}
}

// TestComposeRefusesBadAddresses: a recipient address that is no mail
// address (or tries to add one) is never written into a header.
func TestComposeRefusesBadAddresses(t *testing.T) {
	body := []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	for _, to := range []string{"mailto:a@b.example>\r\nBcc: c@d.example", "mailto:not an address", "mailto:a@b.example, c@d.example"} {
		m := &store.Mail{ID: 1, From: "mailto:o@example.org", To: to, Method: "REQUEST", Body: body, Created: time.Now()}
		if _, err := Compose(m, "cal@example.org", "h", time.Now()); err == nil {
			t.Errorf("Compose to %q: no error", to)
		}
	}
	m := &store.Mail{ID: 1, From: "mailto:o@example.org", To: "mailto:a@b.example", Method: "REQUEST\r\nX", Body: body}
	if _, err := Compose(m, "cal@example.org", "h", time.Now()); err == nil {
		t.Errorf("Compose with a method holding CR LF: no error")
	}
}
