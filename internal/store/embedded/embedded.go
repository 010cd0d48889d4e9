package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/hookgate/hookgate/internal/store"
)

var _ store.Store = (*Store)(nil)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Now is the clock for the times a caller leaves zero (an event's
	// ReceivedAt, an attempt's At). Nil means time.Now.
	Now func() time.Time
	// Logger receives the store's few log lines (lease recovery, cleanup).
	// Nil discards them.
	Logger *slog.Logger
}

// Store is the embedded store: a bbolt file opened by one process. It is
// safe for concurrent use.
type Store struct {
	db     *bolt.DB
	path   string
	now    func() time.Time
	log    *slog.Logger
	closed atomic.Bool
	commit committer
	leases leaseTable
}

// lockTimeout is how long Open waits for another process's file lock before
// giving up: long enough to ride out a restart, short enough that a second
// gateway on the same file fails at once with a clear message.
const lockTimeout = time.Second

// Open opens (creating it and its directory when missing) the store file at
// path. It fails after about a second when another process holds the file.
// Deliveries that were leased when the file was last closed (or its process
// killed) become due again at once.
func Open(path string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: lockTimeout,
		// Cleanup frees pages by the thousand; the hashmap freelist
		// allocates from a large freelist in constant time (etcd's
		// choice), where the array one scans it.
		FreelistType: bolt.FreelistMapType,
		// Like etcd: the freelist is rebuilt at Open instead of written on
		// every commit, which makes each commit smaller.
		NoFreelistSync: true,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("store: %s is in use by another hookgate", path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path, now: opts.Now, log: opts.Logger.With("component", "store")}
	s.commit.db = db
	s.commit.delay = lazyDelay
	s.leases.until = map[string]uint64{}
	if err := s.init(); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open %s: %w", path, err), db.Close())
	}
	if err := s.initCounts(); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open %s: count deliveries: %w", path, err), db.Close())
	}
	return s, nil
}

