package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/imip"
	"github.com/davenport-dav/davenport/push"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
	"github.com/davenport-dav/davenport/store/sqlite"
	"github.com/davenport-dav/davenport/web"
)

type serveConfig struct {
	listen, database, baseURL string
	logLevel, logFormat       string
	retention                 time.Duration
	history                   historyConfig
	maxResourceSize           byteSize
	quota                     byteSize
	trustedProxies            string
	debugListen               string
	maxConnections            int
	statementTimeout          time.Duration
	sqliteSynchronous         string
	smtp                      smtpConfig
	lmtpListen                string
	push                      bool
	pushAllowInsecure         bool
	pushSubscriber            string
	metricsListen             string
	metricsToken              string
	tls                       tlsFlags
	ldap                      ldapConfig
	oidc                      oidcConfig
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := serveConfig{maxResourceSize: 10 << 20}
	fs := flag.NewFlagSet("davenport serve", flag.ContinueOnError)
	fs.StringVar(&cfg.listen, "listen", ":8008", "address to listen on")
	fs.StringVar(&cfg.database, "database", defaultDatabase, "postgres://… URL, or sqlite:PATH / PATH for the embedded store")
	fs.StringVar(&cfg.baseURL, "base-url", "", "public URL of the server, when behind a reverse proxy")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&cfg.logFormat, "log-format", "text", "text or json")
	fs.DurationVar(&cfg.retention, "tombstone-retention", 90*24*time.Hour, "how long deletions are remembered for incremental sync")
	fs.DurationVar(&cfg.history.retention, "history-retention", 30*24*time.Hour, "how long previous versions and deleted items and collections are kept; 0 keeps none")
	fs.IntVar(&cfg.history.max, "history-max", 100, "most previous versions kept per item; 0 for no limit")
	fs.Var(&cfg.maxResourceSize, "max-resource-size", "largest calendar object or vCard accepted, a `size` such as 10MiB or 512KiB")
	fs.Var(&cfg.quota, "quota", "storage each user may fill with calendars, contacts and files, a `size` such as 5GiB; writes past it get 507 (0: no limit)")
	fs.StringVar(&cfg.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed")
	fs.StringVar(&cfg.debugListen, "debug-listen", "", "address for Go's profiler (/debug/pprof/), e.g. 127.0.0.1:6060; off when empty")
	fs.IntVar(&cfg.maxConnections, "max-connections", 256, "most requests served at once; more get 503 with Retry-After (0: no limit)")
	fs.DurationVar(&cfg.statementTimeout, "statement-timeout", 30*time.Second, "longest database work of one store call before it is cancelled with 503 (0: no limit)")
	fs.StringVar(&cfg.sqliteSynchronous, "sqlite-synchronous", "full", "embedded store durability: full (every acknowledged write survives power loss) or normal (faster; the last writes may not)")
	cfg.smtp.flags(fs)
	fs.StringVar(&cfg.lmtpListen, "lmtp-listen", "", "address (host:port, or unix:PATH) of an LMTP listener taking iMIP replies and invitations from the MTA; off when empty")
	fs.BoolVar(&cfg.push, "push", true, "serve WebDAV-Push (changes announced to DAVx5 and other clients through Web Push)")
	fs.BoolVar(&cfg.pushAllowInsecure, "push-allow-insecure", false, "send pushes to http:// and private or loopback push services too (tests, closed networks)")
	fs.StringVar(&cfg.pushSubscriber, "push-contact", "", "VAPID contact of this server for push services, a mailto: or https: URL")
	fs.StringVar(&cfg.metricsListen, "metrics-listen", "", "address serving Prometheus metrics at /metrics without a token, e.g. 127.0.0.1:9108; off when empty")
	fs.StringVar(&cfg.metricsToken, "metrics-token", "", "bearer token that opens /metrics on the main listener; without it /metrics there is 404 (use DAVENPORT_METRICS_TOKEN_FILE for a secret file)")
	cfg.tls.flags(fs)
	cfg.ldap.flags(fs)
	cfg.oidc.flags(fs)
	if err := parseFlags(fs, "davenport serve [flags]", args, stdout, stderr); err != nil {
		return err
	}
	if err := cfg.tls.validate(); err != nil {
		return err
	}
	logger, err := newLogger(stderr, cfg.logLevel, cfg.logFormat)
	if err != nil {
		return err
	}
	var proxies []netip.Prefix
	for _, p := range strings.Split(cfg.trustedProxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return fmt.Errorf("%w: --trusted-proxies: %v", errUsage, err)
		}
		proxies = append(proxies, pfx)
	}
	if cfg.maxConnections < 0 || cfg.statementTimeout < 0 {
		return fmt.Errorf("%w: --max-connections and --statement-timeout must not be negative", errUsage)
	}
	sync, err := sqlite.ParseSynchronous(cfg.sqliteSynchronous)
	if err != nil {
		return fmt.Errorf("%w: --sqlite-synchronous: %v", errUsage, err)
	}
	relay, err := cfg.smtp.relay()
	if err != nil {
		return err
	}
	adminPassword, _, err := lookupEnv(envPrefix + "ADMIN_PASSWORD")
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}

	if cfg.history.retention < 0 || cfg.history.max < 0 {
		return fmt.Errorf("%w: --history-retention and --history-max cannot be negative", errUsage)
	}
	st, err := openStoreWith(ctx, cfg.database, logger, storeOptions{statementTimeout: cfg.statementTimeout, synchronous: sync})
	if err != nil {
		return err
	}
	defer st.Close()
	if hs, ok := st.(historySwitch); ok {
		hs.SetHistory(cfg.history.retention > 0)
	}

	var https *httpsServing
	if cfg.tls.enabled() {
		if https, err = cfg.tls.https(cfg.database, logger); err != nil {
			return err
		}
		if strings.HasPrefix(cfg.baseURL, "http:") {
			logger.Warn("--base-url is http:// but this server serves HTTPS: clients will be sent to plain HTTP", "base_url", cfg.baseURL)
		}
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	container := os.Getenv(containerEnv)
	url := clientURL(cfg.baseURL, ln.Addr(), container != "", os.Hostname, https != nil, cfg.tls.acmeDomains)
	passwd := cliCommand(container, os.Executable, os.Args[0], exec.LookPath) + " user passwd admin"
	if databaseGiven(fs) {
		passwd += " --database " + databaseHint(cfg.database)
	}
	if err := firstRun(ctx, st, adminPassword, url, passwd, stdout); err != nil {
		ln.Close()
		return err
	}
	dir, err := cfg.ldap.directory(logger)
	if err != nil {
		ln.Close()
		return err
	}
	oidcCfg, err := cfg.oidc.config(cfg.baseURL, logger)
	if err != nil {
		ln.Close()
		return err
	}
	authn, err := auth.New(st, logger, auth.Options{TrustedProxies: proxies, Directory: dir,
		DirectoryGrace: cfg.ldap.grace, NewUserCollections: server.DefaultCollections})
	if err != nil {
		ln.Close()
		return err
	}
	// Another instance on the same database, or the command line, may
	// change a password: drop what this process cached of the old one.
	go authn.Watch(ctx, st)
	var pusher *push.Service
	if cfg.push {
		pusher, err = push.New(ctx, push.Config{Store: st, Logger: logger, Subscriber: cfg.pushSubscriber,
			AllowHTTP: cfg.pushAllowInsecure, AllowPrivate: cfg.pushAllowInsecure})
		if err != nil {
			ln.Close()
			return err
		}
		go pusher.Run(ctx)
	}
	srv := server.New(server.Config{
		Store: st, Auth: authn, Logger: logger,
		MaxResourceSize: int64(cfg.maxResourceSize), Version: version,
		Quota:       int64(cfg.quota),
		MaxInFlight: cfg.maxConnections,
		BaseURL:     cfg.baseURL, StoreKind: storeKind(cfg.database),
		IMIP:         relay != nil,
		Push:         pusher,
		MetricsToken: cfg.metricsToken,
		HSTSMaxAge:   cfg.tls.hstsMaxAge,
		OIDC:         oidcCfg,
	})
	if relay != nil {
		host, _ := os.Hostname()
		sender := &imip.Sender{Store: st, SMTP: *relay, Logger: logger, Hostname: host}
		go sender.Run(ctx)
		logger.Info("imip: sending through the relay", "smtp", relay)
	}
	if cfg.lmtpListen != "" {
		if err := serveLMTP(ctx, cfg.lmtpListen, &imip.Receiver{Store: st, Logger: logger, IMIP: relay != nil}); err != nil {
			ln.Close()
			return err
		}
	}
	if cfg.debugListen != "" {
		if _, err := serveDebug(ctx, cfg.debugListen, logger); err != nil {
			ln.Close()
			return err
		}
	}
	if cfg.metricsListen != "" {
		if _, err := serveMetrics(ctx, cfg.metricsListen, srv.MetricsHandler(), logger); err != nil {
			ln.Close()
			return err
		}
	}
	if https != nil {
		if cfg.tls.redirectListen != "" {
			var h http.Handler = server.HTTPSRedirect(redirectTarget(cfg.baseURL, ln.Addr()))
			if https.challenges != nil {
				h = https.challenges(h)
			}
			if _, err := serveRedirect(ctx, cfg.tls.redirectListen, h, logger); err != nil {
				ln.Close()
				return err
			}
		}
		if https.prefetch != nil {
			if ta, ok := ln.Addr().(*net.TCPAddr); ok && ta.Port != 443 {
				logger.Info("acme: the CA validates at port 443 (tls-alpn-01) or port 80 (http-01, on --http-redirect-listen): forward the one it can reach to this server",
					"addr", ln.Addr().String(), "http_redirect", cfg.tls.redirectListen)
			}
			go https.prefetch(ctx)
		}
		ln = tls.NewListener(ln, https.config)
	}
	go prune(ctx, st, cfg.retention, cfg.history, logger)
	logger.Info("davenport listening", "addr", ln.Addr().String(), "tls", https != nil, "database", describeDatabase(cfg.database), "version", version)
	return srv.Run(ctx, ln)
}

