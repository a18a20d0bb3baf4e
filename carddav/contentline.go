package carddav

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
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
// and, in vCard 4.0, RFC 6868 carets resolved.
type param struct {
	name   string // upper-case
	values []string
}

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
		if pa.name == name {
			out = append(out, pa.values...)
		}
	}
	return out
}

// paramValue returns the first value of the parameter name, or "".
func (p *property) paramValue(name string) string {
	for _, pa := range p.params {
		if pa.name == name && len(pa.values) > 0 {
			return pa.values[0]
		}
	}
	return ""
}

// hasParam reports whether the parameter name is present.
func (p *property) hasParam(name string) bool {
	for _, pa := range p.params {
		if pa.name == name {
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
		if pa.name != name {
			out = append(out, pa)
			continue
		}
		if !done {
			out = append(out, param{name: name, values: values})
			done = true
		}
	}
	if !done {
		out = append(out, param{name: name, values: values})
	}
	p.params = out
}

// delParam removes every occurrence of name.
func (p *property) delParam(name string) {
	out := p.params[:0:0]
	for _, pa := range p.params {
		if pa.name != name {
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
		c.params[i] = param{name: pa.name, values: append([]string(nil), pa.values...)}
	}
	return c
}

// isNameChar reports whether c may appear in a property, group or parameter
// name. RFC 6350 §3.3 allows ALPHA, DIGIT and "-"; "_" is accepted because
// real exporters emit it in X- names.
func isNameChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// hasControl reports whether s holds a control character other than HTAB,
// which RFC 6350 §3.3 (VALUE-CHAR, SAFE-CHAR) excludes from content lines.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// unfold splits body into logical content lines. RFC 6350 §3.2: "Any
// sequence of CRLF followed immediately by a single white space character
// is ignored (removed) when processing the content type." A bare LF is
// accepted as a line break as well; empty lines are dropped. It runs in
// time linear in len(body).
func unfold(body []byte) ([]string, error) {
	s := string(body)
	s = strings.TrimPrefix(s, "\uFEFF") // a UTF-8 byte order mark some exporters write
	var (
		lines  []string
		cur    string          // the logical line so far, while it has no continuation
		folded strings.Builder // the logical line once a continuation appended to it
		open   bool
	)
	flush := func() {
		if !open {
			return
		}
		if folded.Len() > 0 {
			cur = folded.String()
			folded.Reset()
		}
		lines = append(lines, cur)
		open = false
	}
	for len(s) > 0 {
		var phys string
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			phys, s = s[:i], s[i+1:]
		} else {
			phys, s = s, ""
		}
		phys = strings.TrimSuffix(phys, "\r")
		switch {
		case phys == "":
			flush()
		case phys[0] == ' ' || phys[0] == '\t':
			if !open {
				return nil, fmt.Errorf("%w: continuation line without a line to continue", errSyntax)
			}
			if folded.Len() == 0 {
				folded.WriteString(cur)
			}
			folded.WriteString(phys[1:])
		default:
			flush()
			cur, open = phys, true
		}
	}
	flush()
	return lines, nil
}

// parseLine parses one unfolded content line. version4 selects RFC 6868
// caret decoding of parameter values, which vCard 3.0 does not have.
func parseLine(line string, version4 bool) (property, error) {
	var p property
	if hasControl(line) {
		return p, fmt.Errorf("%w: control character", errSyntax)
	}
	i := 0
	for i < len(line) && isNameChar(line[i]) {
		i++
	}
	if i == 0 {
		return p, fmt.Errorf("%w: missing property name", errSyntax)
	}
	name := line[:i]
	if i < len(line) && line[i] == '.' {
		p.group = name
		j := i + 1
		for j < len(line) && isNameChar(line[j]) {
			j++
		}
		if j == i+1 {
			return p, fmt.Errorf("%w: missing property name after group", errSyntax)
		}
		name, i = line[i+1:j], j
	}
	p.name = strings.ToUpper(name)
	if name != p.name && strings.HasPrefix(p.name, "X-") {
		// Standard names are written upper-case on output; extension
		// names keep their spelling (Apple writes and looks for X-ABLabel).
		p.spelt = name
	}
	for i < len(line) && line[i] == ';' {
		i++
		j := i
		for j < len(line) && isNameChar(line[j]) {
			j++
		}
		pname := strings.ToUpper(line[i:j])
		i = j
		if i >= len(line) {
			return p, fmt.Errorf("%w: line ends inside parameters", errSyntax)
		}
		if line[i] != '=' {
			if line[i] != ';' && line[i] != ':' {
				return p, fmt.Errorf("%w: bad character %q in parameter name", errSyntax, line[i])
			}
			// vCard 2.1 wrote bare type names (TEL;WORK;VOICE:…); old
			// exporters still put them in 3.0 cards. They mean TYPE=….
			if pname != "" {
				p.params = appendParam(p.params, "TYPE", []string{pname})
			}
			continue
		}
		if pname == "" {
			return p, fmt.Errorf("%w: empty parameter name", errSyntax)
		}
		i++ // '='
		var values []string
		for {
			var v string
			if i < len(line) && line[i] == '"' {
				end := strings.IndexByte(line[i+1:], '"')
				if end < 0 {
					return p, fmt.Errorf("%w: unterminated quoted parameter value", errSyntax)
				}
				v = line[i+1 : i+1+end]
				i += end + 2
			} else {
				j := i
				for j < len(line) && line[j] != ',' && line[j] != ';' && line[j] != ':' {
					j++
				}
				v = line[i:j]
				i = j
			}
			if version4 {
				v = decodeCaret(v)
			}
			values = append(values, v)
			if i < len(line) && line[i] == ',' {
				i++
				continue
			}
			break
		}
		if pname == "TYPE" {
			// RFC 6350 §5.6 allows TYPE="work,voice": one quoted list.
			values = splitCommas(values)
		}
		p.params = appendParam(p.params, pname, values)
	}
	if i >= len(line) || line[i] != ':' {
		return p, fmt.Errorf("%w: missing ':' after property name", errSyntax)
	}
	p.value = line[i+1:]
	return p, nil
}

// appendParam adds values to the parameter name, merging with an earlier
// occurrence (TYPE=home;TYPE=pref is TYPE=home,pref).
func appendParam(params []param, name string, values []string) []param {
	for k := range params {
		if params[k].name == name {
			params[k].values = append(params[k].values, values...)
			return params
		}
	}
	return append(params, param{name: name, values: values})
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
	lines, err := unfold(body)
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
