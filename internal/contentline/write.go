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
