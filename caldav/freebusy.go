package caldav

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/internal/contentline"
	"github.com/davenport-dav/davenport/internal/recur"
)

// Free-busy types (RFC 5545 §3.2.9), in increasing order of precedence when
// periods of different types overlap.
const (
	fbBusyTentative   = "BUSY-TENTATIVE"
	fbBusyUnavailable = "BUSY-UNAVAILABLE"
	fbBusy            = "BUSY"
)

type busyPeriod struct {
	start, end time.Time
	fbtype     string
}

// FreeBusy builds the busy time (RFC 4791 §7.10) of the calendar objects in
// cals within [start, end) and encodes it as a VCALENDAR holding one
// VFREEBUSY, with DTSTART/DTEND set to the range and one FREEBUSY period per
// line, in UTC, merged and ordered. Floating and all-day times are read in
// loc. Limits apply per object.
//
// RFC 4791 §7.10: the busy time comes from VEVENTs that are not TRANSP
// TRANSPARENT and not STATUS CANCELLED (BUSY-TENTATIVE for STATUS TENTATIVE,
// BUSY otherwise), and from the FREEBUSY properties of VFREEBUSY components
// (their FBTYPE, BUSY by default; FREE periods are not busy time). Instances
// that take no time contribute nothing.
func FreeBusy(cals []*ical.Calendar, start, end time.Time, loc *time.Location, lim recur.Limits) ([]byte, error) {
	b := newBusyTime(start, end, loc, lim)
	for _, cal := range cals {
		if err := b.add(cal); err != nil {
			return nil, err
		}
	}
	return b.encode(time.Now()), nil
}

// busyTime accumulates the busy time of calendar objects added one at a
// time, merging as it goes: what it holds is bounded by the distinct busy
// periods in the range, not by the number of objects or instances added.
type busyTime struct {
	start, end time.Time
	loc        *time.Location
	lim        recur.Limits
	busy       []busyPeriod
	merged     int // len(busy) after the last merge
}

func newBusyTime(start, end time.Time, loc *time.Location, lim recur.Limits) *busyTime {
	return &busyTime{start: start.UTC().Truncate(time.Second), end: end.UTC().Truncate(time.Second), loc: loc, lim: lim}
}

// add folds in the busy time of one calendar object.
func (b *busyTime) add(cal *ical.Calendar) error {
	if cal == nil || cal.Component == nil {
		return nil
	}
	events := false
	for _, c := range cal.Children {
		switch c.Name {
		case ical.CompEvent:
			events = true
		case ical.CompFreeBusy:
			b.busy = append(b.busy, freeBusyPeriods(c, b.start, b.end, b.loc)...)
		}
	}
	if events {
		ins, err := recur.Instances(cal, b.start, b.end, b.loc, b.lim)
		if err != nil {
			return err
		}
		for _, in := range ins {
			b.busy = append(b.busy, eventBusy(in, b.start, b.end)...)
		}
	}
	// Merging what is held with what came since flattens it again; doing
	// so whenever it has doubled keeps the work linear overall.
	if len(b.busy) > 2*b.merged+64 {
		b.busy = mergeBusy(b.busy)
		b.merged = len(b.busy)
	}
	return nil
}

// encode writes the VCALENDAR of the busy time, stamped now.
func (b *busyTime) encode(now time.Time) []byte {
	return encodeFreeBusy(mergeBusy(b.busy), b.start, b.end, now, "", nil)
}

// clipBusy returns the busy period [s, e) of type typ clipped to the range,
// if anything is left.
func clipBusy(s, e time.Time, typ string, start, end time.Time) []busyPeriod {
	if s.Before(start) {
		s = start
	}
	if e.After(end) {
		e = end
	}
	if !e.After(s) {
		return nil
	}
	return []busyPeriod{{s.UTC(), e.UTC(), typ}}
}

// eventBusy returns the busy period of one VEVENT instance.
func eventBusy(in recur.Instance, start, end time.Time) []busyPeriod {
	c := in.Component
	if c.Name != ical.CompEvent || strings.EqualFold(firstValue(c, ical.PropTransparency), "TRANSPARENT") {
		return nil
	}
	typ := fbBusy
	switch strings.ToUpper(firstValue(c, ical.PropStatus)) {
	case "CANCELLED":
		return nil
	case "TENTATIVE":
		typ = fbBusyTentative
	}
	return clipBusy(in.Start, in.End, typ, start, end)
}

