package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/davenport-dav/davenport/store"
)

// Errors of a Directory.
var (
	// ErrDirectoryUnavailable: the directory cannot be asked (down,
	// unreachable, overloaded, or refusing the service account). The
	// Middleware answers 503 with a message saying so.
	ErrDirectoryUnavailable = errors.New("auth: account directory unavailable")
	// ErrDirectoryNoUser: the directory has no such user (or the user
	// filter matches several entries).
	ErrDirectoryNoUser = errors.New("auth: no such user in the directory")
	// ErrAccountDisabled: the directory has the user, disabled.
	ErrAccountDisabled = errors.New("auth: account disabled in the directory")
)

// Directory is an external store of accounts (LDAP) that Authenticate asks
// about users who have no local password.
type Directory interface {
	// Authenticate checks username's password in the directory and returns
	// the user's entry: ErrInvalidCredentials for a wrong password,
	// ErrDirectoryNoUser, ErrAccountDisabled, or an error wrapping
	// ErrDirectoryUnavailable.
	Authenticate(ctx context.Context, username, password string) (*DirectoryEntry, error)
	// Lookup returns username's entry without a password (for a user who
	// signed in with an app password), with the errors of Authenticate.
	Lookup(ctx context.Context, username string) (*DirectoryEntry, error)
}

// OIDCPasswordHash is the PasswordHash of an account made by an OIDC
// sign-in: not a hash (nothing verifies against it), and not "" (the mark
// of an account the Directory authenticates), so that with both set up
// the directory never judges an OIDC account, whose app passwords keep
// working.
const OIDCPasswordHash = "!oidc"

// HasLocalPassword reports whether u signs in with a password of its own
// (not one kept by a directory or an OIDC provider).
func HasLocalPassword(u *store.User) bool {
	return u.PasswordHash != "" && u.PasswordHash != OIDCPasswordHash
}

// DirectoryEntry is what an external directory (LDAP, an OIDC provider)
// says of a user.
type DirectoryEntry struct {
	// OIDC marks an entry from an OIDC provider: a new account gets
	// OIDCPasswordHash instead of "".
	OIDC        bool
	DisplayName string
	Email       string
	// Groups are the names of the user's groups; nil when group sync is
	// off.
	Groups []string
	// DirectoryGroups are the canonical names of every group the directory
	// owns: the user is removed from those among them that are not in
	// Groups. Davenport's other groups are left alone.
	DirectoryGroups map[string]bool
}

// DirectoryUsers is the part of store.Store that provisioning writes;
// store.Store satisfies it.
type DirectoryUsers interface {
	Users
	CreateUser(ctx context.Context, u *store.User, collections []store.Collection) error
	GetUser(ctx context.Context, username string) (*store.User, error)
	SetDisplayName(ctx context.Context, userID int64, displayName string) error
	SetEmail(ctx context.Context, userID int64, email string) error
	CreateGroup(ctx context.Context, g *store.Group) error
	GetGroup(ctx context.Context, name string) (*store.Group, error)
	AddGroupMember(ctx context.Context, groupID, userID int64) error
	RemoveGroupMember(ctx context.Context, groupID, userID int64) error
	ListUserGroups(ctx context.Context, userID int64) ([]store.Group, error)
}

func canonicalGroup(name string) string { return store.CanonicalUsername(name) }

