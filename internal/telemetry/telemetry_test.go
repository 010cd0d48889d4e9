package telemetry_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/telemetry"
)

func TestTraceParentRoundTrip(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{name: "sampled", in: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", want: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		{name: "not sampled", in: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", want: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"},
		{name: "empty", in: "", want: ""},
		{name: "zero trace id", in: "00-00000000000000000000000000000000-00f067aa0ba902b7-01", want: ""},
		{name: "garbage", in: "not a traceparent", want: ""},
		{name: "upper case refused", in: "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", want: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := telemetry.ContextWithTraceParent(context.Background(), c.in)
			if got := telemetry.TraceParent(ctx); got != c.want {
				t.Errorf("TraceParent = %q, want %q", got, c.want)
			}
			if c.want != "" && !trace.SpanContextFromContext(ctx).IsRemote() {
				t.Error("the span context is not marked remote")
			}
		})
	}
}

func TestNewTracingEndpoints(t *testing.T) {
	cases := []struct {
		endpoint string
		enabled  bool
		err      string
	}{
		{endpoint: "", enabled: false},
		{endpoint: "127.0.0.1:4317", enabled: true},
		{endpoint: "grpc://127.0.0.1:4317", enabled: true},
		{endpoint: "grpcs://collector.example.com:4317", enabled: true},
		{endpoint: "http://127.0.0.1:4318", enabled: true},
		{endpoint: "https://collector.example.com/v1/traces", enabled: true},
		{endpoint: "ftp://127.0.0.1:4317", err: `scheme "ftp"`},
		{endpoint: "grpc://127.0.0.1:4317/v1/traces", err: "want host:port"},
		{endpoint: "http://", err: "not a valid URL"},
	}
	for _, c := range cases {
		t.Run(c.endpoint, func(t *testing.T) {
			tr, err := telemetry.NewTracing(context.Background(), config.Telemetry{ServiceName: "hookgate", OTLPEndpoint: c.endpoint, SampleRatio: 1})
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				tr.Shutdown(ctx)
			}()
			if tr.Enabled() != c.enabled {
				t.Errorf("Enabled() = %v, want %v", tr.Enabled(), c.enabled)
			}
			_, span := telemetry.Tracer(tr.Provider()).Start(context.Background(), "x")
			if span.IsRecording() != c.enabled {
				t.Errorf("span recording = %v, want %v", span.IsRecording(), c.enabled)
			}
			span.End()
		})
	}
}

// TestNoopKeepsSendersTraceParent: with tracing off, a sender's traceparent
// passes through a span unchanged, as the gateway did before tracing.
func TestNoopKeepsSendersTraceParent(t *testing.T) {
	tr, err := telemetry.NewTracing(context.Background(), config.Telemetry{})
	if err != nil {
		t.Fatal(err)
	}
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ctx := telemetry.ContextWithTraceParent(context.Background(), tp)
	ctx, span := telemetry.Tracer(tr.Provider()).Start(ctx, "ingest")
	defer span.End()
	if got := telemetry.TraceParent(ctx); got != tp {
		t.Errorf("TraceParent = %q, want %q", got, tp)
	}
}

func TestLogHandlerAddsTraceID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(telemetry.NewLogHandler(slog.NewTextHandler(&buf, nil))).With("component", "test")
	ctx := telemetry.ContextWithTraceParent(context.Background(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")

	log.InfoContext(ctx, "with span")
	log.Info("without span")
	log.InfoContext(ctx, "given already", "trace_id", "mine")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7") {
		t.Errorf("no trace_id: %s", lines[0])
	}
	if strings.Contains(lines[1], "trace_id") {
		t.Errorf("trace_id without a span: %s", lines[1])
	}
	if strings.Count(lines[2], "trace_id") != 1 {
		t.Errorf("trace_id twice: %s", lines[2])
	}
}

