package caldav

import (
	"testing"
	"time"
)

// TestUnavailable: the time a VAVAILABILITY covers outside its AVAILABLE
// components is BUSY-UNAVAILABLE (RFC 7953 §3.1), with LF line ends as an
// XML property value delivers them.
func TestUnavailable(t *testing.T) {
	vav := "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//x//EN\nBEGIN:VAVAILABILITY\nUID:av-1\nDTSTAMP:20260101T000000Z\nDTSTART:20260101T000000Z\n" +
		"BEGIN:AVAILABLE\nUID:av-1-a\nDTSTAMP:20260101T000000Z\nDTSTART:20260105T090000Z\nDTEND:20260105T170000Z\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\nEND:AVAILABLE\nEND:VAVAILABILITY\nEND:VCALENDAR\n"
	c, err := decodeCalendar([]byte(vav))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	got := unavailable(c, start, start.Add(24*time.Hour))
	want := []busyPeriod{
		{start, start.Add(9 * time.Hour), fbBusyUnavailable},
		{start.Add(17 * time.Hour), start.Add(24 * time.Hour), fbBusyUnavailable},
	}
	if len(got) != len(want) {
		t.Fatalf("unavailable = %v; want %v", got, want)
	}
	for i := range want {
		if !got[i].start.Equal(want[i].start) || !got[i].end.Equal(want[i].end) || got[i].fbtype != want[i].fbtype {
			t.Errorf("period %d = %v; want %v", i, got[i], want[i])
		}
	}
}
