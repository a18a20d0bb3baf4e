package dav

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// discardWriter is an http.ResponseWriter that drops the body.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// benchEvent is calendar data of the size and shape cmd/davbench stores:
// CRLF line ends, a quoted parameter and a non-ASCII summary.
var benchEvent = strings.ReplaceAll(`BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Davenport//bench//EN
BEGIN:VEVENT
UID:davbench-e17
DTSTAMP:20260101T000000Z
DTSTART:20260105T090000Z
DTEND:20260105T100000Z
SUMMARY:Réunion d'équipe 17
LOCATION:Room 4 & 5
ORGANIZER;CN="Alice Example":mailto:alice@example.org
ATTENDEE;CN="Bob Example";PARTSTAT=NEEDS-ACTION:mailto:bob@example.org
DESCRIPTION:`+strings.Repeat("Agenda item, notes and links. ", 10)+`
END:VEVENT
END:VCALENDAR
`, "\n", "\r\n")

// BenchmarkEscapeText is the escaping of one event's calendar data into a
// 207, the largest part of a multiget answer.
func BenchmarkEscapeText(b *testing.B) {
	var sb strings.Builder
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		sb.Reset()
		escapeText(&sb, benchEvent)
	}
}

// BenchmarkMultiStatus writes the 207 of a 100-item calendar-multiget: href,
// getetag and calendar-data per item.
func BenchmarkMultiStatus(b *testing.B) {
	etag := NewElement(xml.Name{Space: NSDAV, Local: "getetag"})
	data := NewElement(xml.Name{Space: NSCalDAV, Local: "calendar-data"})
	data.Text = benchEvent
	b.ReportAllocs()
	b.SetBytes(100 * int64(len(benchEvent)))
	for b.Loop() {
		m := NewMultiStatus(&discardWriter{h: http.Header{}})
		for i := range 100 {
			etag.Text = fmt.Sprintf(`"%x"`, i)
			err := m.Add(&Response{
				Href:      fmt.Sprintf("/dav/calendars/admin/cal/davbench-e%d.ics", i),
				PropStats: []PropStat{{Status: http.StatusOK, Props: []*Element{etag, data}}},
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		if err := m.Close(""); err != nil {
			b.Fatal(err)
		}
	}
}
