package files

import (
	"encoding/xml"
	"testing"

	"github.com/davenport-dav/davenport/dav"
)

func TestPrepareObject(t *testing.T) {
	for _, tc := range []struct{ sent, want string }{
		{"", "application/octet-stream"},
		{"text/plain; charset=utf-8", "text/plain; charset=utf-8"},
		{"application/x-anything", "application/x-anything"},
	} {
		o, err := Kind{}.PrepareObject(nil, nil, []byte("any \x00 bytes"), tc.sent)
		if err != nil {
			t.Fatalf("PrepareObject(%q): %v", tc.sent, err)
		}
		if o.ContentType != tc.want || o.UID == "" || o.Body != nil {
			t.Errorf("PrepareObject(%q) = type %q, UID %q, body %q; want type %q, a UID, the caller's body", tc.sent, o.ContentType, o.UID, o.Body, tc.want)
		}
	}
	a, _ := Kind{}.PrepareObject(nil, nil, nil, "")
	b, _ := Kind{}.PrepareObject(nil, nil, nil, "")
	if a.UID == b.UID {
		t.Errorf("two new files got the UID %q", a.UID)
	}
}

func TestNewCollection(t *testing.T) {
	for _, tc := range []struct {
		method string
		rt     []xml.Name
		ok     bool
	}{
		{"MKCOL", nil, true},
		{"MKCOL", []xml.Name{dav.Name("collection")}, true},
		{"MKCOL", []xml.Name{dav.Name("collection"), {Space: dav.NSCalDAV, Local: "calendar"}}, false},
		{"MKCALENDAR", nil, false},
	} {
		if _, ok := (Kind{}).NewCollection(nil, tc.method, tc.rt); ok != tc.ok {
			t.Errorf("NewCollection(%s, %v) ok = %v, want %v", tc.method, tc.rt, ok, tc.ok)
		}
	}
}
