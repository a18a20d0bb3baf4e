package carddav

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/davenport-dav/davenport/internal/contentline"
)

// ErrUnsupportedVersion is returned by Convert for a target version other
// than 3.0 or 4.0.
var ErrUnsupportedVersion = errors.New("carddav: unsupported vCard version")

// Convert re-encodes a stored vCard in the given version ("3.0" or "4.0").
// Properties keep their order and groups; what differs between the versions
// is translated (see to4 and to3) and everything else is carried over as
// written. The output is folded at 75 octets with CRLF line ends. A body in
// the target version already is re-encoded unchanged.
func Convert(body []byte, version string) ([]byte, error) {
	if version != Version3 && version != Version4 {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedVersion, version)
	}
	c, err := parseCardLines(body)
	if err != nil {
		return nil, err
	}
	return encodeCard(convertProps(c.props, strings.TrimSpace(c.version), version), version), nil
}

// convertProps translates props from version from to version to. Same
// versions (or an unknown source version, which ParseCard never lets in)
// only get VERSION moved to the front.
func convertProps(props []property, from, to string) []property {
	switch {
	case from == Version3 && to == Version4:
		return to4(props)
	case from == Version4 && to == Version3:
		return to3(props)
	}
	out := []property{{name: "VERSION", value: to}}
	for _, p := range props {
		if p.name != "VERSION" {
			out = append(out, p.clone())
		}
	}
	return out
}

// to4 converts vCard 3.0 properties (RFC 2426, with Apple's extensions) to
// vCard 4.0 (RFC 6350). The mapping:
//
//	X-ADDRESSBOOKSERVER-KIND:group     → KIND:group
//	X-ADDRESSBOOKSERVER-MEMBER:urn:…   → MEMBER:urn:…
//	PHOTO;ENCODING=b;TYPE=JPEG:…       → PHOTO:data:image/jpeg;base64,…  (also LOGO, SOUND, KEY)
//	PHOTO;VALUE=uri;TYPE=JPEG:http:…   → PHOTO;MEDIATYPE=image/jpeg:http:…
//	TYPE=pref                          → PREF=1
//	EMAIL;TYPE=INTERNET                → EMAIL (internet is the only kind 4.0 knows)
//	BDAY:1985-04-12                    → BDAY:19850412
//	BDAY;X-APPLE-OMIT-YEAR=1604:1604-… → BDAY:--MMDD
//	X-ANNIVERSARY                      → ANNIVERSARY
//	REV:2024-01-02T03:04:05Z           → REV:20240102T030405Z
//	GEO:37.38;-122.08                  → GEO:geo:37.38,-122.08
//	TZ:-05:00                          → TZ;VALUE=utc-offset:-0500
//	TZ;VALUE=text:Europe/Paris         → TZ:Europe/Paris
//	LABEL;TYPE=work:…                  → LABEL="…" on the ADR with the same group or TYPE
//	SORT-STRING:…                      → SORT-AS="…" on N
//	PROFILE:VCARD                      → dropped (4.0 removed it)
//
// N and ADR keep their structure, groups (item1.EMAIL + item1.X-ABLabel)
// stay, and unknown properties and parameters are carried over.
func to4(in []property) []property {
	out := make([]property, 0, len(in)+1)
	out = append(out, property{name: "VERSION", value: Version4})

	has := func(name string) bool {
		return slices.ContainsFunc(in, func(p property) bool { return p.name == name })
	}
	hasKind, hasAnniversary, hasN := has("KIND"), has("ANNIVERSARY"), has("N")
	sortString := ""
	for _, p := range in {
		if p.name == "SORT-STRING" {
			sortString = contentline.UnescapeText(p.value)
			break
		}
	}
	labelOf := matchLabels(in)
	attached := map[int]bool{}
	for _, li := range labelOf {
		attached[li] = true
	}

	for i, p := range in {
		p = p.clone()
		switch p.name {
		case "VERSION", "PROFILE":
			continue
		case "X-ADDRESSBOOKSERVER-KIND":
			if hasKind {
				continue
			}
			p.name, p.spelt, p.value = "KIND", "", strings.ToLower(p.value)
		case "X-ADDRESSBOOKSERVER-MEMBER":
			p.name, p.spelt = "MEMBER", ""
		case "PHOTO", "LOGO", "SOUND", "KEY":
			media3to4(&p)
		case "BDAY", "ANNIVERSARY":
			date3to4(&p)
		case "X-ANNIVERSARY":
			if hasAnniversary {
				break
			}
			p.name, p.spelt = "ANNIVERSARY", ""
			date3to4(&p)
		case "REV":
			p.value = dateTime3to4(p.value)
		case "GEO":
			if lat, lon, ok := splitGeo3(p.value); ok {
				p.value = "geo:" + lat + "," + lon
			}
		case "TZ":
			tz3to4(&p)
		case "SORT-STRING":
			if hasN {
				continue
			}
		case "N":
			if sortString != "" && !p.hasParam("SORT-AS") {
				p.setParam("SORT-AS", sortString)
			}
		case "EMAIL":
			removeType(&p, "internet")
		case "LABEL":
			if attached[i] {
				continue
			}
			// A label without its address: 4.0 has no LABEL property, so
			// it becomes an ADR with empty fields that carries the label
			// (RFC 6350 §6.3.1 LABEL parameter).
			label := contentline.UnescapeText(p.value)
			p.name, p.spelt, p.value = "ADR", "", ";;;;;;"
			p.setParam("LABEL", label)
		case "ADR":
			if li, ok := labelOf[i]; ok && !p.hasParam("LABEL") {
				p.setParam("LABEL", contentline.UnescapeText(in[li].value))
			}
		}
		prefTo4(&p)
		out = append(out, p)
	}
	return out
}

