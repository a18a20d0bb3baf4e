package caldav

import (
	"errors"
	"time"

	"github.com/emersion/go-ical"
)

// FreeBusy builds the busy time (RFC 4791 §7.10) of the objects in cals
// within [start, end) and encodes it as a VCALENDAR holding one VFREEBUSY.
func FreeBusy(cals []*ical.Calendar, start, end time.Time, loc *time.Location, lim Limits) ([]byte, error) {
	return nil, errors.New("caldav: free-busy not implemented yet")
}