// Provision returns the account of a user the directory (or an OIDC
// provider) vouched for, as e describes them: made on first sign-in with
// its home and default collections (Options.NewUserCollections) and no
// local password, otherwise brought up to date (display name, email,
// groups). u is the account as already read, nil when there is none.
func (a *Authenticator) Provision(ctx context.Context, username string, u *store.User, e *DirectoryEntry) (*store.User, error) {
	ds, ok := a.users.(DirectoryUsers)
	if !ok {
		return nil, errors.New("auth: provision: the store cannot create users")
	}
	username = store.CanonicalUsername(username)
	if u == nil {
		if err := store.ValidateUsername(username); err != nil {
			return nil, fmt.Errorf("auth: provision %q: %w", logName(username), err)
		}
		var cols []store.Collection
		if a.newCollections != nil {
			cols = a.newCollections()
		}
		nu := &store.User{Username: username, DisplayName: e.DisplayName, Email: e.Email}
		if e.OIDC {
			nu.PasswordHash = OIDCPasswordHash
		}
		err := ds.CreateUser(ctx, nu, cols)
		switch {
		case err == nil:
			a.log.InfoContext(ctx, "account provisioned", "user", nu.Username)
			u = nu
		case errors.Is(err, store.ErrConflict):
			// Another request provisioned it first.
			if u, err = ds.GetUser(ctx, username); err != nil {
				return nil, fmt.Errorf("auth: provision: %w", err)
			}
		default:
			return nil, fmt.Errorf("auth: provision: %w", err)
		}
	}
	if e.DisplayName != "" && e.DisplayName != u.DisplayName {
		if err := ds.SetDisplayName(ctx, u.ID, e.DisplayName); err != nil {
			return nil, fmt.Errorf("auth: provision: %w", err)
		}
		u.DisplayName = e.DisplayName
	}
	if e.Email != "" && e.Email != u.Email {
		if err := ds.SetEmail(ctx, u.ID, e.Email); err != nil {
			return nil, fmt.Errorf("auth: provision: %w", err)
		}
		u.Email = e.Email
	}
	if e.Groups != nil {
		if err := a.syncGroups(ctx, ds, u, e); err != nil {
			return nil, fmt.Errorf("auth: provision: group sync: %w", err)
		}
	}
	return u, nil
}

