package caldav

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/davenport-dav/davenport/internal/recur"
)

// CalendarDataRequest is CALDAV:calendar-data inside a DAV:prop of a REPORT
// (RFC 4791 §9.6): which parts of each calendar object to return.
//
//	<!ELEMENT calendar-data (comp?, (expand | limit-recurrence-set)?, limit-freebusy-set?)>
//	<!ATTLIST calendar-data content-type CDATA "text/calendar" version CDATA "2.0">
//
// Decode it with encoding/xml, call Validate once per request, then Render
// for each object.
type CalendarDataRequest struct {
	XMLName     xml.Name
	ContentType string // the content-type attribute; empty means text/calendar
	Version     string // the version attribute; empty means 2.0
	// Comp selects components and properties (§9.6.1); nil returns all.
	Comp *CompRequest
	// Expand asks for the recurrence set as separate instances (§9.6.5).
	Expand *TimeRange
	// LimitRecurrenceSet keeps the master and the overrides that affect the
	// range (§9.6.6).
	LimitRecurrenceSet *TimeRange
	// LimitFreeBusySet keeps only the FREEBUSY periods in the range (§9.6.7).
	LimitFreeBusySet *TimeRange

	problem string
}

// CompRequest is CALDAV:comp (RFC 4791 §9.6.1):
// <!ELEMENT comp ((allprop | prop*), (allcomp | comp*))>.
//
// RFC 4791's examples fix what omitted halves mean: a comp element with no
// children returns the whole component (§7.8.1, <C:comp name="VTIMEZONE"/>);
// one that names components but no properties returns all its properties
// (§7.8.3, VCALENDAR keeps VERSION and PRODID); one that names properties but
// no components returns no sub-components (§7.8.1, VEVENT without VALARM).
type CompRequest struct {
	Name    string // upper-case component name
	AllProp bool
	Props   []PropRequest
	AllComp bool
	Comps   []CompRequest

	problem string
}

// PropRequest is CALDAV:prop (RFC 4791 §9.6.4): a property to return;
// NoValue returns it without its value.
type PropRequest struct {
	Name    string // upper-case property name
	NoValue bool
}

// HasRestriction reports whether Render can return anything but the stored
// bytes.
func (r *CalendarDataRequest) HasRestriction() bool {
	return r != nil && (r.Comp != nil || r.Expand != nil || r.LimitRecurrenceSet != nil || r.LimitFreeBusySet != nil)
}

// UnmarshalXML decodes calendar-data, keeping structural problems for
// Validate. Character data (calendar-data as a response value) is ignored.
func (r *CalendarDataRequest) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	*r = CalendarDataRequest{XMLName: start.Name}
	for _, a := range start.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "content-type":
			r.ContentType = a.Value
		case "version":
			r.Version = a.Value
		}
	}
	return decodeChildren(d, func(child xml.StartElement) error {
		var dst **TimeRange
		switch child.Name.Local {
		case "comp":
			if r.Comp != nil {
				r.problem = "more than one comp in calendar-data"
				return d.Skip()
			}
			r.Comp = new(CompRequest)
			return d.DecodeElement(r.Comp, &child)
		case "expand":
			dst = &r.Expand
		case "limit-recurrence-set":
			dst = &r.LimitRecurrenceSet
		case "limit-freebusy-set":
			dst = &r.LimitFreeBusySet
		default:
			r.problem = "unexpected element " + child.Name.Local + " in calendar-data"
			return d.Skip()
		}
		if *dst != nil {
			r.problem = "repeated " + child.Name.Local + " in calendar-data"
		}
		*dst = new(TimeRange)
		return d.DecodeElement(*dst, &child)
	})
}

// UnmarshalXML decodes a comp element.
func (c *CompRequest) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	*c = CompRequest{}
	name, ok := nameAttr(start)
	c.Name = name
	if !ok {
		c.problem = "comp without a name"
	}
	return decodeChildren(d, func(child xml.StartElement) error {
		switch child.Name.Local {
		case "allprop":
			c.AllProp = true
			return d.Skip()
		case "allcomp":
			c.AllComp = true
			return d.Skip()
		case "prop":
			p := PropRequest{}
			name, ok := nameAttr(child)
			if !ok {
				c.problem = "prop without a name"
			}
			p.Name = name
			for _, a := range child.Attr {
				if a.Name.Space == "" && a.Name.Local == "novalue" {
					switch a.Value {
					case "yes":
						p.NoValue = true
					case "no":
					default:
						c.problem = fmt.Sprintf("novalue %q is neither yes nor no", a.Value)
					}
				}
			}
			c.Props = append(c.Props, p)
			return d.Skip()
		case "comp":
			var sub CompRequest
			if err := d.DecodeElement(&sub, &child); err != nil {
				return err
			}
			c.Comps = append(c.Comps, sub)
			return nil
		}
		c.problem = "unexpected element " + child.Name.Local + " in comp"
		return d.Skip()
	})
}

