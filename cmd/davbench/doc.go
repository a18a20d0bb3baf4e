// Command davbench is a load generator for CalDAV/CardDAV servers
// (RFC 4791, RFC 6352, RFC 6578). It discovers the user's calendar and
// address-book homes (RFC 5397, RFC 6764), creates its own calendar
// (MKCALENDAR, RFC 4791 §5.3.1) and address book (extended MKCOL, RFC 5689),
// seeds them with N generated events and vCards, measures a fixed set of
// workloads at a fixed concurrency — throughput and p50/p99 latency, each
// bounded in time — and removes what it created, also when interrupted.
//
//	davbench --url http://127.0.0.1:8008/ --user admin --n 1000 --json out.json
//	davbench compare radicale.json davenport.json   ratios against a peer
//	davbench flat n1000.json n100000.json           growth of p50 with N
//	davbench soak --duration 10m --pid PID --debug-url http://127.0.0.1:6060
//	                                                the mixed load for a long time: p50/p99,
//	                                                RSS, goroutines and descriptors per window
//
// It talks to loopback addresses only unless --allow-remote is given: it is
// a load generator, and its load belongs on the machine it runs on.
//
// Imports: the standard library only: it measures any server from outside, as a client does.
package main
