// Package telemetry owns hookgate's OpenTelemetry set-up: the meter provider
// whose instruments every part records into, exported as Prometheus text on
// the admin server's /metrics (metrics.go); the tracer provider with its
// OTLP export, the W3C traceparent kept with each event and delivery
// (tracing.go); and the slog handler that puts trace ids in logs (log.go).
// Other packages receive *Metrics and a trace.TracerProvider; they never
// build providers themselves.
//
// It takes its own options (TracingOptions, DepthSource, BlockedSource) and
// imports neither config nor store: the gateway maps the config's telemetry
// block and the store to them (deps_test.go keeps it so).
package telemetry

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Metrics are hookgate's instruments. A nil *Metrics records nothing, so
// parts can be tested without one.
type Metrics struct {
	registry *prometheus.Registry
	provider *sdkmetric.MeterProvider

	// IngestRequests counts webhooks received, by source and status
	// (hookgate_ingest_requests_total).
	IngestRequests metric.Int64Counter
	// Deliveries counts delivery attempts by destination and outcome:
	// delivered, retrying, dead (hookgate_delivery_attempts_total).
	Deliveries metric.Int64Counter
	// AttemptDuration is the latency of delivery attempts in seconds, by
	// destination (hookgate_delivery_attempt_duration_seconds).
	AttemptDuration metric.Float64Histogram
	// StoreWriteDuration is how long ingest's durable writes take, in
	// seconds (hookgate_store_write_duration_seconds).
	StoreWriteDuration metric.Float64Histogram
	// Verifications counts verified requests by source and by which of the
	// source's secrets matched, "0" the first (hookgate_verify_total): an
	// operator rotating a secret sees when the old one stops being used.
	Verifications metric.Int64Counter

	meter   metric.Meter
	reloads metric.Int64Counter
	// reloadAttrs are the attribute sets of the reload results, built once.
	reloadAttrs map[string]metric.MeasurementOption
}

// Results of a config reload, the result label of
// hookgate_config_reloads_total.
const (
	ReloadOK        = "ok"        // a new config was published
	ReloadError     = "error"     // the new config was refused; the running one stays
	ReloadUnchanged = "unchanged" // neither the file's bytes nor the files its file() calls read had changed
)

// NewMetrics builds the meter provider and its Prometheus exporter on a
// registry of its own (never the global one, so tests and reloads cannot
// collide).
func NewMetrics() (*Metrics, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo(), otelprom.WithoutUnits())
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	meter := mp.Meter("github.com/hookgate/hookgate")
	m := &Metrics{registry: reg, provider: mp, meter: meter, reloadAttrs: map[string]metric.MeasurementOption{}}
	var errs [6]error
	m.IngestRequests, errs[0] = meter.Int64Counter("hookgate.ingest.requests", metric.WithDescription("Webhooks received, by source and HTTP status."))
	m.Deliveries, errs[1] = meter.Int64Counter("hookgate.delivery.attempts", metric.WithDescription("Delivery attempts, by destination and outcome (delivered, retrying, dead)."))
	buckets := metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
	m.AttemptDuration, errs[2] = meter.Float64Histogram("hookgate.delivery.attempt.duration.seconds", metric.WithDescription("Latency of delivery attempts in seconds."), buckets)
	m.StoreWriteDuration, errs[3] = meter.Float64Histogram("hookgate.store.write.duration.seconds", metric.WithDescription("Latency of ingest's durable writes in seconds."), buckets)
	m.reloads, errs[4] = meter.Int64Counter("hookgate.config.reloads", metric.WithDescription("Config reloads, by result (ok, error, unchanged)."))
	m.Verifications, errs[5] = meter.Int64Counter("hookgate.verify", metric.WithDescription("Verified webhooks, by source and the index of the secret that matched (0: the first)."))
	for _, r := range []string{ReloadOK, ReloadError, ReloadUnchanged} {
		m.reloadAttrs[r] = metric.WithAttributes(attribute.String("result", r))
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Handler serves the metrics as Prometheus text.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Shutdown stops the meter provider.
func (m *Metrics) Shutdown(ctx context.Context) error {
	if m == nil {
		return nil
	}
	return m.provider.Shutdown(ctx)
}

// CountReload counts one config reload (SIGHUP, POST /api/reload) with its
// result: ReloadOK, ReloadError or ReloadUnchanged
// (hookgate_config_reloads_total{result}).
func (m *Metrics) CountReload(ctx context.Context, result string) {
	if m == nil {
		return
	}
	opt, ok := m.reloadAttrs[result]
	if !ok {
		opt = metric.WithAttributes(attribute.String("result", result))
	}
	m.reloads.Add(ctx, 1, opt)
}

// DepthMaxAge is how old the queue depths a scrape reports may be: the
// store is read at most once per DepthMaxAge, however often /metrics is
// scraped.
const DepthMaxAge = 15 * time.Second

// depthTimeout bounds one read of the queue depths.
const depthTimeout = 5 * time.Second

// Depth is one destination's queue as the queue-depth gauge reports it:
// its deliveries in each state that waits.
type Depth struct {
	Destination string
	// Pending, Retrying and Dead count the destination's deliveries in
	// those states (Dead: its dead-letter set).
	Pending, Retrying, Dead int
}

// DepthSource reads every destination's queue depth. The gateway reads it
// from the store (its cheap Depth when it has one, else Stats).
type DepthSource func(ctx context.Context) ([]Depth, error)

// ObserveQueueDepth adds the gauge hookgate_queue_depth{destination,state}:
// the deliveries src holds per destination in state pending, retrying and
// dead (the dead-letter set). A scrape reads src only when the last read is
// older than DepthMaxAge, and only one scrape reads at a time; others report
// the last figures. A read that fails keeps the last figures too. Call it
// once.
func (m *Metrics) ObserveQueueDepth(src DepthSource, now func() time.Time) error {
	if m == nil {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	c := &depthCache{src: src, now: now}
	_, err := m.meter.Int64ObservableGauge("hookgate.queue.depth",
		metric.WithDescription("Deliveries waiting per destination and state (pending, retrying, dead), read from the store at most every 15s."),
		metric.WithInt64Callback(c.observe))
	return err
}

// depthCache is the queue-depth gauge's last read of the store.
type depthCache struct {
	src DepthSource
	now func() time.Time

	mu     sync.Mutex
	readAt time.Time
	stats  []Depth
	attrs  map[depthKey]metric.ObserveOption
}

type depthKey struct{ destination, state string }

func (c *depthCache) observe(ctx context.Context, o metric.Int64Observer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.now(); c.readAt.IsZero() || t.Sub(c.readAt) >= DepthMaxAge || t.Before(c.readAt) {
		rctx, cancel := context.WithTimeout(ctx, depthTimeout)
		stats, err := c.src(rctx)
		cancel()
		c.readAt = t
		if err == nil {
			c.stats = stats
		}
	}
	for _, s := range c.stats {
		c.observeOne(o, s.Destination, "pending", s.Pending)
		c.observeOne(o, s.Destination, "retrying", s.Retrying)
		c.observeOne(o, s.Destination, "dead", s.Dead)
	}
	return nil
}

func (c *depthCache) observeOne(o metric.Int64Observer, destination, state string, n int) {
	k := depthKey{destination, state}
	opt, ok := c.attrs[k]
	if !ok {
		if c.attrs == nil {
			c.attrs = map[depthKey]metric.ObserveOption{}
		}
		opt = metric.WithAttributes(attribute.String("destination", destination), attribute.String("state", state))
		c.attrs[k] = opt
	}
	o.Observe(int64(n), opt)
}
