package admin

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/rules"
	"github.com/hookgate/hookgate/internal/store"
)

// deadVars are the `$` variables of a dead-letter filter, besides the
// payload's fields (those of the body that was sent).
var deadVars = []string{"$body", "$source", "$event", "$status", "$error", "$reason", "$destination", "$route", "$attempts", "$env"}

// DeadFilter is a compiled filter over dead deliveries: the payload's
// fields are those of the body sent; $status is the last attempt's HTTP
// status (0 for none), $error its error, $reason why it was
// dead-lettered, $destination, $route, $source, $event and $attempts the
// delivery's.
type DeadFilter struct{ prog *rules.Program }

// CompileDeadFilter compiles expr (a *FilterError when it does not).
func CompileDeadFilter(expr string) (*DeadFilter, error) {
	prog, err := compileFilter(expr, deadVars)
	if err != nil {
		return nil, err
	}
	return &DeadFilter{prog: prog}, nil
}

// Match reports whether d (read with its body) passes f; a run-time error
// does not pass.
func (f *DeadFilter) Match(d *store.Delivery) bool {
	var payload any
	if err := json.Unmarshal(d.Body, &payload); err != nil {
		payload = nil // a body that is not JSON still has its facts
	}
	in := &rules.Input{Body: payload, Source: d.Source, Event: d.EventType, Extra: map[string]any{
		"$status": d.LastStatus, "$error": d.LastError, "$reason": d.DeadReason,
		"$destination": d.Destination, "$route": d.Route, "$attempts": d.Attempts,
	}}
	ok, err := f.prog.Bool(in)
	return err == nil && ok
}

// replayFiltered is POST /api/dlq/replay with a filter: each dead
// delivery (of rq's destination and route, dead-lettered within its
// times) the filter passes is made pending again, as a retry does (same
// id, so the same webhook-id).
func (s *Server) replayFiltered(w http.ResponseWriter, r *http.Request, rq store.ReplayQuery, expr string) {
	f, err := CompileDeadFilter(expr)
	if err != nil {
		searchError(w, err)
		return
	}
	ctx := r.Context()
	now := s.now()
	q := store.Query{Status: store.Dead, Destination: rq.Destination, Route: rq.Route, Limit: store.MaxLimit}
	var ids []string
	dests := map[string]bool{}
	for {
		extendWrite(w, r, 0)
		page, err := s.Store.Deliveries(ctx, q)
		if err != nil {
			s.storeError(w, err)
			return
		}
		for _, listed := range page.Deliveries {
			if !rq.Since.IsZero() && listed.UpdatedAt.Before(rq.Since) || !rq.Until.IsZero() && !listed.UpdatedAt.Before(rq.Until) {
				continue
			}
			d, _, err := s.Store.Delivery(ctx, listed.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				s.storeError(w, err)
				return
			}
			if f.Match(d) {
				ids = append(ids, d.ID)
				dests[d.Destination] = true
			}
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	n := 0
	for _, id := range ids {
		switch err := s.Store.Retry(ctx, id, now); {
		case err == nil:
			n++
		case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
			// Retried or cleaned up meanwhile.
		default:
			s.storeError(w, err)
			return
		}
	}
	for d := range dests {
		s.notify(d)
	}
	s.logger().Info("dead deliveries replayed by filter", "replayed", n, "destinations", len(dests))
	writeJSON(w, http.StatusOK, api.Replayed{Replayed: n})
}
