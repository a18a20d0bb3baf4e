package caldav

import (
	"bytes"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/internal/contentline"
	"github.com/davenport-dav/davenport/store"
)

var _ dav.Exporter = Kind{}

// Export assembles a calendar into one iCalendar object (GET on the
// calendar): one VCALENDAR holding every object's components as they were
// stored, each VTIMEZONE once per TZID (RFC 5545 §3.6.5: a TZID identifies
// one definition within an object). X-WR-CALNAME carries the calendar's
// name, which calendar programs use to name an imported calendar.
func (Kind) Export(c *store.Collection) *dav.Export {
	name := c.DisplayName
	if name == "" {
		name = c.Name
	}
	var head bytes.Buffer
	for _, l := range []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Davenport//Export//EN", "CALSCALE:GREGORIAN",
		"X-WR-CALNAME:" + contentline.EscapeText(name)} {
		contentline.WriteFolded(&head, l)
	}
	seen := map[string]bool{}
	return &dav.Export{
		ContentType: "text/calendar; charset=utf-8",
		Extension:   ".ics",
		Header:      head.Bytes(),
		Footer:      []byte("END:VCALENDAR\r\n"),
		Object: func(o *store.Object) ([]byte, error) {
			root, err := parseRaw(o.Body)
			if err != nil {
				return nil, err // stored objects were validated; this is a server fault
			}
			var b bytes.Buffer
			for _, it := range root.items {
				if it.comp == nil {
					continue // VERSION, PRODID, CALSCALE of the object: the export has its own
				}
				if it.comp.name == "VTIMEZONE" {
					tzid := rawTZID(it.comp)
					if seen[tzid] {
						continue
					}
					seen[tzid] = true
				}
				it.comp.writeTo(&b)
			}
			return b.Bytes(), nil
		},
	}
}

// rawTZID is the TZID of a VTIMEZONE ("" when it has none, which
// validation does not let in).
func rawTZID(c *rawComp) string {
	for _, it := range c.items {
		if it.prop != nil && it.prop.name == "TZID" {
			if cl, err := it.prop.parsed(); err == nil {
				return cl.Value
			}
		}
	}
	return ""
}
