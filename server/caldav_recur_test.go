package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// Recurrence through the whole stack: what a PUT accepts, what the index
// records, and how time-range queries, expand and limit-recurrence-set read
// it (RFC 4791 §9.6.5, §9.6.6, §9.9).

// calQuery is a calendar-query for VCALENDAR/comp with a time-range, asking
// for getetag and the calendar-data that inner (the inside of
// CALDAV:calendar-data, "" for the whole object) selects.
func calQuery(comp, start, end, inner string) string {
	data := `<C:calendar-data/>`
	if inner != "" {
		data = `<C:calendar-data>` + inner + `</C:calendar-data>`
	}
	return `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/>` + data + `</D:prop>` +
		`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="` + comp + `"><C:time-range start="` + start + `" end="` + end + `"/>` +
		`</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
}

// queryData runs a REPORT and returns href → parsed calendar-data.
func (e *env) queryData(t *testing.T, collection, body string) map[string]*ical.Calendar {
	t.Helper()
	resp := e.do(request{method: "REPORT", path: collection, body: body, header: hdr("Depth", "1")})
	root, err := dav.ParseXML([]byte(expectStatus(t, "REPORT", resp, http.StatusMultiStatus)), dav.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*ical.Calendar{}
	for _, r := range root.ChildrenNamed(dav.Name("response")) {
		href := r.Child(dav.Name("href")).Text
		data := findProp(&dav.Element{Children: []*dav.Element{r}, Name: dav.Name("multistatus")}, calData)
		if data == nil {
			t.Fatalf("%s: no calendar-data", href)
		}
		cal, err := ical.NewDecoder(strings.NewReader(data.Text)).Decode()
		if err != nil {
			t.Fatalf("%s: calendar-data does not parse: %v\n%s", href, err, data.Text)
		}
		out[href] = cal
	}
	return out
}

// queryNames runs a REPORT on collection and returns the names of the
// resources it answers, sorted.
func (e *env) queryNames(t *testing.T, what, collection, body string) []string {
	t.Helper()
	resp := e.do(request{method: "REPORT", path: collection, body: body, header: hdr("Depth", "1")})
	var names []string
	for h := range etagsOf(t, expectStatus(t, what, resp, http.StatusMultiStatus)) {
		names = append(names, strings.TrimPrefix(h, collection))
	}
	slices.Sort(names)
	return names
}

// storedSpan reads the index of one of alice's objects.
func (e *env) storedSpan(t *testing.T, calendar, name string) (first, last *time.Time) {
	t.Helper()
	c := e.syncCollection(t, "alice", store.KindCalendar, calendar)
	o, err := e.st.GetObject(t.Context(), c.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	return o.FirstStart, o.LastEnd
}

// componentTimes lists, for each component named comp, its prop value and
// RECURRENCE-ID as "value rid" ("-" for none), sorted.
func componentTimes(cal *ical.Calendar, comp, prop string) []string {
	var out []string
	for _, c := range cal.Children {
		if c.Name != comp {
			continue
		}
		v, rid := "-", "-"
		if p := c.Props.Get(prop); p != nil {
			v = p.Value
		}
		if p := c.Props.Get(ical.PropRecurrenceID); p != nil {
			rid = p.Value
		}
		out = append(out, v+" "+rid)
	}
	slices.Sort(out)
	return out
}

// TestRecurringTaskOnDue: a VTODO with DUE and RRULE but no DTSTART, as task
// apps write, is stored with DUE as the anchor of its recurrence set; the
// index spans its instances, and time-range queries, expand and
// limit-recurrence-set read it by the RFC 4791 §9.9 row for a VTODO with DUE
// only: (start < DUE) AND (end >= DUE) for each instance.
func TestRecurringTaskOnDue(t *testing.T) {
	const weekly = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//tests//EN\r\n" +
		"BEGIN:VTODO\r\nUID:due-weekly@davenport.test\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DUE:20260302T170000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Timesheet\r\nEND:VTODO\r\n" +
		// The third instance, due 16 March, is moved to the 17th.
		"BEGIN:VTODO\r\nUID:due-weekly@davenport.test\r\nDTSTAMP:20260101T000000Z\r\n" +
		"RECURRENCE-ID:20260316T170000Z\r\nDUE:20260317T170000Z\r\nSUMMARY:Timesheet (late)\r\nEND:VTODO\r\n" +
		"END:VCALENDAR\r\n"
	// A zoned DUE with an open-ended monthly rule, as Tasks.org writes.
	const monthly = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//tests//EN\r\n" +
		"BEGIN:VTODO\r\nUID:due-monthly@davenport.test\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DUE;TZID=Europe/Berlin:20260305T090000\r\nRRULE:FREQ=MONTHLY\r\nSUMMARY:Rent\r\nEND:VTODO\r\n" +
		"END:VCALENDAR\r\n"
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for name, body := range map[string]string{"weekly.ics": weekly, "monthly.ics": monthly} {
			expectStatus(t, "PUT "+name, e.do(request{method: "PUT", path: personalCal + name, body: body, header: calICS}), http.StatusCreated)
			if got := expectStatus(t, "GET "+name, e.do(request{method: "GET", path: personalCal + name}), http.StatusOK); got != body {
				t.Errorf("GET %s changed the bytes:\n%q", name, got)
			}
		}

		// The index covers every instance: the first due date, and the
		// last (the moved one), or no end for the open rule.
		first, last := e.storedSpan(t, "personal", "weekly.ics")
		if first == nil || last == nil || first.After(time.Date(2026, 3, 2, 17, 0, 0, 0, time.UTC)) || last.Before(time.Date(2026, 3, 23, 17, 0, 0, 0, time.UTC)) {
			t.Errorf("weekly span %v .. %v does not cover 2026-03-02T17:00Z .. 2026-03-23T17:00Z", first, last)
		}
		first, last = e.storedSpan(t, "personal", "monthly.ics")
		if first == nil || last != nil || first.After(time.Date(2026, 3, 5, 8, 0, 0, 0, time.UTC)) {
			t.Errorf("monthly span %v .. %v, want from 2026-03-05T08:00Z with no end", first, last)
		}

		const weeklyHref = personalCal + "weekly.ics"
		for _, c := range []struct {
			name, start, end string
			want             []string
		}{
			{"second instance", "20260309T000000Z", "20260310T000000Z", []string{"weekly.ics"}},
			{"range ending at DUE matches (end >= DUE)", "20260309T120000Z", "20260309T170000Z", []string{"weekly.ics"}},
			{"range starting at DUE does not (start < DUE)", "20260309T170000Z", "20260310T000000Z", nil},
			{"between instances", "20260310T000000Z", "20260316T000000Z", nil},
			{"the moved instance's original day", "20260316T000000Z", "20260317T000000Z", nil},
			{"the moved instance's new day", "20260317T000000Z", "20260318T000000Z", []string{"weekly.ics"}},
			{"after COUNT", "20260324T000000Z", "20260401T000000Z", nil},
			{"a later month, zoned DUE (08:00Z in winter, 07:00Z in summer)", "20270705T065959Z", "20270705T070000Z", []string{"monthly.ics"}},
			{"a later month, an hour early", "20270705T050000Z", "20270705T065959Z", nil},
		} {
			if got := e.queryNames(t, c.name, personalCal, calQuery("VTODO", c.start, c.end, "")); !slices.Equal(got, c.want) {
				t.Errorf("%s [%s, %s): got %v, want %v", c.name, c.start, c.end, got, c.want)
			}
		}

		// expand (RFC 4791 §9.6.5): one VTODO per instance in range, each
		// with its own DUE and a RECURRENCE-ID, no RRULE.
		cals := e.queryData(t, personalCal, calQuery("VTODO", "20260301T000000Z", "20260320T000000Z",
			`<C:expand start="20260301T000000Z" end="20260320T000000Z"/>`))
		cal := cals[weeklyHref]
		if cal == nil {
			t.Fatalf("expand: got %v", cals)
		}
		want := []string{"20260302T170000Z 20260302T170000Z", "20260309T170000Z 20260309T170000Z", "20260317T170000Z 20260316T170000Z"}
		if got := componentTimes(cal, ical.CompToDo, ical.PropDue); !slices.Equal(got, want) {
			t.Errorf("expand: DUE and RECURRENCE-ID\n got %v\nwant %v", got, want)
		}
		for _, c := range cal.Children {
			if c.Props.Get(ical.PropRecurrenceRule) != nil || c.Props.Get(ical.PropDateTimeStart) != nil {
				t.Errorf("expanded instance keeps RRULE or gains DTSTART: %v", c.Props)
			}
		}

		// limit-recurrence-set (RFC 4791 §9.6.6): the override comes back
		// only with a range its original or its new due time falls in.
		for _, c := range []struct {
			start, end string
			override   bool
		}{
			{"20260301T000000Z", "20260310T000000Z", false},
			{"20260316T000000Z", "20260316T235959Z", true},
			{"20260317T000000Z", "20260318T000000Z", true},
		} {
			limit := `<C:limit-recurrence-set start="` + c.start + `" end="` + c.end + `"/>`
			cals := e.queryData(t, personalCal, calQuery("VTODO", "20260301T000000Z", "20260401T000000Z", limit))
			got := componentTimes(cals[weeklyHref], ical.CompToDo, ical.PropDue)
			want := []string{"20260302T170000Z -"}
			if c.override {
				want = append(want, "20260317T170000Z 20260316T170000Z")
			}
			if !slices.Equal(got, want) {
				t.Errorf("limit-recurrence-set [%s, %s): got %v, want %v", c.start, c.end, got, want)
			}
		}
	})
}

// importFixture returns a calendar export of testdata/caldav/imports.
func importFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "caldav", "imports", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTZIDs: RFC 5545 §3.2.19 says a TZID parameter names a VTIMEZONE of
// the same object; IANA names without one (most clients) and Windows names
// (Outlook) resolve too. A TZID that is none of these cannot be placed in
// time, so the object is refused with CALDAV:valid-calendar-data (RFC 4791
// §5.3.2.1) and nothing is stored. What real exports carry stays accepted:
// Google's VTIMEZONEs, an override the rule no longer produces, an instance
// exported without its master, \" inside TEXT values (not an RFC 5545
// escape), Outlook's quoted Windows zone names and customized zones whose
// observances start in 1601.
func TestTZIDs(t *testing.T) {
	const head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//tests//EN\r\n"
	const tail = "END:VCALENDAR\r\n"
	event := func(uid string, lines ...string) string {
		return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VEVENT\r\n"
	}
	refused := map[string]string{
		"dtstart.ics": head + event("z1", "DTSTART;TZID=Mars/Olympus_Mons:20260301T090000") + tail,
		// Outlook's customized zone without the VTIMEZONE that defines it.
		"no-vtimezone.ics": head + event("z2", `DTSTART;TZID="Customized Time Zone":20260301T090000`) + tail,
		"exdate.ics": head + event("z3", "DTSTART:20260301T090000Z", "RRULE:FREQ=DAILY;COUNT=3",
			"EXDATE;TZID=Mars/Olympus_Mons:20260302T090000") + tail,
		"override.ics": head + event("z4", "DTSTART:20260301T090000Z", "RRULE:FREQ=DAILY;COUNT=3") +
			event("z4", "RECURRENCE-ID;TZID=Mars/Olympus_Mons:20260302T090000", "DTSTART:20260302T100000Z") + tail,
		"alarm.ics": head + event("z5", "DTSTART:20260301T090000Z", "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:x",
			"TRIGGER;VALUE=DATE-TIME;TZID=Mars/Olympus_Mons:20260301T080000", "END:VALARM") + tail,
		// A VTIMEZONE that defines another name does not define this one.
		"other-vtimezone.ics": head + "BEGIN:VTIMEZONE\r\nTZID:Custom/A\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n" +
			"TZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n" +
			event("z6", "DTSTART;TZID=Custom/B:20260301T090000") + tail,
		"task-due.ics": head + "BEGIN:VTODO\r\nUID:z7\r\nDTSTAMP:20260101T000000Z\r\nDUE;TZID=Mars/Olympus_Mons:20260301T170000\r\n" +
			"RRULE:FREQ=WEEKLY\r\nEND:VTODO\r\n" + tail,
	}
	accepted := []string{"google-series.ics", "google-orphan-instance.ics", "outlook-series.ics", "outlook-custom-zone.ics"}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for name, body := range refused {
			resp := e.do(request{method: "PUT", path: personalCal + name, body: body, header: calICS})
			// The precondition, and beside it only the sentence for a
			// person (DP:message).
			root := expectError(t, "PUT "+name, resp, http.StatusForbidden, xmlName(dav.NSCalDAV, "valid-calendar-data"))
			for _, c := range root.Children {
				if c.Name != xmlName(dav.NSCalDAV, "valid-calendar-data") && c.Name != xmlName(dav.NSDavenport, "message") {
					t.Errorf("PUT %s: unexpected %v in the error", name, c.Name)
				}
			}
			expectStatus(t, "GET refused "+name, e.do(request{method: "GET", path: personalCal + name}), http.StatusNotFound)
		}
		for _, name := range accepted {
			body := importFixture(t, name)
			expectStatus(t, "PUT "+name, e.do(request{method: "PUT", path: personalCal + name, body: body, header: calICS}), http.StatusCreated)
			if got := expectStatus(t, "GET "+name, e.do(request{method: "GET", path: personalCal + name}), http.StatusOK); got != body {
				t.Errorf("GET %s changed the bytes", name)
			}
		}
		// Each zone is read as its export means it.
		for _, c := range []struct {
			name, start, end string
			want             []string
		}{
			// 15:00 at +05:30, only the VTIMEZONE says so: 09:30Z.
			{"customized zone", "20260304T093000Z", "20260304T094500Z", []string{"outlook-custom-zone.ics"}},
			{"customized zone read as UTC", "20260304T150000Z", "20260304T160000Z", nil},
			// First Monday of April, 09:00 W. Europe (summer time): 07:00Z.
			{"Windows zone name", "20260406T070000Z", "20260406T071500Z", []string{"outlook-series.ics"}},
			// The moved Thursday instance, 11:00 Berlin: 10:00Z.
			{"override off the rule", "20260305T100000Z", "20260305T101500Z", []string{"google-series.ics"}},
			{"an instance exported alone", "20260310T140000Z", "20260310T141500Z", []string{"google-orphan-instance.ics"}},
			{"an EXDATE of the series", "20260407T080000Z", "20260407T083000Z", nil},
		} {
			if got := e.queryNames(t, c.name, personalCal, calQuery("VEVENT", c.start, c.end, "")); !slices.Equal(got, c.want) {
				t.Errorf("%s [%s, %s): got %v, want %v", c.name, c.start, c.end, got, c.want)
			}
		}
	})
}

// TestPropFilterTimeRangeZones: a prop-filter time-range on a DATE-TIME
// property (RFC 4791 §9.7.2, §9.9) reads a TZID the way the rest of the
// server does: a Windows zone name, or a zone only the object's VTIMEZONE
// defines, is that zone, not UTC.
func TestPropFilterTimeRangeZones(t *testing.T) {
	query := func(start, end string) string {
		return `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>` +
			`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="DTSTART">` +
			`<C:time-range start="` + start + `" end="` + end + `"/></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
	}
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		for _, name := range []string{"outlook-series.ics", "outlook-custom-zone.ics"} {
			expectStatus(t, "PUT "+name, e.do(request{method: "PUT", path: personalCal + name, body: importFixture(t, name), header: calICS}), http.StatusCreated)
		}
		for _, c := range []struct {
			name, start, end string
			want             []string
		}{
			// DTSTART 09:00 W. Europe Standard Time in winter: 08:00Z.
			{"Windows zone", "20260302T080000Z", "20260302T080001Z", []string{"outlook-series.ics"}},
			{"Windows zone read as UTC", "20260302T090000Z", "20260302T090001Z", nil},
			// DTSTART 15:00 at +05:30: 09:30Z.
			{"VTIMEZONE only", "20260304T093000Z", "20260304T093001Z", []string{"outlook-custom-zone.ics"}},
			{"VTIMEZONE only read as UTC", "20260304T150000Z", "20260304T150001Z", nil},
		} {
			if got := e.queryNames(t, c.name, personalCal, query(c.start, c.end)); !slices.Equal(got, c.want) {
				t.Errorf("%s [%s, %s): got %v, want %v", c.name, c.start, c.end, got, c.want)
			}
		}
	})
}
