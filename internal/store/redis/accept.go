package redis

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/store/internal/codec"
)

// Accept stores ev and ds, then returns once Redis has acknowledged every
// write. It does not modify ev or ds (but for the LeaseUntil of an ordered
// delivery it did not store leased: store.Orderer), and stores them as the embedded
// store does (embedded.Store.Accept): deliveries Pending, carrying ev's id,
// created at ev.ReceivedAt when their CreatedAt is zero, due at CreatedAt
// when their NextAttemptAt is zero; a zero ReceivedAt is the store's clock.
//
// It takes two steps, batched with concurrent Accepts (see committer): one
// script in the event's bucket checks the dedupe key and stores the event
// with a recovery copy of its deliveries; then one script per destination
// stores the deliveries. A crash between the two leaves the recovery copy,
// from which any instance creates the deliveries (recoverLoop).
func (s *Store) Accept(ctx context.Context, ev *store.Event, ds []*store.Delivery, dd *store.Dedupe) (string, error) {
	if ev == nil {
		return "", s.wrap("accept", invalid("nil event"))
	}
	op := "accept " + ev.ID
	if err := s.usable(ctx); err != nil {
		return "", s.wrap(op, err)
	}
	req, err := s.prepareAccept(ev, ds, dd)
	if err != nil {
		return "", s.wrap(op, err)
	}
	if err := s.acc.submit(ctx, req); err != nil {
		return "", s.wrap(op, err)
	}
	select {
	case <-req.done:
	case <-ctx.Done():
		// The write may still land: then the event is stored but was
		// not acknowledged, which at-least-once allows.
		return "", s.wrap(op, ctx.Err())
	}
	if req.err != nil {
		return req.firstID, s.wrap(op, req.err)
	}
	// Ordered deliveries not stored leased (they wait in their line, or
	// the cluster's two-step Accept could not tell): not to be handed over.
	for _, d := range req.leased {
		if req.unleased(d) {
			d.LeaseUntil = time.Time{}
		}
	}
	// Their Complete will know their destination without asking Redis.
	s.remember(req.leased)
	return ev.ID, nil
}

// acceptReq is one Accept's prepared writes and, once done is closed, its
// result.
type acceptReq struct {
	id      string
	bucket  int
	event   []any // scriptEvent's ARGV after the base
	puts    map[string][]any
	hasDlvs bool
	// leased are the deliveries given with a LeaseUntil.
	leased []*store.Delivery
	// waiting are the ids of ordered deliveries given a LeaseUntil that
	// the accept script stored waiting in their line, unleased; on a
	// cluster, every ordered delivery given one (never leased there).
	waiting []string
	// dests are the destinations its event script registers.
	dests []string

	done    chan struct{}
	firstID string
	err     error
}

// pendDelivery is one delivery in an event's recovery copy: its
// destination, then scriptPut's ARGV for it.
type pendDelivery []string

// pendFormat is the first byte of a binary recovery copy (older ones are
// JSON arrays, starting with '[').
const pendFormat byte = 0x01

// encodePend writes a recovery copy: a count of deliveries, then each
// one's count of strings and the strings. (JSON escaped the binary
// delivery record it holds byte by byte.)
func encodePend(pend []pendDelivery) []byte {
	n := 2
	for _, p := range pend {
		for _, s := range p {
			n += len(s) + 2
		}
	}
	b := make([]byte, 0, n)
	b = append(b, pendFormat)
	b = binary.AppendUvarint(b, uint64(len(pend)))
	for _, p := range pend {
		b = binary.AppendUvarint(b, uint64(len(p)))
		for _, s := range p {
			b = codec.AppendString(b, s)
		}
	}
	return b
}

// decodePend reads a recovery copy written by encodePend, or an older
// JSON one.
func decodePend(v []byte) ([]pendDelivery, error) {
	if len(v) > 0 && v[0] == '[' {
		var pend []pendDelivery
		err := json.Unmarshal(v, &pend)
		return pend, err
	}
	r := codec.Reader{B: v}
	if f := r.Byte(); f != pendFormat {
		return nil, fmt.Errorf("recovery copy format %#x", f)
	}
	pend := make([]pendDelivery, r.Count())
	for i := range pend {
		pend[i] = make(pendDelivery, r.Count())
		for j := range pend[i] {
			pend[i][j] = r.String()
		}
	}
	return pend, r.Done()
}

