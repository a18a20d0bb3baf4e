// Package carddav is the address-book collection kind of Davenport's dav
// engine (RFC 6352): resource type and live properties of address books,
// vCard validation and indexing for PUT, the addressbook-query filter and
// the addressbook-multiget and addressbook-query REPORTs (as plans the
// engine runs), address-data rendering with property selection, and vCard
// 3.0 ↔ 4.0 conversion. It maps its own errors to CARDDAV: preconditions.
//
// Standards:
//   - RFC 6352 (CardDAV): §5.1 address object resources, §6.3.2.1 PUT
//     preconditions, §8.3 collations, §8.6 addressbook-query, §10.4
//     address-data, §10.5 filter.
//   - RFC 6350 (vCard 4.0) and RFC 2426 (vCard 3.0, with RFC 2425's
//     content-line syntax): parsing, escaping (§3.4); unfolding, the line
//     grammar and folding (§3.2) are internal/contentline's, shared with
//     iCalendar.
//   - RFC 6868: parameter value encoding (^n, ^^, ^') in vCard 4.0.
//   - RFC 4790 (i;octet, i;ascii-casemap) and RFC 5051 (i;unicode-casemap),
//     from internal/collate, shared with calendar text-match.
//
// Storage model: a card is stored as the bytes the client sent, less a
// leading byte order mark (see DESIGN.md); ParseCard validates those bytes and derives the UID and the
// search text for SQL prefiltering. Rendering returns the stored bytes
// unchanged unless the client asked for a subset of properties or for the
// other vCard version.
//
// Why our own content-line parser: go-vcard's decoder keeps no property
// order (a Card is a map), silently drops lines it cannot parse, unfolds in
// quadratic time, turns vCard 2.1-style bare parameters (TEL;WORK:…) into
// nonsense and does not decode RFC 6868 carets. We parse ourselves, on
// internal/contentline, in linear time and without panics, and still hand callers a vcard.Card with
// the value conventions of go-vcard so its accessors keep working.
//
// Imports: dav (the engine it plugs into), store (the domain types it hands
// the engine), internal/contentline (content lines) and internal/collate
// (text-match collations). Nothing imports carddav but server and tests.
package carddav
