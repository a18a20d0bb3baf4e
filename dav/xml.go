package dav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// XML namespaces the protocol layer speaks.
const (
	NSDAV     = "DAV:"
	NSCalDAV  = "urn:ietf:params:xml:ns:caldav"
	NSCardDAV = "urn:ietf:params:xml:ns:carddav"
	NSCS      = "http://calendarserver.org/ns/"
	NSApple   = "http://apple.com/ns/ical/"
)

// Name returns the DAV: element name local.
func Name(local string) xml.Name { return xml.Name{Space: NSDAV, Local: local} }

// Limits bound what a request body may cost to parse. Every XML body the
// server reads goes through ReadXML with these limits.
type Limits struct {
	MaxBytes    int64 // body size
	MaxDepth    int   // element nesting
	MaxElements int   // elements in the document
}

// DefaultLimits fit the largest bodies real clients send (a multiget of a few
// thousand hrefs) with room to spare.
var DefaultLimits = Limits{MaxBytes: 4 << 20, MaxDepth: 64, MaxElements: 100000}

// Errors from ReadXML. They map to 400, except ErrBodyTooLarge (413).
var (
	ErrBodyTooLarge = errors.New("dav: request body too large")
	ErrMalformedXML = errors.New("dav: malformed XML")
)

// Element is a parsed XML element. Character data directly inside the element
// is concatenated in Text; children keep their order.
type Element struct {
	Name     xml.Name
	Attr     []xml.Attr
	Children []*Element
	Text     string
}

// NewElement returns an element with the given children.
func NewElement(name xml.Name, children ...*Element) *Element {
	return &Element{Name: name, Children: children}
}

// TextElement returns an element holding text.
func TextElement(name xml.Name, text string) *Element {
	return &Element{Name: name, Text: text}
}

// HrefElement returns name with one DAV:href child per href.
func HrefElement(name xml.Name, hrefs ...string) *Element {
	e := &Element{Name: name}
	for _, h := range hrefs {
		e.Children = append(e.Children, TextElement(Name("href"), h))
	}
	return e
}

