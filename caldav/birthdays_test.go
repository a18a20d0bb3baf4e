package caldav

import (
	"context"
	"fmt"
	"testing"

	"github.com/davenport-dav/davenport/dav"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/testdb"
)

// getObjectsCounter counts the GetObjects calls made through it.
type getObjectsCounter struct {
	store.Store
	calls int
}

func (c *getObjectsCounter) GetObjects(ctx context.Context, collectionID int64, names []string, withBody bool) ([]store.Object, error) {
	c.calls++
	return c.Store.GetObjects(ctx, collectionID, names, withBody)
}

// TestBirthdaysRefreshReadsEventsOncePerPage: catching up with an address
// book of many changed cards reads the current events in one query per
// page of changes, not one per card, and still writes an event per date.
func TestBirthdaysRefreshReadsEventsOncePerPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		book := store.Collection{Kind: store.KindAddressBook, Name: "contacts"}
		u := &store.User{Username: "alice"}
		if err := st.CreateUser(ctx, u, []store.Collection{book, BirthdaysCollection()}); err != nil {
			t.Fatal(err)
		}
		b, err := st.GetCollection(ctx, u.ID, store.KindAddressBook, "contacts")
		if err != nil {
			t.Fatal(err)
		}
		const cards = 20
		for i := range cards {
			body := []byte(fmt.Sprintf("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:c%d\r\nFN:Card %d\r\nBDAY:--01%02d\r\nEND:VCARD\r\n", i, i, i+1))
			o := &store.Object{CollectionID: b.ID, Name: fmt.Sprintf("c%d.vcf", i), UID: fmt.Sprintf("c%d", i),
				ContentType: "text/vcard", Body: body, Size: int64(len(body)), ETag: dav.BodyETag(body)}
			if _, err := st.PutObject(ctx, o, store.PutObjectOptions{IfNoneMatch: true}); err != nil {
				t.Fatal(err)
			}
		}
		c, err := st.GetCollection(ctx, u.ID, store.KindBirthdays, BirthdaysName)
		if err != nil {
			t.Fatal(err)
		}
		counter := &getObjectsCounter{Store: st}
		if _, err := (BirthdaysKind{}).Refresh(ctx, counter, c); err != nil {
			t.Fatal(err)
		}
		if counter.calls != 1 {
			t.Errorf("refresh of %d new cards made %d GetObjects calls, want 1", cards, counter.calls)
		}
		objs, err := st.ListObjects(ctx, c.ID, store.ListObjectsOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != cards {
			t.Errorf("%d birthday events, want %d", len(objs), cards)
		}
	})
}

// TestCardDatesName: the event's name is the card's FN, else its N in
// reading order, with escapes resolved; an escaped ";" inside a name
// component does not split it (RFC 6350 §3.4).
func TestCardDatesName(t *testing.T) {
	for _, tc := range []struct{ card, want string }{
		{"BEGIN:VCARD\r\nFN:Dave\\, Jr.\r\nN:X;Y;;;\r\nEND:VCARD\r\n", "Dave, Jr."},
		{"BEGIN:VCARD\r\nN:Example;Carol;;Dr.;\r\nEND:VCARD\r\n", "Dr. Carol Example"},
		{"BEGIN:VCARD\r\nN:Smith\\;Jones;Pat;;;\r\nEND:VCARD\r\n", "Pat Smith;Jones"},
		{"BEGIN:VCARD\r\nEND:VCARD\r\n", "Unnamed contact"},
	} {
		if got, _, _ := cardDates([]byte(tc.card)); got != tc.want {
			t.Errorf("cardDates(%q) name = %q, want %q", tc.card, got, tc.want)
		}
	}
}
