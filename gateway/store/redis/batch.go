package redis

import (
	"context"
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
