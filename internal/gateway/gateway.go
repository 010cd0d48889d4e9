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

	"github.com/hookgate/hookgate/internal/admin"
	"github.com/hookgate/hookgate/internal/alert"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/ingest"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
	redisstore "github.com/hookgate/hookgate/internal/store/redis"
	"github.com/hookgate/hookgate/internal/telemetry"
	"github.com/hookgate/hookgate/secret"
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
	alerts  *alert.Manager

	// reloadMu serializes reloads; reloadState is theirs.
	reloadMu    sync.Mutex
	reloadState reloader
}

// Run serves cfg until ctx is done, then shuts down: it stops accepting
// webhooks, lets in-flight requests and delivery attempts finish within the
// config's shutdown_timeout, and closes the store. It returns nil after a
// clean shutdown, and otherwise what failed (a server, the delivery
// engine, the store's close).
//
// The gateway is a lifecycle of parts started in order, each stopped by
// the same owner in the reverse order: the store, metrics, tracing, the
// admin server, the delivery engine, the background work (cleanup,
// reloads) and last the ingest server, so that webhooks are taken only
// once everything that handles them runs, and at shutdown ingest stops
// first, the engine finishes its attempts, and the store closes after the
// last of them.
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

	var lc lifecycle
	failed, err := g.start(ctx, cfg, &lc)
	if err != nil {
		return errors.Join(err, lc.stop(context.Background()))
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-failed:
	}
	// The shutdown timeout is the latest config's: a reload may change it.
	timeout := g.current.Load().Gateway.ShutdownTimeout
	g.log.Info("shutting down", "timeout", timeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return errors.Join(runErr, lc.stop(shutdownCtx))
}

// lifecycle stops what start started, last started first.
type lifecycle struct {
	stops []func(context.Context) error
}

// onStop registers how to stop the part just started.
func (lc *lifecycle) onStop(stop func(context.Context) error) {
	lc.stops = append(lc.stops, stop)
}

// stop stops every part, last started first, and joins their errors. ctx
// bounds the waits that may be cut short (in-flight requests); the
// delivery engine is always waited for, so the store outlives its last
// attempt.
func (lc *lifecycle) stop(ctx context.Context) error {
	var errs []error
	for i := len(lc.stops) - 1; i >= 0; i-- {
		errs = append(errs, lc.stops[i](ctx))
	}
	lc.stops = nil
	return errors.Join(errs...)
}

