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
	"mime"
	"net/http"
	"slices"
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

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/routing"
	"github.com/hookgate/hookgate/internal/rules"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/telemetry"
	"github.com/hookgate/hookgate/plugins"
)

// Store is what ingest needs of the store: one durable write per event.
type Store interface {
	Accept(ctx context.Context, ev *store.Event, ds []*store.Delivery, dd *store.Dedupe) (string, error)
}

// Handoff is the delivery engine's side of an accepted event: a delivery
// it has room for is stored leased to this process (LeaseUntil) and handed
// over in memory once durable, so its first attempt needs no claim from
// the store. delivery.Engine implements it.
type Handoff interface {
	// HandoffLease reports whether a delivery to destination can be
	// handed over, and how long to store it leased.
	HandoffLease(destination string) (time.Duration, bool)
	// Handoff takes deliveries stored leased after HandoffLease.
	Handoff(ds []*store.Delivery)
}

// Handler serves ingest requests.
type Handler struct {
	// Current returns the config to serve with; it may change between
	// requests (reloads), never during one.
	Current func() *config.Config
	Store   Store
	// Handoff, when set, is given every delivery it has room for once
	// stored (see Handoff). May be nil.
	Handoff Handoff
	// Notify is told the destination of every delivery just stored that
	// was not handed over, so the delivery engine claims it at once. May
	// be nil.
	Notify func(destination string)
	// MaxInFlight bounds the requests served at once (each may hold up to
	// max_body before it is verified); beyond it a request gets 503 with
	// Retry-After. 0 means no bound.
	MaxInFlight int
	// Now is the clock; nil means time.Now.
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics *telemetry.Metrics
	// TracerProvider starts the ingest spans; nil means a no-op one (a
	// sender's traceparent is still kept with the event).
	TracerProvider trace.TracerProvider
	// Refused is told of each 4xx answered to a request on a known
	// source, with what the sender was told (alerts count 401s and
	// 422s). May be nil.
	Refused func(source string, status int, reason string)

	initOnce sync.Once
	tracer   trace.Tracer
	inFlight chan struct{} // nil: unbounded

	// countAttrs caches the attribute set of each (source, status) count:
	// building one hashes it, and did so on every request.
	countAttrs  sync.Map // countKey → metric.MeasurementOption
	verifyAttrs sync.Map // verifyKey → metric.MeasurementOption
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

// request is one ingest request as it goes through the stages of
// ServeHTTP.
type request struct {
	w     http.ResponseWriter
	r     *http.Request
	cfg   *config.Config
	src   *config.Source
	start time.Time // when the request reached the handler
	now   time.Time // the time the event is stamped and verified with
	body  []byte
	// form: the body is a form, turned into JSON once verified.
	form bool
	// ctx carries the server span once started (startSpan).
	ctx  context.Context
	span trace.Span
}

// ServeHTTP implements http.Handler in four stages: read and verify the
// request, evaluate it (challenge, JSON, event type, schema, routes and
// transforms), persist the event with its deliveries in one durable write,
// and answer 202, handing the deliveries to the delivery engine.
//
// Each request is one server span, which carries what verify, evaluate
// and route found as attributes (the verifier, the event type, the routes
// matched, the reason of a refusal, the store's error on a 503): each
// child span cost more than the microseconds of work it timed (the
// durable write's duration is the hookgate_store_write_duration_seconds
// histogram). It continues the sender's traceparent, and so follows the
// sender's sampling decision, only once the request is verified: an
// unverified sender's trace context is a link on a span sampled by the
// gateway's own sample_ratio, so nobody can force every request to be
// traced. The span's context is what the event and its deliveries keep,
// so every delivery attempt joins the trace.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.initOnce.Do(h.init)
	q := &request{w: w, r: r, start: time.Now(), cfg: h.Current()}
	q.src = q.cfg.SourceByPath(r.URL.Path)
	if h.inFlight != nil {
		select {
		case h.inFlight <- struct{}{}:
			defer func() { <-h.inFlight }()
		default:
			h.startSpan(q, false)
			defer q.span.End()
			w.Header().Set("Retry-After", "1")
			h.answer(q, http.StatusServiceUnavailable, errorBody{Error: "too many requests in flight; try again"})
			return
		}
	}
	verified, ok := h.readAndVerify(q)
	if !ok {
		return
	}
	h.startSpan(q, verified)
	defer q.span.End()
	if c, ok := q.src.Verifier.(plugins.Challenger); ok && verified {
		// The provider's URL check (Slack's url_verification), answered
		// by its verifier: nothing stored.
		if answer, ok := c.Challenge(q.body); ok {
			h.count(q.ctx, q.src.Name, http.StatusOK)
			setStatus(q.span, http.StatusOK)
			q.w.Header().Set("Content-Type", "application/json")
			q.w.WriteHeader(http.StatusOK)
			q.w.Write(answer)
			return
		}
	}
	if q.form {
		// A form's fields become the event, delivered as JSON; the
		// verifier has seen the form as it was sent.
		body, err := routing.FormJSON(q.body)
		if err != nil {
			h.answer(q, http.StatusBadRequest, errorBody{Error: "the body is not a form: " + err.Error()})
			return
		}
		q.body = body
	}
	res, ok := h.evaluate(q)
	if !ok {
		return
	}
	ev, ds, ok := h.persist(q, res)
	if !ok {
		return
	}
	h.answerAccepted(q, ev.ID, len(ds))
	h.deliver(ds)
}

