package embedded

import (
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/store"
)

// bucketCorrupt: delivery id → the bytes of a delivery record that did not
// decode, kept for whoever investigates (setAside).
var bucketCorrupt = []byte("corrupt")

// CorruptReason is the dead reason of a delivery whose record did not
// decode.
const CorruptReason = "corrupt record"

// setAside moves the delivery records ids of destination that do not
// decode out of the way of Claim: the raw record goes to the corrupt
// bucket, and the delivery becomes a dead one that keeps its id and
// destination (and its body, when stored apart from its event's) with
// CorruptReason, so it shows in the dead-letter set instead of failing
// every claim of its destination. Each is logged once. A record that decodes by now (written
// again meanwhile) is left alone.
func (s *Store) setAside(destination string, ids []string, now time.Time) error {
	var moved []string
	err := s.write(func(tx *bolt.Tx) error {
		moved = moved[:0]
		b := bucketsOf(tx)
		aside, err := tx.CreateBucketIfNotExists(bucketCorrupt)
		if err != nil {
			return err
		}
		for _, id := range ids {
			raw := b.deliveries.Get([]byte(id))
			if raw == nil {
				continue
			}
			if _, err := b.delivery(id); !errors.Is(err, store.ErrCorrupt) {
				continue
			}
			if err := aside.Put([]byte(id), raw); err != nil {
				return err
			}
			// Its due key is found by the destination and id.
			c := b.due.Cursor()
			prefix := timedPrefix(destination)
			for k, _ := c.Seek(prefix); k != nil && len(k) > len(prefix) && string(k[:len(prefix)]) == string(prefix); k, _ = c.Next() {
				if _, _, kid, ok := splitTimedKey(k); ok && kid == id {
					if err := c.Delete(); err != nil {
						return err
					}
					break
				}
			}
			d := &store.Delivery{
				ID: id, Destination: destination, Status: store.Dead, DeadReason: CorruptReason,
				CreatedAt: now, UpdatedAt: now,
			}
			if err := b.putDelivery(d); err != nil {
				return err
			}
			if err := b.dead.Put(timedKey(destination, now, id), nil); err != nil {
				return err
			}
			// An ordered one leaves its line; the next goes.
			if err := b.settleLineOf(destination, id); err != nil {
				return err
			}
			// It was unfinished (it had a due key); which state is lost
			// with the record: count it as pending.
			if err := b.moveCount(destination, store.Pending, store.Dead); err != nil {
				return err
			}
			moved = append(moved, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range moved {
		s.log.Error("a delivery record did not decode: dead-lettered with its body; its raw record is kept in the file's corrupt bucket",
			"delivery_id", id, "destination", destination, "reason", CorruptReason)
	}
	return nil
}
