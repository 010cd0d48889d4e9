package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/embedded"
	redisstore "github.com/hookgate/hookgate/internal/store/redis"
	"github.com/hookgate/hookgate/internal/telemetry"
)

// The embedded store has the cheap Depth, and both stores order
// deliveries: a renamed method would otherwise send the gauges to the slow
// Stats, or to nothing, silently.
var (
	_ depther       = (*embedded.Store)(nil)
	_ store.Orderer = (*embedded.Store)(nil)
	_ store.Orderer = (*redisstore.Store)(nil)
)

// statsStore is a store with Stats only (the rest of store.Store is nil,
// never called).
type statsStore struct {
	store.Store
	since []time.Time
	stats []store.DestinationStats
}

func (s *statsStore) Stats(ctx context.Context, since time.Time) ([]store.DestinationStats, error) {
	s.since = append(s.since, since)
	return s.stats, nil
}

// depthStore has a cheap Depth as well, and orders deliveries.
type depthStore struct {
	statsStore
	store.Orderer
	depthReads int
}

func (s *depthStore) Depth(ctx context.Context) ([]store.DestinationStats, error) {
	s.depthReads++
	return []store.DestinationStats{{Destination: "crm", Retrying: 4, Delivered: 9}}, nil
}

func (s *depthStore) Blocked(ctx context.Context, destination string, limit int) ([]store.BlockedKey, error) {
	if destination == "down" {
		return nil, errors.New("store down")
	}
	return []store.BlockedKey{{Key: "a"}, {Key: "b"}}, nil
}

// TestQueueDepthsPrefersDepth: the gauge reads a store's Depth when it has
// one, and Stats from the gateway's clock otherwise; only the queues are
// passed on.
func TestQueueDepthsPrefersDepth(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ctx := context.Background()

	ds := &depthStore{}
	got, err := queueDepths(ds, clock)(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []telemetry.Depth{{Destination: "crm", Retrying: 4}}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("depths %+v, want %+v", got, want)
	}
	if ds.depthReads != 1 || len(ds.since) != 0 {
		t.Errorf("Depth read %d times, Stats %d; want 1 and 0", ds.depthReads, len(ds.since))
	}

	ss := &statsStore{stats: []store.DestinationStats{{Destination: "tiktok", Pending: 3, Retrying: 2, Dead: 1, Delivered: 100}}}
	got, err = queueDepths(ss, clock)(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (telemetry.Depth{Destination: "tiktok", Pending: 3, Retrying: 2, Dead: 1}); len(got) != 1 || got[0] != want {
		t.Errorf("depths %+v, want %+v", got, want)
	}
	if len(ss.since) != 1 || !ss.since[0].Equal(now) {
		t.Errorf("Stats read since %v, want once since %v (no attempt window)", ss.since, now)
	}
}

// TestBlockedKeys: a store that orders is counted per destination, its
// errors passed on; one that does not gives no gauge.
func TestBlockedKeys(t *testing.T) {
	if blockedKeys(&statsStore{}) != nil {
		t.Error("a store that does not order has a blocked-keys source")
	}
	read := blockedKeys(&depthStore{})
	if read == nil {
		t.Fatal("no blocked-keys source for a store that orders")
	}
	if n, err := read(context.Background(), "sink"); n != 2 || err != nil {
		t.Errorf("read = %d, %v; want 2, nil", n, err)
	}
	if _, err := read(context.Background(), "down"); err == nil {
		t.Error("the store's error was lost")
	}
}

// TestTracingOptions: the telemetry block maps to the exporter its
// otlp_endpoint names; an endpoint telemetry cannot use is an error that
// does not repeat it (it may hold credentials).
func TestTracingOptions(t *testing.T) {
	cases := []struct {
		endpoint string
		want     telemetry.Exporter
	}{
		{"", telemetry.Exporter{}},
		{"127.0.0.1:4317", telemetry.Exporter{GRPC: true, Target: "127.0.0.1:4317"}},
		{"grpcs://otel.example.com:443", telemetry.Exporter{GRPC: true, TLS: true, Target: "otel.example.com:443"}},
		{"https://otel.example.com", telemetry.Exporter{TLS: true, Target: "https://otel.example.com/v1/traces"}},
	}
	for _, c := range cases {
		o, err := tracingOptions(config.Telemetry{ServiceName: "svc", OTLPEndpoint: c.endpoint, SampleRatio: 0.5})
		if err != nil {
			t.Fatalf("%q: %v", c.endpoint, err)
		}
		if want := (telemetry.TracingOptions{ServiceName: "svc", Exporter: c.want, SampleRatio: 0.5}); o != want {
			t.Errorf("%q: options %+v, want %+v", c.endpoint, o, want)
		}
	}
	const bad = "ftp://user:hunter2@collector:4317"
	_, err := tracingOptions(config.Telemetry{OTLPEndpoint: bad})
	if err == nil {
		t.Fatalf("%q accepted", bad)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error shows the endpoint's password: %v", err)
	}
}
