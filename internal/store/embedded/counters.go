package embedded

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/store"
)

// Stats reads figures the writes keep, so that its cost does not grow
// with the file:
//
//   - bucketCounts holds each destination's deliveries per state. Every
//     write that creates, changes the state of, or deletes a delivery
//     adjusts it in the same transaction: Accept, Complete, Retry and
//     Replay (requeue), Abandon, Cleanup.
//   - bucketMinutes holds each destination's attempt figures per minute
//     (store.Figures): Complete adds its attempt with one Get and one Put
//     of a small binary value.
//
// A file written before them is counted once at Open (initCounts), with
// one scan; meta/counts marks a file whose counters are kept.

// errFiguresShort: a counts or minute value ends early.
var errFiguresShort = errors.New("figures end early")

// countsReady is the meta key that marks the counters as kept.
var countsReady = []byte("counts")

// stateIndex is st's position in a counts value (-1 for none).
func stateIndex(st store.Status) int {
	switch st {
	case store.Pending:
		return 0
	case store.Retrying:
		return 1
	case store.Delivered:
		return 2
	case store.Dead:
		return 3
	}
	return -1
}

// addCount adds n (which may be negative) to destination's deliveries in
// state st. A count never goes below zero; a destination without
// deliveries loses its key.
func addCount(counts *bolt.Bucket, destination string, st store.Status, n int64) error {
	i := stateIndex(st)
	if i < 0 || n == 0 {
		return nil
	}
	k := []byte(destination)
	var c [4]uint64
	if v := counts.Get(k); len(v) == 32 {
		for j := range c {
			c[j] = binary.BigEndian.Uint64(v[8*j:])
		}
	}
	if n < 0 && uint64(-n) > c[i] {
		c[i] = 0
	} else {
		c[i] += uint64(n)
	}
	if c == [4]uint64{} {
		return counts.Delete(k)
	}
	v := make([]byte, 0, 32)
	for _, x := range c {
		v = binary.BigEndian.AppendUint64(v, x)
	}
	return counts.Put(k, v)
}

// countsOf is the counts bucket of b's transaction.
func (b buckets) countsOf() *bolt.Bucket { return b.deliveries.Tx().Bucket(bucketCounts) }

// countAccepted counts Accept's new deliveries as pending.
func (b buckets) countAccepted(ds []*store.Delivery) error {
	counts := b.countsOf()
	for _, d := range ds {
		if err := addCount(counts, d.Destination, store.Pending, 1); err != nil {
			return err
		}
	}
	return nil
}

// moveCount moves one of destination's deliveries from state from to to.
func (b buckets) moveCount(destination string, from, to store.Status) error {
	if from == to {
		return nil
	}
	counts := b.countsOf()
	if err := addCount(counts, destination, from, -1); err != nil {
		return err
	}
	return addCount(counts, destination, to, 1)
}

// countAttempt counts Complete's attempt a of d (still in its old state)
// and d's move to state to.
func (b buckets) countAttempt(d *store.Delivery, to store.Status, a *store.Attempt) error {
	if err := b.moveCount(d.Destination, d.Status, to); err != nil {
		return err
	}
	minutes := b.deliveries.Tx().Bucket(bucketMinutes)
	k := minuteKey(d.Destination, store.Minute(a.At))
	v, err := minuteAdd(minutes.Get(k), a.N > 1, a.StatusCode/100 == 2, a.Latency)
	if err != nil {
		return corrupt("attempt figures", err)
	}
	return minutes.Put(k, v)
}

// uncount forgets Cleanup's deleted deliveries.
func (b buckets) uncount(ds []deliveryLight) error {
	counts := b.countsOf()
	for _, d := range ds {
		if err := addCount(counts, d.Destination, d.Status, -1); err != nil {
			return err
		}
	}
	return nil
}

// minuteKey is the key of destination's figures of minute m.
func minuteKey(destination string, m int64) []byte {
	k := make([]byte, 0, len(destination)+1+8)
	k = append(k, destination...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, uint64(max(m, 0)))
}