func (h *Handler) init() {
	h.tracer = telemetry.Tracer(h.TracerProvider)
	if h.MaxInFlight > 0 {
		h.inFlight = make(chan struct{}, h.MaxInFlight)
	}
}

// readAndVerify finds the source, reads the body within max_body and
// verifies the sender. It reports whether a verifier accepted the request,
// and false in ok when it has answered. The verify span it times is
// recorded once the server span exists (startSpan).
func (h *Handler) readAndVerify(q *request) (verified, ok bool) {
	if q.src == nil {
		h.startSpan(q, false)
		defer q.span.End()
		h.answer(q, http.StatusNotFound, errorBody{Error: fmt.Sprintf("no source listens on %s", q.r.URL.Path)})
		return false, false
	}
	if q.r.Method != http.MethodPost {
		h.startSpan(q, false)
		defer q.span.End()
		if hs, ok := q.src.Verifier.(plugins.Handshaker); ok && q.r.Method == http.MethodGet {
			// A provider's subscription handshake (Meta's hub.challenge):
			// answered by the verifier, nothing stored.
			if status, ctype, body, ok := hs.Handshake(q.r.URL.Query()); ok {
				h.count(q.ctx, q.src.Name, status)
				setStatus(q.span, status)
				q.w.Header().Set("Content-Type", ctype)
				q.w.WriteHeader(status)
				q.w.Write(body)
				return false, false
			}
		}
		q.w.Header().Set("Allow", http.MethodPost)
		h.answer(q, http.StatusMethodNotAllowed, errorBody{Error: "webhooks are POSTed"})
		return false, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(q.w, q.r.Body, q.cfg.Gateway.MaxBody))
	if err != nil {
		h.startSpan(q, false)
		defer q.span.End()
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.answer(q, http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf("body is larger than max_body (%d bytes)", q.cfg.Gateway.MaxBody)})
			return false, false
		}
		h.answer(q, http.StatusBadRequest, errorBody{Error: "cannot read the body"})
		return false, false
	}
	q.body = body
	mt := mediaType(q.r.Header.Get("Content-Type"))
	if !q.src.Accepts(mt) {
		h.startSpan(q, false)
		defer q.span.End()
		h.answer(q, http.StatusUnsupportedMediaType, errorBody{Error: fmt.Sprintf("Content-Type %q is not accepted here; send one of: %s",
			mt, strings.Join(q.src.ContentTypes, ", "))})
		return false, false
	}
	q.form = mt == config.ContentForm
	q.now = h.now()
	if q.src.Verifier == nil {
		return false, true
	}
	req := &plugins.Request{Method: q.r.Method, Header: q.r.Header, Body: body}
	matched := 0
	if m, ok := q.src.Verifier.(plugins.MatchedSecret); ok {
		matched, err = m.VerifyMatched(req, q.now)
	} else {
		err = q.src.Verifier.Verify(req, q.now)
	}
	h.startSpan(q, err == nil)
	if err == nil {
		h.countVerified(q, matched)
	}
	if q.span.IsRecording() {
		q.span.SetAttributes(attrVerifier.String(q.src.VerifyPlugin))
	}
	if err != nil {
		defer q.span.End()
		// The verifier's message is the one the sender gets (and the
		// span's hookgate.refusal).
		h.answer(q, http.StatusUnauthorized, errorBody{Error: err.Error()})
		return false, false
	}
	return true, true
}