// to3 converts vCard 4.0 properties to vCard 3.0, the inverse of to4:
//
//	KIND:…                       → X-ADDRESSBOOKSERVER-KIND:…
//	MEMBER:…                     → X-ADDRESSBOOKSERVER-MEMBER:…
//	PHOTO:data:image/png;base64… → PHOTO;ENCODING=b;TYPE=PNG:…  (also LOGO, SOUND, KEY)
//	PHOTO;MEDIATYPE=…:http:…     → PHOTO;VALUE=uri;TYPE=…:http:…
//	PREF=n                       → TYPE=pref on the most preferred instance(s) of the property
//	BDAY:19850412                → BDAY:1985-04-12
//	BDAY:--0412                  → BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-12 (how Apple and DAVx5 write it)
//	ANNIVERSARY                  → X-ANNIVERSARY
//	GEO:geo:37.38,-122.08        → GEO:37.38;-122.08
//	TZ;VALUE=utc-offset:-0500    → TZ:-05:00
//	TZ:Europe/Paris              → TZ;VALUE=text:Europe/Paris
//	ADR;LABEL="…"                → ADR + LABEL property with the same group and TYPE
//	N;SORT-AS="…"                → N + SORT-STRING
//	TEL;VALUE=uri:tel:+1…        → TEL:+1…
//
// RFC 2426 §3.1.2 makes N mandatory in 3.0; a 4.0 card without one gets
// N:;;;; (for a group: the group name as family name, as Apple writes it).
func to3(in []property) []property {
	out := make([]property, 0, len(in)+2)
	out = append(out, property{name: "VERSION", value: Version3})

	has := func(name string) bool {
		return slices.ContainsFunc(in, func(p property) bool { return p.name == name })
	}
	hasXKind, hasXAnniversary, hasN, hasSortString := has("X-ADDRESSBOOKSERVER-KIND"), has("X-ANNIVERSARY"), has("N"), has("SORT-STRING")
	isGroup := false
	// RFC 6350 §5.3: "Lower values correspond to a higher level of
	// preference, 1 being most preferred." 3.0 only has "preferred or not".
	minPref := map[string]int{}
	for _, p := range in {
		if p.name == "KIND" && strings.EqualFold(p.value, "group") {
			isGroup = true
		}
		if n, ok := prefOf(&p); ok {
			if cur, seen := minPref[p.name]; !seen || n < cur {
				minPref[p.name] = n
			}
		}
	}

	for _, p := range in {
		p = p.clone()
		origName := p.name
		var extra []property
		switch p.name {
		case "VERSION":
			continue
		case "KIND":
			if hasXKind {
				continue
			}
			p.name, p.spelt = "X-ADDRESSBOOKSERVER-KIND", ""
		case "MEMBER":
			p.name, p.spelt = "X-ADDRESSBOOKSERVER-MEMBER", ""
		case "PHOTO", "LOGO", "SOUND", "KEY":
			media4to3(&p)
		case "BDAY":
			date4to3(&p)
		case "ANNIVERSARY":
			if !hasXAnniversary {
				p.name, p.spelt = "X-ANNIVERSARY", ""
			}
			date4to3(&p)
		case "REV":
			p.value = dateTime4to3(p.value)
		case "GEO":
			if lat, lon, ok := splitGeoURI(p.value); ok {
				p.value = lat + ";" + lon
			}
		case "TZ":
			tz4to3(&p)
		case "TEL":
			if strings.EqualFold(p.paramValue("VALUE"), "uri") && len(p.value) > 4 && strings.EqualFold(p.value[:4], "tel:") {
				p.value = p.value[4:]
				p.delParam("VALUE")
			}
		case "N":
			if sa := p.param("SORT-AS"); len(sa) > 0 {
				p.delParam("SORT-AS")
				if !hasSortString {
					extra = append(extra, property{name: "SORT-STRING", value: escapeText(strings.Join(sa, ","))})
				}
			}
		case "ADR":
			if label := p.param("LABEL"); len(label) > 0 {
				p.delParam("LABEL")
				l := property{group: p.group, name: "LABEL", value: escapeText(strings.Join(label, ","))}
				if t := p.param("TYPE"); len(t) > 0 {
					l.params = []param{{Name: "TYPE", Values: append([]string(nil), t...)}}
				}
				if n, ok := prefOf(&p); ok && n == minPref["ADR"] {
					addType(&l, "pref")
				}
				extra = append(extra, l)
				if strings.Trim(p.value, ";") == "" {
					// An ADR that only carried a label (what to4 makes of
					// a lone 3.0 LABEL) goes back to being just the label.
					p.name = ""
				}
			}
		}
		if n, ok := prefOf(&p); ok {
			p.delParam("PREF")
			if n == minPref[origName] {
				addType(&p, "pref")
			}
		}
		if p.name != "" {
			out = append(out, p)
		}
		out = append(out, extra...)
		if p.name == "FN" && !hasN {
			out = append(out, makeN(&p, isGroup))
			hasN = true
		}
	}
	return out
}

