package caldav

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/internal/recur"
	"github.com/davenport-dav/davenport/store"
)

// DataProperty answers CALDAV:calendar-data requested in a prop (RFC 4791
// §9.6): the stored bytes, or the parts, expansion or limits the request
// asks for. A request the server cannot honour, or an object whose
// expansion exceeds the limits, gets its own status in that object's
// response rather than failing the whole 207.
func (Kind) DataProperty(req *dav.Element) *dav.Property {
	if req.Name != cal("calendar-data") {
		return nil
	}
	var cdr CalendarDataRequest
	reqErr := req.Decode(&cdr)
	if reqErr == nil {
		reqErr = cdr.Validate()
	}
	return &dav.Property{Name: req.Name, NeedsBody: true, Get: func(rq *dav.Request, res *dav.Resource) (*dav.Element, error) {
		if res.Type != dav.ResObject || res.Object == nil || res.Object.Body == nil {
			return nil, dav.ErrNoProperty
		}
		if reqErr != nil {
			return nil, queryError(reqErr)
		}
		out, err := cdr.Render(res.Object.Body, collectionLocation(res.Collection), recur.DefaultLimits)
		if err != nil {
			if errors.Is(err, recur.ErrTooManyInstances) {
				return nil, dav.Precondition(http.StatusForbidden, dav.NSCalDAV, "max-instances", "caldav: expansion over the limits")
			}
			return nil, err
		}
		return dav.TextElement(cal("calendar-data"), string(out)), nil
	}}
}

// queryError maps a QueryError to its precondition (RFC 4791 §7.8): 403 with
// the CALDAV element it names, or 400 when no precondition applies.
func queryError(err error) error {
	var qe *QueryError
	if errors.As(err, &qe) {
		if qe.Condition == "" {
			return &dav.Error{Status: http.StatusBadRequest, Message: qe.Error()}
		}
		return dav.Precondition(http.StatusForbidden, dav.NSCalDAV, qe.Condition, qe.Error())
	}
	return &dav.Error{Status: http.StatusBadRequest, Message: "caldav: " + err.Error()}
}

// collectionLocation is the zone floating and all-day times are read in:
// the calendar's calendar-timezone when it names a known zone, else UTC.
func collectionLocation(c *store.Collection) *time.Location {
	if c == nil || c.Timezone == "" {
		return time.UTC
	}
	return timezoneLocation(c.Timezone)
}

// timezoneLocation reads a VCALENDAR holding one VTIMEZONE (the
// calendar-timezone property, or a query's CALDAV:timezone) and returns the
// zone it defines, resolved like a TZID inside an object: an IANA name, a
// Windows name, else the VTIMEZONE's own rules. UTC when there is none.
func timezoneLocation(text string) *time.Location {
	cal, err := parseTimezone(text)
	if err != nil {
		return time.UTC
	}
	z := recur.NewZones(cal)
	for _, c := range cal.Children {
		if c.Name == ical.CompTimezone {
			if id := c.Props.Get(ical.PropTimezoneID); id != nil {
				if loc, err := z.Location(id.Value); err == nil {
					return loc
				}
			}
		}
	}
	return time.UTC
}

// parseTimezone parses a calendar-timezone value. RFC 4791 §5.2.2: it "MUST
// be a valid iCalendar object containing a single valid VTIMEZONE
// component" — and nothing else the server would have to ignore.
func parseTimezone(text string) (cal *ical.Calendar, err error) {
	defer func() {
		// go-ical sees client bytes here: a parser bug is a bad value.
		if r := recover(); r != nil {
			cal, err = nil, errors.New("caldav: calendar-timezone does not parse")
		}
	}()
	if err := checkNesting([]byte(text)); err != nil {
		return nil, err
	}
	cal, err = ical.NewDecoder(strings.NewReader(text)).Decode()
	if err != nil {
		return nil, err
	}
	n := 0
	for _, c := range cal.Children {
		if c.Name != ical.CompTimezone {
			return nil, errors.New("caldav: calendar-timezone holds a " + c.Name)
		}
		if id := c.Props.Get(ical.PropTimezoneID); id == nil || id.Value == "" {
			return nil, errors.New("caldav: VTIMEZONE without TZID")
		}
		n++
	}
	if n != 1 {
		return nil, errors.New("caldav: calendar-timezone must hold exactly one VTIMEZONE")
	}
	return cal, nil
}

