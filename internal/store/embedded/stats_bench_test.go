package embedded

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/storetest"
)

// BenchmarkStats measures Stats with a million stored deliveries of ten
// destinations, their attempts spread over the last 24 hours. (A
// benchmark with sub-benchmarks runs once: the file is filled once.)
func BenchmarkStats(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "hookgate.db"))
	now := time.Now()
	start := time.Now()
	if err := fillStats(s, 1_000_000, now); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled 1,000,000 deliveries in %s, file %d MB", time.Since(start).Round(time.Millisecond), s.Size()>>20)
	storetest.BenchStats(b, s, now)
}

// fillStats writes n deliveries (storetest.StatsDelivery, with the
// attempts of storetest.StatsOutcomes) straight into the file, in big
// transactions: Accept and Complete one by one would take many minutes.
// It writes what Stats reads (deliveries, attempts and the figures the
// write paths keep), not events, bodies or index keys.
func fillStats(s *Store, n int, now time.Time) error {
	const perTx = 50_000
	for lo := 0; lo < n; lo += perTx {
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := bucketsOf(tx)
			for i := lo; i < min(lo+perTx, n); i++ {
				d := storetest.StatsDelivery(i, n, now)
				d.EventID, d.Body = ids.New(ids.Event, d.CreatedAt), nil
				if err := b.countAccepted([]*store.Delivery{d}); err != nil {
					return err
				}
				for j, st := range storetest.StatsOutcomes(i) {
					a := storetest.StatsAttempt(i, j, st, d.CreatedAt)
					if err := b.attempts.Put(attemptKey(d.ID, a.N), encodeAttempt(&a)); err != nil {
						return err
					}
					if err := b.countAttempt(d, st, &a); err != nil {
						return err
					}
					d.Attempts, d.Status, d.UpdatedAt, d.LastStatus = a.N, st, a.At, a.StatusCode
				}
				v, err := encodeDelivery(d)
				if err != nil {
					return err
				}
				if err := b.deliveries.Put([]byte(d.ID), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
