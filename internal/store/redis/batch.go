package redis

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// batcher runs single script calls of concurrent callers (Complete, Claim)
// together: a few goroutines each take the calls waiting at that moment and
// send them in one pipeline, so a busy delivery engine costs Redis one
// round trip (and one read and write per connection) per batch, not per
// call.
type batcher struct {
	s      *Store
	mu     sync.RWMutex
	closed bool
	queue  chan *batchCall
	wg     sync.WaitGroup
}

// batchCall is a queued call and, once done is closed, its pipeline's
// error.
type batchCall struct {
	c    *scriptCall
	ctx  context.Context
	done chan struct{}
	err  error
}

func (b *batcher) start(s *Store) {
	b.s = s
	b.queue = make(chan *batchCall, 4*maxBatch)
	for range committers {
		b.wg.Go(b.run)
	}
}

// do runs c in the next batch and waits for it, or for ctx.
func (b *batcher) do(ctx context.Context, c *scriptCall) error {
	bc := &batchCall{c: c, ctx: ctx, done: make(chan struct{})}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return errClosed
	}
	select {
	case b.queue <- bc:
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	b.mu.RUnlock()
	select {
	case <-bc.done:
		return bc.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close runs the calls queued, then stops.
func (b *batcher) close() {
	b.mu.Lock()
	b.closed = true
	close(b.queue)
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *batcher) run() {
	for first := range b.queue {
		batch := []*batchCall{first}
	fill:
		for len(batch) < maxBatch {
			select {
			case bc, ok := <-b.queue:
				if !ok {
					break fill
				}
				batch = append(batch, bc)
			default:
				break fill
			}
		}
		calls := make([]*scriptCall, 0, len(batch))
		for _, bc := range batch {
			if bc.ctx.Err() == nil { // its caller is gone: skip it
				calls = append(calls, bc.c)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		err := b.s.runScripts(ctx, calls)
		cancel()
		for _, bc := range batch {
			bc.err = bc.ctx.Err()
			if bc.err == nil {
				bc.err = bc.c.cmd.Err()
				if bc.err == nil && err != nil && bc.c.cmd == nil {
					bc.err = err
				}
			}
			close(bc.done)
		}
	}
}

// batchTimeout bounds one batch's pipeline.
const batchTimeout = 10 * time.Second

// completer runs the Completes of concurrent callers together: a few
// goroutines each take the Completes waiting at that moment and record
// them with one scriptComplete per destination, all in one pipeline. A
// busy delivery engine then costs Redis one script call per destination
// and batch, not one per attempt.
type completer struct {
	s      *Store
	mu     sync.RWMutex
	closed bool
	queue  chan *completeCall
	wg     sync.WaitGroup
}

// completeCall is one queued Complete and, once done is closed, the
// attempt's number (scriptComplete's answer) or the error.
type completeCall struct {
	dest string
	args []any // scriptComplete's values for this attempt
	ctx  context.Context
	done chan struct{}
	n    int64
	err  error
}

func (c *completer) start(s *Store) {
	c.s = s
	c.queue = make(chan *completeCall, 4*maxBatch)
	for range committers {
		c.wg.Go(c.run)
	}
}

// do records one attempt of a delivery to dest in the next batch and
// returns scriptComplete's answer for it.
func (c *completer) do(ctx context.Context, dest string, args []any) (int64, error) {
	cc := &completeCall{dest: dest, args: args, ctx: ctx, done: make(chan struct{})}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return 0, errClosed
	}
	select {
	case c.queue <- cc:
	case <-ctx.Done():
		c.mu.RUnlock()
		return 0, ctx.Err()
	}
	c.mu.RUnlock()
	select {
	case <-cc.done:
		return cc.n, cc.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// close records the Completes queued, then stops.
func (c *completer) close() {
	c.mu.Lock()
	c.closed = true
	close(c.queue)
	c.mu.Unlock()
	c.wg.Wait()
}

func (c *completer) run() {
	for first := range c.queue {
		batch := []*completeCall{first}
	fill:
		for len(batch) < maxBatch {
			select {
			case cc, ok := <-c.queue:
				if !ok {
					break fill
				}
				batch = append(batch, cc)
			default:
				break fill
			}
		}
		byDest := map[string][]*completeCall{}
		var dests []string
		for _, cc := range batch {
			if cc.ctx.Err() != nil {
				cc.err = cc.ctx.Err() // its caller is gone: skip it
				close(cc.done)
				continue
			}
			if byDest[cc.dest] == nil {
				dests = append(dests, cc.dest)
			}
			byDest[cc.dest] = append(byDest[cc.dest], cc)
		}
		calls := make([]*scriptCall, len(dests))
		for i, d := range dests {
			base := c.s.k.dest(d)
			args := make([]any, 0, 1+completeFields*len(byDest[d]))
			args = append(args, base)
			for _, cc := range byDest[d] {
				args = append(args, cc.args...)
			}
			calls[i] = call(scriptComplete, base+":due", args...)
		}
		ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
		c.s.runScripts(ctx, calls) // errors are on the commands
		cancel()
		for i, d := range dests {
			ccs := byDest[d]
			ns, cerr := calls[i].cmd.Int64Slice()
			if cerr == nil && len(ns) != len(ccs) {
				cerr = corrupt("complete reply", fmt.Errorf("%d results for %d attempts", len(ns), len(ccs)))
			}
			for j, cc := range ccs {
				if cerr != nil {
					cc.err = cerr
				} else {
					cc.n = ns[j]
				}
				close(cc.done)
			}
		}
	}
}