// init creates the buckets and recovers the leases of a previous process:
// the file lock proves that process is gone, so the attempts it was making
// are lost and their deliveries are due again, in their original order.
func (s *Store) init() error {
	recovered := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get([]byte("version")); {
		case v == nil:
			if err := meta.Put([]byte("version"), []byte(formatVersion)); err != nil {
				return err
			}
		case string(v) != formatVersion:
			return fmt.Errorf("file format %q, want %q", v, formatVersion)
		}
		b := bucketsOf(tx)
		type lease struct {
			id    string
			until time.Time
		}
		var leases []lease
		err := b.leases.ForEach(func(k, v []byte) error {
			until, _ := leaseUntil(v)
			leases = append(leases, lease{string(k), until})
			return nil
		})
		if err != nil {
			return err
		}
		for _, l := range leases {
			d, err := b.delivery(l.id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if d != nil {
				if err := b.due.Delete(timedKey(d.Destination, l.until, d.ID)); err != nil {
					return err
				}
				if !d.Status.Finished() {
					if err := b.due.Put(timedKey(d.Destination, d.NextAttemptAt, d.ID), nil); err != nil {
						return err
					}
					recovered++
				}
			}
			if err := b.leases.Delete([]byte(l.id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if recovered > 0 {
		s.log.Info("recovered in-flight deliveries", "count", recovered, "path", s.path)
	}
	return nil
}

// Close closes the file. Leases still held are recovered at the next Open.
// Calls after the first do nothing.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.commit.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// Ping writes a small record and waits for its commit, so it fails when the
// file cannot take writes (closed, disk full, read-only); and for fullHold
// after any commit failed for a full disk.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.usable(ctx); err != nil {
		return s.wrap("ping", err)
	}
	if at := s.commit.noSpace.Load(); at != 0 {
		if ago := time.Since(time.Unix(0, at)); ago < fullHold {
			return s.wrap("ping", fmt.Errorf("a write found the disk full %s ago: %w", ago.Round(time.Millisecond), syscall.ENOSPC))
		}
	}
	v := leaseValue(s.now())
	err := s.write(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put([]byte("ping"), v)
	})
	return s.wrap("ping", err)
}

// fullHold is how long after a commit failed for a full disk Ping fails
// too. Ping's own write is a few bytes, which pages freed by earlier
// writes can hold when an event cannot be stored: without this, /readyz
// would pass while ingest answers 503. Past it, Ping's write decides
// again, so an idle gateway whose disk got room back is ready again
// without needing an event first.
const fullHold = 10 * time.Second

// Size returns the file's size in bytes (0 once closed).
func (s *Store) Size() int64 {
	var n int64
	_ = s.db.View(func(tx *bolt.Tx) error {
		n = tx.Size()
		return nil
	})
	return n
}

// Accept stores ev and ds in one group-committed transaction. It does not
// modify ev or ds (but for the LeaseUntil of an ordered delivery that
// waits in its line: store.Orderer): the stored event lists ds's ids as its DeliveryIDs; each
// stored delivery is Pending with no attempts, carries ev's id (and ev's
// source, event type and traceparent where its own are empty), is created
// at ev.ReceivedAt when its CreatedAt is zero and due at CreatedAt when its
// NextAttemptAt is zero. A zero ev.ReceivedAt is the store's clock. The
// dedupe window counts from ReceivedAt. On success it returns ev.ID.
func (s *Store) Accept(ctx context.Context, ev *store.Event, ds []*store.Delivery, dd *store.Dedupe) (string, error) {
	op := "accept"
	if ev != nil {
		op += " " + ev.ID
	}
	if err := s.usable(ctx); err != nil {
		return "", s.wrap(op, err)
	}
	rec, err := s.prepareAccept(ev, ds, dd)
	if err != nil {
		return "", s.wrap(op, err)
	}
	// Leases of the deliveries handed to the caller are taken before the
	// write and dropped when it stores nothing: a Claim that sees the
	// committed deliveries sees their leases (see leaseTable).
	s.leases.take(rec.leases)
	var firstID string
	var waiting []string // ordered deliveries given a lease that wait in their line
	err = s.write(func(tx *bolt.Tx) error {
		firstID, waiting = "", waiting[:0]
		b := bucketsOf(tx)
		if rec.dedupeKey != nil {
			if v := b.dedupe.Get(rec.dedupeKey); v != nil {
				var e dedupeEntry
				if err := json.Unmarshal(v, &e); err != nil {
					return corrupt("dedupe key", err)
				}
				if e.Expires.After(rec.receivedAt) {
					// Not an error: an error would roll back every
					// other writer's work in this batch.
					firstID = e.EventID
					return nil
				}
				if err := b.dedupeExpiry.Delete(dedupeExpiryKey(e.Expires, rec.dedupeKey)); err != nil {
					return err
				}
			}
		}
		if b.events.Get(rec.eventKey) != nil {
			return fmt.Errorf("%w: event %s exists", store.ErrConflict, ev.ID)
		}
		for _, d := range rec.deliveries {
			if b.deliveries.Get(d.key0) != nil {
				return fmt.Errorf("%w: delivery %s exists", store.ErrConflict, d.key0)
			}
		}
		if err := b.events.Put(rec.eventKey, rec.event); err != nil {
			return err
		}
		for _, d := range rec.deliveries {
			if err := b.deliveries.Put(d.key0, d.value); err != nil {
				return err
			}
			if d.body != nil {
				if err := b.bodies.Put(d.key0, d.body); err != nil {
					return err
				}
			}
			if d.key != "" {
				head, err := b.joinLine(d.destination, d.key, string(d.key0))
				if err != nil {
					return err
				}
				if !head {
					if _, leased := rec.leases[string(d.key0)]; leased {
						waiting = append(waiting, string(d.key0))
					}
					continue // waits behind its line's head
				}
			}
			if err := b.due.Put(d.dueKey, nil); err != nil {
				return err
			}
		}
		if err := b.countAccepted(ds); err != nil {
			return err
		}
		if rec.dedupeKey != nil {
			if err := b.dedupe.Put(rec.dedupeKey, rec.dedupeValue); err != nil {
				return err
			}
			if err := b.dedupeExpiry.Put(dedupeExpiryKey(rec.dedupeExpires, rec.dedupeKey), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || firstID != "" {
		s.leases.drop(rec.leases)
	} else if len(waiting) > 0 {
		unleaseWaiting(ds, waiting, rec.leases, s.leases.end)
	}
	if err != nil {
		return "", s.wrap(op, err)
	}
	if firstID != "" {
		return firstID, s.wrap(op, store.ErrDuplicate)
	}
	return ev.ID, nil
}

// Release ends the leases held on ds without an attempt: leases live in
// memory, so each delivery is due again at its NextAttemptAt at once.
func (s *Store) Release(ctx context.Context, ds []*store.Delivery) error {
	if err := s.usable(ctx); err != nil {
		return s.wrap("release", err)
	}
	for _, d := range ds {
		if d != nil {
			s.leases.end(d.ID, 0)
		}
	}
	return nil
}

// acceptRecord is an Accept's validated, encoded writes, prepared outside
// the write transaction so the shared batch does as little as possible.
type acceptRecord struct {
	receivedAt    time.Time
	eventKey      []byte
	event         []byte
	deliveries    []acceptDelivery
	dedupeKey     []byte
	dedupeValue   []byte
	dedupeExpires time.Time
	// leases are the deliveries given with a LeaseUntil.
	leases map[string]uint64
}

func (s *Store) prepareAccept(ev *store.Event, ds []*store.Delivery, dd *store.Dedupe) (*acceptRecord, error) {
	a, err := store.PrepareAccept(ev, ds, dd, s.now(), checkName)
	if err != nil {
		return nil, err
	}
	e := &a.Event
	rec := &acceptRecord{receivedAt: e.ReceivedAt, eventKey: []byte(e.ID), event: encodeEvent(e)}
	rec.deliveries = make([]acceptDelivery, len(a.Deliveries))
	for i := range a.Deliveries {
		c := &a.Deliveries[i]
		v, err := encodeDelivery(c)
		if err != nil {
			return nil, err
		}
		// A body that is the event's (a route without a transform) is not
		// written twice: loadBody reads the event's.
		var body []byte
		if !bytes.Equal(c.Body, e.Body) {
			body = c.Body
			if body == nil {
				body = []byte{} // bbolt stores nil as empty: keep the record present
			}
		}
		rec.deliveries[i] = acceptDelivery{
			key0: []byte(c.ID), value: v, body: body, dueKey: timedKey(c.Destination, c.NextAttemptAt, c.ID),
			destination: c.Destination, key: c.Key,
		}
		if !c.LeaseUntil.IsZero() {
			if rec.leases == nil {
				rec.leases = make(map[string]uint64, len(ds))
			}
			rec.leases[c.ID] = nanos(c.LeaseUntil)
		}
	}
	if dd := a.Dedupe; dd != nil {
		rec.dedupeKey = dedupeKey(e.Source, dd.Key)
		rec.dedupeExpires = rec.receivedAt.Add(dd.Window)
		rec.dedupeValue, err = json.Marshal(dedupeEntry{EventID: e.ID, Expires: rec.dedupeExpires})
		if err != nil {
			return nil, fmt.Errorf("encode dedupe key: %w", err)
		}
	}
	return rec, nil
}

// maxClaim bounds one Claim, so one transaction stays short.
const maxClaim = 1000

// Claim leases up to limit (at most 1000) deliveries to destination that are
// due at now, oldest due first. The leases are kept in memory (see
// leaseTable), so a Claim reads the file and writes nothing; concurrent
// claims are serialized, and none returns a delivery another has leased.
func (s *Store) Claim(ctx context.Context, destination string, now time.Time, limit int, lease time.Duration) ([]*store.Delivery, error) {
	op := "claim " + destination
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	if err := checkName("destination", destination, false); err != nil {
		return nil, s.wrap(op, err)
	}
	if lease <= 0 {
		return nil, s.wrap(op, fmt.Errorf("%w: lease %s is not positive", errInvalid, lease))
	}
	if limit <= 0 {
		return nil, nil
	}
	limit = min(limit, maxClaim)
	out, stale, bad, err := s.claim(destination, nanos(now), nanos(now.Add(lease)), limit)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	if len(bad) > 0 {
		// A record that does not decode must not stop the destination's
		// claims for good: it is moved aside, dead-lettered, once.
		if err := s.setAside(destination, bad, now); err != nil {
			s.log.Warn("set aside corrupt delivery records", "destination", destination, "error", err)
		}
	}
	if len(stale) > 0 {
		// Rare: an index key without its delivery cannot be claimed;
		// drop it rather than trip over it forever. The claim stands
		// whether or not this write succeeds (the next Claim tries
		// again).
		if err := s.dropStale(destination, stale); err != nil {
			s.log.Warn("drop stale due keys", "destination", destination, "error", err)
		}
	}
	return out, nil
}

// claim leases up to limit deliveries to destination due at nowN until
// untilN, and returns them with the due keys found stale and the ids of
// the records that do not decode.
func (s *Store) claim(destination string, nowN, untilN uint64, limit int) (out []*store.Delivery, stale [][]byte, bad []string, err error) {
	prefix := timedPrefix(destination)
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	// The transaction starts under the lock: see leaseTable.
	err = s.db.View(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		c := b.due.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = c.Next() {
			_, n, id, ok := splitTimedKey(k)
			if !ok {
				stale = append(stale, bytes.Clone(k))
				continue
			}
			if n > nowN {
				break
			}
			if u, leased := s.leases.until[id]; leased && u > nowN {
				continue
			}
			d, err := b.delivery(id)
			if errors.Is(err, store.ErrCorrupt) {
				bad = append(bad, id)
				continue
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if d == nil || d.Status.Finished() || d.Destination != destination {
				stale = append(stale, bytes.Clone(k))
				continue
			}
			b.loadBody(d)
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	for _, d := range out {
		s.leases.until[d.ID] = untilN
	}
	return out, stale, bad, nil
}

// dropStale deletes those of destination's due keys that are still stale:
// malformed, or naming a delivery that is gone, finished or another
// destination's.
func (s *Store) dropStale(destination string, keys [][]byte) error {
	return s.write(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		for _, k := range keys {
			if _, _, id, ok := splitTimedKey(k); ok {
				d, err := b.delivery(id)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				if d != nil && !d.Status.Finished() && d.Destination == destination {
					continue
				}
			}
			if err := b.due.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// Complete records attempt o.Attempt of delivery id and files the delivery
// by o.Status. The store numbers the attempt (Attempts+1), keeps at most
// store.ResponsePrefix bytes of its response, and takes a zero At from its
// clock; the delivery's UpdatedAt becomes the attempt's At, and a Retrying
// outcome with a zero NextAttemptAt is due at once. A finished delivery
// (its lease expired and another attempt completed it, or it was never
// unfinished) gives store.ErrConflict and records nothing.
func (s *Store) Complete(ctx context.Context, id string, o store.Outcome) error {
	op := "complete " + id
	if err := s.usable(ctx); err != nil {
		return s.wrap(op, err)
	}
	if err := checkName("delivery id", id, false); err != nil {
		return s.wrap(op, err)
	}
	switch o.Status {
	case store.Delivered, store.Retrying, store.Dead:
	default:
		return s.wrap(op, fmt.Errorf("%w: outcome status %q", errInvalid, o.Status))
	}
	at := o.Attempt.At
	if at.IsZero() {
		at = s.now()
	}
	var result error
	held := s.leases.held(id)
	err := s.writeLazy(func(tx *bolt.Tx) error {
		result = nil
		b := bucketsOf(tx)
		d, err := b.delivery(id)
		if errors.Is(err, store.ErrNotFound) {
			// Not returned: an error would roll back the whole batch.
			result = err
			return nil
		}
		if err != nil {
			return err
		}
		if d.Status.Finished() {
			result = fmt.Errorf("%w: delivery is %s", store.ErrConflict, d.Status)
			return nil
		}
		if err := b.unfileDue(d); err != nil {
			return err
		}
		a := o.Attempt
		a.N = d.Attempts + 1
		a.At = at
		a.Response = store.Truncate(a.Response, store.ResponsePrefix)
		if err := b.attempts.Put(attemptKey(id, a.N), encodeAttempt(&a)); err != nil {
			return err
		}
		if err := b.countAttempt(d, o.Status, &a); err != nil {
			return err
		}
		d.Attempts = a.N
		d.LastStatus = a.StatusCode
		d.LastError = a.Error
		d.UpdatedAt = at
		d.Status = o.Status
		d.NextAttemptAt = time.Time{}
		d.DeadReason = ""
		switch o.Status {
		case store.Retrying:
			d.NextAttemptAt = o.NextAttemptAt
			if d.NextAttemptAt.IsZero() {
				d.NextAttemptAt = at
			}
			if err := b.due.Put(timedKey(d.Destination, d.NextAttemptAt, id), nil); err != nil {
				return err
			}
		case store.Dead:
			d.DeadReason = o.DeadReason
			if err := b.dead.Put(timedKey(d.Destination, d.UpdatedAt, id), nil); err != nil {
				return err
			}
		}
		if err := b.putDelivery(d); err != nil {
			return err
		}
		if d.Key != "" && o.Status != store.Retrying {
			return b.settleLine(d.Destination, d.Key)
		}
		return nil
	})
	if err == nil {
		// Committed (or refused: then the delivery is finished or gone
		// and its lease, if any, means nothing).
		s.leases.end(id, held)
		err = result
	}
	return s.wrap(op, err)
}

// NextDue returns the earliest due time of destination's unfinished
// deliveries: a NextAttemptAt, or a lease's end while the delivery is
// leased.
func (s *Store) NextDue(ctx context.Context, destination string) (time.Time, bool, error) {
	op := "next due " + destination
	if err := s.usable(ctx); err != nil {
		return time.Time{}, false, s.wrap(op, err)
	}
	var (
		t  time.Time
		ok bool
	)
	prefix := timedPrefix(destination)
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	err := s.db.View(func(tx *bolt.Tx) error {
		var first uint64
		c := tx.Bucket(bucketDue).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			_, n, id, good := splitTimedKey(k)
			if !good {
				continue
			}
			u, leased := s.leases.until[id]
			if leased {
				n = u
			}
			if !ok || n < first {
				first, ok = n, true
			}
			if !leased {
				// Every later key is due at or after this one, and a
				// later leased one ends after its due time (a lease
				// starts at or after it and is positive).
				break
			}
		}
		if ok {
			t = fromNanos(first)
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, s.wrap(op, err)
	}
	return t, ok, nil
}

// Delivery returns delivery id and its attempts, oldest first.
func (s *Store) Delivery(ctx context.Context, id string) (*store.Delivery, []store.Attempt, error) {
	op := "delivery " + id
	if err := s.usable(ctx); err != nil {
		return nil, nil, s.wrap(op, err)
	}
	var (
		d  *store.Delivery
		as []store.Attempt
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		var err error
		if d, err = b.deliveryWithBody(id); err != nil {
			return err
		}
		prefix := attemptPrefix(id)
		c := b.attempts.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var a store.Attempt
			if err := decodeAttempt(v, &a); err != nil {
				return corrupt("attempt", err)
			}
			as = append(as, a)
		}
		return nil
	})
	if err != nil {
		return nil, nil, s.wrap(op, err)
	}
	return d, as, nil
}

// Event returns event id.
func (s *Store) Event(ctx context.Context, id string) (*store.Event, error) {
	op := "event " + id
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	var ev *store.Event
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketEvents).Get([]byte(id))
		if v == nil {
			return store.ErrNotFound
		}
		ev = new(store.Event)
		if err := decodeEvent(v, ev); err != nil {
			return corrupt("event", err)
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return ev, nil
}

// buckets are one transaction's buckets.
type buckets struct {
	events, deliveries, bodies, attempts, due, leases, dead, dedupe, dedupeExpiry *bolt.Bucket
	// lines and blocked hold ordered deliveries' lines (ordering.go).
	lines, blocked *bolt.Bucket
}

func bucketsOf(tx *bolt.Tx) buckets {
	b := buckets{
		events:       tx.Bucket(bucketEvents),
		deliveries:   tx.Bucket(bucketDeliveries),
		bodies:       tx.Bucket(bucketBodies),
		attempts:     tx.Bucket(bucketAttempts),
		due:          tx.Bucket(bucketDue),
		leases:       tx.Bucket(bucketLeases),
		dead:         tx.Bucket(bucketDead),
		dedupe:       tx.Bucket(bucketDedupe),
		dedupeExpiry: tx.Bucket(bucketDedupeExpiry),
		lines:        tx.Bucket(bucketLines),
		blocked:      tx.Bucket(bucketBlocked),
	}
	if tx.Writable() {
		// Keys of these buckets are time-ordered ids, so writes append at
		// the end: pages split full rather than half full (bbolt's
		// default), which halves the pages a commit writes and the file.
		for _, bk := range []*bolt.Bucket{b.events, b.deliveries, b.bodies, b.attempts} {
			bk.FillPercent = appendFill
		}
	}
	return b
}

// appendFill is the fill percent of the append-mostly buckets.
const appendFill = 0.9

// delivery reads and decodes delivery id (store.ErrNotFound when absent),
// without its body unless the record predates the bodies bucket: for a
// change of state. deliveryWithBody reads it whole.
func (b buckets) delivery(id string) (*store.Delivery, error) {
	v := b.deliveries.Get([]byte(id))
	if v == nil {
		return nil, store.ErrNotFound
	}
	d := new(store.Delivery)
	if err := decodeDelivery(v, d); err != nil {
		return nil, corrupt("delivery", err)
	}
	return d, nil
}

// deliveryWithBody reads delivery id with its body, copied out of the
// transaction's memory.
func (b buckets) deliveryWithBody(id string) (*store.Delivery, error) {
	d, err := b.delivery(id)
	if err != nil {
		return nil, err
	}
	b.loadBody(d)
	return d, nil
}

// loadBody sets d's body from the bodies bucket, unless its record held
// it; a delivery with no body there sends its event's (Accept writes a
// body that is the event's once).
func (b buckets) loadBody(d *store.Delivery) {
	if d.Body != nil {
		return
	}
	if v := b.bodies.Get([]byte(d.ID)); v != nil {
		d.Body = bytes.Clone(v)
		return
	}
	if v := b.events.Get([]byte(d.EventID)); v != nil {
		var e store.Event
		if decodeEvent(v, &e) == nil {
			d.Body = e.Body
		}
	}
}

// putDelivery writes d's record without its body. A body d carries (read
// from a record that predates the bodies bucket) moves to that bucket.
func (b buckets) putDelivery(d *store.Delivery) error {
	if d.Body != nil {
		if err := b.bodies.Put([]byte(d.ID), d.Body); err != nil {
			return err
		}
	}
	v, err := encodeDelivery(d)
	if err != nil {
		return err
	}
	return b.deliveries.Put([]byte(d.ID), v)
}

// unfileDue removes d's due key, at its NextAttemptAt (a leased
// delivery's too: leases live in memory, see leaseTable). Its lease, if
// any, ends once the caller's write is committed.
func (b buckets) unfileDue(d *store.Delivery) error {
	return b.due.Delete(timedKey(d.Destination, d.NextAttemptAt, d.ID))
}

// Errors that are the caller's or the file's, not the store's availability.
var (
	errInvalid = store.ErrInvalid
	errCorrupt = store.ErrCorrupt
	errClosed  = errors.New("closed")
)

func corrupt(what string, err error) error { return store.Corrupt(what, err) }

// usable fails when ctx is done or the store closed.
func (s *Store) usable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return errClosed
	}
	return nil
}

// wrap prefixes err with the operation, and marks every failure that is not
// the caller's (a bad argument, a missing record, a conflict, a cancelled
// context) or a corrupt record as store.ErrUnavailable: the file is closed,
// full or failing.
func (s *Store) wrap(op string, err error) error { return store.Wrap(op, err) }

// checkName accepts the ids and names that become parts of keys: bounded,
// and free of the 0x00 that separates key parts.
func checkName(what, v string, emptyOK bool) error {
	switch {
	case v == "" && !emptyOK:
		return fmt.Errorf("%w: empty %s", errInvalid, what)
	case len(v) > maxID:
		return fmt.Errorf("%w: %s longer than %d bytes", errInvalid, what, maxID)
	case strings.IndexByte(v, 0) >= 0:
		return fmt.Errorf("%w: %s contains a NUL byte", errInvalid, what)
	}
	return nil
}