// freeBusyPeriods returns the busy periods of a VFREEBUSY: its FREEBUSY
// properties, whatever its DTSTART/DTEND (they bound the published window,
// they are not busy time), typed by FBTYPE (RFC 5545 §3.2.9: BUSY by
// default, FREE is not busy, unknown types count as BUSY).
func freeBusyPeriods(c *ical.Component, start, end time.Time, loc *time.Location) []busyPeriod {
	z := recur.NewZones(nil)
	var out []busyPeriod
	for i := range c.Props.Values(ical.PropFreeBusy) {
		p := &c.Props.Values(ical.PropFreeBusy)[i]
		typ := strings.ToUpper(p.Params.Get(ical.ParamFreeBusyType))
		switch typ {
		case "FREE":
			continue
		case fbBusyTentative, fbBusyUnavailable:
		default:
			typ = fbBusy
		}
		ps, err := z.Periods(p, loc)
		if err != nil {
			continue
		}
		for _, pr := range ps {
			out = append(out, clipBusy(pr.Start, pr.End, typ, start, end)...)
		}
	}
	return out
}

func fbRank(typ string) int {
	switch typ {
	case fbBusy:
		return 3
	case fbBusyUnavailable:
		return 2
	}
	return 1
}

// mergeBusy flattens overlapping periods: where periods overlap the
// strongest type wins (BUSY over BUSY-UNAVAILABLE over BUSY-TENTATIVE), and
// adjacent or overlapping periods of one type are joined.
func mergeBusy(ps []busyPeriod) []busyPeriod {
	if len(ps) == 0 {
		return nil
	}
	// Sweep over the boundaries, keeping the strongest type in force.
	type edge struct {
		t     time.Time
		rank  int
		delta int
	}
	var edges []edge
	for _, p := range ps {
		edges = append(edges, edge{p.start, fbRank(p.fbtype), +1}, edge{p.end, fbRank(p.fbtype), -1})
	}
	slices.SortFunc(edges, func(a, b edge) int { return a.t.Compare(b.t) })
	names := map[int]string{1: fbBusyTentative, 2: fbBusyUnavailable, 3: fbBusy}
	var open [4]int
	var out []busyPeriod
	cur, curStart := 0, time.Time{}
	for i := 0; i < len(edges); {
		t := edges[i].t
		for ; i < len(edges) && edges[i].t.Equal(t); i++ {
			open[edges[i].rank] += edges[i].delta
		}
		top := 0
		for r := 3; r >= 1; r-- {
			if open[r] > 0 {
				top = r
				break
			}
		}
		if top == cur {
			continue
		}
		if cur != 0 && t.After(curStart) {
			if n := len(out); n > 0 && out[n-1].fbtype == names[cur] && out[n-1].end.Equal(curStart) {
				out[n-1].end = t
			} else {
				out = append(out, busyPeriod{curStart, t, names[cur]})
			}
		}
		cur, curStart = top, t
	}
	return out
}

const utcFormat = "20060102T150405Z"

// encodeFreeBusy writes the VCALENDAR, with METHOD method when not "" and
// the content lines extra in the VFREEBUSY (an iTIP reply's UID, ORGANIZER
// and ATTENDEE, folded as needed). Its own lines stay under the 75-octet
// limit of RFC 5545 §3.1, one period per FREEBUSY line.
func encodeFreeBusy(ps []busyPeriod, start, end, now time.Time, method string, extra []string) []byte {
	var b bytes.Buffer
	line := func(s string) { b.WriteString(s); b.WriteString("\r\n") }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Davenport//CalDAV Server//EN")
	if method != "" {
		line("METHOD:" + method)
	}
	line("BEGIN:VFREEBUSY")
	for _, l := range extra {
		contentline.WriteFolded(&b, l)
	}
	line("DTSTAMP:" + now.UTC().Format(utcFormat))
	line("DTSTART:" + start.Format(utcFormat))
	line("DTEND:" + end.Format(utcFormat))
	for _, p := range ps {
		prefix := "FREEBUSY"
		if p.fbtype != fbBusy {
			prefix += ";FBTYPE=" + p.fbtype
		}
		line(prefix + ":" + p.start.Format(utcFormat) + "/" + p.end.Format(utcFormat))
	}
	line("END:VFREEBUSY")
	line("END:VCALENDAR")
	return b.Bytes()
}
