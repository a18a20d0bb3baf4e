package caldav

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/internal/contentline"
	"github.com/davenport-dav/davenport/internal/recur"
)

// CALDAV precondition element names (RFC 4791 §5.3.2.1) used as
// ValidationError.Condition.
const (
	CondValidCalendarData           = "valid-calendar-data"
	CondValidCalendarObjectResource = "valid-calendar-object-resource"
	CondSupportedCalendarComponent  = "supported-calendar-component"
	CondSupportedCalendarData       = "supported-calendar-data"
)

// ValidationError is a failed RFC 4791 precondition. Condition is the local
// name of the CALDAV: element to put in the DAV:error body; Reason is for
// logs and may be shown to the client as a description.
type ValidationError struct {
	Condition string
	Reason    string
}

func (e *ValidationError) Error() string {
	return "caldav: " + e.Condition + ": " + e.Reason
}

func invalid(cond, format string, args ...any) *ValidationError {
	return &ValidationError{Condition: cond, Reason: fmt.Sprintf(format, args...)}
}

// ParsedObject is a validated calendar object resource with its index.
type ParsedObject struct {
	Cal       *ical.Calendar
	UID       string
	Component string // VEVENT, VTODO, VJOURNAL, VFREEBUSY or VAVAILABILITY
	// FirstStart and LastEnd bound the span of all instances, as Span
	// computes it; nil is unbounded on that side.
	FirstStart *time.Time
	LastEnd    *time.Time
	// Body is what to store: the body as sent, without a byte order mark.
	Body []byte
}

// ParseObject validates body as a calendar object resource (RFC 4791 §4.1,
// §5.3.2) whose component must be in allowed (nil: any, RFC 4791 §5.2.3),
// with contentType as the client sent it, and indexes it. Failures are
// *ValidationError.
func ParseObject(body []byte, contentType string, allowed []string) (*ParsedObject, error) {
	if err := checkContentType(contentType); err != nil {
		return nil, err
	}
	// A UTF-8 byte order mark before BEGIN:VCALENDAR (some Windows
	// exporters write one) has no place in RFC 5545's grammar, and go-ical
	// refuses it. Accept it, and store and serve the object without it, so
	// that no other client has to cope with it.
	body, _ = contentline.TrimBOM(body)
	cal, err := decodeCalendar(body)
	if err != nil {
		return nil, err
	}
	if allowed == nil {
		allowed = mainComponents
	}
	z := recur.NewZones(cal)
	po, err := validateStructure(cal, allowed, z)
	if err != nil {
		return nil, err
	}
	po.FirstStart, po.LastEnd = recur.Span(cal, z, recur.DefaultLimits)
	po.Body = body
	return po, nil
}

// checkContentType implements RFC 4791 §5.3.2.1 CALDAV:supported-calendar-data:
// "The resource submitted in the PUT request, or targeted by a COPY or MOVE
// request, MUST be a supported media type (i.e., iCalendar) for calendar
// object resources". An absent Content-Type is accepted (some clients omit
// it); a charset other than UTF-8 is refused (RFC 5545 §3.1.4 default is
// UTF-8, and the stored bytes are served as UTF-8).
func checkContentType(ct string) error {
	if strings.TrimSpace(ct) == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return invalid(CondSupportedCalendarData, "unparsable content type %q", ct)
	}
	if mt != "text/calendar" {
		return invalid(CondSupportedCalendarData, "content type %q is not text/calendar", mt)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return invalid(CondSupportedCalendarData, "charset %q is not UTF-8", cs)
	}
	if v, ok := params["version"]; ok && v != "2.0" {
		return invalid(CondSupportedCalendarData, "iCalendar version %q is not 2.0", v)
	}
	return nil
}

// maxNesting bounds BEGIN nesting; real objects nest three deep
// (VCALENDAR/VEVENT/VALARM, VCALENDAR/VTIMEZONE/STANDARD).
const maxNesting = 8

// decodeCalendar parses exactly one VCALENDAR. Unparsable data fails
// valid-calendar-data (RFC 4791 §5.3.2.1: "The resource submitted in the PUT
// request, or targeted by a COPY or MOVE request, MUST be valid data for the
// media type being specified"); a second VCALENDAR fails
// valid-calendar-object-resource, since a calendar object resource is one
// iCalendar object (RFC 4791 §4.1).
func decodeCalendar(body []byte) (cal *ical.Calendar, err error) {
	if !utf8.Valid(body) {
		return nil, invalid(CondValidCalendarData, "body is not UTF-8")
	}
	// RFC 5545 §3.1: names, parameter values (SAFE-CHAR, QSAFE-CHAR) and
	// values (VALUE-CHAR; TSAFE-CHAR for TEXT, §3.3.11) hold no control
	// character but HTAB ("CONTROL = %x00-08 / %x0A-1F / %x7F"). go-ical
	// lets them through, and a NUL or an escape sequence in a SUMMARY is
	// no text any client can show.
	if i := contentline.BodyControlChar(body); i >= 0 {
		return nil, invalid(CondValidCalendarData, "control character %#02x at offset %d", body[i], i)
	}
	if err := checkNesting(body); err != nil {
		return nil, err
	}
	defer func() {
		// go-ical is a third-party parser fed client bytes: never let a
		// bug there take the request down.
		if r := recover(); r != nil {
			cal, err = nil, invalid(CondValidCalendarData, "parser failure: %v", r)
		}
	}()
	dec := ical.NewDecoder(bytes.NewReader(body))
	cal, err = dec.Decode()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, invalid(CondValidCalendarData, "the body ends before END:VCALENDAR")
	}
	if err != nil {
		return nil, invalid(CondValidCalendarData, "%v", err)
	}
	// RFC 5545 §3.4: an iCalendar stream may hold several objects; a
	// calendar object resource holds exactly one.
	if _, err := dec.Decode(); err == nil {
		return nil, invalid(CondValidCalendarObjectResource, "more than one VCALENDAR")
	} else if !errors.Is(err, io.EOF) {
		return nil, invalid(CondValidCalendarData, "trailing data: %v", err)
	}
	return cal, nil
}

// checkNesting refuses bodies whose BEGIN lines nest deeper than maxNesting,
// before the recursive parser sees them.
func checkNesting(body []byte) error {
	depth := 0
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		switch {
		case hasPrefixFold(line, "BEGIN:"):
			if depth++; depth > maxNesting {
				return invalid(CondValidCalendarData, "components nested deeper than %d", maxNesting)
			}
		case hasPrefixFold(line, "END:"):
			depth--
		}
	}
	return nil
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}
