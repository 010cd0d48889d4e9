package store

import (
	"context"
	"time"
)

// Ordered delivery (SPEC, "Ordered delivery"): a delivery with a Key waits
// in its (destination, key) line, first in first out by the order Accept
// stored the deliveries. Only the line's head is due (claimable); the
// others are Pending with no attempt until they become the head. The head
// leaves the line, and the next one becomes due in the same write, when it
// is delivered, discarded, or dies without KeyBlocks. A head that dies
// with KeyBlocks stays at the head: the key is blocked until the head is
// retried (Retry, Replay) and delivered, or discarded.
//
// Both stores keep these rules inside Accept, Complete, Retry, Replay,
// Abandon and Cleanup (which keeps a blocked head), so two claims, of one
// process or of several on Redis, never hold two deliveries of one key.
// A retried or replayed delivery that is no longer in its line (delivered,
// or dead and skipped) joins the end of the line.
//
// Accept stores an ordered delivery given a LeaseUntil leased only when it
// is its line's head; it clears the LeaseUntil of the others in ds (the
// one change Accept makes to its arguments), so the caller hands over only
// the deliveries whose LeaseUntil stayed set. (A store may lease none: on
// Redis Cluster an Accept cannot know, and clears them all.)

// DiscardedReason is the dead reason of a delivery discarded (Discard).
const DiscardedReason = "discarded"

// BlockedKey is a key held by its dead head (on_dead = "block").
type BlockedKey struct {
	Key string
	// DeliveryID is the dead head: replay it or discard it to release the
	// key.
	DeliveryID string
	Route      string
	// Since is when the head died.
	Since time.Time
	// Waiting is how many deliveries wait behind the head.
	Waiting int
}

// Orderer is what both stores add to Store for ordered delivery.
type Orderer interface {
	// Discard gives up on delivery id: an unfinished one that is not
	// leased becomes dead with DiscardedReason; a dead one keeps its
	// state. Either way it leaves its key's line (releasing the key when
	// it was the blocked head, the next one due at once). A delivered or
	// leased delivery gives ErrConflict, an unknown one ErrNotFound.
	Discard(ctx context.Context, id string, now time.Time) error

	// Blocked lists destination's blocked keys, by key, at most limit
	// (1..1000; 0 means 1000).
	Blocked(ctx context.Context, destination string, limit int) ([]BlockedKey, error)

	// Unorder takes the deliveries of destination whose route ordered
	// reports false (a reload removed the route's ordering, or the route)
	// out of their keys' lines: those waiting become due at once, a
	// blocked head stays dead and releases its key, and each line goes on
	// with its next delivery. It returns how many deliveries left a line.
	Unorder(ctx context.Context, destination string, ordered func(route string) bool) (int, error)
}
