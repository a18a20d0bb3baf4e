package carddav

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/davenport-dav/davenport/internal/contentline"
)

// property is one unfolded content line of a vCard (RFC 6350 §3.3,
// RFC 2425 §5.8.1): [group "."] name *(";" param) ":" value.
type property struct {
	group  string  // as written; "" when the line has none
	name   string  // upper-case
	spelt  string  // an X- name as written (Apple writes X-ABLabel); "" means name
	params []param // in the order written
	value  string  // raw: escaping intact, as on the wire after unfolding
}

// param is one property parameter with its values decoded: quotes removed
// and, in vCard 4.0, RFC 6868 carets resolved. Name is upper-case; Raw is
// not used for vCards, which are always written anew.
type param = contentline.Param

// errSyntax reports a content line that does not follow the grammar.
var errSyntax = errors.New("carddav: malformed content line")

// displayName is the name to write for p.
func (p *property) displayName() string {
	if p.spelt != "" {
		return p.spelt
	}
	return p.name
}

// param returns the values of the parameter called name (upper-case), all
// occurrences merged, or nil.
func (p *property) param(name string) []string {
	var out []string
	for _, pa := range p.params {
		if pa.Name == name {
			out = append(out, pa.Values...)
		}
	}
	return out
}

// paramValue returns the first value of the parameter name, or "".
func (p *property) paramValue(name string) string {
	for _, pa := range p.params {
		if pa.Name == name && len(pa.Values) > 0 {
			return pa.Values[0]
		}
	}
	return ""
}

// hasParam reports whether the parameter name is present.
func (p *property) hasParam(name string) bool {
	for _, pa := range p.params {
		if pa.Name == name {
			return true
		}
	}
	return false
}

// setParam replaces every occurrence of name with one parameter holding
// values, keeping the position of the first occurrence.
func (p *property) setParam(name string, values ...string) {
	out := p.params[:0:0]
	done := false
	for _, pa := range p.params {
		if pa.Name != name {
			out = append(out, pa)
			continue
		}
		if !done {
			out = append(out, param{Name: name, Values: values})
			done = true
		}
	}
	if !done {
		out = append(out, param{Name: name, Values: values})
	}
	p.params = out
}

// delParam removes every occurrence of name.
func (p *property) delParam(name string) {
	out := p.params[:0:0]
	for _, pa := range p.params {
		if pa.Name != name {
			out = append(out, pa)
		}
	}
	p.params = out
}

// clone returns a deep copy, so conversions never alias the input.
func (p property) clone() property {
	c := p
	c.params = make([]param, len(p.params))
	for i, pa := range p.params {
		c.params[i] = param{Name: pa.Name, Values: append([]string(nil), pa.Values...)}
	}
	return c
}

// isNameChar reports whether c may appear in a property, group or parameter
// name. RFC 6350 §3.3 allows ALPHA, DIGIT and "-"; "_" is accepted because
// real exporters emit it in X- names.
func isNameChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// parseLine parses one unfolded content line. version4 selects RFC 6868
// caret decoding of parameter values, which vCard 3.0 does not have.
func parseLine(line string, version4 bool) (property, error) {
	var p property
	// RFC 6350 §3.3 (VALUE-CHAR, SAFE-CHAR, QSAFE-CHAR): no control
	// character but HTAB anywhere in a content line.
	if contentline.ControlChar(line) >= 0 {
		return p, fmt.Errorf("%w: control character", errSyntax)
	}
	l, err := contentline.Parse(line)
	if err != nil {
		// Both errors name the syntax error; say it once.
		return p, fmt.Errorf("%w: %s", errSyntax, strings.TrimPrefix(err.Error(), contentline.ErrSyntax.Error()+": "))
	}
	group, name := contentline.SplitGroup(l.Name)
	if name == "" || !allNameChars(name) || !allNameChars(group) || (group == "" && name != l.Name) {
		return p, fmt.Errorf("%w: bad property name %q", errSyntax, l.Name)
	}
	p.group = group
	p.name = strings.ToUpper(name)
	if name != p.name && strings.HasPrefix(p.name, "X-") {
		// Standard names are written upper-case on output; extension
		// names keep their spelling (Apple writes and looks for X-ABLabel).
		p.spelt = name
	}
	// Decode the parameters in place: each lands at or before the index
	// it was read from.
	params := l.Params[:0]
	for _, pa := range l.Params {
		if !allNameChars(pa.Name) {
			return p, fmt.Errorf("%w: bad parameter name %q", errSyntax, pa.Name)
		}
		values := pa.Values
		if values == nil {
			// vCard 2.1 wrote bare type names (TEL;WORK;VOICE:…); old
			// exporters still put them in 3.0 cards. They mean TYPE=….
			if pa.Name == "" {
				continue
			}
			params = appendParam(params, "TYPE", []string{pa.Name})
			continue
		}
		if version4 {
			for k, v := range values {
				values[k] = decodeCaret(v)
			}
		}
		if pa.Name == "TYPE" {
			// RFC 6350 §5.6 allows TYPE="work,voice": one quoted list.
			values = splitCommas(values)
		}
		params = appendParam(params, pa.Name, values)
	}
	p.params = params
	p.value = l.Value
	return p, nil
}

