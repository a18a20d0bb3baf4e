// Package recur is Davenport's recurrence and time-zone engine. Its one job:
// given a parsed iCalendar object, say when its components happen. It knows
// nothing of HTTP, WebDAV, CalDAV preconditions or storage; the calendar
// kind (package caldav) calls it and maps its errors to protocol answers.
//
// The API:
//   - expand: Instances and ComponentInstances return the instances of an
//     object (or of one component, VALARMs included) that overlap a time
//     window, each with the RFC 4791 §9.9 test for its component
//     (Instance.Overlaps).
//   - span: Span returns the first start and last end of all instances, the
//     bounds a store indexes to narrow time-range queries (nil = open).
//   - zones: Zones resolves TZID parameters (IANA names, Windows names,
//     then the object's own VTIMEZONE); Check, Zones.Time and
//     Zones.Periods read and check date, time and period values with them.
//   - limits: Limits bounds every call (instances per object and work per
//     call, counting rule iterations before the window too), so one hostile
//     rule cannot exhaust CPU or memory; the window itself may be open.
//
// Errors are of type Error (ErrTooManyInstances, ErrBadRule, ErrUnknownTZID,
// …), returned as is or wrapped with the property at fault.
//
// RFC 5545 sections implemented:
//   - §3.3.4, §3.3.5 DATE and DATE-TIME (floating, UTC and TZID forms; a
//     local time in a DST gap or overlap resolved as §3.3.5 says), §3.3.6
//     DURATION (nominal days, exact seconds), §3.3.9 PERIOD, §3.3.10 RECUR
//     (every BYxxx part, BYSETPOS, WKST, COUNT and UNTIL);
//   - §3.2.19 TZID and §3.6.5 VTIMEZONE (STANDARD/DAYLIGHT observances with
//     RRULE and RDATE onsets, evaluated into a time.Location through RFC 8536
//     TZif data);
//   - §3.8.2 DTSTART, DTEND, DUE, DURATION, §3.8.2.6 FREEBUSY, §3.8.4.4
//     RECURRENCE-ID with RANGE=THISANDFUTURE, §3.8.5.1 EXDATE, §3.8.5.2
//     RDATE (with PERIOD values), §3.8.5.3 RRULE (several per component;
//     a VTODO without DTSTART recurs from its DUE, as task apps mean it);
//   - §3.6.6 VALARM with §3.8.6.3 TRIGGER and REPEAT/DURATION;
//
// and RFC 4791 §9.9, the time-range test for VEVENT, VTODO, VJOURNAL,
// VFREEBUSY and VALARM.
//
// Imports: the standard library (time/tzdata embeds the IANA database),
// github.com/emersion/go-ical for the parsed object, and
// github.com/teambition/rrule-go for RRULE text parsing only. It imports
// nothing of Davenport: it is a format package below every kind.
package recur
