// Package store defines what hookgate keeps durably: accepted events, their
// deliveries with every attempt, the due-time index the delivery engine
// claims from, the dead-letter set and the dedupe keys; and the contract
// every store implementation keeps (embedded in store/embedded, Redis in
// store/redis), proven by the shared conformance suite in store/storetest.
//
// The package holds records, the contract and the error classification
// both stores share (errors.go); it does no I/O.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Status is a delivery's state.
type Status string

// Delivery states.
const (
	Pending   Status = "pending"   // waiting for its first attempt
	Retrying  Status = "retrying"  // failed at least once; waiting for its next attempt
	Delivered Status = "delivered" // a 2xx answered an attempt
	Dead      Status = "dead"      // in the dead-letter set; replayable
)

// Valid reports whether s is one of the four states.
func (s Status) Valid() bool {
	switch s {
	case Pending, Retrying, Delivered, Dead:
		return true
	}
	return false
}

// Finished reports whether no attempt will follow by itself.
func (s Status) Finished() bool { return s == Delivered || s == Dead }

// Event is an accepted webhook.
//
// Its JSON tags are a stored format, not the admin API's (that is
// internal/api's Event): event records written before the binary encoding
// (store/internal/codec) are JSON objects, which the stores still decode
// with these tags. Do not rename them.
type Event struct {
	ID         string    `json:"id"`
	Source     string    `json:"source"`
	EventType  string    `json:"event_type,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	// Headers are the request headers, lower-case, without those that carry
	// credentials (the source's signature header, Authorization, cookies).
	Headers map[string]string `json:"headers,omitempty"`
	// Body is the exact body received.
	Body []byte `json:"body"`
	// DedupeKey is the event's idempotency key, when its source dedupes.
	DedupeKey string `json:"dedupe_key,omitempty"`
	// TraceParent is the W3C traceparent of the ingest span, so every
	// delivery attempt joins the event's trace.
	TraceParent string `json:"traceparent,omitempty"`
	// ConfigHash identifies the config the event was routed with.
	ConfigHash string `json:"config_hash,omitempty"`
	// DeliveryIDs are the event's deliveries.
	DeliveryIDs []string `json:"delivery_ids,omitempty"`
	// ReplayOf, on the copy a backfill (`hookgate events replay`) stores,
	// is the id of the event it routes again; "" on a received event.
	ReplayOf string `json:"replay_of,omitempty"`
}

// Delivery is one event bound for one destination by one route.
//
// Its JSON tags are a stored format, not the admin API's (that is
// internal/api's Delivery): the embedded store's delivery records written
// before the binary encoding are JSON objects, which it still decodes with
// these tags. Do not rename them.
type Delivery struct {
	ID          string `json:"id"`
	EventID     string `json:"event_id"`
	Source      string `json:"source"`
	EventType   string `json:"event_type,omitempty"`
	Route       string `json:"route"`
	Destination string `json:"destination"`
	// Body is the exact body sent, after the route's transform.
	Body []byte `json:"body"`

	Status    Status    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// NextAttemptAt is when the next attempt is due (pending, retrying).
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	// Attempts is how many attempts were made.
	Attempts int `json:"attempts"`
	// LastStatus is the HTTP status of the last attempt (0: none or no
	// response).
	LastStatus int `json:"last_status,omitempty"`
	// LastError says why the last attempt failed.
	LastError string `json:"last_error,omitempty"`
	// DeadReason says why the delivery was dead-lettered.
	DeadReason string `json:"dead_reason,omitempty"`
	// TraceParent is the event's ingest span context (W3C).
	TraceParent string `json:"traceparent,omitempty"`
	// ReplayOf, on a delivery a backfill made, is the id of the delivery
	// it replays (the original event's delivery on the same route and
	// destination), or of the original event when it had none there.
	ReplayOf string `json:"replay_of,omitempty"`
	// Key is the delivery's ordering key ("" for none): deliveries of one
	// destination with the same key are attempted one at a time, in the
	// order Accept stored them (see Orderer).
	Key string `json:"key,omitempty"`
	// KeyBlocks, with Key, makes the key wait when the delivery dies
	// (on_dead = "block") until it is retried and delivered, or
	// discarded; without it the next one goes (on_dead = "skip").
	KeyBlocks bool `json:"key_blocks,omitempty"`

	// LeaseUntil, given to Accept, stores the delivery leased to the
	// caller until then, as if it had been claimed the moment it was
	// stored: no Claim returns it before the lease ends. Ingest sets it
	// for the deliveries it hands to the delivery engine in memory, so
	// their first attempt needs no claim; should the process die first,
	// the lease ends and the delivery is claimed like any other. Zero (and
	// always on records read back) means not leased. An ordered delivery
	// (Key) is stored leased only when it is its line's head: Accept
	// clears the LeaseUntil of one that waits (see Orderer).
	LeaseUntil time.Time `json:"-"`
}

// Attempt is one try of a delivery.
//
// Its JSON tags are a stored format, not the admin API's (that is
// internal/api's Attempt): the Redis store writes attempts as JSON with
// them, and the embedded store decodes its attempt records written before
// the binary encoding with them. Do not rename them.
type Attempt struct {
	// N counts from 1.
	N          int           `json:"n"`
	At         time.Time     `json:"at"`
	StatusCode int           `json:"status_code,omitempty"`
	Latency    time.Duration `json:"latency_ns"`
	Error      string        `json:"error,omitempty"`
	// Response is a prefix of the response body (at most ResponsePrefix
	// bytes).
	Response string `json:"response,omitempty"`
}

// ResponsePrefix is how much of a response body an attempt keeps.
const ResponsePrefix = 1024

// Dedupe asks Accept to refuse an event whose key was accepted within the
// window.
type Dedupe struct {
	Key    string
	Window time.Duration
}

// Outcome is the result of an attempt, as the delivery engine decided it.
type Outcome struct {
	Attempt Attempt
	// Status is the delivery's new state: Delivered, Retrying or Dead.
	Status Status
	// NextAttemptAt is when to try again (Retrying only).
	NextAttemptAt time.Time
	// DeadReason, for Dead.
	DeadReason string
}

// Query selects deliveries for listing, newest first.
type Query struct {
	Status      Status // "" for any
	Destination string
	Route       string
	Source      string
	EventType   string
	Since       time.Time // zero for no bound (CreatedAt >= Since)
	Until       time.Time // zero for no bound (CreatedAt < Until)
	// Limit is the page size (1..1000; 0 means 50).
	Limit int
	// Cursor continues a previous page: the NextCursor it returned.
	Cursor string
}

// Page sizes of a listing (Query.Limit).
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Check reports a query no store can answer: a status that is not one of
// the four (wrapping ErrInvalid).
func (q *Query) Check() error {
	if q.Status != "" && !q.Status.Valid() {
		return fmt.Errorf("%w: status %q", ErrInvalid, q.Status)
	}
	return nil
}

// PageSize is the page size q asks for: DefaultLimit for 0 or less, at
// most MaxLimit.
func (q *Query) PageSize() int {
	switch {
	case q.Limit <= 0:
		return DefaultLimit
	case q.Limit > MaxLimit:
		return MaxLimit
	}
	return q.Limit
}

// Matches reports whether q's filters select d.
func (q *Query) Matches(d *Delivery) bool {
	switch {
	case q.Status != "" && d.Status != q.Status,
		q.Destination != "" && d.Destination != q.Destination,
		q.Route != "" && d.Route != q.Route,
		q.Source != "" && d.Source != q.Source,
		q.EventType != "" && d.EventType != q.EventType,
		!q.Since.IsZero() && d.CreatedAt.Before(q.Since),
		!q.Until.IsZero() && !d.CreatedAt.Before(q.Until):
		return false
	}
	return true
}

// Page is one page of deliveries, newest first.
type Page struct {
	Deliveries []*Delivery
	// NextCursor continues the listing; "" at the end. Pages stay stable
	// while new deliveries are written (they sort before the cursor).
	NextCursor string
}

// ReplayQuery selects dead deliveries to replay.
type ReplayQuery struct {
	Destination string
	Route       string
	Since       time.Time // dead-lettered at or after (UpdatedAt)
	Until       time.Time
}

// DestinationStats sums up one destination's deliveries and recent
// attempts (Store.Stats). State counts cover every delivery the store holds
// (Cleanup deletes old finished ones) and are exact. Attempt figures come
// from per-minute figures (see Figures): they cover the attempts made in
// the minute that holds the window's start and every later minute, for at
// most the last 25 hours (StatsRetention); they are exact but for the p99,
// which is read from a latency histogram.
type DestinationStats struct {
	Destination string
	// Deliveries per state, over all stored deliveries.
	Pending   int
	Retrying  int
	Delivered int
	Dead      int
	// Attempts is how many attempts were made in the window.
	Attempts int
	// RetryAttempts counts the window's attempts that were retries (N > 1).
	RetryAttempts int
	// Succeeded counts the window's attempts answered with a 2xx.
	Succeeded int
	// SuccessRate is Succeeded/Attempts, 0 when there were no attempts.
	SuccessRate float64
	// MeanLatency and P99Latency are over the window's attempts (0 when
	// none). MeanLatency is exact. P99Latency approximates the nearest-rank
	// 99th percentile: within 5% between 100 µs and 5 min, and exact when
	// the window holds fewer than 100 attempts (it is then the greatest
	// latency).
	MeanLatency time.Duration
	P99Latency  time.Duration
}

// P99 returns the nearest-rank 99th percentile of sorted latencies (0 when
// empty): the definition Figures.P99 approximates.
func P99(sorted []time.Duration) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// Nearest rank: ceil(0.99*n), 1-based.
	rank := (99*len(sorted) + 99) / 100
	return sorted[rank-1]
}

// StatsRetention is how long stores keep per-minute attempt figures: the
// longest window the admin API shows (24 hours) and a margin. A window
// that starts earlier counts from there.
const StatsRetention = 25 * time.Hour

// Errors callers branch on.
var (
	// ErrNotFound: no record with that id.
	ErrNotFound = errors.New("store: not found")
	// ErrDuplicate: Accept found the dedupe key within its window.
	ErrDuplicate = errors.New("store: duplicate event")
	// ErrUnavailable: the store cannot take writes now (down, full,
	// closed). Ingest answers 503.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrConflict: the delivery is not in a state that allows the change
	// (e.g. retrying a delivery that is in flight).
	ErrConflict = errors.New("store: conflict")
)

// Store is the contract both stores keep. Every method is safe for
// concurrent use.
type Store interface {
	// Accept stores ev and its deliveries (status Pending, due at their
	// NextAttemptAt) in one durable write: when it returns nil, all are on
	// disk (fsynced) or acknowledged by Redis. Concurrent calls share
	// writes (group commit). With dd set and dd.Key seen for ev.Source
	// within dd.Window, it stores nothing and returns the first event's id
	// with ErrDuplicate.
	Accept(ctx context.Context, ev *Event, ds []*Delivery, dd *Dedupe) (firstID string, err error)

	// Claim leases up to limit deliveries to destination that are due at
	// now (pending or retrying, NextAttemptAt <= now, not leased, or whose
	// lease expired), oldest due first, until now+lease. A claimed delivery
	// is not returned again until Complete or the lease expires (then it is
	// due again: this is how an attempt lost in a crash is retried).
	Claim(ctx context.Context, destination string, now time.Time, limit int, lease time.Duration) ([]*Delivery, error)

	// Release ends the caller's leases on ds (claimed, or accepted with a
	// LeaseUntil) without an attempt: each unfinished one is due again at
	// its NextAttemptAt, for any Claim. A delivery not leased, finished or
	// gone is left as it is.
	Release(ctx context.Context, ds []*Delivery) error

	// Complete records an attempt of a claimed delivery and its outcome,
	// ends the lease, and files the delivery as due again (Retrying at
	// NextAttemptAt), delivered, or dead (in the dead-letter set).
	Complete(ctx context.Context, deliveryID string, o Outcome) error

	// NextDue returns the earliest NextAttemptAt (or lease expiry) among
	// destination's unfinished deliveries; ok is false when it has none.
	NextDue(ctx context.Context, destination string) (t time.Time, ok bool, err error)

	// Delivery returns a delivery and its attempts, oldest first.
	Delivery(ctx context.Context, id string) (*Delivery, []Attempt, error)
	// Event returns an event.
	Event(ctx context.Context, id string) (*Event, error)
	// Deliveries lists deliveries matching q, newest first.
	Deliveries(ctx context.Context, q Query) (Page, error)
	// Events lists accepted events matching q, newest first, with their
	// bodies. Events accepted while a listing is paged through never
	// shift it.
	Events(ctx context.Context, q EventQuery) (EventPage, error)

	// Retry makes one dead (or delivered) delivery pending again, due at
	// now, keeping its id (so its webhook-id) and its attempts.
	Retry(ctx context.Context, id string, now time.Time) error
	// Replay makes every dead delivery matching q pending again, due at
	// now, and returns how many.
	Replay(ctx context.Context, q ReplayQuery, now time.Time) (int, error)

	// Abandon dead-letters every unfinished delivery of destination that
	// is not leased at now (pending, retrying, or whose lease expired),
	// with reason as its DeadReason, and returns how many. The delivery
	// engine calls it when a reload removes a destination ("destination
	// removed"); Retry and Replay bring them back.
	Abandon(ctx context.Context, destination, reason string, now time.Time) (int, error)

	// Cleanup deletes events whose deliveries are all finished (or that
	// have none) and were last updated before cutoff, with their
	// deliveries and attempts, and dedupe keys expired at now. It returns
	// how many events it deleted.
	Cleanup(ctx context.Context, cutoff, now time.Time) (int, error)

	// Stats sums up deliveries per destination, sorted by destination:
	// state counts over every delivery currently stored, attempt figures
	// (attempts, retries, success rate, mean and p99 latency) over the
	// attempts made in since's minute or later (all kept when since is
	// zero; see DestinationStats). A destination appears when it has a
	// stored delivery. Its cost does not grow with the deliveries stored:
	// stores keep state counters and per-minute figures as they write.
	Stats(ctx context.Context, since time.Time) ([]DestinationStats, error)
	// StatsWindows is Stats for several windows in one read: its i-th
	// result is what Stats(ctx, sinces[i]) gives.
	StatsWindows(ctx context.Context, sinces []time.Time) ([][]DestinationStats, error)

	// Pauses keep the destinations an operator paused (pause.go).
	Pauses

	// Ping reports whether the store can take writes.
	Ping(ctx context.Context) error
	// Close releases the store. In-flight leases are recovered at the
	// next Open.
	Close() error
}
