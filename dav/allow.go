package dav

import (
	"net/http"
	"strings"
)

// allow is the Allow header of a resource of type typ and kind k (RFC 9110
// §10.2.1): the methods the handler answers on it with something other than
// 405 or a blanket refusal. Homes also list the methods that make their
// members (MKCOL, and MKCALENDAR where the kind makes collections with it),
// as sabre/dav does, so a client can tell the calendar home, where
// MKCALENDAR works, from the address-book home, where it does not.
func (h *Handler) allow(rq *Request, typ ResourceType, k Kind) string {
	m := []string{"OPTIONS"}
	switch typ {
	case ResRoot:
		m = append(m, "GET", "HEAD", "PROPFIND", "PROPPATCH", "REPORT")
	case ResPrincipals, ResPrincipal, ResProxy, ResGroupPrincipal:
		m = append(m, "PROPFIND", "PROPPATCH", "REPORT")
	case ResHome:
		m = append(m, "POST", "PROPFIND", "PROPPATCH", "REPORT", "MKCOL")
		if k != nil {
			if _, ok := k.NewCollection(rq, "MKCALENDAR", nil); ok {
				m = append(m, "MKCALENDAR")
			}
		}
		m = append(m, "LOCK", "UNLOCK")
	case ResCollection:
		if _, ok := k.(Exporter); ok {
			m = append(m, "GET", "HEAD")
		}
		if fixed(k) {
			m = append(m, "POST", "PROPFIND", "PROPPATCH", "REPORT")
		} else if nests(k) {
			m = append(m, "DELETE", "PROPFIND", "PROPPATCH", "REPORT", "COPY", "MOVE")
		} else {
			m = append(m, "DELETE", "POST", "PROPFIND", "PROPPATCH", "REPORT", "MOVE")
		}
		m = append(m, "LOCK", "UNLOCK")
	case ResNotifications:
		m = append(m, "PROPFIND")
	case ResNotification:
		m = append(m, "GET", "HEAD", "PROPFIND")
	case ResObject:
		m = append(m, "GET", "HEAD", "PUT", "DELETE", "PROPFIND", "PROPPATCH", "REPORT", "COPY", "MOVE", "LOCK", "UNLOCK")
	}
	return strings.Join(m, ", ")
}

// notAllowed answers 405 with the resource's Allow header (RFC 9110 §15.5.6:
// a 405 "MUST generate an Allow header field").
func (h *Handler) notAllowed(w http.ResponseWriter, rq *Request, res *Resource, msg string) *Error {
	w.Header().Set("Allow", h.allow(rq, res.Type, res.Kind))
	return &Error{Status: http.StatusMethodNotAllowed, Message: msg}
}
