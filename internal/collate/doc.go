// Package collate implements the comparison collations that CalDAV and
// CardDAV text-match uses (RFC 4791 §7.5 and §9.7.5, RFC 6352 §8.3 and
// §10.5.4), so that a calendar search and a contact search compare the same
// text the same way.
//
// Its one job: fold a string into the canonical form of a collation and
// apply a match type to canonical forms. The collations are "i;octet" and
// "i;ascii-casemap" (RFC 4790 §9.3 and §9.2) and "i;unicode-casemap"
// (RFC 5051); the match types are equals, contains, starts-with and
// ends-with (RFC 6352 §10.5.4; RFC 4791 knows only contains).
//
// Every fold works one character at a time, so the fold of a concatenation
// is the concatenation of the folds. That is what lets a store narrow a
// search in SQL on folded text before the exact match runs: whenever a value
// equals, contains, starts or ends with a term under any collation here,
// FoldUnicode(value) contains FoldUnicode(term).
//
// Which collation is the default is the protocol's business (i;ascii-casemap
// for CalDAV, i;unicode-casemap for CardDAV); callers pass it to Lookup.
//
// It may import the standard library and golang.org/x/text only, nothing of
// Davenport's.
package collate
