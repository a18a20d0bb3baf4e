package recur

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// maxInterval bounds INTERVAL so period arithmetic cannot overflow; no real
// rule comes near it (a million years, months, …, seconds).
const maxInterval = 1_000_000

// ruleSpec is one parsed RRULE (RFC 5545 §3.3.10) in the frame of its DTSTART:
// all times are calendar fields held in time.UTC. The text is parsed with
// rrule-go (the RFC 5545 grammar and bounds live there); expansion is done by
// ruleIter below, whose every loop is charged to the work budget, because
// rrule-go's iterator can loop without producing anything (a rule that never
// matches scans to the year 9999, FREQ=HOURLY;INTERVAL=24;BYHOUR=<another
// hour> never returns) and its cost cannot be bounded from outside.
type ruleSpec struct {
	freq     rrule.Frequency
	interval int
	count    int
	until    time.Time // zero: none; inclusive, in the DTSTART frame
	wkst     time.Weekday

	bymonth, byweekno, byyearday, bymonthday []int
	byhour, byminute, bysecond, bysetpos     []int
	byday                                    []weekdayN
	// nthScopeMonth: a BYDAY with an ordinal counts within the month
	// (MONTHLY, or YEARLY with BYMONTH) rather than the year.
	nthScopeMonth bool
}

type weekdayN struct {
	wd time.Weekday
	n  int // 0: every such weekday in the period
}

// parseRule parses an RRULE property for a component whose DTSTART is
// start.
func parseRule(p *ical.Prop, start dtValue, x *expander) (*ruleSpec, error) {
	return parseRuleText(p.Value, start, x.zones, x.viewer)
}

func parseRuleText(text string, start dtValue, z *Zones, viewer *time.Location) (*ruleSpec, error) {
	bad := func(why string) error { return fmt.Errorf("%w: %s: %q", ErrBadRule, why, text) }
	if len(text) > 4096 {
		return nil, bad("too long")
	}
	// Normalise what real clients send: lower case, a trailing ";",
	// x-name parts (RFC 5545 §3.3.10 allows them; they carry no
	// recurrence meaning here) and RSCALE=GREGORIAN (RFC 7529).
	var parts []string
	var untilText string
	seen := map[string]bool{}
	for _, part := range strings.Split(strings.ToUpper(strings.TrimSpace(text)), ";") {
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || v == "" {
			return nil, bad("malformed rule part")
		}
		// RFC 5545 §3.3.10: rule parts "MUST NOT occur more than once".
		if seen[k] {
			return nil, bad("repeated " + k)
		}
		seen[k] = true
		switch {
		case strings.HasPrefix(k, "X-"):
			continue
		case k == "RSCALE" && v == "GREGORIAN":
			continue
		case k == "BYEASTER" || k == "DTSTART":
			return nil, bad("unsupported " + k) // not RFC 5545 rule parts
		case k == "UNTIL":
			untilText = v
			continue
		}
		parts = append(parts, part)
	}
	if seen["UNTIL"] && seen["COUNT"] {
		// RFC 5545 §3.3.10: "UNTIL or COUNT rule parts are OPTIONAL,
		// but they MUST NOT occur in the same 'recur'."
		return nil, bad("both UNTIL and COUNT")
	}
	opt, err := rrule.StrToROption(strings.Join(parts, ";"))
	if err != nil {
		return nil, bad(err.Error())
	}
	if why := checkBounds(opt); why != "" {
		return nil, bad(why)
	}
	if opt.Interval < 0 || opt.Interval > maxInterval {
		return nil, bad("INTERVAL out of range")
	}
	if seen["COUNT"] && opt.Count < 1 {
		return nil, bad("COUNT must be positive")
	}
	r := &ruleSpec{
		freq:       opt.Freq,
		interval:   max(opt.Interval, 1),
		count:      opt.Count,
		wkst:       time.Monday, // RFC 5545 §3.3.10: WKST defaults to MO
		bymonth:    uniq(opt.Bymonth),
		byweekno:   uniq(opt.Byweekno),
		byyearday:  uniq(opt.Byyearday),
		bymonthday: uniq(opt.Bymonthday),
		byhour:     uniq(opt.Byhour),
		byminute:   uniq(opt.Byminute),
		bysecond:   uniq(opt.Bysecond),
		bysetpos:   uniq(opt.Bysetpos),
	}
	if seen["WKST"] {
		r.wkst = rruleWeekday(opt.Wkst.Day())
	}
	for _, w := range opt.Byweekday {
		wn := weekdayN{wd: rruleWeekday(w.Day()), n: w.N()}
		// RFC 5545 §3.3.10: an ordinal BYDAY only has a meaning with
		// MONTHLY or YEARLY; elsewhere it is read as the plain weekday.
		if r.freq != rrule.MONTHLY && r.freq != rrule.YEARLY {
			wn.n = 0
		}
		if !slices.Contains(r.byday, wn) {
			r.byday = append(r.byday, wn)
		}
	}
	r.nthScopeMonth = r.freq == rrule.MONTHLY || (r.freq == rrule.YEARLY && len(r.bymonth) > 0)
	if r.freq != rrule.YEARLY {
		// RFC 5545 §3.3.10: BYWEEKNO "MUST NOT be used when the FREQ
		// rule part is set to anything other than YEARLY".
		r.byweekno = nil
	}
	if untilText != "" {
		u, err := untilWall(untilText, start, z, viewer)
		if err != nil {
			return nil, bad("UNTIL: " + err.Error())
		}
		r.until = u
	}
	// RFC 5545 §3.3.10: without BYxxx day rules the day comes from
	// DTSTART (yearly: its month and day; monthly: its day of month;
	// weekly: its weekday); without BYHOUR/BYMINUTE/BYSECOND the time does.
	sw := start.wall
	if len(r.byweekno) == 0 && len(r.byyearday) == 0 && len(r.bymonthday) == 0 && len(r.byday) == 0 {
		switch r.freq {
		case rrule.YEARLY:
			if len(r.bymonth) == 0 {
				r.bymonth = []int{int(sw.Month())}
			}
			r.bymonthday = []int{sw.Day()}
		case rrule.MONTHLY:
			r.bymonthday = []int{sw.Day()}
		case rrule.WEEKLY:
			r.byday = []weekdayN{{wd: sw.Weekday()}}
		}
	}
	if r.freq < rrule.HOURLY && len(r.byhour) == 0 {
		r.byhour = []int{sw.Hour()}
	}
	if r.freq < rrule.MINUTELY && len(r.byminute) == 0 {
		r.byminute = []int{sw.Minute()}
	}
	if r.freq < rrule.SECONDLY && len(r.bysecond) == 0 {
		r.bysecond = []int{sw.Second()}
	}
	return r, nil
}