// A minute's figures are a format byte, then uvarints: attempts, retry
// attempts, succeeded, latency sum, least and greatest latency (ns), then
// (histogram bucket, count) pairs in bucket order, for the buckets used.
const minuteFormat byte = 0x01

// minuteHead is the number of uvarints before the pairs.
const minuteHead = 6

// readMinute splits a minute's value into its head and its pairs.
func readMinute(v []byte) (head [minuteHead]uint64, pairs []byte, err error) {
	if len(v) == 0 || v[0] != minuteFormat {
		return head, nil, fmt.Errorf("unknown format")
	}
	v = v[1:]
	for i := range head {
		x, n := binary.Uvarint(v)
		if n <= 0 {
			return head, nil, errFiguresShort
		}
		head[i], v = x, v[n:]
	}
	return head, v, nil
}

// nextPair reads one (bucket, count) pair; n is 0 at the end, negative
// when damaged.
func nextPair(v []byte) (bucket, count uint64, n int) {
	if len(v) == 0 {
		return 0, 0, 0
	}
	bucket, a := binary.Uvarint(v)
	if a <= 0 {
		return 0, 0, -1
	}
	count, c := binary.Uvarint(v[a:])
	if c <= 0 {
		return 0, 0, -1
	}
	return bucket, count, a + c
}

// minuteAdd returns old (nil: no attempts yet) with one attempt more: a
// retry or not, answered with a 2xx or not, after latency. It copies the
// pairs once, counting the attempt in its bucket on the way.
func minuteAdd(old []byte, retry, ok bool, latency time.Duration) ([]byte, error) {
	var head [minuteHead]uint64
	var pairs []byte
	if old != nil {
		var err error
		if head, pairs, err = readMinute(old); err != nil {
			return nil, err
		}
	}
	lat := uint64(max(latency, 0))
	if head[0] == 0 || lat < head[4] {
		head[4] = lat
	}
	if head[0] == 0 || lat > head[5] {
		head[5] = lat
	}
	head[0]++
	if retry {
		head[1]++
	}
	if ok {
		head[2]++
	}
	head[3] += lat
	v := make([]byte, 0, len(old)+2*binary.MaxVarintLen64)
	v = append(v, minuteFormat)
	for _, x := range head {
		v = binary.AppendUvarint(v, x)
	}
	want := uint64(store.LatencyBucket(latency))
	done := false
	for {
		bucket, count, n := nextPair(pairs)
		if n < 0 {
			return nil, errFiguresShort
		}
		if n == 0 {
			break
		}
		pairs = pairs[n:]
		if !done && bucket >= want {
			if bucket == want {
				count++
			} else {
				v = binary.AppendUvarint(binary.AppendUvarint(v, want), 1)
			}
			done = true
		}
		v = binary.AppendUvarint(binary.AppendUvarint(v, bucket), count)
	}
	if !done {
		v = binary.AppendUvarint(binary.AppendUvarint(v, want), 1)
	}
	return v, nil
}

// decodeMinute adds a minute's figures to f.
func decodeMinute(v []byte, f *store.Figures) error {
	head, pairs, err := readMinute(v)
	if err != nil {
		return err
	}
	f.RetryAttempts += int64(head[1])
	f.Succeeded += int64(head[2])
	f.AddLatency(int64(head[0]), time.Duration(head[3]), time.Duration(head[4]), time.Duration(head[5]))
	for {
		bucket, count, n := nextPair(pairs)
		if n < 0 {
			return errFiguresShort
		}
		if n == 0 {
			return nil
		}
		pairs = pairs[n:]
		f.AddBucket(int(bucket), int64(count))
	}
}

