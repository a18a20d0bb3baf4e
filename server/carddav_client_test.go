package server_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	gocarddav "github.com/emersion/go-webdav/carddav"

	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// TestCardDAVGoWebdavClient drives a whole address-book session through
// go-webdav's CardDAV client (STYLE.md §8: scenarios with a real client):
// discovery from the server root, listing books, writing, reading,
// querying, multiget, sync-collection and deleting cards.
func TestCardDAVGoWebdavClient(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		hc := webdav.HTTPClientWithBasicAuth(http.DefaultClient, "alice", alicePassword)
		c, err := gocarddav.NewClient(hc, e.srv.URL+"/")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.HasSupport(ctx); err != nil {
			t.Fatalf("HasSupport: %v", err)
		}

		principal, err := c.FindCurrentUserPrincipal(ctx)
		if err != nil || principal != "/dav/principals/alice/" {
			t.Fatalf("FindCurrentUserPrincipal: %q, %v", principal, err)
		}
		home, err := c.FindAddressBookHomeSet(ctx, principal)
		if err != nil || home != "/dav/addressbooks/alice/" {
			t.Fatalf("FindAddressBookHomeSet: %q, %v", home, err)
		}
		books, err := c.FindAddressBooks(ctx, home)
		if err != nil {
			t.Fatalf("FindAddressBooks: %v", err)
		}
		if len(books) != 1 {
			t.Fatalf("FindAddressBooks: %+v, want the default book only", books)
		}
		book := books[0]
		if book.Path != contactsPath || book.Name != "Contacts" || book.MaxResourceSize != 1<<20 {
			t.Errorf("address book %+v", book)
		}
		var versions []string
		for _, d := range book.SupportedAddressData {
			if d.ContentType == "text/vcard" {
				versions = append(versions, d.Version)
			}
		}
		if !slices.Equal(versions, []string{"3.0", "4.0"}) {
			t.Errorf("supported-address-data versions %v, want 3.0 and 4.0", versions)
		}

		// Three cards: two vCard 4.0 as go-vcard writes them, one 3.0.
		newCard := func(version, uid, fn, family, given, email, emailType string) vcard.Card {
			card := vcard.Card{}
			card.SetValue(vcard.FieldVersion, version)
			card.SetValue(vcard.FieldUID, uid)
			card.SetValue(vcard.FieldFormattedName, fn)
			card.SetName(&vcard.Name{FamilyName: family, GivenName: given})
			card.Add(vcard.FieldEmail, &vcard.Field{Value: email, Params: vcard.Params{vcard.ParamType: {emailType}}})
			return card
		}
		cards := map[string]vcard.Card{
			contactsPath + "grace.vcf":  newCard("4.0", "client-grace", "Grace Hopper", "Hopper", "Grace", "grace@navy.example.org", "work"),
			contactsPath + "alan.vcf":   newCard("4.0", "client-alan", "Alan Turing", "Turing", "Alan", "alan@bletchley.example.com", "home"),
			contactsPath + "émilie.vcf": newCard("3.0", "client-emilie", "Émilie du Châtelet", "du Châtelet", "Émilie", "emilie@cirey.example.org", "home"),
		}
		etags := map[string]string{}
		for path, card := range cards {
			ao, err := c.PutAddressObject(ctx, path, card)
			if err != nil {
				t.Fatalf("PutAddressObject %s: %v", path, err)
			}
			if ao.ETag == "" {
				t.Errorf("PutAddressObject %s: no ETag", path)
			}
			etags[path] = ao.ETag
		}

		for path, want := range cards {
			ao, err := c.GetAddressObject(ctx, path)
			if err != nil {
				t.Fatalf("GetAddressObject %s: %v", path, err)
			}
			if ao.ETag != etags[path] {
				t.Errorf("GetAddressObject %s: ETag %q, PUT said %q", path, ao.ETag, etags[path])
			}
			for _, f := range []string{vcard.FieldFormattedName, vcard.FieldUID, vcard.FieldEmail, vcard.FieldVersion} {
				if got, w := ao.Card.Value(f), want.Value(f); got != w {
					t.Errorf("GetAddressObject %s: %s %q, want %q", path, f, got, w)
				}
			}
		}

		// addressbook-query: e-mail addresses at .org, FN and EMAIL only.
		found, err := c.QueryAddressBook(ctx, book.Path, &gocarddav.AddressBookQuery{
			DataRequest: gocarddav.AddressDataRequest{Props: []string{vcard.FieldFormattedName, vcard.FieldEmail}},
			PropFilters: []gocarddav.PropFilter{{
				Name:        vcard.FieldEmail,
				TextMatches: []gocarddav.TextMatch{{Text: ".ORG", MatchType: gocarddav.MatchEndsWith}},
			}},
		})
		if err != nil {
			t.Fatalf("QueryAddressBook: %v", err)
		}
		if got := cardObjectPaths(found); !slices.Equal(got, []string{contactsPath + "grace.vcf", contactsPath + "%C3%A9milie.vcf"}) &&
			!slices.Equal(got, []string{contactsPath + "grace.vcf", contactsPath + "émilie.vcf"}) {
			t.Errorf("QueryAddressBook ends-with .ORG: %v", got)
		}
		for _, ao := range found {
			if ao.Card.Value(vcard.FieldFormattedName) == "" || ao.Card.Value(vcard.FieldEmail) == "" {
				t.Errorf("query %s: FN or EMAIL missing from the selected properties: %v", ao.Path, ao.Card)
			}
			if ao.Card.Get(vcard.FieldName) != nil {
				t.Errorf("query %s: N returned although only FN and EMAIL were asked for", ao.Path)
			}
			// address-data without a version is 3.0 (RFC 6352 §10.4).
			if v := ao.Card.Value(vcard.FieldVersion); v != "3.0" {
				t.Errorf("query %s: VERSION %q, want 3.0", ao.Path, v)
			}
			if ao.ETag == "" {
				t.Errorf("query %s: no getetag", ao.Path)
			}
		}

		// allof with a param-filter and a negated text-match.
		found, err = c.QueryAddressBook(ctx, book.Path, &gocarddav.AddressBookQuery{
			DataRequest: gocarddav.AddressDataRequest{AllProp: true},
			FilterTest:  gocarddav.FilterAllOf,
			PropFilters: []gocarddav.PropFilter{
				{Name: vcard.FieldEmail, Params: []gocarddav.ParamFilter{{Name: vcard.ParamType, TextMatch: &gocarddav.TextMatch{Text: "home", MatchType: gocarddav.MatchEquals}}}},
				{Name: vcard.FieldFormattedName, TextMatches: []gocarddav.TextMatch{{Text: "émilie", NegateCondition: true}}},
			},
		})
		if err != nil {
			t.Fatalf("QueryAddressBook allof: %v", err)
		}
		if got := cardObjectPaths(found); !slices.Equal(got, []string{contactsPath + "alan.vcf"}) {
			t.Errorf("QueryAddressBook allof: %v, want alan.vcf", got)
		}
		if len(found) == 1 && found[0].Card.Value(vcard.FieldFormattedName) != "Alan Turing" {
			t.Errorf("allprop query: %v", found[0].Card)
		}

		// is-not-defined: no card has a NICKNAME.
		found, err = c.QueryAddressBook(ctx, book.Path, &gocarddav.AddressBookQuery{
			DataRequest: gocarddav.AddressDataRequest{AllProp: true},
			PropFilters: []gocarddav.PropFilter{{Name: vcard.FieldNickname, IsNotDefined: true}},
		})
		if err != nil || len(found) != 3 {
			t.Errorf("QueryAddressBook is-not-defined: %d cards, %v", len(found), err)
		}

		// multiget by the paths the query returned.
		got, err := c.MultiGetAddressBook(ctx, book.Path, &gocarddav.AddressBookMultiGet{
			Paths:       []string{contactsPath + "grace.vcf", contactsPath + "alan.vcf"},
			DataRequest: gocarddav.AddressDataRequest{AllProp: true},
		})
		if err != nil {
			t.Fatalf("MultiGetAddressBook: %v", err)
		}
		if len(got) != 2 {
			t.Fatalf("MultiGetAddressBook: %d cards, want 2", len(got))
		}
		for _, ao := range got {
			// address-data without a version is 3.0, so the 4.0 cards
			// come converted, and their getetag is the 3.0
			// representation's, the one a GET for 3.0 answers (RFC 9110
			// §8.8.3: one representation, one strong ETag).
			want := etags[ao.Path]
			if cards[ao.Path].Value(vcard.FieldVersion) != "3.0" {
				resp := e.do(request{method: "GET", path: ao.Path, header: map[string]string{"Accept": "text/vcard; version=3.0"}})
				expectStatus(t, "GET as 3.0", resp, http.StatusOK)
				// go-webdav's client hands out ETags unquoted.
				as3 := strings.Trim(resp.Header.Get("ETag"), `"`)
				if as3 == want {
					t.Errorf("GET %s as 3.0: the ETag of the stored 4.0 bytes", ao.Path)
				}
				want = as3
			}
			if ao.ETag != want {
				t.Errorf("multiget %s: ETag %q, want %q", ao.Path, ao.ETag, want)
			}
			if ao.Card.Value(vcard.FieldUID) != cards[ao.Path].Value(vcard.FieldUID) {
				t.Errorf("multiget %s: UID %q", ao.Path, ao.Card.Value(vcard.FieldUID))
			}
		}

		// sync-collection: the initial sync lists all three; after a
		// replace and a delete, the incremental one lists exactly those.
		initial, err := c.SyncCollection(ctx, book.Path, &gocarddav.SyncQuery{})
		if err != nil {
			t.Fatalf("SyncCollection: %v", err)
		}
		if len(initial.Updated) != 3 || len(initial.Deleted) != 0 || initial.SyncToken == "" {
			t.Fatalf("initial sync: %d updated, %d deleted, token %q", len(initial.Updated), len(initial.Deleted), initial.SyncToken)
		}
		grace := cards[contactsPath+"grace.vcf"]
		grace.SetValue(vcard.FieldNote, "Rear admiral")
		if _, err := c.PutAddressObject(ctx, contactsPath+"grace.vcf", grace); err != nil {
			t.Fatalf("PutAddressObject replace: %v", err)
		}
		if err := c.RemoveAll(ctx, contactsPath+"alan.vcf"); err != nil {
			t.Fatalf("RemoveAll: %v", err)
		}
		delta, err := c.SyncCollection(ctx, book.Path, &gocarddav.SyncQuery{SyncToken: initial.SyncToken})
		if err != nil {
			t.Fatalf("incremental SyncCollection: %v", err)
		}
		if p := cardObjectPaths(delta.Updated); !slices.Equal(p, []string{contactsPath + "grace.vcf"}) {
			t.Errorf("incremental sync updated %v, want grace.vcf", p)
		}
		if !slices.Equal(delta.Deleted, []string{contactsPath + "alan.vcf"}) {
			t.Errorf("incremental sync deleted %v, want alan.vcf", delta.Deleted)
		}
		if delta.SyncToken == initial.SyncToken {
			t.Errorf("the sync token did not move")
		}

		// Delete the rest; the book is empty.
		for _, p := range []string{contactsPath + "grace.vcf", contactsPath + "émilie.vcf"} {
			if err := c.RemoveAll(ctx, p); err != nil {
				t.Fatalf("RemoveAll %s: %v", p, err)
			}
		}
		if _, err := c.GetAddressObject(ctx, contactsPath+"grace.vcf"); err == nil {
			t.Errorf("GetAddressObject after delete succeeded")
		}
		found, err = c.QueryAddressBook(ctx, book.Path, &gocarddav.AddressBookQuery{DataRequest: gocarddav.AddressDataRequest{AllProp: true}})
		if err != nil || len(found) != 0 {
			t.Errorf("query of the emptied book: %d cards, %v", len(found), err)
		}
	})
}

// cardObjectPaths lists the objects' paths, sorted.
func cardObjectPaths(objs []gocarddav.AddressObject) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Path)
	}
	slices.Sort(out)
	return out
}
