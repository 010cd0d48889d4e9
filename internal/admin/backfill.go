package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/hookgate/hookgate/internal/api"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/routing"
	"github.com/hookgate/hookgate/internal/store"
)

// Backfill (POST /api/events/replay) routes stored events again through
// the running config: for each matching event, a copy (a new event whose
// ReplayOf names the original) with the deliveries the current routes make
// of it, each naming the delivery it replays (the original's on the same
// route and destination, else the original event). The originals are left
// as they are. The delivery engine sends the new deliveries like any
// other, paced by each destination's rate_limit and max_concurrency.

// Bounds of one backfill call: how many matching events it takes (the
// answer's next_cursor continues), and how many it shows.
const (
	defaultBackfill = 1000
	maxBackfill     = 10_000
	backfillSample  = 5
	backfillSkips   = 20
)

// replayEvents is POST /api/events/replay?filter=&since=&until=&source=&route=&dry_run=&limit=&cursor=.
func (s *Server) replayEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	es, err := parseEventSearch(url.Values{"filter": q["filter"], "since": q["since"], "until": q["until"], "source": q["source"], "cursor": q["cursor"]})
	if err != nil {
		searchError(w, err)
		return
	}
	if es.query.Limit, err = intParam(q.Get("limit"), defaultBackfill, 1, maxBackfill); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be a number from 1 to %d", maxBackfill))
		return
	}
	dry, err := boolParam(q.Get("dry_run"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "dry_run must be true or false")
		return
	}
	cfg := s.Current()
	route := q.Get("route")
	if route != "" && cfg.Route(route) == nil {
		writeError(w, http.StatusNotFound, "no route named "+strconv.Quote(route))
		return
	}
	extendWrite(w, r, 0)
	ans, err := s.backfill(r.Context(), cfg, es, route, dry, func() { extendWrite(w, r, 0) })
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// backfill runs one backfill call (a dry run: counts only) under cfg;
// progress is called every 100 events (to move a write deadline on).
func (s *Server) backfill(ctx context.Context, cfg *config.Config, es eventSearch, route string, dry bool, progress func()) (api.Backfill, error) {
	evs, next, err := s.searchPage(ctx, es)
	if err != nil {
		return api.Backfill{}, err
	}
	ans := api.Backfill{DryRun: dry, Events: len(evs), Destinations: map[string]int{}, Sample: []api.BackfillDelivery{}, Skipped: []api.BackfillSkip{}, NextCursor: next}
	skip := func(ev *store.Event, reason string) {
		ans.SkippedCount++
		if len(ans.Skipped) < backfillSkips {
			ans.Skipped = append(ans.Skipped, api.BackfillSkip{Event: ev.ID, Reason: reason})
		}
	}
	now := s.now()
	notify := map[string]bool{}
	defer func() {
		// The copies stored are delivered, even when a later one failed.
		names := make([]string, 0, len(notify))
		for n := range notify {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			s.notify(n)
		}
	}()
	for i, ev := range evs {
		if i%100 == 99 && progress != nil {
			progress()
		}
		cp, ds, reason, err := s.backfillOne(ctx, cfg, ev, route, now)
		if err != nil {
			return ans, err
		}
		if reason != "" {
			skip(ev, reason)
			continue
		}
		if !dry {
			if _, err := s.Store.Accept(ctx, cp, ds, nil); err != nil {
				// The copies stored so far stand; the caller sees the
				// failure and may run the rest again.
				s.logger().Error("events replay", "event_id", ev.ID, "replayed", ans.Replayed, "error", err)
				return ans, err
			}
		}
		ans.Replayed++
		for _, d := range ds {
			ans.Deliveries++
			ans.Destinations[d.Destination]++
			if !dry {
				notify[d.Destination] = true
			}
			if len(ans.Sample) < backfillSample {
				bd := api.BackfillDelivery{Event: ev.ID, ReplayOf: d.ReplayOf, Route: d.Route, Destination: d.Destination, Body: api.RawJSON(d.Body)}
				if !dry {
					bd.ID = d.ID
				}
				ans.Sample = append(ans.Sample, bd)
			}
		}
	}
	if !dry {
		s.logger().Info("events replayed", "events", ans.Replayed, "deliveries", ans.Deliveries, "skipped", ans.SkippedCount)
	}
	return ans, nil
}

// backfillOne routes ev again under cfg and returns its copy and the new
// deliveries, or why it is skipped.
func (s *Server) backfillOne(ctx context.Context, cfg *config.Config, ev *store.Event, route string, now time.Time) (*store.Event, []*store.Delivery, string, error) {
	src := cfg.Source(ev.Source)
	if src == nil {
		return nil, nil, fmt.Sprintf("the config has no source named %q", ev.Source), nil
	}
	h := http.Header{}
	for k, v := range ev.Headers {
		h.Set(k, v)
	}
	out := routing.Simulate(src, routing.Request{Header: h, Body: ev.Body})
	if !out.Accepted {
		return nil, nil, fmt.Sprintf("the config refuses it now: %d %s", out.Status, out.Error), nil
	}
	// The original's deliveries, by route and destination, for ReplayOf.
	orig := map[[2]string]string{}
	for _, id := range ev.DeliveryIDs {
		d, _, err := s.Store.Delivery(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // cleaned up
		}
		if err != nil {
			return nil, nil, "", err
		}
		orig[[2]string{d.Route, d.Destination}] = d.ID
	}
	cp := &store.Event{
		ID: ids.New(ids.Event, now), Source: ev.Source, EventType: out.EventType, ReceivedAt: now,
		Headers: ev.Headers, Body: ev.Body, TraceParent: newTraceParent(), ConfigHash: cfg.Hash, ReplayOf: ev.ID,
	}
	var ds []*store.Delivery
	for _, d := range out.Deliveries() {
		if route != "" && d.Route.Name != route {
			continue
		}
		of := orig[[2]string{d.Route.Name, d.Destination.Name}]
		if of == "" {
			of = ev.ID
		}
		dl := &store.Delivery{
			ID: ids.New(ids.Delivery, now), EventID: cp.ID, Source: cp.Source, EventType: cp.EventType,
			Route: d.Route.Name, Destination: d.Destination.Name, Body: d.Body, Status: store.Pending,
			CreatedAt: now, UpdatedAt: now, NextAttemptAt: now, TraceParent: cp.TraceParent, ReplayOf: of,
		}
		ds = append(ds, dl)
		cp.DeliveryIDs = append(cp.DeliveryIDs, dl.ID)
	}
	if len(ds) == 0 {
		if route != "" {
			return nil, nil, fmt.Sprintf("route %s does not take it now", route), nil
		}
		return nil, nil, "no route takes it now", nil
	}
	return cp, ds, "", nil
}

// boolParam parses a query flag: "", "0", "false" are false; "1", "true"
// true.
func boolParam(s string) (bool, error) {
	switch s {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, errors.New("not a boolean")
}
