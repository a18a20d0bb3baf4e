package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/davenport-dav/davenport/auth"
	"github.com/davenport-dav/davenport/server"
	"github.com/davenport-dav/davenport/store"
)

type serveConfig struct {
	listen, database, baseURL string
	logLevel, logFormat       string
	retention                 time.Duration
	maxResourceSize           byteSize
	trustedProxies            string
	debugListen               string
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
	fs.Var(&cfg.maxResourceSize, "max-resource-size", "largest calendar object or vCard accepted, a `size` such as 10MiB or 512KiB")
	fs.StringVar(&cfg.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed")
	fs.StringVar(&cfg.debugListen, "debug-listen", "", "address for Go's profiler (/debug/pprof/), e.g. 127.0.0.1:6060; off when empty")
	if err := parseFlags(fs, "davenport serve [flags]", args, stdout, stderr); err != nil {
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
	adminPassword, _, err := lookupEnv(envPrefix + "ADMIN_PASSWORD")
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}

	st, err := openStore(ctx, cfg.database, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := firstRun(ctx, st, adminPassword, clientURL(cfg.baseURL, ln.Addr()), stdout); err != nil {
		ln.Close()
		return err
	}
	authn, err := auth.New(st, logger, auth.Options{TrustedProxies: proxies})
	if err != nil {
		ln.Close()
		return err
	}
	srv := server.New(server.Config{
		Store: st, Auth: authn, Logger: logger,
		MaxResourceSize: int64(cfg.maxResourceSize), Version: version,
	})
	if cfg.debugListen != "" {
		if _, err := serveDebug(ctx, cfg.debugListen, logger); err != nil {
			ln.Close()
			return err
		}
	}
	go pruneTombstones(ctx, st, cfg.retention, logger)
	logger.Info("davenport listening", "addr", ln.Addr().String(), "database", describeDatabase(cfg.database), "version", version)
	return srv.Run(ctx, ln)
}

// clientURL is the URL to type into a client.
func clientURL(baseURL string, addr net.Addr) string {
	if baseURL != "" {
		return strings.TrimSuffix(baseURL, "/") + "/"
	}
	port := "8008"
	if ta, ok := addr.(*net.TCPAddr); ok {
		port = fmt.Sprint(ta.Port)
	}
	return "http://localhost:" + port + "/"
}

// firstRun creates the admin account when the store has no users, with the
// password from DAVENPORT_ADMIN_PASSWORD or a generated one printed once.
func firstRun(ctx context.Context, st store.Store, password, url string, stdout io.Writer) error {
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
		fmt.Fprintln(stdout, "    davenport user passwd admin")
	} else {
		fmt.Fprintln(stdout, "    Password:             (from DAVENPORT_ADMIN_PASSWORD)")
	}
	fmt.Fprintln(stdout, "  ================================================================")
	fmt.Fprintln(stdout, "")
	return nil
}

// pruneTombstones forgets deletions older than the retention window, hourly.
// Sync tokens older than what was pruned get DAV:valid-sync-token and the
// client resynchronizes in full (RFC 6578 §3.8).
func pruneTombstones(ctx context.Context, st store.Store, retention time.Duration, logger *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := st.PruneTombstones(ctx, time.Now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("pruning tombstones failed", "err", err)
		case n > 0:
			logger.Info("pruned tombstones", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
