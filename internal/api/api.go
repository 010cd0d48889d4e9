// Package api declares every body the admin API speaks (SPEC, "Admin
// API"): what internal/admin answers, what internal/cli decodes, what the
// tests read. Requests carry no JSON (query parameters, and a test send's
// raw body), so these are all answers, and NDJSON lines of the exports.
//
// These types are the wire format and nothing else: store records are
// converted into them (convert.go), so a stored record can change without
// the API changing, and the other way round. The golden files in
// internal/admin/testdata/api pin the JSON of every kind of answer, each
// decoded into its type here and encoded back to the same bytes; a renamed
// field shows there as a diff (go test ./internal/admin -run TestAPIGolden
// -update rewrites them).
//
// Small answers whose fields are in alphabetical order (Ready, Retried,
// Discarded, TestQueued, FilterError, ReloadRefused) were maps once; the
// order keeps their bytes as they were.
package api

import (
	"encoding/json"
	"time"
)

// Error is the body of every 4xx and 5xx answer but a few below that say
// more (FilterError, ReloadRefused).
type Error struct {
	Error string `json:"error"`
}

// Health is GET /healthz's answer: {"status": "ok"}.
type Health struct {
	Status string `json:"status"`
}

// Ready is GET /readyz's 200 answer.
type Ready struct {
	ConfigHash     string    `json:"config_hash"`
	ConfigLoadedAt time.Time `json:"config_loaded_at"`
	// Status is "ready".
	Status string `json:"status"`
}

// Unready is GET /readyz's 503 answer when the store is not reachable.
type Unready struct {
	Error string `json:"error"`
	// Status is "unavailable".
	Status string `json:"status"`
}

// Delivery is one delivery: an item of GET /api/deliveries (without body
// and attempt log), GET /api/deliveries/{id} and a test send's 200 answer
// (with both), a line of GET /api/dlq/export (with its body), and the
// deliveries of an Event (without either).
type Delivery struct {
	ID          string `json:"id"`
	EventID     string `json:"event_id"`
	Source      string `json:"source"`
	EventType   string `json:"event_type,omitempty"`
	Route       string `json:"route"`
	Destination string `json:"destination"`
	// Status is pending, retrying, delivered or dead.
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// NextAttemptAt is when the next attempt is due (pending, retrying).
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	// Attempts is how many attempts were made.
	Attempts int `json:"attempts"`
	// LastStatus is the HTTP status of the last attempt (absent: none, or
	// no response).
	LastStatus int    `json:"last_status,omitempty"`
	LastError  string `json:"last_error,omitempty"`
	DeadReason string `json:"dead_reason,omitempty"`
	// TraceParent is the W3C traceparent of the event's ingest span;
	// TraceID its trace id, to look up in a tracing backend.
	TraceParent string `json:"traceparent,omitempty"`
	// ReplayOf, on a backfill's delivery, is the delivery (or event) it
	// replays.
	ReplayOf string `json:"replay_of,omitempty"`
	// Key is the ordering key; KeyBlocks is true when a dead delivery
	// holds its key (on_dead = "block").
	Key       string `json:"key,omitempty"`
	KeyBlocks bool   `json:"key_blocks,omitempty"`
	TraceID   string `json:"trace_id,omitempty"`
	// Body is the body sent, as JSON (a JSON string when it is not JSON).
	Body json.RawMessage `json:"body,omitempty"`
	// AttemptLog is every attempt, oldest first.
	AttemptLog []Attempt `json:"attempt_log,omitempty"`
}

// Attempt is one attempt of a delivery.
type Attempt struct {
	// N counts from 1.
	N  int       `json:"n"`
	At time.Time `json:"at"`
	// StatusCode is the HTTP status answered (absent: no response).
	StatusCode int           `json:"status_code,omitempty"`
	Latency    time.Duration `json:"latency_ns"`
	Error      string        `json:"error,omitempty"`
	// Response is a prefix of the response body.
	Response  string  `json:"response,omitempty"`
	LatencyMS float64 `json:"latency_ms"`
}

// Deliveries is GET /api/deliveries' answer.
type Deliveries struct {
	Deliveries []Delivery `json:"deliveries"`
	// NextCursor continues the listing (?cursor=); "" at the end.
	NextCursor string `json:"next_cursor"`
}

