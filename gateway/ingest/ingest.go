// Package ingest is the HTTP handler senders POST webhooks to. For each
// request it finds the source by path, reads the body within max_body,
// verifies the sender, answers a challenge, checks the event against its
// schema, routes it, and stores the event with all its deliveries in one
// durable write before answering 202. Its answers are SPEC's ingest table.
// Each request is a server span continuing the sender's traceparent; the
// event and its deliveries keep that span's context, so delivery attempts
// join the same trace.
//
// It must not deliver anything (delivery's job) nor read the config file;
// it serves whichever compiled config Current returns.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/gateway/config"
	"github.com/hookgate/hookgate/gateway/ids"
	"github.com/hookgate/hookgate/gateway/routing"
	"github.com/hookgate/hookgate/gateway/store"
	"github.com/hookgate/hookgate/gateway/telemetry"
	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/rules"
)

// Store is what ingest needs of the store: one durable write per event.
type Store interface {
	Accept(ctx context.Context, ev *store.Event, ds []*store.Delivery, dd *store.Dedupe) (string, error)
}

// Handler serves ingest requests.
type Handler struct {
	// Current returns the config to serve with; it may change between
	// requests (reloads), never during one.
	Current func() *config.Config
	Store   Store
	// Notify is told the destination of every delivery just stored, so the
	// delivery engine starts at once. May be nil.
	Notify func(destination string)
	// Now is the clock; nil means time.Now.
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics *telemetry.Metrics
	// TracerProvider starts the ingest spans; nil means a no-op one (a
	// sender's traceparent is still kept with the event).
	TracerProvider trace.TracerProvider

	tracerOnce sync.Once
	tracerVal  trace.Tracer

	// countAttrs caches the attribute set of each (source, status) count:
	// building one hashes it, and did so on every request.
	countAttrs sync.Map // countKey → metric.MeasurementOption
}

type countKey struct {
	source string
	status int
}

// errorBody is every error answer.
type errorBody struct {
	Error  string          `json:"error"`
	Fields []rules.Problem `json:"fields,omitempty"`
}