// startSpan starts q's server span, backdated to when the request came in,
// unless it is started. With trusted, it continues the sender's
// traceparent; otherwise the sender's span context is only linked.
func (h *Handler) startSpan(q *request, trusted bool) {
	if q.span != nil {
		return
	}
	ctx := q.r.Context()
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(q.start)}
	if remote := trace.SpanContextFromContext(telemetry.Extract(ctx, propagation.HeaderCarrier(q.r.Header))); remote.IsValid() {
		if trusted {
			ctx = trace.ContextWithRemoteSpanContext(ctx, remote)
		} else {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: remote}))
		}
	}
	name := method(q.r.Method)
	if q.src != nil {
		// The HTTP semantic conventions' server span name: method and route.
		name += " " + q.src.Path
	}
	q.ctx, q.span = h.tracer.Start(ctx, name, opts...)
	if q.span.IsRecording() {
		q.span.SetAttributes(semconv.HTTPRequestMethodKey.String(method(q.r.Method)), semconv.URLPath(q.r.URL.Path), semconv.URLScheme(scheme(q.r)))
		if q.src != nil {
			q.span.SetAttributes(semconv.HTTPRoute(q.src.Path), attrSource.String(q.src.Name))
		}
	}
}

// evaluate checks the event and evaluates the routes' filters and
// transforms in one pass (routing.Evaluate). It answers a challenge, a
// body that is not JSON and a rejected event, and then reports false.
func (h *Handler) evaluate(q *request) (*routing.Result, bool) {
	res, err := routing.Evaluate(q.src, q.r.Header, q.body)
	if err == nil && q.span.IsRecording() {
		switch {
		case res.Challenge != nil:
			q.span.SetAttributes(attrChallenge.Bool(true))
		default:
			q.span.SetAttributes(attrEventType.String(res.EventType))
			if res.Rejected() {
				q.span.SetAttributes(attrProblems.Int(len(res.Problems)))
			}
		}
	}
	switch {
	case errors.Is(err, routing.ErrNotJSON):
		h.answer(q, http.StatusBadRequest, errorBody{Error: err.Error()})
	case err != nil:
		h.logger().ErrorContext(q.ctx, "evaluate", "source", q.src.Name, "error", err)
		h.answer(q, http.StatusInternalServerError, errorBody{Error: "cannot evaluate the event"})
	case res.Challenge != nil:
		h.count(q.ctx, q.src.Name, http.StatusOK)
		setStatus(q.span, http.StatusOK)
		q.w.Header().Set("Content-Type", "application/json")
		q.w.WriteHeader(http.StatusOK)
		q.w.Write(res.Challenge)
	case res.UnknownEvent:
		h.answer(q, http.StatusUnprocessableEntity, errorBody{Error: res.UnknownEventError(q.src), Fields: res.Problems})
	case len(res.Problems) > 0:
		h.answer(q, http.StatusUnprocessableEntity, errorBody{Error: "the event does not match its schema", Fields: res.Problems})
	default:
		return res, true
	}
	return nil, false
}

