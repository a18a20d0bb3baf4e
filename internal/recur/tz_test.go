package recur

import (
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

func TestWindowsZonesLoad(t *testing.T) {
	for win, iana := range windowsZones {
		if loadIANA(iana) == nil {
			t.Errorf("%q maps to %q, which does not load", win, iana)
		}
	}
	z := NewZones(nil)
	for _, name := range []string{"W. Europe Standard Time", "Pacific Standard Time", "India Standard Time", "AUS Eastern Standard Time"} {
		if _, err := z.Location(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestZoneResolution(t *testing.T) {
	z := NewZones(nil)
	tests := []struct {
		tzid, want string // want "" for unknown
	}{
		{"Europe/Berlin", "Europe/Berlin"},
		{"/Europe/Berlin", "Europe/Berlin"},
		{"/mozilla.org/20050126_1/America/New_York", "America/New_York"},
		{"/softwarestudio.org/Olson_20011030_5/Europe/Paris", "Europe/Paris"},
		{"W. Europe Standard Time", "Europe/Berlin"},
		{"UTC", "UTC"},
		{"Local", ""},
		{"", ""},
		{"../../../etc/passwd", ""},
		{"Mars/Olympus_Mons", ""},
	}
	for _, tc := range tests {
		loc, err := z.Location(tc.tzid)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%q resolved to %s", tc.tzid, loc)
		case tc.want != "" && (err != nil || loc.String() != tc.want):
			t.Errorf("%q: %v %v, want %s", tc.tzid, loc, err, tc.want)
		}
	}
}

func TestResolveWall(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	lh := mustLoc(t, "Australia/Lord_Howe") // 30-minute DST shift
	tests := []struct {
		wall string
		loc  *time.Location
		want string
	}{
		{"20240115T120000Z", ny, "20240115T170000Z"},
		// RFC 5545 §3.3.5 examples: the gap takes the offset before it;
		// a repeated time is its first occurrence.
		{"20070311T023000Z", ny, "20070311T073000Z"},
		{"20071104T013000Z", ny, "20071104T053000Z"},
		{"20241103T015959Z", ny, "20241103T055959Z"},
		{"20241103T020000Z", ny, "20241103T070000Z"},
		{"20241006T021500Z", lh, "20241005T154500Z"}, // in the 30-minute gap (+10:30 before)
		{"20240407T014500Z", lh, "20240406T144500Z"}, // repeated: first, at +11
	}
	for _, tc := range tests {
		got := resolveWall(utc(tc.wall), tc.loc).UTC().Format("20060102T150405Z")
		if got != tc.want {
			t.Errorf("%s in %s: got %s, want %s", tc.wall, tc.loc, got, tc.want)
		}
	}
}

// TestVTimezoneMatchesIANA evaluates a VTIMEZONE carrying the US Eastern
// rules since 1967 under a private name and compares every hour of several
// decades with the IANA zone.
func TestVTimezoneMatchesIANA(t *testing.T) {
	cal := loadCal(t, "recur/custom-tz-history.ics")
	var vtz *ical.Component
	for _, c := range cal.Children {
		if c.Name == ical.CompTimezone {
			vtz = c
		}
	}
	loc, err := vtimezoneLocation("Old Rules", vtz)
	if err != nil {
		t.Fatal(err)
	}
	ny := mustLoc(t, "America/New_York")
	for h := time.Date(1991, 1, 1, 0, 0, 0, 0, time.UTC); h.Year() < 2060; h = h.Add(time.Hour) {
		_, got := h.In(loc).Zone()
		_, want := h.In(ny).Zone()
		if got != want {
			t.Fatalf("%s: offset %d, want %d", h, got, want)
		}
	}
	// Past the computed years the POSIX rule continues the pattern.
	for _, s := range []string{"21500320T130000Z", "21501201T130000Z", "22000704T120000Z"} {
		_, got := utc(s).In(loc).Zone()
		_, want := utc(s).In(ny).Zone()
		if got != want {
			t.Errorf("%s: offset %d, want %d", s, got, want)
		}
	}
}

func TestVTimezoneRejectsGarbage(t *testing.T) {
	for _, body := range []string{
		calText("BEGIN:VTIMEZONE", "TZID:X", "END:VTIMEZONE"),
		calText("BEGIN:VTIMEZONE", "TZID:X", "BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:+2500", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE"),
		calText("BEGIN:VTIMEZONE", "TZID:X", "BEGIN:STANDARD", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE"),
		calText("BEGIN:VTIMEZONE", "TZID:X", "BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0100", "RRULE:FREQ=SECONDLY", "END:STANDARD", "END:VTIMEZONE"),
	} {
		cal, err := decodeCalendar([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if loc, err := vtimezoneLocation("X", cal.Children[0]); err == nil {
			t.Errorf("accepted %s as %v", body, loc)
		}
	}
}

func TestVTimezoneFixedOffset(t *testing.T) {
	cal, err := decodeCalendar([]byte(calText("BEGIN:VTIMEZONE", "TZID:Fixed", "BEGIN:STANDARD", "DTSTART:19700101T000000",
		"TZOFFSETFROM:+0545", "TZOFFSETTO:+0545", "TZNAME:NPT", "END:STANDARD", "END:VTIMEZONE")))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := vtimezoneLocation("Fixed", cal.Children[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"19800101T000000Z", "20240701T000000Z", "22500101T000000Z"} {
		if name, off := utc(s).In(loc).Zone(); off != 5*3600+45*60 || name != "NPT" {
			t.Errorf("%s: %s %d", s, name, off)
		}
	}
}
