package contentline

import (
	"io"
	"strings"
	"unicode/utf8"
)

// MaxOctets is the folding width, without the line break: RFC 5545 §3.1
// "Lines of text SHOULD NOT be longer than 75 octets, excluding the line
// break", RFC 6350 §3.2 the same for vCard, RFC 2425 §5.8.1 for vCard 3.0.
const MaxOctets = 75

// WriteFolded writes a logical line folded at MaxOctets octets, each
// physical line ended with CRLF. RFC 6350 §3.2: "Multi-octet characters
// MUST remain contiguous", so a cut never falls inside a UTF-8 sequence;
// a continuation line starts with one space, which counts toward its
// width. Octets that are not UTF-8 are cut anywhere.
func WriteFolded(w io.StringWriter, line string) {
	limit := MaxOctets
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		if cut == 0 { // not UTF-8 at all: cut anyway, and never loop
			cut = limit
		}
		w.WriteString(line[:cut])
		w.WriteString("\r\n ")
		line = line[cut:]
		limit = MaxOctets - 1
	}
	w.WriteString(line)
	w.WriteString("\r\n")
}

// textEscaper escapes a TEXT value (RFC 5545 §3.3.11; RFC 6350 §3.4 has the
// same rules): backslash, comma and semicolon get a backslash, a line break
// becomes \n.
var textEscaper = strings.NewReplacer(`\`, `\\`, ",", `\,`, ";", `\;`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)

// EscapeText escapes s for use as a TEXT value, or as one component of a
// structured value.
func EscapeText(s string) string {
	return textEscaper.Replace(s)
}

// textUnescaper resolves every escape of a TEXT value (RFC 5545 §3.3.11,
// RFC 6350 §3.4, RFC 2426 §4: \\, \,, \;, \n, \N); it also accepts \:,
// which some exporters write.
var textUnescaper = strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\N`, "\n", `\,`, ",", `\;`, ";", `\:`, ":")

// UnescapeText resolves the escapes of a raw TEXT value, or of one
// component of a structured value split with SplitEscaped.
func UnescapeText(raw string) string {
	if !strings.Contains(raw, `\`) {
		return raw
	}
	return textUnescaper.Replace(raw)
}

// SplitEscaped splits a raw value at every sep that is not escaped by a
// backslash, leaving the escapes in the parts.
func SplitEscaped(raw string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case sep:
			parts = append(parts, raw[start:i])
			start = i + 1
		}
	}
	return append(parts, raw[start:])
}
