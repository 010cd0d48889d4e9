package redis

import (
	"context"
	"errors"
	"slices"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/store"
)

// maxScan bounds the records one Deliveries call reads, so a filter that
// matches little returns a short page with a NextCursor instead of reading
// everything.
const maxScan = 100_000

// Deliveries lists deliveries matching q, newest first (by id: ids are
// ULIDs, so by creation). Each destination keeps one set per status, sorted
// by id (score 0, lexicographic order); a listing merges the sets its
// destination and status filters select, reading them in batches below the
// cursor, and applies the other filters to the records. The cursor is the
// last id of the previous page: deliveries stored while a listing is paged
// through have larger ids, so they never shift it. Listed deliveries carry
// no body (Body is nil), as the embedded store's; Delivery reads one. (The
// body is part of the record's r field, so a listing still receives it;
// it is dropped as each record is decoded.)
func (s *Store) Deliveries(ctx context.Context, q store.Query) (store.Page, error) {
	const op = "deliveries"
	if err := s.usable(ctx); err != nil {
		return store.Page{}, s.wrap(op, err)
	}
	if err := q.Check(); err != nil {
		return store.Page{}, s.wrap(op, err)
	}
	limit := q.PageSize()
	var dests []string
	if q.Destination != "" {
		if checkName("destination", q.Destination, false) != nil {
			return store.Page{}, nil
		}
		dests = []string{q.Destination}
	} else {
		var err error
		if dests, err = s.destinations(ctx); err != nil {
			return store.Page{}, s.wrap(op, err)
		}
	}
	sts := statuses
	if q.Status != "" {
		sts = []store.Status{q.Status}
	}
	type source struct {
		key, dest string
		done      bool
	}
	var srcs []*source
	for _, d := range dests {
		for _, st := range sts {
			srcs = append(srcs, &source{key: s.k.dest(d) + ":s:" + string(st), dest: d})
		}
	}
	batch := max(32, limit+1)
	cursor := q.Cursor
	var (
		page    store.Page
		matches []*store.Delivery
		scanned int
	)
	for scanned < maxScan {
		upper := "+"
		if cursor != "" {
			upper = "(" + cursor
		}
		pipe := s.rdb.Pipeline()
		var active []*source
		var cmds []*goredis.StringSliceCmd
		for _, src := range srcs {
			if !src.done {
				active = append(active, src)
				cmds = append(cmds, pipe.ZRevRangeByLex(ctx, src.key, &goredis.ZRangeBy{Max: upper, Min: "-", Count: int64(batch)}))
			}
		}
		if len(active) == 0 {
			break
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return store.Page{}, s.wrap(op, err)
		}
		// Below the horizon a full batch may have more to give: only ids
		// at or above it are complete this round.
		horizon := ""
		for i, c := range cmds {
			ids := c.Val()
			if len(ids) == batch {
				horizon = max(horizon, ids[len(ids)-1])
			} else {
				active[i].done = true
			}
		}
		owner := map[string]string{}
		var ids []string
		for i, c := range cmds {
			for _, id := range c.Val() {
				if id >= horizon {
					if _, dup := owner[id]; !dup {
						ids = append(ids, id)
					}
					owner[id] = active[i].dest
				}
			}
		}
		slices.SortFunc(ids, func(a, b string) int { return strings.Compare(b, a) })
		recs := make([]*goredis.SliceCmd, len(ids))
		if len(ids) > 0 {
			pipe := s.rdb.Pipeline()
			for i, id := range ids {
				recs[i] = pipe.HMGet(ctx, s.k.dest(owner[id])+":dlv:"+id, recordFields...)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				return store.Page{}, s.wrap(op, err)
			}
		}
		scanned += len(ids)
		for _, rc := range recs {
			d, err := decodeDelivery(rc.Val())
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted meanwhile
			}
			if err != nil {
				return store.Page{}, s.wrap(op, err)
			}
			if !q.Matches(d) {
				continue
			}
			d.Body = nil
			if len(matches) == limit {
				// One more match exists: the listing continues.
				page.Deliveries = matches
				page.NextCursor = matches[limit-1].ID
				return page, nil
			}
			matches = append(matches, d)
		}
		if horizon == "" {
			break
		}
		if len(ids) > 0 {
			cursor = ids[len(ids)-1]
		}
	}
	page.Deliveries = matches
	if scanned >= maxScan && cursor != "" {
		page.NextCursor = cursor
	}
	return page, nil
}
