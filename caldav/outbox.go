package caldav

import (
	"net/http"

	"github.com/davenport-dav/davenport/dav"
)

// Post answers a POST to the outbox (RFC 6638 §5).
func (OutboxKind) Post(rq *dav.Request, res *dav.Resource, body []byte, contentType string) (dav.Plan, error) {
	return nil, dav.Precondition(http.StatusForbidden, dav.NSCalDAV, "valid-scheduling-message", "caldav: outbox POST not handled yet")
}
