package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin for the VTIMEZONE cross-check
)

func TestGeneratorDeterministic(t *testing.T) {
	a, b := newGenerator(7), newGenerator(7)
	for _, i := range []int{0, 1, 15, 16, 19, 999, 123456} {
		if !bytes.Equal(a.event(i).ICS(0), b.event(i).ICS(0)) {
			t.Errorf("event %d differs between two generators with one seed", i)
		}
		if !bytes.Equal(a.event(i).ICS(3), b.event(i).ICS(3)) {
			t.Errorf("event %d rev 3 differs between two generators with one seed", i)
		}
		if !bytes.Equal(a.card(i).VCF(), b.card(i).VCF()) {
			t.Errorf("card %d differs between two generators with one seed", i)
		}
	}
	// Order of generation does not matter: item i is a function of (seed, i).
	late := a.event(42).ICS(0)
	for i := range 100 {
		a.event(i)
	}
	if !bytes.Equal(late, a.event(42).ICS(0)) {
		t.Error("event 42 depends on what was generated before it")
	}
	// Another seed gives other data.
	other := newGenerator(8)
	same := 0
	for i := range 50 {
		if bytes.Equal(a.event(i).ICS(0), other.event(i).ICS(0)) {
			same++
		}
	}
	if same > 5 {
		t.Errorf("%d of 50 events identical under seeds 7 and 8", same)
	}
}

func TestGeneratorMix(t *testing.T) {
	g := newGenerator(1)
	counts := map[eventKind]int{}
	const n = 1000
	for i := range n {
		e := g.event(i)
		counts[e.Kind]++
		if e.Name != e.UID+".ics" {
			t.Fatalf("event %d: name %q is not UID %q + .ics", i, e.Name, e.UID)
		}
		if !e.End.After(e.Start) {
			t.Fatalf("event %d ends before it starts", i)
		}
		if d := e.Start.Sub(g.anchor); d < -366*24*time.Hour || d > 366*24*time.Hour {
			t.Fatalf("event %d starts %s from the anchor, outside ±1 year", i, d)
		}
		wantCount := e.Kind == kindWeekly
		if got := e.Count > 1; got != wantCount {
			t.Fatalf("event %d (%s) has COUNT %d", i, e.Kind, e.Count)
		}
	}
	want := map[eventKind]int{kindSingle: 800, kindWeekly: 150, kindZoned: 50}
	for k, w := range want {
		if counts[k] != w {
			t.Errorf("%s: %d of %d, want %d", k, counts[k], n, w)
		}
	}
}

// The zone the zoned events carry follows the EU rules, so Europe/Berlin
// (same rules since 1996) must agree on every date of the spread.
func TestCentralOffsetMatchesEURules(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	g := newGenerator(1)
	for d := -400; d <= 400; d++ {
		day := g.anchor.AddDate(0, 0, d)
		for _, hour := range []int{3, 8, 12, 16, 23} {
			local := time.Date(day.Year(), day.Month(), day.Day(), hour, 30, 0, 0, time.UTC)
			inBerlin := time.Date(day.Year(), day.Month(), day.Day(), hour, 30, 0, 0, berlin)
			_, off := inBerlin.Zone()
			if got, want := centralOffset(local), time.Duration(off)*time.Second; got != want {
				t.Fatalf("%s: offset %s, Europe/Berlin says %s", local.Format("2006-01-02 15:04"), got, want)
			}
		}
	}
}

func TestLastSunday(t *testing.T) {
	tests := []struct {
		year  int
		month time.Month
		want  string
	}{
		{2025, time.March, "2025-03-30"},
		{2025, time.October, "2025-10-26"},
		{2026, time.March, "2026-03-29"},
		{2026, time.October, "2026-10-25"},
		{2027, time.March, "2027-03-28"},
	}
	for _, tt := range tests {
		if got := lastSunday(tt.year, tt.month).Format(time.DateOnly); got != tt.want {
			t.Errorf("lastSunday(%d, %s) = %s, want %s", tt.year, tt.month, got, tt.want)
		}
	}
}

