package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// scanBudget bounds the events one read transaction of Cleanup examines.
const scanBudget = 10 * chunk

// Cleanup deletes the events whose deliveries are all finished and were
// last updated before cutoff (an event without deliveries: received before
// cutoff), with their deliveries, attempts and dead-letter keys, and the
// dedupe keys expired at now. It finds candidates in short read
// transactions and deletes at most 1000 events per write transaction, so
// ingest and delivery keep writing meanwhile.
func (s *Store) Cleanup(ctx context.Context, cutoff, now time.Time) (int, error) {
	const op = "cleanup"
	if err := s.usable(ctx); err != nil {
		return 0, s.wrap(op, err)
	}
	keys, err := s.expireDedupe(ctx, now)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	deleted := 0
	// Event ids sort by their arrival (ids.New), and an event received at
	// or after cutoff is never expired (its deliveries were updated after
	// it arrived): the scan stops there, so it covers the events older
	// than the retention, not every one stored.
	stop := []byte(ids.Floor(ids.Event, cutoff))
	var resume []byte
	for {
		if err := s.usable(ctx); err != nil {
			return deleted, s.wrap(op, err)
		}
		var (
			ids  [][]byte
			done bool
		)
		err := s.db.View(func(tx *bolt.Tx) error {
			ids, done = nil, false
			b := bucketsOf(tx)
			c := b.events.Cursor()
			var k, v []byte
			if resume == nil {
				k, v = c.First()
			} else if k, v = c.Seek(resume); bytes.Equal(k, resume) {
				k, v = c.Next()
			}
			for scanned := 0; ; k, v = c.Next() {
				if k == nil || bytes.Compare(k, stop) >= 0 {
					done = true
					return nil
				}
				if scanned == scanBudget || len(ids) == chunk {
					return nil
				}
				scanned++
				resume = bytes.Clone(k)
				_, _, ok, err := b.expiredEvent(v, cutoff)
				if err != nil {
					return err
				}
				if ok {
					ids = append(ids, resume)
				}
			}
		})
		if err != nil {
			return deleted, s.wrap(op, err)
		}
		if len(ids) > 0 {
			n := 0
			err := s.db.Update(func(tx *bolt.Tx) error {
				n = 0
				b := bucketsOf(tx)
				for _, id := range ids {
					v := b.events.Get(id)
					if v == nil {
						continue
					}
					_, ds, ok, err := b.expiredEvent(v, cutoff)
					if err != nil {
						return err
					}
					if !ok {
						continue // retried meanwhile
					}
					if err := b.deleteEvent(id, ds); err != nil {
						return err
					}
					if err := b.uncount(ds); err != nil {
						return err
					}
					n++
				}
				return nil
			})
			if err != nil {
				return deleted, s.wrap(op, err)
			}
			deleted += n
		}
		if done {
			break
		}
	}
	if _, err := s.dropMinutes(now); err != nil {
		return deleted, s.wrap(op, err)
	}
	if deleted > 0 || keys > 0 {
		s.log.Debug("cleaned up", "events", deleted, "dedupe_keys", keys)
	}
	return deleted, nil
}

// expiredEvent decodes event value v and reports whether Cleanup deletes
// it, with its deliveries.
func (b buckets) expiredEvent(v []byte, cutoff time.Time) (eventLight, []deliveryLight, bool, error) {
	var full store.Event
	if err := decodeEvent(v, &full); err != nil {
		return eventLight{}, nil, false, corrupt("event", err)
	}
	e := eventLight{ReceivedAt: full.ReceivedAt, DeliveryIDs: full.DeliveryIDs}
	ds := make([]deliveryLight, 0, len(e.DeliveryIDs))
	for _, id := range e.DeliveryIDs {
		dv := b.deliveries.Get([]byte(id))
		if dv == nil {
			continue
		}
		var full store.Delivery
		if err := decodeDelivery(dv, &full); err != nil {
			return e, nil, false, corrupt("delivery "+id, err)
		}
		d := deliveryLight{ID: full.ID, Destination: full.Destination, Status: full.Status, UpdatedAt: full.UpdatedAt}
		if !d.Status.Finished() || !d.UpdatedAt.Before(cutoff) || b.isBlockedHead(&full) {
			return e, nil, false, nil
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 && !e.ReceivedAt.Before(cutoff) {
		return e, nil, false, nil
	}
	return e, ds, true, nil
}

// deleteEvent deletes event id and its finished deliveries ds with their
// attempts and dead-letter keys.
func (b buckets) deleteEvent(id []byte, ds []deliveryLight) error {
	for _, d := range ds {
		if err := b.deliveries.Delete([]byte(d.ID)); err != nil {
			return err
		}
		if err := b.bodies.Delete([]byte(d.ID)); err != nil {
			return err
		}
		if d.Status == store.Dead {
			if err := b.dead.Delete(timedKey(d.Destination, d.UpdatedAt, d.ID)); err != nil {
				return err
			}
		}
		if err := b.leases.Delete([]byte(d.ID)); err != nil {
			return err
		}
		prefix := attemptPrefix(d.ID)
		var keys [][]byte
		c := b.attempts.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := b.attempts.Delete(k); err != nil {
				return err
			}
		}
	}
	return b.events.Delete(id)
}

// expireDedupe forgets the dedupe keys expired at now, a chunk per
// transaction, and returns how many.
func (s *Store) expireDedupe(ctx context.Context, now time.Time) (int, error) {
	limit := nanos(now)
	total := 0
	for {
		if err := s.usable(ctx); err != nil {
			return total, err
		}
		var keys [][]byte
		err := s.db.View(func(tx *bolt.Tx) error {
			keys = nil
			c := tx.Bucket(bucketDedupeExpiry).Cursor()
			for k, _ := c.First(); k != nil && len(keys) < chunk; k, _ = c.Next() {
				if len(k) < 8 || beUint64(k) > limit {
					break
				}
				keys = append(keys, bytes.Clone(k))
			}
			return nil
		})
		if err != nil || len(keys) == 0 {
			return total, err
		}
		err = s.db.Update(func(tx *bolt.Tx) error {
			b := bucketsOf(tx)
			for _, k := range keys {
				dk := k[8:]
				if v := b.dedupe.Get(dk); v != nil {
					var e dedupeEntry
					// A key rewritten since the scan has a new
					// expiry and a new index key: keep it.
					if json.Unmarshal(v, &e) != nil || nanos(e.Expires) == beUint64(k) {
						if err := b.dedupe.Delete(dk); err != nil {
							return err
						}
					}
				}
				if err := b.dedupeExpiry.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += len(keys)
		if len(keys) < chunk {
			return total, nil
		}
	}
}

// eventLight is an event without its body and headers.
type eventLight struct {
	ReceivedAt  time.Time `json:"received_at"`
	DeliveryIDs []string  `json:"delivery_ids"`
}

// deliveryLight is a delivery without its body.
type deliveryLight struct {
	ID          string       `json:"id"`
	Destination string       `json:"destination"`
	Status      store.Status `json:"status"`
	UpdatedAt   time.Time    `json:"updated_at"`
}
