package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestOrganizerStalePartstat: the organizer's client writes the event back
// from a copy read before bob's reply was merged (PARTSTAT=NEEDS-ACTION for
// bob, a new description). Bob's answer stays; a reschedule may reset it.
func TestOrganizerStalePartstat(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st)
		const ev = "/dav/calendars/alice/personal/stale.ics"
		stale := meeting("stale", "20260105T100000Z", "", "bob@example.org")
		if resp := e.put("", "", ev, stale, nil); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
		bobCopy := "/dav/calendars/bob/personal/stale.ics"
		_, b, _ := e.get("bob", bobPassword, bobCopy)
		if resp := e.put("bob", bobPassword, bobCopy, acceptFor(t, b, "mailto:bob@example.org", "ACCEPTED"), nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("bob accepts: %d", resp.StatusCode)
		}
		// Alice's client still holds the version without the answer and
		// changes an alarm-free detail that is not the organizer's schedule.
		edited := strings.Replace(stale, "SUMMARY:Planning\r\n", "SUMMARY:Planning\r\nX-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC\r\n", 1)
		if resp := e.put("", "", ev, edited, nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("organizer's stale write: %d %s", resp.StatusCode, readBody(t, resp))
		}
		_, org, _ := e.get("", "", ev)
		if l := attendeeLine(org, "mailto:bob@example.org"); !strings.Contains(l, "PARTSTAT=ACCEPTED") {
			t.Errorf("a stale organizer write undid bob's answer: %q", l)
		}
		if _, b, _ := e.get("bob", bobPassword, bobCopy); !strings.Contains(attendeeLine(b, "mailto:bob@example.org"), "PARTSTAT=ACCEPTED") {
			t.Errorf("bob's copy lost his answer:\n%s", b)
		}
		// A reschedule that asks again resets it.
		moved := strings.ReplaceAll(edited, "20260105T1", "20260108T1")
		if resp := e.put("", "", ev, moved, nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("reschedule: %d", resp.StatusCode)
		}
		_, org, _ = e.get("", "", ev)
		if l := attendeeLine(org, "mailto:bob@example.org"); !strings.Contains(l, "PARTSTAT=NEEDS-ACTION") {
			t.Errorf("a reschedule asking again kept the old answer: %q", l)
		}
	})
}

// TestAttendeeAlarmsSurvive: bob's own reminder in his copy survives the
// organizer's update, and the organizer's reminder is not copied to bob.
func TestAttendeeAlarmsSurvive(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := schedEnv(t, st)
		const ev = "/dav/calendars/alice/personal/alarms.ics"
		orgAlarm := "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:alice's\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n"
		body := strings.Replace(meeting("alarms", "20260105T100000Z", "", "bob@example.org"), "END:VEVENT", orgAlarm+"END:VEVENT", 1)
		if resp := e.put("", "", ev, body, nil); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
		bobCopy := "/dav/calendars/bob/personal/alarms.ics"
		_, b, _ := e.get("bob", bobPassword, bobCopy)
		if strings.Contains(b, "alice's") {
			t.Errorf("the organizer's alarm was copied to bob:\n%s", b)
		}
		bobAlarm := "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:bob's own\r\nTRIGGER:-PT30M\r\nEND:VALARM\r\n"
		b = strings.Replace(b, "END:VEVENT", bobAlarm+"END:VEVENT", 1)
		if resp := e.put("bob", bobPassword, bobCopy, b, nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("bob adds an alarm: %d", resp.StatusCode)
		}
		_, org, _ := e.get("", "", ev)
		moved := strings.ReplaceAll(org, "20260105T1", "20260106T1")
		if resp := e.put("", "", ev, moved, nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("reschedule: %d", resp.StatusCode)
		}
		_, b, _ = e.get("bob", bobPassword, bobCopy)
		if !strings.Contains(b, "DTSTART:20260106T100000Z") || !strings.Contains(b, "bob's own") || strings.Contains(b, "alice's") {
			t.Errorf("bob's copy after the organizer's update:\n%s", b)
		}
	})
}
