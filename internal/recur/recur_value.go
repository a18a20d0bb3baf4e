package recur

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// timeKind says how a DATE or DATE-TIME value is anchored (RFC 5545 §3.3.4,
// §3.3.5).
type timeKind uint8

const (
	kindDate     timeKind = iota // VALUE=DATE: a calendar day, floating
	kindFloating                 // local time, no TZID: the viewer's zone applies
	kindUTC                      // form #2, trailing "Z"
	kindZoned                    // form #3, TZID parameter
)

// dtValue is one parsed DATE or DATE-TIME. wall holds the written calendar
// fields in time.UTC (not an instant); loc is the zone of a kindZoned value.
type dtValue struct {
	wall time.Time
	kind timeKind
	loc  *time.Location
}

// floating reports whether the value depends on the viewer's time zone.
func (v dtValue) floating() bool { return v.kind == kindDate || v.kind == kindFloating }

// abs returns the instant of v; floating and date values are read in viewer.
func (v dtValue) abs(viewer *time.Location) time.Time {
	switch v.kind {
	case kindUTC:
		return v.wall
	case kindZoned:
		return resolveWall(v.wall, v.loc)
	default:
		return resolveWall(v.wall, viewer)
	}
}

// zoneFor returns the zone in which wall-clock arithmetic on v is done.
func (v dtValue) zoneFor(viewer *time.Location) *time.Location {
	switch v.kind {
	case kindUTC:
		return time.UTC
	case kindZoned:
		return v.loc
	default:
		return viewer
	}
}

// resolveWall maps calendar fields (held in w as UTC) to an instant in loc
// following RFC 5545 §3.3.5: "If the local time described occurs more than
// once (when changing from daylight to standard time), the DATE-TIME value
// refers to the first occurrence of the referenced time. ... If the local time
// described does not occur (when changing from standard to daylight time), the
// DATE-TIME value is interpreted using the UTC offset before the gap in local
// times."
func resolveWall(w time.Time, loc *time.Location) time.Time {
	if loc == nil || loc == time.UTC {
		return w
	}
	u := w.Unix()
	// Offsets well before and after: zones change offset at most once in
	// any 52 hours.
	_, offBefore := time.Unix(u-26*3600, 0).In(loc).Zone()
	_, offAfter := time.Unix(u+26*3600, 0).In(loc).Zone()
	x1 := u - int64(offBefore)
	if offBefore == offAfter {
		return time.Unix(x1, 0).In(loc)
	}
	x2 := u - int64(offAfter)
	ok1 := offsetAt(x1, loc) == offBefore
	ok2 := offsetAt(x2, loc) == offAfter
	switch {
	case ok1 && ok2: // repeated local time: the first occurrence
		return time.Unix(min(x1, x2), 0).In(loc)
	case ok2:
		return time.Unix(x2, 0).In(loc)
	default: // ok1, or a gap: the offset before the gap
		return time.Unix(x1, 0).In(loc)
	}
}

func offsetAt(unix int64, loc *time.Location) int {
	_, off := time.Unix(unix, 0).In(loc).Zone()
	return off
}

// wallOf returns the calendar fields of instant t in loc, as a UTC-held wall
// value.
func wallOf(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
}

// parseDT parses one DATE or DATE-TIME text; isDate is the VALUE=DATE
// parameter; tzid the TZID parameter.
func parseDT(s string, isDate bool, tzid string, z *Zones) (dtValue, error) {
	s = strings.TrimSpace(s)
	if len(s) == 8 || isDate {
		t, err := parseDigits(s, false)
		if err != nil {
			return dtValue{}, err
		}
		return dtValue{wall: t, kind: kindDate}, nil
	}
	utc := strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z")
	if utc {
		s = s[:len(s)-1]
	}
	t, err := parseDigits(s, true)
	if err != nil {
		return dtValue{}, err
	}
	switch {
	case utc:
		// RFC 5545 §3.3.5: "The "TZID" property parameter MUST NOT be
		// applied to DATE-TIME properties whose time values are
		// specified in UTC." Clients that add one anyway mean UTC.
		return dtValue{wall: t, kind: kindUTC}, nil
	case tzid != "":
		loc, err := z.Location(tzid)
		if err != nil {
			return dtValue{}, err
		}
		return dtValue{wall: t, kind: kindZoned, loc: loc}, nil
	default:
		return dtValue{wall: t, kind: kindFloating}, nil
	}
}

