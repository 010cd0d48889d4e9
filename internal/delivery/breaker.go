package delivery

import (
	"time"

	"github.com/hookgate/hookgate/internal/config"
)

// State is a destination's health state, as GET /api/destinations and the
// hookgate_destination_state gauge report it.
type State string

// Destination states (SPEC, Destination health).
const (
	// Closed: attempts are made as usual (the breaker, if any, is closed).
	Closed State = "closed"
	// Open: the breaker opened after consecutive failures; nothing is
	// attempted until its cooldown ends.
	Open State = "open"
	// HalfOpen: the cooldown ended; one waiting delivery is attempted as a
	// probe, whose outcome closes or re-opens the breaker.
	HalfOpen State = "half_open"
	// Paused: an operator paused the destination; nothing is attempted
	// until it is resumed.
	Paused State = "paused"
)

// Value is the state as the hookgate_destination_state gauge reports it:
// 0 closed, 1 half_open, 2 open, 3 paused.
func (s State) Value() int64 {
	switch s {
	case HalfOpen:
		return 1
	case Open:
		return 2
	case Paused:
		return 3
	}
	return 0
}

// breaker is one destination's circuit breaker. It is not safe for
// concurrent use: health serialises its calls. A nil config (no breaker
// block) keeps it closed.
type breaker struct {
	state State // Closed, Open or HalfOpen
	// fails counts consecutive failed attempts while closed.
	fails int
	// until is when an open breaker lets its probe go.
	until time.Time
	// probing: half open, and the probe is in flight.
	probing bool
}

// gate says how many attempts may start now, over those in flight: -1
// when the breaker does not limit them (closed), 0 when none may (open, or
// half open with its probe out), 1 for the probe. wait is how long until
// an open breaker's cooldown ends (0 otherwise).
func (b *breaker) gate(cfg *config.Breaker, now time.Time) (allowed int, wait time.Duration) {
	if cfg == nil {
		b.reset()
		return -1, 0
	}
	switch b.state {
	case Open:
		if now.Before(b.until) {
			return 0, b.until.Sub(now)
		}
		b.state, b.probing = HalfOpen, false
		fallthrough
	case HalfOpen:
		if b.probing {
			return 0, 0
		}
		return 1, 0
	}
	return -1, 0
}

// started notes an attempt started: in half open, it is the probe.
func (b *breaker) started() {
	if b.state == HalfOpen {
		b.probing = true
	}
}

// observe notes an attempt's outcome (ok: a 2xx) and reports whether it
// opened the breaker. A closed breaker opens after cfg.Failures
// consecutive failures; in half open a success closes it and a failure
// re-opens it for another cooldown. While open, outcomes of attempts that
// started before it opened change nothing.
func (b *breaker) observe(cfg *config.Breaker, ok bool, now time.Time) (opened bool) {
	if cfg == nil {
		b.reset()
		return false
	}
	switch b.current() {
	case Closed:
		if ok {
			b.fails = 0
			return false
		}
		b.fails++
		if b.fails < cfg.Failures {
			return false
		}
	case HalfOpen:
		if ok {
			b.reset()
			return false
		}
	case Open:
		return false
	}
	b.state, b.fails, b.probing = Open, 0, false
	b.until = now.Add(cfg.Cooldown)
	return true
}

// reset closes the breaker.
func (b *breaker) reset() {
	b.state, b.fails, b.probing, b.until = Closed, 0, false, time.Time{}
}

// current is the breaker's state (Closed without a config).
func (b *breaker) current() State {
	if b.state == "" {
		return Closed
	}
	return b.state
}
