package auth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// LDAPConfig configures an LDAP directory (NewLDAP).
type LDAPConfig struct {
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string
	// StartTLS upgrades an ldap:// connection with StartTLS (RFC 4513
	// §3) before anything is sent; refused for ldaps://.
	StartTLS bool
	// TLS is the TLS configuration of ldaps:// and StartTLS; nil means the
	// system roots and the URL's host name.
	TLS *tls.Config
	// BindDN and BindPassword are the service account that searches for
	// users (and groups). An empty BindDN searches anonymously.
	BindDN, BindPassword string
	// BaseDN is where users are searched for (whole subtree).
	BaseDN string
	// UserFilter finds one user; every %s is replaced by the user name,
	// escaped as RFC 4515 §3 asks. Default DefaultLDAPUserFilter.
	UserFilter string
	// DisplayNameAttr and EmailAttr map the entry's attributes to the
	// display name and the email address. Default "displayName" (falling
	// back to "cn") and "mail".
	DisplayNameAttr, EmailAttr string
	// GroupBaseDN turns group sync on: groups under it that match
	// GroupFilter are the directory's groups, named by GroupNameAttr, with
	// members (DNs) in GroupMemberAttr. Defaults "(objectClass=groupOfNames)",
	// "cn" and "member".
	GroupBaseDN, GroupFilter, GroupNameAttr, GroupMemberAttr string
	// Timeout bounds connecting and each operation. Default 5 s.
	Timeout time.Duration
}

// DefaultLDAPUserFilter matches OpenLDAP's inetOrgPerson entries by uid.
const DefaultLDAPUserFilter = "(&(objectClass=inetOrgPerson)(uid=%s))"

// groupListTTL is how long the list of the directory's group names is
// reused: it is read to know which Davenport groups the directory owns,
// and one search per uncached sign-in would cost a large directory much.
const groupListTTL = 5 * time.Minute

// LDAP is a Directory served by an LDAP server (RFC 4511): bind as the
// service account, search the user by UserFilter, bind as the entry found
// with the user's password. It opens one connection per check (checks are
// rare: successes are cached by the Authenticator).
//
// Disabled accounts are refused even when their bind would succeed: an
// entry with pwdAccountLockedTime (OpenLDAP ppolicy, RFC draft
// behera-ldap-password-policy §5.3.3), nsAccountLock: TRUE (389 Directory
// Server, FreeIPA) or the ACCOUNTDISABLE bit (2) of userAccountControl
// (Active Directory). Anything else is for UserFilter (e.g.
// (!(employeeType=left))).
type LDAP struct {
	cfg LDAPConfig
	log *slog.Logger

	mu         sync.Mutex
	groups     map[string]bool // the directory's group names, canonical
	groupsRead time.Time
}

// NewLDAP checks cfg and returns the directory. Nothing is dialled yet.
func NewLDAP(cfg LDAPConfig, logger *slog.Logger) (*LDAP, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return nil, fmt.Errorf("auth: ldap: URL %q is not ldap://host or ldaps://host", cfg.URL)
	}
	if cfg.StartTLS && u.Scheme == "ldaps" {
		return nil, errors.New("auth: ldap: StartTLS is for ldap:// URLs; ldaps:// is TLS already")
	}
	if cfg.BaseDN == "" {
		return nil, errors.New("auth: ldap: a base DN is required")
	}
	if cfg.UserFilter == "" {
		cfg.UserFilter = DefaultLDAPUserFilter
	}
	if !strings.Contains(cfg.UserFilter, "%s") {
		return nil, fmt.Errorf("auth: ldap: user filter %q has no %%s for the user name", cfg.UserFilter)
	}
	if _, err := ldap.CompileFilter(strings.ReplaceAll(cfg.UserFilter, "%s", "x")); err != nil {
		return nil, fmt.Errorf("auth: ldap: user filter %q: %v", cfg.UserFilter, err)
	}
	if cfg.DisplayNameAttr == "" {
		cfg.DisplayNameAttr = "displayName"
	}
	if cfg.EmailAttr == "" {
		cfg.EmailAttr = "mail"
	}
	if cfg.GroupFilter == "" {
		cfg.GroupFilter = "(objectClass=groupOfNames)"
	}
	if _, err := ldap.CompileFilter(cfg.GroupFilter); err != nil {
		return nil, fmt.Errorf("auth: ldap: group filter %q: %v", cfg.GroupFilter, err)
	}
	if cfg.GroupNameAttr == "" {
		cfg.GroupNameAttr = "cn"
	}
	if cfg.GroupMemberAttr == "" {
		cfg.GroupMemberAttr = "member"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.TLS == nil {
		cfg.TLS = &tls.Config{ServerName: u.Hostname()}
	}
	return &LDAP{cfg: cfg, log: logger}, nil
}