// makeN builds the N that RFC 2426 requires from FN.
func makeN(fn *property, isGroup bool) property {
	if isGroup {
		return property{name: "N", value: escapeText(contentline.UnescapeText(fn.value)) + ";;;;"}
	}
	return property{name: "N", value: ";;;;"}
}

// matchLabels pairs each 3.0 LABEL with the ADR it labels: the ADR in the
// same group (item2.ADR + item2.LABEL), or else an ungrouped ADR with the
// same TYPE values (pref aside). It returns ADR index → LABEL index.
func matchLabels(in []property) map[int]int {
	out := map[int]int{}
	used := map[int]bool{}
	for li := range in {
		if in[li].name != "LABEL" {
			continue
		}
		for ai := range in {
			a := &in[ai]
			if a.name != "ADR" || used[ai] || a.hasParam("LABEL") {
				continue
			}
			l := &in[li]
			if l.group != "" || a.group != "" {
				if !strings.EqualFold(l.group, a.group) {
					continue
				}
			} else if !sameTypes(a, l) {
				continue
			}
			out[ai] = li
			used[ai] = true
			break
		}
	}
	return out
}

// sameTypes compares the TYPE sets of two properties, case and pref aside.
func sameTypes(a, b *property) bool {
	set := func(p *property) []string {
		var s []string
		for _, t := range p.param("TYPE") {
			if t = strings.ToLower(t); t != "pref" {
				s = append(s, t)
			}
		}
		slices.Sort(s)
		return slices.Compact(s)
	}
	return slices.Equal(set(a), set(b))
}

