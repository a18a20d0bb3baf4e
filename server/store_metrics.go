package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/davenport-dav/davenport/store"
)

// timedStore times the store calls on the DAV handlers' hot path (reading
// and writing collections and objects, sync, sharing) into
// davenport_store_duration_seconds{op}. The other methods pass through
// untimed: they are rare (administration, pruning) and would only add
// series. Each op's child is resolved once, so a call costs two clock
// reads and an atomic add, no allocation.
type timedStore struct {
	store.Store
	ops [numOps]prometheus.Observer
}

const (
	opGetUserByID = iota
	opGetCollection
	opListCollections
	opGetObject
	opGetObjects
	opListObjects
	opPutObject
	opDeleteObject
	opMoveObject
	opListShares
	opListGrants
	opUpdateObjectDeadProps
	opListChangesSince
	numOps
)

var opNames = [numOps]string{
	"GetUserByID", "GetCollection", "ListCollections", "GetObject", "GetObjects", "ListObjects",
	"PutObject", "DeleteObject", "MoveObject", "ListShares", "ListGrants", "UpdateObjectDeadProps",
	"ListChangesSince",
}

func newTimedStore(st store.Store, h *prometheus.HistogramVec) *timedStore {
	t := &timedStore{Store: st}
	for i, name := range opNames {
		t.ops[i] = h.WithLabelValues(name)
	}
	return t
}

func (t *timedStore) done(op int, start time.Time) { t.ops[op].Observe(time.Since(start).Seconds()) }

func (t *timedStore) GetUserByID(ctx context.Context, id int64) (*store.User, error) {
	defer t.done(opGetUserByID, time.Now())
	return t.Store.GetUserByID(ctx, id)
}

func (t *timedStore) GetCollection(ctx context.Context, ownerID int64, kind store.Kind, name string) (*store.Collection, error) {
	defer t.done(opGetCollection, time.Now())
	return t.Store.GetCollection(ctx, ownerID, kind, name)
}

func (t *timedStore) ListCollections(ctx context.Context, ownerID int64, kind store.Kind) ([]store.Collection, error) {
	defer t.done(opListCollections, time.Now())
	return t.Store.ListCollections(ctx, ownerID, kind)
}

func (t *timedStore) GetObject(ctx context.Context, collectionID int64, name string) (*store.Object, error) {
	defer t.done(opGetObject, time.Now())
	return t.Store.GetObject(ctx, collectionID, name)
}

func (t *timedStore) GetObjects(ctx context.Context, collectionID int64, names []string, withBody bool) ([]store.Object, error) {
	defer t.done(opGetObjects, time.Now())
	return t.Store.GetObjects(ctx, collectionID, names, withBody)
}

func (t *timedStore) ListObjects(ctx context.Context, collectionID int64, opts store.ListObjectsOptions) ([]store.Object, error) {
	defer t.done(opListObjects, time.Now())
	return t.Store.ListObjects(ctx, collectionID, opts)
}

func (t *timedStore) PutObject(ctx context.Context, o *store.Object, opts store.PutObjectOptions) (bool, error) {
	defer t.done(opPutObject, time.Now())
	return t.Store.PutObject(ctx, o, opts)
}

func (t *timedStore) DeleteObject(ctx context.Context, collectionID int64, name string, opts store.DeleteObjectOptions) error {
	defer t.done(opDeleteObject, time.Now())
	return t.Store.DeleteObject(ctx, collectionID, name, opts)
}

func (t *timedStore) MoveObject(ctx context.Context, fromCollectionID int64, name string, toCollectionID int64, newName string, opts store.MoveObjectOptions) (bool, error) {
	defer t.done(opMoveObject, time.Now())
	return t.Store.MoveObject(ctx, fromCollectionID, name, toCollectionID, newName, opts)
}

func (t *timedStore) ListShares(ctx context.Context, collectionID int64) ([]store.Share, error) {
	defer t.done(opListShares, time.Now())
	return t.Store.ListShares(ctx, collectionID)
}

func (t *timedStore) ListGrants(ctx context.Context, ownerID int64) ([]store.Grant, error) {
	defer t.done(opListGrants, time.Now())
	return t.Store.ListGrants(ctx, ownerID)
}

func (t *timedStore) UpdateObjectDeadProps(ctx context.Context, collectionID int64, name string, props []store.DeadProp) error {
	defer t.done(opUpdateObjectDeadProps, time.Now())
	return t.Store.UpdateObjectDeadProps(ctx, collectionID, name, props)
}

func (t *timedStore) ListChangesSince(ctx context.Context, collectionID int64, modseq int64, limit int, withBody bool) (*store.Changes, error) {
	defer t.done(opListChangesSince, time.Now())
	return t.Store.ListChangesSince(ctx, collectionID, modseq, limit, withBody)
}
