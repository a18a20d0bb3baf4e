package recur

// Error is the type of this package's errors. The constants below are its
// values; functions return one of them or wrap one with %w, adding the
// property and the text at fault, so a caller can tell them apart with
// errors.Is and recognise any of them with errors.As. The text carries its
// "recur: " prefix, so Error allocates nothing.
type Error string

func (e Error) Error() string { return string(e) }

const (
	// ErrTooManyInstances is returned when expanding a recurrence would
	// exceed a Limits bound: too many instances, or too much work (rule
	// iterations, including the ones skipped because they fall before the
	// requested range).
	ErrTooManyInstances Error = "recur: too many recurrence instances"
	// ErrBadDateTime is a malformed DATE or DATE-TIME value (RFC 5545
	// §3.3.4, §3.3.5).
	ErrBadDateTime Error = "recur: invalid DATE or DATE-TIME value"
	// ErrBadDuration is a malformed DURATION value (RFC 5545 §3.3.6).
	ErrBadDuration Error = "recur: invalid DURATION value"
	// ErrBadPeriod is a malformed PERIOD value (RFC 5545 §3.3.9).
	ErrBadPeriod Error = "recur: invalid PERIOD value"
	// ErrBadRule is an RRULE value that cannot be used (RFC 5545 §3.3.10).
	ErrBadRule Error = "recur: invalid RRULE"
	// ErrNoStart is a component without a usable DTSTART, the anchor of
	// its recurrence (RFC 5545 §3.8.5.3); a VTODO with DUE and no DTSTART
	// is anchored on its DUE instead.
	ErrNoStart Error = "recur: component has no usable start"
	// ErrUnknownTZID is a TZID that is neither defined by a VTIMEZONE in
	// the object, nor an IANA zone name, nor a Windows zone name.
	ErrUnknownTZID Error = "recur: unknown TZID"
	// ErrBadVTimezone is a VTIMEZONE whose observances cannot be evaluated
	// (RFC 5545 §3.6.5).
	ErrBadVTimezone Error = "recur: unusable VTIMEZONE"
)
