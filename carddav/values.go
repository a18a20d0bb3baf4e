package carddav

import (
	"slices"
	"strings"

	"github.com/emersion/go-vcard"

	"github.com/davenport-dav/davenport/internal/contentline"
)

// goValueReplacer turns a raw value into go-vcard's Field.Value form: \\, \n,
// \N and \, are resolved, \; is kept so that structured values (N, ADR) can
// still be split on ";" the way go-vcard's Name and Address accessors do.
var goValueReplacer = strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\N`, "\n", `\,`, ",")

// goValue converts a raw value to go-vcard's Field.Value convention.
func goValue(raw string) string {
	if !strings.Contains(raw, `\`) {
		return raw
	}
	return goValueReplacer.Replace(raw)
}

// escapeText escapes s for use as a text value or as one component of a
// structured value (RFC 6350 §3.4; RFC 2426 §4 has the same rules).
func escapeText(s string) string {
	return contentline.EscapeText(s)
}

// matchText is the text of a go-vcard Field.Value that filters compare
// against: the value with its remaining \; escapes resolved, so that a
// structured N reads "Doe;John;;;" and a note reads as written.
func matchText(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	return strings.ReplaceAll(v, `\;`, ";")
}

// toCard builds the go-vcard form of parsed properties. Field values follow
// go-vcard's own decoder (see goValue); parameter names are upper-case.
func toCard(props []property) vcard.Card {
	card := make(vcard.Card, len(props))
	for i := range props {
		p := &props[i]
		f := &vcard.Field{Value: goValue(p.value), Group: p.group}
		if len(p.params) > 0 {
			f.Params = make(vcard.Params, len(p.params))
			for _, pa := range p.params {
				f.Params[pa.Name] = append(f.Params[pa.Name], pa.Values...)
			}
		}
		card[p.name] = append(card[p.name], f)
	}
	return card
}

// listProps are the properties whose value is a comma-separated list
// (RFC 6350 §6.2.3 NICKNAME, §6.7.1 CATEGORIES).
var listProps = map[string]bool{"NICKNAME": true, "CATEGORIES": true}

// structuredProps are the compound properties whose fields are separated by
// semicolons (RFC 6350 §6.2.2 N, §6.3.1 ADR, §6.6.4 ORG, §6.2.7 GENDER,
// RFC 2426 §3.4.2 GEO in 3.0).
var structuredProps = map[string]bool{"N": true, "ADR": true, "ORG": true, "GENDER": true, "CLIENTPIDMAP": true}

// uriProps are properties whose value is a URI (or binary) by default in
// either version; their values are not text-escaped.
var uriProps = map[string]bool{
	"SOURCE": true, "PHOTO": true, "LOGO": true, "SOUND": true, "URL": true,
	"KEY": true, "MEMBER": true, "RELATED": true, "IMPP": true, "CALURI": true,
	"CALADRURI": true, "FBURL": true, "X-ADDRESSBOOKSERVER-MEMBER": true,
}

// rawFromGoValue writes a go-vcard Field.Value back in wire form: the
// inverse of goValue for the property name.
func rawFromGoValue(name string, params vcard.Params, v string) string {
	if uriProps[name] || strings.EqualFold(params.Get("VALUE"), "uri") || strings.EqualFold(params.Get("ENCODING"), "b") {
		return v
	}
	keepCommas := listProps[name] || structuredProps[name]
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && i+1 < len(v) && v[i+1] == ';':
			b.WriteString(`\;`)
			i++
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
		case c == ',' && !keepCommas:
			b.WriteString(`\,`)
		case c == ';' && !structuredProps[name]:
			b.WriteString(`\;`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// fromCard turns a go-vcard Card into properties, for callers that hold no
// stored bytes. Map order is not defined, so properties are sorted by name
// (VERSION first), and fields keep their order within a name.
func fromCard(card vcard.Card) []property {
	names := make([]string, 0, len(card))
	for k := range card {
		if k == "BEGIN" || k == "END" {
			continue
		}
		names = append(names, k)
	}
	sortStrings(names)
	var props []property
	for _, k := range names {
		for _, f := range card[k] {
			if f == nil {
				continue
			}
			p := property{group: f.Group, name: strings.ToUpper(k), value: rawFromGoValue(strings.ToUpper(k), f.Params, f.Value)}
			pnames := make([]string, 0, len(f.Params))
			for pk := range f.Params {
				pnames = append(pnames, pk)
			}
			sortStrings(pnames)
			for _, pk := range pnames {
				p.params = append(p.params, param{Name: strings.ToUpper(pk), Values: append([]string(nil), f.Params[pk]...)})
			}
			props = append(props, p)
		}
	}
	return props
}

// sortStrings sorts names with VERSION first and the rest alphabetically.
func sortStrings(s []string) {
	slices.SortStableFunc(s, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "VERSION":
			return -1
		case b == "VERSION":
			return 1
		}
		return strings.Compare(a, b)
	})
}
