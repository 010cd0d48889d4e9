package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/store"
)

// maxClaim bounds one Claim, so one script stays short.
const maxClaim = 1000

// Claim leases up to limit (at most 1000) of destination's due deliveries,
// oldest due first, in one script: it first files deliveries whose lease
// ended (their instance died, or took too long) as due again, then moves
// the due ones from the due set to the lease set, scored by the lease's
// end. Leases live in Redis, so any instance takes over another's.
func (s *Store) Claim(ctx context.Context, destination string, now time.Time, limit int, lease time.Duration) ([]*store.Delivery, error) {
	op := "claim " + destination
	if err := s.usable(ctx); err != nil {
		return nil, s.wrap(op, err)
	}
	if err := checkName("destination", destination, false); err != nil {
		return nil, s.wrap(op, err)
	}
	if lease <= 0 {
		return nil, s.wrap(op, invalid("lease %s is not positive", lease))
	}
	if limit <= 0 {
		return nil, nil
	}
	limit = min(limit, maxClaim)
	base := s.k.dest(destination)
	c := call(scriptClaim, base+":due", base, micros(now), micros(now.Add(lease)), limit)
	if err := s.calls.do(ctx, c); err != nil {
		return nil, s.wrap(op, err)
	}
	rows, err := c.cmd.Slice()
	if err != nil {
		return nil, s.wrap(op, err)
	}
	out := make([]*store.Delivery, 0, len(rows))
	var bad []any
	for _, row := range rows {
		vals, ok := row.([]any)
		if !ok || len(vals) != 1+len(recordFields) {
			return nil, s.wrap(op, corrupt("claim reply", fmt.Errorf("%T", row)))
		}
		d, err := decodeDelivery(vals[1:])
		if err != nil {
			// A record that does not decode must not stop the
			// destination's claims for good: it is set aside below.
			id, _ := vals[0].(string)
			rec := deliveryRec{ID: id, Destination: destination, CreatedAt: now}
			bad = append(bad, id, rec.encode())
			continue
		}
		out = append(out, d)
	}
	if len(bad) > 0 {
		c := call(scriptSetAside, base+":due", append([]any{base, micros(now), timeText(now), CorruptReason}, bad...)...)
		if err := s.runScripts(ctx, []*scriptCall{c}); err != nil {
			s.log.Warn("set aside corrupt delivery records", "destination", destination, "error", err)
		} else {
			for i := 0; i < len(bad); i += 2 {
				s.log.Error("a delivery record did not decode: dead-lettered; its raw record is kept in the hash's field rx",
					"delivery_id", bad[i], "destination", destination, "reason", CorruptReason)
			}
		}
	}
	s.remember(out)
	return out, nil
}

// CorruptReason is the dead reason of a delivery whose record did not
// decode.
const CorruptReason = "corrupt record"

// Complete records attempt o.Attempt of delivery id and files the delivery
// by o.Status, in one script, as the embedded store does: the attempt is
// numbered Attempts+1, keeps at most store.ResponsePrefix bytes of its
// response and a zero At is the store's clock; UpdatedAt becomes the
// attempt's At; a Retrying outcome with a zero NextAttemptAt is due at
// once. A finished delivery gives store.ErrConflict and records nothing.
func (s *Store) Complete(ctx context.Context, id string, o store.Outcome) error {
	op := "complete " + id
	if err := s.usable(ctx); err != nil {
		return s.wrap(op, err)
	}
	if err := checkName("delivery id", id, false); err != nil {
		return s.wrap(op, err)
	}
	switch o.Status {
	case store.Delivered, store.Retrying, store.Dead:
	default:
		return s.wrap(op, invalid("outcome status %q", o.Status))
	}
	dest, err := s.destOf(ctx, id)
	if err != nil {
		return s.wrap(op, err)
	}
	a := o.Attempt
	if a.At.IsZero() {
		a.At = s.now()
	}
	a.N = 0 // the position in the list numbers it
	a.Response = store.Truncate(a.Response, store.ResponsePrefix)
	av, err := json.Marshal(&a)
	if err != nil {
		return s.wrap(op, fmt.Errorf("encode attempt: %w", err))
	}
	next := o.NextAttemptAt
	if o.Status == store.Retrying && next.IsZero() {
		next = a.At
	}
	nextText, nextUS := "", ""
	if o.Status == store.Retrying {
		nextText, nextUS = timeText(next), micros(next)
	}
	n, err := s.completes.do(ctx, dest, []any{id, string(o.Status), av, timeText(a.At), micros(a.At),
		nextText, nextUS, a.StatusCode, a.Error, o.DeadReason})
	if err != nil {
		return s.wrap(op, err)
	}
	s.forget(id)
	switch {
	case n > 0:
		s.figs.add(dest, int(n), &a)
		return nil
	case n == 0:
		return s.wrap(op, store.ErrNotFound)
	default:
		return s.wrap(op, fmt.Errorf("%w: delivery is finished", store.ErrConflict))
	}
}

