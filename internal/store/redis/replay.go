package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/store"
)

// chunk is how many deliveries one maintenance script (Replay, Cleanup)
// changes, so no script keeps Redis busy for long.
const chunk = 1000

// Retry makes dead or delivered delivery id pending again, due at now,
// keeping its id and attempts. A pending or retrying delivery (leased or
// not) gives store.ErrConflict.
func (s *Store) Retry(ctx context.Context, id string, now time.Time) error {
	op := "retry " + id
	if err := s.usable(ctx); err != nil {
		return s.wrap(op, err)
	}
	if checkName("delivery id", id, false) != nil {
		return s.wrap(op, store.ErrNotFound)
	}
	dest, err := s.destOf(ctx, id)
	if err != nil {
		return s.wrap(op, err)
	}
	base := s.k.dest(dest)
	c := call(scriptRequeue, base+":due", base, micros(now), timeText(now), "0", id)
	if err := s.runScripts(ctx, []*scriptCall{c}); err != nil {
		return s.wrap(op, err)
	}
	res, err := c.cmd.Int64Slice()
	switch {
	case err != nil || len(res) != 3:
		return s.wrap(op, corrupt("retry reply", fmt.Errorf("%v %v", res, err)))
	case res[1] > 0:
		return s.wrap(op, store.ErrNotFound)
	case res[2] > 0:
		return s.wrap(op, fmt.Errorf("%w: delivery is not finished", store.ErrConflict))
	}
	return nil
}

// Replay makes every dead delivery matching q pending again, due at now.
// Per destination it lists the dead-letter set's range [Since, Until) (it is
// scored by dead-letter time), filters by route, then requeues in chunks;
// a delivery that is no longer dead by then is left alone.
func (s *Store) Replay(ctx context.Context, q store.ReplayQuery, now time.Time) (int, error) {
	const op = "replay"
	if err := s.usable(ctx); err != nil {
		return 0, s.wrap(op, err)
	}
	dests := []string{q.Destination}
	if q.Destination == "" {
		var err error
		if dests, err = s.destinations(ctx); err != nil {
			return 0, s.wrap(op, err)
		}
	} else if checkName("destination", q.Destination, false) != nil {
		return 0, nil
	}
	total := 0
	for _, dest := range dests {
		base := s.k.dest(dest)
		ids, err := s.rdb.ZRangeByScore(ctx, base+":dead", &goredis.ZRangeBy{
			Min: minScore(q.Since, false), Max: maxScore(q.Until, true),
		}).Result()
		if err != nil {
			return total, s.wrap(op, err)
		}
		if q.Route != "" {
			if ids, err = s.onRoute(ctx, base, ids, q.Route); err != nil {
				return total, s.wrap(op, err)
			}
		}
		for len(ids) > 0 {
			part := ids[:min(chunk, len(ids))]
			ids = ids[len(part):]
			args := []any{base, micros(now), timeText(now), "1"}
			for _, id := range part {
				args = append(args, id)
			}
			c := call(scriptRequeue, base+":due", args...)
			if err := s.runScripts(ctx, []*scriptCall{c}); err != nil {
				return total, s.wrap(op, err)
			}
			res, err := c.cmd.Int64Slice()
			if err != nil || len(res) != 3 {
				return total, s.wrap(op, corrupt("replay reply", fmt.Errorf("%v %v", res, err)))
			}
			total += int(res[0])
		}
	}
	return total, nil
}

// onRoute keeps the ids of base's deliveries that route made.
func (s *Store) onRoute(ctx context.Context, base string, ids []string, route string) ([]string, error) {
	var out []string
	for len(ids) > 0 {
		part := ids[:min(chunk, len(ids))]
		ids = ids[len(part):]
		pipe := s.rdb.Pipeline()
		cmds := make([]*goredis.StringCmd, len(part))
		for i, id := range part {
			cmds[i] = pipe.HGet(ctx, base+":dlv:"+id, "r")
		}
		pipe.Exec(ctx) // errors are on the commands
		for i, c := range cmds {
			v, err := c.Result()
			if err == goredis.Nil {
				continue
			}
			if err != nil {
				return nil, err
			}
			var r deliveryRec
			if err := r.decode([]byte(v)); err != nil {
				return nil, corrupt("delivery "+part[i], err)
			}
			if r.Route == route {
				out = append(out, part[i])
			}
		}
	}
	return out, nil
}
