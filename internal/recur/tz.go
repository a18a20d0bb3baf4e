package recur

import (
	"fmt"
	"strings"
	"time"
	// The tzdata package embeds the IANA time zone database, so zone names
	// resolve the same on every host, including minimal containers.
	_ "time/tzdata"

	"github.com/emersion/go-ical"
)

// Zones resolves the TZID parameters of one calendar object. RFC 5545 §3.2.19:
// a TZID parameter refers to a VTIMEZONE in the same iCalendar object; clients
// routinely also send IANA names (often without any VTIMEZONE) and Outlook and
// Exchange send Windows zone names. Resolution order: an IANA name (the
// VTIMEZONE a client sends for an IANA name is a copy of the same data, and the
// IANA database carries the full history), a Windows name mapped to IANA, then
// the object's own VTIMEZONE evaluated into a location.
//
// A Zones value caches per object; it is not safe for concurrent use. Share
// one between the calls made on the same object (Span, Check, Time), so each
// VTIMEZONE is evaluated once.
type Zones struct {
	vtimezones map[string]*ical.Component // by TZID as written
	cache      map[string]*time.Location
}

// NewZones returns the zones of cal: the VTIMEZONEs it holds, and every IANA
// and Windows zone name. A nil cal knows names only.
func NewZones(cal *ical.Calendar) *Zones {
	z := &Zones{cache: make(map[string]*time.Location)}
	if cal == nil || cal.Component == nil {
		return z
	}
	for _, child := range cal.Children {
		if child.Name != ical.CompTimezone {
			continue
		}
		p := child.Props.Get(ical.PropTimezoneID)
		if p == nil || p.Value == "" {
			continue
		}
		if z.vtimezones == nil {
			z.vtimezones = make(map[string]*ical.Component)
		}
		if _, dup := z.vtimezones[p.Value]; !dup {
			z.vtimezones[p.Value] = child
		}
	}
	return z
}

// Location returns the location a TZID parameter value names, or an error
// wrapping ErrUnknownTZID. A nil Zones knows no zone.
func (z *Zones) Location(tzid string) (*time.Location, error) {
	if z == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTZID, tzid)
	}
	if loc, ok := z.cache[tzid]; ok {
		if loc == nil {
			return nil, fmt.Errorf("%w: %q", ErrUnknownTZID, tzid)
		}
		return loc, nil
	}
	loc := z.resolve(tzid)
	z.cache[tzid] = loc
	if loc == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTZID, tzid)
	}
	return loc, nil
}

func (z *Zones) resolve(tzid string) *time.Location {
	name := normalizeTZID(tzid)
	if loc := loadIANA(name); loc != nil {
		return loc
	}
	if iana, ok := windowsZones[name]; ok {
		if loc := loadIANA(iana); loc != nil {
			return loc
		}
	}
	if vtz, ok := z.vtimezones[tzid]; ok {
		if loc, err := vtimezoneLocation(tzid, vtz); err == nil {
			return loc
		}
	}
	return nil
}

// normalizeTZID strips decorations real clients put around zone names: a
// leading "/" (RFC 5545 §3.2.19 "globally unique" prefix) and the
// "/mozilla.org/20050126_1/" and "/softwarestudio.org/Olson_20011030_5/"
// style prefixes of old Lightning and libical builds, and surrounding quotes.
func normalizeTZID(tzid string) string {
	s := strings.TrimSpace(strings.Trim(tzid, `"`))
	for _, prefix := range []string{"/mozilla.org/", "/softwarestudio.org/", "/citadel.org/"} {
		if strings.HasPrefix(s, prefix) {
			rest := s[len(prefix):]
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				return rest[i+1:]
			}
		}
	}
	return strings.TrimPrefix(s, "/")
}

// loadIANA loads an IANA zone, refusing names time.LoadLocation interprets
// specially ("" and "Local" mean the server's zone, not a client's).
func loadIANA(name string) *time.Location {
	if name == "" || name == "Local" || len(name) > 64 {
		return nil
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '/' || c == '_' || c == '-' || c == '+') {
			return nil
		}
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	return loc
}