// Validate checks the request. It returns a *QueryError with
// CondSupportedCalendarData when content-type or version name a format this
// server does not produce (RFC 4791 §9.6: "the server MUST respond with a
// CALDAV:supported-calendar-data error" is the calendar-query precondition
// of §7.8), and a *QueryError with an empty Condition (400) for a malformed
// element.
func (r *CalendarDataRequest) Validate() error {
	if r == nil {
		return nil
	}
	if ct := strings.TrimSpace(r.ContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "text/calendar" {
			return &QueryError{Condition: CondSupportedCalendarData, Reason: fmt.Sprintf("content-type %q is not supported", r.ContentType)}
		}
	}
	if v := strings.TrimSpace(r.Version); v != "" && v != "2.0" {
		return &QueryError{Condition: CondSupportedCalendarData, Reason: fmt.Sprintf("version %q is not supported", r.Version)}
	}
	if r.problem != "" {
		return &QueryError{Reason: r.problem}
	}
	if r.Expand != nil && r.LimitRecurrenceSet != nil {
		return &QueryError{Reason: "expand and limit-recurrence-set together in calendar-data"}
	}
	for _, x := range []struct {
		name string
		tr   *TimeRange
	}{{"expand", r.Expand}, {"limit-recurrence-set", r.LimitRecurrenceSet}, {"limit-freebusy-set", r.LimitFreeBusySet}} {
		if x.tr == nil {
			continue
		}
		// RFC 4791 §9.6.5–§9.6.7: start and end are both required, and the
		// end "MUST be greater than" the start.
		switch {
		case x.tr.problem != "":
			return &QueryError{Reason: x.name + ": " + x.tr.problem}
		case x.tr.Start.IsZero() || x.tr.End.IsZero():
			return &QueryError{Reason: x.name + " needs both start and end"}
		case !x.tr.End.After(x.tr.Start):
			return &QueryError{Reason: x.name + " end is not after start"}
		}
	}
	if r.Comp != nil {
		if r.Comp.problem == "" && r.Comp.Name != "VCALENDAR" {
			return &QueryError{Reason: fmt.Sprintf("calendar-data comp is %q, not VCALENDAR", r.Comp.Name)}
		}
		if err := r.Comp.validate(1); err != nil {
			return err
		}
	}
	return nil
}

func (c *CompRequest) validate(depth int) error {
	switch {
	case c.problem != "":
		return &QueryError{Reason: c.problem}
	case depth > maxFilterDepth:
		return &QueryError{Reason: "comp nested too deep"}
	case c.AllProp && len(c.Props) > 0:
		return &QueryError{Reason: "allprop and prop together in comp " + c.Name}
	case c.AllComp && len(c.Comps) > 0:
		return &QueryError{Reason: "allcomp and comp together in comp " + c.Name}
	}
	for i := range c.Comps {
		if err := c.Comps[i].validate(depth + 1); err != nil {
			return err
		}
	}
	return nil
}

// Render returns the calendar data to put in the response for one stored
// object. Without any restriction it returns body itself: the bytes the
// client stored, verbatim. Otherwise it applies limit-freebusy-set, then
// expand or limit-recurrence-set, then the comp selection; the parts kept
// are copied line for line from body (folding included, line ends made
// CRLF), and only lines the server changes are written anew. loc is the
// time zone for floating and all-day values (the query's CALDAV:timezone or
// the calendar's); lim bounds recurrence expansion, and ErrTooManyInstances
// is returned when it is exceeded. r must have passed Validate.
func (r *CalendarDataRequest) Render(body []byte, loc *time.Location, lim recur.Limits) ([]byte, error) {
	if !r.HasRestriction() {
		return body, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	root, err := parseRaw(body)
	if err != nil {
		return nil, err
	}
	if root.name != ical.CompCalendar {
		return nil, fmt.Errorf("%w: top-level component is %s", errRawSyntax, root.name)
	}
	if tr := r.LimitFreeBusySet; tr != nil {
		limitFreeBusy(root, tr.Start, tr.End)
	}
	switch {
	case r.Expand != nil:
		if err := expandRecurrences(root, r.Expand.Start, r.Expand.End, loc, lim); err != nil {
			return nil, err
		}
	case r.LimitRecurrenceSet != nil:
		if err := limitRecurrenceSet(root, r.LimitRecurrenceSet.Start, r.LimitRecurrenceSet.End, loc, lim); err != nil {
			return nil, err
		}
	}
	if r.Comp != nil {
		root = selectComp(root, r.Comp)
	}
	var b bytes.Buffer
	b.Grow(len(body))
	root.writeTo(&b)
	return b.Bytes(), nil
}

// selectComp returns the parts of c that req asks for (RFC 4791 §9.6.1).
func selectComp(c *rawComp, req *CompRequest) *rawComp {
	empty := !req.AllProp && len(req.Props) == 0 && !req.AllComp && len(req.Comps) == 0
	allProps := req.AllProp || len(req.Props) == 0
	allComps := req.AllComp || empty
	out := &rawComp{name: c.name, begin: c.begin, end: c.end}
	for _, it := range c.items {
		if it.prop != nil {
			if allProps {
				out.items = append(out.items, it)
				continue
			}
			for _, p := range req.Props {
				if p.Name != it.prop.name {
					continue
				}
				if p.NoValue {
					out.items = append(out.items, rawItem{prop: withoutValue(it.prop)})
				} else {
					out.items = append(out.items, it)
				}
				break
			}
			continue
		}
		if allComps {
			out.items = append(out.items, it)
			continue
		}
		for i := range req.Comps {
			if req.Comps[i].Name == it.comp.name {
				out.items = append(out.items, rawItem{comp: selectComp(it.comp, &req.Comps[i])})
				break
			}
		}
	}
	return out
}

// withoutValue returns the property with its name and parameters but an
// empty value (RFC 4791 §9.6.4 novalue="yes").
func withoutValue(p *rawProp) *rawProp {
	cl, err := p.parsed()
	if err != nil {
		return newProp(p.name + ":")
	}
	return newProp(cl.Head() + ":")
}