// encodeMinute encodes f.
func encodeMinute(f *store.Figures) []byte {
	v := []byte{minuteFormat}
	for _, x := range [minuteHead]int64{f.Attempts, f.RetryAttempts, f.Succeeded,
		int64(f.LatencySum), int64(f.MinLatency), int64(f.MaxLatency)} {
		v = binary.AppendUvarint(v, uint64(max(x, 0)))
	}
	for i, n := range f.Hist {
		if n > 0 {
			v = binary.AppendUvarint(binary.AppendUvarint(v, uint64(i)), uint64(n))
		}
	}
	return v
}

// initCounts counts a file written before the counters were kept, once:
// every delivery by destination and state, and the attempts made since
// store.StatsRetention before now by destination and minute.
func (s *Store) initCounts() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta.Get(countsReady) != nil {
			return nil
		}
		for _, name := range [][]byte{bucketCounts, bucketMinutes} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		b := bucketsOf(tx)
		counts := map[string]*[4]int64{}
		minutes := map[string]*store.Figures{}
		from := s.now().Add(-store.StatsRetention)
		ac := b.attempts.Cursor()
		ak, av := ac.First()
		dc := b.deliveries.Cursor()
		for k, v := dc.First(); k != nil; k, v = dc.Next() {
			var d store.Delivery
			if err := decodeDelivery(v, &d); err != nil {
				return corrupt("delivery "+string(k), err)
			}
			if i := stateIndex(d.Status); i >= 0 {
				c := counts[d.Destination]
				if c == nil {
					c = new([4]int64)
					counts[d.Destination] = c
				}
				c[i]++
			}
			// Attempt keys sort as their deliveries (ids hold no 0x00).
			prefix := attemptPrefix(string(k))
			if ak != nil && bytes.Compare(ak, prefix) < 0 {
				ak, av = ac.Seek(prefix)
			}
			for ; ak != nil && bytes.HasPrefix(ak, prefix); ak, av = ac.Next() {
				var a store.Attempt
				if err := decodeAttempt(av, &a); err != nil {
					return corrupt("attempt", err)
				}
				if a.At.Before(from) {
					continue
				}
				mk := string(minuteKey(d.Destination, store.Minute(a.At)))
				f := minutes[mk]
				if f == nil {
					f = new(store.Figures)
					minutes[mk] = f
				}
				f.Add(a.N, a.StatusCode, a.Latency)
			}
		}
		cb := tx.Bucket(bucketCounts)
		for dest, c := range counts {
			for i, st := range [...]store.Status{store.Pending, store.Retrying, store.Delivered, store.Dead} {
				if err := addCount(cb, dest, st, c[i]); err != nil {
					return err
				}
			}
		}
		mb := tx.Bucket(bucketMinutes)
		for k, f := range minutes {
			if err := mb.Put([]byte(k), encodeMinute(f)); err != nil {
				return err
			}
		}
		return meta.Put(countsReady, []byte("1"))
	})
}

// dropMinutes deletes the attempt figures of minutes before
// store.StatsRetention before now: Cleanup's last step.
func (s *Store) dropMinutes(now time.Time) (int, error) {
	limit := uint64(max(store.Minute(now.Add(-store.StatsRetention)), 0))
	total := 0
	for {
		var keys [][]byte
		err := s.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketMinutes).Cursor()
			for k, _ := c.First(); k != nil && len(keys) < chunk; {
				i := bytes.IndexByte(k, 0)
				if i < 0 || len(k) != i+9 {
					keys = append(keys, bytes.Clone(k)) // not a minute's key
					k, _ = c.Next()
					continue
				}
				if binary.BigEndian.Uint64(k[i+1:]) < limit {
					keys = append(keys, bytes.Clone(k))
					k, _ = c.Next()
					continue
				}
				// The rest of this destination's minutes are recent:
				// on to the next destination.
				next := append(bytes.Clone(k[:i]), 1)
				k, _ = c.Seek(next)
			}
			return nil
		})
		if err != nil || len(keys) == 0 {
			return total, err
		}
		err = s.db.Update(func(tx *bolt.Tx) error {
			mb := tx.Bucket(bucketMinutes)
			for _, k := range keys {
				if err := mb.Delete(k); err != nil {
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
