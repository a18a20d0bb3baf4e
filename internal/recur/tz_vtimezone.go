package recur

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// Years for which the transitions of a VTIMEZONE are computed; beyond them
// a POSIX rule (when the VTIMEZONE's rules can be written as one) or the last
// offset applies.
const (
	vtzFirstYear = 1900
	vtzLastYear  = 2100
	// vtzMaxWork bounds the rule iterations spent on one VTIMEZONE.
	vtzMaxWork = 20_000
)

// observance is one STANDARD or DAYLIGHT sub-component (RFC 5545 §3.6.5).
type observance struct {
	dst        bool
	name       string
	offsetFrom int // seconds east of UTC
	offsetTo   int
	start      time.Time // DTSTART, local time in offsetFrom
	rules      []*ruleSpec
	rdates     []time.Time
	ruleText   string // the single RRULE, for the POSIX footer
	openEnded  bool   // has an RRULE without UNTIL or COUNT
}

type transition struct {
	at  int64 // Unix seconds
	obs *observance
}

// vtimezoneLocation evaluates a VTIMEZONE into a *time.Location. RFC 5545
// §3.6.5: each STANDARD and DAYLIGHT sub-component gives, from its DTSTART
// (local time in TZOFFSETFROM) and its RRULE/RDATE onsets, the UTC offset
// TZOFFSETTO that applies until the next onset. The transitions are written
// as TZif data (RFC 8536) and loaded by the time package, so everything else
// handles these zones exactly like IANA ones.
func vtimezoneLocation(tzid string, vtz *ical.Component) (*time.Location, error) {
	var obs []*observance
	for _, c := range vtz.Children {
		if c.Name != ical.CompTimezoneStandard && c.Name != ical.CompTimezoneDaylight {
			continue
		}
		o, err := parseObservance(c)
		if err != nil {
			return nil, err
		}
		obs = append(obs, o)
	}
	if len(obs) == 0 || len(obs) > 64 {
		return nil, fmt.Errorf("%w: %d observances", ErrBadVTimezone, len(obs))
	}
	x := &expander{zones: NewZones(nil), viewer: time.UTC, lim: Limits{MaxInstances: vtzMaxWork, MaxWork: vtzMaxWork}}
	var trs []transition
	from := time.Date(vtzFirstYear, 1, 1, 0, 0, 0, 0, time.UTC)
	until := time.Date(vtzLastYear, 12, 31, 0, 0, 0, 0, time.UTC)
	for _, o := range obs {
		add := func(wall time.Time) {
			trs = append(trs, transition{at: wall.Unix() - int64(o.offsetFrom), obs: o})
		}
		add(o.start)
		for _, w := range o.rdates {
			add(w)
		}
		for _, r := range o.rules {
			it := newRuleIter(r, o.start, x)
			it.skipTo(from)
			for {
				w, ok, err := it.next(until)
				if err != nil {
					return nil, fmt.Errorf("%w: %v", ErrBadVTimezone, err)
				}
				if !ok {
					break
				}
				add(w)
			}
		}
	}
	slices.SortStableFunc(trs, func(a, b transition) int { return compareInt64(a.at, b.at) })
	trs = slices.CompactFunc(trs, func(a, b transition) bool { return a.at == b.at })
	// Keep the history from vtzFirstYear: the transition in force then
	// and all later ones.
	cut := 0
	for i, t := range trs {
		if t.at <= from.Unix() {
			cut = i
		}
	}
	trs = trs[cut:]
	return time.LoadLocationFromTZData(tzid, tzif(trs, posixFooter(obs)))
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func parseObservance(c *ical.Component) (*observance, error) {
	o := &observance{dst: c.Name == ical.CompTimezoneDaylight}
	var err error
	get := func(name string) string {
		if p := c.Props.Get(name); p != nil {
			return p.Value
		}
		return ""
	}
	if o.offsetTo, err = parseUTCOffset(get(ical.PropTimezoneOffsetTo)); err != nil {
		return nil, err
	}
	if o.offsetFrom, err = parseUTCOffset(get(ical.PropTimezoneOffsetFrom)); err != nil {
		return nil, err
	}
	o.name = abbrev(get(ical.PropTimezoneName), o.offsetTo)
	p := c.Props.Get(ical.PropDateTimeStart)
	if p == nil {
		return nil, fmt.Errorf("%w: observance without DTSTART", ErrBadVTimezone)
	}
	// RFC 5545 §3.6.5: DTSTART "MUST be specified as a date with a local
	// time value"; a UTC or DATE value is read for its calendar fields.
	v, err := parseDT(p.Value, isDateParam(p), "", NewZones(nil))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadVTimezone, err)
	}
	o.start = v.wall
	fv := dtValue{wall: v.wall, kind: kindFloating}
	rrules := c.Props.Values(ical.PropRecurrenceRule)
	for i := range rrules {
		text := rrules[i].Value
		// UNTIL is in UTC (RFC 5545 §3.6.5): the viewer zone passed here
		// turns it into local time in TZOFFSETFROM, the onsets' frame.
		r, err := parseRuleText(text, fv, NewZones(nil), time.FixedZone("", o.offsetFrom))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadVTimezone, err)
		}
		o.rules = append(o.rules, r)
		if r.until.IsZero() && r.count == 0 {
			o.openEnded = true
			o.ruleText = strings.ToUpper(text)
		}
	}
	for _, rp := range c.Props.Values(ical.PropRecurrenceDates) {
		for _, item := range strings.Split(rp.Value, ",") {
			rv, err := parseDT(item, isDateParam(&rp), "", NewZones(nil))
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrBadVTimezone, err)
			}
			o.rdates = append(o.rdates, rv.wall)
			if len(o.rdates) > vtzMaxWork {
				return nil, fmt.Errorf("%w: too many RDATEs", ErrBadVTimezone)
			}
		}
	}
	return o, nil
}

