package storetest

import (
	"testing"
	"time"

	"github.com/davenport-dav/davenport/store"
)

var pushTests = []test{
	{"property changes queue their push in their transaction", testPushPropertyAtomic},
	{"a burst gathers in one message per registration", testPushCoalesce},
}

// register makes a registration of u on c for the triggers asked.
func register(t *testing.T, s store.Store, u *store.User, c *store.Collection, resource string, content, property bool) *store.PushRegistration {
	t.Helper()
	r := &store.PushRegistration{UserID: u.ID, CollectionID: c.ID, PushResource: resource, PublicKey: "k", AuthSecret: "a",
		ContentUpdate: content, PropertyUpdate: property, Expires: time.Now().Add(time.Hour)}
	if _, err := s.PutPushRegistration(t.Context(), r, 0); err != nil {
		t.Fatalf("PutPushRegistration: %v", err)
	}
	return r
}

// claimPushes claims what is due now and records it as sent, with no
// coalescing interval, so the next change is due at once.
func claimPushes(t *testing.T, s store.Store) []store.PushDelivery {
	t.Helper()
	now := time.Now()
	ds, err := s.ClaimPushDeliveries(t.Context(), now, now.Add(time.Minute), 100)
	if err != nil {
		t.Fatalf("ClaimPushDeliveries: %v", err)
	}
	var rs []store.PushResult
	for _, d := range ds {
		rs = append(rs, store.PushResult{RegistrationID: d.Registration.ID, ModSeq: d.ModSeq,
			PushOutcome: store.PushOutcome{Sent: true, NextAt: now}})
	}
	if err := s.FinishPushDeliveries(t.Context(), rs); err != nil {
		t.Fatalf("FinishPushDeliveries: %v", err)
	}
	return ds
}

// testPushPropertyAtomic: a change of a collection's properties or shares
// queues its WebDAV-Push property-update in the change's own transaction:
// a change that is made is announced (no later, separate step to lose), and
// one that fails announces nothing.
func testPushPropertyAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	owner, c := newCalendar(t, s)
	bob := newUser(t, s, "bob")
	reg := register(t, s, owner, c, "https://push.example/p", false, true)
	register(t, s, owner, c, "https://push.example/c", true, false) // content only: told nothing
	want := func(what string, n int) {
		t.Helper()
		ds := claimPushes(t, s)
		if len(ds) != n {
			t.Fatalf("%s: %d deliveries, want %d", what, len(ds), n)
		}
		if n == 1 && (ds[0].Registration.ID != reg.ID || !ds[0].Property) {
			t.Fatalf("%s: delivery %+v, want a property-update to registration %d", what, ds[0], reg.ID)
		}
	}
	name := "Renamed"
	if err := s.UpdateCollection(ctx, owner.ID, c.ID, store.CollectionPatch{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	want("PROPPATCH", 1)

	// Refused changes: not the owner's collection; a dead property
	// without a name fails the whole patch. Neither is announced.
	if err := s.UpdateCollection(ctx, bob.ID, c.ID, store.CollectionPatch{DisplayName: &name}); err == nil {
		t.Fatal("another user updated the collection")
	}
	bad := store.CollectionPatch{DisplayName: &name, DeadProps: []store.DeadProp{{Namespace: "urn:x", XML: "<x/>"}}}
	if err := s.UpdateCollection(ctx, owner.ID, c.ID, bad); err == nil {
		t.Fatal("a dead property without a name was taken")
	}
	want("failed PROPPATCH", 0)

	sh := putShare(t, s, store.Share{CollectionID: c.ID, UserID: bob.ID, Access: store.AccessRead, Status: store.SharePending})
	want("share", 1)
	if err := s.SetShareStatus(ctx, sh.ID, store.ShareAccepted); err != nil {
		t.Fatal(err)
	}
	want("share accepted", 1)
	if err := s.PutShare(ctx, &store.Share{CollectionID: c.ID, UserID: owner.ID, Access: store.AccessRead}); err == nil {
		t.Fatal("shared with the owner")
	}
	want("refused share", 0)
	if err := s.DeleteShare(ctx, c.ID, sh.ID); err != nil {
		t.Fatal(err)
	}
	want("unshare", 1)
	if err := s.DeleteShare(ctx, c.ID, sh.ID); err == nil {
		t.Fatal("a share was deleted twice")
	}
	want("failed unshare", 0)
}

// testPushCoalesce: writes during a registration's coalescing interval are
// not fanned out one by one: once the interval ends, one delivery per
// registration carries the last modseq and counts every change.
func testPushCoalesce(t *testing.T, s store.Store) {
	ctx := t.Context()
	owner, c := newCalendar(t, s)
	var regs []*store.PushRegistration
	for _, r := range []string{"https://push.example/1", "https://push.example/2", "https://push.example/3"} {
		regs = append(regs, register(t, s, owner, c, r, true, false))
	}
	putEvent(t, s, c.ID, "first.ics", "first")
	now := time.Now()
	ds, err := s.ClaimPushDeliveries(ctx, now, now.Add(time.Minute), 100)
	if err != nil || len(ds) != len(regs) {
		t.Fatalf("first change: %d deliveries (%v), want %d", len(ds), err, len(regs))
	}
	next := now.Add(10 * time.Minute) // the coalescing interval
	var rs []store.PushResult
	for _, d := range ds {
		rs = append(rs, store.PushResult{RegistrationID: d.Registration.ID, ModSeq: d.ModSeq,
			PushOutcome: store.PushOutcome{Sent: true, NextAt: next}})
	}
	if err := s.FinishPushDeliveries(ctx, rs); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		putEvent(t, s, c.ID, "e"+string(rune('a'+i))+".ics", "e"+string(rune('a'+i)))
		if ds, err := s.ClaimPushDeliveries(ctx, time.Now(), time.Now().Add(time.Minute), 100); err != nil || len(ds) != 0 {
			t.Fatalf("change %d inside the interval: %d deliveries (%v)", i, len(ds), err)
		}
	}
	last := modSeq(t, s, c)
	ds, err = s.ClaimPushDeliveries(ctx, next, next.Add(time.Minute), 100)
	if err != nil || len(ds) != len(regs) {
		t.Fatalf("after the interval: %d deliveries (%v), want %d", len(ds), err, len(regs))
	}
	for _, d := range ds {
		if d.ModSeq != last || d.Changes != 5 || d.Property {
			t.Errorf("delivery to %d: modseq %d changes %d property %v, want modseq %d, 5 changes", d.Registration.ID,
				d.ModSeq, d.Changes, d.Property, last)
		}
	}
}
