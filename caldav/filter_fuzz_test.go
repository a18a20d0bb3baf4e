package caldav

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/internal/recur"
)

// tqFuzzLimits keep fuzzing fast while still reaching the limit paths.
var tqFuzzLimits = recur.Limits{MaxInstances: 200, MaxWork: 5000}

func tqSeedQueries(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "rfc4791", "*.xml"))
	more, _ := filepath.Glob(filepath.Join("testdata", "filter", "*.xml"))
	for _, p := range append(paths, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzReportFilter decodes REPORT bodies, validates the filter and runs it
// against fixed calendars: nothing may panic, and a filter that validates
// must evaluate without error or with a limit error only.
func FuzzReportFilter(f *testing.F) {
	tqSeedQueries(f)
	var cals []*ical.Calendar
	for _, body := range [][]byte{tqWeekly, tqPartialBody} {
		cal, err := ical.NewDecoder(bytes.NewReader(body)).Decode()
		if err != nil {
			f.Fatal(err)
		}
		cals = append(cals, cal)
	}
	for _, name := range []string{"abcd2.ics", "abcd5.ics", "abcd8.ics"} {
		body, err := os.ReadFile(filepath.Join("testdata", "rfc4791", name))
		if err != nil {
			f.Fatal(err)
		}
		cal, err := ical.NewDecoder(bytes.NewReader(body)).Decode()
		if err != nil {
			f.Fatal(err)
		}
		cals = append(cals, cal)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var q tqCalendarQuery
		if xml.Unmarshal(data, &q) != nil {
			return
		}
		_ = q.Filter.ListOptions()
		valid := q.Filter.Validate() == nil
		for _, cal := range cals {
			_, err := q.Filter.Match(cal, ny, tqFuzzLimits)
			if valid && err != nil && err != recur.ErrTooManyInstances {
				t.Fatalf("valid filter failed: %v", err)
			}
		}
	})
}

// FuzzCalendarData renders arbitrary bodies through arbitrary calendar-data
// requests: nothing may panic, an unrestricted request returns the body, and
// whatever is rendered reads back.
func FuzzCalendarData(f *testing.F) {
	bodies, _ := filepath.Glob(filepath.Join("testdata", "rfc4791", "abcd*.ics"))
	reqs := []string{
		`<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"/>`,
		`<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp name="VCALENDAR"><C:prop name="VERSION"/><C:comp name="VEVENT"><C:prop name="SUMMARY" novalue="yes"/></C:comp><C:comp name="VTIMEZONE"/></C:comp></C:calendar-data>`,
		`<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"><C:expand start="20060103T000000Z" end="20060105T000000Z"/></C:calendar-data>`,
		`<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"><C:limit-recurrence-set start="20060103T000000Z" end="20060105T000000Z"/></C:calendar-data>`,
		`<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"><C:limit-freebusy-set start="20060102T000000Z" end="20060103T000000Z"/></C:calendar-data>`,
	}
	for i, p := range bodies {
		body, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(reqs[i%len(reqs)]), body)
	}
	f.Add([]byte(reqs[2]), tqWeekly)
	f.Add([]byte(reqs[1]), tqPartialBody)
	f.Fuzz(func(t *testing.T, reqXML, body []byte) {
		var r CalendarDataRequest
		if xml.Unmarshal(reqXML, &r) != nil || r.Validate() != nil {
			return
		}
		out, err := r.Render(body, time.UTC, tqFuzzLimits)
		if err != nil {
			return
		}
		if !r.HasRestriction() {
			if !bytes.Equal(out, body) {
				t.Fatal("unrestricted render changed the body")
			}
			return
		}
		if _, err := parseRaw(out); err != nil {
			t.Fatalf("rendered output does not read back: %v\n%q", err, out)
		}
	})
}
