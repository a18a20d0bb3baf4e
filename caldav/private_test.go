package caldav

import (
	"strings"
	"testing"
)

func TestMaskPrivate(t *testing.T) {
	const head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
	const tz = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
	event := func(class string, extra ...string) string {
		s := "BEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260105T100000\r\nDTEND;TZID=Europe/Berlin:20260105T110000\r\n"
		if class != "" {
			s += "CLASS:" + class + "\r\n"
		}
		s += "SUMMARY:Therapy\r\nLOCATION:Dr. Who\r\nDESCRIPTION:long\r\n  folded secret\r\nATTENDEE;CN=Secret Person:mailto:s@example.org\r\nX-APPLE-STRUCTURED-LOCATION;VALUE=URI:geo:1,2\r\n"
		s += strings.Join(extra, "")
		s += "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:alarm secret\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\n"
		return s
	}
	const end = "END:VCALENDAR\r\n"
	keptPrivate := head + tz + "BEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260105T100000\r\nDTEND;TZID=Europe/Berlin:20260105T110000\r\nCLASS:PRIVATE\r\nEND:VEVENT\r\n" + end
	for _, tc := range []struct {
		name, body, want string
	}{
		{"public", head + event("PUBLIC") + end, ""},
		{"no class", head + event("") + end, ""},
		{"private", head + tz + event("PRIVATE") + end, keptPrivate},
		{"private, lower case", head + tz + event("private") + end, strings.Replace(keptPrivate, "CLASS:PRIVATE", "CLASS:private", 1)},
		{"confidential", head + event("CONFIDENTIAL", "RRULE:FREQ=WEEKLY\r\n", "TRANSP:OPAQUE\r\n") + end,
			head + "BEGIN:VEVENT\r\nSUMMARY:Busy\r\nUID:u1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260105T100000\r\nDTEND;TZID=Europe/Berlin:20260105T110000\r\nCLASS:CONFIDENTIAL\r\nRRULE:FREQ=WEEKLY\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n" + end},
		{"unknown class is private", head + event("X-FAMILY") + end,
			head + "BEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260105T100000\r\nDTEND;TZID=Europe/Berlin:20260105T110000\r\nCLASS:X-FAMILY\r\nEND:VEVENT\r\n" + end},
		{"an override without class follows its private master",
			head + event("PRIVATE") + "BEGIN:VEVENT\r\nUID:u1\r\nRECURRENCE-ID:20260112T100000Z\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260112T120000Z\r\nSUMMARY:Therapy moved\r\nEND:VEVENT\r\n" + end,
			head + "BEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260105T100000\r\nDTEND;TZID=Europe/Berlin:20260105T110000\r\nCLASS:PRIVATE\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:u1\r\nRECURRENCE-ID:20260112T100000Z\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260112T120000Z\r\nEND:VEVENT\r\n" + end},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := maskPrivate(tc.body)
			if tc.want == "" {
				if ok {
					t.Errorf("masked a body with nothing to hide:\n%s", got)
				}
				return
			}
			if !ok || got != tc.want {
				t.Errorf("got (ok=%v):\n%s\nwant:\n%s", ok, got, tc.want)
			}
			for _, secret := range []string{"Therapy", "Dr. Who", "secret", "Secret", "geo:", "VALARM"} {
				if strings.Contains(got, secret) {
					t.Errorf("masked body still holds %q", secret)
				}
			}
		})
	}
}