// persist builds the event and its deliveries and stores them in one
// durable write. Deliveries the delivery engine has room
// for are stored leased to it. It answers a duplicate and a store failure,
// and then reports false.
func (h *Handler) persist(q *request, res *routing.Result) (*store.Event, []*store.Delivery, bool) {
	ev, ds := h.records(q, res, telemetry.TraceParent(q.ctx))
	if q.span.IsRecording() {
		var matched []string
		for _, rr := range res.Routes {
			if rr.Matched {
				matched = append(matched, rr.Route.Name)
			}
		}
		q.span.SetAttributes(attrEventID.String(ev.ID), attrRoutesMatched.StringSlice(matched), attrDeliveries.Int(len(ds)))
	}
	if h.Handoff != nil {
		for _, d := range ds {
			if lease, ok := h.Handoff.HandoffLease(d.Destination); ok {
				d.LeaseUntil = q.now.Add(lease)
			}
		}
	}

	var dd *store.Dedupe
	if q.src.Dedupe != nil && res.DedupeKey != "" {
		dd = &store.Dedupe{Key: res.DedupeKey, Window: q.src.Dedupe.Window}
	}
	start := time.Now()
	first, err := h.Store.Accept(q.ctx, ev, ds, dd)
	if h.Metrics != nil {
		h.Metrics.StoreWriteDuration.Record(q.ctx, time.Since(start).Seconds())
	}
	switch {
	case errors.Is(err, store.ErrDuplicate):
		if q.span.IsRecording() {
			q.span.SetAttributes(attrDuplicateOf.String(first))
		}
		h.answer(q, http.StatusOK, map[string]any{"id": first, "duplicate": true})
		return nil, nil, false
	case err != nil:
		h.logger().ErrorContext(q.ctx, "store event", "source", q.src.Name, "event_id", ev.ID, "error", err)
		q.w.Header().Set("Retry-After", "5")
		h.answer(q, http.StatusServiceUnavailable, errorBody{Error: "the event could not be stored; try again"})
		// The span says why (the store's errors carry no secrets).
		q.span.SetStatus(codes.Error, err.Error())
		return nil, nil, false
	}
	return ev, ds, true
}

// deliver hands the stored deliveries that were leased to the delivery
// engine, and wakes the destinations of the others.
func (h *Handler) deliver(ds []*store.Delivery) {
	var handed []*store.Delivery
	var woken []string
	for _, d := range ds {
		if !d.LeaseUntil.IsZero() {
			handed = append(handed, d)
		} else if h.Notify != nil && !slices.Contains(woken, d.Destination) {
			woken = append(woken, d.Destination)
			h.Notify(d.Destination)
		}
	}
	if len(handed) > 0 {
		h.Handoff.Handoff(handed)
	}
}