// clientURL is the URL to type into a client. Without --base-url it is
// built from the listening address: a server listening on all interfaces
// is reached from other machines by the host's name (in a container,
// whose host name means nothing outside, by localhost: the documented
// images publish the port on 127.0.0.1); loopback is localhost; any other
// address is itself. Serving HTTPS, it is https://, and with ACME the
// first domain (the certificate names no other); the scheme's default
// port is left out.
func clientURL(baseURL string, addr net.Addr, inContainer bool, hostname func() (string, error), https bool, acmeDomains []string) string {
	if baseURL != "" {
		return strings.TrimSuffix(baseURL, "/") + "/"
	}
	scheme, defaultPort := "http", "80"
	if https {
		scheme, defaultPort = "https", "443"
	}
	host, port := "localhost", "8008"
	if ta, ok := addr.(*net.TCPAddr); ok {
		port = fmt.Sprint(ta.Port)
		switch {
		case ta.IP.IsUnspecified() && !inContainer:
			if h, err := hostname(); err == nil && h != "" {
				host = h
			}
		case ta.IP.IsUnspecified(), ta.IP.IsLoopback():
		default:
			host = ta.IP.String()
		}
	}
	if len(acmeDomains) > 0 {
		host = acmeDomains[0]
	}
	if port == defaultPort {
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		return scheme + "://" + host + "/"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}

// containerEnv names the environment variable the container image sets to
// "docker" and docker-compose.yml to "compose", so that messages can name
// the command that reaches this binary from the host.
const containerEnv = envPrefix + "CONTAINER"

// cliCommand is how to run this binary's commands for the server as it was
// started: inside the compose set-up or the image, through docker; under
// `go run` (a binary in a go-build directory), with go run again; found on
// PATH, by its name; otherwise by the path it was started with.
func cliCommand(container string, executable func() (string, error), arg0 string, lookPath func(string) (string, error)) string {
	switch container {
	case "":
	case "compose":
		return "docker compose exec davenport /davenport"
	default:
		return "docker exec CONTAINER /davenport"
	}
	exe, err := executable()
	if err != nil {
		return "davenport"
	}
	if strings.Contains(filepath.ToSlash(exe), "/go-build") {
		return "go run ./cmd/davenport"
	}
	if p, err := lookPath("davenport"); err == nil && sameFile(p, exe) {
		return "davenport"
	}
	if strings.ContainsRune(arg0, filepath.Separator) || strings.ContainsRune(arg0, '/') {
		return arg0
	}
	return exe
}

func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// databaseGiven reports whether --database was on the command line: a
// command typed later finds the default and the environment by itself,
// but not a flag.
func databaseGiven(fs *flag.FlagSet) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "database" })
	return given
}

