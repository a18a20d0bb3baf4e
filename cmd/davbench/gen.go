package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// The data generator. Item i is a pure function of (seed, i): it does not
// depend on the order in which concurrent workers ask for items, so every
// server in a run, and every run with the same seed, stores the same bytes,
// and the tool can compute what a query must answer.

// eventKind is the shape of a generated event.
type eventKind int

const (
	kindSingle eventKind = iota // one occurrence, UTC times
	kindWeekly                  // RRULE:FREQ=WEEKLY;COUNT=2..5, UTC times
	kindZoned                   // one occurrence in a zone defined by its own VTIMEZONE
)

func (k eventKind) String() string {
	switch k {
	case kindSingle:
		return "single"
	case kindWeekly:
		return "weekly"
	case kindZoned:
		return "zoned"
	}
	return fmt.Sprintf("eventKind(%d)", int(k))
}

// kindOf spreads the kinds exactly 16:3:1 over every 20 consecutive items:
// 80% single, 15% weekly recurring, 5% with their own VTIMEZONE.
func kindOf(i int) eventKind {
	switch r := i % 20; {
	case r < 16:
		return kindSingle
	case r < 19:
		return kindWeekly
	default:
		return kindZoned
	}
}

// spreadWeeks is the half-width of the spread of first occurrences around
// the anchor: ±1 year, in whole weeks.
const spreadWeeks = 52

// generator makes events and vCards deterministically.
type generator struct {
	seed   uint64
	anchor time.Time // a Monday, 00:00 UTC: the centre of the spread
}

func newGenerator(seed uint64) generator {
	return generator{seed: seed, anchor: time.Date(2026, time.January, 5, 0, 0, 0, 0, time.UTC)}
}

func (g generator) rng(i int, salt uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.seed^salt, uint64(i)))
}

// event is one generated calendar object resource.
type event struct {
	Index int
	Kind  eventKind
	Name  string // resource name in the calendar
	UID   string
	// Start and End bound the first occurrence, in UTC.
	Start, End time.Time
	// Count is the number of weekly occurrences (1 for non-recurring).
	Count int
	// local start/end wall clock for kindZoned (the bytes carry these).
	localStart, localEnd time.Time
	summary              string
}

// Resource names are the UID plus the usual extension, as most clients
// name them; a server that files whole-collection uploads by UID (Radicale)
// then gives them the same names (see --fill).
func eventUID(i int) string  { return fmt.Sprintf("davbench-e%d", i) }
func cardUID(i int) string   { return fmt.Sprintf("davbench-c%d", i) }
func eventName(i int) string { return eventUID(i) + ".ics" }
func cardName(i int) string  { return cardUID(i) + ".vcf" }

// event returns item i of the calendar.
func (g generator) event(i int) event {
	r := g.rng(i, 0x65766e74) // "evnt"
	e := event{Index: i, Kind: kindOf(i), Name: eventName(i), UID: eventUID(i), Count: 1}
	day := r.IntN(2*spreadWeeks*7) - spreadWeeks*7
	minutes := 15 * (2 + r.IntN(7)) // 30..120 minutes
	e.summary = fmt.Sprintf("%s %s", words[r.IntN(len(words))], words[r.IntN(len(words))])
	date := g.anchor.AddDate(0, 0, day)
	switch e.Kind {
	case kindSingle, kindWeekly:
		// 06:00-16:45 UTC: never near the UTC midnight that bounds a query week.
		e.Start = date.Add(time.Duration(6*60+15*r.IntN(44)) * time.Minute)
		e.End = e.Start.Add(time.Duration(minutes) * time.Minute)
		if e.Kind == kindWeekly {
			e.Count = 2 + r.IntN(4)
		}
	case kindZoned:
		// 08:00-16:45 local, that is 06:00-15:45 UTC in either offset.
		e.localStart = time.Date(date.Year(), date.Month(), date.Day(), 8+r.IntN(9), 15*r.IntN(4), 0, 0, time.UTC)
		e.localEnd = e.localStart.Add(time.Duration(minutes) * time.Minute)
		off := centralOffset(e.localStart)
		e.Start = e.localStart.Add(-off)
		e.End = e.localEnd.Add(-off)
	}
	return e
}