// start starts the gateway's parts in order, registering each one's stop
// with lc. The returned channel receives a server's failure.
func (g *Gateway) start(ctx context.Context, cfg *config.Config, lc *lifecycle) (<-chan error, error) {
	st, err := openStore(cfg, g.opts.Now, g.log)
	if err != nil {
		return nil, err
	}
	g.store = st
	lc.onStop(func(context.Context) error { return st.Close() })

	if g.metrics, err = telemetry.NewMetrics(); err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	lc.onStop(g.metrics.Shutdown)
	if err := g.metrics.ObserveQueueDepth(queueDepths(st, g.opts.Now), g.opts.Now); err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	if err := g.metrics.ObserveBlockedKeys(blockedKeys(st), g.destinationNames, g.opts.Now); err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	topts, err := tracingOptions(cfg.Telemetry)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	tracing, err := telemetry.NewTracing(ctx, topts)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	lc.onStop(func(context.Context) error {
		// Export the spans still buffered (the engine's last attempts
		// included); a collector that is down does not hold the shutdown
		// up for long.
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tracing.Shutdown(fctx); err != nil {
			g.log.Warn("flush traces", "error", err)
		}
		return nil
	})
	if tracing.Enabled() {
		otel.SetErrorHandler(telemetry.ErrorHandler(g.log))
		ep := cfg.Telemetry.OTLPEndpoint
		if strings.Contains(ep, "://") { // host:port carries no credentials
			ep = secret.RedactURL(ep)
		}
		g.log.Info("tracing", "otlp_endpoint", ep, "sample_ratio", cfg.Telemetry.SampleRatio)
	}

	// Both addresses are bound before anything serves, so a taken port
	// fails the start at once.
	ingestLn, err := net.Listen("tcp", cfg.Gateway.Listen)
	if err != nil {
		return nil, fmt.Errorf("ingest listen: %w", err)
	}
	adminLn, err := net.Listen("tcp", cfg.Gateway.AdminListen)
	if err != nil {
		ingestLn.Close()
		return nil, fmt.Errorf("admin listen: %w", err)
	}
	failed := make(chan error, 2)

	g.alerts = alert.New(st, cfg, alert.Options{
		Notify: func(d string) { g.engine.Notify(d) },
		Now:    g.opts.Now, Logger: g.log.With("component", "alert"),
	})
	g.engine = delivery.New(st, delivery.Options{
		Events:  g.alerts,
		Workers: cfg.Gateway.Workers,
		Logger:  g.log.With("component", "delivery"),
		Now:     g.opts.Now,
		Metrics: g.metrics,
		// Each attempt is a span of the event's trace.
		TracerProvider: tracing.Provider(),
	})
	if err := g.metrics.ObserveDestinations(g.engine.Gauges); err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	adminSrv := &http.Server{
		Handler: (&admin.Server{
			Current: g.current.Load, Store: st, Metrics: g.metrics, Notify: g.engine.Notify,
			Now: g.opts.Now, Logger: g.log.With("component", "admin"), Reload: g.reload, Health: g.engine,
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
	lc.onStop(serve(adminSrv, adminLn, failed))

	delivery.Unorder(context.Background(), st, cfg, g.log.With("component", "delivery"))
	engineCtx, stopEngine := context.WithCancel(context.Background())
	engineDone := make(chan error, 1)
	go func() { engineDone <- g.engine.Run(engineCtx, cfg.Destinations) }()
	lc.onStop(func(ctx context.Context) error {
		// The attempts in flight finish (each bounded by its timeout) and
		// record their outcomes before the store closes, even past the
		// shutdown timeout: their leases would otherwise make them wait
		// for a restart.
		stopEngine()
		var err error
		select {
		case err = <-engineDone:
		case <-ctx.Done():
			g.log.Warn("delivery attempts still in flight at the shutdown deadline; waiting for their timeouts")
			err = <-engineDone
		}
		// Retired configs' signers are closed after the last attempt
		// that could use them.
		g.closeRetired()
		return err
	})

	bg, stopBackground := context.WithCancel(context.Background())
	var bgWG sync.WaitGroup
	lc.onStop(func(context.Context) error {
		stopBackground()
		bgWG.Wait()
		return nil
	})
	bgWG.Go(func() { g.cleanup(bg) })
	bgWG.Go(func() { g.alerts.Run(bg) })
	hup := notifySIGHUP()
	bgWG.Go(func() { g.watchSIGHUP(bg, hup) })
	if g.opts.Watch {
		watch, err := g.startWatch()
		if err != nil {
			g.log.Error("config watch not started; reload with SIGHUP or POST /api/reload", "error", err)
		} else {
			bgWG.Go(func() { watch(bg) })
		}
	}

	ingestSrv := &http.Server{
		Handler: &ingest.Handler{
			Current: g.current.Load, Store: st, Handoff: g.engine, Notify: g.engine.Notify, Now: g.opts.Now,
			Logger: g.log.With("component", "ingest"), Metrics: g.metrics,
			TracerProvider: tracing.Provider(), MaxInFlight: cfg.Gateway.MaxInFlight,
			Refused: g.alerts.Refused,
		},
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      ingestWriteTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	lc.onStop(serve(ingestSrv, ingestLn, failed))

	g.log.Info("hookgate listening", "ingest", ingestLn.Addr().String(), "admin", adminLn.Addr().String(),
		"storage", cfg.Storage.Kind, "sources", len(cfg.Sources), "routes", len(cfg.Routes), "destinations", len(cfg.Destinations))
	if g.opts.Ready != nil {
		g.opts.Ready(ingestLn.Addr().String(), adminLn.Addr().String())
	}
	return failed, nil
}

// serve serves srv on ln until its stop, which it returns: a graceful
// Shutdown within the stop's context, then Close. A failure to serve goes
// to failed.
func serve(srv *http.Server, ln net.Listener, failed chan<- error) func(context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			failed <- err
		}
	}()
	return func(ctx context.Context) error {
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		<-done
		return nil
	}
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