// checkBounds applies the value ranges of RFC 5545 §3.3.10 (recur-rule-part
// grammar). rrule.NewRRule checks the same, but it also builds the rule,
// whose time set is the product of BYHOUR, BYMINUTE and BYSECOND with their
// duplicates: a short hostile rule makes it allocate billions of times.
func checkBounds(o *rrule.ROption) string {
	in := func(list []int, lo, hi int, signed bool) bool {
		for _, v := range list {
			if signed && v < 0 {
				v = -v
			}
			if v < lo || v > hi {
				return false
			}
		}
		return true
	}
	switch {
	case !in(o.Bysecond, 0, 60, false): // 60: a leap second
		return "BYSECOND out of range"
	case !in(o.Byminute, 0, 59, false):
		return "BYMINUTE out of range"
	case !in(o.Byhour, 0, 23, false):
		return "BYHOUR out of range"
	case !in(o.Bymonthday, 1, 31, true):
		return "BYMONTHDAY out of range"
	case !in(o.Byyearday, 1, 366, true):
		return "BYYEARDAY out of range"
	case !in(o.Byweekno, 1, 53, true):
		return "BYWEEKNO out of range"
	case !in(o.Bymonth, 1, 12, false):
		return "BYMONTH out of range"
	case !in(o.Bysetpos, 1, 366, true):
		return "BYSETPOS out of range"
	}
	for _, w := range o.Byweekday {
		if n := w.N(); n > 53 || n < -53 {
			return "BYDAY ordinal out of range"
		}
	}
	return ""
}

