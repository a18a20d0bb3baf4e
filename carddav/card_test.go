package carddav

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/davenport-dav/davenport/internal/collate"
	"github.com/emersion/go-vcard"
)

// readTestdata returns every card under testdata/ by file name.
func readTestdata(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/*.vcf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata cards: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func mustParse(t testing.TB, body string) *ParsedCard {
	t.Helper()
	pc, err := ParseCard([]byte(body), "text/vcard")
	if err != nil {
		t.Fatalf("ParseCard: %v\n%s", err, body)
	}
	return pc
}

// crlf joins lines with CRLF, the way clients send cards.
func crlf(lines ...string) string {
	return strings.Join(lines, "\r\n") + "\r\n"
}

func TestParseCardTestdata(t *testing.T) {
	want := map[string]struct{ uid, version, fn string }{
		"apple-zoe-3.0.vcf":    {"6F2A1C3E-9B7D-4E1A-8C2F-0A1B2C3D4E5F", "3.0", "Zoë Çelik"},
		"apple-group-3.0.vcf":  {"B1A2C3D4-E5F6-4711-8899-AABBCCDDEEFF", "3.0", "Book Club"},
		"davx5-taro-4.0.vcf":   {"urn:uuid:2d1e3b8a-5c4f-4f7e-9a1b-0c9d8e7f6a5b", "4.0", "山田太郎"},
		"davx5-group-4.0.vcf":  {"urn:uuid:9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "4.0", "Climbing buddies"},
		"google-jane-3.0.vcf":  {"3c9a8d20-1f2e-4b5c-9d6e-7f8a9b0c1d2e", "3.0", "Jane Q. Public"},
		"naive-folded-3.0.vcf": {"folded-1", "3.0", "Müller Jürgen"},
	}
	cards := readTestdata(t)
	if len(cards) != len(want) {
		t.Fatalf("testdata holds %d cards, the table %d", len(cards), len(want))
	}
	for name, body := range cards {
		t.Run(name, func(t *testing.T) {
			pc, err := ParseCard(body, "text/vcard; charset=utf-8")
			if err != nil {
				t.Fatal(err)
			}
			w := want[name]
			if pc.UID != w.uid || pc.Version != w.version || pc.Card.Value("FN") != w.fn {
				t.Errorf("got uid %q version %q fn %q, want %+v", pc.UID, pc.Version, pc.Card.Value("FN"), w)
			}
			// A query reads stored cards with storedCard: it must see the
			// same properties and version as the validating parse.
			card, version, err := storedCard(body)
			if err != nil || version != pc.Version || !reflect.DeepEqual(card, pc.Card) {
				t.Errorf("storedCard = version %q, err %v, same card %v; want ParseCard's", version, err, reflect.DeepEqual(card, pc.Card))
			}
		})
	}
}

func TestParseCardApple(t *testing.T) {
	pc := mustParse(t, string(readTestdata(t)["apple-zoe-3.0.vcf"]))
	// Groups survive and labels stay with their property.
	var labelled []string
	for _, e := range pc.Card["EMAIL"] {
		if e.Group == "item1" {
			labelled = append(labelled, e.Value)
		}
	}
	if len(labelled) != 1 || labelled[0] != "zoe@example.com" {
		t.Errorf("item1.EMAIL = %v", labelled)
	}
	if l := pc.Card["X-ABLABEL"]; len(l) != 3 || l[0].Group != "item1" || l[0].Value != "_$!<Other>!$_" {
		t.Errorf("X-ABLabel fields = %+v", l)
	}
	// go-vcard's accessors work on our Card.
	if n := pc.Card.Name(); n == nil || n.FamilyName != "Çelik" || n.GivenName != "Zoë" {
		t.Errorf("Name() = %+v", n)
	}
	if !pc.Card.Preferred("TEL").Params.HasType("cell") {
		t.Errorf("Preferred(TEL) = %+v", pc.Card.Preferred("TEL"))
	}
	if got := pc.Card.Value("NOTE"); got != "Met at FOSDEM, Brussels.\nLikes çay; prefers Signal." {
		t.Errorf("NOTE = %q", got)
	}
	if p := pc.Card.Get("PHOTO"); p == nil || p.Params.Get("ENCODING") != "b" || !strings.HasPrefix(p.Value, "/9j/") || strings.ContainsAny(p.Value, " \r\n") {
		t.Errorf("PHOTO unfolded wrong: %+v", p)
	}
}

// The cards without the constructs where go-vcard goes wrong (bare
// parameters, \N, folds inside UTF-8, RFC 6868 carets) decode to the same Card as go-vcard's
// own decoder gives.
func TestParseCardAgreesWithGoVcard(t *testing.T) {
	for name, body := range readTestdata(t) {
		if name == "naive-folded-3.0.vcf" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			ours := mustParse(t, string(body)).Card
			theirs, err := vcard.NewDecoder(bytes.NewReader(body)).Decode()
			if err != nil {
				t.Fatal(err)
			}
			if len(ours) != len(theirs) {
				t.Fatalf("%d keys, go-vcard %d", len(ours), len(theirs))
			}
			for k, fields := range theirs {
				if len(ours[k]) != len(fields) {
					t.Fatalf("%s: %d fields, go-vcard %d", k, len(ours[k]), len(fields))
				}
				for i, f := range fields {
					o := ours[k][i]
					if o.Value != f.Value || o.Group != f.Group || len(o.Params) != len(f.Params) {
						t.Errorf("%s[%d] = %+v, go-vcard %+v", k, i, o, f)
					}
					for pk, pv := range f.Params {
						if strings.Contains(strings.Join(pv, ""), "^") {
							continue // go-vcard does not decode RFC 6868 carets; we do
						}
						if strings.Join(o.Params[pk], ",") != strings.Join(pv, ",") {
							t.Errorf("%s[%d] param %s = %v, go-vcard %v", k, i, pk, o.Params[pk], pv)
						}
					}
				}
			}
		})
	}
}

func TestParseCardPreconditions(t *testing.T) {
	valid := crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", "N:A;;;;", "UID:u1", "END:VCARD")
	tests := []struct {
		name        string
		body        string
		contentType string
		condition   string // "" = accepted
	}{
		{"valid", valid, "text/vcard", ""},
		{"charset utf-8", valid, "text/vcard; charset=UTF-8", ""},
		{"x-vcard", valid, "text/x-vcard", ""},
		{"version param", valid, "text/vcard; version=3.0", ""},
		{"latin1", valid, "text/vcard; charset=iso-8859-1", CondSupportedAddressData},
		{"calendar", valid, "text/calendar", CondSupportedAddressData},
		{"json", valid, "application/vcard+json", CondSupportedAddressData},
		{"no content type (stored body)", valid, "", ""},
		{"blank content type", valid, " ", ""},
		{"version 2.1 param", valid, "text/vcard; version=2.1", CondSupportedAddressData},
		{"vcard 2.1", crlf("BEGIN:VCARD", "VERSION:2.1", "FN:A", "UID:u", "END:VCARD"), "text/vcard", CondSupportedAddressData},
		{"vcard 4.0", crlf("BEGIN:VCARD", "VERSION:4.0", "FN:A", "UID:u", "END:VCARD"), "text/vcard", ""},
		{"LF only, BOM, lower case", "\uFEFFbegin:vcard\nversion:3.0\nfn:A\nuid:u\nend:vcard\n", "text/vcard", ""},
		{"no final newline", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nUID:u\r\nEND:VCARD", "text/vcard", ""},
		{"blank lines around", "\r\n" + valid + "\r\n\r\n", "text/vcard", ""},
		{"bare 2.1-style params", crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", "TEL;WORK;VOICE:1", "UID:u", "END:VCARD"), "text/vcard", ""},
		{"empty", "", "text/vcard", CondValidAddressData},
		{"not a vcard", "hello world\r\n", "text/vcard", CondValidAddressData},
		{"calendar body", crlf("BEGIN:VCALENDAR", "VERSION:2.0", "END:VCALENDAR"), "text/vcard", CondValidAddressData},
		{"two vcards", valid + valid, "text/vcard", CondValidAddressData},
		{"trailing text", valid + "garbage:1\r\n", "text/vcard", CondValidAddressData},
		{"nested begin", crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", "UID:u", "BEGIN:VCARD", "END:VCARD", "END:VCARD"), "text/vcard", CondValidAddressData},
		{"no end", crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", "UID:u"), "text/vcard", CondValidAddressData},
		{"end of something else", crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", "UID:u", "END:VCALENDAR"), "text/vcard", CondValidAddressData},
		{"no version", crlf("BEGIN:VCARD", "FN:A", "UID:u", "END:VCARD"), "text/vcard", CondValidAddressData},
		{"two versions", crlf("BEGIN:VCARD", "VERSION:3.0", "VERSION:3.0", "FN:A", "UID:u", "END:VCARD"), "text/vcard", CondValidAddressData},
		{"no FN", crlf("BEGIN:VCARD", "VERSION:3.0", "N:A;;;;", "UID:u", "END:VCARD"), "text/vcard", CondValidAddressData},
		{"no UID", crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", "END:VCARD"), "text/vcard", CondValidAddressData},
		{"empty UID", crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", "UID: ", "END:VCARD"), "text/vcard", CondValidAddressData},
		{"two UIDs", crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", "UID:a", "UID:b", "END:VCARD"), "text/vcard", CondValidAddressData},
		{"line without colon", crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", "UID:u", "NOTE", "END:VCARD"), "text/vcard", CondValidAddressData},
		{"bad name", crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", "UID:u", "N@TE:x", "END:VCARD"), "text/vcard", CondValidAddressData},
		{"unterminated quote", crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", "UID:u", `ADR;LABEL="x:;;;;;;`, "END:VCARD"), "text/vcard", CondValidAddressData},
		{"continuation first", " BEGIN:VCARD\r\n" + valid, "text/vcard", CondValidAddressData},
		{"control character", crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A\x00B", "UID:u", "END:VCARD"), "text/vcard", CondValidAddressData},
		{"invalid UTF-8", crlf("BEGIN:VCARD", "VERSION:3.0", "FN:\xff\xfe", "UID:u", "END:VCARD"), "text/vcard", CondValidAddressData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc, err := ParseCard([]byte(tt.body), tt.contentType)
			if tt.condition == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if pc.UID == "" || pc.Card.Value("FN") == "" {
					t.Errorf("parsed card lacks UID or FN: %+v", pc)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *ValidationError %s", err, tt.condition)
			}
			if ve.Condition != tt.condition {
				t.Errorf("condition = %s (%s), want %s", ve.Condition, ve.Reason, tt.condition)
			}
		})
	}
}

func TestParseCardBareParams(t *testing.T) {
	pc := mustParse(t, crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", "TEL;WORK;VOICE:+1 555", "UID:u", "END:VCARD"))
	tel := pc.Card.Get("TEL")
	if tel.Value != "+1 555" || !tel.Params.HasType("work") || !tel.Params.HasType("voice") {
		t.Errorf("TEL = %+v", tel)
	}
}

func TestParseCardCaretDecoding(t *testing.T) {
	// RFC 6868 applies to 4.0 only; in 3.0 a caret is a caret.
	four := mustParse(t, crlf("BEGIN:VCARD", "VERSION:4.0", "FN:A", `ADR;LABEL="a^nb ^^ ^'q^'":;;;;;;`, "UID:u", "END:VCARD"))
	if got := four.Card.Get("ADR").Params.Get("LABEL"); got != "a\nb ^ \"q\"" {
		t.Errorf("4.0 LABEL = %q", got)
	}
	three := mustParse(t, crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", `X-P;X-Q=a^nb:v`, "UID:u", "END:VCARD"))
	if got := three.Card.Get("X-P").Params.Get("X-Q"); got != "a^nb" {
		t.Errorf("3.0 X-Q = %q", got)
	}
}

func TestSearchText(t *testing.T) {
	pc := mustParse(t, string(readTestdata(t)["apple-zoe-3.0.vcf"]))
	lines := strings.Split(pc.SearchText, "\n")
	for _, want := range []string{
		collate.FoldUnicode("Zoë Çelik"), collate.FoldUnicode("Çelik;Zoë;;;"), "ZO", "ZOE@EXAMPLE.COM", "+90 532 555 01 23",
		collate.FoldUnicode("Met at FOSDEM, Brussels.\nLikes çay; prefers Signal."), "HTTPS://ZOE.EXAMPLE.COM",
		"6F2A1C3E-9B7D-4E1A-8C2F-0A1B2C3D4E5F", "STAFF ENGINEER",
	} {
		if !strings.Contains(pc.SearchText, want) {
			t.Errorf("SearchText lacks %q:\n%s", want, pc.SearchText)
		}
	}
	for _, l := range lines {
		if strings.Contains(l, "9J/4AAQ") || strings.Contains(l, "APPLE INC") || strings.Contains(l, "_$!<") {
			t.Errorf("SearchText indexes a photo, PRODID or label: %q", l)
		}
	}
	if collate.FoldUnicode(pc.SearchText) != pc.SearchText {
		t.Error("SearchText is not normalised")
	}
}

// alphabet mixes ASCII of both cases with characters that fold, decompose,
// combine or reorder, so random tests hit the hard cases.
var alphabet = []rune("aAbBzZ ,;:\\.@-1 éÉeE\u0301\u0327\u0308öÖßẞİıǆǅǄﬁσςΣ山田ｍＭ한\u00a0")

func randomText(r *rand.Rand, max int) string {
	n := r.IntN(max + 1)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteRune(alphabet[r.IntN(len(alphabet))])
	}
	s := b.String()
	if !utf8.ValidString(s) {
		panic("invalid test text")
	}
	return s
}
