// Package caldav is the calendar collection kind of Davenport's dav engine
// (RFC 4791): resource types and live properties of calendars, MKCALENDAR,
// PUT validation and indexing of calendar object resources (§4.1, §5.3.2,
// with the CALDAV: precondition of each failure), the calendar-query and
// calendar-multiget REPORTs with their filters (§7.8, §9.7, the time-range
// semantics of §9.9), calendar-data with expand and limit-recurrence-set
// (§9.6), and free-busy-query (§7.10).
//
// Objects are stored as the bytes the client sent, less a leading byte order
// mark (store.Object.Body), together with an index (UID, component, instance
// span) computed here; every query re-reads the stored bytes and runs the
// exact tests of this package on the candidates the index selects.
//
// Imports: dav (the engine it plugs into), store (the domain types it hands
// the engine), internal/recur (recurrence expansion, instance spans and time
// zones, whose errors it maps to CALDAV: preconditions), internal/contentline
// (the content-line syntax under partial retrieval, shared with vCards) and
// internal/collate (the text-match collations, shared with contact search).
// Nothing imports caldav but server and tests.
package caldav