func (s *Store) prepareAccept(ev *store.Event, ds []*store.Delivery, dd *store.Dedupe) (*acceptReq, error) {
	a, err := store.PrepareAccept(ev, ds, dd, s.now(), checkName)
	if err != nil {
		return nil, err
	}
	e := &a.Event
	received := e.ReceivedAt
	req := &acceptReq{id: e.ID, puts: map[string][]any{}, done: make(chan struct{})}
	var (
		index eventIndex
		pend  []pendDelivery
		dests []string
	)
	for i := range a.Deliveries {
		d := &a.Deliveries[i]
		r := deliveryRec{
			ID: d.ID, EventID: d.EventID, Source: d.Source, EventType: d.EventType, Route: d.Route,
			Destination: d.Destination, Body: d.Body, CreatedAt: d.CreatedAt, TraceParent: d.TraceParent,
			ReplayOf: d.ReplayOf,
		}
		updated, next := d.UpdatedAt, d.NextAttemptAt
		rv := r.encode()
		// The recovery copy never leases: it is used when the Accept that
		// wrote it (and the process it would have handed the deliveries
		// to) is gone.
		key, lk, blocks := orderArgs(d)
		args := []string{d.ID, micros(next), string(rv), timeText(updated), micros(updated), timeText(next), "", key, lk, blocks}
		pend = append(pend, append(pendDelivery{d.Destination}, args...))
		if !d.LeaseUntil.IsZero() {
			req.leased = append(req.leased, ds[i])
			if d.Key != "" && s.cluster {
				// The two-step Accept cannot tell the heads.
				req.waiting = append(req.waiting, d.ID)
			} else {
				args[6] = micros(d.LeaseUntil)
			}
		}
		for _, a := range args {
			req.puts[d.Destination] = append(req.puts[d.Destination], a)
		}
		index = append(index, [2]string{d.ID, d.Destination})
		if len(req.puts[d.Destination]) == len(args) {
			dests = append(dests, d.Destination)
		}
	}
	req.hasDlvs = len(ds) > 0
	evRec := codec.EncodeEvent(e)
	idxJSON, err := json.Marshal(index)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	var pendRec []byte
	if len(pend) > 0 && s.cluster {
		// Only a cluster's two-step Accept needs the recovery copy.
		pendRec = encodePend(pend)
	}
	ddName, ddExpires := "", ""
	if dd := a.Dedupe; dd != nil {
		ddName = dedupeName(ev.Source, dd.Key)
		ddExpires = micros(received.Add(dd.Window))
	}
	req.bucket = eventBucket(ev.ID, ev.Source, ddName)
	// Destinations this process registered already are not sent again.
	var newDests []string
	for _, d := range dests {
		if !s.destKnown(d) {
			newDests = append(newDests, d)
		}
	}
	req.dests = newDests
	req.event = []any{ev.ID, evRec, idxJSON, micros(received), "", pendRec, ddName, ddExpires, strings.Join(newDests, "\x00")}
	return req, nil
}

// recoverAfter is how long an accepted event's recovery copy waits before
// another instance assumes the Accept that wrote it died, and creates its
// deliveries itself.
const recoverAfter = 30 * time.Second

// recoverLoop recovers half-done Accepts every few seconds until ctx ends.
func (s *Store) recoverLoop(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.recoverAccepts(ctx, s.now().Add(-recoverAfter))
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Debug("recover accepted events", "error", err)
		case n > 0:
			s.log.Info("recovered accepted events whose deliveries were not all stored", "count", n)
		}
	}
}

// recoverAccepts creates the deliveries of events accepted before cutoff
// whose recovery copy is still there (the Accept that stored them died or
// lost Redis before its second step finished), and returns how many events
// it completed. Creating a delivery that exists does nothing.
func (s *Store) recoverAccepts(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for b := range eventBuckets {
		base := s.k.bucket(b)
		ids, err := s.rdb.ZRangeByScore(ctx, base+":pend", &goredis.ZRangeBy{Min: "-inf", Max: maxScore(cutoff, false), Count: 200}).Result()
		if err != nil {
			return total, err
		}
		if len(ids) == 0 {
			continue
		}
		// The recovery copy is the event's field p (a key of its own,
		// …:pend:ID, before).
		pipe := s.rdb.Pipeline()
		copies := make([]*goredis.StringCmd, len(ids))
		olds := make([]*goredis.StringCmd, len(ids))
		for i, id := range ids {
			copies[i] = pipe.HGet(ctx, base+":evt:"+id, "p")
			olds[i] = pipe.Get(ctx, base+":pend:"+id)
		}
		pipe.Exec(ctx) // errors are on the commands
		puts := map[string][]any{}
		var done []any
		var oldKeys []string
		for i := range ids {
			v, err := copies[i].Result()
			if err != nil {
				if v, err = olds[i].Result(); err != nil {
					continue // confirmed meanwhile, or unreadable now
				}
				oldKeys = append(oldKeys, base+":pend:"+ids[i])
			}
			pend, err := decodePend([]byte(v))
			if err != nil {
				s.log.Warn("unreadable recovery copy", "event_id", ids[i], "error", err)
				continue
			}
			for _, p := range pend {
				if len(p) == 7 { // written before leases: not leased
					p = append(p, "")
				}
				if len(p) == 8 { // written before ordering: not ordered
					p = append(p, "", "", "")
				}
				if len(p) != 1+putFields {
					continue
				}
				for _, a := range p[1:] {
					puts[p[0]] = append(puts[p[0]], a)
				}
			}
			done = append(done, ids[i])
		}
		var calls []*scriptCall
		for dest, args := range puts {
			base := s.k.dest(dest)
			calls = append(calls, call(scriptPut, base+":due", append([]any{base}, args...)...))
		}
		if err := s.runScripts(ctx, calls); err != nil {
			return total, err
		}
		if len(done) > 0 {
			c := call(scriptConfirm, base+":pend", append([]any{base}, done...)...)
			if err := s.runScripts(ctx, []*scriptCall{c}); err != nil {
				return total, err
			}
		}
		for _, k := range oldKeys {
			s.rdb.Del(ctx, k)
		}
		total += len(done)
	}
	return total, nil
}
