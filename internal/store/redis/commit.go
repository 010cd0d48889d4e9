package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hookgate/hookgate/internal/store"
)

// Group commit of Accepts: committers (a few goroutines) each take the
// Accepts waiting at that moment, up to maxBatch, and write them with two
// pipelines, one round trip each, whatever the batch's size: the event
// scripts, then one delivery script per destination for the whole batch.
// Round trips then bound the batches per second, not the events.
const (
	committers = 4
	maxBatch   = 256
)

// committer queues Accepts for its goroutines.
type committer struct {
	s      *Store
	ctx    context.Context
	mu     sync.RWMutex
	closed bool
	queue  chan *acceptReq
	wg     sync.WaitGroup
}

func (c *committer) start(s *Store, ctx context.Context) {
	c.s, c.ctx = s, ctx
	c.queue = make(chan *acceptReq, 4*maxBatch)
	for range committers {
		c.wg.Go(c.run)
	}
}

// submit queues req; it fails once the store is closed.
func (c *committer) submit(ctx context.Context, req *acceptReq) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return errClosed
	}
	select {
	case c.queue <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops taking Accepts, lets the committers write those queued, and
// waits for them.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	close(c.queue)
	c.mu.Unlock()
	c.wg.Wait()
}

func (c *committer) run() {
	var carry map[int][]any
	for req := range c.queue {
		batch := []*acceptReq{req}
	fill:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-c.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		carry = c.write(batch, carry)
	}
	c.confirm(carry)
}

// write stores a batch and answers each of its Accepts. carry are
// recovery copies to drop, left by the previous batch: they ride along
// with this batch's first pipeline. It returns this batch's, when more
// Accepts wait (else it drops them at once).
func (c *committer) write(batch []*acceptReq, carry map[int][]any) map[int][]any {
	if !c.s.cluster {
		c.writeOne(batch)
		return nil
	}
	s := c.s
	// Not c.ctx: a batch taken before Close still gets written.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), batchTimeout)
	defer cancel()
	finish := func(r *acceptReq, firstID string, err error) {
		r.firstID, r.err = firstID, err
		close(r.done)
	}

	// Step 1: the events, with their dedupe checks: one script per
	// bucket.
	accepted := micros(s.now())
	byBucket := map[int][]*acceptReq{}
	var buckets []int
	for _, r := range batch {
		r.event[4] = accepted
		if byBucket[r.bucket] == nil {
			buckets = append(buckets, r.bucket)
		}
		byBucket[r.bucket] = append(byBucket[r.bucket], r)
	}
	calls := make([]*scriptCall, len(buckets))
	for i, b := range buckets {
		base := s.k.bucket(b)
		args := make([]any, 0, 1+eventFields*len(byBucket[b]))
		args = append(args, base)
		for _, r := range byBucket[b] {
			args = append(args, r.event...)
		}
		calls[i] = call(scriptEvent, base+":events", args...)
	}
	err := s.runScripts(ctx, append(c.confirmCalls(carry), calls...))
	var next []*acceptReq
	for i, b := range buckets {
		rs := byBucket[b]
		res, cerr := calls[i].cmd.StringSlice()
		if cerr == nil && len(res) != len(rs) {
			cerr = corrupt("event script reply", fmt.Errorf("%d results for %d events", len(res), len(rs)))
		}
		for j, r := range rs {
			switch {
			case cerr != nil:
				if err != nil {
					cerr = errors.Join(cerr, err)
				}
				finish(r, "", cerr)
			case strings.HasPrefix(res[j], "dup "):
				finish(r, strings.TrimPrefix(res[j], "dup "), store.ErrDuplicate)
			case res[j] == "exists":
				finish(r, "", errors.Join(store.ErrConflict, errors.New("event exists")))
			default:
				s.destsKnown(r.dests)
				if !r.hasDlvs {
					finish(r, "", nil)
				} else {
					next = append(next, r)
				}
			}
		}
	}
	if len(next) == 0 {
		return nil
	}

	// Step 2: the deliveries, one script per destination.
	byDest := map[string][]any{}
	users := map[string][]*acceptReq{}
	for _, r := range next {
		for dest, args := range r.puts {
			byDest[dest] = append(byDest[dest], args...)
			users[dest] = append(users[dest], r)
		}
	}
	calls = calls[:0]
	dests := make([]string, 0, len(byDest))
	for dest, args := range byDest {
		base := s.k.dest(dest)
		calls = append(calls, call(scriptPut, base+":due", append([]any{base}, args...)...))
		dests = append(dests, dest)
	}
	err = s.runScripts(ctx, calls)
	failed := map[*acceptReq]error{}
	for i, c := range calls {
		if cerr := c.cmd.Err(); cerr != nil {
			for _, r := range users[dests[i]] {
				failed[r] = cerr
			}
		}
	}
	confirm := map[int][]any{}
	for _, r := range next {
		if ferr, ok := failed[r]; ok {
			// The event is stored with its recovery copy: recoverLoop
			// creates its deliveries later. The sender, answered 503,
			// sends it again: at least once.
			finish(r, "", errors.Join(ferr, err))
			continue
		}
		finish(r, "", nil)
		confirm[r.bucket] = append(confirm[r.bucket], r.id)
	}

	// Step 3, after the answers: drop the recovery copies, with the next
	// batch when one waits. Should this fail, recovery finds the
	// deliveries exist and drops the copies itself.
	if len(c.queue) > 0 {
		return confirm
	}
	c.confirm(confirm)
	return nil
}

