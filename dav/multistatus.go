package dav

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// prefixes used in every document the server writes. Namespaces outside this
// table are declared on the element that uses them.
var prefixes = []struct{ ns, prefix string }{
	{NSDAV, "D"},
	{NSCalDAV, "C"},
	{NSCardDAV, "CR"},
	{NSCS, "CS"},
	{NSApple, "ICAL"},
}

func prefixOf(ns string) (string, bool) {
	for _, p := range prefixes {
		if p.ns == ns {
			return p.prefix, true
		}
	}
	return "", false
}

func rootNamespaces() string {
	var b strings.Builder
	for _, p := range prefixes {
		fmt.Fprintf(&b, ` xmlns:%s="%s"`, p.prefix, p.ns)
	}
	return b.String()
}

// PropStat is the properties of one response that share a status.
type PropStat struct {
	Status int
	Props  []*Element
	// Raw holds properties already serialized (dead properties), written
	// verbatim after Props.
	Raw []string
	// Error, when set, is written as the propstat's DAV:error.
	Error *Element
}

// Response is one DAV:response of a multistatus.
type Response struct {
	Href      string
	PropStats []PropStat
	// Status, when non-zero, makes this a status-only response (e.g. 404 for
	// a missing href in a multiget, 507 for a truncated listing).
	Status int
	// Error, when set, is written as DAV:error inside a status-only response.
	Error *Element
}

// MultiStatus streams a 207 Multi-Status body: the header is written with
// the first response, each response as it is added, so a listing of any size
// costs the memory of one response.
type MultiStatus struct {
	w       http.ResponseWriter
	bw      *bufio.Writer
	cw      countingWriter
	started bool
	err     error
	stats   []PropStat // Add's scratch space, reused

	// The budget of one answer (see Handler.newMultiStatus): once the
	// document has grown past maxBytes or the deadline has passed, it
	// ends with a 507 response for href instead of growing further.
	maxBytes int64
	deadline time.Time
	href     string
}

// errBudget ends a multistatus that reached its budget; the document was
// closed properly with a 507 response.
var errBudget = errors.New("dav: response budget exhausted")

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// newMultiStatus prepares a 207 answer for the request-URI href, bounded by
// the handler's MaxResponseBytes and MaxResponseTime.
func (h *Handler) newMultiStatus(w http.ResponseWriter, href string) *MultiStatus {
	m := NewMultiStatus(w)
	m.maxBytes, m.href = h.MaxResponseBytes, href
	if h.MaxResponseTime > 0 {
		m.deadline = time.Now().Add(h.MaxResponseTime)
	}
	return m
}

// Expired reports whether the answer's time budget is spent: a caller that
// works between responses (filtering candidates) stops there.
func (m *MultiStatus) Expired() bool {
	return !m.deadline.IsZero() && time.Now().After(m.deadline)
}

// overBudget reports whether the document may not grow any further.
func (m *MultiStatus) overBudget() bool {
	if m.maxBytes > 0 && m.started && m.cw.n+int64(m.bw.Buffered()) >= m.maxBytes {
		return true
	}
	return m.Expired()
}

// truncate ends the document with a 507 for the request-URI carrying
// DAV:number-of-matches-within-limits (the answer RFC 5323 §5.1 / RFC 6578
// §3.6 give for a result cut short by the server), so the client reads a
// well-formed 207 that says it is incomplete; no sync-token is written.
func (m *MultiStatus) truncate() {
	m.start()
	b := m.bw
	b.WriteString("<D:response><D:href>")
	escapeText(b, m.href)
	b.WriteString("</D:href><D:status>" + statusLine(http.StatusInsufficientStorage) + "</D:status>")
	writeErrorElement(b, NewElement(Name("number-of-matches-within-limits")))
	b.WriteString("<D:responsedescription>the answer reached the server's size or time limit; ask for fewer properties or resources</D:responsedescription>")
	b.WriteString("</D:response></D:multistatus>\n")
	m.err = b.Flush()
	if m.err == nil {
		m.err = errBudget
	}
}

// NewMultiStatus prepares a 207 answer on w.
func NewMultiStatus(w http.ResponseWriter) *MultiStatus {
	return &MultiStatus{w: w}
}

func (m *MultiStatus) start() {
	if m.started {
		return
	}
	m.started = true
	m.w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	m.w.WriteHeader(http.StatusMultiStatus)
	m.cw.w = m.w
	m.bw = bufio.NewWriterSize(&m.cw, 32<<10)
	m.bw.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	m.bw.WriteString(`<D:multistatus` + rootNamespaces() + `>`)
}

// open starts the document if need be and reports whether another
// response may be written: false after an error, or when the budget is
// spent (the document is then closed with its 507).
func (m *MultiStatus) open() bool {
	if m.err != nil {
		return false
	}
	if m.overBudget() {
		m.truncate()
		return false
	}
	m.start()
	return true
}

