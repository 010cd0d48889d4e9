package telemetry

import (
	"context"
	"encoding/hex"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/hookgate/hookgate/internal/buildinfo"
)

// ScopeName is the instrumentation scope of hookgate's spans and metrics.
const ScopeName = "github.com/hookgate/hookgate"

// Tracing is the tracer provider built from TracingOptions. Without an
// exporter it is a no-op provider: spans cost next to nothing and are never
// exported, but a sender's traceparent still passes through to the
// deliveries.
type Tracing struct {
	provider trace.TracerProvider
	sdk      *sdktrace.TracerProvider // nil when tracing is off
}

// TracingOptions are what NewTracing builds the tracer provider from; the
// gateway maps the config's telemetry block to them.
type TracingOptions struct {
	// ServiceName is the resource's service.name; "hookgate" when empty.
	ServiceName string
	// Exporter is where spans are sent; the zero Exporter turns tracing
	// off.
	Exporter Exporter
	// SampleRatio is the share of new traces sampled, 0 to 1.
	SampleRatio float64
}

// Exporter is an OTLP collector endpoint, as the config's otlp_endpoint
// names it once parsed.
type Exporter struct {
	// GRPC is true for OTLP over gRPC, false for OTLP over HTTP.
	GRPC bool
	// TLS is true for gRPC with TLS; an HTTP Target's scheme says it.
	TLS bool
	// Target is host:port for gRPC, the full URL for HTTP; "" means none.
	Target string
}

// NewTracing builds the tracer provider of o: an OTLP exporter over gRPC
// (with TLS when o.Exporter.TLS) or over HTTP, spans batched; a resource
// with service.name and service.version; sampling that follows a sender's
// sampled flag and samples o.SampleRatio of new traces. It connects
// lazily: a collector that is down does not keep the gateway from
// starting (spans are dropped until it is up).
func NewTracing(ctx context.Context, o TracingOptions) (*Tracing, error) {
	if o.Exporter.Target == "" {
		return &Tracing{provider: noop.NewTracerProvider()}, nil
	}
	exp, err := newExporter(ctx, o.Exporter)
	if err != nil {
		return nil, err
	}
	name := o.ServiceName
	if name == "" {
		name = "hookgate"
	}
	res := resource.NewWithAttributes(semconv.SchemaURL,
		semconv.ServiceName(name),
		semconv.ServiceVersion(buildinfo.Version),
	)
	tp := sdktrace.NewTracerProvider(
		// A queue four times the default: a burst of a few thousand
		// events (six spans each) is exported, not dropped.
		sdktrace.WithBatcher(exp, sdktrace.WithMaxQueueSize(8192)),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(o.SampleRatio))),
	)
	return &Tracing{provider: tp, sdk: tp}, nil
}

// newExporter returns the OTLP exporter of e (see NewTracing).
func newExporter(ctx context.Context, e Exporter) (sdktrace.SpanExporter, error) {
	if !e.GRPC {
		return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(e.Target))
	}
	opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(e.Target)}
	if !e.TLS {
		opts = append(opts, otlptracegrpc.WithInsecure())
	}
	return otlptracegrpc.New(ctx, opts...)
}

// Provider returns the tracer provider every part starts its spans with.
func (t *Tracing) Provider() trace.TracerProvider {
	if t == nil {
		return noop.NewTracerProvider()
	}
	return t.provider
}

// Enabled reports whether spans are exported.
func (t *Tracing) Enabled() bool { return t != nil && t.sdk != nil }

// Shutdown exports the spans still buffered and stops the exporter, within
// ctx.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.sdk == nil {
		return nil
	}
	return t.sdk.Shutdown(ctx)
}

// Tracer returns hookgate's tracer of tp (nil: a no-op one).
func Tracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer(ScopeName, trace.WithInstrumentationVersion(buildinfo.Version))
}

// propagator is W3C Trace Context: the traceparent (and tracestate) header.
var propagator propagation.TraceContext

// Extract returns ctx with the remote span context of h's traceparent, when
// it holds a valid one.
func Extract(ctx context.Context, h propagation.TextMapCarrier) context.Context {
	return propagator.Extract(ctx, h)
}

// ContextWithTraceParent returns ctx with the remote span context of a W3C
// traceparent value (as stored with an event and its deliveries); ctx as is
// when tp is empty or invalid.
func ContextWithTraceParent(ctx context.Context, tp string) context.Context {
	if tp == "" {
		return ctx
	}
	return propagator.Extract(ctx, traceParentCarrier(tp))
}

// TraceParent returns the W3C traceparent of the span in ctx
// ("00-<trace id>-<span id>-<flags>"), or "" when ctx has no valid span
// context.
func TraceParent(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	tid, sid := sc.TraceID(), sc.SpanID()
	var b [55]byte
	copy(b[:], "00-")
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{byte(sc.TraceFlags() & trace.FlagsSampled)})
	return string(b[:])
}

// traceParentCarrier is a carrier holding one traceparent value.
type traceParentCarrier string

func (c traceParentCarrier) Get(key string) string {
	if key == "traceparent" {
		return string(c)
	}
	return ""
}

func (c traceParentCarrier) Set(string, string) {}

func (c traceParentCarrier) Keys() []string { return []string{"traceparent"} }
