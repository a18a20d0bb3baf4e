package caldav

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/davenport-dav/davenport/internal/contentline"
	"github.com/emersion/go-ical"
)

// This file holds a small, order-preserving reader and writer of iCalendar
// components on top of internal/contentline (RFC 5545 §3.1). Partial
// retrieval must hand back parts of the stored bytes untouched, and go-ical
// cannot: it keeps properties in a map (losing their order), does not fold,
// and refuses to encode objects without DTSTAMP. So the stored body is
// split into components and properties that remember their physical lines;
// only lines the server really changes (expanded instances, clipped
// FREEBUSY, novalue) are written anew.

// maxRawDepth bounds component nesting when reading a body.
const maxRawDepth = 16

// errRawSyntax is wrapped by every error of the raw reader.
var errRawSyntax = errors.New("caldav: malformed iCalendar")

// rawProp is one property with the physical lines it was read from.
type rawProp struct {
	name string // upper-case property name
	line string // the logical line, unfolded
	raw  string // the physical lines as read (contentline.Reader.Raw)
}

// rawItem is one entry of a component: a property or a sub-component.
type rawItem struct {
	prop *rawProp
	comp *rawComp
}

// rawComp is a component with its entries in their original order.
type rawComp struct {
	name       string // upper-case component name
	begin, end string // the BEGIN and END lines as read
	items      []rawItem
}

// parseRaw reads a calendar body into components. Blank lines and a
// leading byte order mark are skipped, and anything after the first
// top-level component is ignored, as go-ical does.
func parseRaw(body []byte) (*rawComp, error) {
	var (
		stack []*rawComp
		root  *rawComp
	)
	r := contentline.NewReader(string(body))
	for r.Next() {
		line, raw := r.Line(), r.Raw()
		name, rest := contentline.SplitName(line)
		upper := strings.ToUpper(name)
		switch upper {
		case "BEGIN", "END":
			if !strings.HasPrefix(rest, ":") {
				return nil, fmt.Errorf("%w: %s without a component name", errRawSyntax, upper)
			}
			comp := strings.ToUpper(strings.TrimSpace(rest[1:]))
			if upper == "BEGIN" {
				if len(stack) >= maxRawDepth {
					return nil, fmt.Errorf("%w: components nested too deep", errRawSyntax)
				}
				c := &rawComp{name: comp, begin: raw}
				if len(stack) > 0 {
					parent := stack[len(stack)-1]
					parent.items = append(parent.items, rawItem{comp: c})
				} else {
					root = c // the first: reading stops when it closes
				}
				stack = append(stack, c)
				continue
			}
			if len(stack) == 0 {
				return nil, fmt.Errorf("%w: END:%s without BEGIN", errRawSyntax, comp)
			}
			top := stack[len(stack)-1]
			if top.name != comp {
				return nil, fmt.Errorf("%w: END:%s closes %s", errRawSyntax, comp, top.name)
			}
			top.end = raw
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return root, nil
			}
			continue
		}
		if name == "" {
			return nil, fmt.Errorf("%w: content line without a name", errRawSyntax)
		}
		if len(stack) == 0 {
			return nil, fmt.Errorf("%w: property %s outside a component", errRawSyntax, upper)
		}
		c := stack[len(stack)-1]
		c.items = append(c.items, rawItem{prop: &rawProp{name: upper, line: line, raw: raw}})
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", errRawSyntax, err)
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no component", errRawSyntax)
	}
	return nil, fmt.Errorf("%w: %s is not closed", errRawSyntax, root.name)
}

// parseContentLine parses "name *(;param) : value" (RFC 5545 §3.1), with
// the strict parameter grammar: unlike vCard 2.1, iCalendar has no
// parameters without "=" (param = param-name "=" param-value), and an
// unquoted value is paramtext, which holds no DQUOTE.
func parseContentLine(line string) (contentline.Line, error) {
	cl, err := contentline.Parse(line)
	if err != nil {
		return cl, fmt.Errorf("%w: %w", errRawSyntax, err)
	}
	for _, p := range cl.Params {
		if p.Values == nil {
			return cl, fmt.Errorf("%w: parameter %s of %s without a value", errRawSyntax, p.Name, cl.Name)
		}
		for _, v := range p.Values {
			if strings.Contains(v, `"`) {
				return cl, fmt.Errorf("%w: stray quote in parameter %s of %s", errRawSyntax, p.Name, cl.Name)
			}
		}
	}
	return cl, nil
}

// parsed returns the property's content line.
func (p *rawProp) parsed() (contentline.Line, error) {
	return parseContentLine(p.line)
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
		prop := ical.Prop{Name: it.prop.name, Params: make(ical.Params, len(cl.Params)), Value: cl.Value}
		for _, pa := range cl.Params {
			prop.Params[pa.Name] = append(prop.Params[pa.Name], pa.Values...)
		}
		ic.Props[prop.Name] = append(ic.Props[prop.Name], prop)
	}
	return ic
}

// writeTo appends the component as it was read, except for the changes made
// to its items.
func (c *rawComp) writeTo(b *bytes.Buffer) {
	contentline.WriteRaw(b, c.begin)
	for _, it := range c.items {
		if it.comp != nil {
			it.comp.writeTo(b)
		} else {
			contentline.WriteRaw(b, it.prop.raw)
		}
	}
	contentline.WriteRaw(b, c.end)
}

// newProp builds a property from a logical line, folded.
func newProp(line string) *rawProp {
	name, _ := contentline.SplitName(line)
	var b strings.Builder
	contentline.WriteFolded(&b, line)
	return &rawProp{name: strings.ToUpper(name), line: line, raw: b.String()}
}