// ServeHTTP implements http.Handler. Each request is a server span that
// continues the sender's traceparent (a new trace otherwise), with child
// spans verify, validate, route and store; the span's context is what the
// event and its deliveries keep, so every delivery attempt joins the trace.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tracer := h.tracer()
	ctx := telemetry.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := tracer.Start(ctx, method(r.Method), trace.WithSpanKind(trace.SpanKindServer))
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(semconv.HTTPRequestMethodKey.String(method(r.Method)), semconv.URLPath(r.URL.Path), semconv.URLScheme(scheme(r)))
	}

	cfg := h.Current()
	src := cfg.SourceByPath(r.URL.Path)
	if src == nil {
		h.answer(ctx, w, "", http.StatusNotFound, errorBody{Error: fmt.Sprintf("no source listens on %s", r.URL.Path)})
		return
	}
	if span.IsRecording() {
		// The HTTP semantic conventions' server span name: method and route.
		span.SetName(method(r.Method) + " " + src.Path)
		span.SetAttributes(semconv.HTTPRoute(src.Path), attrSource.String(src.Name))
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.answer(ctx, w, src.Name, http.StatusMethodNotAllowed, errorBody{Error: "webhooks are POSTed"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, cfg.Gateway.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.answer(ctx, w, src.Name, http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf("body is larger than max_body (%d bytes)", cfg.Gateway.MaxBody)})
			return
		}
		h.answer(ctx, w, src.Name, http.StatusBadRequest, errorBody{Error: "cannot read the body"})
		return
	}
	now := h.now()
	if src.Verifier != nil {
		_, vspan := tracer.Start(ctx, "verify")
		err := src.Verifier.Verify(&plugins.Request{Method: r.Method, Header: r.Header, Body: body}, now)
		if vspan.IsRecording() {
			vspan.SetAttributes(attrVerifier.String(src.VerifyPlugin))
			if err != nil {
				// The verifier's message is the one the sender gets.
				vspan.SetStatus(codes.Error, err.Error())
			}
		}
		vspan.End()
		if err != nil {
			h.answer(ctx, w, src.Name, http.StatusUnauthorized, errorBody{Error: err.Error()})
			return
		}
	}
	// routing.Evaluate checks the event and evaluates the routes' filters
	// and transforms in one pass: the validate span covers both, the route
	// span records the verdict.
	_, vspan := tracer.Start(ctx, "validate")
	res, err := routing.Evaluate(src, r.Header, body)
	if vspan.IsRecording() {
		switch {
		case err != nil:
			vspan.SetStatus(codes.Error, err.Error())
		case res.Challenge != nil:
			vspan.SetAttributes(attrChallenge.Bool(true))
		default:
			vspan.SetAttributes(attrEventType.String(res.EventType))
			if res.Rejected() {
				vspan.SetAttributes(attrProblems.Int(len(res.Problems)))
				reason := "the event does not match its schema"
				if res.UnknownEvent {
					reason = res.UnknownEventError(src)
				}
				vspan.SetStatus(codes.Error, reason)
			}
		}
	}
	vspan.End()
	if err != nil {
		if errors.Is(err, routing.ErrNotJSON) {
			h.answer(ctx, w, src.Name, http.StatusBadRequest, errorBody{Error: err.Error()})
			return
		}
		h.logger().ErrorContext(ctx, "evaluate", "source", src.Name, "error", err)
		h.answer(ctx, w, src.Name, http.StatusInternalServerError, errorBody{Error: "cannot evaluate the event"})
		return
	}
	switch {
	case res.Challenge != nil:
		h.count(ctx, src.Name, http.StatusOK)
		setStatus(span, http.StatusOK)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(res.Challenge)
		return
	case res.UnknownEvent:
		h.answer(ctx, w, src.Name, http.StatusUnprocessableEntity, errorBody{Error: res.UnknownEventError(src), Fields: res.Problems})
		return
	case len(res.Problems) > 0:
		h.answer(ctx, w, src.Name, http.StatusUnprocessableEntity, errorBody{Error: "the event does not match its schema", Fields: res.Problems})
		return
	}

	_, rspan := tracer.Start(ctx, "route")
	ev, ds := h.records(ctx, cfg, src, r, body, res, now, telemetry.TraceParent(ctx))
	if rspan.IsRecording() {
		var matched []string
		for _, rr := range res.Routes {
			if rr.Matched {
				matched = append(matched, rr.Route.Name)
			}
		}
		rspan.SetAttributes(attrEventID.String(ev.ID), attrRoutesMatched.StringSlice(matched), attrDeliveries.Int(len(ds)))
	}
	rspan.End()
	if span.IsRecording() {
		span.SetAttributes(attrEventID.String(ev.ID), attrEventType.String(ev.EventType))
	}

	var dd *store.Dedupe
	if src.Dedupe != nil && res.DedupeKey != "" {
		dd = &store.Dedupe{Key: res.DedupeKey, Window: src.Dedupe.Window}
	}
	sctx, sspan := tracer.Start(ctx, "store")
	start := time.Now()
	first, err := h.Store.Accept(sctx, ev, ds, dd)
	if h.Metrics != nil {
		h.Metrics.StoreWriteDuration.Record(ctx, time.Since(start).Seconds())
	}
	if sspan.IsRecording() {
		sspan.SetAttributes(attrEventID.String(ev.ID), attrDeliveries.Int(len(ds)))
		switch {
		case errors.Is(err, store.ErrDuplicate):
			sspan.SetAttributes(attrDuplicateOf.String(first))
		case err != nil:
			sspan.SetStatus(codes.Error, err.Error())
		}
	}
	sspan.End()
	switch {
	case errors.Is(err, store.ErrDuplicate):
		h.answer(ctx, w, src.Name, http.StatusOK, map[string]any{"id": first, "duplicate": true})
		return
	case err != nil:
		h.logger().ErrorContext(ctx, "store event", "source", src.Name, "event_id", ev.ID, "error", err)
		w.Header().Set("Retry-After", "5")
		h.answer(ctx, w, src.Name, http.StatusServiceUnavailable, errorBody{Error: "the event could not be stored; try again"})
		return
	}
	h.answer(ctx, w, src.Name, http.StatusAccepted, map[string]any{"id": ev.ID, "deliveries": len(ds)})
	if h.Notify != nil {
		seen := map[string]bool{}
		for _, d := range ds {
			if !seen[d.Destination] {
				seen[d.Destination] = true
				h.Notify(d.Destination)
			}
		}
	}
}

