package embedded

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/gateway/store"
)

// statsAcc accumulates one destination's figures.
type statsAcc struct {
	store.DestinationStats
	total     time.Duration
	latencies []time.Duration
}

// Stats sums up deliveries per destination in one read transaction: it
// walks the deliveries bucket and, for each delivery, its attempts (keyed
// by delivery id, so the attempts cursor only moves forward), since an
// attempt's destination is on its delivery.
//
// The p99 is exact: it keeps every latency of the window per destination
// and sorts them, so memory grows with the window's attempts (8 bytes
// each). That is fine for the embedded store's scale; a histogram or
// sketch would bound it if it ever is not.
func (s *Store) Stats(ctx context.Context, since time.Time) ([]store.DestinationStats, error) {
	const op = "stats"
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	var accs map[string]*statsAcc
	err := s.db.View(func(tx *bolt.Tx) error {
		accs = map[string]*statsAcc{}
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
			acc := accs[d.Destination]
			if acc == nil {
				acc = &statsAcc{DestinationStats: store.DestinationStats{Destination: d.Destination}}
				accs[d.Destination] = acc
			}
			switch d.Status {
			case store.Pending:
				acc.Pending++
			case store.Retrying:
				acc.Retrying++
			case store.Delivered:
				acc.Delivered++
			case store.Dead:
				acc.Dead++
			}
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
				if a.At.Before(since) {
					continue
				}
				acc.Attempts++
				if a.N > 1 {
					acc.RetryAttempts++
				}
				if a.StatusCode/100 == 2 {
					acc.Succeeded++
				}
				acc.total += a.Latency
				acc.latencies = append(acc.latencies, a.Latency)
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap(op, err)
	}
	out := make([]store.DestinationStats, 0, len(accs))
	for _, acc := range accs {
		st := acc.DestinationStats
		if st.Attempts > 0 {
			st.SuccessRate = float64(st.Succeeded) / float64(st.Attempts)
			st.MeanLatency = acc.total / time.Duration(st.Attempts)
			slices.Sort(acc.latencies)
			st.P99Latency = store.P99(acc.latencies)
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b store.DestinationStats) int { return strings.Compare(a.Destination, b.Destination) })
	return out, nil
}
