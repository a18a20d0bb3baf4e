// Package web is Davenport's browser UI: sign-in with sessions kept in the
// store, the user's calendars and address books (create, edit, delete,
// import, export), app passwords, device set-up help (steps, a QR code for
// DAVx5, an Apple configuration profile) and administration.
//
// Pages are html/template files and one stylesheet embedded in the binary;
// a few lines of plain JavaScript add a copy button and nothing depends on
// them. Every response carries a strict Content-Security-Policy and every
// state-changing form a CSRF token derived from the session's secret.
// Imported items go through package ingest: validated by the same dav.Kind
// PrepareObject a PUT runs and written with the same store calls; web has no
// iCalendar or vCard parser of its own.
//
// Imports: dav (kinds, URLs), ingest, auth (password checks, throttling), store;
// never caldav or carddav, which server wires in as dav.Kind values.
package web