// untilWall converts an UNTIL value into the frame of DTSTART. RFC 5545
// §3.3.10: with a DATE DTSTART, UNTIL is a DATE; with a floating DTSTART, a
// floating DATE-TIME; otherwise it "MUST be specified as a date with UTC
// time". Clients break the last rule often (a DATE UNTIL on a timed rule, a
// floating one on a zoned rule); those are read leniently: a DATE bounds
// through the end of that day, a floating value is read in DTSTART's zone.
func untilWall(s string, start dtValue, z *Zones, viewer *time.Location) (time.Time, error) {
	v, err := parseDT(s, false, "", z)
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case v.kind == kindDate && start.kind != kindDate:
		return v.wall.AddDate(0, 0, 1).Add(-time.Second), nil
	case v.kind == kindUTC && start.kind != kindUTC:
		return wallOf(v.wall, start.zoneFor(viewer)), nil
	case v.kind != kindUTC && start.kind == kindUTC:
		return v.wall, nil
	}
	return v.wall, nil
}

func rruleWeekday(d int) time.Weekday { return time.Weekday((d + 1) % 7) }

func uniq(v []int) []int {
	if len(v) == 0 {
		return nil
	}
	out := slices.Clone(v)
	slices.Sort(out)
	return slices.Compact(out)
}

// periodUnit is the length of one sub-daily period.
func (r *ruleSpec) periodUnit() time.Duration {
	switch r.freq {
	case rrule.DAILY:
		return 24 * time.Hour
	case rrule.HOURLY:
		return time.Hour
	case rrule.MINUTELY:
		return time.Minute
	}
	return time.Second
}