// Child returns the first child named name, or nil.
func (e *Element) Child(name xml.Name) *Element {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// ChildrenNamed returns every child named name.
func (e *Element) ChildrenNamed(name xml.Name) []*Element {
	if e == nil {
		return nil
	}
	var out []*Element
	for _, c := range e.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// AttrValue returns the value of the attribute local (no namespace).
func (e *Element) AttrValue(local string) (string, bool) {
	for _, a := range e.Attr {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// Decode unmarshals the element into v with encoding/xml, straight from the
// parsed tree: the tree is replayed as tokens (see tokens), never written
// out and parsed again. The element came from ReadXML, so it is already
// free of DTDs and bounded in size.
func (e *Element) Decode(v any) error {
	return xml.NewTokenDecoder(e.tokens()).Decode(v)
}

// tokens replays the element as the token stream ParseXML read it from:
// names already resolved to their namespaces, an element's text before its
// children (as String writes it).
func (e *Element) tokens() xml.TokenReader {
	return &treeReader{stack: []treeFrame{{el: e, child: -2}}}
}

// treeReader walks an Element tree depth first. A frame's child is -2
// before its start tag, -1 before its text, then the index of the next
// child to visit.
type treeReader struct {
	stack []treeFrame
}

type treeFrame struct {
	el    *Element
	child int
}

func (t *treeReader) Token() (xml.Token, error) {
	for len(t.stack) > 0 {
		f := &t.stack[len(t.stack)-1]
		switch {
		case f.child == -2:
			f.child = -1
			return xml.StartElement{Name: f.el.Name, Attr: f.el.Attr}, nil
		case f.child == -1:
			f.child = 0
			if f.el.Text != "" {
				return xml.CharData(f.el.Text), nil
			}
		case f.child < len(f.el.Children):
			c := f.el.Children[f.child]
			f.child++
			t.stack = append(t.stack, treeFrame{el: c, child: -2})
		default:
			t.stack = t.stack[:len(t.stack)-1]
			return xml.EndElement{Name: f.el.Name}, nil
		}
	}
	return nil, io.EOF
}

// String serializes the element as a self-contained XML fragment: every
// namespace it uses is declared on the element that first needs it, so the
// fragment can be stored (dead properties) and written back anywhere.
func (e *Element) String() string {
	var b strings.Builder
	writeTree(&b, e, selfContained, "", 0)
	return b.String()
}

// A qualifier names an element for output: the prefix of the qualified
// name to write ("" for none) and the namespace declaration it needs,
// given its parent's namespace and its depth. The name's local part
// follows the prefix and a colon.
type qualifier func(n xml.Name, parentNS string, depth int) (prefix, decl string)

// selfContained redeclares the default namespace wherever it changes, so the
// fragment needs no declarations from outside.
func selfContained(n xml.Name, parentNS string, _ int) (string, string) {
	if n.Space == parentNS {
		return "", ""
	}
	var b strings.Builder
	escapeAttr(&b, n.Space)
	return "", ` xmlns="` + b.String() + `"`
}

// writeTree serializes e and its children, naming elements with q.
func writeTree(b xmlWriter, e *Element, q qualifier, parentNS string, depth int) {
	prefix, decl := q(e.Name, parentNS, depth)
	b.WriteByte('<')
	writeQName(b, prefix, e.Name.Local)
	b.WriteString(decl)
	writeAttrs(b, e.Attr)
	if e.Text == "" && len(e.Children) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	escapeText(b, e.Text)
	for _, c := range e.Children {
		writeTree(b, c, q, e.Name.Space, depth+1)
	}
	b.WriteString("</")
	writeQName(b, prefix, e.Name.Local)
	b.WriteByte('>')
}

func writeQName(b xmlWriter, prefix, local string) {
	if prefix != "" {
		b.WriteString(prefix)
		b.WriteByte(':')
	}
	b.WriteString(local)
}

const xmlNamespace = "http://www.w3.org/XML/1998/namespace"

// writeAttrs writes attributes; namespaced ones get a prefix declared on the
// same element.
func writeAttrs(b xmlWriter, attrs []xml.Attr) {
	n := 0
	for _, a := range attrs {
		switch a.Name.Space {
		case "":
			fmt.Fprintf(b, ` %s="`, a.Name.Local)
		case xmlNamespace, "xml":
			// The xml prefix is bound by definition and may not be
			// declared again (Namespaces in XML §3): xml:lang stays xml:lang.
			fmt.Fprintf(b, ` xml:%s="`, a.Name.Local)
		default:
			fmt.Fprintf(b, ` xmlns:a%d="`, n)
			escapeAttr(b, a.Name.Space)
			fmt.Fprintf(b, `" a%d:%s="`, n, a.Name.Local)
			n++
		}
		escapeAttr(b, a.Value)
		b.WriteByte('"')
	}
}

// xmlWriter is what the serializers write to: a strings.Builder for stored
// fragments, the response's bufio.Writer for 207 bodies.
type xmlWriter interface {
	io.Writer
	io.StringWriter
	io.ByteWriter
}

// escapeText writes s as XML character data (or an attribute value):
// markup characters as references, a carriage return as &#xD; so it
// survives the parser's line-end normalization (calendar and address data
// keep their CRLFs), and characters XML cannot carry as U+FFFD. Runs of
// ordinary characters are written in one piece: calendar data in a multiget
// is mostly such a run.
func escapeText(b xmlWriter, s string) {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && textSafe[c] {
			i++
			continue
		}
		var repl string
		width := 1
		switch c {
		case '&':
			repl = "&amp;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		case '"':
			repl = "&#34;"
		case '\r':
			repl = "&#xD;"
		default:
			if c < utf8.RuneSelf {
				repl = "\uFFFD" // a control character
				break
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			width = n
			if !(r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF) {
				i += width
				continue
			}
			repl = "\uFFFD"
		}
		b.WriteString(s[start:i])
		b.WriteString(repl)
		i += width
		start = i
	}
	b.WriteString(s[start:])
}

// textSafe marks the ASCII bytes escapeText copies as they are.
var textSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		safe[c] = true
	}
	safe['\t'], safe['\n'] = true, true
	for _, c := range `&<>"` {
		safe[c] = false
	}
	return safe
}()

func escapeAttr(b xmlWriter, s string) { escapeText(b, s) }

// ReadXML reads and parses an XML request body within limits. A body that
// is empty returns (nil, nil). DTDs, and with them entity declarations, are
// refused outright: no external entities, no entity expansion (only the five
// predefined entities and character references are understood).
func ReadXML(w http.ResponseWriter, r *http.Request, lim Limits) (*Element, error) {
	body := http.MaxBytesReader(w, r.Body, lim.MaxBytes)
	data, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, ErrBodyTooLarge
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformedXML, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	return ParseXML(data, lim)
}

// ParseXML parses a complete XML document within lim.
func ParseXML(data []byte, lim Limits) (*Element, error) {
	if int64(len(data)) > lim.MaxBytes {
		return nil, ErrBodyTooLarge
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
		if strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "us-ascii") {
			return input, nil
		}
		return nil, fmt.Errorf("unsupported charset %q", charset)
	}
	var (
		root     *Element
		stack    []*Element
		elements int
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedXML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > lim.MaxElements {
				return nil, fmt.Errorf("%w: more than %d elements", ErrMalformedXML, lim.MaxElements)
			}
			if len(stack) >= lim.MaxDepth {
				return nil, fmt.Errorf("%w: nested deeper than %d", ErrMalformedXML, lim.MaxDepth)
			}
			if !validName(t.Name.Local) {
				return nil, fmt.Errorf("%w: invalid element name %q", ErrMalformedXML, t.Name.Local)
			}
			el := &Element{Name: t.Name}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" && a.Value == "" {
					// Namespaces in XML 1.0 §3, "No Prefix Undeclaring":
					// xmlns:p="" is not well-formed.
					return nil, fmt.Errorf("%w: namespace prefix %q declared empty", ErrMalformedXML, a.Name.Local)
				}
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue // namespace declarations are resolved already
				}
				if !validName(a.Name.Local) {
					return nil, fmt.Errorf("%w: invalid attribute name %q", ErrMalformedXML, a.Name.Local)
				}
				el.Attr = append(el.Attr, a)
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("%w: more than one root element", ErrMalformedXML)
				}
				root = el
			} else {
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, el)
			}
			stack = append(stack, el)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("%w: text outside the root element", ErrMalformedXML)
			}
		case xml.Directive:
			return nil, fmt.Errorf("%w: DTDs and entity declarations are not accepted", ErrMalformedXML)
		case xml.ProcInst:
			if t.Target != "xml" {
				return nil, fmt.Errorf("%w: processing instruction %q", ErrMalformedXML, t.Target)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", ErrMalformedXML)
	}
	trimText(root)
	return root, nil
}

// validName checks the XML 1.0 Name production (without colons, which the
// decoder has already split off); encoding/xml is more lenient than that.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r) || r == 0xB7 || unicode.Is(unicode.Mn, r)):
		default:
			return false
		}
	}
	return true
}

// trimText drops whitespace-only text around child elements (indentation),
// keeping the text of leaves as sent.
func trimText(e *Element) {
	if len(e.Children) > 0 && strings.TrimSpace(e.Text) == "" {
		e.Text = ""
	}
	for _, c := range e.Children {
		trimText(c)
	}
}