func TestOverlaps(t *testing.T) {
	mon := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	ev := event{Start: mon.Add(10 * time.Hour), End: mon.Add(11 * time.Hour), Count: 3}
	tests := []struct {
		name       string
		start, end time.Time
		want       bool
	}{
		{"first week", mon, mon.AddDate(0, 0, 7), true},
		{"third occurrence", mon.AddDate(0, 0, 14), mon.AddDate(0, 0, 21), true},
		{"after the last", mon.AddDate(0, 0, 21), mon.AddDate(0, 0, 28), false},
		{"before the first", mon.AddDate(0, 0, -7), mon, false},
		{"ends exactly at start", mon, mon.Add(10 * time.Hour), false},
		{"starts exactly at end", mon.Add(11 * time.Hour), mon.AddDate(0, 0, 1), false},
		{"inside", mon.Add(10*time.Hour + time.Minute), mon.Add(10*time.Hour + 2*time.Minute), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ev.Overlaps(tt.start, tt.end); got != tt.want {
				t.Errorf("Overlaps = %v, want %v", got, tt.want)
			}
		})
	}
}

// A one-week query must select about 1% of the items (issue 7), averaged
// over the weeks the bench asks for.
func TestWeekQuerySelectsAboutOnePercent(t *testing.T) {
	g := newGenerator(1)
	const n = 10000
	events := make([]event, n)
	for i := range events {
		events[i] = g.event(i)
	}
	total := 0
	weeks := 2 * spreadWeeks
	for w := -spreadWeeks; w < spreadWeeks; w++ {
		s, e := g.weekRange(w)
		for _, ev := range events {
			if ev.Overlaps(s, e) {
				total++
			}
		}
	}
	frac := float64(total) / float64(weeks) / n
	if frac < 0.008 || frac > 0.02 {
		t.Errorf("a week selects %.2f%% of the events on average, want about 1%%", 100*frac)
	}
	seen := map[int]bool{}
	for k := range 2 * spreadWeeks {
		w := queryWeek(k)
		if w < -spreadWeeks || w >= spreadWeeks {
			t.Fatalf("queryWeek(%d) = %d, outside the spread", k, w)
		}
		seen[w] = true
	}
	if len(seen) != weeks {
		t.Errorf("queryWeek visits %d of %d weeks in one cycle", len(seen), weeks)
	}
}

// TestNarrowQueryHoldsTheSameAtAnyN: calendar-query-narrow's ranges select
// about as many events at N = 20,000 as a week does at N = 1,000 (up to
// twice as many: they lie in the daytime).
func TestNarrowQueryHoldsTheSameAtAnyN(t *testing.T) {
	g := newGenerator(1)
	perRange := func(n int) float64 {
		total := 0
		for i := range n {
			ev := g.event(i)
			for w := -spreadWeeks; w < spreadWeeks; w++ {
				if s, e := g.narrowRange(w, n); ev.Overlaps(s, e) {
					total++
				}
			}
		}
		return float64(total) / float64(2*spreadWeeks)
	}
	small, big := perRange(1000), perRange(20000)
	if s, e := g.narrowRange(3, 1000); s != g.anchor.AddDate(0, 0, 21) || e != s.AddDate(0, 0, 7) {
		t.Errorf("narrowRange(3, 1000) = %v–%v, want the week itself", s, e)
	}
	if small < 5 || big < small || big > 2.5*small {
		t.Errorf("events per range: %.1f at N = 1,000, %.1f at N = 20,000; want as many, up to twice", small, big)
	}
}

