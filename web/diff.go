package web

import (
	"slices"
	"strings"

	"github.com/davenport-dav/davenport/internal/contentline"
)

// A change between two versions of an item, as a person reads it: per
// component (the event, one of its occurrences, the contact), the
// properties whose values differ, old → new. Bookkeeping that every client
// rewrites on each save (DTSTAMP, LAST-MODIFIED, SEQUENCE, PRODID, REV) is
// left out, and so are VTIMEZONEs: the time zone shows in the times.

// diffRow is one changed property.
type diffRow struct {
	Component string // "Event", "Occurrence 2026-01-12 09:00", "Contact", "Alarm"
	Property  string // "SUMMARY"
	Label     string // "Title"
	Old, New  string // "" when absent
}

// ignoredProps are rewritten by clients on every save.
var ignoredProps = map[string]bool{
	"DTSTAMP": true, "LAST-MODIFIED": true, "SEQUENCE": true, "PRODID": true, "REV": true,
	"VERSION": true, "CALSCALE": true, "X-MOZ-GENERATION": true, "X-MOZ-LASTACK": true,
}

// propLabels name the common properties for people, in the order a diff
// lists them; others follow by name.
var propLabels = []struct{ name, label string }{
	{"SUMMARY", "Title"}, {"FN", "Name"}, {"N", "Structured name"},
	{"DTSTART", "Start"}, {"DTEND", "End"}, {"DUE", "Due"}, {"DURATION", "Duration"},
	{"RRULE", "Repeats"}, {"EXDATE", "Skipped dates"}, {"RDATE", "Extra dates"},
	{"LOCATION", "Location"}, {"DESCRIPTION", "Description"}, {"STATUS", "Status"},
	{"ORGANIZER", "Organizer"}, {"ATTENDEE", "Attendees"}, {"CATEGORIES", "Categories"},
	{"CLASS", "Visibility"}, {"TRANSP", "Shows as"}, {"PRIORITY", "Priority"},
	{"PERCENT-COMPLETE", "Done"}, {"COMPLETED", "Completed"}, {"URL", "Link"},
	{"EMAIL", "Email"}, {"TEL", "Phone"}, {"ADR", "Address"}, {"ORG", "Organisation"},
	{"TITLE", "Job title"}, {"BDAY", "Birthday"}, {"ANNIVERSARY", "Anniversary"},
	{"NOTE", "Note"}, {"NICKNAME", "Nickname"}, {"PHOTO", "Photo"}, {"TRIGGER", "Reminder"},
	{"ACTION", "Reminder kind"},
}

func propRank(name string) (int, string) {
	for i, p := range propLabels {
		if p.name == name {
			return i, p.label
		}
	}
	return len(propLabels), ""
}

// compLabels name components for people.
var compLabels = map[string]string{
	"VEVENT": "Event", "VTODO": "Task", "VJOURNAL": "Journal entry", "VCARD": "Contact",
	"VALARM": "Reminder", "VFREEBUSY": "Free/busy", "VAVAILABILITY": "Availability", "AVAILABLE": "Available",
}

// itemComponent is one component of an item with its properties' values.
type itemComponent struct {
	label string
	props map[string][]string
}

// components reads body into its components in order of first
// appearance; the key tells instances apart (an event's occurrences by
// RECURRENCE-ID, nested components by their parent and position). A body
// that does not parse yields what was read before the fault.
func components(body []byte) (keys []string, comps map[string]*itemComponent) {
	comps = map[string]*itemComponent{}
	type open struct {
		name   string
		c      *itemComponent // nil for what a diff leaves out
		parent *open
		index  int // among the parent's children of this name
		kids   map[string]int
	}
	// key and label are known at a component's END: its RECURRENCE-ID
	// may come anywhere in it.
	var key func(o *open) string
	label := func(o *open) string {
		if rid := o.c.props["RECURRENCE-ID"]; len(rid) > 0 && o.parent == nil || len(rid) > 0 && o.parent.c == nil {
			return "Occurrence of " + rid[0]
		}
		l := compLabels[o.name]
		if l == "" {
			l = o.name
		}
		return l
	}
	key = func(o *open) string {
		if o.parent != nil && o.parent.c != nil {
			return key(o.parent) + "/" + o.name + "#" + itoa(o.index)
		}
		if rid := o.c.props["RECURRENCE-ID"]; len(rid) > 0 {
			return o.name + "@" + rid[0]
		}
		return o.name
	}
	var stack []*open
	r := contentline.NewReader(string(body))
	for r.Next() {
		l, err := contentline.Parse(r.Line())
		if err != nil {
			continue
		}
		_, name := contentline.SplitGroup(strings.ToUpper(l.Name))
		switch name {
		case "BEGIN":
			o := &open{name: strings.ToUpper(l.Value), kids: map[string]int{}}
			if len(stack) > 0 {
				o.parent = stack[len(stack)-1]
				o.parent.kids[o.name]++
				o.index = o.parent.kids[o.name]
			}
			skipped := o.parent != nil && o.parent.c == nil && o.parent.name != "VCALENDAR"
			if o.name != "VCALENDAR" && o.name != "VTIMEZONE" && !skipped {
				o.c = &itemComponent{props: map[string][]string{}}
			}
			stack = append(stack, o)
			continue
		case "END":
			if len(stack) == 0 {
				continue
			}
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if o.c == nil {
				continue
			}
			o.c.label = label(o)
			if o.parent != nil && o.parent.c != nil {
				o.c.label = label(o.parent) + ", " + strings.ToLower(o.c.label)
				if o.index > 1 {
					o.c.label += " " + itoa(o.index)
				}
			}
			k := key(o)
			if _, dup := comps[k]; !dup {
				keys = append(keys, k)
			}
			comps[k] = o.c
			continue
		}
		if len(stack) == 0 || stack[len(stack)-1].c == nil || ignoredProps[name] {
			continue
		}
		c := stack[len(stack)-1].c
		c.props[name] = append(c.props[name], showValue(name, l))
	}
	return keys, comps
}