// syncGroups makes u a member of exactly its directory groups among the
// groups the directory owns, creating the missing ones.
func (a *Authenticator) syncGroups(ctx context.Context, ds DirectoryUsers, u *store.User, e *DirectoryEntry) error {
	have, err := ds.ListUserGroups(ctx, u.ID)
	if err != nil {
		return err
	}
	want := make(map[string]string, len(e.Groups)) // canonical → as the directory spells it
	for _, g := range e.Groups {
		want[canonicalGroup(g)] = g
	}
	for _, g := range have {
		if _, ok := want[g.Name]; ok {
			delete(want, g.Name)
			continue
		}
		if e.DirectoryGroups[g.Name] {
			if err := ds.RemoveGroupMember(ctx, g.ID, u.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			a.log.InfoContext(ctx, "directory group left", "user", u.Username, "group", g.Name)
		}
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		g, err := ds.GetGroup(ctx, n)
		if errors.Is(err, store.ErrNotFound) {
			if verr := store.ValidateUsername(n); verr != nil {
				a.log.WarnContext(ctx, "directory group name not usable; skipped", "group", want[n], "err", verr)
				continue
			}
			g = &store.Group{Name: n, DisplayName: want[n]}
			if err = ds.CreateGroup(ctx, g); errors.Is(err, store.ErrConflict) {
				g, err = ds.GetGroup(ctx, n)
			}
		}
		if err != nil {
			return err
		}
		if err := ds.AddGroupMember(ctx, g.ID, u.ID); err != nil {
			return err
		}
		a.log.InfoContext(ctx, "directory group joined", "user", u.Username, "group", g.Name)
	}
	return nil
}

// dirKeyPrefix sets the cache keys of directory checks apart from those of
// local passwords: no user name starts with a NUL.
const dirKeyPrefix = "\x00directory\x00"

// directory authenticates a user who has no local password: u is their
// account (nil when there is none yet), apps their app passwords. An app
// password is checked here as for any user, then the directory is asked
// whether the account is still there and enabled; any other password is
// checked by the directory. A success is cached for the cache TTL like a
// local one, and kept for DirectoryGrace to let the user in while the
// directory is unavailable; without one, that is ErrDirectoryUnavailable.
func (a *Authenticator) directory(ctx context.Context, username, password, remoteIP, ip, uk string, u *store.User, apps []store.AppPassword) (*store.User, int64, error) {
	if u == nil {
		// An address spraying names nobody has is refused before the
		// directory is asked, as before any argon2 work for local names.
		a.mu.Lock()
		capped, wait := a.unknown.blocked(ip, a.now())
		a.mu.Unlock()
		if capped {
			return nil, 0, a.throttled(ctx, username, remoteIP, wait)
		}
		if store.ValidateUsername(username) != nil {
			// No account could be made for it, whatever the directory says.
			return nil, 0, a.failUnknown(ctx, username, remoteIP, ip, "user name not valid here")
		}
	}
	var cands []candidate
	for _, p := range apps {
		if p.PasswordHash != "" {
			cands = append(cands, candidate{hash: p.PasswordHash, appID: p.ID})
		}
	}
	key := a.keys.key(dirKeyPrefix+username, password, cands)
	now := a.now()
	a.mu.Lock()
	appID, hit := a.cache.hit(key, now)
	if hit && u != nil {
		a.userIP.reset(uk)
	}
	a.mu.Unlock()
	if hit && u != nil {
		a.log.DebugContext(ctx, "auth ok", "user", u.Username, "ip", remoteIP, "cached", true, "directory", true)
		a.noteAppPassword(ctx, u.ID, appID)
		return u, appID, nil
	}

	a.mu.Lock()
	admitted, wait := a.userIP.begin(uk, now)
	a.mu.Unlock()
	if !admitted {
		return nil, 0, a.throttled(ctx, username, remoteIP, wait)
	}
	defer func() {
		a.mu.Lock()
		a.userIP.end(uk)
		a.mu.Unlock()
	}()
	appID, isApp := int64(0), false
	if len(cands) > 0 {
		var err error
		if appID, isApp, err = a.verifyAll(ctx, u, cands, password); err != nil {
			return nil, 0, err
		}
	}
	var e *DirectoryEntry
	var err error
	if isApp {
		e, err = a.dir.Lookup(ctx, username)
	} else {
		e, err = a.dir.Authenticate(ctx, username, password)
	}
	epoch := uint64(1)
	if u != nil {
		epoch = a.userEpoch(u)
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrDirectoryUnavailable):
		a.mu.Lock()
		_, known := a.offline.hit(a.keys.key(dirKeyPrefix+username, password, nil), a.now())
		a.mu.Unlock()
		if u != nil && (isApp || known) {
			// App passwords are Davenport's own credentials, and the
			// directory vouched for this password within the grace period.
			a.log.WarnContext(ctx, "directory unavailable; letting a known user in", "user", u.Username, "ip", remoteIP, "err", err)
			a.noteAppPassword(ctx, u.ID, appID)
			return u, appID, nil
		}
		a.log.WarnContext(ctx, "directory unavailable", "user", logName(username), "ip", remoteIP, "err", err)
		return nil, 0, err
	case errors.Is(err, ErrInvalidCredentials):
		return nil, 0, a.fail(ctx, username, remoteIP, uk, epoch, "wrong password")
	case errors.Is(err, ErrAccountDisabled):
		a.forgetDirectory(username)
		return nil, 0, a.fail(ctx, username, remoteIP, uk, epoch, "account disabled in the directory")
	case errors.Is(err, ErrDirectoryNoUser):
		a.forgetDirectory(username)
		if u == nil {
			return nil, 0, a.failUnknown(ctx, username, remoteIP, ip, "unknown user")
		}
		return nil, 0, a.fail(ctx, username, remoteIP, uk, epoch, "no longer in the directory")
	default:
		return nil, 0, err
	}
	u, err = a.Provision(ctx, username, u, e)
	if err != nil {
		return nil, 0, err
	}
	now = a.now()
	a.mu.Lock()
	a.userIP.reset(uk)
	a.cache.add(key, u.Username, u.ID, appID, now)
	a.mu.Unlock()
	if !isApp {
		// Keyed without the app passwords, which may change while the
		// directory is down; only passwords the directory checked.
		okey := a.keys.key(dirKeyPrefix+username, password, nil)
		a.mu.Lock()
		a.offline.add(okey, u.Username, u.ID, 0, now)
		a.mu.Unlock()
	}
	a.log.DebugContext(ctx, "auth ok", "user", u.Username, "ip", remoteIP, "cached", false, "directory", true)
	a.noteAppPassword(ctx, u.ID, appID)
	return u, appID, nil
}

// forgetDirectory drops the cached directory successes of a user the
// directory no longer vouches for, so that an outage that follows does not
// let them back in.
func (a *Authenticator) forgetDirectory(username string) {
	a.mu.Lock()
	a.cache.forget(username)
	a.offline.forget(username)
	a.mu.Unlock()
}