// prefTo4 turns TYPE=pref into PREF=1 (RFC 6350 §5.3 replaces the 3.0
// "pref" type).
func prefTo4(p *property) {
	if removeType(p, "pref") && !p.hasParam("PREF") {
		p.setParam("PREF", "1")
	}
}

// prefOf returns the PREF parameter as a number when it is a valid one
// (RFC 6350 §5.3: an integer between 1 and 100).
func prefOf(p *property) (int, bool) {
	v := p.paramValue("PREF")
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 100 {
		return 100, true
	}
	return n, true
}

// removeType drops t (any case) from the TYPE values, and the TYPE
// parameter when nothing is left; it reports whether t was there.
func removeType(p *property, t string) bool {
	found := false
	for k := range p.params {
		if p.params[k].Name != "TYPE" {
			continue
		}
		kept := p.params[k].Values[:0:0]
		for _, v := range p.params[k].Values {
			if strings.EqualFold(v, t) {
				found = true
				continue
			}
			kept = append(kept, v)
		}
		p.params[k].Values = kept
	}
	if found {
		out := p.params[:0:0]
		for _, pa := range p.params {
			if pa.Name != "TYPE" || len(pa.Values) > 0 {
				out = append(out, pa)
			}
		}
		p.params = out
	}
	return found
}

// addType adds t to the TYPE values unless it is there already.
func addType(p *property, t string) {
	for _, v := range p.param("TYPE") {
		if strings.EqualFold(v, t) {
			return
		}
	}
	for k := range p.params {
		if p.params[k].Name == "TYPE" {
			p.params[k].Values = append(p.params[k].Values, t)
			return
		}
	}
	p.params = append(p.params, param{Name: "TYPE", Values: []string{t}})
}

// isBase64Encoding reports a 3.0 inline binary value: ENCODING=b
// (RFC 2426 §5) or the 2.1 spelling BASE64 some exporters keep using.
func isBase64Encoding(p *property) bool {
	e := p.paramValue("ENCODING")
	return strings.EqualFold(e, "b") || strings.EqualFold(e, "base64")
}

// media3to4 turns an inline 3.0 PHOTO/LOGO/SOUND/KEY into a data: URI
// (RFC 6350 §6.2.4 example "PHOTO:data:image/jpeg;base64,…") and a 3.0 URI
// value into a 4.0 one with MEDIATYPE.
func media3to4(p *property) {
	typ := ""
	if t := p.param("TYPE"); len(t) > 0 {
		typ = t[0]
	}
	switch {
	case isBase64Encoding(p):
		data := stripSpace(p.value)
		mt := mediaType4(p.name, typ, data)
		p.value = "data:" + mt + ";base64," + data
		p.delParam("ENCODING")
		p.delParam("TYPE")
		p.delParam("VALUE")
	case strings.EqualFold(p.paramValue("VALUE"), "uri") || strings.EqualFold(p.paramValue("VALUE"), "url"):
		p.delParam("VALUE") // URI is the 4.0 default for these
		if typ != "" {
			p.delParam("TYPE")
			p.setParam("MEDIATYPE", mediaType4(p.name, typ, ""))
		}
	}
}

// media4to3 is the inverse of media3to4.
func media4to3(p *property) {
	if strings.EqualFold(p.paramValue("VALUE"), "text") {
		return // a KEY given as text stays text
	}
	if len(p.value) >= 5 && strings.EqualFold(p.value[:5], "data:") {
		comma := strings.IndexByte(p.value, ',')
		if comma < 0 {
			return
		}
		header, payload := p.value[5:comma], p.value[comma+1:]
		isB64 := false
		mt := header
		if i := strings.IndexByte(header, ';'); i >= 0 {
			mt = header[:i]
			for _, a := range strings.Split(header[i+1:], ";") {
				if strings.EqualFold(strings.TrimSpace(a), "base64") {
					isB64 = true
				}
			}
		}
		if isB64 {
			payload = stripSpace(payload)
		} else {
			raw, err := url.PathUnescape(payload)
			if err != nil {
				return
			}
			payload = base64.StdEncoding.EncodeToString([]byte(raw))
		}
		p.delParam("VALUE")
		p.delParam("MEDIATYPE")
		p.setParam("ENCODING", "b")
		if t := mediaType3(mt); t != "" {
			p.setParam("TYPE", t)
		}
		p.value = payload
		return
	}
	// A URI: 3.0 needs VALUE=uri (RFC 2426 §3.1.4), and TYPE for the format.
	p.setParam("VALUE", "uri")
	if mt := p.paramValue("MEDIATYPE"); mt != "" {
		p.delParam("MEDIATYPE")
		if t := mediaType3(mt); t != "" {
			p.setParam("TYPE", t)
		}
	}
}

