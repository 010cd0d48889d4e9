package embedded

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"time"
)

// The file's buckets. Names and key layouts are the on-disk format: change
// them only with a migration.
var (
	// bucketEvents: event id → JSON store.Event.
	bucketEvents = []byte("events")
	// bucketDeliveries: delivery id → JSON store.Delivery without its
	// body, so that recording an attempt rewrites a small record. (Records
	// written before bodies moved out hold theirs; putDelivery moves it.)
	bucketDeliveries = []byte("deliveries")
	// bucketBodies: delivery id → the exact body to send. Written once, at
	// Accept; deleted with the delivery.
	bucketBodies = []byte("bodies")
	// bucketAttempts: delivery id, 0x00, big-endian uint32 n → JSON
	// store.Attempt, so a prefix scan reads them oldest first.
	bucketAttempts = []byte("attempts")
	// bucketDue: destination, 0x00, big-endian uint64 unix nanos, delivery
	// id → empty. One key per unfinished delivery, at its NextAttemptAt.
	// (Files written before leases moved to memory may hold one at a
	// lease's end instead; Open moves it back.)
	bucketDue = []byte("due")
	// bucketLeases: delivery id → big-endian uint64 unix nanos of the lease's
	// end. No longer written (leases live in memory: leaseTable); Open
	// recovers those a file written by an earlier version still holds.
	bucketLeases = []byte("leases")
	// bucketDead: destination, 0x00, big-endian uint64 unix nanos of
	// UpdatedAt, delivery id → empty. One key per dead delivery.
	bucketDead = []byte("dead")
	// bucketDedupe: source, 0x00, key → JSON dedupeEntry.
	bucketDedupe = []byte("dedupe")
	// bucketDedupeExpiry: big-endian uint64 unix nanos of expiry, source,
	// 0x00, key → empty, so Cleanup finds expired keys by a range scan.
	bucketDedupeExpiry = []byte("dedupe_expiry")
	// bucketMeta: small facts about the file (format version, last ping).
	bucketMeta = []byte("meta")
	// bucketCounts: destination → its deliveries per state (pending,
	// retrying, delivered, dead), four big-endian uint64s, changed with
	// every change of state (counters.go).
	bucketCounts = []byte("counts")
	// bucketMinutes: destination, 0x00, big-endian uint64 unix minute → the
	// figures of the attempts made then (counters.go). Cleanup deletes
	// those older than store.StatsRetention.
	bucketMinutes = []byte("minutes")

	allBuckets = [][]byte{
		bucketEvents, bucketDeliveries, bucketBodies, bucketAttempts, bucketDue, bucketLeases,
		bucketDead, bucketDedupe, bucketDedupeExpiry, bucketMeta, bucketCounts, bucketMinutes,
		bucketLines, bucketBlocked,
	}
)

// formatVersion is stored under meta/version.
const formatVersion = "1"

// maxDedupeKey is the longest dedupe key stored as is; longer keys (they
// come from payloads) are stored as their SHA-256, far below bbolt's key
// size limit.
const maxDedupeKey = 256

// maxID bounds ids, sources and destination names, which are stored inside
// keys.
const maxID = 512

// nanos encodes t as unix nanoseconds for a key, clamped to the range an
// unsigned key sorts correctly (the zero time and anything before 1970 are
// 0).
func nanos(t time.Time) uint64 {
	switch {
	case t.IsZero() || t.Before(time.Unix(0, 0)):
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

// fromNanos decodes nanos.
func fromNanos(n uint64) time.Time {
	if n > math.MaxInt64 {
		n = math.MaxInt64
	}
	return time.Unix(0, int64(n)).UTC()
}

// timedKey is prefix, 0x00, nanos(t), id: the layout of due and dead keys.
func timedKey(prefix string, t time.Time, id string) []byte {
	k := make([]byte, 0, len(prefix)+1+8+len(id))
	k = append(k, prefix...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, nanos(t))
	return append(k, id...)
}

// timedPrefix is prefix and 0x00: every timed key of one destination.
func timedPrefix(prefix string) []byte {
	return append([]byte(prefix), 0)
}

// splitTimedKey undoes timedKey, giving the time as nanos; ok is false for
// a malformed key.
func splitTimedKey(k []byte) (prefix string, n uint64, id string, ok bool) {
	i := bytes.IndexByte(k, 0)
	if i < 0 || len(k) <= i+1+8 {
		return "", 0, "", false
	}
	n = binary.BigEndian.Uint64(k[i+1 : i+9])
	return string(k[:i]), n, string(k[i+9:]), true
}

// attemptKey is the key of attempt n of delivery id.
func attemptKey(id string, n int) []byte {
	k := attemptPrefix(id)
	return binary.BigEndian.AppendUint32(k, uint32(n))
}

// attemptPrefix is the prefix of every attempt of delivery id.
func attemptPrefix(id string) []byte {
	k := make([]byte, 0, len(id)+1+4)
	k = append(k, id...)
	return append(k, 0)
}

// dedupeKey is the key of a source's dedupe key.
func dedupeKey(source, key string) []byte {
	if len(key) > maxDedupeKey {
		sum := sha256.Sum256([]byte(key))
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	k := make([]byte, 0, len(source)+1+len(key))
	k = append(k, source...)
	k = append(k, 0)
	return append(k, key...)
}

// dedupeExpiryKey indexes dedupe key dk by when it expires.
func dedupeExpiryKey(expires time.Time, dk []byte) []byte {
	k := make([]byte, 0, 8+len(dk))
	k = binary.BigEndian.AppendUint64(k, nanos(expires))
	return append(k, dk...)
}

// leaseValue encodes a lease's end.
func leaseValue(until time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, nanos(until))
}

// leaseUntil decodes leaseValue; ok is false for a malformed value.
func leaseUntil(v []byte) (time.Time, bool) {
	if len(v) != 8 {
		return time.Time{}, false
	}
	return fromNanos(binary.BigEndian.Uint64(v)), true
}

// dedupeEntry is the value of a dedupe key: the first event that used it
// and when it stops counting.
type dedupeEntry struct {
	EventID string    `json:"event_id"`
	Expires time.Time `json:"expires"`
}

// beUint64 reads the big-endian uint64 that starts k (len(k) >= 8).
func beUint64(k []byte) uint64 { return binary.BigEndian.Uint64(k[:8]) }
