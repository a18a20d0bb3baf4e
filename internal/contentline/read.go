package contentline

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrSyntax is wrapped by every error of this package.
var ErrSyntax = errors.New("malformed content line")

// BOM is the UTF-8 byte order mark some exporters put before the first
// line. Reader skips it.
const BOM = "\uFEFF"

// TrimBOM returns body without a leading byte order mark, and whether it
// had one. Neither RFC 5545 nor RFC 6350 has a place for one: a body that
// starts with it is stored and served without it.
func TrimBOM(body []byte) ([]byte, bool) {
	if len(body) >= len(BOM) && string(body[:len(BOM)]) == BOM {
		return body[len(BOM):], true
	}
	return body, false
}

// Reader splits a body into logical content lines. RFC 5545 §3.1 and RFC
// 6350 §3.2: a line break followed by one space or horizontal tab is
// removed when unfolding. A bare LF is accepted as a line break as well,
// empty lines are skipped, and a leading byte order mark is ignored. It
// runs in time linear in the length of the body.
type Reader struct {
	rest      string
	line, raw string
	err       error
}

// NewReader returns a Reader of body.
func NewReader(body string) Reader {
	return Reader{rest: strings.TrimPrefix(body, BOM)}
}

// Next advances to the next logical line and reports whether there is one.
// It returns false at the end of the body or on a syntax error (Err).
func (r *Reader) Next() bool {
	if r.err != nil {
		return false
	}
	var phys string
	for {
		if r.rest == "" {
			r.line, r.raw = "", ""
			return false
		}
		start := r.rest
		phys = r.cut()
		if phys != "" {
			r.raw = start
			break
		}
	}
	if phys[0] == ' ' || phys[0] == '\t' {
		r.err = fmt.Errorf("%w: continuation line without a line to continue", ErrSyntax)
		return false
	}
	// Continuation lines, if any, follow directly.
	if r.rest == "" || (r.rest[0] != ' ' && r.rest[0] != '\t') {
		r.line = phys
		r.raw = r.raw[:len(r.raw)-len(r.rest)]
		return true
	}
	var b strings.Builder
	b.Grow(len(r.raw) - len(r.rest))
	b.WriteString(phys)
	for r.rest != "" && (r.rest[0] == ' ' || r.rest[0] == '\t') {
		b.WriteString(r.cut()[1:])
	}
	r.line = b.String()
	r.raw = r.raw[:len(r.raw)-len(r.rest)]
	return true
}

// cut removes the next physical line from rest and returns it without its
// line break.
func (r *Reader) cut() string {
	var phys string
	if i := strings.IndexByte(r.rest, '\n'); i >= 0 {
		phys, r.rest = r.rest[:i], r.rest[i+1:]
	} else {
		phys, r.rest = r.rest, ""
	}
	return strings.TrimSuffix(phys, "\r")
}

// Line returns the current logical line, unfolded, without its line break.
func (r *Reader) Line() string { return r.line }

// Raw returns the physical lines the current logical line was read from,
// exactly as in the body, line breaks included (the last physical line of
// a body may have none). WriteRaw writes it back.
func (r *Reader) Raw() string { return r.raw }

// Err returns the syntax error that stopped Next, if any.
func (r *Reader) Err() error { return r.err }

// Unfold returns all logical lines of body.
func Unfold(body string) ([]string, error) {
	var lines []string
	r := NewReader(body)
	for r.Next() {
		lines = append(lines, r.Line())
	}
	return lines, r.Err()
}

// WriteRaw writes physical lines as Reader.Raw returned them, each ended
// with CRLF: the bytes read, with only the line ends made canonical.
func WriteRaw(w io.StringWriter, raw string) {
	for raw != "" {
		var phys string
		if i := strings.IndexByte(raw, '\n'); i >= 0 {
			phys, raw = raw[:i], raw[i+1:]
		} else {
			phys, raw = raw, ""
		}
		w.WriteString(strings.TrimSuffix(phys, "\r"))
		w.WriteString("\r\n")
	}
}
