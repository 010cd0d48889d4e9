package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/internal/codec"
)

// eventRef is an event's place in its bucket's …:events set.
type eventRef struct {
	us     int64 // received, unix µs (the set's score)
	id     string
	bucket int
}

// before reports whether a sorts before b in a listing: newer first, and
// within one microsecond by id, descending (ZREVRANGEBYSCORE's order for
// equal scores).
func (a eventRef) before(b eventRef) bool {
	if a.us != b.us {
		return a.us > b.us
	}
	return a.id > b.id
}

// Events lists events matching q, newest first: by received time (each
// event bucket's …:events set, scored in µs), then by id. It takes the
// first Limit entries below the cursor from every bucket, merges them and
// reads the records of the Limit first. The cursor is "µs:id" of the last
// event of the previous page; events accepted meanwhile sort before it and
// never shift a listing.
func (s *Store) Events(ctx context.Context, q store.EventQuery) (store.EventPage, error) {
	const op = "events"
	if err := s.usable(ctx); err != nil {
		return store.EventPage{}, s.wrap(op, err)
	}
	if err := q.Check(); err != nil {
		return store.EventPage{}, s.wrap(op, err)
	}
	limit := q.PageSize()
	var cursor *eventRef
	if q.Cursor != "" {
		us, id, ok := strings.Cut(q.Cursor, ":")
		n, err := strconv.ParseInt(us, 10, 64)
		if !ok || err != nil || id == "" {
			return store.EventPage{}, s.wrap(op, invalid("cursor %q", q.Cursor))
		}
		cursor = &eventRef{us: n, id: id}
	}
	maxS := maxScore(q.Until, true)
	if cursor != nil {
		maxS = strconv.FormatInt(cursor.us, 10)
		if !q.Until.IsZero() && q.Until.UnixMicro() <= cursor.us {
			maxS = maxScore(q.Until, true)
		}
	}
	minS := minScore(q.Since, false)

	var refs []eventRef
	for b := range eventBuckets {
		got, err := s.bucketEvents(ctx, b, minS, maxS, cursor, limit+1)
		if err != nil {
			return store.EventPage{}, s.wrap(op, err)
		}
		refs = append(refs, got...)
	}
	slices.SortFunc(refs, func(a, b eventRef) int {
		if a.before(b) {
			return -1
		}
		if b.before(a) {
			return 1
		}
		return 0
	})
	more := len(refs) > limit
	if more {
		refs = refs[:limit]
	}
	var page store.EventPage
	if len(refs) == 0 {
		return page, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*goredis.StringCmd, len(refs))
	for i, r := range refs {
		cmds[i] = pipe.HGet(ctx, s.k.bucket(r.bucket)+":evt:"+r.id, "j")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return store.EventPage{}, s.wrap(op, err)
	}
	for _, c := range cmds {
		v, err := c.Result()
		if errors.Is(err, goredis.Nil) {
			continue // deleted meanwhile
		}
		if err != nil {
			return store.EventPage{}, s.wrap(op, err)
		}
		ev := new(store.Event)
		if err := codec.DecodeEvent([]byte(v), ev); err != nil {
			return store.EventPage{}, s.wrap(op, corrupt("event", err))
		}
		if q.Matches(ev) {
			page.Events = append(page.Events, ev)
		}
	}
	if more {
		last := refs[len(refs)-1]
		page.NextCursor = fmt.Sprintf("%d:%s", last.us, last.id)
	}
	return page, nil
}

// bucketEvents returns up to n entries of bucket b's events set with a
// score in [minS, maxS] that sort after cursor (when given), newest first.
func (s *Store) bucketEvents(ctx context.Context, b int, minS, maxS string, cursor *eventRef, n int) ([]eventRef, error) {
	key := s.k.bucket(b) + ":events"
	var out []eventRef
	for offset := int64(0); len(out) < n; {
		batch := int64(n - len(out) + 8)
		zs, err := s.rdb.ZRevRangeByScoreWithScores(ctx, key, &goredis.ZRangeBy{
			Min: minS, Max: maxS, Offset: offset, Count: batch,
		}).Result()
		if err != nil {
			return nil, err
		}
		for _, z := range zs {
			id, _ := z.Member.(string)
			r := eventRef{us: int64(z.Score), id: id, bucket: b}
			if cursor != nil && !cursor.before(r) {
				continue // at or before the cursor
			}
			if len(out) < n {
				out = append(out, r)
			}
		}
		if int64(len(zs)) < batch {
			break
		}
		offset += int64(len(zs))
	}
	return out, nil
}