// Event is GET /api/events/{id}'s answer: the event as stored, with a
// summary of each of its deliveries still stored.
type Event struct {
	ID         string    `json:"id"`
	Source     string    `json:"source"`
	EventType  string    `json:"event_type,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	// Headers are the request headers, lower-case, without credentials.
	Headers     map[string]string `json:"headers,omitempty"`
	DedupeKey   string            `json:"dedupe_key,omitempty"`
	TraceParent string            `json:"traceparent,omitempty"`
	// ConfigHash identifies the config the event was routed with.
	ConfigHash  string   `json:"config_hash,omitempty"`
	DeliveryIDs []string `json:"delivery_ids,omitempty"`
	ReplayOf    string   `json:"replay_of,omitempty"`
	TraceID     string   `json:"trace_id,omitempty"`
	// Body is the body received, as JSON (a JSON string when it is not).
	Body       json.RawMessage `json:"body"`
	Deliveries []Delivery      `json:"deliveries"`
}

// ReceivedEvent is an event as received: an item of GET /api/events and a
// line of GET /api/events/export, what a plan or a backfill needs to route
// it again.
type ReceivedEvent struct {
	ID         string            `json:"id"`
	Source     string            `json:"source"`
	EventType  string            `json:"event_type,omitempty"`
	ReceivedAt time.Time         `json:"received_at"`
	Headers    map[string]string `json:"headers"`
	Body       json.RawMessage   `json:"body"`
	// Deliveries are the ids of the event's deliveries.
	Deliveries []string `json:"deliveries"`
	// ReplayOf is set on a backfill's copy: the event it routes again.
	ReplayOf string `json:"replay_of,omitempty"`
}

// Events is GET /api/events' answer.
type Events struct {
	Events     []ReceivedEvent `json:"events"`
	NextCursor string          `json:"next_cursor"`
}

// FilterError is the 400 answer to a search filter that does not compile:
// where in the filter, 1-based.
type FilterError struct {
	Column int    `json:"column"`
	Error  string `json:"error"`
	Line   int    `json:"line"`
}

// Retried is POST /api/deliveries/{id}/retry's answer (202).
type Retried struct {
	ID string `json:"id"`
	// Status is "pending".
	Status string `json:"status"`
}

// Discarded is POST /api/deliveries/{id}/discard's answer.
type Discarded struct {
	Discarded bool   `json:"discarded"`
	ID        string `json:"id"`
	// Status is "dead".
	Status string `json:"status"`
}

// Replayed is POST /api/dlq/replay's answer: how many dead deliveries are
// pending again.
type Replayed struct {
	Replayed int `json:"replayed"`
}

// Backfill is POST /api/events/replay's answer.
type Backfill struct {
	DryRun bool `json:"dry_run"`
	// Events is how many events matched; Replayed how many of them got
	// at least one delivery (were stored again, unless a dry run).
	Events   int `json:"events"`
	Replayed int `json:"replayed"`
	// Deliveries counts the new deliveries, in all and per destination.
	Deliveries   int            `json:"deliveries"`
	Destinations map[string]int `json:"destinations"`
	// Sample shows the first few deliveries.
	Sample []BackfillDelivery `json:"sample"`
	// Skipped lists (up to 20) matching events the current config does
	// not take, with why; SkippedCount counts them all.
	Skipped      []BackfillSkip `json:"skipped"`
	SkippedCount int            `json:"skipped_count"`
	// NextCursor continues a backfill that matched more than its limit.
	NextCursor string `json:"next_cursor"`
}

// BackfillDelivery is one delivery a backfill made (or would make).
type BackfillDelivery struct {
	ID          string          `json:"id,omitempty"` // empty in a dry run
	Event       string          `json:"event"`
	ReplayOf    string          `json:"replay_of"`
	Route       string          `json:"route"`
	Destination string          `json:"destination"`
	Body        json.RawMessage `json:"body"`
}

// BackfillSkip is a matching event a backfill did not route, and why.
type BackfillSkip struct {
	Event  string `json:"event"`
	Reason string `json:"reason"`
}

// TestQueued is POST /api/destinations/{name}/test's 202 answer: the test
// delivery is stored but no attempt was recorded in time.
type TestQueued struct {
	EventID string `json:"event_id"`
	ID      string `json:"id"`
	Status  string `json:"status"`
}
