package telemetry_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"

	"github.com/hookgate/hookgate/internal/telemetry"
)

// receiver is an OTLP gRPC trace receiver that counts spans and keeps
// nothing.
type receiver struct {
	coltrace.UnimplementedTraceServiceServer
	spans atomic.Int64
}

func (r *receiver) Export(_ context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			r.spans.Add(int64(len(ss.Spans)))
		}
	}
	return &coltrace.ExportTraceServiceResponse{}, nil
}

func startReceiver(tb testing.TB) (string, *receiver) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := grpc.NewServer()
	r := &receiver{}
	coltrace.RegisterTraceServiceServer(srv, r)
	go srv.Serve(ln)
	tb.Cleanup(srv.Stop)
	return ln.Addr().String(), r
}

// oneEvent makes the spans of one event as ingest and delivery do: the
// server span, its four children and one attempt, with their attributes.
func oneEvent(tracer trace.Tracer, parent context.Context) {
	ctx, srv := tracer.Start(parent, "POST", trace.WithSpanKind(trace.SpanKindServer))
	if srv.IsRecording() {
		srv.SetName("POST /in/bench")
		srv.SetAttributes(semconv.HTTPRequestMethodPost, semconv.URLPath("/in/bench"), semconv.URLScheme("http"),
			semconv.HTTPRoute("/in/bench"), attribute.String("hookgate.source", "bench"))
	}
	for _, name := range []string{"verify", "validate", "route", "store"} {
		_, s := tracer.Start(ctx, name)
		if s.IsRecording() {
			s.SetAttributes(attribute.String("hookgate.event_id", "evt_01M845288EF4HY7PE1H04D602J"), attribute.Int("hookgate.deliveries", 1))
		}
		s.End()
	}
	tp := telemetry.TraceParent(ctx)
	if srv.IsRecording() {
		srv.SetAttributes(semconv.HTTPResponseStatusCode(202), attribute.String("hookgate.event_id", "evt_01M845288EF4HY7PE1H04D602J"))
	}
	srv.End()

	actx := telemetry.ContextWithTraceParent(context.Background(), tp)
	_, a := tracer.Start(actx, "deliver", trace.WithSpanKind(trace.SpanKindClient))
	if a.IsRecording() {
		a.SetName("deliver sink")
		a.SetAttributes(semconv.HTTPRequestMethodPost, semconv.URLFull("http://127.0.0.1:9000/bench"), semconv.ServerAddress("127.0.0.1"),
			semconv.ServerPort(9000), attribute.Int("hookgate.attempt", 1), attribute.String("hookgate.destination", "sink"),
			attribute.String("hookgate.route", "bench"), attribute.String("hookgate.delivery_id", "dlv_01M845288EF4HY7PE1H28PRSDT"),
			attribute.String("hookgate.event_id", "evt_01M845288EF4HY7PE1H04D602J"), semconv.HTTPResponseStatusCode(200))
	}
	a.End()
}

// BenchmarkEventSpans measures the tracing cost of one event (six spans)
// from start to export over OTLP gRPC to an in-process receiver, with
// tracing off, sample_ratio 0.1 and 1.0. The batcher blocks rather than
// drops when its queue is full (the gateway's drops), so every sampled span
// is exported within the timed loop. The receiver runs in the same process,
// so its decoding is counted too: an upper bound.
func BenchmarkEventSpans(b *testing.B) {
	addr, rcv := startReceiver(b)
	for _, c := range []struct {
		name  string
		ratio float64 // <0: tracing off
	}{
		{"off", -1},
		{"ratio_0.1", 0.1},
		{"ratio_1", 1},
	} {
		b.Run(c.name, func(b *testing.B) {
			var tp trace.TracerProvider = noop.NewTracerProvider()
			var sdk *sdktrace.TracerProvider
			if c.ratio >= 0 {
				exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(addr), otlptracegrpc.WithInsecure())
				if err != nil {
					b.Fatal(err)
				}
				sdk = sdktrace.NewTracerProvider(
					sdktrace.WithBatcher(exp, sdktrace.WithMaxQueueSize(8192), sdktrace.WithBlocking()),
					sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(c.ratio))))
				tp = sdk
			}
			tracer := telemetry.Tracer(tp)
			before := rcv.spans.Load()
			b.ReportAllocs()
			for b.Loop() {
				oneEvent(tracer, context.Background())
			}
			if sdk != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := sdk.Shutdown(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				b.ReportMetric(float64(rcv.spans.Load()-before)/float64(b.N), "spans_exported/op")
			}
		})
	}
}
