package caldav

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-ical"
)

// This file holds a small, order-preserving reader and writer of iCalendar
// content lines (RFC 5545 §3.1). Partial retrieval must hand back parts of
// the stored bytes untouched, and go-ical cannot: it keeps properties in a
// map (losing their order), does not fold, and refuses to encode objects
// without DTSTAMP. So the stored body is split into components and
// properties that remember their physical lines; only lines the server
// really changes (expanded instances, clipped FREEBUSY, novalue) are
// written anew.

// maxRawDepth bounds component nesting when reading a body.
const maxRawDepth = 16

// errRawSyntax is wrapped by every error of the raw reader.
var errRawSyntax = errors.New("caldav: malformed iCalendar")

// rawProp is one property with the physical lines it was read from.
type rawProp struct {
	name  string   // upper-case property name
	lines []string // physical lines, without line terminators
}

// rawItem is one entry of a component: a property or a sub-component.
type rawItem struct {
	prop *rawProp
	comp *rawComp
}

// rawComp is a component with its entries in their original order.
type rawComp struct {
	name       string // upper-case component name
	begin, end []string
	items      []rawItem
}

// parseRaw reads a calendar body into components. Blank lines are skipped
// and anything after the first top-level component is ignored, as go-ical
// does.
func parseRaw(body []byte) (*rawComp, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	text := string(body)
	var (
		stack   []*rawComp
		root    *rawComp
		logical []string // physical lines of the logical line being read
	)
	flush := func() error {
		if len(logical) == 0 {
			return nil
		}
		lines := logical
		logical = nil
		name, rest := splitName(unfold(lines))
		upper := strings.ToUpper(name)
		switch upper {
		case "BEGIN", "END":
			if !strings.HasPrefix(rest, ":") {
				return fmt.Errorf("%w: %s without a component name", errRawSyntax, upper)
			}
			comp := strings.ToUpper(strings.TrimSpace(rest[1:]))
			if upper == "BEGIN" {
				if len(stack) >= maxRawDepth {
					return fmt.Errorf("%w: components nested too deep", errRawSyntax)
				}
				c := &rawComp{name: comp, begin: lines}
				if len(stack) > 0 {
					parent := stack[len(stack)-1]
					parent.items = append(parent.items, rawItem{comp: c})
				} else if root == nil {
					root = c
				} else {
					return errStop
				}
				stack = append(stack, c)
				return nil
			}
			if len(stack) == 0 {
				return fmt.Errorf("%w: END:%s without BEGIN", errRawSyntax, comp)
			}
			top := stack[len(stack)-1]
			if top.name != comp {
				return fmt.Errorf("%w: END:%s closes %s", errRawSyntax, comp, top.name)
			}
			top.end = lines
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return errStop
			}
			return nil
		}
		if name == "" {
			return fmt.Errorf("%w: content line without a name", errRawSyntax)
		}
		if len(stack) == 0 {
			return fmt.Errorf("%w: property %s outside a component", errRawSyntax, upper)
		}
		c := stack[len(stack)-1]
		c.items = append(c.items, rawItem{prop: &rawProp{name: upper, lines: lines}})
		return nil
	}
	for len(text) > 0 {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		line = strings.TrimSuffix(line, "\r")
		if line != "" && (line[0] == ' ' || line[0] == '\t') {
			if len(logical) == 0 {
				return nil, fmt.Errorf("%w: continuation line without a content line", errRawSyntax)
			}
			logical = append(logical, line)
			continue
		}
		if err := flush(); err != nil {
			if err == errStop {
				logical = nil
				break
			}
			return nil, err
		}
		if line != "" {
			logical = append(logical, line)
		}
	}
	if err := flush(); err != nil && err != errStop {
		return nil, err
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no component", errRawSyntax)
	}
	if root.end == nil {
		return nil, fmt.Errorf("%w: %s is not closed", errRawSyntax, root.name)
	}
	return root, nil
}

// errStop ends reading after the first top-level component.
var errStop = errors.New("stop")

// unfold joins folded physical lines (RFC 5545 §3.1: a line break followed
// by one space or tab is removed).
func unfold(lines []string) string {
	if len(lines) == 1 {
		return lines[0]
	}
	var b strings.Builder
	b.WriteString(lines[0])
	for _, l := range lines[1:] {
		b.WriteString(l[1:])
	}
	return b.String()
}

// splitName splits a content line after its name, at the first ';' or ':'.
func splitName(line string) (name, rest string) {
	i := strings.IndexAny(line, ";:")
	if i < 0 {
		return line, ""
	}
	return line[:i], line[i:]
}

// rawParam is one parameter with its text as written (including the leading
// ';'), so it can be copied into a rewritten line verbatim.
type rawParam struct {
	name   string
	values []string
	text   string
}

// contentLine is a parsed logical line.
type contentLine struct {
	name   string // as written
	params []rawParam
	value  string
}

