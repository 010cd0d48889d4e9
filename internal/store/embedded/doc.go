// Package embedded is hookgate's default store: one bbolt file on local disk
// that keeps events, deliveries, attempts, the due-time index, the
// dead-letter set and the dedupe keys, and implements store.Store.
//
// It owns the file and its layout (the buckets and key encodings in keys.go)
// and nothing else: it does not decide outcomes, retry schedules or routing
// (the delivery engine and ingest do), and it must not be opened by two
// processes at once (bbolt's file lock enforces it).
//
// Writes from concurrent callers of Accept, Complete and Ping share one
// transaction and one fsync (group commit, in commit.go). Every write
// returns only after its commit is on disk: bbolt's NoSync is never set.
// Claim writes nothing: leases live in memory (leases.go), since they need
// not outlive the process that holds the file.
package embedded
