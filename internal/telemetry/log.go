package telemetry

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// LogHandler wraps a slog.Handler so that every record logged with a
// context holding a span (the *Context methods: InfoContext, ErrorContext…)
// carries its trace_id and span_id, and a log line leads to its trace in
// Jaeger. Records logged without a span context are passed on as they are.
type LogHandler struct {
	inner slog.Handler
}

// NewLogHandler returns h wrapped in a LogHandler (h itself when it already
// is one).
func NewLogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(*LogHandler); ok {
		return h
	}
	return &LogHandler{inner: h}
}

// Enabled implements slog.Handler.
func (h *LogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h *LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && !hasTraceID(r) {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.inner.Handle(ctx, r)
}

// hasTraceID reports whether the record was given a trace_id already.
func hasTraceID(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == "trace_id"
		return !found
	})
	return found
}

// WithAttrs implements slog.Handler.
func (h *LogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &LogHandler{inner: h.inner.WithAttrs(as)}
}

// WithGroup implements slog.Handler.
func (h *LogHandler) WithGroup(name string) slog.Handler {
	return &LogHandler{inner: h.inner.WithGroup(name)}
}

// errorEvery is how often ErrorHandler logs OpenTelemetry's errors at most.
const errorEvery = time.Minute

// ErrorHandler returns an otel.ErrorHandler that logs OpenTelemetry's own
// errors (a collector that cannot be reached, spans dropped) to log, at most
// one line a minute, with how many were left out.
func ErrorHandler(log *slog.Logger) otel.ErrorHandler {
	return &errorHandler{log: log.With("component", "telemetry")}
}

type errorHandler struct {
	log *slog.Logger

	mu      sync.Mutex
	last    time.Time
	dropped int
}

// Handle implements otel.ErrorHandler.
func (h *errorHandler) Handle(err error) {
	h.mu.Lock()
	now := time.Now()
	if !h.last.IsZero() && now.Sub(h.last) < errorEvery {
		h.dropped++
		h.mu.Unlock()
		return
	}
	dropped := h.dropped
	h.last, h.dropped = now, 0
	h.mu.Unlock()
	h.log.Warn("opentelemetry", "error", err, "errors_not_logged", dropped)
}
