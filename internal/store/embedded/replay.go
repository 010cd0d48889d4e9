package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/store"
)

// chunk is how many records one maintenance transaction (Replay, Cleanup)
// changes, so it never holds the write lock for long.
const chunk = 1000

// Retry makes dead or delivered delivery id pending again, due at now,
// keeping its id and attempts. A pending or retrying delivery gives
// store.ErrConflict.
func (s *Store) Retry(ctx context.Context, id string, now time.Time) error {
	op := "retry " + id
	if err := s.usable(ctx); err != nil {
		return s.wrap(op, err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		d, err := b.delivery(id)
		if err != nil {
			return err
		}
		if !d.Status.Finished() {
			return fmt.Errorf("%w: delivery is %s", store.ErrConflict, d.Status)
		}
		return b.requeue(d, now)
	})
	return s.wrap(op, err)
}

// requeue makes finished delivery d pending, due at now.
func (b buckets) requeue(d *store.Delivery, now time.Time) error {
	if d.Status == store.Dead {
		if err := b.dead.Delete(timedKey(d.Destination, d.UpdatedAt, d.ID)); err != nil {
			return err
		}
	}
	if err := b.unfileDue(d); err != nil {
		return err
	}
	if err := b.moveCount(d.Destination, d.Status, store.Pending); err != nil {
		return err
	}
	d.Status = store.Pending
	d.NextAttemptAt = now
	d.UpdatedAt = now
	d.DeadReason = ""
	if d.Key != "" {
		if err := b.putDelivery(d); err != nil {
			return err
		}
		return b.rejoinLine(d)
	}
	if err := b.due.Put(timedKey(d.Destination, now, d.ID), nil); err != nil {
		return err
	}
	return b.putDelivery(d)
}

// Replay makes every dead delivery matching q pending again, due at now.
// It first lists the matching dead-letter keys, then requeues them in
// chunks, so a delivery that dies again during the replay is not replayed
// twice and no transaction holds the write lock for long.
func (s *Store) Replay(ctx context.Context, q store.ReplayQuery, now time.Time) (int, error) {
	const op = "replay"
	if err := s.usable(ctx); err != nil {
		return 0, s.wrap(op, err)
	}
	var keys [][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		var prefix []byte
		if q.Destination != "" {
			prefix = timedPrefix(q.Destination)
		}
		c := b.dead.Cursor()
		var k []byte
		switch {
		case q.Destination == "":
			k, _ = c.First()
		case q.Since.IsZero():
			k, _ = c.Seek(prefix)
		default:
			k, _ = c.Seek(timedKey(q.Destination, q.Since, ""))
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			_, n, id, ok := splitTimedKey(k)
			if !ok {
				continue
			}
			at := fromNanos(n)
			if !q.Until.IsZero() && !at.Before(q.Until) {
				if q.Destination != "" {
					break
				}
				continue
			}
			if !q.Since.IsZero() && at.Before(q.Since) {
				continue
			}
			if q.Route != "" {
				d, err := b.delivery(id)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if d.Route != q.Route {
					continue
				}
			}
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, s.wrap(op, err)
	}
	total := 0
	for len(keys) > 0 {
		if err := s.usable(ctx); err != nil {
			return total, s.wrap(op, err)
		}
		part := keys[:min(chunk, len(keys))]
		keys = keys[len(part):]
		var requeued []string
		err := s.db.Update(func(tx *bolt.Tx) error {
			requeued = requeued[:0]
			b := bucketsOf(tx)
			for _, k := range part {
				if b.dead.Get(k) == nil {
					continue // retried or cleaned up meanwhile
				}
				_, _, id, _ := splitTimedKey(k)
				d, err := b.delivery(id)
				if errors.Is(err, store.ErrNotFound) {
					if err := b.dead.Delete(k); err != nil {
						return err
					}
					continue
				}
				if err != nil {
					return err
				}
				if d.Status != store.Dead {
					continue
				}
				if err := b.requeue(d, now); err != nil {
					return err
				}
				requeued = append(requeued, id)
			}
			return nil
		})
		if err != nil {
			return total, s.wrap(op, err)
		}
		total += len(requeued)
	}
	return total, nil
}

// Abandon dead-letters destination's unfinished deliveries that are not
// leased at now, with reason, in chunks. Each chunk holds the lease table
// while it writes, so no delivery is claimed between the check and the
// write; a delivery leased meanwhile is left to its attempt.
func (s *Store) Abandon(ctx context.Context, destination, reason string, now time.Time) (int, error) {
	op := "abandon " + destination
	if err := s.usable(ctx); err != nil {
		return 0, s.wrap(op, err)
	}
	if err := checkName("destination", destination, false); err != nil {
		return 0, s.wrap(op, err)
	}
	var keys [][]byte
	prefix := timedPrefix(destination)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := bucketsOf(tx).due.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, s.wrap(op, err)
	}
	nowN := nanos(now)
	total := 0
	for len(keys) > 0 {
		if err := s.usable(ctx); err != nil {
			return total, s.wrap(op, err)
		}
		part := keys[:min(chunk, len(keys))]
		keys = keys[len(part):]
		n, err := s.abandon(destination, reason, now, nowN, part)
		if err != nil {
			return total, s.wrap(op, err)
		}
		total += n
	}
	n, err := s.abandonLines(destination, reason, now)
	if err != nil {
		return total, s.wrap(op, err)
	}
	return total + n, nil
}

// abandon dead-letters the deliveries of due keys that are still due,
// unfinished and not leased at nowN, in one transaction.
func (s *Store) abandon(destination, reason string, now time.Time, nowN uint64, keys [][]byte) (int, error) {
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		b := bucketsOf(tx)
		for _, k := range keys {
			if b.due.Get(k) == nil {
				continue // attempted, retried or abandoned meanwhile
			}
			_, _, id, ok := splitTimedKey(k)
			if !ok {
				continue
			}
			if u, leased := s.leases.until[id]; leased && u > nowN {
				continue
			}
			d, err := b.delivery(id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if d.Status.Finished() || d.Destination != destination {
				continue
			}
			if err := b.unfileDue(d); err != nil {
				return err
			}
			if err := b.moveCount(d.Destination, d.Status, store.Dead); err != nil {
				return err
			}
			d.Status = store.Dead
			d.DeadReason = reason
			d.NextAttemptAt = time.Time{}
			d.UpdatedAt = now
			if err := b.dead.Put(timedKey(d.Destination, now, d.ID), nil); err != nil {
				return err
			}
			if err := b.putDelivery(d); err != nil {
				return err
			}
			delete(s.leases.until, id) // an expired lease, if any
			n++
		}
		return nil
	})
	return n, err
}
