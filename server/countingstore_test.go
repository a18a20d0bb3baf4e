package server_test

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// countingStore is a real store that counts its read calls (every Get…,
// List…, Count…, Search… method, GrantOf and FreeBusyEveryone: one query
// or read transaction each), for tests that pin how many a request costs.
// Generated from store.Store's method set; writes pass through uncounted.
type countingStore struct {
	store.Store
	reads atomic.Int64
}

func (s *countingStore) GetUser(ctx context.Context, username string) (*store.User, error) {
	s.reads.Add(1)
	return s.Store.GetUser(ctx, username)
}

func (s *countingStore) GetUserCredentials(ctx context.Context, username string) (*store.User, []store.AppPassword, error) {
	s.reads.Add(1)
	return s.Store.GetUserCredentials(ctx, username)
}

func (s *countingStore) GetUserByID(ctx context.Context, id int64) (*store.User, error) {
	s.reads.Add(1)
	return s.Store.GetUserByID(ctx, id)
}

func (s *countingStore) GetUsersByID(ctx context.Context, ids []int64) ([]store.User, error) {
	s.reads.Add(1)
	return s.Store.GetUsersByID(ctx, ids)
}

func (s *countingStore) ListUsers(ctx context.Context) ([]store.User, error) {
	s.reads.Add(1)
	return s.Store.ListUsers(ctx)
}

func (s *countingStore) CountUsers(ctx context.Context) (int, error) {
	s.reads.Add(1)
	return s.Store.CountUsers(ctx)
}

func (s *countingStore) ListAppPasswords(ctx context.Context, userID int64) ([]store.AppPassword, error) {
	s.reads.Add(1)
	return s.Store.ListAppPasswords(ctx, userID)
}

func (s *countingStore) GetCollection(ctx context.Context, ownerID int64, kind store.Kind, name string) (*store.Collection, error) {
	s.reads.Add(1)
	return s.Store.GetCollection(ctx, ownerID, kind, name)
}

func (s *countingStore) ListCollections(ctx context.Context, ownerID int64, kind store.Kind) ([]store.Collection, error) {
	s.reads.Add(1)
	return s.Store.ListCollections(ctx, ownerID, kind)
}

func (s *countingStore) ListDeadProps(ctx context.Context, collectionID int64) ([]store.DeadProp, error) {
	s.reads.Add(1)
	return s.Store.ListDeadProps(ctx, collectionID)
}

func (s *countingStore) GetObject(ctx context.Context, collectionID int64, name string) (*store.Object, error) {
	s.reads.Add(1)
	return s.Store.GetObject(ctx, collectionID, name)
}

func (s *countingStore) GetObjects(ctx context.Context, collectionID int64, names []string, withBody bool) ([]store.Object, error) {
	s.reads.Add(1)
	return s.Store.GetObjects(ctx, collectionID, names, withBody)
}

func (s *countingStore) ListObjects(ctx context.Context, collectionID int64, opts store.ListObjectsOptions) ([]store.Object, error) {
	s.reads.Add(1)
	return s.Store.ListObjects(ctx, collectionID, opts)
}

func (s *countingStore) GetGroup(ctx context.Context, name string) (*store.Group, error) {
	s.reads.Add(1)
	return s.Store.GetGroup(ctx, name)
}

func (s *countingStore) ListGroups(ctx context.Context) ([]store.Group, error) {
	s.reads.Add(1)
	return s.Store.ListGroups(ctx)
}

func (s *countingStore) ListGroupMembers(ctx context.Context, groupID int64) ([]store.User, error) {
	s.reads.Add(1)
	return s.Store.ListGroupMembers(ctx, groupID)
}

func (s *countingStore) ListUserGroups(ctx context.Context, userID int64) ([]store.Group, error) {
	s.reads.Add(1)
	return s.Store.ListUserGroups(ctx, userID)
}

func (s *countingStore) GetUserByEmail(ctx context.Context, email string) (*store.User, error) {
	s.reads.Add(1)
	return s.Store.GetUserByEmail(ctx, email)
}

func (s *countingStore) SearchPrincipals(ctx context.Context, prefix string, fields store.SearchField, limit int) (found []store.Principal, more bool, err error) {
	s.reads.Add(1)
	return s.Store.SearchPrincipals(ctx, prefix, fields, limit)
}

func (s *countingStore) ListShares(ctx context.Context, collectionID int64) ([]store.Share, error) {
	s.reads.Add(1)
	return s.Store.ListShares(ctx, collectionID)
}

func (s *countingStore) ListOwnerShares(ctx context.Context, ownerID int64) ([]store.Share, error) {
	s.reads.Add(1)
	return s.Store.ListOwnerShares(ctx, ownerID)
}

func (s *countingStore) ListInvitations(ctx context.Context, userID int64) ([]store.Invitation, error) {
	s.reads.Add(1)
	return s.Store.ListInvitations(ctx, userID)
}

