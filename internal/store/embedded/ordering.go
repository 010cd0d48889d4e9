package embedded

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/store"
)

// Ordered delivery (store.Orderer): each (destination, key) line is a
// range of bucketLines, in the order Accept stored the deliveries (the
// bucket's sequence). Only a line's head has a due key; bucketBlocked
// names the lines whose head died with KeyBlocks. Every change to a line
// is made in the transaction that changes the delivery, so a crash never
// leaves a line without its due head.
var (
	// bucketLines: destination, 0x00, line key, 0x00, big-endian uint64
	// sequence → delivery id.
	bucketLines = []byte("lines")
	// bucketBlocked: destination, 0x00, line key → the dead head's id.
	bucketBlocked = []byte("blocked")
)

var _ store.Orderer = (*Store)(nil)

// acceptDelivery is one delivery's writes in an Accept.
type acceptDelivery struct {
	key0, value, body, dueKey []byte
	destination, key          string
}

// unleaseWaiting ends the leases Accept took for the ordered deliveries
// that wait in their line (ids) and clears their LeaseUntil in ds, so the
// caller does not hand them over (store.Orderer).
func unleaseWaiting(ds []*store.Delivery, ids []string, leases map[string]uint64, end func(string, uint64)) {
	for _, id := range ids {
		end(id, leases[id])
		for _, d := range ds {
			if d != nil && d.ID == id {
				d.LeaseUntil = time.Time{}
			}
		}
	}
}

// lineKey is an ordering key as stored in line keys: as is when short and
// free of NUL, else its SHA-256.
func lineKey(key string) string {
	if len(key) > maxDedupeKey || strings.IndexByte(key, 0) >= 0 {
		sum := sha256.Sum256([]byte(key))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	return key
}

// linePrefix is the prefix of every entry of one line.
func linePrefix(destination, lk string) []byte {
	k := make([]byte, 0, len(destination)+len(lk)+2)
	k = append(k, destination...)
	k = append(k, 0)
	k = append(k, lk...)
	return append(k, 0)
}

// blockedKey is the bucketBlocked key of one line.
func blockedKey(destination, lk string) []byte {
	p := linePrefix(destination, lk)
	return p[:len(p)-1]
}

// splitLineEntry returns the line key of an entry of destination's lines.
func splitLineEntry(destination string, k []byte) (string, bool) {
	rest := k[len(destination)+1:]
	if len(rest) < 9 || rest[len(rest)-9] != 0 {
		return "", false
	}
	return string(rest[:len(rest)-9]), true
}

// head returns the key and delivery id of the first entry of a line.
func (b buckets) head(prefix []byte) (k []byte, id string) {
	c := b.lines.Cursor()
	k, v := c.Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return nil, ""
	}
	return k, string(v)
}

// joinLine appends delivery id to the end of its line and reports whether
// it is the head (the line was empty).
func (b buckets) joinLine(destination, key, id string) (bool, error) {
	prefix := linePrefix(destination, lineKey(key))
	first, _ := b.head(prefix)
	seq, err := b.lines.NextSequence()
	if err != nil {
		return false, err
	}
	if err := b.lines.Put(binary.BigEndian.AppendUint64(bytes.Clone(prefix), seq), []byte(id)); err != nil {
		return false, err
	}
	return first == nil, nil
}

// settleLine makes a line's head what the rules say: finished deliveries
// that do not block leave it, an unfinished head is due, a dead head that
// blocks is listed in bucketBlocked.
func (b buckets) settleLine(destination, key string) error {
	return b.settleLineKey(destination, lineKey(key))
}

