package dav

import (
	"net/http"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// Scheduler is a kind whose object writes have effects beyond the object:
// implicit scheduling (RFC 6638 §3), where an organizer's PUT or DELETE
// invites or cancels attendees and an attendee's answers the organizer.
// The engine calls it around PUT and DELETE, with the previous version
// loaded with its body, and checks If-Schedule-Tag-Match (§3.2.10, §8.3)
// against ScheduleTag before anything is written.
type Scheduler interface {
	// SchedulePut runs before o (as PrepareObject made it) replaces old
	// (nil when new, or when the stored object is marked Unscheduled) in
	// res's collection. It refuses a write that may not be made (a forged
	// organizer, too many attendees) with an *Error, may rewrite o.Body
	// (SCHEDULE-STATUS), and returns what else the write does (nil for
	// nothing).
	SchedulePut(rq *Request, res *Resource, old, o *store.Object) (*Scheduled, error)
	// ScheduleDelete is SchedulePut for the DELETE of old.
	ScheduleDelete(rq *Request, res *Resource, old *store.Object) (*Scheduled, error)
	// ScheduleTag is the Schedule-Tag of a stored object (body loaded), ""
	// when it is not a scheduling object resource.
	ScheduleTag(o *store.Object) string
}

// Scheduled is what a write does besides storing the object.
type Scheduled struct {
	// Mail is queued in the write's own transaction (RFC 6047 messages
	// for calendar users elsewhere): sent if and only if the write stands.
	Mail []store.Mail
	// Deliver, when not nil, runs once the write is stored (deliveries to
	// this server's users).
	Deliver func() error
}

func (s *Scheduled) deliver() error {
	if s == nil || s.Deliver == nil {
		return nil
	}
	return s.Deliver()
}

func (s *Scheduled) mail() []store.Mail {
	if s == nil {
		return nil
	}
	return s.Mail
}

// EntityTag is the strong entity tag (unquoted, as stored) the engine gives
// body: kinds that store objects server-side use it too.
func EntityTag(body []byte) string { return computeETag(body) }

// loadForSchedule returns the scheduler of res's kind and the current
// object (cur, read with its body by currentBody), and checks
// If-Schedule-Tag-Match.
func loadForSchedule(r *http.Request, res *Resource, cur *store.Object) (Scheduler, *store.Object, error) {
	s, ok := res.Kind.(Scheduler)
	if !ok || res.Type != ResObject {
		if r.Header.Get("If-Schedule-Tag-Match") != "" {
			return nil, nil, store.ErrPreconditionFailed
		}
		return nil, nil, nil
	}
	if want := r.Header.Get("If-Schedule-Tag-Match"); want != "" {
		if cur == nil || strings.Trim(strings.TrimSpace(want), `"`) != s.ScheduleTag(cur) {
			return nil, nil, store.ErrPreconditionFailed
		}
	}
	return s, cur, nil
}
