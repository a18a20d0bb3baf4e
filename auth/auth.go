package auth

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/davenport-dav/davenport/store"
)

// Sentinel errors of Authenticate.
var (
	// ErrInvalidCredentials: unknown user, wrong password, or credentials
	// that cannot be valid (empty, too long, control characters). Callers
	// cannot tell these apart, by design.
	ErrInvalidCredentials = errors.New("auth: invalid credentials")
	// ErrThrottled: too many recent failures from this client; no password
	// was checked. The error is a *ThrottledError carrying the wait.
	ErrThrottled = errors.New("auth: too many failed attempts")
)

// ThrottledError is returned while a client is throttled. It matches
// ErrThrottled with errors.Is.
type ThrottledError struct {
	// RetryAfter is how long until the client may try again.
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("auth: too many failed attempts, retry after %s", e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) true for a ThrottledError.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Users is the part of store.Store the Authenticator reads; store.Store
// satisfies it. GetUserCredentials runs once per request, so it must read
// the current rows every time (see the package doc).
type Users interface {
	GetUserCredentials(ctx context.Context, username string) (*store.User, []store.AppPassword, error)
}

// Options configure an Authenticator. The zero value gives the defaults noted
// on each field.
type Options struct {
	// Params are the argon2id parameters of the dummy verification run for
	// unknown usernames, so that a missing user costs as much as a wrong
	// password. Zero means DefaultParams(), which HashPassword also uses.
	// Stored hashes are always verified with the parameters they record.
	Params Params
	// CacheTTL is how long a successful verification is trusted without
	// running argon2 again. 0 means 5 minutes; negative disables the cache.
	CacheTTL time.Duration
	// CacheSize bounds the success cache. 0 means 10000.
	CacheSize int
	// MaxFailures is how many wrong passwords one user may send from one
	// client address before that pair backs off: after each further
	// failure it waits 30 s, 1 min, 2 min, … (at most MaxBackoff) before its
	// next attempt is checked. Nothing else is refused: not the same user from
	// another address, not another user from the same address. 0 means 10;
	// negative disables the back-off. An IPv6 client's whole /64 counts as
	// one address.
	MaxFailures int
	// MaxBackoff bounds the back-off of one (address, user) pair. 0 means
	// 15 minutes.
	MaxBackoff time.Duration
	// MaxFailuresPerIP is how many attempts for user names that do not
	// exist (or with credentials no account can have) one client address
	// may fail within FailureWindow; past it, such attempts from that
	// address are refused without a password check, which bounds password
	// spraying and the argon2 work it costs. Users who exist are never
	// refused by it. 0 means 100; negative disables this limit.
	MaxFailuresPerIP int
	// FailureWindow is the sliding window of MaxFailuresPerIP, and the quiet
	// spell (plus its current delay) after which a pair's failures are
	// forgotten. 0 means 5 minutes.
	FailureWindow time.Duration
	// MaxTracked bounds how many keys each failure counter holds. 0 means
	// 10000.
	MaxTracked int
	// MaxConcurrentVerifications bounds how many argon2 computations run at
	// once (each holds Params.Memory KiB while it runs); further requests
	// wait. 0 means runtime.GOMAXPROCS(0).
	MaxConcurrentVerifications int
	// TrustedProxies lists the peers whose X-Forwarded-For header is
	// believed. Empty means the client address is always r.RemoteAddr.
	TrustedProxies []netip.Prefix
	// Realm is the Basic realm in WWW-Authenticate. "" means "Davenport".
	Realm string
	// Now is the clock. nil means time.Now.
	Now func() time.Time
	// Directory, when set, authenticates the users who have no local
	// password (LDAP): a name the store does not know is looked up there
	// and, when the directory vouches for it, provisioned (Provision).
	// Users with a local password never reach the directory. The store
	// must then be a DirectoryUsers.
	Directory Directory
	// DirectoryGrace is how long a directory user's last successful check
	// still lets them in while the directory is unavailable. 0 means
	// DefaultDirectoryGrace; negative means never.
	DirectoryGrace time.Duration
	// NewUserCollections are the collections a provisioned account
	// starts with.
	NewUserCollections func() []store.Collection
}

// Defaults of Options.
const (
	DefaultCacheTTL         = 5 * time.Minute
	DefaultCacheSize        = 10000
	DefaultMaxFailures      = 10
	DefaultMaxBackoff       = 15 * time.Minute
	backoffBase             = 30 * time.Second
	DefaultMaxFailuresPerIP = 100
	DefaultFailureWindow    = 5 * time.Minute
	DefaultMaxTracked       = 10000
	DefaultRealm            = "Davenport"
	DefaultDirectoryGrace   = 24 * time.Hour
)

// Limits on credentials, checked before any lookup.
const (
	maxUsernameLen = 256  // bytes
	maxPasswordLen = 1024 // bytes; argon2 would take more, nobody types more
)

// Authenticator checks credentials against the store. It is safe for
// concurrent use.
type Authenticator struct {
	users     Users
	log       *slog.Logger
	now       func() time.Time
	keys      keyer
	epochSeed maphash.Seed
	dummyHash string
	realm     string
	trusted   []netip.Prefix
	sem       chan struct{}
	// verify is VerifyPassword; tests wrap it to count verifications.
	verify func(hash, pw string) (bool, error)

	mu       sync.Mutex
	cache    *successCache
	userIP   *backoff // key: username and client address
	unknown  *limiter // key: client address; unknown users only
	inflight map[cacheKey]*flight
	touched  map[int64]time.Time // app password id → last use recorded

	failures Failures

	dir            Directory
	newCollections func() []store.Collection
	// offline remembers directory successes for DirectoryGrace, consulted
	// only while the directory is unavailable.
	offline *successCache
}

// Failures counts refused authentications since the Authenticator was
// made, by cause, for monitoring (/metrics reads them at each scrape).
type Failures struct {
	// WrongPassword: a user who exists, with a wrong or no password.
	WrongPassword atomic.Uint64
	// UnknownUser: a name no user has, or credentials no account can have.
	UnknownUser atomic.Uint64
	// Throttled: refused unchecked while backing off (429).
	Throttled atomic.Uint64
}

// Failures returns the authenticator's failure counters.
func (a *Authenticator) Failures() *Failures { return &a.failures }

// flight is one verification in progress; identical concurrent requests (a
// client opening several connections at once) wait for it instead of each
// running argon2.
type flight struct {
	done  chan struct{}
	ok    bool
	appID int64 // the app password that matched; 0 for the account password
	err   error
	// joined counts the requests waiting for it, under Authenticator.mu.
	joined int
}

// New returns an Authenticator reading users from users (a store.Store).
// It computes one argon2 hash at opts.Params for the unknown-user path.
func New(users Users, logger *slog.Logger, opts Options) (*Authenticator, error) {
	if users == nil || logger == nil {
		return nil, errors.New("auth: new: users and logger are required")
	}
	if opts.Params == (Params{}) {
		opts.Params = DefaultParams()
	}
	if err := opts.Params.validate(); err != nil {
		return nil, fmt.Errorf("auth: new: params: %w", err)
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.MaxFailures == 0 {
		opts.MaxFailures = DefaultMaxFailures
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxFailuresPerIP == 0 {
		opts.MaxFailuresPerIP = DefaultMaxFailuresPerIP
	}
	if opts.FailureWindow <= 0 {
		opts.FailureWindow = DefaultFailureWindow
	}
	if opts.MaxTracked <= 0 {
		opts.MaxTracked = DefaultMaxTracked
	}
	if opts.MaxConcurrentVerifications <= 0 {
		opts.MaxConcurrentVerifications = runtime.GOMAXPROCS(0)
	}
	if opts.Realm == "" {
		opts.Realm = DefaultRealm
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DirectoryGrace == 0 {
		opts.DirectoryGrace = DefaultDirectoryGrace
	}
	if opts.Directory != nil {
		if _, ok := users.(DirectoryUsers); !ok {
			return nil, errors.New("auth: new: a directory needs a store that can create users")
		}
	}
	secret := make([]byte, 32)
	rand.Read(secret) // never fails (crypto/rand, Go ≥ 1.24)
	dummy, err := HashPasswordParams(GeneratePassword(), opts.Params)
	if err != nil {
		return nil, fmt.Errorf("auth: new: %w", err)
	}
	return &Authenticator{
		users:     users,
		log:       logger,
		now:       opts.Now,
		keys:      keyer{secret: secret},
		epochSeed: maphash.MakeSeed(),
		dummyHash: dummy,
		realm:     opts.Realm,
		trusted:   opts.TrustedProxies,
		sem:       make(chan struct{}, opts.MaxConcurrentVerifications),
		verify:    VerifyPassword,
		cache:     newSuccessCache(opts.CacheTTL, opts.CacheSize),
		userIP:    newBackoff(opts.MaxFailures, backoffBase, opts.MaxBackoff, opts.FailureWindow, opts.MaxTracked),
		unknown:   newLimiter(opts.MaxFailuresPerIP, opts.FailureWindow, opts.MaxTracked),
		inflight:  make(map[cacheKey]*flight),
		touched:   make(map[int64]time.Time),

		dir:            opts.Directory,
		newCollections: opts.NewUserCollections,
		offline:        newSuccessCache(opts.DirectoryGrace, opts.CacheSize),
	}, nil
}

// Authenticate returns the user whose password or one of whose app passwords
// is password; username matches in any case or Unicode form
// (store.CanonicalUsername). It fails with ErrInvalidCredentials (never
// saying whether the user exists), with a *ThrottledError (matching
// ErrThrottled) while this user at remoteIP is backing off after failures
// or remoteIP has failed too often for unknown users, or with a wrapped
// store or context error. Any caller that has a user name, a password and
// the client's address can use it: the Basic-auth Middleware and a sign-in
// form alike.
//
// Only failures count. A pair that is backing off is refused before the
// cache is consulted: a cache hit needs the right password, so answering
// from the cache then would let it test guesses at memory speed. An address
// over its limit for unknown names is answered 429 at once for a name that
// does not exist and checked as usual for one that does, so it can tell
// them apart; names are not secret (they are in every URL a user syncs),
// and refusing the address's real users is what that limit must not do.
func (a *Authenticator) Authenticate(ctx context.Context, username, password, remoteIP string) (*store.User, error) {
	u, _, err := a.Check(ctx, username, password, remoteIP)
	return u, err
}

// Check is Authenticate, reporting also whether password was one of the
// user's app passwords (which open DAV, not the web UI).
func (a *Authenticator) Check(ctx context.Context, username, password, remoteIP string) (u *store.User, appPassword bool, err error) {
	u, appID, err := a.check1(ctx, username, password, remoteIP)
	return u, appID != 0, err
}

func (a *Authenticator) check1(ctx context.Context, username, password, remoteIP string) (*store.User, int64, error) {
	// Names are case-insensitive (phones capitalise the first letter): the
	// throttle counts "Alice" and "alice" as one user, and the store looks
	// the canonical name up.
	username = store.CanonicalUsername(username)
	ip := ipKey(remoteIP)
	uk := strconv.Itoa(len(username)) + ":" + username + ip

	a.mu.Lock()
	blocked, wait := a.userIP.blocked(uk, a.now())
	a.mu.Unlock()
	if blocked {
		// The failures holding this pair back may predate an unlock or a
		// password change, made by this process or another (`davenport
		// user unlock`, `user passwd`): the user's row says, read by the
		// query every admitted request makes anyway.
		if u, _, err := a.users.GetUserCredentials(ctx, username); err == nil {
			a.mu.Lock()
			if a.userIP.stale(uk, a.userEpoch(u)) {
				a.userIP.reset(uk)
				blocked = false
			}
			a.mu.Unlock()
		}
	}
	if blocked {
		return nil, 0, a.throttled(ctx, username, remoteIP, wait)
	}

	if why := checkCredentials(username, password); why != "" {
		return nil, 0, a.failUnknown(ctx, username, remoteIP, ip, why)
	}

	// One query, on every request, cache or not: the stored hashes read
	// here are part of the cache key, so a change made by any process
	// takes effect now.
	u, apps, err := a.users.GetUserCredentials(ctx, username)
	if errors.Is(err, store.ErrNotFound) && a.dir != nil {
		return a.directory(ctx, username, password, remoteIP, ip, uk, nil, nil)
	}
	if errors.Is(err, store.ErrNotFound) {
		// An address spraying names that do not exist is refused before
		// any argon2 work.
		a.mu.Lock()
		capped, wait := a.unknown.blocked(ip, a.now())
		a.mu.Unlock()
		if capped {
			return nil, 0, a.throttled(ctx, username, remoteIP, wait)
		}
		// Spend what a wrong password would cost, so response time does not
		// tell which usernames exist.
		if _, err := a.check(ctx, a.dummyHash, password); err != nil {
			return nil, 0, err
		}
		return nil, 0, a.failUnknown(ctx, username, remoteIP, ip, "unknown user")
	}
	if err != nil {
		return nil, 0, fmt.Errorf("auth: get user credentials: %w", err)
	}
	if a.dir != nil && u.PasswordHash == "" {
		return a.directory(ctx, username, password, remoteIP, ip, uk, u, apps)
	}
	// Most users have a password and at most a few app passwords: the
	// candidates then fit in this array and need no allocation.
	var buf [4]candidate
	cands := buf[:0]
	if HasLocalPassword(u) {
		cands = append(cands, candidate{hash: u.PasswordHash})
	}
	for _, p := range apps {
		if p.PasswordHash != "" {
			cands = append(cands, candidate{hash: p.PasswordHash, appID: p.ID})
		}
	}
	if len(cands) == 0 {
		// No password at all: nothing can match, but take the usual time.
		if _, err := a.check(ctx, a.dummyHash, password); err != nil {
			return nil, 0, err
		}
		return nil, 0, a.fail(ctx, username, remoteIP, uk, a.userEpoch(u), "no password set")
	}
	key := a.keys.key(u.Username, password, cands)

	a.mu.Lock()
	appID, hit := a.cache.hit(key, a.now())
	if hit {
		a.userIP.reset(uk)
	}
	a.mu.Unlock()
	if hit {
		if a.log.Enabled(ctx, slog.LevelDebug) { // spares boxing the attributes
			a.log.DebugContext(ctx, "auth ok", "user", u.Username, "ip", remoteIP, "cached", true)
		}
		a.noteAppPassword(ctx, u.ID, appID)
		return u, appID, nil
	}

	appID, ok, counted, err := a.verifyOnce(ctx, key, uk, u, cands, password)
	var te *ThrottledError
	if errors.As(err, &te) {
		return nil, 0, a.throttled(ctx, username, remoteIP, te.RetryAfter)
	}
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		if !counted {
			// Another request checked the same password and counted the
			// failure: one guess, one failure.
			a.log.InfoContext(ctx, "auth failed", "user", logName(username), "ip", remoteIP, "reason", "wrong password")
			a.failures.WrongPassword.Add(1)
			return nil, 0, ErrInvalidCredentials
		}
		return nil, 0, a.fail(ctx, username, remoteIP, uk, a.userEpoch(u), "wrong password")
	}
	a.mu.Lock()
	a.userIP.reset(uk)
	a.mu.Unlock()
	a.log.DebugContext(ctx, "auth ok", "user", u.Username, "ip", remoteIP, "cached", false)
	a.noteAppPassword(ctx, u.ID, appID)
	return u, appID, nil
}

// AppPasswordToucher is the optional part of Users that records when an app
// password was last used (store.Store has it).
type AppPasswordToucher interface {
	TouchAppPassword(ctx context.Context, userID, id int64, at time.Time) error
}

// touchInterval bounds how often an app password's last use is written: the
// list of app passwords shows it to the minute, and a syncing device sends
// several requests a second.
const touchInterval = time.Minute

// noteAppPassword records that app password appID authenticated a request,
// at most once per touchInterval per app password and process. A failure is
// logged, never fatal to the request.
func (a *Authenticator) noteAppPassword(ctx context.Context, userID, appID int64) {
	t, ok := a.users.(AppPasswordToucher)
	if !ok || appID == 0 {
		return
	}
	now := a.now()
	a.mu.Lock()
	if last, seen := a.touched[appID]; seen && now.Sub(last) < touchInterval {
		a.mu.Unlock()
		return
	}
	if len(a.touched) >= DefaultMaxTracked {
		for id, at := range a.touched {
			if now.Sub(at) >= touchInterval {
				delete(a.touched, id)
			}
		}
		if len(a.touched) >= DefaultMaxTracked {
			clear(a.touched)
		}
	}
	a.touched[appID] = now
	a.mu.Unlock()
	if err := t.TouchAppPassword(ctx, userID, appID, now); err != nil && ctx.Err() == nil {
		a.log.WarnContext(ctx, "recording app password use failed", "app_password_id", appID, "err", err)
	}
}

// Forget drops this process's cached verifications for username. Because the
// stored hashes are part of every cache key and are read on each request, a
// changed password already stops matching everywhere on the next request;
// Forget frees the stale entries at once instead of at their expiry.
func (a *Authenticator) Forget(username string) {
	a.mu.Lock()
	a.cache.forget(username)
	a.offline.forget(username)
	a.mu.Unlock()
}

// CredentialsWatcher reports credential changes made by any process
// (store.Store has it).
type CredentialsWatcher interface {
	WatchCredentials(ctx context.Context, changed func(userID int64)) error
}

// Watch drops the cached verifications of every user whose credentials w
// reports changed, by this process or another on the same database, and
// all of them when w reports 0 (it may have missed changes), until ctx
// ends. The cache is right without it: the stored hashes are part of every
// key and are read on each request, so an old password stops matching at
// once everywhere. Watch keeps a process from holding, until the entries
// expire, verifications that can never match again, and means a password
// changed anywhere leaves nothing derived from the old one in any
// instance's memory within the notification's delivery (milliseconds).
func (a *Authenticator) Watch(ctx context.Context, w CredentialsWatcher) error {
	return w.WatchCredentials(ctx, a.ForgetUser)
}

// ForgetUser drops this process's cached verifications of the user with
// that id, or every cached verification when id is 0. A named user also
// loses the directory's offline grace (deleted or changed here); a flush
// of everything (id 0, after a missed notification) keeps the grace, which
// is about the directory being unreachable, not about this store.
func (a *Authenticator) ForgetUser(id int64) {
	a.mu.Lock()
	a.cache.forgetID(id)
	if id != 0 {
		a.offline.forgetID(id)
	}
	a.mu.Unlock()
}

// candidate is one stored hash a password may match.
type candidate struct {
	hash  string
	appID int64 // 0 for the account password
}

// checkCredentials rejects credentials no account can have, before any
// lookup. RFC 7617 §2: "The user-id and password MUST NOT contain any control
// characters"; a user-id containing a colon is invalid.
func checkCredentials(username, password string) string {
	switch {
	case username == "" || password == "":
		return "empty username or password"
	case len(username) > maxUsernameLen || len(password) > maxPasswordLen:
		return "credentials too long"
	case !utf8.ValidString(username) || !utf8.ValidString(password):
		return "credentials not UTF-8"
	case hasControl(username) || hasControl(password):
		return "control character in credentials"
	}
	return ""
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// logName bounds an attacker-chosen username before it reaches the log.
func logName(username string) string {
	const n = 64
	if len(username) <= n {
		return username
	}
	for i := n; i > 0; i-- {
		if utf8.RuneStart(username[i]) {
			return username[:i] + "…"
		}
	}
	return ""
}

// fail records a wrong password for a user who exists and returns
// ErrInvalidCredentials. The password is never logged, nor anything derived
// from it.
func (a *Authenticator) fail(ctx context.Context, username, remoteIP, uk string, epoch uint64, reason string) error {
	a.mu.Lock()
	started := a.userIP.fail(uk, a.now(), epoch)
	a.mu.Unlock()
	a.failures.WrongPassword.Add(1)
	a.log.InfoContext(ctx, "auth failed", "user", logName(username), "ip", remoteIP, "reason", reason)
	if started {
		a.log.InfoContext(ctx, "auth throttling user at address", "user", logName(username), "ip", remoteIP,
			"failures", a.userIP.free)
	}
	return ErrInvalidCredentials
}

// failUnknown records against the address a failure that names no user who
// exists, or sends credentials no account can have, and returns
// ErrInvalidCredentials.
func (a *Authenticator) failUnknown(ctx context.Context, username, remoteIP, ip, reason string) error {
	a.mu.Lock()
	reached := a.unknown.fail(ip, a.now())
	a.mu.Unlock()
	a.failures.UnknownUser.Add(1)
	a.log.InfoContext(ctx, "auth failed", "user", logName(username), "ip", remoteIP, "reason", reason)
	if reached {
		a.log.InfoContext(ctx, "auth throttling address for unknown users", "ip", remoteIP,
			"failures", a.unknown.limit, "window", a.unknown.width*nBuckets)
	}
	return ErrInvalidCredentials
}

func (a *Authenticator) throttled(ctx context.Context, username, remoteIP string, wait time.Duration) error {
	a.log.DebugContext(ctx, "auth throttled", "user", logName(username), "ip", remoteIP, "retry_after", wait)
	a.failures.Throttled.Add(1)
	return &ThrottledError{RetryAfter: wait}
}

// userEpoch identifies the state of u's credentials that failed logins are
// counted against: the password hash, which `user passwd` changes, and
// UnlockedAt, which `user unlock` moves. Never 0 (0 means unknown).
func (a *Authenticator) userEpoch(u *store.User) uint64 {
	var h maphash.Hash
	h.SetSeed(a.epochSeed)
	h.WriteString(u.PasswordHash)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(u.UnlockedAt.UnixMicro()))
	h.Write(b[:])
	return h.Sum64() | 1
}

// verifyOnce checks password against cands, sharing the work with identical
// concurrent requests, and caches a success. counted reports whether this
// request ran the check, so that a failure counts once however many
// requests shared it. Running a check is admitted by the back-off of uk
// (backoff.begin); a refusal is a *ThrottledError.
func (a *Authenticator) verifyOnce(ctx context.Context, key cacheKey, uk string, u *store.User, cands []candidate, password string) (appID int64, ok, counted bool, err error) {
	for {
		a.mu.Lock()
		f, waiting := a.inflight[key]
		if waiting {
			f.joined++
		} else {
			admitted, wait := a.userIP.begin(uk, a.now())
			if !admitted {
				a.mu.Unlock()
				return 0, false, false, &ThrottledError{RetryAfter: wait}
			}
			f = &flight{done: make(chan struct{})}
			a.inflight[key] = f
		}
		a.mu.Unlock()

		if waiting {
			select {
			case <-f.done:
			case <-ctx.Done():
				return 0, false, false, ctx.Err()
			}
			if f.err != nil && ctx.Err() == nil {
				continue // the leader's request was cancelled, not ours
			}
			return f.appID, f.ok, false, f.err
		}

		f.appID, f.ok, f.err = a.verifyAll(ctx, u, cands, password)
		a.mu.Lock()
		a.userIP.end(uk)
		delete(a.inflight, key)
		if f.ok {
			a.cache.add(key, u.Username, u.ID, f.appID, a.now())
		}
		a.mu.Unlock()
		close(f.done)
		return f.appID, f.ok, true, f.err
	}
}

// verifyAll tries the account password, then each app password. A stored
// hash that does not parse is logged and skipped: one corrupt app password
// must not lock the user out.
func (a *Authenticator) verifyAll(ctx context.Context, u *store.User, cands []candidate, password string) (appID int64, ok bool, err error) {
	for _, c := range cands {
		ok, err := a.check(ctx, c.hash, password)
		switch {
		case err == nil && ok:
			return c.appID, true, nil
		case errors.Is(err, ErrMalformedHash):
			a.log.ErrorContext(ctx, "stored password hash unusable", "user", u.Username, "app_password_id", c.appID, "err", err)
		case err != nil:
			return 0, false, err // the request's context ended
		}
	}
	return 0, false, nil
}

// check runs one verification under the concurrency bound.
func (a *Authenticator) check(ctx context.Context, hash, password string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-a.sem }()
	return a.verify(hash, password)
}