// Overlaps reports whether any occurrence of e overlaps [start, end), the
// RFC 4791 §9.9 test for a VEVENT with DTEND.
func (e event) Overlaps(start, end time.Time) bool {
	for k := 0; k < e.Count; k++ {
		s, en := e.Start.AddDate(0, 0, 7*k), e.End.AddDate(0, 0, 7*k)
		if s.Before(end) && en.After(start) {
			return true
		}
	}
	return false
}

// weekRange is query week w (-52..51): seven days from the anchor's Monday
// plus w weeks, in UTC.
func (g generator) weekRange(w int) (time.Time, time.Time) {
	s := g.anchor.AddDate(0, 0, 7*w)
	return s, s.AddDate(0, 0, 7)
}

// narrowRange is 1,000/n of week w (the whole week for n ≤ 1,000), from the
// Wednesday at 06:00, when events begin to start: the n events spread over
// the same two years, so it holds about as many of them at any n as a week
// holds at n = 1,000 (up to twice as many, since events start only in the
// daytime).
func (g generator) narrowRange(w, n int) (time.Time, time.Time) {
	s, e := g.weekRange(w)
	if n <= 1000 {
		return s, e
	}
	s = s.AddDate(0, 0, 2).Add(6 * time.Hour)
	return s, s.Add(7 * 24 * time.Hour * 1000 / time.Duration(n))
}

// queryWeek maps a request number onto the weeks of the spread, stepping by
// a prime so consecutive requests touch distant weeks.
func queryWeek(k int) int {
	return (k*37)%(2*spreadWeeks) - spreadWeeks
}

const icalTime = "20060102T150405"

// ICS renders e at revision rev (0 when first stored; updates bump it and
// change SUMMARY and SEQUENCE, never the times).
func (e event) ICS(rev int) []byte {
	var b strings.Builder
	b.WriteString(icsHeader)
	if e.Kind == kindZoned {
		b.WriteString(centralVTIMEZONE)
	}
	e.writeVEVENT(&b, rev)
	b.WriteString("END:VCALENDAR\r\n")
	return []byte(b.String())
}

const icsHeader = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//davbench//EN\r\nCALSCALE:GREGORIAN\r\n"

func (e event) writeVEVENT(b *strings.Builder, rev int) {
	b.WriteString("BEGIN:VEVENT\r\n")
	fmt.Fprintf(b, "UID:%s\r\n", e.UID)
	b.WriteString("DTSTAMP:20260101T000000Z\r\n")
	switch e.Kind {
	case kindZoned:
		fmt.Fprintf(b, "DTSTART;TZID=%s:%s\r\n", centralTZID, e.localStart.Format(icalTime))
		fmt.Fprintf(b, "DTEND;TZID=%s:%s\r\n", centralTZID, e.localEnd.Format(icalTime))
	default:
		fmt.Fprintf(b, "DTSTART:%sZ\r\n", e.Start.Format(icalTime))
		fmt.Fprintf(b, "DTEND:%sZ\r\n", e.End.Format(icalTime))
	}
	if e.Kind == kindWeekly {
		fmt.Fprintf(b, "RRULE:FREQ=WEEKLY;COUNT=%d\r\n", e.Count)
	}
	if rev > 0 {
		fmt.Fprintf(b, "SEQUENCE:%d\r\n", rev)
		fmt.Fprintf(b, "SUMMARY:%s (rev %d)\r\n", e.summary, rev)
	} else {
		fmt.Fprintf(b, "SUMMARY:%s\r\n", e.summary)
	}
	fmt.Fprintf(b, "DESCRIPTION:Generated by davbench\\, item %d.\r\n", e.Index)
	fmt.Fprintf(b, "LOCATION:Room %d\r\n", 100+e.Index%400)
	b.WriteString("END:VEVENT\r\n")
}

// wholeCalendar renders events as one iCalendar stream, with the shared
// VTIMEZONE once: the body of a whole-collection PUT (see --fill).
func wholeCalendar(events []event) []byte {
	var b strings.Builder
	b.WriteString(icsHeader)
	b.WriteString(centralVTIMEZONE)
	for _, e := range events {
		e.writeVEVENT(&b, 0)
	}
	b.WriteString("END:VCALENDAR\r\n")
	return []byte(b.String())
}

