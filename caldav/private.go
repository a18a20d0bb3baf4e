package caldav

import (
	"strings"

	"github.com/davenport-dav/davenport/internal/contentline"
	"github.com/davenport-dav/davenport/store"
)

// Private and confidential events (RFC 5545 §3.8.1.3 CLASS). A calendar
// shared with others shows them what the owner chose to show: of a
// CLASS:PRIVATE component only its time, as busy; of a CLASS:CONFIDENTIAL
// one its time and "Busy" for a summary. Everything else — summary,
// location, description, attendees, organizer, alarms, attachments,
// X- properties — is left out of what sharees read, and so of what their
// queries and text-matches can match. The owner always sees all.

// maskedKeep are the properties a masked component keeps: its identity, its
// time and recurrence, and whether it blocks time.
var maskedKeep = map[string]bool{
	"UID": true, "DTSTAMP": true, "DTSTART": true, "DTEND": true, "DUE": true, "DURATION": true,
	"RRULE": true, "RDATE": true, "EXDATE": true, "RECURRENCE-ID": true, "CLASS": true,
	"TRANSP": true, "STATUS": true, "SEQUENCE": true, "CREATED": true, "LAST-MODIFIED": true,
}

// maskable are the components CLASS applies to.
var maskable = map[string]bool{"VEVENT": true, "VTODO": true, "VJOURNAL": true}

// classRank orders the classes by what they hide; unknown classes are
// private (RFC 5545 §3.8.1.3: "the calendar user agent ... SHOULD treat it
// as PRIVATE"), PUBLIC and no CLASS hide nothing.
func classRank(v string) int {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "", "PUBLIC":
		return 0
	case "CONFIDENTIAL":
		return 1
	}
	return 2
}

// MaskObject returns o as a sharee sees it: o itself when nothing in it is
// private or confidential, else a copy with the masked body. The strictest
// class of any component applies to all of them, so an override without a
// CLASS of its own does not show what its master hides.
func (Kind) MaskObject(o *store.Object) *store.Object {
	if len(o.Body) == 0 {
		return o
	}
	body, ok := maskPrivate(string(o.Body))
	if !ok {
		return o
	}
	m := *o
	m.Body = []byte(body)
	return &m
}

// maskPrivate masks the components of body as MaskObject describes; ok is
// false when nothing is to be hidden (or the body does not read).
func maskPrivate(body string) (string, bool) {
	rank := 0
	r := contentline.NewReader(body)
	for r.Next() {
		name, rest := contentline.SplitName(r.Line())
		if strings.EqualFold(name, "CLASS") {
			if i := strings.IndexByte(rest, ':'); i >= 0 {
				rank = max(rank, classRank(rest[i+1:]))
			}
		}
	}
	if rank == 0 || r.Err() != nil {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(body))
	var stack []string
	masked := func() bool { // inside a component CLASS applies to
		for _, c := range stack {
			if maskable[c] {
				return true
			}
		}
		return false
	}
	r = contentline.NewReader(body)
	for r.Next() {
		name, rest := contentline.SplitName(r.Line())
		name = strings.ToUpper(name)
		value := ""
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			value = strings.ToUpper(strings.TrimSpace(rest[i+1:]))
		}
		switch name {
		case "BEGIN":
			inside := masked() // a VALARM or other part of a masked component
			stack = append(stack, value)
			if inside {
				continue
			}
			contentline.WriteRaw(&b, r.Raw())
			if maskable[value] && rank == 1 {
				b.WriteString("SUMMARY:Busy\r\n")
			}
			continue
		case "END":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			if masked() {
				continue
			}
		default:
			if masked() && !maskedKeep[name] {
				continue
			}
		}
		contentline.WriteRaw(&b, r.Raw())
	}
	return b.String(), true
}
