package redis

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/internal/store"
)

// The key layout (docs/redis.md is its full description). Every key starts
// with a hash tag, so that the keys a script touches share one slot:
//
//	{P:d:DEST}:...   one destination's deliveries and indexes
//	{P:e:N}:...      event bucket N (0..eventBuckets-1): events, dedupe
//	                 keys, the registry of destinations, accept recovery
//
// P is Options.Prefix. Changing these names or eventBuckets changes the
// format: existing data would no longer be found.

// eventBuckets is how many slots events are spread over.
const eventBuckets = 16

// maxDedupeKey is the longest dedupe key kept as is; longer ones (they come
// from payloads) are kept as their SHA-256.
const maxDedupeKey = 256

// maxID bounds ids and names, which become parts of keys.
const maxID = 512

// statuses are the four states, in the order Stats and listings use them.
var statuses = []store.Status{store.Pending, store.Retrying, store.Delivered, store.Dead}

// keys names the keys of one prefix.
type keys struct{ prefix string }

// dest is the base of destination d's keys: the hash tag itself.
func (k keys) dest(d string) string { return "{" + k.prefix + ":d:" + d + "}" }

// bucket is the base of event bucket n's keys.
func (k keys) bucket(n int) string { return "{" + k.prefix + ":e:" + strconv.Itoa(n) + "}" }

// eventBucket is the bucket of an event: its dedupe key's when it has one
// (so the dedupe check and the event are one script), else its id's.
func eventBucket(id, source, dedupe string) int {
	h := fnv.New32a()
	if dedupe != "" {
		h.Write([]byte(source))
		h.Write([]byte{0})
		h.Write([]byte(dedupe))
	} else {
		h.Write([]byte(id))
	}
	return int(h.Sum32() % eventBuckets)
}

// dedupeName is the dedupe key's name inside its bucket.
func dedupeName(source, key string) string {
	if len(key) > maxDedupeKey {
		sum := sha256.Sum256([]byte(key))
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	return source + "\x00" + key
}

// micros is t as a score: unix microseconds (exact in a float64 for any
// date a webhook carries).
func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// fromMicros decodes a score.
func fromMicros(us float64) time.Time { return time.UnixMicro(int64(us)).UTC() }

// minScore is the lower bound of a range from t, "-inf" for the zero time.
func minScore(t time.Time, exclusive bool) string {
	if t.IsZero() {
		return "-inf"
	}
	if exclusive {
		return "(" + micros(t)
	}
	return micros(t)
}

// maxScore is the upper bound of a range up to t, "+inf" for the zero time.
func maxScore(t time.Time, exclusive bool) string {
	if t.IsZero() {
		return "+inf"
	}
	if exclusive {
		return "(" + micros(t)
	}
	return micros(t)
}

// timeText encodes a record's time exactly ("" for the zero time).
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// parseTime decodes timeText.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// checkName accepts the ids and names that become parts of keys: not
// empty (unless emptyOK), bounded, and without braces, which would change
// a key's hash tag.
func checkName(what, v string, emptyOK bool) error {
	switch {
	case v == "" && !emptyOK:
		return invalid("empty %s", what)
	case len(v) > maxID:
		return invalid("%s longer than %d bytes", what, maxID)
	case strings.ContainsAny(v, "{}\x00"):
		return invalid("%s %q contains a brace or a NUL byte", what, v)
	}
	return nil
}
