package doctor

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

const methodFix = "let every method through: nginx: no limit_except, and dav_methods off (nginx's own WebDAV must not answer);  Caddy: reverse_proxy passes all methods"

// checkAuthenticated runs the checks that need an account: Authorization,
// discovery and base URL, the DAV methods, Depth, If-Match, Destination
// and large bodies, on a scratch calendar it creates and removes.
func (d *doctor) checkAuthenticated(ctx context.Context) {
	base := d.base.String()
	body := propfindBody("<D:current-user-principal/>")
	anon, err := d.do(ctx, "PROPFIND", base, false, map[string]string{"Depth": "0"}, body)
	if err != nil {
		d.fail("http", err.Error(), "clients cannot connect", "")
		return
	}
	r, err := d.do(ctx, "PROPFIND", base, true, map[string]string{"Depth": "0"}, body)
	if err != nil {
		d.fail("http", err.Error(), "clients cannot connect", "")
		return
	}
	switch {
	case r.status == http.StatusUnauthorized:
		d.fail("authorization", "PROPFIND with the credentials answered 401",
			"the password is wrong, or the proxy drops the Authorization header and no client can sign in",
			"check --user/--password-file; nginx: do not set proxy_set_header Authorization \"\" (or an auth_basic of its own);  Caddy: no basicauth in front of Davenport")
		return
	case r.status == http.StatusForbidden && strings.Contains(string(r.body), "propfind-finite-depth"):
		d.depthFinding("PROPFIND Depth: 0 of " + d.base.Path + " was refused as Depth: infinity (propfind-finite-depth)")
		return
	case r.status == http.StatusMethodNotAllowed || r.status == http.StatusNotImplemented:
		d.fail("methods", fmt.Sprintf("PROPFIND answered %d", r.status), "PROPFIND is how every DAV client reads anything", methodFix)
		return
	case r.status != http.StatusMultiStatus:
		d.fail("http", fmt.Sprintf("PROPFIND %s answered %d", d.base.Path, r.status), "clients cannot discover the account", "")
		return
	}
	if anon.status != http.StatusUnauthorized {
		d.warn("authorization", fmt.Sprintf("PROPFIND without credentials answered %d, not 401", anon.status),
			"clients send the password only after a 401 challenge", "let Davenport answer itself; nginx: no auth_basic, no error_page for 401")
	} else {
		d.pass("authorization: 401 without credentials, 207 with them")
	}
	d.pass("methods: PROPFIND passes")
	ms, err := parseMultistatus(r.body)
	if err != nil || len(ms.Responses) == 0 || len(ms.Responses[0].Propstat) == 0 {
		d.fail("http", "PROPFIND answer is no multistatus", "clients cannot read it", "")
		return
	}
	d.checkHrefs("current-user-principal", ms)
	principal := ms.Responses[0].Propstat[0].Prop.Principal.Href
	if principal == "" {
		d.fail("discovery", "no current-user-principal at "+d.base.Path, "clients cannot find the account", "give clients the server's root URL")
		return
	}
	r, err = d.do(ctx, "PROPFIND", d.resolve(principal), true, map[string]string{"Depth": "0"}, propfindBody("<C:calendar-home-set/>"))
	if err != nil || r.status != http.StatusMultiStatus {
		d.fail("discovery", "the principal "+principal+" does not answer PROPFIND", "clients cannot find the calendars", "")
		return
	}
	ms, err = parseMultistatus(r.body)
	if err != nil || len(ms.Responses) == 0 || len(ms.Responses[0].Propstat) == 0 || ms.Responses[0].Propstat[0].Prop.Home.Href == "" {
		d.fail("discovery", "no calendar-home-set on "+principal, "clients cannot find the calendars", "")
		return
	}
	d.checkHrefs("calendar-home-set", ms)
	home := d.resolve(ms.Responses[0].Propstat[0].Prop.Home.Href)
	d.pass("discovery: principal %s, calendar home %s", principal, ms.Responses[0].Propstat[0].Prop.Home.Href)
	d.checkDepth(ctx, home)

	scratch := strings.TrimSuffix(home, "/") + "/doctor-" + token() + "/"
	r, err = d.do(ctx, "MKCALENDAR", scratch, true, nil, "")
	if err != nil || r.status != http.StatusCreated {
		status := "no answer"
		if r != nil {
			status = strconv.Itoa(r.status)
		}
		d.fail("methods", "MKCALENDAR of a scratch calendar answered "+status,
			"clients cannot create calendars (and a proxy that blocks it usually blocks REPORT too)", methodFix)
		return
	}
	defer d.do(context.WithoutCancel(ctx), "DELETE", scratch, true, nil, "")
	d.pass("methods: MKCALENDAR passes")
	d.checkReport(ctx, scratch)
	d.checkItems(ctx, scratch)
}

