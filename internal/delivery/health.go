package delivery

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/telemetry"
)

// health is one destination's breaker, adaptive limit and pause, consulted
// by its loop before each claim and told each attempt's outcome.
type health struct {
	mu      sync.Mutex
	paused  bool
	breaker breaker
	aimd    aimd
	// poke wakes the loop when the pause changes.
	poke chan struct{}
}

func newHealth() *health { return &health{poke: make(chan struct{}, 1)} }

// gate says how many attempts may be in flight now (set.max, or less under
// adaptive concurrency, 1 for a half-open breaker's probe), or, when
// nothing may start (paused, breaker open), for how long (until the
// cooldown ends; poll while paused). inflight are those in flight.
func (h *health) gate(set *destSettings, now time.Time, poll time.Duration) (capacity int, blocked time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.paused {
		return 0, poll
	}
	allowed, wait := h.breaker.gate(set.dest.Breaker, now)
	switch {
	case wait > 0:
		return 0, wait
	case allowed >= 0:
		return allowed, 0
	}
	if set.dest.AdaptiveConcurrency {
		return h.aimd.current(set.max), 0
	}
	return set.max, 0
}

// accepting reports whether first attempts may be handed over in memory:
// not paused and the breaker closed.
func (h *health) accepting() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.paused && h.breaker.current() == Closed
}

// started notes an attempt started (a half-open breaker's probe).
func (h *health) started() {
	h.mu.Lock()
	h.breaker.started()
	h.mu.Unlock()
}

// observe notes an attempt's result; inflight is how many attempts were in
// flight when it started. It reports whether the breaker opened.
func (h *health) observe(set *destSettings, r result, inflight int, now time.Time) (opened bool) {
	ok := r.Delivered || r.Status >= 200 && r.Status < 300 // a broker's ack, a 2xx
	h.mu.Lock()
	defer h.mu.Unlock()
	if set.dest.AdaptiveConcurrency {
		h.aimd.observe(set.max, r, inflight)
	}
	return h.breaker.observe(set.dest.Breaker, ok, now)
}

// setPaused changes the pause and wakes the loop when it changed.
func (h *health) setPaused(p bool) {
	h.mu.Lock()
	changed := h.paused != p
	h.paused = p
	h.mu.Unlock()
	if changed {
		select {
		case h.poke <- struct{}{}:
		default:
		}
	}
}

// snapshot is the destination's state and the attempts it lets in flight.
func (h *health) snapshot(set *destSettings) (State, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	conc := set.max
	if set.dest.AdaptiveConcurrency {
		conc = h.aimd.current(set.max)
	}
	switch {
	case h.paused:
		return Paused, conc
	case set.dest.Breaker == nil:
		return Closed, conc
	}
	return h.breaker.current(), conc
}

// PauseStore is what the engine needs of a store to pause destinations:
// the paused set, shared by every instance on the store. store.Store has
// it.
type PauseStore interface {
	Paused(ctx context.Context) (map[string]store.Pause, error)
}

// DestinationHealth is one destination's health, as GET /api/destinations
// shows it.
type DestinationHealth struct {
	Name string `json:"name"`
	// State is closed, open, half_open or paused.
	State State `json:"state"`
	// Concurrency is how many attempts may be in flight now:
	// max_concurrency, or less under adaptive concurrency.
	Concurrency int `json:"concurrency"`
	// MaxConcurrency is the destination's max_concurrency.
	MaxConcurrency int `json:"max_concurrency"`
	// InFlight is how many attempts are in flight now.
	InFlight int `json:"in_flight"`
}