// parseContentLine parses "name *(;param) : value" (RFC 5545 §3.1).
func parseContentLine(line string) (*contentLine, error) {
	name, rest := splitName(line)
	if name == "" {
		return nil, fmt.Errorf("%w: content line without a name", errRawSyntax)
	}
	cl := &contentLine{name: name}
	for strings.HasPrefix(rest, ";") {
		start := rest
		rest = rest[1:]
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("%w: malformed parameter in %s", errRawSyntax, name)
		}
		p := rawParam{name: strings.ToUpper(rest[:eq])}
		rest = rest[eq+1:]
		for {
			var v string
			if strings.HasPrefix(rest, `"`) {
				end := strings.IndexByte(rest[1:], '"')
				if end < 0 {
					return nil, fmt.Errorf("%w: unterminated quoted parameter in %s", errRawSyntax, name)
				}
				v, rest = rest[1:1+end], rest[end+2:]
			} else {
				end := strings.IndexAny(rest, ";:,\"")
				if end < 0 {
					return nil, fmt.Errorf("%w: parameter without value end in %s", errRawSyntax, name)
				}
				if rest[end] == '"' {
					return nil, fmt.Errorf("%w: stray quote in parameter of %s", errRawSyntax, name)
				}
				v, rest = rest[:end], rest[end:]
			}
			p.values = append(p.values, v)
			if !strings.HasPrefix(rest, ",") {
				break
			}
			rest = rest[1:]
		}
		p.text = start[:len(start)-len(rest)]
		cl.params = append(cl.params, p)
	}
	if !strings.HasPrefix(rest, ":") {
		return nil, fmt.Errorf("%w: property %s without ':'", errRawSyntax, name)
	}
	cl.value = rest[1:]
	return cl, nil
}

// param returns the first value of the named parameter.
func (cl *contentLine) param(name string) string {
	for _, p := range cl.params {
		if p.name == name && len(p.values) > 0 {
			return p.values[0]
		}
	}
	return ""
}

// head returns the name and the parameters except those named in drop, as
// written.
func (cl *contentLine) head(drop ...string) string {
	var b strings.Builder
	b.WriteString(cl.name)
Params:
	for _, p := range cl.params {
		for _, d := range drop {
			if p.name == d {
				continue Params
			}
		}
		b.WriteString(p.text)
	}
	return b.String()
}

// parsed returns the property's content line.
func (p *rawProp) parsed() (*contentLine, error) {
	return parseContentLine(unfold(p.lines))
}

// toICal converts the raw tree into a go-ical component tree for the
// evaluation code, remembering which go-ical component came from which raw
// one. Properties that do not parse are left out of the go-ical view only.
func (c *rawComp) toICal(index map[*ical.Component]*rawComp) *ical.Component {
	ic := ical.NewComponent(c.name)
	index[ic] = c
	for _, it := range c.items {
		if it.comp != nil {
			ic.Children = append(ic.Children, it.comp.toICal(index))
			continue
		}
		cl, err := it.prop.parsed()
		if err != nil {
			continue
		}
		prop := ical.Prop{Name: it.prop.name, Params: make(ical.Params, len(cl.params)), Value: cl.value}
		for _, pa := range cl.params {
			prop.Params[pa.name] = append(prop.Params[pa.name], pa.values...)
		}
		ic.Props[prop.Name] = append(ic.Props[prop.Name], prop)
	}
	return ic
}

// writeTo appends the component as it was read, except for the changes made
// to its items.
func (c *rawComp) writeTo(b *bytes.Buffer) {
	writeLines(b, c.begin)
	for _, it := range c.items {
		if it.comp != nil {
			it.comp.writeTo(b)
		} else {
			writeLines(b, it.prop.lines)
		}
	}
	writeLines(b, c.end)
}

func writeLines(b *bytes.Buffer, lines []string) {
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
}

// maxLineOctets is the longest a content line may be, without its CRLF
// (RFC 5545 §3.1: "Lines of text SHOULD NOT be longer than 75 octets").
const maxLineOctets = 75

// foldLine splits a logical line into physical lines of at most 75 octets,
// never inside a UTF-8 sequence; continuation lines start with a space,
// which counts towards their length.
func foldLine(line string) []string {
	if len(line) <= maxLineOctets {
		return []string{line}
	}
	var out []string
	limit := maxLineOctets
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		if cut == 0 { // not UTF-8 at all: cut anyway
			cut = limit
		}
		if len(out) == 0 {
			out = append(out, line[:cut])
		} else {
			out = append(out, " "+line[:cut])
		}
		line = line[cut:]
		limit = maxLineOctets - 1
	}
	if len(out) == 0 {
		return []string{line}
	}
	return append(out, " "+line)
}

// newProp builds a property from a logical line, folded.
func newProp(line string) *rawProp {
	name, _ := splitName(line)
	return &rawProp{name: strings.ToUpper(name), lines: foldLine(line)}
}
