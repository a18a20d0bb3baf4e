// Package server is Davenport's http.Handler: the routes of the URL space
// (RFC 6764 well-known redirects, the /dav/ tree, the web UI under /web/ and
// at / for browsers, health and metrics), the
// middleware every request passes (recover, request id, one log line,
// authentication) and the listener with its timeouts and graceful shutdown.
//
// Imports: dav (the engine), caldav and carddav (the kinds it wires in), web
// (the browser UI it mounts), auth and store. Nothing imports server but
// cmd/davenport and tests.
package server
