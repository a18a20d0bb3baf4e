package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// serveDebug serves Go's profiler (net/http/pprof) on its own listener, so
// that a slow request can be profiled on a running server:
//
//	go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=10
//
// It carries no authentication, so it belongs on a loopback address; any
// other address is allowed but logged as a warning. It stops with ctx.
func serveDebug(ctx context.Context, addr string, logger *slog.Logger) (net.Addr, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return serveSide(ctx, "profiler", addr, mux, logger)
}

// serveMetrics serves the Prometheus metrics at /metrics on a listener of
// their own (--metrics-listen), without a token: like the profiler's, the
// address should be reachable only by the scraper.
func serveMetrics(ctx context.Context, addr string, metrics http.Handler, logger *slog.Logger) (net.Addr, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	return serveSide(ctx, "metrics", addr, mux, logger)
}

// serveSide serves h on a listener of its own at addr, unauthenticated,
// warning when the address is not a loopback one. It stops with ctx.
func serveSide(ctx context.Context, name, addr string, h http.Handler, logger *slog.Logger) (net.Addr, error) {
	return serveListener(ctx, name, addr, h, logger, true)
}

// serveListener serves h on a listener of its own at addr until ctx ends;
// a private one (unauthenticated side listeners) warns when the address is
// not a loopback one.
func serveListener(ctx context.Context, name, addr string, h http.Handler, logger *slog.Logger, private bool) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s listener: %w", name, err)
	}
	if ta, ok := ln.Addr().(*net.TCPAddr); private && (!ok || !ta.IP.IsLoopback()) {
		logger.Warn("the "+name+" listener is reachable from other machines, without authentication", "addr", ln.Addr().String())
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn(name+" listener stopped", "err", err)
		}
	}()
	logger.Info(name+" listening", "addr", ln.Addr().String())
	return ln.Addr(), nil
}