// checkDepth tells Depth 0 from Depth 1 by the shape of the answers: a
// proxy that drops the header turns both into infinity, which Davenport
// refuses (RFC 4918 §9.1) or answers alike.
func (d *doctor) checkDepth(ctx context.Context, home string) {
	count := func(depth string) (int, int) {
		r, err := d.do(ctx, "PROPFIND", home, true, map[string]string{"Depth": depth}, propfindBody("<D:resourcetype/>"))
		if err != nil {
			return 0, 0
		}
		if r.status != http.StatusMultiStatus {
			return r.status, 0
		}
		ms, err := parseMultistatus(r.body)
		if err != nil {
			return r.status, 0
		}
		d.checkHrefs("PROPFIND Depth "+depth, ms)
		return r.status, len(ms.Responses)
	}
	s0, n0 := count("0")
	s1, n1 := count("1")
	if s0 != http.StatusMultiStatus || s1 != http.StatusMultiStatus || n0 != 1 || n1 < 2 {
		d.depthFinding(fmt.Sprintf("PROPFIND of the calendar home: Depth 0 → %d with %d responses, Depth 1 → %d with %d responses (want 1 and more than 1)", s0, n0, s1, n1))
		return
	}
	d.pass("depth: Depth 0 and Depth 1 answer differently (%d vs %d responses)", n0, n1)
}

func (d *doctor) depthFinding(what string) {
	d.fail("depth", what,
		"the proxy drops or rewrites the Depth header (a missing Depth means infinity, RFC 4918 §9.1): clients cannot list calendars or their events",
		"pass request headers unchanged; nginx: no proxy_pass_request_headers off, no proxy_set_header Depth;  Caddy: no header_up -Depth")
}

func (d *doctor) checkReport(ctx context.Context, cal string) {
	body := `<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>`
	r, err := d.do(ctx, "REPORT", cal, true, map[string]string{"Depth": "1"}, body)
	if err != nil || r.status != http.StatusMultiStatus {
		status := "no answer"
		if r != nil {
			status = strconv.Itoa(r.status)
		}
		d.fail("methods", "REPORT calendar-query answered "+status, "clients cannot sync or query calendars", methodFix)
		return
	}
	d.pass("methods: REPORT passes")
}

func event(uid, description string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//doctor//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nDURATION:PT1H\r\nSUMMARY:davenport doctor scratch item\r\n" +
		description + "END:VEVENT\r\nEND:VCALENDAR\r\n"
}