// mediaType4 turns a 3.0 TYPE (JPEG, PGP, …) into a media type. Without a
// TYPE the base64 data is sniffed for the common image formats.
func mediaType4(prop, typ, data string) string {
	t := strings.ToLower(strings.TrimSpace(typ))
	if strings.Contains(t, "/") {
		return t
	}
	if t == "" {
		return sniffMediaType(data)
	}
	switch prop {
	case "SOUND":
		return "audio/" + t
	case "KEY":
		switch t {
		case "pgp":
			return "application/pgp-keys"
		case "x509":
			return "application/pkix-cert"
		}
		return "application/" + t
	}
	if t == "jpg" {
		t = "jpeg"
	}
	return "image/" + t
}

// mediaType3 turns a media type into the 3.0 TYPE value.
func mediaType3(mt string) string {
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch mt {
	case "":
		return ""
	case "application/pgp-keys":
		return "PGP"
	case "application/pkix-cert":
		return "X509"
	}
	if i := strings.IndexByte(mt, '/'); i >= 0 {
		mt = mt[i+1:]
	}
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	return strings.ToUpper(mt)
}

// sniffMediaType recognises JPEG, PNG, GIF and WebP from the first bytes of
// base64 data.
func sniffMediaType(data string) string {
	if len(data) > 16 {
		data = data[:16]
	}
	head, _ := base64.StdEncoding.DecodeString(data[:len(data)/4*4])
	switch {
	case len(head) >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		return "image/jpeg"
	case len(head) >= 4 && string(head[:4]) == "\x89PNG":
		return "image/png"
	case len(head) >= 4 && string(head[:4]) == "GIF8":
		return "image/gif"
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "image/webp"
	}
	return "application/octet-stream"
}

