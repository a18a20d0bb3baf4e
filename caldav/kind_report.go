package caldav

import (
	"bytes"
	"errors"
	"net/http"
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
//
// A calendar-data request the server cannot honour fails a calendar-query
// or calendar-multiget as a whole (RFC 4791 §7.8, §7.9 preconditions):
// that is the error returned beside the property.
func (Kind) DataProperty(req *dav.Element) (*dav.Property, error) {
	if req.Name != cal("calendar-data") {
		return nil, nil
	}
	var cdr CalendarDataRequest
	reqErr := req.Decode(&cdr)
	if reqErr == nil {
		reqErr = cdr.Validate()
	}
	var reportErr error
	if reqErr != nil {
		reportErr = queryError(reqErr)
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
	}}, reportErr
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

// Report plans the CalDAV REPORTs.
func (Kind) Report(rq *dav.Request, res *dav.Resource, body *dav.Element) (dav.Plan, error) {
	switch body.Name {
	case cal("calendar-multiget"):
		return dav.NewMultigetPlan(body), nil
	case cal("calendar-query"):
		return calendarQuery(res, body)
	case cal("free-busy-query"):
		return freeBusyQuery(res, body)
	}
	return nil, &dav.Error{Status: http.StatusForbidden, Condition: dav.NewElement(dav.Name("supported-report"))}
}

// calendarQuery plans calendar-query (RFC 4791 §7.8): SQL narrows the
// candidates by component and instance span, the exact §9.7 filter runs on
// those only.
func calendarQuery(res *dav.Resource, body *dav.Element) (dav.Plan, error) {
	fe := body.Child(cal("filter"))
	if fe == nil {
		// §7.8: "The CALDAV:filter element MUST be present".
		return nil, dav.Precondition(http.StatusForbidden, dav.NSCalDAV, CondValidFilter, "caldav: calendar-query without filter")
	}
	var f Filter
	if err := fe.Decode(&f); err != nil {
		return nil, queryError(err)
	}
	if err := f.Validate(); err != nil {
		return nil, queryError(err)
	}
	loc := collectionLocation(res.Collection)
	if tz := body.Child(cal("timezone")); tz != nil {
		if err := CheckQueryTimezone(tz.Text); err != nil {
			return nil, queryError(err)
		}
		loc = timezoneLocation(tz.Text)
	}
	plan := &dav.QueryPlan{Options: f.ListOptions(), Prop: body.Child(dav.Name("prop"))}
	if f.ByComponent() {
		// The store's narrowing is exact: no body needs reading.
		plan.Options.WithBody = false
		return plan, nil
	}
	plan.Match = func(o *store.Object) (bool, error) {
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
	return plan, nil
}

// freeBusyQuery plans free-busy-query (RFC 4791 §7.10): the engine pages
// the calendar's events and VFREEBUSY components in the range through a
// fold that keeps only the merged busy periods, then answers with the
// VFREEBUSY built from them.
func freeBusyQuery(res *dav.Resource, body *dav.Element) (dav.Plan, error) {
	if res.Type != dav.ResCollection {
		return nil, &dav.Error{Status: http.StatusForbidden, Condition: dav.NewElement(dav.Name("supported-report"))}
	}
	tre := body.Child(cal("time-range"))
	if tre == nil {
		return nil, &dav.Error{Status: http.StatusBadRequest, Message: "caldav: free-busy-query without time-range"}
	}
	var tr TimeRange
	if err := tre.Decode(&tr); err != nil {
		return nil, queryError(err)
	}
	if tr.Start.IsZero() || tr.End.IsZero() || !tr.Start.Before(tr.End) {
		return nil, &dav.Error{Status: http.StatusBadRequest, Message: "caldav: free-busy-query needs start < end"}
	}
	start, end := tr.Start, tr.End
	fb := newBusyTime(start, end, collectionLocation(res.Collection), recur.DefaultLimits)
	// §7.10: busy time comes from VEVENTs and from the FREEBUSY
	// properties of VFREEBUSY components.
	scans := []store.ListObjectsOptions{
		{Component: ical.CompEvent, Start: &start, End: &end},
		{Component: ical.CompFreeBusy, Start: &start, End: &end},
	}
	return &dav.FoldPlan{Scans: scans, Fold: freeBusyFold{fb}}, nil
}

// freeBusyFold feeds stored objects into busy time.
type freeBusyFold struct{ *busyTime }

func (f freeBusyFold) Add(o *store.Object) error {
	c, err := ical.NewDecoder(bytes.NewReader(o.Body)).Decode()
	if err != nil {
		return nil // stored objects were validated; one that no longer parses is not busy
	}
	if err := f.add(c); err != nil {
		if errors.Is(err, recur.ErrTooManyInstances) {
			return dav.Precondition(http.StatusForbidden, dav.NSCalDAV, "max-instances", "caldav: free-busy expansion over the limits")
		}
		return err
	}
	return nil
}

func (f freeBusyFold) Finish() (*dav.BodyPlan, error) {
	return &dav.BodyPlan{ContentType: "text/calendar; charset=utf-8", Body: f.encode(time.Now())}, nil
}
