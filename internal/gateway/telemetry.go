package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/telemetry"
)

// tracingOptions maps the config's telemetry block to the tracer
// provider's options. The loader has checked otlp_endpoint already; the
// error is not expected, and does not repeat the endpoint (it may hold
// credentials).
func tracingOptions(t config.Telemetry) (telemetry.TracingOptions, error) {
	o := telemetry.TracingOptions{ServiceName: t.ServiceName, SampleRatio: t.SampleRatio}
	if t.OTLPEndpoint == "" {
		return o, nil
	}
	e, err := config.ParseOTLPEndpoint(t.OTLPEndpoint)
	if err != nil {
		return o, fmt.Errorf("otlp_endpoint: %w", err)
	}
	o.Exporter = telemetry.Exporter{GRPC: e.GRPC, TLS: e.TLS, Target: e.Target}
	return o, nil
}

// depther is a store that counts its queues more cheaply than Stats (the
// embedded store reads only its indexes).
type depther interface {
	Depth(ctx context.Context) ([]store.DestinationStats, error)
}

// queueDepths is the queue-depth gauge's reading of st: its Depth when it
// has one, else Stats from now (attempt figures are not wanted; a window
// starting now skips them).
func queueDepths(st store.Store, now func() time.Time) telemetry.DepthSource {
	if now == nil {
		now = time.Now
	}
	read := func(ctx context.Context) ([]store.DestinationStats, error) { return st.Stats(ctx, now()) }
	if d, ok := st.(depther); ok {
		read = d.Depth
	}
	return func(ctx context.Context) ([]telemetry.Depth, error) {
		stats, err := read(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]telemetry.Depth, len(stats))
		for i, s := range stats {
			out[i] = telemetry.Depth{Destination: s.Destination, Pending: s.Pending, Retrying: s.Retrying, Dead: s.Dead}
		}
		return out, nil
	}
}

// blockedKeys is the blocked-keys gauge's reading of st; nil when st does
// not order deliveries.
func blockedKeys(st store.Store) telemetry.BlockedSource {
	o, ok := st.(store.Orderer)
	if !ok {
		return nil
	}
	return func(ctx context.Context, destination string) (int, error) {
		bs, err := o.Blocked(ctx, destination, 0)
		return len(bs), err
	}
}
