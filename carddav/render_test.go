package carddav

import (
	"encoding/xml"
	"errors"
	"os"
	"strings"
	"testing"
)

func decodeAddressData(t testing.TB, s string) *AddressDataRequest {
	t.Helper()
	var r AddressDataRequest
	if err := xml.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return &r
}

const ns = `xmlns:C="urn:ietf:params:xml:ns:carddav"`

func TestRenderVerbatim(t *testing.T) {
	cards := readTestdata(t)
	apple := cards["apple-zoe-3.0.vcf"]
	davx5 := cards["davx5-taro-4.0.vcf"]
	tests := []struct {
		name, req string
		body      []byte
	}{
		{"bare address-data on 3.0", `<C:address-data ` + ns + `/>`, apple},
		{"explicit 3.0", `<C:address-data ` + ns + ` content-type="text/vcard" version="3.0"/>`, apple},
		{"allprop", `<C:address-data ` + ns + ` version="3.0"><C:allprop/></C:address-data>`, apple},
		{"allprop wins over props", `<C:address-data ` + ns + `><C:allprop/><C:prop name="FN"/></C:address-data>`, apple},
		{"4.0 asked of 4.0", `<C:address-data ` + ns + ` content-type="text/vcard" version="4.0"/>`, davx5},
		{"version in the content type", `<C:address-data ` + ns + ` content-type="text/vcard; version=4.0"/>`, davx5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc := mustParse(t, string(tt.body))
			out, ct, err := decodeAddressData(t, tt.req).Render(tt.body, pc.Card)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(tt.body) {
				t.Errorf("not the stored bytes:\n%s", out)
			}
			if !strings.HasPrefix(ct, "text/vcard") || !strings.HasSuffix(ct, "version="+pc.Version) {
				t.Errorf("content type %q", ct)
			}
		})
	}
}

func TestRenderConversion(t *testing.T) {
	cards := readTestdata(t)
	// DAVx5 in vCard 4 mode asks for 4.0 (../shared/clients/davx5-10).
	req := decodeAddressData(t, `<CARD:address-data xmlns:CARD="urn:ietf:params:xml:ns:carddav" content-type="text/vcard" version="4.0" />`)
	body := cards["apple-group-3.0.vcf"]
	out, ct, err := req.Render(body, mustParse(t, string(body)).Card)
	if err != nil {
		t.Fatal(err)
	}
	pc := mustParse(t, string(out))
	if pc.Version != Version4 || ct != "text/vcard; charset=utf-8; version=4.0" {
		t.Errorf("version %s, content type %q", pc.Version, ct)
	}
	if pc.Card.Value("KIND") != "group" || len(pc.Card["MEMBER"]) != 2 {
		t.Errorf("group not converted:\n%s", out)
	}
	// A bare address-data (Apple) asks for 3.0, the DTD default: a 4.0 card
	// is converted.
	body = cards["davx5-group-4.0.vcf"]
	out, _, err = decodeAddressData(t, `<C:address-data `+ns+`/>`).Render(body, mustParse(t, string(body)).Card)
	if err != nil {
		t.Fatal(err)
	}
	if pc := mustParse(t, string(out)); pc.Version != Version3 || pc.Card.Value("X-ADDRESSBOOKSERVER-KIND") != "group" {
		t.Errorf("bare address-data on a 4.0 group:\n%s", out)
	}
	// Without the parsed card Render still finds the stored version.
	out, _, err = decodeAddressData(t, `<C:address-data `+ns+` version="4.0"/>`).Render(body, nil)
	if err != nil || string(out) != string(body) {
		t.Errorf("Render(body, nil) = %q, %v", out, err)
	}
}

