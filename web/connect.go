package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/dav"
)

// connectInfo is what a client needs, worked out from the public URL.
type connectInfo struct {
	BaseURL      string // https://dav.example.org
	DAVURL       string // …/dav/
	Host         string // dav.example.org (no port)
	Port         int
	TLS          bool
	Username     string
	PrincipalURL string // /dav/principals/NAME/
	CalendarHome string
	ContactsHome string
	FilesHome    string // plain WebDAV folders, for file managers and sync apps
	DAVx5URI     string
}

func (h *Handler) connectInfo(r *http.Request) connectInfo {
	base := h.baseURL(r)
	u, err := url.Parse(base)
	if err != nil {
		u = &url.URL{Scheme: "http", Host: r.Host}
	}
	name := sessionFrom(r.Context()).acct.Username
	ci := connectInfo{BaseURL: base, DAVURL: base + dav.Prefix, Username: name, TLS: u.Scheme == "https"}
	ci.Host = u.Hostname()
	ci.Port = 80
	if ci.TLS {
		ci.Port = 443
	}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		ci.Port = p
	}
	ci.PrincipalURL = dav.PrincipalHref(name)
	for _, k := range h.cfg.Kinds {
		switch k.StoreKind() {
		case "calendar":
			ci.CalendarHome = base + dav.HomeHref(k, name)
		case "addressbook":
			ci.ContactsHome = base + dav.HomeHref(k, name)
		case "files":
			ci.FilesHome = base + dav.HomeHref(k, name)
		}
	}
	// DAVx5 opens caldav:// and caldavs:// links (and QR codes holding
	// them) in its login screen with the server and user name filled in;
	// caldavs means https.
	scheme := "caldav"
	if ci.TLS {
		scheme = "caldavs"
	}
	hostport := u.Host
	if hostport == "" {
		hostport = net.JoinHostPort(ci.Host, strconv.Itoa(ci.Port))
	}
	ci.DAVx5URI = (&url.URL{Scheme: scheme, User: url.User(name), Host: hostport, Path: dav.Prefix}).String()
	return ci
}

func (h *Handler) connect(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "connect", "Connect a device", "connect", h.connectInfo(r))
}

// qrCode is a PNG QR code of the DAVx5 login URI.
func (h *Handler) qrCode(w http.ResponseWriter, r *http.Request) {
	png, err := qrcode.Encode(h.connectInfo(r).DAVx5URI, qrcode.Medium, 320)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(png)
}

// mobileconfig is an Apple configuration profile with a CalDAV and a
// CardDAV account (Apple's Configuration Profile Reference: payload types
// com.apple.caldav.account and com.apple.carddav.account). A GET has no
// password in it, and the device asks for one; a POST creates an app
// password for the profile and puts it in, so the install needs nothing
// typed.
func (h *Handler) mobileconfig(w http.ResponseWriter, r *http.Request) {
	ci := h.connectInfo(r)
	s := sessionFrom(r.Context())
	var password string
	if r.Method == http.MethodPost {
		label := "Apple profile " + h.cfg.Now().UTC().Format("2006-01-02 15:04")
		pw, _, err := auth.AddAppPassword(r.Context(), h.cfg.Store, s.acct.ID, label)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		password = pw
	}
	// Stable identifiers per server and user, so installing a new profile
	// replaces the old one instead of adding a second account.
	sum := sha256.Sum256([]byte(ci.BaseURL + "\x00" + ci.Username))
	uuid := func(salt byte) string {
		b := sha256.Sum256(append(sum[:], salt))
		b[6] = b[6]&0x0f | 0x50
		b[8] = b[8]&0x3f | 0x80
		return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	}
	id := "dav.davenport." + reverseHost(ci.Host) + "." + strings.ToLower(url.PathEscape(ci.Username))
	var buf bytes.Buffer
	err := mobileconfigTmpl.Execute(&buf, map[string]any{
		"C": ci, "Password": password, "ID": id,
		"UUID": uuid(0),
		"Payloads": []payload{
			{Prefix: "CalDAV", Suffix: "caldav", What: "Calendars", UUID: uuid(1)},
			{Prefix: "CardDAV", Suffix: "carddav", What: "Contacts", UUID: uuid(2)},
		},
		"Date": h.cfg.Now().UTC().Format(time.RFC3339),
	})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/x-apple-aspen-config")
	hd.Set("Content-Disposition", `attachment; filename="davenport.mobileconfig"`)
	hd.Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// payload is one account payload of a profile (Apple's keys are the
// prefix followed by AccountDescription, HostName, …).
type payload struct{ Prefix, Suffix, What, UUID string }

func reverseHost(host string) string {
	parts := strings.Split(host, ".")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, ".")
}

// xmlText escapes for the plist (text/template does not).
func xmlText(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

var mobileconfigTmpl = template.Must(template.New("mobileconfig").Funcs(template.FuncMap{"x": xmlText}).Parse(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
{{- range .Payloads}}
		<dict>
			<key>{{.Prefix}}AccountDescription</key>
			<string>{{x $.C.Username}} on {{x $.C.Host}}</string>
			<key>{{.Prefix}}HostName</key>
			<string>{{x $.C.Host}}</string>
			<key>{{.Prefix}}Port</key>
			<integer>{{$.C.Port}}</integer>
			<key>{{.Prefix}}PrincipalURL</key>
			<string>{{x $.C.PrincipalURL}}</string>
			<key>{{.Prefix}}UseSSL</key>
			<{{if $.C.TLS}}true{{else}}false{{end}}/>
			<key>{{.Prefix}}Username</key>
			<string>{{x $.C.Username}}</string>
{{- if $.Password}}
			<key>{{.Prefix}}Password</key>
			<string>{{x $.Password}}</string>
{{- end}}
			<key>PayloadDescription</key>
			<string>{{.What}} on {{x $.C.Host}}</string>
			<key>PayloadDisplayName</key>
			<string>{{.What}} ({{x $.C.Host}})</string>
			<key>PayloadIdentifier</key>
			<string>{{x $.ID}}.{{.Suffix}}</string>
			<key>PayloadType</key>
			<string>com.apple.{{.Suffix}}.account</string>
			<key>PayloadUUID</key>
			<string>{{.UUID}}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
{{- end}}
	</array>
	<key>PayloadDescription</key>
	<string>Adds the calendars and contacts of {{x .C.Username}} on {{x .C.Host}} (Davenport).</string>
	<key>PayloadDisplayName</key>
	<string>Davenport: {{x .C.Username}}</string>
	<key>PayloadIdentifier</key>
	<string>{{x .ID}}</string>
	<key>PayloadRemovalDisallowed</key>
	<false/>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>{{.UUID}}</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
</dict>
</plist>
`))
