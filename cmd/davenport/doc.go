// Command davenport is a CalDAV/CardDAV server for calendars and contacts.
//
//	davenport serve               run the server
//	davenport user add|passwd|unlock|delete|list
//	davenport import --from URL | --from-file FILE   copy an account or files in
//	davenport migrate             apply database migrations
//	davenport version
//
// Every flag can also be given as DAVENPORT_<FLAG> in the environment
// (DAVENPORT_LOG_LEVEL for --log-level); secrets take a _FILE variant.
//
// Imports: everything it wires together (server, ingest, auth, store and its
// backends; go-webdav's client for import); nothing imports it.
package main