// parseDigits parses YYYYMMDD or YYYYMMDDTHHMMSS strictly.
func parseDigits(s string, withTime bool) (time.Time, error) {
	want := 8
	if withTime {
		want = 15
	}
	if len(s) != want || (withTime && s[8] != 'T' && s[8] != 't') {
		return time.Time{}, fmt.Errorf("%w: %q", ErrBadDateTime, s)
	}
	num := func(a, b int) (int, bool) {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(4, 6)
	d, ok3 := num(6, 8)
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > daysIn(time.Month(mo), y) {
		return time.Time{}, fmt.Errorf("%w: %q", ErrBadDateTime, s)
	}
	var h, mi, sec int
	if withTime {
		var ok4, ok5, ok6 bool
		h, ok4 = num(9, 11)
		mi, ok5 = num(11, 13)
		sec, ok6 = num(13, 15)
		// RFC 5545 §3.3.12: seconds 60 is a leap second; it is read as
		// the next minute.
		if !ok4 || !ok5 || !ok6 || h > 23 || mi > 59 || sec > 60 {
			return time.Time{}, fmt.Errorf("%w: %q", ErrBadDateTime, s)
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC), nil
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// propDT parses a DATE or DATE-TIME property.
func propDT(p *ical.Prop, z *Zones) (dtValue, error) {
	v, err := parseDT(p.Value, isDateParam(p), p.Params.Get(ical.ParamTimezoneID), z)
	if err != nil {
		return dtValue{}, fmt.Errorf("%s: %w", p.Name, err)
	}
	return v, nil
}

func isDateParam(p *ical.Prop) bool {
	return strings.EqualFold(p.Params.Get(ical.ParamValue), "DATE")
}

// duration is an RFC 5545 §3.3.6 duration: "The duration of a week or a day
// depends on its position in the calendar", so days (weeks are 7 days) are
// kept apart from the exact seconds.
type duration struct {
	days int
	secs int64
}

func (d duration) isZero() bool   { return d.days == 0 && d.secs == 0 }
func (d duration) negative() bool { return d.days < 0 || d.secs < 0 }
func (d duration) neg() duration  { return duration{-d.days, -d.secs} }
func durSeconds(s int64) duration { return duration{secs: s} }
func durDays(n int) duration      { return duration{days: n} }

// approx returns d with days as 25 hours: at least as long as any day.
func (d duration) approx() time.Duration {
	return time.Duration(d.days)*25*time.Hour + time.Duration(d.secs)*time.Second
}

// maxDurationSeconds bounds durations to about 300 years, far beyond any
// real use, so arithmetic cannot overflow.
const maxDurationSeconds = 300 * 366 * 86400

// parseDuration parses dur-value (RFC 5545 §3.3.6), leniently accepting
// lower case and a mix of weeks with other units.
func parseDuration(s string) (duration, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	text := s
	// The error is built only on failure: every expansion parses
	// DURATIONs, and formatting an error costs allocations.
	bad := func() (duration, error) { return duration{}, fmt.Errorf("%w: %q", ErrBadDuration, text) }
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return bad()
	}
	s = s[1:]
	var d duration
	inTime, any := false, false
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime {
				return bad()
			}
			inTime = true
			s = s[1:]
			continue
		}
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) || i > 10 {
			return bad()
		}
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return bad()
		}
		unit := s[i]
		s = s[i+1:]
		any = true
		switch {
		case !inTime && unit == 'W':
			d.days += int(n) * 7
		case !inTime && unit == 'D':
			d.days += int(n)
		case inTime && unit == 'H':
			d.secs += n * 3600
		case inTime && unit == 'M':
			d.secs += n * 60
		case inTime && unit == 'S':
			d.secs += n
		default:
			return bad()
		}
		if int64(d.days)*86400+d.secs > maxDurationSeconds {
			return bad()
		}
	}
	if !any {
		return bad()
	}
	if neg {
		d = d.neg()
	}
	return d, nil
}

// period is one PERIOD value (RFC 5545 §3.3.9): a start with an explicit end
// or a duration.
type period struct {
	start  dtValue
	end    dtValue
	hasEnd bool
	dur    duration
}

// dtList parses a property holding a comma-separated list of DATE, DATE-TIME
// or (RDATE only) PERIOD values, as EXDATE and RDATE do (RFC 5545 §3.8.5.1,
// §3.8.5.2).
func dtList(p *ical.Prop, z *Zones) ([]period, error) {
	isDate := isDateParam(p)
	isPeriod := strings.EqualFold(p.Params.Get(ical.ParamValue), "PERIOD")
	tzid := p.Params.Get(ical.ParamTimezoneID)
	var out []period
	for _, item := range strings.Split(p.Value, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if i := strings.IndexByte(item, '/'); i >= 0 || isPeriod {
			if i < 0 {
				return nil, fmt.Errorf("%s: %w: %q", p.Name, ErrBadPeriod, item)
			}
			st, err := parseDT(item[:i], false, tzid, z)
			if err != nil || st.kind == kindDate {
				return nil, fmt.Errorf("%s: %w: %q", p.Name, ErrBadPeriod, item)
			}
			rest := item[i+1:]
			pr := period{start: st}
			if strings.HasPrefix(rest, "P") || strings.HasPrefix(rest, "+P") || strings.HasPrefix(rest, "p") {
				d, err := parseDuration(rest)
				if err != nil || d.negative() {
					return nil, fmt.Errorf("%s: %w: %q", p.Name, ErrBadPeriod, item)
				}
				pr.dur = d
			} else {
				en, err := parseDT(rest, false, tzid, z)
				if err != nil || en.kind == kindDate {
					return nil, fmt.Errorf("%s: %w: %q", p.Name, ErrBadPeriod, item)
				}
				pr.end, pr.hasEnd = en, true
			}
			out = append(out, pr)
			continue
		}
		v, err := parseDT(item, isDate, tzid, z)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		out = append(out, period{start: v})
	}
	return out, nil
}
