package dav

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// TestMemberWritersMatchElements checks that a listed object written by the
// properties' member writers (MultiStatus.addObject) is byte for byte the
// response propResponse builds and Add writes, for every property with a
// member writer and objects whose names and values need escaping.
func TestMemberWritersMatchElements(t *testing.T) {
	h := &Handler{}
	h.Init()
	var members []*Element
	for _, p := range h.props.order {
		if p.member != nil {
			members = append(members, NewElement(p.Name))
		}
	}
	if len(members) < 5 {
		t.Fatalf("only %d properties have a member writer", len(members))
	}
	owner := &store.User{ID: 1, Username: "alice"}
	col := &Resource{Type: ResCollection, Href: "/dav/calendars/alice/a%20b/", Owner: owner,
		Collection: &store.Collection{ID: 7, Name: "a b"}, Privileges: ownerPrivs}
	rq := &Request{User: owner, HTTP: httptest.NewRequest("PROPFIND", col.Href, nil)}
	when := time.Date(2026, 3, 1, 9, 30, 15, 123456000, time.FixedZone("x", 3600))
	objs := []store.Object{
		{ID: 1, Name: "plain.ics", ETag: "0123abcd", ContentType: "text/calendar; charset=utf-8; component=vevent", Size: 312, Created: when, Updated: when},
		{ID: 2, Name: "sp ace&<amp>é@x.ics", ETag: `"quoted"`, ContentType: "", Size: 0, Created: when, Updated: when.Add(time.Hour)},
		{ID: 3, Name: "ü/?#%.vcf", ETag: "a&b<c>", ContentType: "text/vcard", Size: 1 << 40},
	}
	for _, names := range [][]*Element{members, {members[len(members)-1], members[0]}, members[1:2]} {
		pr := &propRequest{names: names}
		fast := h.memberProps(col, pr)
		if fast == nil {
			t.Fatalf("memberProps refused %d member properties", len(names))
		}
		for i := range objs {
			o := &objs[i]
			want := httptest.NewRecorder()
			ms := NewMultiStatus(want)
			resp, err := h.propResponse(rq, h.objectResource(col, o), pr)
			if err != nil {
				t.Fatal(err)
			}
			ms.Add(resp)
			ms.Close("")
			got := httptest.NewRecorder()
			ms = NewMultiStatus(got)
			ms.addObject(col.collectionHref(), o, fast)
			ms.Close("")
			if got.Body.String() != want.Body.String() {
				t.Errorf("object %q:\n got %s\nwant %s", o.Name, got.Body, want.Body)
			}
		}
	}
}

// TestMemberPropsOnlyWhenSame checks that a request the member writers cannot
// answer as propResponse would goes through propResponse.
func TestMemberPropsOnlyWhenSame(t *testing.T) {
	h := &Handler{}
	h.Init()
	col := &Resource{Type: ResCollection, Href: "/dav/calendars/alice/a/"}
	etag := NewElement(Name("getetag"))
	tests := []struct {
		name string
		col  *Resource
		pr   *propRequest
	}{
		{"allprop", col, &propRequest{allprop: true}},
		{"propname", col, &propRequest{propname: true}},
		{"no properties", col, &propRequest{}},
		{"a property without a member writer", col, &propRequest{names: []*Element{etag, NewElement(Name("displayname"))}}},
		{"an unknown (dead) property", col, &propRequest{names: []*Element{etag, NewElement(Name("x-unknown"))}}},
		{"not a collection", &Resource{Type: ResHome, Href: "/dav/calendars/alice/"}, &propRequest{names: []*Element{etag}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.memberProps(tt.col, tt.pr); got != nil {
				t.Errorf("memberProps = %d properties, want nil", len(got))
			}
		})
	}
}
