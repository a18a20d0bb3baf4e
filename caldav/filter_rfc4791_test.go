package caldav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/internal/recur"
	"github.com/davenport-dav/davenport/store"
)

// tqCalendarQuery is the shape the protocol layer decodes a calendar-query
// REPORT body into: Filter and CalendarDataRequest embed as they are.
type tqCalendarQuery struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:caldav calendar-query"`
	Prop    struct {
		CalendarData *CalendarDataRequest `xml:"urn:ietf:params:xml:ns:caldav calendar-data"`
	} `xml:"DAV: prop"`
	Filter Filter `xml:"urn:ietf:params:xml:ns:caldav filter"`
}

func tqReadQuery(t testing.TB, path string) *tqCalendarQuery {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var q tqCalendarQuery
	if err := xml.Unmarshal(data, &q); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &q
}

func tqParse(t testing.TB, body []byte) *ical.Calendar {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(body)).Decode()
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, body)
	}
	return cal
}

// tqObject is one stored calendar object resource of a test collection.
type tqObject struct {
	name string
	body []byte
	cal  *ical.Calendar
	po   *ParsedObject
}

// tqAppendixB loads the calendar object resources of RFC 4791 Appendix B
// (the collection bernard/work/ all §7.8 examples run against).
func tqAppendixB(t testing.TB) []tqObject {
	t.Helper()
	var objs []tqObject
	for i := 1; i <= 8; i++ {
		name := "abcd" + string(rune('0'+i)) + ".ics"
		body, err := os.ReadFile(filepath.Join("testdata", "rfc4791", name))
		if err != nil {
			t.Fatal(err)
		}
		po, err := ParseObject(body, "text/calendar; charset=utf-8", []string{"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY"})
		if err != nil {
			t.Fatalf("%s: ParseObject: %v", name, err)
		}
		objs = append(objs, tqObject{name: name, body: body, cal: tqParse(t, body), po: po})
	}
	return objs
}

// tqCandidate reports whether the store would hand o to Match under opts:
// the component equals and the indexed span overlaps [Start, End).
func tqCandidate(opts store.ListObjectsOptions, o tqObject) bool {
	if opts.Component != "" && opts.Component != o.po.Component {
		return false
	}
	if opts.Start != nil && o.po.LastEnd != nil && !o.po.LastEnd.After(*opts.Start) {
		return false
	}
	if opts.End != nil && o.po.FirstStart != nil && !o.po.FirstStart.Before(*opts.End) {
		return false
	}
	return true
}

// tqCanonical sorts the content lines inside each component, for comparing
// outputs that differ only in property order.
func tqCanonical(b []byte) string {
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	var out []string
	var stack [][]string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "BEGIN:"):
			stack = append(stack, []string{l})
		case strings.HasPrefix(l, "END:"):
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			body := top[1:]
			sort.Strings(body)
			block := top[0] + "\n" + strings.Join(body, "\n") + "\n" + l
			if len(stack) == 0 {
				out = append(out, block)
			} else {
				stack[len(stack)-1] = append(stack[len(stack)-1], block)
			}
		case l != "" && len(stack) > 0:
			stack[len(stack)-1] = append(stack[len(stack)-1], l)
		}
	}
	return strings.Join(out, "\n")
}

