package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// pageNames are the templates under templates/, each rendered inside
// layout.html.
var pageNames = []string{"signin", "home", "collection", "import", "account", "connect", "admin", "status", "message", "share", "shared", "item", "history", "historyall", "groups", "links", "delegates"}

func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"size":      formatSize,
		"date":      formatDate,
		"plural":    plural,
		"component": componentLabel,
		"list":      func(v ...any) []any { return v },
		"grant":     grantLabel,
	}
	m := make(map[string]*template.Template, len(pageNames))
	for _, n := range pageNames {
		m[n] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html"))
	}
	return m
}

// pageData is what every page template gets.
type pageData struct {
	Title string
	User  string // "" when signed out
	Admin bool
	CSRF  string
	Nav   string // the current section, for aria-current
	Msg   string // a success notice
	Err   string // an error notice
	Data  any
}

// render writes page name with status code. The page is rendered into a
// buffer first, so a template error becomes a clean 500.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, code int, name, title, nav string, data any) {
	p := pageData{Title: title, Nav: nav, Data: data}
	if s := sessionFrom(r.Context()); s != nil {
		p.User, p.Admin, p.CSRF = s.acct.Username, s.acct.Admin, s.csrf
		p.Msg, p.Err = s.flash, ""
		if !s.flashOK && s.flash != "" {
			p.Msg, p.Err = "", s.flash
		}
	}
	if m, ok := messages[r.URL.Query().Get("done")]; ok && p.Msg == "" {
		p.Msg = m
	}
	var buf bytes.Buffer
	if err := h.pages[name].Execute(&buf, p); err != nil {
		h.serverError(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// messages are the notices a redirect after a successful POST may name
// (?done=…): fixed texts, so nothing a link carries is echoed into a page.
var messages = map[string]string{
	"created":  "Created.",
	"saved":    "Saved.",
	"deleted":  "Deleted.",
	"revoked":  "App password revoked.",
	"password": "Your password was changed. Other browsers were signed out.",
	"reset":    "Password reset.",
	"shared":   "Shared. A person gets an invitation to accept; a group's members see it at once.",
	"unshared": "Sharing stopped.",
	"accepted": "Accepted: it is now in your calendars or address books on every device.",
	"declined": "Declined.",

	"link-created":     "Public link created: anybody who has it sees this calendar.",
	"link-revoked":     "Link revoked: it shows nothing any more.",
	"delegate-added":   "Delegate saved. Their calendar app shows your calendars at its next sync.",
	"delegate-removed": "Delegate removed.",
	"birthdays-on":     "The Birthdays calendar is on: it fills from your address books.",
	"birthdays-off":    "The Birthdays calendar is off and was removed from your devices.",

	"restored":            "Restored. Your devices get it at their next sync.",
	"restore-renamed":     "Restored under a new name: its old name now holds another item.",
	"restore-removed":     "Removed: before that change the item did not exist.",
	"restore-unchanged":   "Nothing to do: the item already is in that state.",
	"restore-skipped":     "Left alone: its name now holds another item.",
	"restored-collection": "Restored from the trash, with everything in it.",
}

// seeOther redirects after a successful POST.
func seeOther(w http.ResponseWriter, r *http.Request, path, done string) {
	if done != "" {
		path += "?done=" + done
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// fail answers with a page that says what went wrong.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	h.render(w, r, code, "message", http.StatusText(code), "", struct{ Text string }{msg})
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, http.StatusNotFound, "There is nothing here.")
}

// storeError answers a store error: not found (including another user's
// thing) as 404, anything else as 500.
func (h *Handler) storeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		h.notFound(w, r)
		return
	}
	h.serverError(w, r, err)
}

// serverError logs err once and answers 500 without its text.
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	h.log.ErrorContext(r.Context(), "web request failed", "path", r.URL.Path, "err", err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	w.Write([]byte("internal error\n"))
}

func formatSize(n int64) string {
	unit, div := "GiB", int64(1<<30)
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		unit, div = "KiB", 1024
	case n < 1<<30:
		unit, div = "MiB", 1<<20
	}
	if n%div == 0 {
		return fmt.Sprintf("%d %s", n/div, unit)
	}
	return fmt.Sprintf("%.1f %s", float64(n)/float64(div), unit)
}

func formatDate(t any) string {
	switch v := t.(type) {
	case time.Time:
		return v.UTC().Format("2006-01-02 15:04 UTC")
	case *time.Time:
		if v == nil {
			return "never"
		}
		return v.UTC().Format("2006-01-02 15:04 UTC")
	}
	return ""
}

// plural says "1 event" or "3 events".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