// Health returns the health of the destinations Run delivers to, sorted by
// name (none while Run is not running).
func (e *Engine) Health() []DestinationHealth {
	e.mu.Lock()
	loops := slices.Collect(maps.Values(e.loops))
	e.mu.Unlock()
	out := make([]DestinationHealth, 0, len(loops))
	for _, l := range loops {
		set := l.set.Load()
		st, conc := l.health.snapshot(set)
		out = append(out, DestinationHealth{Name: l.name, State: st, Concurrency: conc,
			MaxConcurrency: set.max, InFlight: int(l.inflight.Load())})
	}
	slices.SortFunc(out, func(a, b DestinationHealth) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// pauseTimeout bounds one read of the paused set.
const pauseTimeout = 5 * time.Second

// RefreshPauses reads the paused set from the store and applies it to the
// running loops at once (the admin API calls it after a pause or resume;
// Run reads it every poll, so another instance's change arrives within
// one). A store without pauses, or a read that fails, changes nothing.
func (e *Engine) RefreshPauses(ctx context.Context) error {
	ps, ok := e.st.(PauseStore)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, pauseTimeout)
	defer cancel()
	paused, err := ps.Paused(ctx)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.paused = paused
	for name, l := range e.loops {
		_, p := paused[name]
		l.health.setPaused(p)
	}
	e.mu.Unlock()
	return nil
}

// watchPauses refreshes the paused set every poll until ctx is done.
func (e *Engine) watchPauses(ctx context.Context) {
	if _, ok := e.st.(PauseStore); !ok {
		return
	}
	t := time.NewTicker(e.poll)
	defer t.Stop()
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := e.RefreshPauses(ctx); err != nil && ctx.Err() == nil {
			if err.Error() != lastErr {
				e.log.Warn("read paused destinations; the last known pauses stay", "error", err)
				lastErr = err.Error()
			}
			continue
		}
		lastErr = ""
	}
}

// hold waits, while the destination is paused or its breaker open, for
// wait, a pause change or the end of ctx, and gives the deliveries handed
// to it back to the store meanwhile. It reports false when ctx ended.
func (l *destLoop) hold(ctx context.Context, wait time.Duration) bool {
	var back []*store.Delivery
	for len(l.handoff) > 0 {
		back = append(back, <-l.handoff)
	}
	if len(back) > 0 {
		l.e.giveBack(back)
	}
	return sleep(ctx, wait, l.health.poke)
}

// observe tells the destination's health an attempt's result (inflight:
// the attempts in flight when it started) and logs a breaker's change.
func (l *destLoop) observe(set *destSettings, r result, inflight int) {
	before, _ := l.health.snapshot(set)
	opened := l.health.observe(set, r, inflight, l.e.now())
	after, _ := l.health.snapshot(set)
	switch {
	case opened:
		if ev := l.e.events; ev != nil {
			ev.Breaker(l.name, true, r.Err)
		}
		l.log.Warn("breaker opened: nothing is attempted until its cooldown ends; waiting deliveries keep their attempts",
			"failures", set.dest.Breaker.Failures, "cooldown", set.dest.Breaker.Cooldown, "http_status", r.Status, "error", r.Err)
	case before == HalfOpen && after == Closed:
		if ev := l.e.events; ev != nil {
			ev.Breaker(l.name, false, "")
		}
		l.log.Info("breaker closed: the probe attempt succeeded")
	}
}

// Gauges returns the destinations' health as the
// hookgate_destination_state and _concurrency gauges report it.
func (e *Engine) Gauges() []telemetry.DestinationGauge {
	hs := e.Health()
	out := make([]telemetry.DestinationGauge, len(hs))
	for i, h := range hs {
		out[i] = telemetry.DestinationGauge{Name: h.Name, State: h.State.Value(), Concurrency: int64(h.Concurrency)}
	}
	return out
}

// Events receives what the engine sees that alerts watch. Its methods
// are called on the attempts' goroutines and must not block for long.
type Events interface {
	// Dead: a delivery to destination was dead-lettered for reason.
	Dead(destination, reason string)
	// Delivered: an attempt to destination was answered 2xx.
	Delivered(destination string)
	// Breaker: destination's breaker opened (open, after an attempt that
	// failed with lastErr) or closed.
	Breaker(destination string, open bool, lastErr string)
}

// report tells the engine's Events of a recorded outcome.
func (l *destLoop) report(o store.Outcome) {
	ev := l.e.events
	if ev == nil {
		return
	}
	switch o.Status {
	case store.Delivered:
		ev.Delivered(l.name)
	case store.Dead:
		ev.Dead(l.name, o.DeadReason)
	}
}