func (s *countingStore) ListSharedCollections(ctx context.Context, userID int64, kind store.Kind) ([]store.SharedCollection, error) {
	s.reads.Add(1)
	return s.Store.ListSharedCollections(ctx, userID, kind)
}

func (s *countingStore) GetSharedCollection(ctx context.Context, userID, collectionID int64) (*store.SharedCollection, error) {
	s.reads.Add(1)
	return s.Store.GetSharedCollection(ctx, userID, collectionID)
}

func (s *countingStore) ListGrants(ctx context.Context, ownerID int64) ([]store.Grant, error) {
	s.reads.Add(1)
	return s.Store.ListGrants(ctx, ownerID)
}

func (s *countingStore) ListGrantsTo(ctx context.Context, userID int64) ([]store.Grant, error) {
	s.reads.Add(1)
	return s.Store.ListGrantsTo(ctx, userID)
}

func (s *countingStore) GrantOf(ctx context.Context, ownerID, userID int64) (store.GrantAccess, error) {
	s.reads.Add(1)
	return s.Store.GrantOf(ctx, ownerID, userID)
}

func (s *countingStore) FreeBusyEveryone(ctx context.Context, userID int64) (bool, error) {
	s.reads.Add(1)
	return s.Store.FreeBusyEveryone(ctx, userID)
}

func (s *countingStore) ListPublicLinks(ctx context.Context, collectionID int64) ([]store.PublicLink, error) {
	s.reads.Add(1)
	return s.Store.ListPublicLinks(ctx, collectionID)
}

func (s *countingStore) GetPublicLink(ctx context.Context, token string) (*store.PublicLink, *store.Collection, error) {
	s.reads.Add(1)
	return s.Store.GetPublicLink(ctx, token)
}

func (s *countingStore) ListObjectDeadProps(ctx context.Context, objectID int64) ([]store.DeadProp, error) {
	s.reads.Add(1)
	return s.Store.ListObjectDeadProps(ctx, objectID)
}

func (s *countingStore) ListMail(ctx context.Context) ([]store.Mail, error) {
	s.reads.Add(1)
	return s.Store.ListMail(ctx)
}

func (s *countingStore) CountMail(ctx context.Context, now time.Time) (due, waiting int, err error) {
	s.reads.Add(1)
	return s.Store.CountMail(ctx, now)
}

func (s *countingStore) ListDerivedCursors(ctx context.Context, collectionID int64) (map[int64]int64, error) {
	s.reads.Add(1)
	return s.Store.ListDerivedCursors(ctx, collectionID)
}

func (s *countingStore) ListChangesSince(ctx context.Context, collectionID int64, modseq int64, limit int, withBody bool) (*store.Changes, error) {
	s.reads.Add(1)
	return s.Store.ListChangesSince(ctx, collectionID, modseq, limit, withBody)
}

func (s *countingStore) ListVersions(ctx context.Context, ownerID int64, f store.HistoryFilter) ([]store.Version, error) {
	s.reads.Add(1)
	return s.Store.ListVersions(ctx, ownerID, f)
}

func (s *countingStore) GetVersion(ctx context.Context, ownerID, id int64) (*store.Version, error) {
	s.reads.Add(1)
	return s.Store.GetVersion(ctx, ownerID, id)
}

func (s *countingStore) ListTrashedCollections(ctx context.Context, ownerID int64) ([]store.TrashedCollection, error) {
	s.reads.Add(1)
	return s.Store.ListTrashedCollections(ctx, ownerID)
}

func (s *countingStore) GetAccount(ctx context.Context, userID int64) (*store.Account, error) {
	s.reads.Add(1)
	return s.Store.GetAccount(ctx, userID)
}

func (s *countingStore) ListAccounts(ctx context.Context) ([]store.Account, error) {
	s.reads.Add(1)
	return s.Store.ListAccounts(ctx)
}

func (s *countingStore) ListCollectionTotals(ctx context.Context, ownerID int64) ([]store.CollectionTotals, error) {
	s.reads.Add(1)
	return s.Store.ListCollectionTotals(ctx, ownerID)
}

func (s *countingStore) ListLocks(ctx context.Context, path string) ([]store.Lock, error) {
	s.reads.Add(1)
	return s.Store.ListLocks(ctx, path)
}

func (s *countingStore) GetSession(ctx context.Context, id string) (*store.Session, error) {
	s.reads.Add(1)
	return s.Store.GetSession(ctx, id)
}

func (s *countingStore) GetPushRegistration(ctx context.Context, userID, id int64) (*store.PushRegistration, error) {
	s.reads.Add(1)
	return s.Store.GetPushRegistration(ctx, userID, id)
}

func (s *countingStore) ListPushRegistrations(ctx context.Context, userID int64) ([]store.PushRegistration, error) {
	s.reads.Add(1)
	return s.Store.ListPushRegistrations(ctx, userID)
}
