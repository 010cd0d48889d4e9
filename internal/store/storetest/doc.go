// Package storetest is the conformance suite of store.Store: every store
// (embedded, Redis) runs Run against itself, as io's implementations run
// iotest, Bench for its Accept throughput and BenchStats for the cost of
// Stats at a million deliveries.
//
// It owns the executable reading of the contract in internal/store and must
// not depend on any one store: stores are reached only through the open
// function a test passes, and time only through method arguments (the
// suite's times lie in 2030, so a store that also expires keys by its own
// clock keeps them through a run).
//
// Where store.go leaves a detail open, the suite pins it down, and every
// store keeps it:
//   - Accept refuses (with an error, storing nothing) a nil event or
//     delivery and a delivery without an id; the stored event's
//     DeliveryIDs are the ids of the deliveries accepted with it.
//   - A dedupe window counts from the event's ReceivedAt: a key is a
//     duplicate while the first event's ReceivedAt+Window is after the new
//     event's ReceivedAt, and Cleanup(now) forgets keys whose window ended
//     at or before now.
//   - Complete numbers attempts itself (Attempts+1), sets the delivery's
//     UpdatedAt (for Dead, the dead-letter time) to the attempt's At, keeps
//     at most store.ResponsePrefix bytes of the response, and makes a
//     Retrying outcome with a zero NextAttemptAt due at once. Completing a
//     finished delivery is store.ErrConflict and records nothing; an
//     outcome status other than Delivered, Retrying or Dead is an error.
//   - Retry of a delivery that is leased, pending or retrying is
//     store.ErrConflict. ReplayQuery's Since is inclusive, Until exclusive.
//   - A listing's NextCursor is "" exactly when no further delivery matches.
package storetest
