package api

import "time"

// Destinations is GET /api/destinations' answer.
type Destinations struct {
	Destinations []Destination `json:"destinations"`
}

// Destination is one destination of the running config with its state:
// an item of GET /api/destinations, and the answer of POST
// /api/destinations/{name}/pause and /resume.
type Destination struct {
	Name string `json:"name"`
	// URL is the destination's URL without credentials; "" for a
	// destination that is not HTTP.
	URL string `json:"url"`
	// Kind and Target describe a destination that is not HTTP: "nats" and
	// "nats nats://127.0.0.1:4222 creator.events", without credentials.
	Kind   string `json:"kind,omitempty"`
	Target string `json:"target,omitempty"`
	// State is closed, open, half_open or paused.
	State string `json:"state"`
	// Concurrency is the attempts allowed in flight now (adaptive
	// concurrency moves it up to MaxConcurrency); InFlight those in flight.
	Concurrency    int      `json:"concurrency"`
	MaxConcurrency int      `json:"max_concurrency"`
	InFlight       int      `json:"in_flight"`
	Adaptive       bool     `json:"adaptive_concurrency"`
	Breaker        *Breaker `json:"breaker,omitempty"`
	// PausedAt is when an operator paused it (State paused).
	PausedAt *time.Time `json:"paused_at,omitempty"`
}

// Breaker is a destination's breaker block.
type Breaker struct {
	Failures int `json:"failures"`
	// Cooldown is a Go duration, e.g. "30s".
	Cooldown string `json:"cooldown"`
}

// Blocked is GET /api/destinations/{name}/blocked's answer: the keys held
// by a dead head (on_dead = "block").
type Blocked struct {
	Destination string       `json:"destination"`
	Blocked     []BlockedKey `json:"blocked"`
}

// BlockedKey is one key held by its dead head.
type BlockedKey struct {
	Key string `json:"key"`
	// DeliveryID is the dead head: replay it or discard it to release the
	// key.
	DeliveryID string `json:"delivery_id"`
	Route      string `json:"route"`
	// Since is when the head died.
	Since time.Time `json:"since"`
	// Waiting is how many deliveries wait behind the head.
	Waiting int `json:"waiting"`
}
