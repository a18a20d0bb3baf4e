package dav

import (
	"io"
	"net/http"
)

// Poster is a kind whose collections answer POST: a scheduling outbox (RFC
// 6638 §5: a free-busy request) or a shared calendar (CalendarServer
// sharing). The engine reads the body, bounded by the maximum resource
// size, and executes the plan the kind returns, as for a REPORT.
type Poster interface {
	// Post plans the answer to a POST of body (with its Content-Type) to
	// collection res. A request the kind refuses returns an error, an
	// *Error for a precondition.
	Post(rq *Request, res *Resource, body []byte, contentType string) (Plan, error)
}

func (h *Handler) postToKind(rq *Request, w http.ResponseWriter, r *http.Request, res *Resource) error {
	p, ok := res.Kind.(Poster)
	if !ok || res.Type != ResCollection {
		return h.notAllowed(w, rq, res, "dav: POST to a resource that takes none")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.MaxResourceSize+1))
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Message: "dav: reading POST body: " + err.Error()}
	}
	if int64(len(body)) > h.MaxResourceSize {
		return ErrBodyTooLarge
	}
	plan, err := p.Post(rq, res, body, r.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	return h.execute(rq, w, res, plan)
}