// appendParam adds values to the parameter name, merging with an earlier
// occurrence (TYPE=home;TYPE=pref is TYPE=home,pref).
func appendParam(params []param, name string, values []string) []param {
	for k := range params {
		if params[k].Name == name {
			params[k].Values = append(params[k].Values, values...)
			return params
		}
	}
	return append(params, param{Name: name, Values: values})
}

func splitCommas(values []string) []string {
	var out []string
	for _, v := range values {
		out = append(out, strings.Split(v, ",")...)
	}
	return out
}

// decodeCaret resolves RFC 6868 §3: ^n is a newline, ^^ a caret, ^' a
// double quote; any other caret stays as it is.
func decodeCaret(s string) string {
	if !strings.Contains(s, "^") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '^' && i+1 < len(s) {
			switch s[i+1] {
			case 'n', 'N':
				b.WriteByte('\n')
				i++
				continue
			case '^':
				b.WriteByte('^')
				i++
				continue
			case '\'':
				b.WriteByte('"')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cardLines is a parsed vCard: the properties between BEGIN and END, in
// order, and the VERSION value.
type cardLines struct {
	props   []property // without BEGIN and END
	version string
}

// parseCardLines parses exactly one vCard: BEGIN:VCARD first, END:VCARD
// last, no nested BEGIN and nothing after END. It does not judge VERSION,
// FN or UID; ParseCard does.
func parseCardLines(body []byte) (*cardLines, error) {
	lines, err := contentline.Unfold(string(body))
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: empty body", errSyntax)
	}
	// The version decides how parameters are decoded, so find it first.
	// RFC 6350 §6.7.9 puts VERSION right after BEGIN, but RFC 2426 does not,
	// and 3.0 exporters write it anywhere.
	version4 := false
	for _, l := range lines {
		if len(l) > 8 && strings.EqualFold(l[:8], "VERSION:") {
			version4 = strings.TrimSpace(l[8:]) == "4.0"
			break
		}
	}
	c := &cardLines{}
	state := 0 // 0 before BEGIN, 1 inside, 2 after END
	for _, l := range lines {
		if !utf8.ValidString(l) {
			return nil, fmt.Errorf("%w: invalid UTF-8", errSyntax)
		}
		p, err := parseLine(l, version4)
		if err != nil {
			return nil, err
		}
		switch state {
		case 0:
			if p.name != "BEGIN" || !strings.EqualFold(p.value, "VCARD") {
				return nil, fmt.Errorf("%w: the body must start with BEGIN:VCARD", errSyntax)
			}
			state = 1
		case 1:
			switch p.name {
			case "BEGIN":
				return nil, fmt.Errorf("%w: nested BEGIN:%s", errSyntax, p.value)
			case "END":
				if !strings.EqualFold(p.value, "VCARD") {
					return nil, fmt.Errorf("%w: END:%s inside a vCard", errSyntax, p.value)
				}
				state = 2
			default:
				if p.name == "VERSION" && c.version == "" {
					c.version = p.value
				}
				c.props = append(c.props, p)
			}
		case 2:
			return nil, fmt.Errorf("%w: content after END:VCARD (only one vCard is allowed)", errSyntax)
		}
	}
	if state != 2 {
		return nil, fmt.Errorf("%w: missing END:VCARD", errSyntax)
	}
	return c, nil
}