func (b buckets) settleLineKey(destination, lk string) error {
	prefix := linePrefix(destination, lk)
	bk := blockedKey(destination, lk)
	for {
		k, id := b.head(prefix)
		if k == nil {
			return b.blocked.Delete(bk)
		}
		d, err := b.delivery(id)
		if errors.Is(err, store.ErrCorrupt) {
			// Due, so that Claim finds it and sets it aside (which
			// settles the line again).
			if err := b.due.Put(timedKey(destination, time.Time{}, id), nil); err != nil {
				return err
			}
			return b.blocked.Delete(bk)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		switch {
		case d == nil:
		case !d.Status.Finished():
			if err := b.due.Put(timedKey(destination, d.NextAttemptAt, id), nil); err != nil {
				return err
			}
			return b.blocked.Delete(bk)
		case d.Status == store.Dead && d.KeyBlocks:
			return b.blocked.Put(bk, []byte(id))
		}
		if err := b.lines.Delete(k); err != nil {
			return err
		}
	}
}

// leaveLine removes delivery id from its line, wherever it is, and settles
// the line.
func (b buckets) leaveLine(d *store.Delivery) (bool, error) {
	lk := lineKey(d.Key)
	prefix := linePrefix(d.Destination, lk)
	var found []byte
	c := b.lines.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if string(v) == d.ID {
			found = bytes.Clone(k)
			break
		}
	}
	if found == nil {
		return false, nil
	}
	if err := b.lines.Delete(found); err != nil {
		return false, err
	}
	return true, b.settleLineKey(d.Destination, lk)
}

// settleLineOf settles the line of destination that holds delivery id,
// if any: for a record set aside (its key is lost with it), found by a scan
// of the destination's lines.
func (b buckets) settleLineOf(destination, id string) error {
	prefix := timedPrefix(destination)
	c := b.lines.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if string(v) != id {
			continue
		}
		if lk, ok := splitLineEntry(destination, k); ok {
			return b.settleLineKey(destination, lk)
		}
	}
	return nil
}

// rejoinLine files requeued (pending) delivery d: the head of its line
// when it is still there (a blocked head being retried), else at the end.
func (b buckets) rejoinLine(d *store.Delivery) error {
	prefix := linePrefix(d.Destination, lineKey(d.Key))
	if _, id := b.head(prefix); id != d.ID {
		if _, err := b.joinLine(d.Destination, d.Key, d.ID); err != nil {
			return err
		}
	}
	return b.settleLine(d.Destination, d.Key)
}

// isBlockedHead reports whether d is the dead head that blocks its key:
// Cleanup keeps it.
func (b buckets) isBlockedHead(d *store.Delivery) bool {
	if d.Key == "" || !d.KeyBlocks || d.Status != store.Dead {
		return false
	}
	return string(b.blocked.Get(blockedKey(d.Destination, lineKey(d.Key)))) == d.ID
}

// Discard gives up on delivery id (store.Orderer).
func (s *Store) Discard(ctx context.Context, id string, now time.Time) error {
	op := "discard " + id
	if err := s.usable(ctx); err != nil {
		return s.wrap(op, err)
	}
	if err := checkName("delivery id", id, false); err != nil {
		return s.wrap(op, err)
	}
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	nowN := nanos(now)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		d, err := b.delivery(id)
		if err != nil {
			return err
		}
		switch {
		case d.Status == store.Delivered:
			return fmt.Errorf("%w: delivery is delivered", store.ErrConflict)
		case !d.Status.Finished():
			if u, leased := s.leases.until[id]; leased && u > nowN {
				return fmt.Errorf("%w: delivery is being attempted", store.ErrConflict)
			}
			if err := b.unfileDue(d); err != nil {
				return err
			}
			if err := b.moveCount(d.Destination, d.Status, store.Dead); err != nil {
				return err
			}
			d.Status, d.DeadReason = store.Dead, store.DiscardedReason
			d.NextAttemptAt, d.UpdatedAt = time.Time{}, now
			if err := b.dead.Put(timedKey(d.Destination, now, id), nil); err != nil {
				return err
			}
			if err := b.putDelivery(d); err != nil {
				return err
			}
		}
		if d.Key == "" {
			return nil
		}
		_, err = b.leaveLine(d)
		return err
	})
	if err == nil {
		delete(s.leases.until, id)
	}
	return s.wrap(op, err)
}

