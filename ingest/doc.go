// Package ingest writes items that come from elsewhere — an uploaded or
// local .ics/.vcf file, another server's collection — into a collection,
// exactly as the owner's PUTs would: each item is validated and indexed by
// the collection kind's PrepareObject (dav.Kind) and written with the same
// store calls, keeping its UID and, where it is free, its resource name.
// It holds the streaming splitter that cuts an iCalendar stream (RFC 5545
// §3.4) or a vCard stream (RFC 6350 §3.3) into items with memory bounded by
// the longest line, and the grouping of an event's components by UID (RFC
// 4791 §4.1). The web UI's import and the import command both use it.
//
// Imports: dav (the Kind interface, ETags), store.
package ingest