// showValue is a property's value for people: text unescaped, dates
// written out, with the parameters that change its meaning.
func showValue(name string, l contentline.Line) string {
	v := l.Value
	if len(v) > 300 && (name == "PHOTO" || name == "LOGO" || name == "SOUND" || name == "ATTACH" || name == "KEY") {
		return "(" + itoa(len(v)) + " bytes of data)"
	}
	v = strings.NewReplacer(`\n`, "\n", `\N`, "\n", `\,`, ",", `\;`, ";", `\\`, `\`).Replace(v)
	if d, ok := showDate(v); ok {
		v = d
	}
	var extra []string
	for _, p := range l.Params {
		switch p.Name {
		case "TZID", "TYPE", "CN", "PARTSTAT", "RELATED":
			extra = append(extra, strings.ToLower(p.Name)+" "+strings.Join(p.Values, ","))
		}
	}
	if len(extra) > 0 {
		v += " (" + strings.Join(extra, "; ") + ")"
	}
	if len(v) > 500 {
		v = v[:500] + "…"
	}
	return v
}

// showDate writes a DATE or DATE-TIME value (RFC 5545 §3.3.4, §3.3.5)
// as 2026-01-05 or 2026-01-05 09:00 (UTC).
func showDate(v string) (string, bool) {
	digits := func(s string) bool {
		for _, r := range s {
			if r < '0' || r > '9' {
				return false
			}
		}
		return true
	}
	switch {
	case len(v) == 8 && digits(v):
		return v[:4] + "-" + v[4:6] + "-" + v[6:], true
	case (len(v) == 15 || len(v) == 16 && v[15] == 'Z') && v[8] == 'T' && digits(v[:8]) && digits(v[9:15]):
		s := v[:4] + "-" + v[4:6] + "-" + v[6:8] + " " + v[9:11] + ":" + v[11:13]
		if v[13:15] != "00" {
			s += ":" + v[13:15]
		}
		if len(v) == 16 {
			s += " UTC"
		}
		return s, true
	}
	return "", false
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

// diffItems lists what changed from old to new (either may be nil: the
// item did not exist).
func diffItems(old, new []byte) []diffRow {
	ok, oc := components(old)
	nk, nc := components(new)
	keys := append(ok, nk...)
	var rows []diffRow
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		a, b := oc[k], nc[k]
		label := ""
		var ap, bp map[string][]string
		if a != nil {
			label, ap = a.label, a.props
		}
		if b != nil {
			label, bp = b.label, b.props
		}
		var names []string
		for n := range ap {
			names = append(names, n)
		}
		for n := range bp {
			if _, ok := ap[n]; !ok {
				names = append(names, n)
			}
		}
		slices.SortFunc(names, func(x, y string) int {
			rx, _ := propRank(x)
			ry, _ := propRank(y)
			if rx != ry {
				return rx - ry
			}
			return strings.Compare(x, y)
		})
		for _, n := range names {
			if n == "UID" && a != nil && b != nil {
				continue
			}
			ov, nv := strings.Join(ap[n], "; "), strings.Join(bp[n], "; ")
			if ov == nv {
				continue
			}
			_, pl := propRank(n)
			rows = append(rows, diffRow{Component: label, Property: n, Label: pl, Old: ov, New: nv})
		}
	}
	return rows
}
