package web

import (
	"bufio"
	"bytes"
	"mime"
	"net/http"
	"strings"

	"github.com/davenport-dav/davenport/store"
)

// exportPage is how many objects one store read brings while exporting.
const exportPage = 200

// export serves a whole collection as one .ics or .vcf download. It reads
// the collection a page at a time (bodies of exportPage objects in memory at
// once) and streams the answer.
//
// The DAV handler is gaining GET on a collection (the same download for
// clients); once it serves that, this handler should hand the request to it
// instead of assembling the file here. Until then the assembly is this
// function and writeCalendarExport.
func (h *Handler) export(w http.ResponseWriter, r *http.Request) {
	c := h.ownCollection(w, r)
	if c == nil {
		return
	}
	ext, ctype := ".ics", "text/calendar; charset=utf-8"
	if c.Kind == store.KindAddressBook {
		ext, ctype = ".vcf", "text/vcard; charset=utf-8"
	}
	hd := w.Header()
	hd.Set("Content-Type", ctype)
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": c.Name + ext}))
	hd.Set("Cache-Control", "no-store")
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := h.writeExport(r, bw, c); err != nil {
		// Headers are gone; the download ends short and the log says why.
		h.log.ErrorContext(r.Context(), "export failed", "collection", c.ID, "err", err)
		return
	}
	bw.Flush()
}

// writeExport writes every object of c. A calendar becomes one VCALENDAR
// holding each object's components and each VTIMEZONE once (RFC 5545
// §3.6.5: a TZID is defined once per iCalendar object); an address book is
// its vCards one after the other (RFC 6350 §3.3).
func (h *Handler) writeExport(r *http.Request, w *bufio.Writer, c *store.Collection) error {
	ctx := r.Context()
	cal := c.Kind == store.KindCalendar
	if cal {
		w.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Davenport//Web export//EN\r\n")
	}
	seenTZ := map[string]bool{}
	after := ""
	for {
		objs, err := h.cfg.Store.ListObjects(ctx, c.ID, store.ListObjectsOptions{WithBody: true, After: after, Limit: exportPage})
		if err != nil {
			return err
		}
		for _, o := range objs {
			if !cal {
				w.Write(crlfBody(o.Body))
				continue
			}
			err := split(bytes.NewReader(o.Body), "VCALENDAR", func(p part) error {
				switch p.typ {
				case partTimezone:
					if seenTZ[p.tzid] {
						return nil
					}
					seenTZ[p.tzid] = true
				case partHeader:
					return nil
				}
				w.Write(crlf(o.Body[p.off : p.off+p.n]))
				return nil
			})
			if err != nil {
				// A stored object always parsed at PUT; say so and go on.
				h.log.WarnContext(ctx, "export: stored object does not split", "object", o.Name, "err", err)
			}
		}
		if len(objs) < exportPage {
			break
		}
		after = objs[len(objs)-1].Name
	}
	if cal {
		w.WriteString("END:VCALENDAR\r\n")
	}
	return nil
}

// crlfBody makes sure a body ends with a line break.
func crlfBody(b []byte) []byte {
	if strings.HasSuffix(string(b[max(0, len(b)-1):]), "\n") {
		return b
	}
	return append(b[:len(b):len(b)], '\r', '\n')
}