// reachable reports whether a sub-daily rule can ever reach a time of day
// BYHOUR, BYMINUTE and BYSECOND allow: period starts step by INTERVAL units
// from DTSTART, so their time of day stays in one residue class modulo
// gcd(INTERVAL×unit, 1 day). FREQ=HOURLY;INTERVAL=24;BYHOUR=5 with DTSTART
// at 09:00 never matches.
func (r *ruleSpec) reachable(base time.Time) bool {
	if r.freq < rrule.HOURLY || (len(r.byhour) == 0 && len(r.byminute) == 0 && len(r.bysecond) == 0) {
		return true
	}
	unit := int64(r.periodUnit() / time.Second)
	g := gcd(int64(r.interval)*unit, 86400)
	if g == 1 {
		return true // every second of the day is reached
	}
	tod := int64(base.Hour()*3600 + base.Minute()*60 + base.Second())
	for t := tod % g; t < 86400; t += g {
		h, m, s := int(t/3600), int(t/60%60), int(t%60)
		if len(r.byhour) > 0 && !slices.Contains(r.byhour, h) {
			continue
		}
		if r.freq >= rrule.MINUTELY && len(r.byminute) > 0 && !slices.Contains(r.byminute, m) {
			continue
		}
		if r.freq == rrule.SECONDLY && len(r.bysecond) > 0 && !slices.Contains(r.bysecond, s) {
			continue
		}
		return true
	}
	return false
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// ruleIter produces the occurrences of one ruleSpec in ascending order, as
// calendar fields in the DTSTART frame. Every period it looks at, every
// 16 days it filters and every candidate it produces costs one unit of the
// expander's work budget.
type ruleIter struct {
	r       *ruleSpec
	x       *expander
	dtstart time.Time
	base    time.Time // period 0: DTSTART truncated to the period
	k       int64     // next period index
	counted int       // occurrences so far, for COUNT
	buf     []time.Time
	done    bool
}

func newRuleIter(r *ruleSpec, dtstart time.Time, x *expander) *ruleIter {
	it := &ruleIter{r: r, x: x, dtstart: dtstart}
	y, m, d := dtstart.Date()
	switch r.freq {
	case rrule.YEARLY:
		it.base = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	case rrule.MONTHLY:
		it.base = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	case rrule.WEEKLY:
		day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		back := (int(day.Weekday()) - int(r.wkst) + 7) % 7
		it.base = day.AddDate(0, 0, -back)
	case rrule.DAILY:
		it.base = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	default:
		it.base = dtstart.Truncate(r.periodUnit())
	}
	it.done = r.impossibleDay(dtstart) || !r.reachable(it.base)
	return it
}

// impossibleDay reports day rules no date can satisfy, so the rule never
// produces anything and need not be walked to the year 9999:
// BYMONTH=2;BYMONTHDAY=30, or FREQ=DAILY;INTERVAL=7;BYDAY=TU from a Monday.
func (r *ruleSpec) impossibleDay(dtstart time.Time) bool {
	if len(r.bymonthday) > 0 {
		months := r.bymonth
		if len(months) == 0 {
			months = []int{1}
		}
		possible := false
		for _, m := range months {
			for _, md := range r.bymonthday {
				if md <= monthLen(2000, m) && -md <= monthLen(2000, m) { // 2000: Feb has 29
					possible = true
				}
			}
		}
		if !possible {
			return true
		}
	}
	if r.freq == rrule.DAILY && r.interval%7 == 0 && len(r.byday) > 0 {
		for _, w := range r.byday {
			if w.wd == dtstart.Weekday() {
				return false
			}
		}
		return true
	}
	return false
}

// skipTo moves the iterator past periods that end before from. Only valid
// without COUNT, which needs every earlier occurrence counted.
func (it *ruleIter) skipTo(from time.Time) {
	if it.r.count > 0 || !from.After(it.base) {
		return
	}
	var k int64
	iv := int64(it.r.interval)
	switch it.r.freq {
	case rrule.YEARLY:
		k = int64(from.Year()-it.base.Year()) / iv
	case rrule.MONTHLY:
		months := int64(from.Year()-it.base.Year())*12 + int64(from.Month()-it.base.Month())
		k = months / iv
	case rrule.WEEKLY:
		k = int64(from.Sub(it.base)/(7*24*time.Hour)) / iv
	case rrule.DAILY:
		k = int64(from.Sub(it.base)/(24*time.Hour)) / iv
	default:
		k = int64(from.Sub(it.base)/it.r.periodUnit()) / iv
	}
	k-- // one period of slack: a period's candidates lie within it
	if k > it.k {
		it.k = k
	}
}

// periodStart returns the first day (or instant, sub-daily) of period k.
func (it *ruleIter) periodStart(k int64) (time.Time, bool) {
	n := k * int64(it.r.interval)
	const maxYears = 10000
	switch it.r.freq {
	case rrule.YEARLY:
		if n > maxYears {
			return time.Time{}, false
		}
		return it.base.AddDate(int(n), 0, 0), true
	case rrule.MONTHLY:
		if n > maxYears*12 {
			return time.Time{}, false
		}
		return it.base.AddDate(0, int(n), 0), true
	case rrule.WEEKLY:
		if n > maxYears*53 {
			return time.Time{}, false
		}
		return it.base.AddDate(0, 0, int(n)*7), true
	case rrule.DAILY:
		if n > maxYears*366 {
			return time.Time{}, false
		}
		return it.base.AddDate(0, 0, int(n)), true
	default:
		unit := int64(it.r.periodUnit() / time.Second)
		if n > maxYears*366*86400/unit {
			return time.Time{}, false
		}
		return it.base.Add(time.Duration(n*unit) * time.Second), true
	}
}

// next returns the next occurrence at or before stop (zero: no stop).
func (it *ruleIter) next(stop time.Time) (time.Time, bool, error) {
	for len(it.buf) == 0 {
		if it.done {
			return time.Time{}, false, nil
		}
		if err := it.x.step(); err != nil {
			return time.Time{}, false, err
		}
		ps, ok := it.periodStart(it.k)
		if !ok || ps.Year() > 9999 || (!stop.IsZero() && ps.After(stop)) ||
			(!it.r.until.IsZero() && ps.After(it.r.until)) {
			it.done = true
			return time.Time{}, false, nil
		}
		if it.r.freq == rrule.DAILY {
			if c := civilOf(ps); !it.dayOK(c) {
				next, err := it.nextDay(c)
				if err != nil {
					return time.Time{}, false, err
				}
				it.jumpTo(next)
				continue
			}
		}
		var err error
		if it.r.freq >= rrule.HOURLY {
			err = it.subDaily(ps)
		} else {
			it.k++
			err = it.fill(ps)
		}
		if err != nil {
			return time.Time{}, false, err
		}
	}
	t := it.buf[0]
	it.buf = it.buf[1:]
	return t, true, nil
}

// emit appends the candidates of one period (sorted) after BYSETPOS,
// DTSTART, UNTIL and COUNT.
func (it *ruleIter) emit(cands []time.Time) error {
	r := it.r
	if len(r.bysetpos) > 0 {
		// RFC 5545 §3.3.10: BYSETPOS "specifies a COMMA-separated list
		// of values that corresponds to the nth occurrence within the
		// set of recurrence instances specified by the rule", within the
		// interval of FREQ.
		var sel []time.Time
		for _, pos := range r.bysetpos {
			i := pos - 1
			if pos < 0 {
				i = len(cands) + pos
			}
			if i >= 0 && i < len(cands) {
				sel = append(sel, cands[i])
			}
		}
		slices.SortFunc(sel, func(a, b time.Time) int { return a.Compare(b) })
		cands = slices.CompactFunc(sel, func(a, b time.Time) bool { return a.Equal(b) })
	}
	for _, c := range cands {
		if c.Before(it.dtstart) {
			continue
		}
		if !r.until.IsZero() && c.After(r.until) {
			it.done = true
			return nil
		}
		if err := it.x.step(); err != nil {
			return err
		}
		it.buf = append(it.buf, c)
		it.counted++
		if r.count > 0 && it.counted >= r.count {
			it.done = true
			return nil
		}
	}
	return nil
}

// fill produces the candidates of one YEARLY, MONTHLY, WEEKLY or DAILY
// period that starts on day ps.
func (it *ruleIter) fill(ps time.Time) error {
	r := it.r
	var days []time.Time
	var from, to time.Time // [from, to) days of the period
	switch r.freq {
	case rrule.YEARLY:
		from, to = ps, ps.AddDate(1, 0, 0)
		if len(r.byweekno) > 0 {
			return it.fillWeekNo(ps)
		}
	case rrule.MONTHLY:
		from, to = ps, ps.AddDate(0, 1, 0)
	case rrule.WEEKLY:
		from, to = ps, ps.AddDate(0, 0, 7)
	default:
		from, to = ps, ps.AddDate(0, 0, 1)
	}
	c := civilOf(from)
	ndays := int(to.Sub(from) / (24 * time.Hour))
	examined := 0
	for i := 0; i < ndays; {
		// A month BYMONTH leaves out is skipped whole.
		if len(r.bymonth) > 0 && !slices.Contains(r.bymonth, c.m) {
			i += c.nextMonth()
			continue
		}
		examined++
		if it.dayOK(c) {
			days = append(days, c.time())
		}
		c.next()
		i++
	}
	if err := it.x.charge(examined / 16); err != nil {
		return err
	}
	return it.emitDays(days)
}

// emitDays expands days with their times and emits them, charging the size
// of the candidate set first: BYHOUR×BYMINUTE×BYSECOND on every day of a
// year is 31 million candidates.
func (it *ruleIter) emitDays(days []time.Time) error {
	r := it.r
	if err := it.x.charge(len(days) * len(r.byhour) * len(r.byminute) * len(r.bysecond) / 16); err != nil {
		return err
	}
	return it.emit(it.withTimes(days))
}

// fillWeekNo produces a YEARLY period with BYWEEKNO: RFC 5545 §3.3.10,
// "Week number one of the calendar year is the first week that contains at
// least four (4) days in that calendar year", weeks starting on WKST. The
// days of a numbered week belong to the year even when they spill into the
// next or previous one.
func (it *ruleIter) fillWeekNo(ps time.Time) error {
	r := it.r
	year := ps.Year()
	w1 := weekOneStart(year, r.wkst)
	weeks := int(weekOneStart(year+1, r.wkst).Sub(w1) / (7 * 24 * time.Hour))
	var days []time.Time
	for _, wn := range r.byweekno {
		if wn < 0 {
			wn = weeks + 1 + wn
		}
		if wn < 1 || wn > weeks {
			continue
		}
		ws := w1.AddDate(0, 0, (wn-1)*7)
		for i := 0; i < 7; i++ {
			d := ws.AddDate(0, 0, i)
			if it.dayOK(civilOf(d)) {
				days = append(days, d)
			}
		}
	}
	slices.SortFunc(days, func(a, b time.Time) int { return a.Compare(b) })
	days = slices.CompactFunc(days, func(a, b time.Time) bool { return a.Equal(b) })
	return it.emitDays(days)
}

func weekOneStart(year int, wkst time.Weekday) time.Time {
	jan1 := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	delta := (int(jan1.Weekday()) - int(wkst) + 7) % 7
	if delta <= 3 {
		return jan1.AddDate(0, 0, -delta)
	}
	return jan1.AddDate(0, 0, 7-delta)
}

// withTimes expands days with the BYHOUR×BYMINUTE×BYSECOND times (which
// default to DTSTART's time), sorted.
func (it *ruleIter) withTimes(days []time.Time) []time.Time {
	r := it.r
	out := make([]time.Time, 0, len(days)*len(r.byhour)*len(r.byminute)*len(r.bysecond))
	for _, d := range days {
		for _, h := range r.byhour {
			for _, m := range r.byminute {
				for _, s := range r.bysecond {
					out = append(out, d.Add(time.Duration(h)*time.Hour+time.Duration(m)*time.Minute+time.Duration(s)*time.Second))
				}
			}
		}
	}
	return out
}

// civil is a calendar day with the fields the day rules look at, advanced
// day by day without time.Time arithmetic.
type civil struct {
	y, m, md int // year, month, day of month
	wd       int // weekday, Sunday = 0
	yd       int // day of the year, from 1
	dim      int // days in the month
	ylen     int // days in the year
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func yearLen(y int) int {
	if isLeap(y) {
		return 366
	}
	return 365
}

func monthLen(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func civilOf(d time.Time) civil {
	y, m, md := d.Date()
	return civil{y: y, m: int(m), md: md, wd: int(d.Weekday()), yd: d.YearDay(), dim: monthLen(y, int(m)), ylen: yearLen(y)}
}

func (c *civil) next() {
	c.wd = (c.wd + 1) % 7
	c.md++
	c.yd++
	if c.md > c.dim {
		c.md = 1
		c.m++
		if c.m > 12 {
			c.m, c.yd = 1, 1
			c.y++
			c.ylen = yearLen(c.y)
		}
		c.dim = monthLen(c.y, c.m)
	}
}

// nextMonth advances to the first day of the next month and returns the
// number of days skipped.
func (c *civil) nextMonth() int {
	n := c.dim - c.md + 1
	c.wd = (c.wd + n) % 7
	c.md = 1
	c.yd += n
	c.m++
	if c.m > 12 {
		c.m, c.yd = 1, 1
		c.y++
		c.ylen = yearLen(c.y)
	}
	c.dim = monthLen(c.y, c.m)
	return n
}

func (c civil) time() time.Time {
	return time.Date(c.y, time.Month(c.m), c.md, 0, 0, 0, 0, time.UTC)
}

// dayOK applies the day rules (BYMONTH, BYMONTHDAY, BYYEARDAY, BYDAY) to d.
func (it *ruleIter) dayOK(d civil) bool {
	r := it.r
	if len(r.bymonth) > 0 && !slices.Contains(r.bymonth, d.m) {
		return false
	}
	if len(r.bymonthday) > 0 && !slices.Contains(r.bymonthday, d.md) && !slices.Contains(r.bymonthday, d.md-d.dim-1) {
		return false
	}
	if len(r.byyearday) > 0 && !slices.Contains(r.byyearday, d.yd) && !slices.Contains(r.byyearday, d.yd-d.ylen-1) {
		return false
	}
	if len(r.byday) > 0 {
		ok := false
		for _, w := range r.byday {
			if int(w.wd) != d.wd {
				continue
			}
			if w.n == 0 {
				ok = true
				break
			}
			// An ordinal counts within the month (MONTHLY, or YEARLY
			// with BYMONTH) or the year (RFC 5545 §3.3.10, BYDAY).
			var idx, nidx int
			if r.nthScopeMonth {
				idx, nidx = (d.md-1)/7+1, -((d.dim-d.md)/7 + 1)
			} else {
				idx, nidx = (d.yd-1)/7+1, -((d.ylen-d.yd)/7 + 1)
			}
			if w.n == idx || w.n == nidx {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// subDaily handles one HOURLY, MINUTELY or SECONDLY period starting at ps.
// Periods on days the day rules exclude, or at times BYHOUR/BYMINUTE/
// BYSECOND exclude, are skipped arithmetically to the first period that can
// match, each jump costing one unit of work.
func (it *ruleIter) subDaily(ps time.Time) error {
	r := it.r
	day := time.Date(ps.Year(), ps.Month(), ps.Day(), 0, 0, 0, 0, time.UTC)
	if c := civilOf(day); !it.dayOK(c) {
		next, err := it.nextDay(c)
		if err != nil {
			return err
		}
		it.jumpTo(next)
		return nil
	}
	tod := ps.Sub(day)
	next, ok := r.nextTimeOfDay(tod)
	if !ok {
		it.jumpTo(day.AddDate(0, 0, 1))
		return nil
	}
	if next != tod {
		it.jumpTo(day.Add(next))
		return nil
	}
	it.k++
	var cands []time.Time
	if err := it.x.charge(len(r.byminute) * len(r.bysecond) / 16); err != nil {
		return err
	}
	switch r.freq {
	case rrule.HOURLY:
		mins, secs := r.byminute, r.bysecond
		if len(mins) == 0 {
			mins = []int{it.dtstart.Minute()}
		}
		if len(secs) == 0 {
			secs = []int{it.dtstart.Second()}
		}
		for _, m := range mins {
			for _, s := range secs {
				cands = append(cands, ps.Add(time.Duration(m)*time.Minute+time.Duration(s)*time.Second))
			}
		}
	case rrule.MINUTELY:
		secs := r.bysecond
		if len(secs) == 0 {
			secs = []int{it.dtstart.Second()}
		}
		for _, s := range secs {
			cands = append(cands, ps.Add(time.Duration(s)*time.Second))
		}
	default:
		cands = []time.Time{ps}
	}
	return it.emit(cands)
}

// nextDay returns the first day after c that the day rules allow, scanning
// day by day (a month BYMONTH leaves out at once), one unit of work per 16
// days.
func (it *ruleIter) nextDay(c civil) (time.Time, error) {
	r := it.r
	for n := 1; c.y <= 9999; n++ {
		if len(r.bymonth) > 0 && !slices.Contains(r.bymonth, c.m) {
			c.nextMonth()
		} else {
			c.next()
		}
		if n%16 == 0 {
			if err := it.x.step(); err != nil {
				return time.Time{}, err
			}
		}
		if it.dayOK(c) {
			break
		}
	}
	return c.time(), nil
}

// jumpTo moves k to the first period starting at or after t.
func (it *ruleIter) jumpTo(t time.Time) {
	step := it.r.periodUnit() * time.Duration(it.r.interval)
	d := t.Sub(it.base)
	k := int64((d + step - 1) / step)
	if k <= it.k {
		k = it.k + 1
	}
	it.k = k
}

// nextTimeOfDay returns the earliest period start at or after tod (within
// the day) that BYHOUR, BYMINUTE and BYSECOND allow as a period of r's
// frequency; false when none is left that day.
func (r *ruleSpec) nextTimeOfDay(tod time.Duration) (time.Duration, bool) {
	h, m, s := int(tod/time.Hour), int(tod%time.Hour/time.Minute), int(tod%time.Minute/time.Second)
	allowed := func(list []int, v int) bool { return len(list) == 0 || slices.Contains(list, v) }
	firstFrom := func(list []int, v, limit int) (int, bool) {
		if len(list) == 0 {
			if v < limit {
				return v, true
			}
			return 0, false
		}
		for _, x := range list {
			if x >= v && x < limit {
				return x, true
			}
		}
		return 0, false
	}
	at := func(h, m, s int) time.Duration {
		return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
	}
	switch r.freq {
	case rrule.HOURLY:
		nh, ok := firstFrom(r.byhour, h, 24)
		if !ok {
			return 0, false
		}
		if nh == h {
			return tod, true
		}
		return at(nh, 0, 0), true
	case rrule.MINUTELY:
		for hh := h; hh < 24; hh++ {
			if !allowed(r.byhour, hh) {
				continue
			}
			from := 0
			if hh == h {
				from = m
			}
			if nm, ok := firstFrom(r.byminute, from, 60); ok {
				if hh == h && nm == m {
					return tod, true
				}
				return at(hh, nm, 0), true
			}
		}
		return 0, false
	default:
		for hh := h; hh < 24; hh++ {
			if !allowed(r.byhour, hh) {
				continue
			}
			for mm := 0; mm < 60; mm++ {
				if (hh == h && mm < m) || !allowed(r.byminute, mm) {
					continue
				}
				from := 0
				if hh == h && mm == m {
					from = s
				}
				if ns, ok := firstFrom(r.bysecond, from, 60); ok {
					return at(hh, mm, ns), true
				}
			}
		}
		return 0, false
	}
}
