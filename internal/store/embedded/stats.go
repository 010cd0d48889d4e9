package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/store"
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
// read transaction, from the figures the writes keep (counters.go): each
// destination's state counts, and its attempt figures of every minute
// since the widest window's start. It reads a key per destination and per
// minute, however many deliveries the file holds.
func (s *Store) StatsWindows(ctx context.Context, sinces []time.Time) ([][]store.DestinationStats, error) {
	sb, err := s.statsBuilder(ctx, sinces)
	if err != nil {
		return nil, err
	}
	return sb.Windows(), nil
}

// StatsMinutes returns each destination's attempt figures of the n
// minutes from since's, read as StatsWindows reads them.
func (s *Store) StatsMinutes(ctx context.Context, since time.Time, n int) (map[string][]store.MinuteStats, error) {
	sb, err := s.statsBuilder(ctx, store.MinuteSinces(since, n))
	if err != nil {
		return nil, err
	}
	return sb.Minutes(), nil
}

// statsBuilder reads the figures of the windows starting at sinces.
func (s *Store) statsBuilder(ctx context.Context, sinces []time.Time) (*store.StatsBuilder, error) {
	const op = "stats"
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	var sb *store.StatsBuilder
	err := s.db.View(func(tx *bolt.Tx) error {
		sb = store.NewStatsBuilder(sinces)
		states := [...]store.Status{store.Pending, store.Retrying, store.Delivered, store.Dead}
		var dests []string
		err := tx.Bucket(bucketCounts).ForEach(func(k, v []byte) error {
			if len(v) != 32 {
				return corrupt("counts of "+string(k), errFiguresShort)
			}
			for i, st := range states {
				sb.Count(string(k), st, int(binary.BigEndian.Uint64(v[8*i:])))
			}
			dests = append(dests, string(k))
			return nil
		})
		if err != nil {
			return err
		}
		c := tx.Bucket(bucketMinutes).Cursor()
		var f store.Figures
		for _, dest := range dests {
			if err := ctx.Err(); err != nil {
				return err
			}
			prefix := timedPrefix(dest)
			for k, v := c.Seek(minuteKey(dest, sb.EarliestMinute())); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				if len(k) != len(prefix)+8 {
					continue
				}
				clear(f.Hist)
				f = store.Figures{Hist: f.Hist}
				if err := decodeMinute(v, &f); err != nil {
					return corrupt("attempt figures of "+dest, err)
				}
				sb.Minute(dest, int64(binary.BigEndian.Uint64(k[len(prefix):])), &f)
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return sb, nil
}
