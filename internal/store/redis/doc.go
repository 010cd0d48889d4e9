// Package redis is hookgate's shared store: it keeps events, deliveries,
// attempts, the due and lease sets, the dead-letter set and the dedupe keys
// in Redis or a Redis Cluster, and implements store.Store, so several
// gateway instances share one queue of work.
//
// It owns the key layout under its prefix (keys.go; docs/redis.md) and the
// Lua scripts that change it (scripts.go), and nothing else: it does not
// decide outcomes, retry schedules or routing. Every multi-key change is one
// script whose keys share one hash tag (one slot on a cluster). Accept
// writes an event's bucket and its destinations' slots in two batched
// steps, with a recovery copy that makes a crash between them harmless
// (accept.go). Leases are sorted sets in Redis, so no instance keeps state
// another needs; every call that cannot reach Redis fails with
// store.ErrUnavailable and the next one tries again.
package redis