// databaseHint is --database's value for a command to copy: a path as it
// was given, quoted for a shell when needed; a PostgreSQL URL never, as it
// may carry a password.
func databaseHint(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return "'postgres://…' (the URL the server was started with)"
	}
	if strings.ContainsFunc(dsn, func(r rune) bool { return !strings.ContainsRune(shellSafe, r) }) {
		return "'" + strings.ReplaceAll(dsn, "'", `'\''`) + "'"
	}
	return dsn
}

const shellSafe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_"

// firstRun creates the admin account when the store has no users, with the
// password from DAVENPORT_ADMIN_PASSWORD or a generated one printed once.
// passwd is the command that changes the admin's password for this server
// (see cliCommand).
func firstRun(ctx context.Context, st store.Store, password, url, passwd string, stdout io.Writer) error {
	n, err := st.CountUsers(ctx)
	if err != nil {
		return fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil
	}
	generated := password == ""
	if generated {
		password = auth.GeneratePassword()
	}
	u, err := createUser(ctx, st, "admin", password, "", "Administrator")
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil // another process created it first
		}
		return fmt.Errorf("create admin: %w", err)
	}
	if err := st.SetUserAdmin(ctx, u.ID, true); err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	fmt.Fprintln(stdout, "")
	fmt.Fprintln(stdout, "  ================================================================")
	fmt.Fprintln(stdout, "  Davenport: first run — created the account", u.Username)
	fmt.Fprintln(stdout, "")
	fmt.Fprintln(stdout, "    URL for your clients:", url)
	fmt.Fprintln(stdout, "    User name:           ", u.Username)
	if generated {
		fmt.Fprintln(stdout, "    Password:            ", password)
		fmt.Fprintln(stdout, "")
		fmt.Fprintln(stdout, "  This password is shown only now. Change it with:")
		fmt.Fprintln(stdout, "    "+passwd)
	} else {
		fmt.Fprintln(stdout, "    Password:             (from DAVENPORT_ADMIN_PASSWORD)")
	}
	fmt.Fprintln(stdout, "  ================================================================")
	fmt.Fprintln(stdout, "")
	return nil
}