// confirmCalls are the scripts that drop the recovery copies of ids, by
// bucket.
func (c *committer) confirmCalls(ids map[int][]any) []*scriptCall {
	var calls []*scriptCall
	for b, list := range ids {
		base := c.s.k.bucket(b)
		calls = append(calls, call(scriptConfirm, base+":pend", append([]any{base}, list...)...))
	}
	return calls
}

// confirm drops the recovery copies of ids now.
func (c *committer) confirm(ids map[int][]any) {
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), batchTimeout)
	defer cancel()
	if err := c.s.runScripts(ctx, c.confirmCalls(ids)); err != nil {
		c.s.log.Debug("confirm accepted events", "error", err)
	}
}

// writeOne stores a batch on a single Redis with one script (scriptAccept)
// and answers each of its Accepts: events and deliveries in one step, so
// no recovery copy is needed.
func (c *committer) writeOne(batch []*acceptReq) {
	s := c.s
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), batchTimeout)
	defer cancel()
	accepted := micros(s.now())
	args := make([]any, 0, len(batch)*(2+eventFields+2*(1+putFields)))
	for _, r := range batch {
		r.event[4] = accepted
		args = append(args, s.k.bucket(r.bucket))
		args = append(args, r.event...)
		n := 0
		for _, a := range r.puts {
			n += len(a) / putFields
		}
		args = append(args, n)
		for dest, a := range r.puts {
			base := s.k.dest(dest)
			for i := 0; i+putFields <= len(a); i += putFields {
				args = append(args, base)
				args = append(args, a[i:i+putFields]...)
			}
		}
	}
	cl := call(scriptAccept, s.k.bucket(batch[0].bucket)+":events", args...)
	err := s.runScripts(ctx, []*scriptCall{cl})
	res, cerr := cl.cmd.StringSlice()
	if cerr == nil && len(res) != len(batch) {
		cerr = corrupt("accept script reply", fmt.Errorf("%d results for %d events", len(res), len(batch)))
	}
	if cerr != nil && err != nil {
		cerr = errors.Join(cerr, err)
	}
	for i, r := range batch {
		switch {
		case cerr != nil:
			r.err = cerr
		case strings.HasPrefix(res[i], "dup "):
			r.firstID, r.err = strings.TrimPrefix(res[i], "dup "), store.ErrDuplicate
		case res[i] == "exists":
			r.err = errors.Join(store.ErrConflict, errors.New("event exists"))
		default:
			// "ok", then the ordered deliveries stored waiting.
			r.waiting = append(r.waiting, strings.Fields(strings.TrimPrefix(res[i], "ok"))...)
			s.destsKnown(r.dests)
		}
		close(r.done)
	}
}
