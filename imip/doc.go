// Package imip carries CalDAV scheduling messages by email (iMIP, RFC
// 6047) for calendar users who are not users of this server.
//
// Out: the calendar kind queues one store.Mail per recipient in the
// transaction of the write that causes it; a Sender claims due messages
// (several instances never claim the same one), writes each as a MIME
// message — multipart/alternative with a readable text part and the
// text/calendar part with its method (RFC 6047 §2.4) — and hands it to the
// SMTP relay with emersion/go-smtp. Failures are retried with exponential
// back-off up to a bound; the outcome is recorded as SCHEDULE-STATUS in
// the sender's copy (caldav.RecordMailOutcome, RFC 6638 §3.2.9).
//
// In: Deliver reads one RFC 5322 message (from an MTA pipe, `davenport
// imip deliver`, or the LMTP listener, RFC 2033), finds its text/calendar
// part and gives it to caldav.ReceiveITIP with the sender's address, which
// decides whether it may do anything.
//
// Imports: caldav (the scheduling rules) and store; go-smtp for SMTP and
// LMTP. Imported by cmd/davenport only.
package imip
