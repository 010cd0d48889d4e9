package store

import (
	"context"
	"fmt"
	"time"
)

// Pause is an operator's pause of a destination (SPEC, Destination health):
// while it holds, the delivery engine attempts nothing on the destination,
// on every instance sharing the store; ingest still stores deliveries for
// it. Both stores write it as JSON: its tag is a stored format.
type Pause struct {
	// At is when the destination was paused.
	At time.Time `json:"at"`
}

// Pauses keep which destinations are paused, durably: a pause survives a
// restart and a reload, and every instance on one store sees it.
type Pauses interface {
	// Pause pauses destination from at (a destination paused already
	// keeps its first time).
	Pause(ctx context.Context, destination string, at time.Time) error
	// Resume ends destination's pause; resuming one not paused does
	// nothing.
	Resume(ctx context.Context, destination string) error
	// Paused returns the paused destinations.
	Paused(ctx context.Context) (map[string]Pause, error)
}

// MaxDestinationName bounds the destination names a pause is kept for
// (names become parts of keys).
const MaxDestinationName = 512

// CheckPauseName reports a destination name no store keeps a pause for:
// empty, too long, or holding a brace or a NUL byte (wrapping ErrInvalid).
func CheckPauseName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty destination", ErrInvalid)
	case len(name) > MaxDestinationName:
		return fmt.Errorf("%w: destination longer than %d bytes", ErrInvalid, MaxDestinationName)
	}
	for _, r := range name {
		if r == '{' || r == '}' || r == 0 {
			return fmt.Errorf("%w: destination %q contains a brace or a NUL byte", ErrInvalid, name)
		}
	}
	return nil
}
