package carddav

import (
	"bytes"
	"strings"

	"github.com/davenport-dav/davenport/internal/contentline"
)

// encodeCard writes BEGIN, the properties and END, in the given version's
// parameter syntax, folded at 75 octets (RFC 6350 §3.2, RFC 2425 §5.8.1)
// and with CRLF line ends. The caller puts VERSION
// among props.
func encodeCard(props []property, version string) []byte {
	var b bytes.Buffer
	b.Grow(64 * (len(props) + 2))
	b.WriteString("BEGIN:VCARD\r\n")
	var line strings.Builder
	for i := range props {
		line.Reset()
		writeProperty(&line, &props[i], version)
		contentline.WriteFolded(&b, line.String())
	}
	b.WriteString("END:VCARD\r\n")
	return b.Bytes()
}

// writeProperty writes one unfolded content line without its line break.
func writeProperty(b *strings.Builder, p *property, version string) {
	if p.group != "" {
		b.WriteString(p.group)
		b.WriteByte('.')
	}
	b.WriteString(p.displayName())
	for _, pa := range p.params {
		if len(pa.Values) == 0 {
			continue
		}
		b.WriteByte(';')
		b.WriteString(pa.Name)
		b.WriteByte('=')
		for k, v := range pa.Values {
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteString(encodeParamValue(v, version))
		}
	}
	b.WriteByte(':')
	b.WriteString(p.value)
}

// encodeParamValue writes one parameter value. vCard 4.0 encodes newline,
// caret and double quote with RFC 6868 carets; vCard 3.0 has no such
// encoding (RFC 2426 §4: a quoted value cannot hold DQUOTE or control
// characters), so those are dropped or turned into spaces. A value holding
// ":", ";" or "," is quoted (RFC 6350 §5 / RFC 2426 §4 param-value).
func encodeParamValue(v, version string) string {
	if version == "4.0" {
		if strings.ContainsAny(v, "^\n\r\"") {
			var b strings.Builder
			for i := 0; i < len(v); i++ {
				switch c := v[i]; c {
				case '^':
					b.WriteString("^^")
				case '"':
					b.WriteString("^'")
				case '\r':
					if i+1 < len(v) && v[i+1] == '\n' {
						continue
					}
					b.WriteString("^n")
				case '\n':
					b.WriteString("^n")
				default:
					b.WriteByte(c)
				}
			}
			v = b.String()
		}
	} else if strings.ContainsAny(v, "\n\r\"") {
		v = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", `"`, "").Replace(v)
	}
	if contentline.ControlChar(v) >= 0 {
		v = strings.Map(func(r rune) rune {
			if r < 0x20 && r != '\t' || r == 0x7f {
				return -1
			}
			return r
		}, v)
	}
	if strings.ContainsAny(v, ":;,") {
		return `"` + v + `"`
	}
	return v
}
