// Package dav is Davenport's WebDAV engine: the URL space, XML request
// parsing with hard limits, the streaming 207 Multi-Status writer, the
// property registry and the methods every collection kind shares — OPTIONS,
// PROPFIND, PROPPATCH, GET/HEAD, PUT, DELETE, COPY, MOVE, REPORT and
// DAV:sync-collection — per RFC 4918 (WebDAV), RFC 3744 (privileges and
// the read-only ACL properties: access.go), RFC 5397
// (current-user-principal) and RFC 6578 (sync-collection).
//
// Its one job is to run requests against the store; collection kinds
// (calendars, address books) describe. A kind plugs in through the Kind
// interface and the optional Reporter, DataKind and BodyConverter: it
// names its collections and live properties, validates what PUT stores,
// and answers a REPORT with a Plan — a store query with a match function, a
// multiget, a fold over many objects, or a finished small body. The engine
// executes every plan: it pages the store (stream.go), applies the match,
// renders the properties, streams the 207 and cuts it at a DAV:limit with a
// 507, all in one place. Kinds never see the response writer or the
// Handler.
//
// Access is decided once per request, at resolution: a user's own
// resources, or another user's collection shared with them, which appears
// in their own home (access.go). Members inherit their collection's
// privileges, so listings, queries and sync check nothing per member.
//
// dav knows collections, objects and properties but nothing of iCalendar or
// vCard.
//
// Imports: store, and the standard library. caldav, carddav and server
// import dav, never the other way round; its tests also use store/testdb.
package dav