// historyConfig is how much version history and trash is kept.
type historyConfig struct {
	retention time.Duration // 0: none
	max       int           // versions per item; 0: no limit
}

// historySwitch is implemented by both stores: history can be turned off.
type historySwitch interface{ SetHistory(on bool) }

// prune forgets, hourly, deletions older than the tombstone retention window
// and history older than its own. Sync tokens older than what was pruned get
// DAV:valid-sync-token and the client resynchronizes in full (RFC 6578
// §3.8). It also deletes web UI sessions past their idle or absolute
// lifetime (web.DefaultSessionIdle, web.DefaultSessionMax; the UI refuses
// them anyway, this frees the rows), and WebDAV locks past their timeout
// (ignored already, RFC 4918 §6.6).
func prune(ctx context.Context, st store.Store, retention time.Duration, history historyConfig, logger *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		now := time.Now()
		n, err := st.PruneTombstones(ctx, now.Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("pruning tombstones failed", "err", err)
		case n > 0:
			logger.Info("pruned tombstones", "count", n)
		}
		n, err = st.PruneHistory(ctx, time.Now().Add(-history.retention), history.max)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("pruning history failed", "err", err)
		case n > 0:
			logger.Info("pruned history", "count", n)
		}
		n, err = st.PruneSessions(ctx, now.Add(-web.DefaultSessionIdle), now.Add(-web.DefaultSessionMax))
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("pruning sessions failed", "err", err)
		case n > 0:
			logger.Info("pruned sessions", "count", n)
		}
		n, err = st.PruneLocks(ctx, now)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("pruning locks failed", "err", err)
		case n > 0:
			logger.Info("pruned expired locks", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// storeKind names the store for the web UI's status page.
func storeKind(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return "PostgreSQL"
	}
	return "SQLite (embedded)"
}
