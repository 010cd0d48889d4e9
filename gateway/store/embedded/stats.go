package embedded

import (
	"bytes"
	"context"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/gateway/store"
)

// Stats sums up deliveries per destination: StatsWindows with one window.
func (s *Store) Stats(ctx context.Context, since time.Time) ([]store.DestinationStats, error) {
	w, err := s.StatsWindows(ctx, []time.Time{since})
	if err != nil {
		return nil, err
	}
	return w[0], nil
}

// StatsWindows sums up deliveries per destination for each window in one
// read transaction: it walks the deliveries bucket and, for each delivery,
// its attempts (keyed by delivery id, so the attempts cursor only moves
// forward), since an attempt's destination is on its delivery.
//
// The p99 is exact: it keeps every latency of the window per destination
// and sorts them, so memory grows with the window's attempts (8 bytes
// each). That is fine for the embedded store's scale; a histogram or
// sketch would bound it if it ever is not.
func (s *Store) StatsWindows(ctx context.Context, sinces []time.Time) ([][]store.DestinationStats, error) {
	const op = "stats"
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	var sb *store.StatsBuilder
	err := s.db.View(func(tx *bolt.Tx) error {
		sb = store.NewStatsBuilder(sinces)
		earliest := sb.Earliest()
		b := bucketsOf(tx)
		ac := b.attempts.Cursor()
		ak, av := ac.First()
		scanned := 0
		dc := b.deliveries.Cursor()
		for k, v := dc.First(); k != nil; k, v = dc.Next() {
			if scanned++; scanned%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var d store.Delivery
			if err := decodeDelivery(v, &d); err != nil {
				return corrupt("delivery "+string(k), err)
			}
			sb.Count(d.Destination, d.Status, 1)
			// Skip attempts of deliveries no longer stored, then read
			// this delivery's. Ids never hold 0x00, so prefix order is
			// delivery order.
			prefix := attemptPrefix(string(k))
			if ak != nil && bytes.Compare(ak, prefix) < 0 {
				ak, av = ac.Seek(prefix)
			}
			for ; ak != nil && bytes.HasPrefix(ak, prefix); ak, av = ac.Next() {
				var a store.Attempt
				if err := decodeAttempt(av, &a); err != nil {
					return corrupt("attempt", err)
				}
				if !a.At.Before(earliest) {
					sb.Attempt(d.Destination, a.At, a.N, a.StatusCode, a.Latency)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return sb.Windows(), nil
}