func TestRenderSelection(t *testing.T) {
	body := []byte(crlf("BEGIN:VCARD", "VERSION:3.0", "FN:Zoë", "N:Z;;;;",
		"item1.TEL;TYPE=CELL:1", "X-ABC.TEL:2", "X-ABC-1.TEL:3", "TEL:4",
		"EMAIL;TYPE=WORK:z@x", "NOTE:secret", "UID:u1", "END:VCARD"))
	card := mustParse(t, string(body)).Card
	tests := []struct {
		name, props, version string
		want                 []string
	}{
		// RFC 6352 §10.4.2's own example: TEL matches any group, X-ABC.TEL only that group.
		{"TEL matches every group", `<C:prop name="TEL"/>`, "", []string{"VERSION:3.0", "item1.TEL;TYPE=CELL:1", "X-ABC.TEL:2", "X-ABC-1.TEL:3", "TEL:4", "UID:u1"}},
		{"X-ABC.TEL matches one group", `<C:prop name="X-ABC.TEL"/>`, "", []string{"VERSION:3.0", "X-ABC.TEL:2", "UID:u1"}},
		{"names ignore case", `<C:prop name="email"/><C:prop name="fn"/>`, "", []string{"VERSION:3.0", "FN:Zoë", "EMAIL;TYPE=WORK:z@x", "UID:u1"}},
		{"novalue", `<C:prop name="EMAIL" novalue="yes"/><C:prop name="NOTE" novalue="no"/>`, "", []string{"VERSION:3.0", "EMAIL;TYPE=WORK:", "NOTE:secret", "UID:u1"}},
		{"novalue loses to a plain prop", `<C:prop name="NOTE" novalue="yes"/><C:prop name="NOTE"/>`, "", []string{"VERSION:3.0", "NOTE:secret", "UID:u1"}},
		{"unknown name", `<C:prop name="X-NOPE"/>`, "", []string{"VERSION:3.0", "UID:u1"}},
		{"selection after conversion", `<C:prop name="TEL"/>`, "4.0", []string{"VERSION:4.0", "item1.TEL;TYPE=CELL:1", "X-ABC.TEL:2", "X-ABC-1.TEL:3", "TEL:4", "UID:u1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attr := ""
			if tt.version != "" {
				attr = ` version="` + tt.version + `"`
			}
			out, _, err := decodeAddressData(t, `<C:address-data `+ns+attr+`>`+tt.props+`</C:address-data>`).Render(body, card)
			if err != nil {
				t.Fatal(err)
			}
			want := crlf(append(append([]string{"BEGIN:VCARD"}, tt.want...), "END:VCARD")...)
			if string(out) != want {
				t.Errorf("got\n%s\nwant\n%s", out, want)
			}
		})
	}
}

func TestRenderRefusals(t *testing.T) {
	body := []byte(crlf("BEGIN:VCARD", "VERSION:3.0", "FN:A", "UID:u", "END:VCARD"))
	for _, req := range []string{
		`<C:address-data ` + ns + ` content-type="application/vcard+json"/>`,
		`<C:address-data ` + ns + ` version="2.1"/>`,
		`<C:address-data ` + ns + ` content-type="text/vcard; version=2.1"/>`,
		`<C:address-data ` + ns + ` content-type="text/calendar"/>`,
	} {
		r := decodeAddressData(t, req)
		var qe *QueryError
		if err := r.Validate(); !errors.As(err, &qe) || qe.Condition != CondSupportedAddressDataConv {
			t.Errorf("%s: Validate = %v", req, err)
		}
		if _, _, err := r.Render(body, nil); !errors.As(err, &qe) {
			t.Errorf("%s: Render = %v", req, err)
		}
	}
	if _, _, err := (&AddressDataRequest{}).Render(nil, nil); err == nil {
		t.Error("Render of nothing succeeded")
	}
	if _, _, err := (&AddressDataRequest{Version: "4.0"}).Render([]byte("garbage"), nil); err == nil {
		t.Error("Render of a broken stored body succeeded")
	}
}