func stripSpace(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// date3to4 rewrites a 3.0 date or date-time (ISO 8601 extended, RFC 2426
// §3.1.5) in the basic format 4.0 requires (RFC 6350 §4.3). Apple's
// X-APPLE-OMIT-YEAR marks a birthday without a year, which 4.0 writes as
// --MMDD. Values in other forms are kept.
func date3to4(p *property) {
	if strings.EqualFold(p.paramValue("VALUE"), "text") {
		return
	}
	v := strings.TrimSpace(p.value)
	if omit := p.paramValue("X-APPLE-OMIT-YEAR"); omit != "" {
		if d := strings.ReplaceAll(v, "-", ""); len(d) >= 8 && d[:4] == omit && allDigits(d[4:8]) {
			p.value = "--" + d[4:8]
			p.delParam("X-APPLE-OMIT-YEAR")
			p.delParam("VALUE")
			return
		}
	}
	if len(v) == 7 && strings.HasPrefix(v, "--") && v[4] == '-' && allDigits(v[2:4]+v[5:7]) {
		p.value = "--" + v[2:4] + v[5:7] // --MM-DD
		return
	}
	p.value = dateTime3to4(v)
}

// dateTime3to4 turns 1985-04-12 into 19850412 and 1985-04-12T10:22:00Z into
// 19850412T102200Z; other text comes back unchanged.
func dateTime3to4(v string) string {
	date, tm, hasTime := strings.Cut(strings.TrimSpace(v), "T")
	if !(len(date) == 10 && date[4] == '-' && date[7] == '-' && allDigits(date[:4]+date[5:7]+date[8:])) &&
		!(len(date) == 8 && allDigits(date)) {
		return v
	}
	out := strings.ReplaceAll(date, "-", "")
	if hasTime {
		out += "T" + strings.ReplaceAll(tm, ":", "")
	}
	return out
}

// date4to3 is the inverse of date3to4: --MMDD becomes Apple's
// X-APPLE-OMIT-YEAR=1604 form, which Apple Contacts and DAVx5 read as a
// date without a year.
func date4to3(p *property) {
	if strings.EqualFold(p.paramValue("VALUE"), "text") {
		return
	}
	v := strings.TrimSpace(p.value)
	if len(v) == 6 && strings.HasPrefix(v, "--") && allDigits(v[2:]) {
		p.value = "1604-" + v[2:4] + "-" + v[4:6]
		p.setParam("X-APPLE-OMIT-YEAR", "1604")
		return
	}
	p.value = dateTime4to3(v)
}

// dateTime4to3 turns 19850412 into 1985-04-12 and 19850412T102200Z into
// 1985-04-12T10:22:00Z; other text comes back unchanged.
func dateTime4to3(v string) string {
	date, tm, hasTime := strings.Cut(strings.TrimSpace(v), "T")
	if len(date) != 8 || !allDigits(date) {
		return v
	}
	out := date[:4] + "-" + date[4:6] + "-" + date[6:]
	if !hasTime {
		return out
	}
	clock, zone := tm, ""
	if i := strings.IndexAny(tm, "Z+-"); i >= 0 {
		clock, zone = tm[:i], tm[i:]
	}
	if len(clock) != 6 || !allDigits(clock) {
		return v
	}
	out += "T" + clock[:2] + ":" + clock[2:4] + ":" + clock[4:]
	if len(zone) == 5 && allDigits(zone[1:]) {
		zone = zone[:3] + ":" + zone[3:]
	}
	return out + zone
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// splitGeo3 reads a 3.0 GEO (RFC 2426 §3.4.2: two floats separated by ";").
func splitGeo3(v string) (lat, lon string, ok bool) {
	lat, lon, ok = strings.Cut(v, ";")
	lat, lon = strings.TrimSpace(lat), strings.TrimSpace(lon)
	return lat, lon, ok && isFloat(lat) && isFloat(lon)
}

// splitGeoURI reads a geo: URI (RFC 5870: geo:lat,lon[,alt][;params]).
func splitGeoURI(v string) (lat, lon string, ok bool) {
	if len(v) < 4 || !strings.EqualFold(v[:4], "geo:") {
		return "", "", false
	}
	coords, _, _ := strings.Cut(v[4:], ";")
	parts := strings.Split(coords, ",")
	if len(parts) < 2 || !isFloat(parts[0]) || !isFloat(parts[1]) {
		return "", "", false
	}
	return parts[0], parts[1], true
}

func isFloat(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// tz3to4: a 3.0 TZ is a UTC offset by default (RFC 2426 §3.4.1) and text
// with VALUE=text; a 4.0 TZ is text by default (RFC 6350 §6.5.1) and an
// offset with VALUE=utc-offset in basic format.
func tz3to4(p *property) {
	switch strings.ToLower(p.paramValue("VALUE")) {
	case "text":
		p.delParam("VALUE")
	case "", "utc-offset":
		if off, ok := utcOffsetBasic(p.value); ok {
			p.value = off
			p.setParam("VALUE", "utc-offset")
		}
	}
}

func tz4to3(p *property) {
	switch strings.ToLower(p.paramValue("VALUE")) {
	case "utc-offset":
		if off, ok := utcOffsetBasic(p.value); ok {
			p.value = off[:3] + ":" + off[3:]
			p.delParam("VALUE")
		}
	case "", "text":
		p.setParam("VALUE", "text")
	}
}

// utcOffsetBasic reads ±HH:MM, ±HHMM or ±HH and returns ±HHMM.
func utcOffsetBasic(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) < 3 || (v[0] != '+' && v[0] != '-') {
		return "", false
	}
	d := strings.ReplaceAll(v[1:], ":", "")
	if len(d) == 2 {
		d += "00"
	}
	if len(d) != 4 || !allDigits(d) {
		return "", false
	}
	return v[:1] + d, true
}
