package embedded

import (
	"bytes"
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// Events lists events matching q, newest first (by id: ids are ULIDs made
// at the time of receipt, so by ReceivedAt to the millisecond). The cursor
// is the last id of the previous page; events accepted meanwhile have
// larger ids and never shift a listing. The scan stops below Since's
// first possible id, and reads at most maxScan records per call.
func (s *Store) Events(ctx context.Context, q store.EventQuery) (store.EventPage, error) {
	const op = "events"
	if err := s.usable(ctx); err != nil {
		return store.EventPage{}, s.wrap(op, err)
	}
	if err := q.Check(); err != nil {
		return store.EventPage{}, s.wrap(op, err)
	}
	limit := q.PageSize()
	var floor []byte
	if !q.Since.IsZero() {
		floor = []byte(ids.Floor(ids.Event, q.Since))
	}
	var page store.EventPage
	err := s.db.View(func(tx *bolt.Tx) error {
		page = store.EventPage{}
		c := tx.Bucket(bucketEvents).Cursor()
		var k, v []byte
		switch {
		case q.Cursor != "":
			if k, _ = c.Seek([]byte(q.Cursor)); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		case !q.Until.IsZero():
			// Ids made before Until's millisecond sort below its floor;
			// those made in it are checked by Matches.
			if k, _ = c.Seek([]byte(ids.Floor(ids.Event, q.Until.Add(1e6)))); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		default:
			k, v = c.Last()
		}
		scanned := 0
		var last []byte
		for ; k != nil; k, v = c.Prev() {
			if floor != nil && bytes.Compare(k, floor) < 0 {
				return nil
			}
			if scanned++; scanned%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if scanned > maxScan {
				page.NextCursor = string(last)
				return nil
			}
			last = k
			ev := new(store.Event)
			if err := decodeEvent(v, ev); err != nil {
				return corrupt("event "+string(k), err)
			}
			if !q.Matches(ev) {
				continue
			}
			if len(page.Events) == limit {
				page.NextCursor = page.Events[limit-1].ID
				return nil
			}
			page.Events = append(page.Events, ev)
		}
		return nil
	})
	if err != nil {
		return store.EventPage{}, s.wrap(op, err)
	}
	return page, nil
}
