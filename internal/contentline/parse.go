package contentline

import (
	"fmt"
	"strings"
)

// Line is a parsed logical content line (RFC 5545 §3.1, RFC 6350 §3.3):
// name *(";" param) ":" value.
type Line struct {
	// Name is the text before the first ";" or ":", as written. In a
	// vCard it may carry a group ("item1.EMAIL"); SplitGroup separates it.
	Name   string
	Params []Param // in the order written
	// Value is everything after the ":" that ends the parameters, raw:
	// escaping intact.
	Value string
}

// Param is one parameter of a content line.
type Param struct {
	Name string // upper-case
	// Values holds the values with their quotes removed, split at the
	// commas outside quotes. It is nil for a parameter without "=" (the
	// vCard 2.1 shorthand TEL;WORK:…, which old exporters still write).
	Values []string
	// Raw is the parameter as written, with its leading ";", for copying
	// it into a rewritten line unchanged; "" for a parameter made anew.
	Raw string
}

// SplitName splits a content line after its name, at the first ";" or
// ":". rest is "" when the line has neither.
func SplitName(line string) (name, rest string) {
	i := strings.IndexAny(line, ";:")
	if i < 0 {
		return line, ""
	}
	return line[:i], line[i:]
}

// SplitGroup splits a vCard property name into its group and name (RFC
// 6350 §3.3: [group "."] name); group is "" when there is none.
func SplitGroup(name string) (group, rest string) {
	if i := strings.IndexByte(name, '.'); i >= 0 {
		return name[:i], name[i+1:]
	}
	return "", name
}

// Parse parses one logical line. A parameter value is either quoted, and
// then ends at the closing DQUOTE, or unquoted, and then ends at ",", ";"
// or ":". RFC 5545 §3.1 and RFC 6350 §3.3 exclude DQUOTE from unquoted
// values (paramtext is SAFE-CHAR), but Parse keeps one there as it is, so
// that cards stored before stay readable; a value holding a DQUOTE can
// only be such a stray one, and a caller that wants the strict grammar
// refuses it. Parse does not judge the characters of names or values
// either; the formats differ there.
func Parse(line string) (Line, error) {
	name, rest := SplitName(line)
	l := Line{Name: name}
	if name == "" {
		return l, fmt.Errorf("%w: missing property name", ErrSyntax)
	}
	if n := strings.Count(rest[:max(strings.IndexByte(rest, ':'), 0)], ";"); n > 0 {
		// One allocation for the parameters: a ";" before the first ":"
		// starts one, unless it is quoted (then there are fewer).
		l.Params = make([]Param, 0, n)
	}
	for len(rest) > 0 && rest[0] == ';' {
		start := rest
		rest = rest[1:]
		i := 0
		for i < len(rest) && rest[i] != '=' && rest[i] != ';' && rest[i] != ':' {
			i++
		}
		if i == len(rest) {
			return l, fmt.Errorf("%w: line ends inside the parameters of %s", ErrSyntax, name)
		}
		p := Param{Name: strings.ToUpper(rest[:i])}
		if rest[i] != '=' {
			rest = rest[i:]
			p.Raw = start[:len(start)-len(rest)]
			l.Params = append(l.Params, p)
			continue
		}
		if i == 0 {
			return l, fmt.Errorf("%w: empty parameter name in %s", ErrSyntax, name)
		}
		rest = rest[i+1:]
		for {
			var v string
			if len(rest) > 0 && rest[0] == '"' {
				end := strings.IndexByte(rest[1:], '"')
				if end < 0 {
					return l, fmt.Errorf("%w: unterminated quoted parameter value in %s", ErrSyntax, name)
				}
				v, rest = rest[1:1+end], rest[end+2:]
			} else {
				end := strings.IndexAny(rest, ",;:")
				if end < 0 {
					return l, fmt.Errorf("%w: line ends inside the parameters of %s", ErrSyntax, name)
				}
				v, rest = rest[:end], rest[end:]
			}
			p.Values = append(p.Values, v)
			if len(rest) == 0 || rest[0] != ',' {
				break
			}
			rest = rest[1:]
		}
		p.Raw = start[:len(start)-len(rest)]
		l.Params = append(l.Params, p)
	}
	if len(rest) == 0 || rest[0] != ':' {
		return l, fmt.Errorf("%w: missing ':' after %s", ErrSyntax, name)
	}
	l.Value = rest[1:]
	return l, nil
}

// Param returns the first value of the parameter called name (upper-case),
// or "".
func (l *Line) Param(name string) string {
	for _, p := range l.Params {
		if p.Name == name && len(p.Values) > 0 {
			return p.Values[0]
		}
	}
	return ""
}

// Head returns the name and the parameters as written, without those
// named in drop: the start of a rewritten line that keeps what it does not
// change.
func (l *Line) Head(drop ...string) string {
	var b strings.Builder
	b.WriteString(l.Name)
Params:
	for _, p := range l.Params {
		for _, d := range drop {
			if p.Name == d {
				continue Params
			}
		}
		b.WriteString(p.Raw)
	}
	return b.String()
}

// ControlChar returns the index of the first control character in s that
// a content line may not hold, or -1. RFC 5545 §3.1 and §3.3.11 and RFC
// 6350 §3.3 build values from WSP, printable ASCII and non-ASCII UTF-8:
// every control character but HTAB (CTL, %x00-08 / %x0A-1F / %x7F) is
// excluded.
func ControlChar(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return i
		}
	}
	return -1
}

// BodyControlChar is ControlChar for a whole body, before unfolding: the
// line breaks (LF, and CR before an LF or at the end) do not count, and
// folding removes nothing else, so it finds exactly the control characters
// the logical lines would hold.
func BodyControlChar(body []byte) int {
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\n' || c == '\t':
		case c == '\r' && (i+1 == len(body) || body[i+1] == '\n'):
		case c < 0x20 || c == 0x7f:
			return i
		}
	}
	return -1
}
