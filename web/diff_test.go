package web

import (
	"fmt"
	"strings"
	"testing"
)

func TestDiffItems(t *testing.T) {
	cal := func(body string) []byte {
		return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//a//b//EN\r\n" +
			"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n" +
			body + "END:VCALENDAR\r\n")
	}
	master := "BEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260105T090000\r\nSUMMARY:Standup\r\nRRULE:FREQ=WEEKLY\r\n" +
		"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\nEND:VEVENT\r\n"
	for _, tc := range []struct {
		name     string
		old, new []byte
		want     []string
	}{
		{"nothing but bookkeeping", cal(master), cal(replace(master, "DTSTAMP:20260101T000000Z", "DTSTAMP:20260301T000000Z")), nil},
		{"summary and start", cal(master), cal(replace(replace(master, "SUMMARY:Standup", "SUMMARY:Stand-up\\, daily"), "20260105T090000", "20260105T093000")), []string{
			"Event SUMMARY Title: Standup → Stand-up, daily",
			"Event DTSTART Start: 2026-01-05 09:00 (tzid Europe/Berlin) → 2026-01-05 09:30 (tzid Europe/Berlin)",
		}},
		{"an alarm changed", cal(master), cal(replace(master, "-PT10M", "-PT1H")), []string{
			"Event, reminder TRIGGER Reminder: -PT10M → -PT1H",
		}},
		{"an occurrence added", cal(master), cal(master + "BEGIN:VEVENT\r\nUID:u1\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260112T090000\r\nDTSTART:20260112T100000Z\r\nSUMMARY:Moved\r\nEND:VEVENT\r\n"), []string{
			"Occurrence of 2026-01-12 09:00 (tzid Europe/Berlin) SUMMARY Title:  → Moved",
			"Occurrence of 2026-01-12 09:00 (tzid Europe/Berlin) DTSTART Start:  → 2026-01-12 10:00 UTC",
			"Occurrence of 2026-01-12 09:00 (tzid Europe/Berlin) RECURRENCE-ID :  → 2026-01-12 09:00 (tzid Europe/Berlin)",
			"Occurrence of 2026-01-12 09:00 (tzid Europe/Berlin) UID :  → u1",
		}},
		{"created", nil, []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:c1\r\nFN:Ada\r\nitem1.EMAIL;TYPE=work:ada@example.org\r\nEND:VCARD\r\n"), []string{
			"Contact FN Name:  → Ada",
			"Contact EMAIL Email:  → ada@example.org (type work)",
			"Contact UID :  → c1",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range diffItems(tc.old, tc.new) {
				got = append(got, fmt.Sprintf("%s %s %s: %s → %s", r.Component, r.Property, r.Label, r.Old, r.New))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("diff =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func replace(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("no " + old)
	}
	return strings.Replace(s, old, new, 1)
}