// records builds the event and its deliveries; traceParent is the ingest
// span's context, which they keep.
func (h *Handler) records(q *request, res *routing.Result, traceParent string) (*store.Event, []*store.Delivery) {
	now := q.now
	ev := &store.Event{
		ID:          ids.New(ids.Event, now),
		Source:      q.src.Name,
		EventType:   res.EventType,
		ReceivedAt:  now,
		Headers:     safeHeaders(q.r.Header, q.src.Verifier),
		Body:        q.body,
		DedupeKey:   res.DedupeKey,
		TraceParent: traceParent,
		ConfigHash:  q.cfg.Hash,
	}
	var ds []*store.Delivery
	for _, rr := range res.Routes {
		if rr.Matched && len(rr.Deliveries) == 0 && rr.Reason != "" {
			// A transform that fails at run time (e.g. on a field that is
			// null in this event) cannot produce a body to deliver.
			h.logger().WarnContext(q.ctx, "route matched but produced no body", "route", rr.Route.Name, "event_id", ev.ID, "reason", rr.Reason)
		}
		for _, d := range rr.Deliveries {
			dl := &store.Delivery{
				ID:            ids.New(ids.Delivery, now),
				EventID:       ev.ID,
				Source:        q.src.Name,
				EventType:     res.EventType,
				Route:         d.Route.Name,
				Destination:   d.Destination.Name,
				Body:          d.Body,
				Status:        store.Pending,
				CreatedAt:     now,
				UpdatedAt:     now,
				NextAttemptAt: now,
				TraceParent:   ev.TraceParent,
				Key:           d.Key,
				KeyBlocks:     d.KeyBlocks,
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

// safeHeaders returns the request headers to keep with the event:
// lower-case names, without those whose name suggests a credential and
// without those the source's verifier reads its secret or signature from
// (plugins.CredentialHeaders), whatever their name.
func safeHeaders(h http.Header, v plugins.Verifier) map[string]string {
	var secret []string
	if c, ok := v.(plugins.CredentialHeaders); ok {
		secret = c.CredentialHeaders()
	}
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
		for _, s := range secret {
			if strings.EqualFold(s, k) {
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
func (h *Handler) answer(q *request, status int, body any) {
	source := ""
	if q.src != nil {
		source = q.src.Name
	}
	h.count(q.ctx, source, status)
	setStatus(q.span, status)
	if eb, ok := body.(errorBody); ok && h.Refused != nil && source != "" && status >= 400 && status < 500 {
		h.Refused(source, status, eb.Error)
	}
	if eb, ok := body.(errorBody); ok && status < 500 && q.span.IsRecording() {
		// Why the sender was refused: what it is told.
		q.span.SetAttributes(attrRefusal.String(eb.Error))
	}
	q.w.Header().Set("Content-Type", "application/json")
	q.w.WriteHeader(status)
	enc := json.NewEncoder(q.w)
	enc.SetEscapeHTML(false)
	enc.Encode(body)
}

// answerAccepted answers 202 {"deliveries": n, "id": id}, as answer would
// encode it, without reflection: it is every stored event's answer, unless
// the source has a respond block.
func (h *Handler) answerAccepted(q *request, id string, n int) {
	if r := q.src.Respond; r != nil {
		h.count(q.ctx, q.src.Name, r.Status)
		setStatus(q.span, r.Status)
		q.w.Header().Set("Content-Type", r.ContentType)
		q.w.WriteHeader(r.Status)
		q.w.Write(r.Body)
		return
	}
	h.count(q.ctx, q.src.Name, http.StatusAccepted)
	setStatus(q.span, http.StatusAccepted)
	b := make([]byte, 0, 64)
	b = append(b, `{"deliveries":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `,"id":`...)
	b = strconv.AppendQuote(b, id) // ids are ASCII letters, digits and _
	b = append(b, "}\n"...)
	q.w.Header()["Content-Type"] = jsonContentType
	q.w.WriteHeader(http.StatusAccepted)
	q.w.Write(b)
}

// jsonContentType is shared by every 202: header values are not modified
// once written.
var jsonContentType = []string{"application/json"}

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

// countVerified counts a verified request of q's source by the index of
// the secret that matched (hookgate_verify_total{source, secret}).
func (h *Handler) countVerified(q *request, matched int) {
	if h.Metrics == nil {
		return
	}
	k := verifyKey{q.src.Name, matched}
	opt, ok := h.verifyAttrs.Load(k)
	if !ok {
		opt, _ = h.verifyAttrs.LoadOrStore(k, metric.WithAttributes(
			attribute.String("source", q.src.Name), attribute.String("secret", strconv.Itoa(matched))))
	}
	h.Metrics.Verifications.Add(q.ctx, 1, opt.(metric.MeasurementOption))
}

type verifyKey struct {
	source string
	secret int
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
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
	attrRefusal       = attribute.Key("hookgate.refusal")
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

// mediaType is a Content-Type's media type, lower-case, without its
// parameters ("" when absent or unparsable).
func mediaType(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	return mt
}
