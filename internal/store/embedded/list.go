package embedded

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/store"
)

// maxScan bounds the rows one Deliveries call reads, so a filter that
// matches little never holds a read transaction (and with it bbolt's
// remapping of a growing file) for long. A page that hits it is short but
// carries a NextCursor.
const maxScan = 200_000

// Deliveries lists deliveries matching q, newest first (by id: ids are
// ULIDs, so by creation). The cursor is the last id of the previous page,
// and a page holds the matches with smaller ids: deliveries accepted while
// a listing is paged through have larger ids, so they never shift it. A
// Limit of 0 means 50 and more than 1000 means 1000. Listed deliveries
// carry no body (Body is nil): bodies live in their own bucket, and a page
// of 1000 must not read 1000 of them; Delivery reads one.
func (s *Store) Deliveries(ctx context.Context, q store.Query) (store.Page, error) {
	const op = "deliveries"
	if err := s.usable(ctx); err != nil {
		return store.Page{}, s.wrap(op, err)
	}
	if err := q.Check(); err != nil {
		return store.Page{}, s.wrap(op, err)
	}
	limit := q.PageSize()
	var page store.Page
	err := s.db.View(func(tx *bolt.Tx) error {
		page = store.Page{}
		b := bucketsOf(tx)
		c := b.deliveries.Cursor()
		var k, v []byte
		if q.Cursor == "" {
			k, v = c.Last()
		} else if k, _ = c.Seek([]byte(q.Cursor)); k == nil {
			k, v = c.Last()
		} else {
			// Seek found the first id >= the cursor; the page starts
			// below it.
			k, v = c.Prev()
		}
		scanned := 0
		var last []byte // valid for the transaction's life
		for ; k != nil; k, v = c.Prev() {
			if scanned++; scanned%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if scanned > maxScan {
				// Continue below the last row read, which k is not.
				page.NextCursor = string(last)
				return nil
			}
			last = k
			d := new(store.Delivery)
			if err := decodeDelivery(v, d); err != nil {
				return corrupt("delivery "+string(k), err)
			}
			if !q.Matches(d) {
				continue
			}
			if len(page.Deliveries) == limit {
				// One more match exists: the listing continues.
				page.NextCursor = page.Deliveries[limit-1].ID
				return nil
			}
			d.Body = nil // a record older than the bodies bucket holds its own
			page.Deliveries = append(page.Deliveries, d)
		}
		return nil
	})
	if err != nil {
		return store.Page{}, s.wrap(op, err)
	}
	return page, nil
}