// records builds the event and its deliveries; traceParent is the ingest
// span's context, which they keep.
func (h *Handler) records(ctx context.Context, cfg *config.Config, src *config.Source, r *http.Request, body []byte, res *routing.Result, now time.Time, traceParent string) (*store.Event, []*store.Delivery) {
	ev := &store.Event{
		ID:          ids.New(ids.Event, now),
		Source:      src.Name,
		EventType:   res.EventType,
		ReceivedAt:  now,
		Headers:     safeHeaders(r.Header),
		Body:        body,
		DedupeKey:   res.DedupeKey,
		TraceParent: traceParent,
		ConfigHash:  cfg.Hash,
	}
	var ds []*store.Delivery
	for _, rr := range res.Routes {
		if rr.Matched && len(rr.Deliveries) == 0 && rr.Reason != "" {
			// A transform that fails at run time (e.g. on a field that is
			// null in this event) cannot produce a body to deliver.
			h.logger().WarnContext(ctx, "route matched but produced no body", "route", rr.Route.Name, "event_id", ev.ID, "reason", rr.Reason)
		}
		for _, d := range rr.Deliveries {
			dl := &store.Delivery{
				ID:            ids.New(ids.Delivery, now),
				EventID:       ev.ID,
				Source:        src.Name,
				EventType:     res.EventType,
				Route:         d.Route.Name,
				Destination:   d.Destination.Name,
				Body:          d.Body,
				Status:        store.Pending,
				CreatedAt:     now,
				UpdatedAt:     now,
				NextAttemptAt: now,
				TraceParent:   ev.TraceParent,
			}
			ds = append(ds, dl)
			ev.DeliveryIDs = append(ev.DeliveryIDs, dl.ID)
		}
	}
	return ev, ds
}

// credentialWords mark headers that may carry credentials; they are not
// stored with the event.
var credentialWords = []string{"authorization", "cookie", "signature", "token", "secret", "api-key", "apikey", "password"}

// safeHeaders returns the request headers to keep with the event: lower-case
// names, credentials left out.
func safeHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		lk := strings.ToLower(k)
		skip := false
		for _, w := range credentialWords {
			if strings.Contains(lk, w) {
				skip = true
				break
			}
		}
		if !skip {
			out[lk] = strings.Join(v, ", ")
		}
	}
	return out
}

// answer writes status and body as JSON, counts the request and puts the
// status on the request's span.
func (h *Handler) answer(ctx context.Context, w http.ResponseWriter, source string, status int, body any) {
	h.count(ctx, source, status)
	setStatus(trace.SpanFromContext(ctx), status)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(body)
}

// setStatus records the answer's status on the server span: a 5xx is an
// error of the gateway's (a 4xx is the sender's, so the span stays unset,
// as the HTTP semantic conventions say).
func setStatus(span trace.Span, status int) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(status))
	if status >= 500 {
		span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
		span.SetStatus(codes.Error, http.StatusText(status))
	}
}

func (h *Handler) count(ctx context.Context, source string, status int) {
	if h.Metrics == nil {
		return
	}
	k := countKey{source, status}
	opt, ok := h.countAttrs.Load(k)
	if !ok {
		opt, _ = h.countAttrs.LoadOrStore(k, metric.WithAttributes(
			attribute.String("source", source), attribute.Int("status", status)))
	}
	h.Metrics.IngestRequests.Add(ctx, 1, opt.(metric.MeasurementOption))
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) tracer() trace.Tracer {
	h.tracerOnce.Do(func() { h.tracerVal = telemetry.Tracer(h.TracerProvider) })
	return h.tracerVal
}

// Span attributes of hookgate's own (the HTTP ones are semconv's).
const (
	attrSource        = attribute.Key("hookgate.source")
	attrVerifier      = attribute.Key("hookgate.verifier")
	attrEventID       = attribute.Key("hookgate.event_id")
	attrEventType     = attribute.Key("hookgate.event_type")
	attrChallenge     = attribute.Key("hookgate.challenge")
	attrProblems      = attribute.Key("hookgate.schema_problems")
	attrRoutesMatched = attribute.Key("hookgate.routes_matched")
	attrDeliveries    = attribute.Key("hookgate.deliveries")
	attrDuplicateOf   = attribute.Key("hookgate.duplicate_of")
)

// method is r.Method as http.request.method takes it: a known method, or
// "_OTHER".
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// scheme is the request's URL scheme as the gateway received it.
func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}