// checkItems: If-Match (a wrong ETag must give 412, RFC 7232 §3.1), MOVE
// with Destination (RFC 4918 §9.9), and a large body.
func (d *doctor) checkItems(ctx context.Context, cal string) {
	ical := map[string]string{"Content-Type": "text/calendar; charset=utf-8"}
	uid := "doctor-" + token()
	item := cal + uid + ".ics"
	r, err := d.do(ctx, "PUT", item, true, ical, event(uid, ""))
	if err != nil || r.status != http.StatusCreated && r.status != http.StatusNoContent {
		d.fail("put", "PUT of a small scratch event failed", "clients cannot save events", "")
		return
	}
	r, err = d.do(ctx, "PUT", item, true, map[string]string{"Content-Type": ical["Content-Type"], "If-Match": `"doctor-wrong-etag"`}, event(uid, "LOCATION:changed\r\n"))
	switch {
	case err != nil:
		d.fail("if-match", err.Error(), "", "")
	case r.status == http.StatusPreconditionFailed:
		d.pass("if-match: a wrong ETag is refused with 412")
	default:
		d.fail("if-match", fmt.Sprintf("PUT with If-Match and a wrong ETag answered %d, not 412", r.status),
			"the proxy drops If-Match: clients overwrite each other's changes without noticing",
			"pass request headers unchanged; nginx: no proxy_set_header If-Match \"\";  Caddy: no header_up -If-Match")
	}
	moved := cal + uid + "-moved.ics"
	r, err = d.do(ctx, "MOVE", item, true, map[string]string{"Destination": moved, "Overwrite": "F"}, "")
	if err == nil && (r.status == http.StatusCreated || r.status == http.StatusNoContent) {
		if g, err := d.do(ctx, "GET", moved, true, nil, ""); err == nil && g.status == http.StatusOK {
			d.pass("destination: MOVE renamed the scratch item")
			item = moved
		} else {
			d.fail("destination", "MOVE answered success but the item is not at its Destination", "clients moving events lose them", "")
		}
	} else {
		status := "no answer"
		if r != nil {
			status = strconv.Itoa(r.status)
		}
		d.fail("destination", "MOVE with a Destination header answered "+status,
			"the proxy drops or rewrites Destination (or blocks MOVE): clients cannot move events between calendars",
			"pass Destination unchanged and keep the scheme: nginx: proxy_set_header Host $host; no proxy_set_header Destination;  Caddy: no header_up -Destination")
	}
	d.do(ctx, "DELETE", item, true, nil, "")
	d.checkLargeBody(ctx, cal, ical)
}

// checkLargeBody PUTs an event of 2 MB, or of the calendar's
// max-resource-size (RFC 4791 §5.2.5) if that is smaller: the server
// accepts it, so a 413 comes from the proxy.
func (d *doctor) checkLargeBody(ctx context.Context, cal string, ical map[string]string) {
	size := 2 << 20
	if r, err := d.do(ctx, "PROPFIND", cal, true, map[string]string{"Depth": "0"}, propfindBody("<C:max-resource-size/>")); err == nil {
		if ms, err := parseMultistatus(r.body); err == nil {
			for _, resp := range ms.Responses {
				for _, ps := range resp.Propstat {
					if n, err := strconv.Atoi(strings.TrimSpace(ps.Prop.MaxSize)); err == nil && n < size {
						size = n
					}
				}
			}
		}
	}
	uid := "doctor-large-" + token()
	shell := len(event(uid, "DESCRIPTION:\r\n"))
	var b strings.Builder
	b.WriteString("DESCRIPTION:")
	for n := shell + 64; n < size; n += 75 {
		b.WriteString(strings.Repeat("x", 72) + "\r\n ")
	}
	b.WriteString("x\r\n")
	body := event(uid, b.String())
	item := cal + uid + ".ics"
	r, err := d.do(ctx, "PUT", item, true, ical, body)
	switch {
	case err != nil:
		d.fail("large-body", fmt.Sprintf("PUT of %d bytes: %v", len(body), err), "", "")
	case r.status == http.StatusCreated || r.status == http.StatusNoContent:
		d.pass("large-body: a %d-byte PUT was accepted", len(body))
		d.do(ctx, "DELETE", item, true, nil, "")
	case r.status == http.StatusRequestEntityTooLarge:
		d.fail("large-body", fmt.Sprintf("a %d-byte PUT was refused with 413 (within the server's max-resource-size)", len(body)),
			"events with attachments and contacts with photos fail to sync",
			"raise the proxy's body limit: nginx: client_max_body_size 20m;  Caddy: request_body { max_size 20MB } (or remove it)")
	default:
		d.fail("large-body", fmt.Sprintf("a %d-byte PUT answered %d", len(body), r.status), "large events and contacts fail to sync", "")
	}
}