// TestRFC4791Examples runs every calendar-query example of RFC 4791 §7.8
// against the Appendix B collection and checks which resources match and,
// where the example asks for partial data, what is returned.
func TestRFC4791Examples(t *testing.T) {
	objs := tqAppendixB(t)
	tests := []struct {
		query string
		want  []string
		// outputs: resource → expected calendar-data file; exact means
		// byte for byte, otherwise equal up to property order.
		outputs map[string]string
		exact   bool
		cond    string // expected Validate condition
	}{
		{query: "7.8.1.xml", want: []string{"abcd2.ics", "abcd3.ics"}, exact: true,
			outputs: map[string]string{"abcd2.ics": "7.8.1-abcd2.ics", "abcd3.ics": "7.8.1-abcd3.ics"}},
		{query: "7.8.2.xml", want: []string{"abcd2.ics", "abcd3.ics"}, exact: true,
			outputs: map[string]string{"abcd2.ics": "7.8.2-abcd2.ics", "abcd3.ics": "abcd3.ics"}},
		{query: "7.8.3.xml", want: []string{"abcd2.ics", "abcd3.ics"},
			outputs: map[string]string{"abcd2.ics": "7.8.3-abcd2.ics", "abcd3.ics": "7.8.3-abcd3.ics"}},
		{query: "7.8.4.xml", want: []string{"abcd8.ics"}, exact: true,
			outputs: map[string]string{"abcd8.ics": "7.8.4-abcd8.ics"}},
		{query: "7.8.5.xml", want: []string{"abcd5.ics"}, exact: true,
			outputs: map[string]string{"abcd5.ics": "abcd5.ics"}},
		{query: "7.8.6.xml", want: []string{"abcd3.ics"}},
		{query: "7.8.7.xml", want: []string{"abcd3.ics"}},
		{query: "7.8.8.xml", want: []string{"abcd1.ics", "abcd2.ics", "abcd3.ics"}},
		{query: "7.8.9.xml", want: []string{"abcd4.ics", "abcd5.ics"}},
		{query: "7.8.10.xml", cond: CondSupportedCollation},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q := tqReadQuery(t, filepath.Join("testdata", "rfc4791", tt.query))
			err := q.Filter.Validate()
			if tt.cond != "" {
				var qe *QueryError
				if !errors.As(err, &qe) || qe.Condition != tt.cond {
					t.Fatalf("Validate = %v, want condition %s", err, tt.cond)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if err := q.Prop.CalendarData.Validate(); err != nil {
				t.Fatalf("calendar-data Validate: %v", err)
			}
			opts := q.Filter.ListOptions()
			var got []string
			for _, o := range objs {
				ok, err := q.Filter.Match(o.cal, time.UTC, recur.DefaultLimits)
				if err != nil {
					t.Fatalf("%s: Match: %v", o.name, err)
				}
				if !ok {
					continue
				}
				got = append(got, o.name)
				if !tqCandidate(opts, o) {
					t.Errorf("%s matches but ListOptions %+v excludes it (span %v–%v)", o.name, opts, o.po.FirstStart, o.po.LastEnd)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("matched %v, want %v", got, tt.want)
			}
			for _, o := range objs {
				file, ok := tt.outputs[o.name]
				if !ok {
					continue
				}
				want, err := os.ReadFile(filepath.Join("testdata", "rfc4791", file))
				if err != nil {
					t.Fatal(err)
				}
				out, err := q.Prop.CalendarData.Render(o.body, time.UTC, recur.DefaultLimits)
				if err != nil {
					t.Fatalf("%s: Render: %v", o.name, err)
				}
				if tt.exact && !bytes.Equal(out, want) {
					t.Errorf("%s: Render =\n%s\nwant\n%s", o.name, out, want)
				}
				if !tt.exact && tqCanonical(out) != tqCanonical(want) {
					t.Errorf("%s: Render =\n%s\nwant (any property order)\n%s", o.name, out, want)
				}
			}
		})
	}
}

// TestClientQueries runs calendar-query shapes real clients send (see
// testdata/filter) against the Appendix B collection.
func TestClientQueries(t *testing.T) {
	objs := tqAppendixB(t)
	tests := []struct {
		file string
		want []string
	}{
		{"davx5-events-since.xml", []string{"abcd2.ics", "abcd3.ics"}},
		{"davx5-tasks.xml", []string{"abcd4.ics", "abcd5.ics", "abcd6.ics", "abcd7.ics"}},
		{"thunderbird-events-range.xml", []string{"abcd1.ics", "abcd2.ics"}},
		{"thunderbird-open-todos.xml", []string{"abcd5.ics"}},
		{"python-caldav-expand.xml", []string{"abcd1.ics", "abcd2.ics"}},
		{"python-caldav-uid.xml", []string{"abcd5.ics"}},
		{"python-caldav-pending-todos.xml", []string{"abcd4.ics", "abcd5.ics"}},
		{"unicode-summary.xml", []string{"abcd2.ics"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			q := tqReadQuery(t, filepath.Join("testdata", "filter", tt.file))
			if err := q.Filter.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if err := q.Prop.CalendarData.Validate(); err != nil {
				t.Fatalf("calendar-data Validate: %v", err)
			}
			opts := q.Filter.ListOptions()
			var got []string
			for _, o := range objs {
				ok, err := q.Filter.Match(o.cal, time.UTC, recur.DefaultLimits)
				if err != nil {
					t.Fatalf("%s: %v", o.name, err)
				}
				if ok {
					got = append(got, o.name)
					if !tqCandidate(opts, o) {
						t.Errorf("%s matches but ListOptions %+v excludes it", o.name, opts)
					}
					if _, err := q.Prop.CalendarData.Render(o.body, time.UTC, recur.DefaultLimits); err != nil {
						t.Errorf("%s: Render: %v", o.name, err)
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("matched %v, want %v", got, tt.want)
			}
		})
	}
}

// TestListOptionsSuperset checks, over a grid of ranges, viewer zones and
// objects, that every object Match accepts is among the candidates the SQL
// narrowing of ListOptions selects from the real index.
func TestListOptionsSuperset(t *testing.T) {
	objs := tqAppendixB(t)
	extra := map[string][]byte{
		"weekly":    tqWeekly,
		"floating":  tqWrap("BEGIN:VEVENT\nUID:f@example.com\nDTSTAMP:20060101T000000Z\nDTSTART:20060103T230000\nDTEND:20060104T010000\nEND:VEVENT\n"),
		"all-day":   tqWrap("BEGIN:VEVENT\nUID:a@example.com\nDTSTAMP:20060101T000000Z\nDTSTART;VALUE=DATE:20060104\nEND:VEVENT\n"),
		"point":     tqWrap("BEGIN:VEVENT\nUID:p@example.com\nDTSTAMP:20060101T000000Z\nDTSTART:20060104T000000Z\nEND:VEVENT\n"),
		"created":   tqWrap("BEGIN:VTODO\nUID:c@example.com\nDTSTAMP:20060101T000000Z\nCREATED:20060101T000000Z\nEND:VTODO\n"),
		"undated":   tqWrap("BEGIN:VTODO\nUID:u@example.com\nDTSTAMP:20060101T000000Z\nEND:VTODO\n"),
		"journal":   tqWrap("BEGIN:VJOURNAL\nUID:j@example.com\nDTSTAMP:20060101T000000Z\nDTSTART;VALUE=DATE:20060105\nEND:VJOURNAL\n"),
		"completed": tqWrap("BEGIN:VTODO\nUID:d@example.com\nDTSTAMP:20060101T000000Z\nCOMPLETED:20060104T120000Z\nEND:VTODO\n"),
	}
	for name, body := range extra {
		po, err := ParseObject(body, "text/calendar", nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		objs = append(objs, tqObject{name: name, body: body, cal: tqParse(t, body), po: po})
	}
	var zones []*time.Location
	for _, z := range []string{"UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York"} {
		loc, err := time.LoadLocation(z)
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, loc)
	}
	base := time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC)
	var bounds []string
	for h := 0; h <= 8*24; h += 7 {
		bounds = append(bounds, base.Add(time.Duration(h)*time.Hour).Format(timeFormatUTC))
	}
	checked := 0
	for _, comp := range []string{"VEVENT", "VTODO", "VJOURNAL"} {
		for i, s := range append([]string{""}, bounds...) {
			for _, e := range append(bounds[max(i, 1)-1:], "") {
				if s == "" && e == "" || (s != "" && e != "" && e <= s) {
					continue
				}
				f := tqFilter(t, tqRange(comp, s, e))
				opts := f.ListOptions()
				for _, o := range objs {
					for _, loc := range zones {
						ok, err := f.Match(o.cal, loc, recur.DefaultLimits)
						if err != nil {
							t.Fatalf("%s %s–%s: %v", o.name, s, e, err)
						}
						checked++
						if ok && !tqCandidate(opts, o) {
							t.Fatalf("%s matches %s %s–%s in %s, but ListOptions excludes it", o.name, comp, s, e, loc)
						}
					}
				}
			}
		}
	}
	t.Logf("%d checks", checked)
}
