// Package contentline reads and writes the content lines that iCalendar
// (RFC 5545 §3.1) and vCard (RFC 6350 §3.2 and §3.3, RFC 2425 §5.8.1 for
// vCard 3.0) share: the one text layer under calendars and contacts.
//
// Its one job is the line syntax both formats have in common: unfolding
// physical lines into logical ones, splitting a logical line into its name,
// parameters (quoted or not) and raw value, and folding a line back at 75
// octets without splitting a UTF-8 sequence. It does not know components,
// property names, value types or escaping; caldav and carddav do.
//
// What is read and not changed is written back as it was: Reader.Raw keeps
// the physical lines of each logical line, folding points included, and
// Param.Raw the text of each parameter, so partial retrieval and rewritten
// lines copy the client's bytes. Only line ends are written as CRLF, the
// form both RFCs require, whatever the client sent.
//
// It may import the standard library only, nothing of Davenport's.
package contentline
