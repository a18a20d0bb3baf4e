package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// The parts of a 207 Multi-Status (RFC 4918 §13) the bench reads. Servers
// choose their own namespace prefixes; encoding/xml matches on namespace
// URIs, so "d:", "D:" and a default namespace all decode alike.

const (
	nsDAV     = "DAV:"
	nsCalDAV  = "urn:ietf:params:xml:ns:caldav"
	nsCardDAV = "urn:ietf:params:xml:ns:carddav"
)

var errNoMultistatus = errors.New("response is not a DAV:multistatus")

type hrefElem struct {
	Href string `xml:"DAV: href"`
}

type msProp struct {
	GetETag              string    `xml:"DAV: getetag"`
	GetContentType       string    `xml:"DAV: getcontenttype"`
	CurrentUserPrincipal *hrefElem `xml:"DAV: current-user-principal"`
	CalendarHomeSet      *hrefElem `xml:"urn:ietf:params:xml:ns:caldav calendar-home-set"`
	AddressbookHomeSet   *hrefElem `xml:"urn:ietf:params:xml:ns:carddav addressbook-home-set"`
	CalendarData         string    `xml:"urn:ietf:params:xml:ns:caldav calendar-data"`
	AddressData          string    `xml:"urn:ietf:params:xml:ns:carddav address-data"`
}

type msPropstat struct {
	Prop   msProp `xml:"DAV: prop"`
	Status string `xml:"DAV: status"`
}

type msResponse struct {
	Hrefs     []string     `xml:"DAV: href"`
	Status    string       `xml:"DAV: status"`
	Propstats []msPropstat `xml:"DAV: propstat"`
}

type multistatus struct {
	XMLName   xml.Name     `xml:"DAV: multistatus"`
	Responses []msResponse `xml:"DAV: response"`
	SyncToken string       `xml:"DAV: sync-token"`
}

// parseMultistatus decodes a 207 body.
func parseMultistatus(body []byte) (*multistatus, error) {
	var ms multistatus
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&ms); err != nil {
		return nil, fmt.Errorf("%w: %v", errNoMultistatus, err)
	}
	return &ms, nil
}

// statusCode reads the code out of an HTTP status line ("HTTP/1.1 200 OK");
// 0 when there is none.
func statusCode(line string) int {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return 0
	}
	return n
}

// member is one response of a multistatus, flattened: its href, its status
// (the response's own, or 200 when a propstat is 200) and the properties
// found with 200.
type member struct {
	Href   string
	Status int
	Prop   msProp
}

// members flattens the responses.
func (ms *multistatus) members() []member {
	out := make([]member, 0, len(ms.Responses))
	for _, r := range ms.Responses {
		if len(r.Hrefs) == 0 {
			continue
		}
		m := member{Href: strings.TrimSpace(r.Hrefs[0]), Status: statusCode(r.Status)}
		for _, ps := range r.Propstats {
			if statusCode(ps.Status) == 200 {
				m.Status = 200
				m.Prop = ps.Prop
			}
		}
		out = append(out, m)
	}
	return out
}

// hrefProp returns the first 200 href-valued property that pick selects.
func (ms *multistatus) hrefProp(pick func(*msProp) *hrefElem) (string, bool) {
	for _, m := range ms.members() {
		if m.Status != 200 {
			continue
		}
		if h := pick(&m.Prop); h != nil && strings.TrimSpace(h.Href) != "" {
			return strings.TrimSpace(h.Href), true
		}
	}
	return "", false
}

// resolveHref turns an href from a response (absolute URL or absolute
// path, RFC 4918 §8.3) into a URL against base.
func resolveHref(base *url.URL, href string) (*url.URL, error) {
	ref, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return nil, fmt.Errorf("bad href %q: %w", href, err)
	}
	return base.ResolveReference(ref), nil
}

// memberName is the last path segment of an href, percent-decoded: the
// resource name within its collection. Collections (trailing slash) and
// undecodable hrefs give "".
func memberName(href string) string {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil || strings.HasSuffix(u.Path, "/") || u.Path == "" {
		return ""
	}
	return path.Base(u.Path)
}
