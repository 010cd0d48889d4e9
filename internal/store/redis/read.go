package redis

import (
	"context"
	"errors"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/internal/codec"
)

// Delivery returns delivery id and its attempts, oldest first. It finds
// the delivery's destination by asking each registered destination (one
// pipeline), since an id does not name its destination.
func (s *Store) Delivery(ctx context.Context, id string) (*store.Delivery, []store.Attempt, error) {
	op := "delivery " + id
	if err := s.usable(ctx); err != nil {
		return nil, nil, s.wrap(op, err)
	}
	if err := checkName("delivery id", id, false); err != nil {
		return nil, nil, s.wrap(op, store.ErrNotFound)
	}
	dest, err := s.destOf(ctx, id)
	if err != nil {
		return nil, nil, s.wrap(op, err)
	}
	base := s.k.dest(dest)
	pipe := s.rdb.Pipeline()
	rec := pipe.HMGet(ctx, base+":dlv:"+id, recordFields...)
	atts := pipe.LRange(ctx, base+":att:"+id, 0, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, nil, s.wrap(op, err)
	}
	d, err := decodeDelivery(rec.Val())
	if err != nil {
		return nil, nil, s.wrap(op, err)
	}
	as, err := decodeAttempts(atts.Val())
	if err != nil {
		return nil, nil, s.wrap(op, err)
	}
	return d, as, nil
}

// Event returns event id. Its bucket depends on its dedupe key, which the
// id does not give, so it asks every bucket in one pipeline.
func (s *Store) Event(ctx context.Context, id string) (*store.Event, error) {
	op := "event " + id
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	if checkName("event id", id, false) != nil {
		return nil, s.wrap(op, store.ErrNotFound)
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*goredis.StringCmd, eventBuckets)
	for b := range eventBuckets {
		cmds[b] = pipe.HGet(ctx, s.k.bucket(b)+":evt:"+id, "j")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, s.wrap(op, err)
	}
	for _, c := range cmds {
		v, err := c.Result()
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			return nil, s.wrap(op, err)
		}
		ev := new(store.Event)
		if err := codec.DecodeEvent([]byte(v), ev); err != nil {
			return nil, s.wrap(op, corrupt("event", err))
		}
		return ev, nil
	}
	return nil, s.wrap(op, store.ErrNotFound)
}