// connect dials the server, secures the connection when asked, and binds
// as the service account.
func (d *LDAP) connect() (*ldap.Conn, error) {
	c, err := ldap.DialURL(d.cfg.URL,
		ldap.DialWithDialer(&net.Dialer{Timeout: d.cfg.Timeout}),
		ldap.DialWithTLSConfig(d.cfg.TLS))
	if err != nil {
		return nil, fmt.Errorf("%w: ldap: dial: %v", ErrDirectoryUnavailable, err)
	}
	c.SetTimeout(d.cfg.Timeout)
	if d.cfg.StartTLS {
		if err := c.StartTLS(d.cfg.TLS); err != nil {
			c.Close()
			return nil, fmt.Errorf("%w: ldap: starttls: %v", ErrDirectoryUnavailable, err)
		}
	}
	if d.cfg.BindDN != "" {
		if err := c.Bind(d.cfg.BindDN, d.cfg.BindPassword); err != nil {
			c.Close()
			// A refused service account is a configuration error, but it
			// stops every directory user alike: unavailable, not a wrong
			// password of the user at hand.
			return nil, fmt.Errorf("%w: ldap: bind as the service account: %v", ErrDirectoryUnavailable, err)
		}
	}
	return c, nil
}

// unavailable classifies an error of an operation: the server gone or
// overloaded is ErrDirectoryUnavailable.
func unavailable(op string, err error) error {
	return fmt.Errorf("%w: ldap: %s: %v", ErrDirectoryUnavailable, op, err)
}

// Authenticate implements Directory.
func (d *LDAP) Authenticate(ctx context.Context, username, password string) (*DirectoryEntry, error) {
	if password == "" {
		// RFC 4513 §5.1.2: a simple bind with a DN and no password is an
		// unauthenticated bind, which many servers accept.
		return nil, ErrInvalidCredentials
	}
	return d.lookup(ctx, username, &password)
}

// Lookup implements Directory.
func (d *LDAP) Lookup(ctx context.Context, username string) (*DirectoryEntry, error) {
	return d.lookup(ctx, username, nil)
}

