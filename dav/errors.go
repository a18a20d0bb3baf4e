package dav

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/davenport-dav/davenport/store"
)

// NSDavenport is the XML namespace of Davenport's own elements. An error
// body carries, next to the RFC's precondition element, a DP:message with a
// sentence for the person reading it (as sabre/dav does with s:message):
//
//	<D:error xmlns:D="DAV:">
//	  <C:no-uid-conflict><D:href>/dav/calendars/alice/personal/a.ics</D:href></C:no-uid-conflict>
//	  <DP:message xmlns:DP="http://davenport.invalid/ns/">The write would change the UID of …</DP:message>
//	</D:error>
//
// The URI is a name, not a location: the .invalid top-level domain (RFC
// 2606) never resolves, like the sync-token URIs.
const NSDavenport = "http://davenport.invalid/ns/"

// refusal is the client's answer to an error that is not an *Error: the
// status, the condition element (or none) and a sentence for the client.
// The error's own text goes to the log only.
func refusal(err error) (status int, cond *Element, message string, ok bool) {
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge, nil, "The request body is larger than the server accepts.", true
	case errors.Is(err, ErrMalformedXML):
		return http.StatusBadRequest, nil, "The request body is not well-formed XML: " +
			strings.TrimPrefix(err.Error(), ErrMalformedXML.Error()+": ") + ".", true
	case errors.Is(err, errForbidden):
		return http.StatusForbidden, NewElement(Name("need-privileges")),
			"You can reach only your own principal, calendars and address books.", true
	case errors.Is(err, errBadName):
		return http.StatusBadRequest, nil, "Names in the path must be UTF-8.", true
	case errors.Is(err, errBadPath), errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, nil, "Nothing exists at this URL.", true
	case errors.Is(err, errParentMissing):
		return http.StatusConflict, nil, "The parent collection does not exist.", true
	case errors.Is(err, store.ErrPreconditionFailed):
		return http.StatusPreconditionFailed, nil,
			"The request's If-Match, If-None-Match or Overwrite condition does not hold.", true
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, nil, "The request conflicts with the current state of the resource.", true
	}
	return 0, nil, "", false
}

// fail maps an error to its HTTP answer in one place. A 4xx gets a sentence
// saying what was wrong, in the body and, with the request id the logger
// adds, in an info log line; internal error text never reaches the client,
// and a 500 is logged once.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	var de *Error
	switch {
	case errors.As(err, &de):
		if de.Status >= 500 {
			h.Logger.ErrorContext(ctx, "request failed", "status", de.Status, "err", de.Error())
			writeError(w, de.Status, de.Condition, "")
			return
		}
		h.logRefusal(ctx, r, de.Status, de.Error())
		writeError(w, de.Status, de.Condition, de.sentence())
	case errors.Is(err, context.Canceled):
		// The client went away; nothing to answer and nothing to log.
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		// The database is restarting, unreachable or out of time: the
		// request did nothing and may be repeated (RFC 9110 §15.6.4).
		h.Logger.WarnContext(ctx, "database unavailable", "err", err)
		w.Header().Set("Retry-After", RetryAfterUnavailable)
		http.Error(w, "service unavailable, retry later", http.StatusServiceUnavailable)
	default:
		status, cond, msg, ok := refusal(err)
		if !ok {
			h.Logger.ErrorContext(ctx, "request failed", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h.logRefusal(ctx, r, status, err.Error())
		writeError(w, status, cond, msg)
	}
}

// logRefusal logs why a request got a 4xx, at info: a client's mistake is
// no server error, but whoever runs the server should be able to tell a
// user why their client failed.
func (h *Handler) logRefusal(ctx context.Context, r *http.Request, status int, reason string) {
	h.Logger.InfoContext(ctx, "request refused", "method", r.Method, "path", r.URL.Path, "status", status, "reason", reason)
}

// sentence is the client-facing text of a 4xx: Message without its
// package and condition prefixes ("carddav: supported-filter: "), as a
// sentence. Messages of 4xx errors describe the
// request, never the server's internals.
func (e *Error) sentence() string {
	s := e.Message
	if s == "" {
		if e.Condition != nil {
			return ""
		}
		return http.StatusText(e.Status) + "."
	}
	// Leading "pkg: " and "condition-name: " parts name where the text
	// came from, which the client does not need.
	for {
		i := strings.Index(s, ": ")
		if i <= 0 || strings.IndexFunc(s[:i], func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
		}) >= 0 {
			break
		}
		s = s[i+2:]
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// writeError answers status with an RFC 4918 §16 DAV:error body holding the
// condition element and a DP:message, or, without a condition, with the
// message as plain text.
func writeError(w http.ResponseWriter, status int, condition *Element, message string) {
	if condition == nil {
		if message == "" {
			message = http.StatusText(status) + "."
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		io.WriteString(w, message+"\n")
		return
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<D:error` + rootNamespaces() + `>`)
	writeElement(&b, condition)
	if message != "" {
		writeElement(&b, TextElement(davenportName("message"), message))
	}
	b.WriteString("</D:error>\n")
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

func davenportName(local string) xml.Name { return xml.Name{Space: NSDavenport, Local: local} }