// parseUTCOffset parses a UTC-offset value (RFC 5545 §3.3.14): ("+" / "-")
// HHMM [SS].
func parseUTCOffset(s string) (int, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("%w: UTC offset %q", ErrBadVTimezone, s)
	if len(s) != 5 && len(s) != 7 {
		return 0, bad
	}
	sign := 1
	switch s[0] {
	case '-':
		sign = -1
	case '+':
	default:
		return 0, bad
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil || n < 0 {
		return 0, bad
	}
	h, m, sec := n/100, n%100, 0
	if len(s) == 7 {
		h, m, sec = n/10000, n/100%100, n%100
	}
	if h > 23 || m > 59 || sec > 59 {
		return 0, bad
	}
	return sign * (h*3600 + m*60 + sec), nil
}

// abbrev returns a zone abbreviation safe for TZif and POSIX TZ strings.
func abbrev(name string, offset int) string {
	ok := len(name) >= 3 && len(name) <= 16
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
	}
	if ok {
		return name
	}
	sign := '+'
	if offset < 0 {
		sign, offset = '-', -offset
	}
	return fmt.Sprintf("%c%02d%02d", sign, offset/3600, offset/60%60)
}

// tzif encodes transitions as version 2 TZif data (RFC 8536) with footer as
// the POSIX TZ string for times after the last transition.
func tzif(trs []transition, footer string) []byte {
	type ltype struct {
		off   int
		dst   bool
		name  string
		index int // into chars
	}
	var types []ltype
	var chars []byte
	typeOf := func(off int, dst bool, name string, fresh bool) int {
		if !fresh {
			for i, t := range types {
				if i > 0 && t.off == off && t.dst == dst && t.name == name {
					return i
				}
			}
		}
		idx := len(chars)
		chars = append(chars, name...)
		chars = append(chars, 0)
		types = append(types, ltype{off, dst, name, idx})
		return len(types) - 1
	}
	// Type 0 is the local time before the first transition; the time
	// package uses it only there when no transition refers to it.
	if len(trs) > 0 {
		first := trs[0].obs
		typeOf(first.offsetFrom, false, abbrev("", first.offsetFrom), true)
	} else {
		typeOf(0, false, "UTC", true)
	}
	idx := make([]byte, len(trs))
	for i, t := range trs {
		idx[i] = byte(typeOf(t.obs.offsetTo, t.obs.dst, t.obs.name, false))
	}
	var b []byte
	be32 := func(v uint32) { b = binary.BigEndian.AppendUint32(b, v) }
	header := func(counts [6]int) {
		b = append(b, "TZif2"...)
		b = append(b, make([]byte, 15)...)
		for _, c := range counts {
			be32(uint32(c))
		}
	}
	header([6]int{}) // an empty version 1 block
	header([6]int{0, 0, 0, len(trs), len(types), len(chars)})
	for _, t := range trs {
		b = binary.BigEndian.AppendUint64(b, uint64(t.at))
	}
	b = append(b, idx...)
	for _, t := range types {
		be32(uint32(int32(t.off)))
		dst := byte(0)
		if t.dst {
			dst = 1
		}
		b = append(b, dst, byte(t.index))
	}
	b = append(b, chars...)
	b = append(b, '\n')
	b = append(b, footer...)
	b = append(b, '\n')
	return b
}

