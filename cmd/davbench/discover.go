package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

var errDiscovery = errors.New("discovery failed")

// homes are the collections discovery finds for the user.
type homes struct {
	Principal *url.URL
	Calendar  *url.URL // CALDAV:calendar-home-set (RFC 4791 §6.2.1)
	Addressbk *url.URL // CARDDAV:addressbook-home-set (RFC 6352 §7.1.1)
}

// discover finds the principal through DAV:current-user-principal (RFC 5397)
// on the URL given, then on /.well-known/caldav (RFC 6764 §5), and reads the
// two home sets from the principal.
func discover(ctx context.Context, c *client, base *url.URL) (*homes, error) {
	principalBody := propfindBody(`<d:current-user-principal/>`)
	candidates := []*url.URL{base}
	if wk, err := resolveHref(base, "/.well-known/caldav"); err == nil && wk.String() != base.String() {
		candidates = append(candidates, wk)
	}
	var principal *url.URL
	var lastErr error
	for _, u := range candidates {
		rep, err := c.do(ctx, request{Method: "PROPFIND", URL: u.String(), Header: map[string]string{
			"Depth": "0", "Content-Type": "application/xml; charset=utf-8"}, Body: principalBody, Want: []int{207}, Keep: true})
		if err != nil {
			lastErr = err
			continue
		}
		href, err := principalFromPropfind(rep.Body)
		if err != nil {
			lastErr = err
			continue
		}
		// Redirects were followed: resolve against where we ended up.
		principal, err = resolveHref(u, href)
		if err != nil {
			return nil, err
		}
		break
	}
	if principal == nil {
		return nil, fmt.Errorf("%w: no current-user-principal: %v", errDiscovery, lastErr)
	}
	rep, err := c.do(ctx, request{Method: "PROPFIND", URL: principal.String(), Header: map[string]string{
		"Depth": "0", "Content-Type": "application/xml; charset=utf-8"},
		Body: propfindBody(`<c:calendar-home-set/><card:addressbook-home-set/>`), Want: []int{207}, Keep: true})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errDiscovery, err)
	}
	cal, book, err := homesFromPropfind(rep.Body)
	if err != nil {
		return nil, err
	}
	h := &homes{Principal: principal}
	if h.Calendar, err = resolveHref(principal, cal); err != nil {
		return nil, err
	}
	if h.Addressbk, err = resolveHref(principal, book); err != nil {
		return nil, err
	}
	return h, nil
}

// principalFromPropfind reads DAV:current-user-principal from a PROPFIND
// answer.
func principalFromPropfind(body []byte) (string, error) {
	ms, err := parseMultistatus(body)
	if err != nil {
		return "", err
	}
	href, ok := ms.hrefProp(func(p *msProp) *hrefElem { return p.CurrentUserPrincipal })
	if !ok {
		return "", fmt.Errorf("%w: no DAV:current-user-principal in the answer", errDiscovery)
	}
	return href, nil
}

// homesFromPropfind reads the calendar and address-book home sets. Both
// are needed: the bench works on one calendar and one address book.
func homesFromPropfind(body []byte) (cal, book string, err error) {
	ms, err := parseMultistatus(body)
	if err != nil {
		return "", "", err
	}
	cal, okCal := ms.hrefProp(func(p *msProp) *hrefElem { return p.CalendarHomeSet })
	book, okBook := ms.hrefProp(func(p *msProp) *hrefElem { return p.AddressbookHomeSet })
	var missing []string
	if !okCal {
		missing = append(missing, "calendar-home-set")
	}
	if !okBook {
		missing = append(missing, "addressbook-home-set")
	}
	if len(missing) > 0 {
		return "", "", fmt.Errorf("%w: the principal has no %s", errDiscovery, strings.Join(missing, " and no "))
	}
	return ensureSlash(cal), ensureSlash(book), nil
}

func ensureSlash(href string) string {
	if strings.HasSuffix(href, "/") {
		return href
	}
	return href + "/"
}