func TestICSShape(t *testing.T) {
	g := newGenerator(1)
	for _, i := range []int{0, 16, 19} { // single, weekly, zoned
		e := g.event(i)
		body := string(e.ICS(2))
		if !strings.HasSuffix(body, "END:VCALENDAR\r\n") || strings.Contains(strings.ReplaceAll(body, "\r\n", ""), "\n") {
			t.Errorf("event %d: lines not CRLF-terminated", i)
		}
		for _, line := range strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n") {
			if len(line) > 75 {
				t.Errorf("event %d: line longer than 75 octets (RFC 5545 §3.1): %q", i, line)
			}
		}
		if got, want := strings.Contains(body, "BEGIN:VTIMEZONE"), e.Kind == kindZoned; got != want {
			t.Errorf("event %d (%s): VTIMEZONE present = %v", i, e.Kind, got)
		}
		if got, want := strings.Contains(body, "RRULE:FREQ=WEEKLY"), e.Kind == kindWeekly; got != want {
			t.Errorf("event %d (%s): RRULE present = %v", i, e.Kind, got)
		}
		for _, must := range []string{"UID:" + e.UID + "\r\n", "DTSTAMP:", "SEQUENCE:2\r\n", "(rev 2)"} {
			if !strings.Contains(body, must) {
				t.Errorf("event %d: no %q in\n%s", i, must, body)
			}
		}
		if strings.Contains(string(e.ICS(0)), "SEQUENCE") {
			t.Errorf("event %d: revision 0 carries SEQUENCE", i)
		}
	}
	if got := string(g.event(19).ICS(0)); !strings.Contains(got, "DTSTART;TZID="+centralTZID+":") {
		t.Errorf("zoned event without a TZID start:\n%s", got)
	}
}

func TestWholeCalendar(t *testing.T) {
	g := newGenerator(1)
	events := []event{g.event(0), g.event(16), g.event(19)}
	body := string(wholeCalendar(events))
	if n := strings.Count(body, "BEGIN:VEVENT\r\n"); n != 3 {
		t.Errorf("%d VEVENTs, want 3", n)
	}
	if n := strings.Count(body, "BEGIN:VTIMEZONE\r\n"); n != 1 {
		t.Errorf("%d VTIMEZONEs, want 1", n)
	}
	if strings.Count(body, "BEGIN:VCALENDAR") != 1 || !strings.HasSuffix(body, "END:VCALENDAR\r\n") {
		t.Error("not one VCALENDAR")
	}
	// Each event's VEVENT is the same bytes as in its own object.
	for _, e := range events {
		own := string(e.ICS(0))
		vevent := own[strings.Index(own, "BEGIN:VEVENT"):strings.Index(own, "END:VCALENDAR")]
		if !strings.Contains(body, vevent) {
			t.Errorf("event %d's VEVENT differs in the whole calendar", e.Index)
		}
	}
}

func TestCards(t *testing.T) {
	g := newGenerator(1)
	const n = 970
	matches := make([]int, emailTagModulus)
	for i := range n {
		c := g.card(i)
		body := string(c.VCF())
		if c.Name != c.UID+".vcf" {
			t.Fatalf("card %d: name %q is not UID + .vcf", i, c.Name)
		}
		for _, must := range []string{"BEGIN:VCARD\r\n", "VERSION:3.0\r\n", "UID:" + c.UID + "\r\n", "FN:", "EMAIL;TYPE=INTERNET:" + c.Email + "\r\n", "END:VCARD\r\n"} {
			if !strings.Contains(body, must) {
				t.Fatalf("card %d: no %q in\n%s", i, must, body)
			}
		}
		// A term matches exactly the cards that carry it, in EMAIL only.
		for k := range emailTagModulus {
			if strings.Contains(body, emailTag(k)) {
				if k != i%emailTagModulus {
					t.Fatalf("card %d contains the term %s of another group", i, emailTag(k))
				}
				if !strings.Contains(c.Email, emailTag(k)) {
					t.Fatalf("card %d: term outside EMAIL", i)
				}
				matches[k]++
			}
		}
	}
	for k, m := range matches {
		if m != n/emailTagModulus {
			t.Errorf("term %s matches %d cards, want %d", emailTag(k), m, n/emailTagModulus)
		}
	}
}
