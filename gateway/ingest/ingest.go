// Package ingest is the HTTP handler senders POST webhooks to. For each
// request it finds the source by path, reads the body within max_body,
// verifies the sender, answers a challenge, checks the event against its
// schema, routes it, and stores the event with all its deliveries in one
// durable write before answering 202. Its answers are SPEC's ingest table.
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
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

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

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cfg := h.Current()
	src := cfg.SourceByPath(r.URL.Path)
	if src == nil {
		h.answer(w, r, "", http.StatusNotFound, errorBody{Error: fmt.Sprintf("no source listens on %s", r.URL.Path)})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.answer(w, r, src.Name, http.StatusMethodNotAllowed, errorBody{Error: "webhooks are POSTed"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, cfg.Gateway.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.answer(w, r, src.Name, http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf("body is larger than max_body (%d bytes)", cfg.Gateway.MaxBody)})
			return
		}
		h.answer(w, r, src.Name, http.StatusBadRequest, errorBody{Error: "cannot read the body"})
		return
	}
	now := h.now()
	if src.Verifier != nil {
		if err := src.Verifier.Verify(&plugins.Request{Method: r.Method, Header: r.Header, Body: body}, now); err != nil {
			h.answer(w, r, src.Name, http.StatusUnauthorized, errorBody{Error: err.Error()})
			return
		}
	}
	res, err := routing.Evaluate(src, r.Header, body)
	if err != nil {
		if errors.Is(err, routing.ErrNotJSON) {
			h.answer(w, r, src.Name, http.StatusBadRequest, errorBody{Error: err.Error()})
			return
		}
		h.logger().Error("evaluate", "source", src.Name, "error", err)
		h.answer(w, r, src.Name, http.StatusInternalServerError, errorBody{Error: "cannot evaluate the event"})
		return
	}
	switch {
	case res.Challenge != nil:
		h.count(r.Context(), src.Name, http.StatusOK)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(res.Challenge)
		return
	case res.UnknownEvent:
		h.answer(w, r, src.Name, http.StatusUnprocessableEntity, errorBody{Error: res.UnknownEventError(src), Fields: res.Problems})
		return
	case len(res.Problems) > 0:
		h.answer(w, r, src.Name, http.StatusUnprocessableEntity, errorBody{Error: "the event does not match its schema", Fields: res.Problems})
		return
	}

	ev, ds := h.records(cfg, src, r, body, res, now)
	var dd *store.Dedupe
	if src.Dedupe != nil && res.DedupeKey != "" {
		dd = &store.Dedupe{Key: res.DedupeKey, Window: src.Dedupe.Window}
	}
	start := time.Now()
	first, err := h.Store.Accept(r.Context(), ev, ds, dd)
	if h.Metrics != nil {
		h.Metrics.StoreWriteDuration.Record(r.Context(), time.Since(start).Seconds())
	}
	switch {
	case errors.Is(err, store.ErrDuplicate):
		h.answer(w, r, src.Name, http.StatusOK, map[string]any{"id": first, "duplicate": true})
		return
	case err != nil:
		h.logger().Error("store event", "source", src.Name, "event_id", ev.ID, "error", err)
		w.Header().Set("Retry-After", "5")
		h.answer(w, r, src.Name, http.StatusServiceUnavailable, errorBody{Error: "the event could not be stored; try again"})
		return
	}
	h.answer(w, r, src.Name, http.StatusAccepted, map[string]any{"id": ev.ID, "deliveries": len(ds)})
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

// records builds the event and its deliveries.
func (h *Handler) records(cfg *config.Config, src *config.Source, r *http.Request, body []byte, res *routing.Result, now time.Time) (*store.Event, []*store.Delivery) {
	ev := &store.Event{
		ID:          ids.New(ids.Event, now),
		Source:      src.Name,
		EventType:   res.EventType,
		ReceivedAt:  now,
		Headers:     safeHeaders(r.Header),
		Body:        body,
		DedupeKey:   res.DedupeKey,
		TraceParent: r.Header.Get("traceparent"),
		ConfigHash:  cfg.Hash,
	}
	var ds []*store.Delivery
	for _, rr := range res.Routes {
		if rr.Matched && len(rr.Deliveries) == 0 && rr.Reason != "" {
			// A transform that fails at run time (e.g. on a field that is
			// null in this event) cannot produce a body to deliver.
			h.logger().Warn("route matched but produced no body", "route", rr.Route.Name, "event_id", ev.ID, "reason", rr.Reason)
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

func (h *Handler) answer(w http.ResponseWriter, r *http.Request, source string, status int, body any) {
	h.count(r.Context(), source, status)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(body)
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

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}
