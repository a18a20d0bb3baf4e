// Command davenport is a CalDAV/CardDAV server for calendars and contacts.
//
//	davenport serve               run the server
//	davenport user add|passwd|unlock|delete|list
//	davenport migrate             apply database migrations
//	davenport version
//
// Every flag can also be given as DAVENPORT_<FLAG> in the environment
// (DAVENPORT_LOG_LEVEL for --log-level); secrets take a _FILE variant.
//
// Imports: everything it wires together (server, auth, store and its backends); nothing imports it.
package main
