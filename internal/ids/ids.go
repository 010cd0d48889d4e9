// Package ids makes the ids of events and deliveries: a short type prefix and
// a ULID, so ids sort by creation time (stable cursors for pagination) and
// never collide across gateway instances.
package ids

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// The id prefixes.
const (
	Event    = "evt"
	Delivery = "dlv"
)

var (
	mu      sync.Mutex
	entropy = ulid.Monotonic(rand.Reader, 0)
)

// New returns a new id with the given prefix, such as
// "evt_01JD5Q3Z8K9V2R7M4N6P0S1T2W", made at time now.
func New(prefix string, now time.Time) string {
	mu.Lock()
	id := ulid.MustNew(ulid.Timestamp(now), entropy)
	mu.Unlock()
	return prefix + "_" + id.String()
}

// Floor returns the smallest id with the given prefix that New could make
// at t or later: every id made before t's millisecond sorts below it.
func Floor(prefix string, t time.Time) string {
	var id ulid.ULID
	if err := id.SetTime(ulid.Timestamp(t)); err != nil {
		panic(err) // a time past the year 10889
	}
	return prefix + "_" + id.String()
}
