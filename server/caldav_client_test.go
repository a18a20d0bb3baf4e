package server_test

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	gocaldav "github.com/emersion/go-webdav/caldav"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestGoWebDAVCalDAVClient drives the server with go-webdav's CalDAV client,
// the library davenport import uses against other servers: discovery, PUT,
// GET, calendar-query with a time range, calendar-multiget, MOVE and DELETE.
func TestGoWebDAVCalDAVClient(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		hc := webdav.HTTPClientWithBasicAuth(http.DefaultClient, "alice", alicePassword)
		c, err := gocaldav.NewClient(hc, e.srv.URL)
		if err != nil {
			t.Fatal(err)
		}

		principal, err := c.FindCurrentUserPrincipal(ctx)
		if err != nil || principal != "/dav/principals/alice/" {
			t.Fatalf("FindCurrentUserPrincipal: %q, %v", principal, err)
		}
		home, err := c.FindCalendarHomeSet(ctx, principal)
		if err != nil || home != calHome {
			t.Fatalf("FindCalendarHomeSet: %q, %v", home, err)
		}
		cals, err := c.FindCalendars(ctx, home)
		if err != nil {
			t.Fatalf("FindCalendars: %v", err)
		}
		// The user's calendar, and their Birthdays calendar (birthdays_test.go).
		if len(cals) != 2 || cals[0].Path != personalCal || cals[0].Name != "Personal" ||
			cals[0].MaxResourceSize != 1<<20 || !slices.Equal(cals[0].SupportedComponentSet, []string{"VEVENT", "VTODO"}) ||
			cals[1].Path != "/dav/calendars/alice/contact_birthdays/" {
			t.Fatalf("FindCalendars: %+v", cals)
		}

		day := func(d, h int) time.Time { return time.Date(2026, time.May, d, h, 0, 0, 0, time.UTC) }
		objects := map[string]*ical.Calendar{
			personalCal + "one.ics":    clientEvent("one@davenport.test", "One", day(4, 9), day(4, 10), ""),
			personalCal + "two.ics":    clientEvent("two@davenport.test", "Two", day(6, 14), day(6, 15), ""),
			personalCal + "weekly.ics": clientEvent("weekly@davenport.test", "Weekly", day(1, 8), day(1, 9), "FREQ=WEEKLY;COUNT=4"),
			personalCal + "later.ics":  clientEvent("later@davenport.test", "Later", day(28, 12), day(28, 13), ""),
		}
		etags := map[string]string{}
		for path, cal := range objects {
			co, err := c.PutCalendarObject(ctx, path, cal)
			if err != nil {
				t.Fatalf("PutCalendarObject %s: %v", path, err)
			}
			if co.ETag == "" {
				t.Errorf("PutCalendarObject %s: no ETag", path)
			}
			etags[path] = co.ETag
		}

		got, err := c.GetCalendarObject(ctx, personalCal+"one.ics")
		if err != nil {
			t.Fatalf("GetCalendarObject: %v", err)
		}
		if got.ETag != etags[personalCal+"one.ics"] || got.ModTime.IsZero() || got.ContentLength == 0 {
			t.Errorf("GetCalendarObject: ETag %q (PUT gave %q), ModTime %v, length %d", got.ETag, etags[personalCal+"one.ics"], got.ModTime, got.ContentLength)
		}
		if s := summary(got.Data); s != "One" {
			t.Errorf("GetCalendarObject SUMMARY %q", s)
		}

		// May 5–13: two (May 6) and weekly (May 8); one (May 4) and later
		// (May 28) are outside, and weekly's first instance (May 1) too.
		query := &gocaldav.CalendarQuery{
			CompRequest: gocaldav.CalendarCompRequest{Name: "VCALENDAR", AllProps: true, AllComps: true},
			CompFilter: gocaldav.CompFilter{Name: "VCALENDAR", Comps: []gocaldav.CompFilter{
				{Name: "VEVENT", Start: day(5, 0), End: day(13, 0)},
			}},
		}
		found, err := c.QueryCalendar(ctx, personalCal, query)
		if err != nil {
			t.Fatalf("QueryCalendar: %v", err)
		}
		if paths := objectPaths(found); !slices.Equal(paths, []string{personalCal + "two.ics", personalCal + "weekly.ics"}) {
			t.Errorf("QueryCalendar found %v", paths)
		}
		for _, o := range found {
			if o.ETag != etags[o.Path] || o.Data == nil {
				t.Errorf("QueryCalendar %s: ETag %q (PUT gave %q), data %v", o.Path, o.ETag, etags[o.Path], o.Data != nil)
			}
		}

		mg, err := c.MultiGetCalendar(ctx, personalCal, &gocaldav.CalendarMultiGet{
			Paths:       []string{personalCal + "one.ics", personalCal + "later.ics"},
			CompRequest: gocaldav.CalendarCompRequest{Name: "VCALENDAR", AllProps: true, AllComps: true},
		})
		if err != nil {
			t.Fatalf("MultiGetCalendar: %v", err)
		}
		if paths := objectPaths(mg); !slices.Equal(paths, []string{personalCal + "later.ics", personalCal + "one.ics"}) {
			t.Errorf("MultiGetCalendar returned %v", paths)
		}
		for _, o := range mg {
			if o.ETag != etags[o.Path] || summary(o.Data) == "" {
				t.Errorf("MultiGetCalendar %s: ETag %q, SUMMARY %q", o.Path, o.ETag, summary(o.Data))
			}
		}

		// MOVE through the WebDAV client, then delete.
		if err := c.Move(ctx, personalCal+"later.ics", personalCal+"moved.ics", &webdav.MoveOptions{NoOverwrite: true}); err != nil {
			t.Fatalf("Move: %v", err)
		}
		if _, err := c.GetCalendarObject(ctx, personalCal+"moved.ics"); err != nil {
			t.Errorf("GetCalendarObject after Move: %v", err)
		}
		for _, p := range []string{personalCal + "one.ics", personalCal + "moved.ics"} {
			if err := c.RemoveAll(ctx, p); err != nil {
				t.Fatalf("RemoveAll %s: %v", p, err)
			}
			if _, err := c.GetCalendarObject(ctx, p); err == nil {
				t.Errorf("GetCalendarObject %s after RemoveAll succeeded", p)
			}
		}
		found, err = c.QueryCalendar(ctx, personalCal, &gocaldav.CalendarQuery{
			CompRequest: gocaldav.CalendarCompRequest{Name: "VCALENDAR"},
			CompFilter:  gocaldav.CompFilter{Name: "VCALENDAR", Comps: []gocaldav.CompFilter{{Name: "VEVENT"}}},
		})
		if err != nil {
			t.Fatalf("QueryCalendar after deletes: %v", err)
		}
		if paths := objectPaths(found); !slices.Equal(paths, []string{personalCal + "two.ics", personalCal + "weekly.ics"}) {
			t.Errorf("after deletes the calendar holds %v", paths)
		}
	})
}

func clientEvent(uid, summary string, start, end time.Time, rrule string) *ical.Calendar {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//Davenport//go-webdav test//EN")
	ev := ical.NewEvent()
	ev.Props.SetText(ical.PropUID, uid)
	ev.Props.SetDateTime(ical.PropDateTimeStamp, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	ev.Props.SetDateTime(ical.PropDateTimeStart, start)
	ev.Props.SetDateTime(ical.PropDateTimeEnd, end)
	ev.Props.SetText(ical.PropSummary, summary)
	if rrule != "" {
		p := ical.NewProp(ical.PropRecurrenceRule)
		p.Value = rrule
		ev.Props.Set(p)
	}
	cal.Children = append(cal.Children, ev.Component)
	return cal
}

func summary(cal *ical.Calendar) string {
	if cal == nil {
		return ""
	}
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent {
			if p := c.Props.Get(ical.PropSummary); p != nil {
				return p.Value
			}
		}
	}
	return ""
}

func objectPaths(objs []gocaldav.CalendarObject) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Path
	}
	sort.Strings(out)
	return out
}
