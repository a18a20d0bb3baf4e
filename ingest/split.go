package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
)

// The splitter cuts an iCalendar stream (RFC 5545 §3.4: VCALENDAR objects
// holding components) or a vCard stream (RFC 6350 §3.3: a sequence of
// VCARDs) into its parts, reading it once with memory bounded by its longest
// content line. It reports where each part lies (byte offsets), not its
// bytes; the caller re-reads what it needs. It understands only BEGIN, END,
// UID and TZID: whether an item is valid is decided by the collection
// kind's PrepareObject, as for a PUT.

// partType says what a part is.
type partType int

const (
	partHeader    partType = iota // a property line of a VCALENDAR (VERSION, PRODID, …)
	partTimezone                  // a VTIMEZONE
	partComponent                 // a VEVENT, VTODO, VJOURNAL, VFREEBUSY or VCARD
)

// part is one piece of the stream.
type part struct {
	typ    partType
	name   string // property or component name, upper case
	uid    string // the component's UID ("" if it has none)
	tzid   string // a VTIMEZONE's TZID
	tzrefs []string
	off, n int64
}

var errNotCalendarData = errors.New("not calendar data")

// maxLine bounds one physical line; longer lines (a huge inline photo) are
// refused rather than buffered without end.
const maxLine = 16 << 20

// split reads r and calls fn for each part in order. wrapper is "VCALENDAR"
// or "VCARD": the object type the stream must hold. A stream that does not
// start with BEGIN:wrapper is errNotCalendarData.
func split(r io.Reader, wrapper string, fn func(p part) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		off     int64
		started bool
		inCal   bool // inside a VCALENDAR
		depth   int  // nesting inside the current part
		cur     *part
		logical []byte // the current unfolded content line
		lineOff int64  // where the current logical line starts
		lineEnd int64
	)
	// handle processes one unfolded content line that started at lineOff
	// and ends (after its line break) at lineEnd.
	handle := func(line []byte, start, end int64) error {
		name, params, value := splitLine(line)
		switch {
		case !started:
			if len(bytes.TrimSpace(line)) == 0 {
				return nil
			}
			if name != "BEGIN" || !bytes.EqualFold(bytes.TrimSpace(value), []byte(wrapper)) {
				return errNotCalendarData
			}
			started = true
			if wrapper == "VCALENDAR" {
				inCal = true
				return nil
			}
			cur = &part{typ: partComponent, name: "VCARD", off: start}
			depth = 1
			return nil
		case cur == nil && wrapper == "VCALENDAR" && !inCal:
			if len(bytes.TrimSpace(line)) == 0 {
				return nil
			}
			if name == "BEGIN" && bytes.EqualFold(bytes.TrimSpace(value), []byte("VCALENDAR")) {
				inCal = true
				return nil
			}
			return errNotCalendarData
		case cur == nil && wrapper == "VCARD":
			if len(bytes.TrimSpace(line)) == 0 {
				return nil
			}
			if name == "BEGIN" && bytes.EqualFold(bytes.TrimSpace(value), []byte("VCARD")) {
				cur = &part{typ: partComponent, name: "VCARD", off: start}
				depth = 1
				return nil
			}
			return errNotCalendarData
		case cur == nil: // a line of the VCALENDAR itself
			switch name {
			case "":
				return nil
			case "END":
				inCal = false
				return nil
			case "BEGIN":
				comp := string(bytes.ToUpper(bytes.TrimSpace(value)))
				cur = &part{typ: partComponent, name: comp, off: start}
				if comp == "VTIMEZONE" {
					cur.typ = partTimezone
				}
				depth = 1
				return nil
			}
			return fn(part{typ: partHeader, name: name, off: start, n: end - start})
		}
		// Inside a part.
		switch name {
		case "BEGIN":
			depth++
		case "END":
			depth--
			if depth == 0 {
				cur.n = end - cur.off
				p := *cur
				cur = nil
				return fn(p)
			}
		case "UID":
			if depth == 1 && cur.uid == "" {
				cur.uid = string(bytes.TrimSpace(value))
			}
		case "TZID":
			if cur.typ == partTimezone && depth == 1 {
				cur.tzid = string(bytes.TrimSpace(value))
			}
		}
		if cur.typ == partComponent && len(params) > 0 {
			if tz := paramValue(params, "TZID"); tz != "" && !containsString(cur.tzrefs, tz) {
				cur.tzrefs = append(cur.tzrefs, tz)
			}
		}
		return nil
	}
	for {
		line, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			// A long line: collect it, within bounds.
			buf := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				if len(buf) > maxLine {
					return errLineTooLong
				}
				line, err = br.ReadSlice('\n')
				buf = append(buf, line...)
			}
			line = buf
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if len(line) > 0 {
			start := off
			off += int64(len(line))
			content := bytes.TrimRight(line, "\r\n")
			if len(content) > 0 && (content[0] == ' ' || content[0] == '\t') && logical != nil {
				// RFC 5545 §3.1, RFC 6350 §3.2: a folded line continues
				// the previous one after its leading white space.
				logical = append(logical, content[1:]...)
				lineEnd = off
			} else {
				if logical != nil {
					if err := handle(logical, lineOff, lineEnd); err != nil {
						return err
					}
				}
				logical = append(logical[:0:0], content...)
				lineOff, lineEnd = start, off
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if logical != nil {
		if err := handle(logical, lineOff, lineEnd); err != nil {
			return err
		}
	}
	if !started {
		return errNotCalendarData
	}
	if cur != nil {
		return errTruncated
	}
	return nil
}

var (
	errLineTooLong = errors.New("a line of the file is longer than 16 MiB")
	errTruncated   = errors.New("the file ends in the middle of an item")
)

// splitLine cuts a content line into its upper-cased name, its parameters
// (with their leading ';') and its value. RFC 5545 §3.1: name *(";" param)
// ":" value, where a quoted parameter value may hold ':' and ';'. A vCard
// property may carry a group prefix ("item1.TEL"), which is dropped.
func splitLine(line []byte) (name string, params, value []byte) {
	i, quoted := 0, false
	for ; i < len(line); i++ {
		c := line[i]
		if c == '"' {
			quoted = !quoted
		}
		if !quoted && c == ':' {
			break
		}
	}
	head := line[:i]
	if i < len(line) {
		value = line[i+1:]
	}
	n := bytes.IndexByte(head, ';')
	if n < 0 {
		n = len(head)
	}
	nb, params := head[:n], head[n:]
	if dot := bytes.LastIndexByte(nb, '.'); dot >= 0 {
		nb = nb[dot+1:]
	}
	return strings.ToUpper(string(bytes.TrimSpace(nb))), params, value
}

// paramValue returns the (unquoted) value of parameter key in params.
func paramValue(params []byte, key string) string {
	for len(params) > 0 && params[0] == ';' {
		params = params[1:]
		end, quoted := 0, false
		for ; end < len(params); end++ {
			if params[end] == '"' {
				quoted = !quoted
			}
			if !quoted && params[end] == ';' {
				break
			}
		}
		kv := params[:end]
		params = params[end:]
		k, v, ok := bytes.Cut(kv, []byte("="))
		if ok && bytes.EqualFold(bytes.TrimSpace(k), []byte(key)) {
			return string(bytes.Trim(v, `"`))
		}
	}
	return ""
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