// NextDue returns the earliest of destination's first due time and first
// lease end: both sets are sorted by time, so it reads one member of each.
func (s *Store) NextDue(ctx context.Context, destination string) (time.Time, bool, error) {
	op := "next due " + destination
	if err := s.usable(ctx); err != nil {
		return time.Time{}, false, s.wrap(op, err)
	}
	base := s.k.dest(destination)
	pipe := s.rdb.Pipeline()
	due := pipe.ZRangeWithScores(ctx, base+":due", 0, 0)
	lease := pipe.ZRangeWithScores(ctx, base+":lease", 0, 0)
	if _, err := pipe.Exec(ctx); err != nil {
		return time.Time{}, false, s.wrap(op, err)
	}
	var (
		first float64
		ok    bool
	)
	for _, zs := range [][]goredis.Z{due.Val(), lease.Val()} {
		if len(zs) > 0 && (!ok || zs[0].Score < first) {
			first, ok = zs[0].Score, true
		}
	}
	if !ok {
		return time.Time{}, false, nil
	}
	return fromMicros(first), true, nil
}

// abandonChunk is how many deliveries one Abandon script dead-letters.
const abandonChunk = 1000

// Abandon dead-letters destination's unfinished deliveries that are not
// leased at now, with reason, a chunk per script; each script first files
// expired leases as due, so those are abandoned too, and leaves deliveries
// leased meanwhile to their attempt.
func (s *Store) Abandon(ctx context.Context, destination, reason string, now time.Time) (int, error) {
	op := "abandon " + destination
	if err := s.usable(ctx); err != nil {
		return 0, s.wrap(op, err)
	}
	if err := checkName("destination", destination, false); err != nil {
		return 0, s.wrap(op, err)
	}
	base := s.k.dest(destination)
	total := 0
	for {
		if err := s.usable(ctx); err != nil {
			return total, s.wrap(op, err)
		}
		c := call(scriptAbandon, base+":due", base, micros(now), timeText(now), reason, abandonChunk)
		if err := s.runScripts(ctx, []*scriptCall{c}); err != nil {
			return total, s.wrap(op, err)
		}
		res, err := c.cmd.Int64Slice()
		if err != nil || len(res) != 2 {
			return total, s.wrap(op, corrupt("abandon reply", fmt.Errorf("%v %v", res, err)))
		}
		total += int(res[0])
		if res[1] == 0 {
			n, err := s.abandonLines(ctx, base, reason, now)
			if err != nil {
				return total, s.wrap(op, err)
			}
			return total + n, nil
		}
	}
}

// Release ends the leases held on ds without an attempt, one script per
// destination: each leased, unfinished delivery is due again at its
// NextAttemptAt, for any instance to claim.
func (s *Store) Release(ctx context.Context, ds []*store.Delivery) error {
	if err := s.usable(ctx); err != nil {
		return s.wrap("release", err)
	}
	byDest := map[string][]any{}
	for _, d := range ds {
		if d == nil {
			continue
		}
		if err := checkName("destination", d.Destination, false); err != nil {
			return s.wrap("release "+d.ID, err)
		}
		byDest[d.Destination] = append(byDest[d.Destination], d.ID)
	}
	var calls []*scriptCall
	for dest, ids := range byDest {
		base := s.k.dest(dest)
		calls = append(calls, call(scriptRelease, base+":due", append([]any{base}, ids...)...))
	}
	if len(calls) == 0 {
		return nil
	}
	if err := s.runScripts(ctx, calls); err != nil {
		return s.wrap("release", err)
	}
	for _, d := range ds {
		if d != nil {
			s.forget(d.ID)
		}
	}
	return nil
}
