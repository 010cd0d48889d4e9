package admin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/routing"
	"github.com/hookgate/hookgate/internal/store"
)

// testRoute is the marker route name of a test delivery (POST
// /api/destinations/{name}/test). It is not an HCL identifier, so no
// configured route can have it; `-route @test` lists test deliveries.
const testRoute = "@test"

// testGrace is how much longer than the destination's timeout the test
// endpoint waits for the first attempt to be recorded.
const testGrace = 5 * time.Second

// testPoll is how often the test endpoint looks for the attempt.
const testPoll = 20 * time.Millisecond

// requestError is a failure the caller caused, with its HTTP status.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

// testDestination is POST /api/destinations/{name}/test[?route=R&event_type=E]:
// it stores a test event with one delivery to the destination, wakes the
// delivery engine, and waits (at most the destination's timeout plus
// testGrace) for the first attempt, sent and signed like any other. The
// body sent is the request's body when it has one (as is), else routing's
// test event: a sample built from the schema of an event the
// destination's routes receive that the route's filter passes, put
// through the route's transform. It answers 200 with the delivery and its
// attempts, or 202 with its id when no attempt was recorded in time. The
// delivery is an ordinary one marked with the route "@test": a failure
// retries by the destination's schedule and ends in the dead-letter set.
func (s *Server) testDestination(w http.ResponseWriter, r *http.Request) {
	cfg := s.Current()
	dest := cfg.Destination(r.PathValue("name"))
	if dest == nil {
		writeError(w, http.StatusNotFound, "no destination named "+strconv.Quote(r.PathValue("name")))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, cfg.Gateway.MaxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than max_body (%d bytes)", cfg.Gateway.MaxBody))
		return
	}
	q := r.URL.Query()
	id, err := s.sendTest(r.Context(), cfg, dest, q.Get("route"), q.Get("event_type"), body)
	if err != nil {
		s.testError(w, err)
		return
	}
	extendWrite(w, r, dest.Timeout+testGrace)
	d, attempts, err := s.awaitAttempt(r.Context(), id, dest.Timeout+testGrace)
	if err != nil {
		s.storeError(w, err)
		return
	}
	if d.Attempts == 0 {
		writeJSON(w, http.StatusAccepted, api.TestQueued{ID: d.ID, EventID: d.EventID, Status: string(d.Status)})
		return
	}
	writeJSON(w, http.StatusOK, api.DeliveryOf(d, attempts, true))
}

// testError answers a sendTest failure.
func (s *Server) testError(w http.ResponseWriter, err error) {
	var re *requestError
	if errors.As(err, &re) {
		writeError(w, re.status, re.msg)
		return
	}
	s.storeError(w, err)
}

// sendTest stores a test event with one delivery to dest and wakes the
// engine; it returns the delivery's id. body, when not blank, is sent as
// is and must be JSON.
func (s *Server) sendTest(ctx context.Context, cfg *config.Config, dest *config.Destination, routeName, eventType string, body []byte) (string, error) {
	now := s.now()
	plan, err := routing.PlanTest(cfg, dest, routeName, eventType)
	if err != nil {
		return "", &requestError{http.StatusBadRequest, err.Error()}
	}
	var payload []byte
	if len(bytes.TrimSpace(body)) > 0 {
		if !json.Valid(body) {
			return "", &requestError{http.StatusBadRequest, "the body is not JSON"}
		}
		// A given body is sent as is; its type is what the caller says.
		payload = body
		plan.EventType = eventType
	} else if payload, body, err = plan.Event(now); err != nil {
		return "", &requestError{http.StatusUnprocessableEntity, err.Error() + "; send the body to test with instead"}
	}
	ev := &store.Event{
		ID:          ids.New(ids.Event, now),
		EventType:   plan.EventType,
		ReceivedAt:  now,
		Body:        payload,
		TraceParent: newTraceParent(),
		ConfigHash:  cfg.Hash,
	}
	if plan.Route != nil {
		ev.Headers = routing.TestHeaders(plan.Route.Name)
	} else {
		ev.Headers = routing.TestHeaders("")
	}
	if plan.Source != nil {
		ev.Source = plan.Source.Name
	}
	d := &store.Delivery{
		ID:            ids.New(ids.Delivery, now),
		Route:         testRoute,
		Destination:   dest.Name,
		Body:          body,
		Status:        store.Pending,
		CreatedAt:     now,
		UpdatedAt:     now,
		NextAttemptAt: now,
	}
	if _, err := s.Store.Accept(ctx, ev, []*store.Delivery{d}, nil); err != nil {
		return "", err
	}
	s.logger().Info("test delivery", "destination", dest.Name, "delivery_id", d.ID, "event_id", ev.ID, "trace_id", api.TraceID(ev.TraceParent))
	s.notify(dest.Name)
	return d.ID, nil
}

// awaitAttempt polls the delivery until it has an attempt, within timeout
// (at once when there is no engine to notify).
func (s *Server) awaitAttempt(ctx context.Context, id string, timeout time.Duration) (*store.Delivery, []store.Attempt, error) {
	if s.Notify == nil {
		timeout = 0
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(testPoll)
	defer tick.Stop()
	for {
		d, attempts, err := s.Store.Delivery(ctx, id)
		if err != nil || d.Attempts > 0 {
			return d, attempts, err
		}
		select {
		case <-ctx.Done():
			return d, attempts, nil
		case <-deadline.C:
			return d, attempts, nil
		case <-tick.C:
		}
	}
}

// newTraceParent returns a fresh sampled W3C traceparent, so a test
// delivery has a trace id as an ingested event does.
func newTraceParent() string {
	var b [24]byte
	rand.Read(b[:])
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-01"
}