// Report answers the CalDAV REPORTs.
func (Kind) Report(rq *dav.Request, w http.ResponseWriter, res *dav.Resource, body *dav.Element) (bool, error) {
	switch body.Name {
	case cal("calendar-multiget"), cal("calendar-query"):
		// A calendar-data request the server cannot honour fails the
		// whole REPORT (RFC 4791 §7.8, §7.9 preconditions), before any
		// object is read, not once in every object's response.
		if err := checkCalendarData(body.Child(dav.Name("prop"))); err != nil {
			return true, err
		}
	}
	switch body.Name {
	case cal("calendar-multiget"):
		return true, rq.H.Multiget(rq, w, res, body)
	case cal("calendar-query"):
		return true, calendarQuery(rq, w, res, body)
	case cal("free-busy-query"):
		return true, freeBusyQuery(rq, w, res, body)
	}
	return false, nil
}

// checkCalendarData validates the calendar-data elements of a REPORT's prop.
func checkCalendarData(prop *dav.Element) error {
	for _, el := range prop.ChildrenNamed(cal("calendar-data")) {
		var cdr CalendarDataRequest
		err := el.Decode(&cdr)
		if err == nil {
			err = cdr.Validate()
		}
		if err != nil {
			return queryError(err)
		}
	}
	return nil
}

// calendarQuery answers calendar-query (RFC 4791 §7.8): SQL narrows the
// candidates by component and instance span, the exact §9.7 filter runs on
// those only.
func calendarQuery(rq *dav.Request, w http.ResponseWriter, res *dav.Resource, body *dav.Element) error {
	fe := body.Child(cal("filter"))
	if fe == nil {
		// §7.8: "The CALDAV:filter element MUST be present".
		return dav.Precondition(http.StatusForbidden, dav.NSCalDAV, CondValidFilter, "caldav: calendar-query without filter")
	}
	var f Filter
	if err := fe.Decode(&f); err != nil {
		return queryError(err)
	}
	if err := f.Validate(); err != nil {
		return queryError(err)
	}
	loc := collectionLocation(res.Collection)
	if tz := body.Child(cal("timezone")); tz != nil {
		loc = timezoneLocation(tz.Text)
	}
	opts := f.ListOptions()
	if f.ByComponent() {
		// The store's narrowing is exact: no body needs reading.
		opts.WithBody = false
		return rq.H.Query(rq, w, res, body.Child(dav.Name("prop")), opts, nil, 0)
	}
	match := func(o *store.Object) (bool, error) {
		c, err := ical.NewDecoder(bytes.NewReader(o.Body)).Decode()
		if err != nil {
			return false, nil // stored objects were validated; a parse failure cannot match
		}
		ok, err := f.Match(c, loc, recur.DefaultLimits)
		if errors.Is(err, recur.ErrTooManyInstances) {
			// More instances than the limits allow means instances exist in
			// the range: the object is an answer.
			return true, nil
		}
		return ok, err
	}
	return rq.H.Query(rq, w, res, body.Child(dav.Name("prop")), opts, match, 0)
}

// freeBusyQuery answers free-busy-query (RFC 4791 §7.10) with a VFREEBUSY
// built from the calendar's events in the range.
func freeBusyQuery(rq *dav.Request, w http.ResponseWriter, res *dav.Resource, body *dav.Element) error {
	if res.Type != dav.ResCollection {
		return &dav.Error{Status: http.StatusForbidden, Condition: dav.NewElement(dav.Name("supported-report"))}
	}
	tre := body.Child(cal("time-range"))
	if tre == nil {
		return &dav.Error{Status: http.StatusBadRequest, Message: "caldav: free-busy-query without time-range"}
	}
	var tr TimeRange
	if err := tre.Decode(&tr); err != nil {
		return queryError(err)
	}
	if tr.Start.IsZero() || tr.End.IsZero() || !tr.Start.Before(tr.End) {
		return &dav.Error{Status: http.StatusBadRequest, Message: "caldav: free-busy-query needs start < end"}
	}
	start, end := tr.Start, tr.End
	// §7.10: busy time comes from VEVENTs and from the FREEBUSY
	// properties of VFREEBUSY components.
	var cals []*ical.Calendar
	for _, comp := range []string{ical.CompEvent, ical.CompFreeBusy} {
		objs, err := rq.H.Store.ListObjects(rq.Ctx, res.Collection.ID, store.ListObjectsOptions{WithBody: true, Component: comp, Start: &start, End: &end})
		if err != nil {
			return err
		}
		for _, o := range objs {
			if c, err := ical.NewDecoder(bytes.NewReader(o.Body)).Decode(); err == nil {
				cals = append(cals, c)
			}
		}
	}
	out, err := FreeBusy(cals, start, end, collectionLocation(res.Collection), recur.DefaultLimits)
	if err != nil {
		if errors.Is(err, recur.ErrTooManyInstances) {
			return dav.Precondition(http.StatusForbidden, dav.NSCalDAV, "max-instances", "caldav: free-busy expansion over the limits")
		}
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.Write(out)
	return nil
}
