package redis

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/store"
)

// cleanupBatch is how many events Cleanup examines per round trip.
const cleanupBatch = 500

// Cleanup deletes the events received before cutoff whose deliveries are
// all finished and were last updated before cutoff (or that have none),
// with their deliveries and attempts; the dedupe keys whose window ended at
// or before now; and attempt figures (Stats) older than cutoff. Per event
// it first deletes the deliveries (one script per destination, which checks
// again that each is finished and old), then the event; a delivery retried
// meanwhile keeps its event. Events still in their accept recovery window
// are left for a later run.
//
// It assumes a delivery is never updated before its event was received,
// which holds for the gateway (times come from one clock).
func (s *Store) Cleanup(ctx context.Context, cutoff, now time.Time) (int, error) {
	const op = "cleanup"
	if err := s.usable(ctx); err != nil {
		return 0, s.wrap(op, err)
	}
	keys, err := s.expireDedupe(ctx, now)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	deleted := 0
	for b := range eventBuckets {
		n, err := s.cleanBucket(ctx, b, cutoff)
		deleted += n
		if err != nil {
			return deleted, s.wrap(op, err)
		}
	}
	// The attempt-figures sets earlier versions kept go, on every
	// destination (scriptDrop without ids).
	dests, err := s.destinations(ctx)
	if err != nil {
		return deleted, s.wrap(op, err)
	}
	var calls []*scriptCall
	for _, d := range dests {
		base := s.k.dest(d)
		calls = append(calls, call(scriptDrop, base+":due", base, micros(cutoff)))
	}
	if err := s.runScripts(ctx, calls); err != nil {
		return deleted, s.wrap(op, err)
	}
	if deleted > 0 || keys > 0 {
		s.log.Debug("cleaned up", "events", deleted, "dedupe_keys", keys)
	}
	return deleted, nil
}

// cleanBucket runs Cleanup over one event bucket.
func (s *Store) cleanBucket(ctx context.Context, b int, cutoff time.Time) (int, error) {
	base := s.k.bucket(b)
	deleted := 0
	for offset := int64(0); ; {
		if err := s.usable(ctx); err != nil {
			return deleted, err
		}
		ids, err := s.rdb.ZRangeByScore(ctx, base+":events", &goredis.ZRangeBy{
			Min: "-inf", Max: maxScore(cutoff, true), Offset: offset, Count: cleanupBatch,
		}).Result()
		if err != nil || len(ids) == 0 {
			return deleted, err
		}
		// The events' delivery indexes, and whether they are in their
		// recovery window.
		pipe := s.rdb.Pipeline()
		idx := make([]*goredis.StringCmd, len(ids))
		pend := make([]*goredis.FloatCmd, len(ids))
		for i, id := range ids {
			idx[i] = pipe.HGet(ctx, base+":evt:"+id, "d")
			pend[i] = pipe.ZScore(ctx, base+":pend", id)
		}
		pipe.Exec(ctx) // errors are on the commands
		type candidate struct {
			id    string
			dlvs  eventIndex
			state []*goredis.SliceCmd
		}
		var cands []*candidate
		pipe = s.rdb.Pipeline()
		for i, id := range ids {
			if err := pend[i].Err(); !errors.Is(err, goredis.Nil) {
				if err != nil {
					return deleted, err
				}
				continue // in its recovery window
			}
			v, err := idx[i].Result()
			if errors.Is(err, goredis.Nil) {
				// An index entry whose event is gone: drop the entry.
				cands = append(cands, &candidate{id: id})
				continue
			}
			if err != nil {
				return deleted, err
			}
			c := &candidate{id: id}
			if err := json.Unmarshal([]byte(v), &c.dlvs); err != nil {
				return deleted, corrupt("event "+id, err)
			}
			for _, d := range c.dlvs {
				c.state = append(c.state, pipe.HMGet(ctx, s.k.dest(d[1])+":dlv:"+d[0], "st", "uu"))
			}
			cands = append(cands, c)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
			return deleted, err
		}
		limit := cutoff.UnixMicro()
		var (
			ready []*candidate
			calls []*scriptCall
			owner []*candidate
		)
		for _, c := range cands {
			old := true
			for _, st := range c.state {
				f := st.Val()
				if f[0] == nil {
					continue // deleted already
				}
				status, _ := f[0].(string)
				uu, _ := f[1].(string)
				us, err := strconv.ParseInt(uu, 10, 64)
				if !store.Status(status).Finished() || err != nil || us >= limit {
					old = false
					break
				}
			}
			if !old {
				continue
			}
			ready = append(ready, c)
			byDest := map[string][]any{}
			for _, d := range c.dlvs {
				byDest[d[1]] = append(byDest[d[1]], d[0])
			}
			for dest, dids := range byDest {
				db := s.k.dest(dest)
				calls = append(calls, call(scriptDrop, db+":due", append([]any{db, micros(cutoff)}, dids...)...))
				owner = append(owner, c)
			}
		}
		if err := s.runScripts(ctx, calls); err != nil {
			return deleted, err
		}
		blocked := map[*candidate]bool{}
		for i, c := range calls {
			if n, _ := c.cmd.Int64(); n > 0 {
				blocked[owner[i]] = true // retried meanwhile
			}
		}
		args := []any{base}
		for _, c := range ready {
			if !blocked[c] {
				args = append(args, c.id)
			}
		}
		n := 0
		if len(args) > 1 {
			c := call(scriptDropEvents, base+":events", args...)
			if err := s.runScripts(ctx, []*scriptCall{c}); err != nil {
				return deleted, err
			}
			v, _ := c.cmd.Int64()
			n = len(args) - 1
			deleted += int(v)
		}
		if len(ids) < cleanupBatch {
			return deleted, nil
		}
		offset += int64(len(ids) - n)
	}
}

// expireDedupe forgets, in every bucket, the dedupe keys whose window
// ended at or before now, and returns how many.
func (s *Store) expireDedupe(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for b := range eventBuckets {
		base := s.k.bucket(b)
		for {
			c := call(scriptExpireDedupe, base+":ddx", base, micros(now), chunk)
			if err := s.runScripts(ctx, []*scriptCall{c}); err != nil {
				return total, err
			}
			n, _ := c.cmd.Int64()
			total += int(n)
			if n < chunk {
				break
			}
		}
	}
	return total, nil
}