// posixFooter writes the rules in force at the end as a POSIX TZ string when
// they have the usual shape: one open-ended yearly STANDARD and DAYLIGHT rule
// on the nth (or last) weekday of a month, or no open-ended rule at all (a
// fixed offset from the last transition on). It returns "" otherwise.
func posixFooter(obs []*observance) string {
	var std, dst *observance
	for _, o := range obs {
		if !o.openEnded {
			continue
		}
		if o.dst {
			if dst != nil {
				return ""
			}
			dst = o
		} else {
			if std != nil {
				return ""
			}
			std = o
		}
	}
	if std == nil && dst == nil {
		return ""
	}
	if std == nil || dst == nil {
		return ""
	}
	sr, ok1 := posixRule(std)
	dr, ok2 := posixRule(dst)
	if !ok1 || !ok2 {
		return ""
	}
	return posixName(std.name) + posixOffset(std.offsetTo) + posixName(dst.name) + posixOffset(dst.offsetTo) +
		"," + dr + "," + sr
}

// posixRule renders FREQ=YEARLY;BYMONTH=m;BYDAY=nWD as Mm.w.d/time.
func posixRule(o *observance) (string, bool) {
	if len(o.rules) != 1 || len(o.rdates) > 0 {
		return "", false
	}
	r := o.rules[0]
	if r.freq != rrule.YEARLY || r.interval != 1 || len(r.bymonth) != 1 || len(r.byday) != 1 ||
		len(r.bymonthday) > 0 || len(r.byyearday) > 0 || len(r.byweekno) > 0 || len(r.bysetpos) > 0 ||
		len(r.byhour) != 1 || len(r.byminute) != 1 || len(r.bysecond) != 1 {
		return "", false
	}
	n := r.byday[0].n
	w := n
	switch {
	case n >= 1 && n <= 4:
	case n == -1:
		w = 5
	default:
		return "", false
	}
	secs := r.byhour[0]*3600 + r.byminute[0]*60 + r.bysecond[0]
	return fmt.Sprintf("M%d.%d.%d/%d:%02d:%02d", r.bymonth[0], w, int(r.byday[0].wd), secs/3600, secs/60%60, secs%60), true
}

func posixName(name string) string {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return "<" + name + ">"
		}
	}
	return name
}

// posixOffset writes seconds east of UTC as a POSIX offset (hours west).
func posixOffset(off int) string {
	sign := ""
	if off > 0 {
		sign = "-"
	} else {
		off = -off
	}
	return fmt.Sprintf("%s%d:%02d:%02d", sign, off/3600, off/60%60, off%60)
}
