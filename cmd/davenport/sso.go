package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/web"
)

// ldapConfig is the LDAP directory of serve (auth.LDAP). The bind password
// comes from --ldap-bind-password, DAVENPORT_LDAP_BIND_PASSWORD or the
// file named by DAVENPORT_LDAP_BIND_PASSWORD_FILE; it is never logged.
type ldapConfig struct {
	url, bindDN, bindPassword, baseDN, userFilter string
	displayNameAttr, emailAttr                    string
	startTLS                                      bool
	caFile                                        string
	groupBaseDN, groupFilter, groupNameAttr       string
	groupMemberAttr                               string
	grace                                         time.Duration
}

func (c *ldapConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.url, "ldap-url", "", "LDAP directory for users without a local password, ldap://host or ldaps://host; off when empty")
	fs.StringVar(&c.bindDN, "ldap-bind-dn", "", "DN of the service account that searches the directory (empty: anonymous)")
	fs.StringVar(&c.bindPassword, "ldap-bind-password", "", "its password (better: DAVENPORT_LDAP_BIND_PASSWORD_FILE)")
	fs.StringVar(&c.baseDN, "ldap-base-dn", "", "where users are searched for, e.g. ou=people,dc=example,dc=org")
	fs.StringVar(&c.userFilter, "ldap-user-filter", auth.DefaultLDAPUserFilter, "filter finding one user; %s is the user name (escaped)")
	fs.StringVar(&c.displayNameAttr, "ldap-display-name-attr", "displayName", "attribute holding the display name (cn when empty)")
	fs.StringVar(&c.emailAttr, "ldap-email-attr", "mail", "attribute holding the email address (the calendar user address)")
	fs.BoolVar(&c.startTLS, "ldap-starttls", false, "upgrade an ldap:// connection with StartTLS")
	fs.StringVar(&c.caFile, "ldap-ca-file", "", "PEM file of the CA certificates trusted for ldaps:// and StartTLS (default: the system's)")
	fs.StringVar(&c.groupBaseDN, "ldap-group-base-dn", "", "where groups are searched for; sets group sync on (the directory's groups become Davenport's sharing groups)")
	fs.StringVar(&c.groupFilter, "ldap-group-filter", "(objectClass=groupOfNames)", "filter matching the directory's groups")
	fs.StringVar(&c.groupNameAttr, "ldap-group-name-attr", "cn", "attribute naming a group")
	fs.StringVar(&c.groupMemberAttr, "ldap-group-member-attr", "member", "attribute listing a group's members by DN")
	fs.DurationVar(&c.grace, "ldap-offline-grace", auth.DefaultDirectoryGrace, "while the directory is unreachable, users it vouched for within this long still sign in (0: the default; negative: never)")
}

// directory returns the configured directory, nil when --ldap-url is empty.
func (c *ldapConfig) directory(logger *slog.Logger) (auth.Directory, error) {
	if c.url == "" {
		return nil, nil
	}
	cfg := auth.LDAPConfig{
		URL: c.url, StartTLS: c.startTLS, BindDN: c.bindDN, BindPassword: c.bindPassword,
		BaseDN: c.baseDN, UserFilter: c.userFilter, DisplayNameAttr: c.displayNameAttr, EmailAttr: c.emailAttr,
		GroupBaseDN: c.groupBaseDN, GroupFilter: c.groupFilter, GroupNameAttr: c.groupNameAttr, GroupMemberAttr: c.groupMemberAttr,
	}
	if c.caFile != "" {
		pem, err := os.ReadFile(c.caFile)
		if err != nil {
			return nil, fmt.Errorf("%w: --ldap-ca-file: %v", errUsage, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: --ldap-ca-file %s holds no PEM certificate", errUsage, c.caFile)
		}
		cfg.TLS = &tls.Config{RootCAs: pool}
	}
	d, err := auth.NewLDAP(cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	logger.Info("ldap: users without a local password sign in through the directory", "url", c.url, "base_dn", c.baseDN,
		"group_sync", c.groupBaseDN != "")
	return d, nil
}

// oidcConfig is the OpenID Connect provider of the web UI (web.OIDCConfig).
// The client secret comes from --oidc-client-secret,
// DAVENPORT_OIDC_CLIENT_SECRET or the file named by
// DAVENPORT_OIDC_CLIENT_SECRET_FILE; it is never logged.
type oidcConfig struct {
	issuer, clientID, clientSecret, name   string
	usernameClaim, groupsClaim, adminGroup string
}

func (c *oidcConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.issuer, "oidc-issuer", "", "OpenID Connect issuer URL for \"Sign in with …\" in the web UI; off when empty")
	fs.StringVar(&c.clientID, "oidc-client-id", "", "this server's client id at the provider")
	fs.StringVar(&c.clientSecret, "oidc-client-secret", "", "its client secret (better: DAVENPORT_OIDC_CLIENT_SECRET_FILE)")
	fs.StringVar(&c.name, "oidc-name", "single sign-on", "the provider's name on the sign-in button")
	fs.StringVar(&c.usernameClaim, "oidc-username-claim", "preferred_username", "ID token claim that is the user name")
	fs.StringVar(&c.groupsClaim, "oidc-groups-claim", "groups", "ID token claim listing the user's groups")
	fs.StringVar(&c.adminGroup, "oidc-admin-group", "", "members of this provider group get the admin role (and lose it when they leave it)")
}

// config returns the web UI's provider, nil when --oidc-issuer is empty.
func (c *oidcConfig) config(baseURL string, logger *slog.Logger) (*web.OIDCConfig, error) {
	if c.issuer == "" {
		return nil, nil
	}
	if c.clientID == "" {
		return nil, fmt.Errorf("%w: --oidc-issuer needs --oidc-client-id", errUsage)
	}
	cfg := &web.OIDCConfig{Issuer: c.issuer, ClientID: c.clientID, ClientSecret: c.clientSecret, Name: c.name,
		UsernameClaim: c.usernameClaim, GroupsClaim: c.groupsClaim, AdminGroup: c.adminGroup}
	if baseURL != "" {
		cfg.RedirectURL = strings.TrimSuffix(baseURL, "/") + web.OIDCCallbackPath
	} else {
		logger.Warn("oidc: without --base-url the redirect URL is taken from each request's Host; register " +
			"https://YOUR-HOST" + web.OIDCCallbackPath + " with the provider and set --base-url")
	}
	logger.Info("oidc: web sign-in through the provider", "issuer", c.issuer, "client_id", c.clientID, "redirect_url", cfg.RedirectURL)
	return cfg, nil
}
