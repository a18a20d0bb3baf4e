package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
)

// prepare validates and indexes one item exactly as a PUT of body into c
// would, through the kind's PrepareObject. It is the one place web builds a
// dav.Request. The reason is for the person importing: the precondition the
// PUT would have answered with, and what the validator said.
func prepare(ctx context.Context, k dav.Kind, user *store.User, c *store.Collection, body []byte) (o *store.Object, reason string, err error) {
	rq := &dav.Request{User: user, HTTP: (&http.Request{Header: http.Header{}}).WithContext(ctx)}
	o, err = k.PrepareObject(rq, c, body, "")
	var de *dav.Error
	if errors.As(err, &de) {
		reason = de.Message
		if i := strings.Index(reason, ": "); i >= 0 && i < 10 {
			reason = reason[i+2:]
		}
		if de.Condition != nil {
			reason += " (" + de.Condition.Name.Local + ")"
		}
		return nil, reason, nil
	}
	return o, "", err
}
