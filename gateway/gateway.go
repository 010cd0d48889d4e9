// Package gateway assembles the running gateway from a compiled config: the
// store, the ingest server, the delivery engine, the admin server and the
// background cleanup, and shuts them down in order.
//
// It owns every goroutine it starts and waits for them before Run returns.
// The parts themselves live in their own packages (ingest, delivery, store,
// admin, telemetry); this one only wires them.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/hookgate/hookgate/gateway/admin"
	"github.com/hookgate/hookgate/gateway/config"
	"github.com/hookgate/hookgate/gateway/delivery"
	"github.com/hookgate/hookgate/gateway/ingest"
	"github.com/hookgate/hookgate/gateway/secret"
	"github.com/hookgate/hookgate/gateway/store"
	"github.com/hookgate/hookgate/gateway/store/embedded"
	redisstore "github.com/hookgate/hookgate/gateway/store/redis"
	"github.com/hookgate/hookgate/gateway/telemetry"
)

// ingestWriteTimeout bounds an ingest request from its headers to the
// end of its answer, so also how long a request keeps using the config it
// started with.
const ingestWriteTimeout = 30 * time.Second

// Options are what the caller injects.
type Options struct {
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Ready, if set, is called once both servers listen, with their
	// addresses (useful with port 0).
	Ready func(ingestAddr, adminAddr string)
	// Path is the config file a reload (SIGHUP, POST /api/reload) reads;
	// "" means the running config's File.
	Path string
	// NewLoader returns the loader a reload compiles with; nil means a
	// zero config.Loader (the default plugins and the environment).
	NewLoader func() *config.Loader
	// Watch reloads the config whenever its file changes (`run -watch`),
	// with the same rules as SIGHUP.
	Watch bool
}

// Gateway is a running gateway.
type Gateway struct {
	opts    Options
	log     *slog.Logger
	current atomic.Pointer[config.Config]
	store   store.Store
	metrics *telemetry.Metrics
	engine  *delivery.Engine

	// reloadMu serializes reloads; reloadState is theirs.
	reloadMu    sync.Mutex
	reloadState reloader
}

