package embedded

import (
	"context"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/store"
)

// Depth counts each destination's pending, retrying and dead deliveries
// from the indexes alone: the due index holds exactly the unfinished
// deliveries (only those are decoded, to tell pending from retrying) and
// the dead-letter index the dead ones (counted by key). Unlike Stats it
// never reads delivered records or attempts, so its cost follows the
// backlog, not the retained history: the queue-depth gauge reads it on
// every scrape that finds its figures stale. The other fields of the
// answer are zero; destinations are sorted by name.
func (s *Store) Depth(ctx context.Context) ([]store.DestinationStats, error) {
	const op = "depth"
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	by := map[string]*store.DestinationStats{}
	get := func(dest string) *store.DestinationStats {
		d := by[dest]
		if d == nil {
			d = &store.DestinationStats{Destination: dest}
			by[dest] = d
		}
		return d
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := bucketsOf(tx)
		n := 0
		c := b.due.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			dest, _, id, ok := splitTimedKey(k)
			if !ok {
				continue
			}
			v := b.deliveries.Get([]byte(id))
			if v == nil {
				continue // a stale key Claim will drop
			}
			var d store.Delivery
			if err := decodeDelivery(v, &d); err != nil {
				return corrupt("delivery "+id, err)
			}
			switch d.Status {
			case store.Pending:
				get(dest).Pending++
			case store.Retrying:
				get(dest).Retrying++
			}
		}
		c = b.dead.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if dest, _, _, ok := splitTimedKey(k); ok {
				get(dest).Dead++
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap(op, err)
	}
	out := make([]store.DestinationStats, 0, len(by))
	for _, d := range by {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b store.DestinationStats) int { return strings.Compare(a.Destination, b.Destination) })
	return out, nil
}
