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

// TestNewTracingExporters: every kind of exporter turns tracing on (it
// connects lazily, so no collector is needed); none leaves it off. The
// endpoint forms the config takes are config's tests (TestParseOTLPEndpoint)
// and the gateway's (TestTracingOptions).
func TestNewTracingExporters(t *testing.T) {
	cases := []struct {
		name     string
		exporter telemetry.Exporter
		enabled  bool
	}{
		{name: "none", enabled: false},
		{name: "grpc", exporter: telemetry.Exporter{GRPC: true, Target: "127.0.0.1:4317"}, enabled: true},
		{name: "grpcs", exporter: telemetry.Exporter{GRPC: true, TLS: true, Target: "collector.example.com:4317"}, enabled: true},
		{name: "http", exporter: telemetry.Exporter{Target: "http://127.0.0.1:4318/v1/traces"}, enabled: true},
		{name: "https", exporter: telemetry.Exporter{TLS: true, Target: "https://collector.example.com/v1/traces"}, enabled: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, err := telemetry.NewTracing(context.Background(), telemetry.TracingOptions{ServiceName: "hookgate", Exporter: c.exporter, SampleRatio: 1})
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
	tr, err := telemetry.NewTracing(context.Background(), telemetry.TracingOptions{})
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

// fakeDepths counts reads and returns what it holds.
type fakeDepths struct {
	reads atomic.Int64
	depth []telemetry.Depth
	err   error
}

func (f *fakeDepths) read(ctx context.Context) ([]telemetry.Depth, error) {
	f.reads.Add(1)
	return f.depth, f.err
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
	src := &fakeDepths{depth: []telemetry.Depth{{Destination: "tiktok", Pending: 3, Retrying: 2, Dead: 1}}}
	if err := m.ObserveQueueDepth(src.read, clock); err != nil {
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
	src.depth = []telemetry.Depth{{Destination: "tiktok", Pending: 7}}
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