// Run serves cfg until ctx is done, then shuts down: it stops accepting
// webhooks, lets in-flight requests and delivery attempts finish within the
// config's shutdown_timeout, and closes the store. It returns nil after a
// clean shutdown.
func Run(ctx context.Context, cfg *config.Config, opts Options) error {
	g := &Gateway{opts: opts, log: opts.Logger}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	// Lines logged with a span's context carry its trace_id.
	g.log = slog.New(telemetry.NewLogHandler(g.log.Handler()))
	if g.opts.Now == nil {
		g.opts.Now = time.Now
	}
	g.current.Store(cfg)
	g.initReload(cfg)

	st, err := openStore(cfg, g.opts.Now, g.log)
	if err != nil {
		return err
	}
	g.store = st
	defer st.Close()

	if g.metrics, err = telemetry.NewMetrics(); err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	defer g.metrics.Shutdown(context.Background())
	if err := g.metrics.ObserveQueueDepth(st, g.opts.Now); err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	tracing, err := telemetry.NewTracing(ctx, cfg.Telemetry)
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	defer func() {
		// Export the spans still buffered; a collector that is down does
		// not hold the shutdown up for long.
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tracing.Shutdown(fctx); err != nil {
			g.log.Warn("flush traces", "error", err)
		}
	}()
	if tracing.Enabled() {
		otel.SetErrorHandler(telemetry.ErrorHandler(g.log))
		ep := cfg.Telemetry.OTLPEndpoint
		if strings.Contains(ep, "://") { // host:port carries no credentials
			ep = secret.RedactURL(ep)
		}
		g.log.Info("tracing", "otlp_endpoint", ep, "sample_ratio", cfg.Telemetry.SampleRatio)
	}

	g.engine = delivery.New(st, delivery.Options{
		Workers: cfg.Gateway.Workers,
		Logger:  g.log.With("component", "delivery"),
		Now:     g.opts.Now,
		Metrics: g.metrics,
		// Each attempt is a span of the event's trace.
		TracerProvider: tracing.Provider(),
	})

	ingestLn, err := net.Listen("tcp", cfg.Gateway.Listen)
	if err != nil {
		return fmt.Errorf("ingest listen: %w", err)
	}
	adminLn, err := net.Listen("tcp", cfg.Gateway.AdminListen)
	if err != nil {
		ingestLn.Close()
		return fmt.Errorf("admin listen: %w", err)
	}
	ingestSrv := &http.Server{
		Handler: &ingest.Handler{
			Current: g.current.Load, Store: st, Handoff: g.engine, Notify: g.engine.Notify, Now: g.opts.Now,
			Logger: g.log.With("component", "ingest"), Metrics: g.metrics,
			TracerProvider: tracing.Provider(),
		},
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      ingestWriteTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	adminSrv := &http.Server{
		Handler: (&admin.Server{
			Current: g.current.Load, Store: st, Metrics: g.metrics, Notify: g.engine.Notify,
			Now: g.opts.Now, Logger: g.log.With("component", "admin"), Reload: g.reload,
		}).Handler(),
		// As ingest's: the unauthenticated POST /login must not be read
		// slowly. Profiles, test sends and exports extend their own write
		// deadline.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}

	var wg sync.WaitGroup
	serveErr := make(chan error, 2)
	serve := func(srv *http.Server, ln net.Listener) {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
	}
	wg.Add(2)
	go serve(ingestSrv, ingestLn)
	go serve(adminSrv, adminLn)

	engineCtx, stopEngine := context.WithCancel(context.Background())
	engineDone := make(chan error, 1)
	go func() { engineDone <- g.engine.Run(engineCtx, cfg.Destinations) }()

	cleanupCtx, stopCleanup := context.WithCancel(context.Background())
	wg.Add(1)
	go func() { defer wg.Done(); g.cleanup(cleanupCtx) }()
	hup := notifySIGHUP()
	wg.Add(1)
	go func() { defer wg.Done(); g.watchSIGHUP(cleanupCtx, hup) }()
	if g.opts.Watch {
		watch, err := g.startWatch()
		if err != nil {
			g.log.Error("config watch not started; reload with SIGHUP or POST /api/reload", "error", err)
		} else {
			wg.Add(1)
			go func() { defer wg.Done(); watch(cleanupCtx) }()
		}
	}

	g.log.Info("hookgate listening", "ingest", ingestLn.Addr().String(), "admin", adminLn.Addr().String(),
		"storage", cfg.Storage.Kind, "sources", len(cfg.Sources), "routes", len(cfg.Routes), "destinations", len(cfg.Destinations))
	if g.opts.Ready != nil {
		g.opts.Ready(ingestLn.Addr().String(), adminLn.Addr().String())
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
	}

	// Stop taking webhooks first, then let attempts in flight finish.
	// The shutdown timeout is the latest config's: a reload may change it.
	timeout := g.current.Load().Gateway.ShutdownTimeout
	g.log.Info("shutting down", "timeout", timeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := ingestSrv.Shutdown(shutdownCtx); err != nil {
		ingestSrv.Close()
	}
	stopEngine()
	select {
	case <-engineDone:
	case <-shutdownCtx.Done():
		g.log.Warn("delivery attempts still in flight at the shutdown deadline; they will be retried after restart")
	}
	stopCleanup()
	if err := adminSrv.Shutdown(shutdownCtx); err != nil {
		adminSrv.Close()
	}
	wg.Wait()
	g.closeRetired()
	return runErr
}

// openStore opens the configured store.
func openStore(cfg *config.Config, now func() time.Time, log *slog.Logger) (store.Store, error) {
	switch cfg.Storage.Kind {
	case "embedded":
		st, err := embedded.Open(cfg.Storage.Path, embedded.Options{Now: now, Logger: log.With("component", "store")})
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	case "redis":
		// The URL is a secret: Open's errors and logs never show its
		// password, and neither does this one.
		st, err := redisstore.Open(cfg.Storage.URL.Reveal(), redisstore.Options{
			Prefix: cfg.Storage.Prefix, Now: now, Logger: log,
		})
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	default:
		return nil, fmt.Errorf("storage %q is not available in this version of hookgate", cfg.Storage.Kind)
	}
}

// cleanup deletes finished records older than the retention, every few
// minutes, until ctx is done.
func (g *Gateway) cleanup(ctx context.Context) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		now := g.opts.Now()
		cfg := g.current.Load()
		n, err := g.store.Cleanup(ctx, now.Add(-cfg.Storage.Retention), now)
		switch {
		case err != nil && ctx.Err() == nil:
			g.log.Warn("cleanup", "error", err)
		case n > 0:
			g.log.Info("cleanup", "events_deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