// Add writes one response. PropStats are ordered by status (200 first), so
// the output does not depend on how the caller assembled them.
func (m *MultiStatus) Add(r *Response) error {
	if !m.open() {
		return m.err
	}
	b := m.bw // written in place: a response is never buffered whole
	b.WriteString("<D:response><D:href>")
	escapeText(b, r.Href)
	b.WriteString("</D:href>")
	if r.Status != 0 {
		b.WriteString("<D:status>")
		b.WriteString(statusLine(r.Status))
		b.WriteString("</D:status>")
		writeErrorElement(b, r.Error)
	}
	stats := m.stats[:0]
	for _, ps := range r.PropStats {
		if len(ps.Props) > 0 || len(ps.Raw) > 0 {
			// Insert in status order, after equal ones: a stable sort
			// of the few propstats of one response.
			i := len(stats)
			stats = append(stats, ps)
			for ; i > 0 && stats[i-1].Status > ps.Status; i-- {
				stats[i] = stats[i-1]
			}
			stats[i] = ps
		}
	}
	if r.Status == 0 && len(stats) == 0 {
		// RFC 4918 §14.24: a response carries a status or a propstat.
		stats = append(stats, PropStat{Status: http.StatusOK})
	}
	m.stats = stats[:0]
	for _, ps := range stats {
		b.WriteString("<D:propstat><D:prop>")
		for _, p := range ps.Props {
			writeElement(b, p)
		}
		for _, raw := range ps.Raw {
			b.WriteString(raw)
		}
		b.WriteString("</D:prop><D:status>")
		b.WriteString(statusLine(ps.Status))
		b.WriteString("</D:status>")
		writeErrorElement(b, ps.Error)
		b.WriteString("</D:propstat>")
	}
	_, m.err = b.WriteString("</D:response>")
	return m.err
}

// addObject writes the response of object o listed in the collection at
// colHref with props, each written by its member writer: the bytes Add
// writes for the response propResponse builds for it (stream.memberProps
// says when they are the same), without building that response.
func (m *MultiStatus) addObject(colHref string, o *store.Object, props []*Property) error {
	if !m.open() {
		return m.err
	}
	b := m.bw
	b.WriteString("<D:response><D:href>")
	escapeText(b, colHref) // ends in "/": no character is split
	escapeText(b, escapeSegment(o.Name))
	b.WriteString("</D:href><D:propstat><D:prop>")
	for _, p := range props {
		p.member(b, o)
	}
	b.WriteString("</D:prop><D:status>")
	b.WriteString(statusLine(http.StatusOK))
	_, m.err = b.WriteString("</D:status></D:propstat></D:response>")
	return m.err
}

// Close ends the document. A non-empty syncToken is written as DAV:sync-token
// (RFC 6578 §6.2). An empty multistatus is still a valid 207.
func (m *MultiStatus) Close(syncToken string) error {
	if errors.Is(m.err, errBudget) {
		return nil // already closed, with the 507
	}
	if m.err != nil {
		return m.err
	}
	m.start()
	if syncToken != "" {
		m.bw.WriteString("<D:sync-token>")
		escapeText(m.bw, syncToken)
		m.bw.WriteString("</D:sync-token>")
	}
	m.bw.WriteString("</D:multistatus>\n")
	m.err = m.bw.Flush()
	return m.err
}

// statusLines holds the status line of every code from 100 to 599, built
// once: a listing writes one or two per member.
var statusLines = func() []string {
	lines := make([]string, 600)
	for code := 100; code < len(lines); code++ {
		text := http.StatusText(code)
		if code == http.StatusInsufficientStorage {
			text = "Insufficient Storage"
		}
		lines[code] = fmt.Sprintf("HTTP/1.1 %d %s", code, text)
	}
	return lines
}()

func statusLine(code int) string {
	if code >= 100 && code < len(statusLines) {
		return statusLines[code]
	}
	return fmt.Sprintf("HTTP/1.1 %d %s", code, http.StatusText(code))
}

// writeElement writes e with the document's prefixes; elements in other
// namespaces declare a prefix of their own.
func writeElement(b xmlWriter, e *Element) {
	writeTree(b, e, qualify, "", 0)
}

// writeErrorElement writes a DAV:error holding cond, if any (RFC 4918 §16).
func writeErrorElement(b xmlWriter, cond *Element) {
	if cond == nil {
		return
	}
	b.WriteString("<D:error>")
	writeElement(b, cond)
	b.WriteString("</D:error>")
}

// qualifiedName is n as qualify names it, for a document's root.
func qualifiedName(n xml.Name) string {
	var b strings.Builder
	prefix, _ := qualify(n, "", 0)
	writeQName(&b, prefix, n.Local)
	return b.String()
}

func qualify(n xml.Name, _ string, depth int) (prefix, decl string) {
	if p, ok := prefixOf(n.Space); ok {
		return p, ""
	}
	if n.Space == "" {
		return "", ` xmlns=""`
	}
	p := fmt.Sprintf("x%d", depth)
	if n.Space == NSDavenport {
		// Our own namespace is declared where it is used (error
		// messages), under the prefix the documentation shows.
		p = "DP"
	}
	var b strings.Builder
	escapeAttr(&b, n.Space)
	return p, ` xmlns:` + p + `="` + b.String() + `"`
}

// WriteError answers status with an RFC 4918 §16 DAV:error body holding the
// given precondition element (nil for none).
func WriteError(w http.ResponseWriter, status int, condition *Element) {
	if condition == nil {
		http.Error(w, http.StatusText(status), status)
		return
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<D:error` + rootNamespaces() + `>`)
	writeElement(&b, condition)
	b.WriteString("</D:error>\n")
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}
