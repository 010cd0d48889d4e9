// Package telemetry owns hookgate's OpenTelemetry set-up: the meter provider
// whose instruments every part records into, exported as Prometheus text on
// the admin server's /metrics (and, with the tracing issue, the tracer
// provider and OTLP export). Other packages receive *Metrics; they never
// build providers themselves.
package telemetry

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
}

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
	m := &Metrics{registry: reg, provider: mp}
	var errs [4]error
	m.IngestRequests, errs[0] = meter.Int64Counter("hookgate.ingest.requests", metric.WithDescription("Webhooks received, by source and HTTP status."))
	m.Deliveries, errs[1] = meter.Int64Counter("hookgate.delivery.attempts", metric.WithDescription("Delivery attempts, by destination and outcome (delivered, retrying, dead)."))
	buckets := metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
	m.AttemptDuration, errs[2] = meter.Float64Histogram("hookgate.delivery.attempt.duration.seconds", metric.WithDescription("Latency of delivery attempts in seconds."), buckets)
	m.StoreWriteDuration, errs[3] = meter.Float64Histogram("hookgate.store.write.duration.seconds", metric.WithDescription("Latency of ingest's durable writes in seconds."), buckets)
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