// fakeStats counts reads and returns what it holds.
type fakeStats struct {
	reads atomic.Int64
	stats []store.DestinationStats
	err   error
}

func (f *fakeStats) Stats(ctx context.Context, since time.Time) ([]store.DestinationStats, error) {
	f.reads.Add(1)
	return f.stats, f.err
}

func scrape(t *testing.T, m *telemetry.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestQueueDepthReadsTheStoreAtMostOncePerMaxAge(t *testing.T) {
	m, err := telemetry.NewMetrics()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	src := &fakeStats{stats: []store.DestinationStats{{Destination: "tiktok", Pending: 3, Retrying: 2, Dead: 1, Delivered: 100}}}
	if err := m.ObserveQueueDepth(src, clock); err != nil {
		t.Fatal(err)
	}
	out := scrape(t, m)
	for _, want := range []string{
		`hookgate_queue_depth{destination="tiktok",state="pending"} 3`,
		`hookgate_queue_depth{destination="tiktok",state="retrying"} 2`,
		`hookgate_queue_depth{destination="tiktok",state="dead"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
	if strings.Contains(out, `state="delivered"`) {
		t.Error("delivered is not a queue")
	}
	src.stats = []store.DestinationStats{{Destination: "tiktok", Pending: 7}}
	scrape(t, m)
	if n := src.reads.Load(); n != 1 {
		t.Fatalf("%d store reads for two scrapes within DepthMaxAge, want 1", n)
	}
	now = now.Add(telemetry.DepthMaxAge)
	if out := scrape(t, m); !strings.Contains(out, `hookgate_queue_depth{destination="tiktok",state="pending"} 7`) {
		t.Errorf("not read again after DepthMaxAge:\n%s", out)
	}
	// A failed read keeps the last figures.
	src.err = errors.New("store down")
	now = now.Add(telemetry.DepthMaxAge)
	if out := scrape(t, m); !strings.Contains(out, `hookgate_queue_depth{destination="tiktok",state="pending"} 7`) {
		t.Errorf("last figures lost after a failed read:\n%s", out)
	}
}

// fakeDepth is a store with a cheap Depth: the gauge must read it, not Stats.
type fakeDepth struct {
	fakeStats
	depthReads atomic.Int64
}

func (f *fakeDepth) Depth(ctx context.Context) ([]store.DestinationStats, error) {
	f.depthReads.Add(1)
	return []store.DestinationStats{{Destination: "crm", Retrying: 4}}, nil
}

func TestQueueDepthPrefersDepth(t *testing.T) {
	m, err := telemetry.NewMetrics()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	src := &fakeDepth{}
	if err := m.ObserveQueueDepth(src, time.Now); err != nil {
		t.Fatal(err)
	}
	if out := scrape(t, m); !strings.Contains(out, `hookgate_queue_depth{destination="crm",state="retrying"} 4`) {
		t.Errorf("Depth's figures not exported:\n%s", out)
	}
	if src.depthReads.Load() != 1 || src.reads.Load() != 0 {
		t.Errorf("Depth read %d times, Stats %d; want 1 and 0", src.depthReads.Load(), src.reads.Load())
	}
}

func TestCountReload(t *testing.T) {
	m, err := telemetry.NewMetrics()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	ctx := context.Background()
	m.CountReload(ctx, telemetry.ReloadOK)
	m.CountReload(ctx, telemetry.ReloadOK)
	m.CountReload(ctx, telemetry.ReloadError)
	m.CountReload(ctx, telemetry.ReloadUnchanged)
	out := scrape(t, m)
	for _, want := range []string{
		`hookgate_config_reloads_total{result="ok"} 2`,
		`hookgate_config_reloads_total{result="error"} 1`,
		`hookgate_config_reloads_total{result="unchanged"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
	var nilMetrics *telemetry.Metrics
	nilMetrics.CountReload(ctx, telemetry.ReloadOK) // records nothing, does not panic
}
