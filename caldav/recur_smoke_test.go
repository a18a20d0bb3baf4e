package caldav

import (
	"testing"
	"time"
)

func TestSmokeWeekly(t *testing.T) {
	body := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20240301T090000\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=6\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	po, err := ParseObject([]byte(body), "text/calendar; charset=utf-8", nil)
	if err != nil {
		t.Fatal(err)
	}
	ins, err := Instances(po.Cal, time.Time{}, time.Time{}, time.UTC, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		t.Log(in.Start, in.End, in.RecurrenceID)
	}
	t.Log(*po.FirstStart, *po.LastEnd)
	if len(ins) != 6 {
		t.Fatalf("got %d instances", len(ins))
	}
}
