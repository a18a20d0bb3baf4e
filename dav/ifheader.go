package dav

import (
	"net/http"
	"strings"
)

// The If request header (RFC 4918 §10.4): lists of conditions — lock
// tokens and entity tags, each possibly negated with Not — either untagged
// (about the request URI) or tagged with the resource they are about. A
// list holds when all its conditions hold; the header holds when any list
// does. A false header is 412 (§10.4.1). The lock tokens it names are also
// the tokens the request submits for the locks on what it changes (§7.5).
//
//	If = ( 1*No-tag-list | 1*Tagged-list )
//	No-tag-list = List
//	Tagged-list = Resource-Tag 1*List
//	List = "(" 1*Condition ")"
//	Condition = ["Not"] (State-token | "[" entity-tag "]")
//	State-token = Coded-URL
//	Resource-Tag = "<" Simple-ref ">"

// ifHeader is a parsed If header.
type ifHeader struct {
	lists []ifList
}

// ifList is one List: its resource tag ("" when untagged) and conditions.
type ifList struct {
	tag   string
	conds []ifCondition
}

// ifCondition is a state token or an entity tag (quoted as sent), possibly
// negated.
type ifCondition struct {
	not   bool
	token string
	etag  string
}

// Bounds of one If header: real clients send a list or two. Every
// distinct tag costs a lookup.
const (
	maxIfConditions = 64
	maxIfTags       = 8
)

// errBadIf is a malformed If header: 400 (RFC 4918 §10.4 gives no other
// answer for a header that does not parse).
func errBadIf(why string) *Error {
	return &Error{Status: http.StatusBadRequest, Message: "dav: malformed If header: " + why}
}

// parseIf parses an If header; "" is no header (nil, nil).
func parseIf(s string) (*ifHeader, error) {
	p := ifParser{s: s}
	p.space()
	if p.done() {
		return nil, nil
	}
	h := &ifHeader{}
	tagged := p.peek() == '<'
	tag := ""
	tags := map[string]bool{}
	conds := 0
	for p.space(); !p.done(); p.space() {
		switch p.peek() {
		case '<':
			if !tagged {
				return nil, errBadIf("a resource tag after an untagged list")
			}
			t, err := p.coded()
			if err != nil {
				return nil, err
			}
			tag = t
			tags[tag] = true
			if len(tags) > maxIfTags {
				return nil, errBadIf("too many resource tags")
			}
			p.space()
			if p.done() || p.peek() != '(' {
				return nil, errBadIf("a resource tag without a list")
			}
		case '(':
			l, err := p.list()
			if err != nil {
				return nil, err
			}
			if conds += len(l); conds > maxIfConditions {
				return nil, errBadIf("too many conditions")
			}
			h.lists = append(h.lists, ifList{tag: tag, conds: l})
		default:
			return nil, errBadIf("unexpected " + string(p.peek()))
		}
	}
	return h, nil
}

type ifParser struct {
	s string
	i int
}

func (p *ifParser) done() bool { return p.i >= len(p.s) }
func (p *ifParser) peek() byte { return p.s[p.i] }

func (p *ifParser) space() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\r' || p.s[p.i] == '\n') {
		p.i++
	}
}

// coded reads "<" URI ">".
func (p *ifParser) coded() (string, error) {
	p.i++ // '<'
	end := strings.IndexByte(p.s[p.i:], '>')
	if end < 0 {
		return "", errBadIf("unterminated <")
	}
	u := p.s[p.i : p.i+end]
	if u == "" || strings.ContainsAny(u, " \t\r\n<") {
		return "", errBadIf("bad URI in <>")
	}
	p.i += end + 1
	return u, nil
}

// list reads "(" 1*Condition ")".
func (p *ifParser) list() ([]ifCondition, error) {
	p.i++ // '('
	var out []ifCondition
	for {
		p.space()
		if p.done() {
			return nil, errBadIf("unterminated list")
		}
		if p.peek() == ')' {
			p.i++
			if len(out) == 0 {
				return nil, errBadIf("empty list")
			}
			return out, nil
		}
		var c ifCondition
		if strings.HasPrefix(p.s[p.i:], "Not") {
			c.not = true
			p.i += 3
			p.space()
			if p.done() {
				return nil, errBadIf("Not without a condition")
			}
		}
		switch p.peek() {
		case '<':
			t, err := p.coded()
			if err != nil {
				return nil, err
			}
			c.token = t
		case '[':
			end := strings.IndexByte(p.s[p.i:], ']')
			if end < 0 {
				return nil, errBadIf("unterminated [")
			}
			tag := strings.TrimSpace(p.s[p.i+1 : p.i+end])
			if !validETag(tag) {
				return nil, errBadIf("bad entity tag")
			}
			c.etag = tag
			p.i += end + 1
		default:
			return nil, errBadIf("a condition is neither <state-token> nor [entity-tag]")
		}
		out = append(out, c)
	}
}

// validETag checks entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE (RFC 9110
// §8.8.3), letting spaces in as RFC 4918's own examples have them.
func validETag(t string) bool {
	t = strings.TrimPrefix(t, "W/")
	if len(t) < 2 || t[0] != '"' || t[len(t)-1] != '"' {
		return false
	}
	for _, c := range []byte(t[1 : len(t)-1]) {
		if c == '"' || c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// tokens are the state tokens the header names outside Not: the lock
// tokens the request submits (RFC 4918 §10.4.1: "the lock token ... in the
// If header").
func (h *ifHeader) tokens() []string {
	if h == nil {
		return nil
	}
	var out []string
	for _, l := range h.lists {
		for _, c := range l.conds {
			if c.token != "" && !c.not {
				out = append(out, c.token)
			}
		}
	}
	return out
}

// ifState is what a condition is matched against: the current entity
// tags of a resource (none for a collection or an unmapped URL), and the
// tokens of the locks that cover it.
type ifState struct {
	etags  []string // unquoted
	tokens []string
}

// eval reports whether the header holds, with state giving the state of
// the resource a list is about (tag "" for the request URI).
func (h *ifHeader) eval(state func(tag string) (*ifState, error)) (bool, error) {
	for _, l := range h.lists {
		st, err := state(l.tag)
		if err != nil {
			return false, err
		}
		if st.matches(l.conds) {
			return true, nil
		}
	}
	return false, nil
}

// matches reports whether every condition holds for the state. Entity
// tags compare strongly (RFC 4918 §10.4.8 and RFC 9110 §8.8.3.2): a weak
// tag matches nothing, since every tag the server gives is strong.
func (st *ifState) matches(conds []ifCondition) bool {
	for _, c := range conds {
		var ok bool
		if c.token != "" {
			for _, t := range st.tokens {
				if t == c.token {
					ok = true
					break
				}
			}
		} else if !strings.HasPrefix(c.etag, "W/") {
			for _, t := range st.etags {
				if c.etag == quoteETag(t) {
					ok = true
					break
				}
			}
		}
		if ok == c.not {
			return false
		}
	}
	return true
}