// centralTZID names a zone that is in no tz database, so a server has to
// evaluate the VTIMEZONE the event carries. Its rules are the EU's: UTC+1,
// and UTC+2 from the last Sunday of March to the last Sunday of October.
const centralTZID = "Davbench/Central"

const centralVTIMEZONE = "BEGIN:VTIMEZONE\r\n" +
	"TZID:" + centralTZID + "\r\n" +
	"BEGIN:DAYLIGHT\r\n" +
	"TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:DBST\r\n" +
	"DTSTART:19810329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n" +
	"END:DAYLIGHT\r\n" +
	"BEGIN:STANDARD\r\n" +
	"TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:DBT\r\n" +
	"DTSTART:19961027T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n" +
	"END:STANDARD\r\n" +
	"END:VTIMEZONE\r\n"

// centralOffset is the UTC offset of centralTZID at a local wall-clock time
// (given with time.UTC as its location) between 03:00 and 24:00, where no
// transition falls.
func centralOffset(local time.Time) time.Duration {
	y := local.Year()
	day := time.Date(y, local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	if !day.Before(lastSunday(y, time.March)) && day.Before(lastSunday(y, time.October)) {
		return 2 * time.Hour
	}
	return time.Hour
}

func lastSunday(year int, month time.Month) time.Time {
	d := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC) // last day of month
	return d.AddDate(0, 0, -int(d.Weekday()))
}

// card is one generated vCard.
type card struct {
	Index int
	Name  string
	UID   string
	Email string
	first string
	last  string
	phone string
}

// emailTagModulus makes each email-tag term match about 1% of the cards.
const emailTagModulus = 97

// emailTag is the term addressbook-query k searches for, and card i carries
// emailTag(i % emailTagModulus) in its EMAIL.
func emailTag(k int) string { return fmt.Sprintf("k%03dq", k%emailTagModulus) }

func (g generator) card(i int) card {
	r := g.rng(i, 0x63617264) // "card"
	c := card{Index: i, Name: cardName(i), UID: cardUID(i),
		first: firstNames[r.IntN(len(firstNames))], last: lastNames[r.IntN(len(lastNames))]}
	ascii := strings.NewReplacer("é", "e") // names keep their accents, addresses do not
	c.Email = fmt.Sprintf("%s.%s.%s@%s", ascii.Replace(strings.ToLower(c.first)), strings.ToLower(c.last),
		emailTag(i), domains[r.IntN(len(domains))])
	c.phone = fmt.Sprintf("+1-555-%03d-%04d", r.IntN(1000), r.IntN(10000))
	return c
}

// VCF renders c as a vCard 3.0 (RFC 2426), the version every CardDAV
// server accepts.
func (c card) VCF() []byte {
	var b strings.Builder
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Davenport//davbench//EN\r\n")
	fmt.Fprintf(&b, "UID:%s\r\n", c.UID)
	fmt.Fprintf(&b, "FN:%s %s\r\n", c.first, c.last)
	fmt.Fprintf(&b, "N:%s;%s;;;\r\n", c.last, c.first)
	fmt.Fprintf(&b, "EMAIL;TYPE=INTERNET:%s\r\n", c.Email)
	fmt.Fprintf(&b, "TEL;TYPE=CELL:%s\r\n", c.phone)
	fmt.Fprintf(&b, "ORG:%s %s\r\n", c.last, "Consulting")
	fmt.Fprintf(&b, "NOTE:Generated by davbench\\, card %d.\r\n", c.Index)
	b.WriteString("END:VCARD\r\n")
	return []byte(b.String())
}

var (
	words      = []string{"Planning", "Review", "Standup", "Lunch", "Workshop", "Call", "Retro", "Dentist", "Training", "Demo", "Sync", "Interview"}
	firstNames = []string{"Ada", "Bruno", "Chloé", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemal", "Lena", "Mateo", "Nora", "Omar", "Priya"}
	lastNames  = []string{"Alvarez", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura"}
	domains    = []string{"example.org", "example.com", "example.net", "mail.example.org"}
)