func (d *LDAP) lookup(ctx context.Context, username string, password *string) (*DirectoryEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := d.connect()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	// RFC 4515 §3: the user name is a value inside the filter; escaped, a
	// name like "*)(uid=*" matches nobody instead of everybody.
	filter := strings.ReplaceAll(d.cfg.UserFilter, "%s", ldap.EscapeFilter(username))
	attrs := []string{d.cfg.DisplayNameAttr, "cn", d.cfg.EmailAttr, "pwdAccountLockedTime", "nsAccountLock", "userAccountControl"}
	res, err := c.Search(ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, int(d.cfg.Timeout/time.Second), false, filter, attrs, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) || (err == nil && len(res.Entries) > 1) {
		d.log.ErrorContext(ctx, "ldap user filter matches several entries; refusing the sign-in", "user", logName(username))
		return nil, ErrDirectoryNoUser
	}
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		d.log.ErrorContext(ctx, "ldap base DN does not exist", "base_dn", d.cfg.BaseDN)
		return nil, unavailable("search", err)
	}
	if err != nil {
		return nil, unavailable("search", err)
	}
	if len(res.Entries) == 0 {
		return nil, ErrDirectoryNoUser
	}
	e := res.Entries[0]
	if why := disabled(e); why != "" {
		d.log.InfoContext(ctx, "ldap account disabled", "user", logName(username), "reason", why)
		return nil, ErrAccountDisabled
	}
	if password != nil {
		if err := c.Bind(e.DN, *password); err != nil {
			if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
				return nil, ErrInvalidCredentials
			}
			if ldap.IsErrorWithCode(err, ldap.ErrorNetwork) || ldap.IsErrorWithCode(err, ldap.LDAPResultBusy) ||
				ldap.IsErrorWithCode(err, ldap.LDAPResultUnavailable) {
				return nil, unavailable("bind", err)
			}
			// Any other refusal (an expired password, a policy) is a
			// refusal of these credentials.
			d.log.InfoContext(ctx, "ldap bind refused", "user", logName(username), "err", err)
			return nil, ErrInvalidCredentials
		}
		// The group searches below run as the service account again.
		if d.cfg.BindDN != "" {
			if err := c.Bind(d.cfg.BindDN, d.cfg.BindPassword); err != nil {
				return nil, unavailable("rebind as the service account", err)
			}
		} else if d.cfg.GroupBaseDN != "" {
			if err := c.UnauthenticatedBind(""); err != nil {
				return nil, unavailable("anonymous rebind", err)
			}
		}
	}
	entry := &DirectoryEntry{
		DisplayName: e.GetAttributeValue(d.cfg.DisplayNameAttr),
		Email:       strings.TrimPrefix(e.GetAttributeValue(d.cfg.EmailAttr), "mailto:"),
	}
	if entry.DisplayName == "" {
		entry.DisplayName = e.GetAttributeValue("cn")
	}
	if d.cfg.GroupBaseDN != "" {
		if entry.Groups, entry.DirectoryGroups, err = d.userGroups(ctx, c, e.DN); err != nil {
			return nil, err
		}
	}
	return entry, nil
}

// disabled says why an entry's account is disabled, "" when it is not.
func disabled(e *ldap.Entry) string {
	if e.GetAttributeValue("pwdAccountLockedTime") != "" {
		return "pwdAccountLockedTime"
	}
	if strings.EqualFold(e.GetAttributeValue("nsAccountLock"), "true") {
		return "nsAccountLock"
	}
	if v := e.GetAttributeValue("userAccountControl"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n&2 != 0 {
			return "userAccountControl ACCOUNTDISABLE"
		}
	}
	return ""
}

// userGroups returns the names of the groups dn is a member of, and the
// names of all the directory's groups (read at most every groupListTTL).
func (d *LDAP) userGroups(ctx context.Context, c *ldap.Conn, dn string) (mine []string, all map[string]bool, err error) {
	filter := "(&" + d.cfg.GroupFilter + "(" + ldap.EscapeFilter(d.cfg.GroupMemberAttr) + "=" + ldap.EscapeFilter(dn) + "))"
	res, err := c.Search(ldap.NewSearchRequest(d.cfg.GroupBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, int(d.cfg.Timeout/time.Second), false, filter, []string{d.cfg.GroupNameAttr}, nil))
	if err != nil {
		return nil, nil, unavailable("group search", err)
	}
	for _, e := range res.Entries {
		if n := e.GetAttributeValue(d.cfg.GroupNameAttr); n != "" {
			mine = append(mine, n)
		}
	}
	d.mu.Lock()
	all, fresh := d.groups, time.Since(d.groupsRead) < groupListTTL
	d.mu.Unlock()
	if fresh {
		return mine, all, nil
	}
	res, err = c.SearchWithPaging(ldap.NewSearchRequest(d.cfg.GroupBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, int(d.cfg.Timeout/time.Second), false, d.cfg.GroupFilter, []string{d.cfg.GroupNameAttr}, nil), 500)
	if err != nil {
		return nil, nil, unavailable("group list", err)
	}
	all = make(map[string]bool, len(res.Entries))
	for _, e := range res.Entries {
		if n := e.GetAttributeValue(d.cfg.GroupNameAttr); n != "" {
			all[canonicalGroup(n)] = true
		}
	}
	d.mu.Lock()
	d.groups, d.groupsRead = all, time.Now()
	d.mu.Unlock()
	return mine, all, nil
}