// Blocked lists destination's blocked keys (store.Orderer).
func (s *Store) Blocked(ctx context.Context, destination string, limit int) ([]store.BlockedKey, error) {
	op := "blocked " + destination
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	if err := checkName("destination", destination, false); err != nil {
		return nil, s.wrap(op, err)
	}
	if limit <= 0 || limit > store.MaxLimit {
		limit = store.MaxLimit
	}
	var out []store.BlockedKey
	err := s.db.View(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		prefix := timedPrefix(destination)
		c := b.blocked.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, v = c.Next() {
			d, err := b.delivery(string(v))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			waiting := -1
			lp := append(bytes.Clone(k), 0)
			lc := b.lines.Cursor()
			for lk, _ := lc.Seek(lp); lk != nil && bytes.HasPrefix(lk, lp); lk, _ = lc.Next() {
				waiting++
			}
			out = append(out, store.BlockedKey{Key: d.Key, DeliveryID: d.ID, Route: d.Route, Since: d.UpdatedAt, Waiting: max(waiting, 0)})
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap(op, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Unorder takes the deliveries of routes no longer ordered out of
// destination's lines (store.Orderer).
func (s *Store) Unorder(ctx context.Context, destination string, ordered func(route string) bool) (int, error) {
	op := "unorder " + destination
	if err := s.usable(ctx); err != nil {
		return 0, s.wrap(op, err)
	}
	if err := checkName("destination", destination, false); err != nil {
		return 0, s.wrap(op, err)
	}
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		b := bucketsOf(tx)
		prefix := timedPrefix(destination)
		type entry struct {
			k  []byte
			id string
		}
		var gone []entry
		touched := map[string]bool{}
		c := b.lines.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			d, err := b.delivery(string(v))
			if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrCorrupt) {
				return err
			}
			if d != nil && ordered(d.Route) {
				continue
			}
			gone = append(gone, entry{bytes.Clone(k), string(v)})
			if lk, ok := splitLineEntry(destination, k); ok {
				touched[lk] = true
			}
		}
		for _, e := range gone {
			if err := b.lines.Delete(e.k); err != nil {
				return err
			}
			d, err := b.delivery(e.id)
			if err == nil && !d.Status.Finished() {
				if err := b.due.Put(timedKey(destination, d.NextAttemptAt, d.ID), nil); err != nil {
					return err
				}
			}
			n++
		}
		for lk := range touched {
			if err := b.settleLineKey(destination, lk); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, s.wrap(op, err)
	}
	return n, nil
}

// abandonLines dead-letters, with reason, the unfinished deliveries of
// destination's lines that are not leased at now, and empties its lines:
// Abandon's second pass, for the deliveries that wait behind a head.
func (s *Store) abandonLines(destination, reason string, now time.Time) (int, error) {
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	nowN := nanos(now)
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		b := bucketsOf(tx)
		prefix := timedPrefix(destination)
		var keys [][]byte
		c := b.lines.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			id := string(b.lines.Get(k))
			if err := b.lines.Delete(k); err != nil {
				return err
			}
			d, err := b.delivery(id)
			if err != nil || d.Status.Finished() {
				continue
			}
			if u, leased := s.leases.until[id]; leased && u > nowN {
				continue
			}
			if err := b.unfileDue(d); err != nil {
				return err
			}
			if err := b.moveCount(destination, d.Status, store.Dead); err != nil {
				return err
			}
			d.Status, d.DeadReason = store.Dead, reason
			d.NextAttemptAt, d.UpdatedAt = time.Time{}, now
			if err := b.dead.Put(timedKey(destination, now, id), nil); err != nil {
				return err
			}
			if err := b.putDelivery(d); err != nil {
				return err
			}
			delete(s.leases.until, id)
			n++
		}
		var blocked [][]byte
		bc := b.blocked.Cursor()
		for k, _ := bc.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = bc.Next() {
			blocked = append(blocked, bytes.Clone(k))
		}
		for _, k := range blocked {
			if err := b.blocked.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}