// A caller holding only a go-vcard Card (no stored bytes) gets it encoded.
func TestRenderFromCard(t *testing.T) {
	pc := mustParse(t, crlf("BEGIN:VCARD", "VERSION:3.0", "FN:Doe\\, Jane", "N:Doe;Jane;;;", `NOTE:a\;b\nc`,
		"CATEGORIES:x,y", "EMAIL;TYPE=INTERNET,pref:j@x", "PHOTO;VALUE=uri:http://e/a,b", "UID:u", "END:VCARD"))
	out, _, err := (&AddressDataRequest{Version: "3.0"}).Render(nil, pc.Card)
	if err != nil {
		t.Fatal(err)
	}
	again := mustParse(t, string(out))
	for _, k := range []string{"FN", "N", "NOTE", "CATEGORIES", "EMAIL", "PHOTO", "UID"} {
		if again.Card.Value(k) != pc.Card.Value(k) {
			t.Errorf("%s = %q after encoding, was %q\n%s", k, again.Card.Value(k), pc.Card.Value(k), out)
		}
	}
	if !strings.HasPrefix(string(out), "BEGIN:VCARD\r\nVERSION:3.0\r\n") {
		t.Errorf("VERSION not first:\n%s", out)
	}
	out4, _, err := (&AddressDataRequest{Version: "4.0"}).Render(nil, pc.Card)
	if err != nil || mustParse(t, string(out4)).Card.Get("EMAIL").Params.Get("PREF") != "1" {
		t.Errorf("4.0 from card: %v\n%s", err, out4)
	}
}

func TestNegotiateVersion(t *testing.T) {
	tests := []struct{ accept, want string }{
		{"", ""},
		{"*/*", ""},
		{"text/vcard", ""},
		{"text/vcard; version=4.0", "4.0"},
		{"text/vcard;version=3.0", "3.0"},
		{"text/x-vcard", "3.0"},
		{"text/vcard; version=4.0, text/vcard; version=3.0; q=0.5", "4.0"},
		{"text/vcard; version=3.0; q=0.9, text/vcard; version=4.0", "4.0"},
		{"text/vcard; version=4.0; q=0.8, */*; q=0.1", "4.0"},
		{"text/vcard; version=4.0, text/vcard; version=3.0", ""},
		{"text/vcard; version=4.0, */*", ""},
		{"text/vcard; version=4.0; q=0, text/vcard; version=3.0; q=0.1", "3.0"},
		{"application/vcard+json, text/vcard; version=4.0; q=0.5", "4.0"},
		{"text/vcard; version=2.1", ""},
		{"text/html, application/xml", ""},
		{"text/vcard; version=4.0; q=bad", ""},
		{";;;, ,", ""},
	}
	for _, tt := range tests {
		if got := NegotiateVersion(tt.accept); got != tt.want {
			t.Errorf("NegotiateVersion(%q) = %q, want %q", tt.accept, got, tt.want)
		}
	}
}

// The address-book bodies DAVx5 sends (../shared/clients) decode and work.
func TestDAVx5Bodies(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("../../shared/clients/" + name)
		if err != nil {
			t.Skipf("shared client bodies not available: %v", err)
		}
		return b
	}
	var q testQuery
	if err := xml.Unmarshal(read("davx5-09-addressbook-query-empty-filter.xml"), &q); err != nil {
		t.Fatal(err)
	}
	if err := q.Filter.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, body := range readTestdata(t) {
		if !q.Filter.Match(mustParse(t, string(body)).Card) {
			t.Errorf("empty filter does not match %s", name)
		}
	}
	if q.Filter.SearchTerms() != nil {
		t.Errorf("empty filter narrows: %q", q.Filter.SearchTerms())
	}

	var mg struct {
		Prop struct {
			AddressData *AddressDataRequest `xml:"urn:ietf:params:xml:ns:carddav address-data"`
		} `xml:"DAV: prop"`
	}
	if err := xml.Unmarshal(read("davx5-10-addressbook-multiget-vcard4.xml"), &mg); err != nil {
		t.Fatal(err)
	}
	if mg.Prop.AddressData == nil || mg.Prop.AddressData.Validate() != nil {
		t.Fatalf("address-data = %+v", mg.Prop.AddressData)
	}
	body := readTestdata(t)["apple-zoe-3.0.vcf"]
	out, _, err := mg.Prop.AddressData.Render(body, nil)
	if err != nil {
		t.Fatal(err)
	}
	pc := mustParse(t, string(out))
	if pc.Version != Version4 || pc.Card.Value("BDAY") != "--0315" || !strings.HasPrefix(pc.Card.Value("PHOTO"), "data:image/jpeg;base64,/9j/") {
		t.Errorf("DAVx5 gets:\n%s", out)
	}
}
