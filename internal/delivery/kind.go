package delivery

import (
	"context"
	"encoding/json"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/rules"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/telemetry"
	"github.com/hookgate/hookgate/plugins"
)

// attempt makes one attempt of d through k, the destination's kind (the
// HTTP one or a plugin's): it builds the message (the same webhook-id on
// every attempt, the destination's headers, the signature for this
// attempt's time, the traceparent of ctx's span, the key) and turns what k
// observed into a result. timeout bounds the attempt.
func attempt(ctx context.Context, k plugins.Destination, dest *config.Destination, d *store.Delivery, now func() time.Time, timeout time.Duration) result {
	r := result{At: now()}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	h := Headers(dest, d.ID, r.At, d.Body)
	if tp := telemetry.TraceParent(ctx); tp != "" {
		h.Set("traceparent", tp)
	}
	m := &plugins.Outbound{ID: d.ID, EventType: d.EventType, Body: d.Body, Header: h}
	if dest.Key != nil {
		key, err := evalKey(dest.Key, d)
		if err != nil {
			// The body never changes, so no retry can help; a replay
			// after the config is fixed evaluates the new expression.
			r.End = now()
			r.Err, r.ErrType, r.Permanent = "cannot compute the message key: "+err.Error(), "key_error", true
			return r
		}
		m.Key = key
	}
	start := time.Now()
	s := k.Deliver(ctx, m)
	r.Latency = s.Latency
	if r.Latency == 0 {
		r.Latency = time.Since(start)
	}
	r.End = now()
	r.Status, r.Err, r.ErrType, r.Response, r.RetryAfter = s.Status, s.Err, s.ErrType, s.Response, s.RetryAfter
	r.Delivered = s.Err == ""
	r.Permanent = s.Permanent && s.Err != ""
	if r.Err != "" && r.ErrType == "" && ctx.Err() != nil {
		r.ErrType = "timeout"
	}
	return r
}

// evalKey runs the destination's key expression over d's body.
func evalKey(p *rules.Program, d *store.Delivery) (string, error) {
	var body any
	if err := json.Unmarshal(d.Body, &body); err != nil {
		return "", err
	}
	return p.String(&rules.Input{Body: body, Source: d.Source, Event: d.EventType})
}

// sendKind makes one attempt of d to dest through its kind plugin k, in a
// producer span named after the messaging conventions ("send
// creator.events"), a child of the event's ingest span as stored with d,
// like sendTraced's for HTTP.
func sendKind(ctx context.Context, tracer trace.Tracer, k plugins.Destination, dest *config.Destination, d *store.Delivery, now func() time.Time, timeout time.Duration) result {
	ctx = telemetry.ContextWithTraceParent(ctx, d.TraceParent)
	ctx, span := tracer.Start(ctx, "send", trace.WithSpanKind(trace.SpanKindProducer))
	defer span.End()
	if span.IsRecording() {
		span.SetName("send " + dest.Target.Name)
		span.SetAttributes(kindAttrs(dest, d)...)
	}
	r := attempt(ctx, k, dest, d, now, timeout)
	if span.IsRecording() {
		if r.Err == "" {
			span.SetAttributes(attribute.String("hookgate.response", r.Response))
		}
		endAttempt(span, r)
	}
	return r
}

// kindAttrs are the attributes a kind's attempt span starts with:
// OpenTelemetry's messaging conventions and hookgate's own.
func kindAttrs(dest *config.Destination, d *store.Delivery) []attribute.KeyValue {
	t := dest.Target
	as := []attribute.KeyValue{
		semconv.MessagingSystemKey.String(t.System),
		semconv.MessagingOperationTypeSend,
		semconv.MessagingOperationName("send"),
		semconv.MessagingDestinationName(t.Name),
		semconv.MessagingMessageID(d.ID),
		semconv.MessagingMessageBodySize(len(d.Body)),
		attrAttempt.Int(d.Attempts + 1),
		attrDestination.String(dest.Name),
		attrRoute.String(d.Route),
		attrDeliveryID.String(d.ID),
		attrEventID.String(d.EventID),
	}
	if t.Server != "" {
		as = append(as, semconv.ServerAddress(t.Server), semconv.ServerPort(t.Port))
	}
	if t.RoutingKey != "" {
		as = append(as, semconv.MessagingRabbitMQDestinationRoutingKey(t.RoutingKey))
	}
	return as
}

// send makes one attempt of d with s: through the destination's kind
// plugin, or over HTTP.
func (s *destSettings) send(ctx context.Context, tracer trace.Tracer, d *store.Delivery, now func() time.Time) result {
	if s.kind != nil {
		return sendKind(ctx, tracer, s.kind, s.dest, d, now, s.client.Timeout)
	}
	return sendTraced(ctx, tracer, s.client, s.dest, d, now)
}

// kindOf returns the kind plugin the attempts to d are made with: old's
// when the kind's settings did not change (so its connection is kept
// across a reload), else d's own (nil for HTTP).
func kindOf(d *config.Destination, old *destSettings) plugins.Destination {
	if d.Deliverer == nil {
		return nil
	}
	if old != nil && old.kind != nil && old.dest.KindKey == d.KindKey {
		return old.kind
	}
	return d.Deliverer
}

// retire closes what old holds that s no longer uses: its HTTP client's
// idle connections, its kind's connection when the kind changed. An
// attempt still in flight on that connection fails and retries.
func retire(old, s *destSettings) {
	if s == nil || s.client != old.client {
		old.client.CloseIdleConnections()
	}
	if old.kind != nil && (s == nil || s.kind != old.kind) {
		plugins.Close(old.kind)
	}
}

// Preview is the message an attempt of delivery id (of an event of type
// eventType from source) to the kind destination dest would send at ts,
// for the dry run: its headers as the broker gets them (without a
// traceparent, which only an attempt's span has) and its key.
func Preview(dest *config.Destination, id, source, eventType string, ts time.Time, body []byte) (headers map[string]string, key string, err error) {
	m := &plugins.Outbound{ID: id, EventType: eventType, Body: body, Header: Headers(dest, id, ts, body)}
	if dest.Key != nil {
		key, err = evalKey(dest.Key, &store.Delivery{Body: body, Source: source, EventType: eventType})
	}
	return m.Headers(), key, err
}
