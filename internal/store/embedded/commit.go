package embedded

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// write runs fn in a write transaction shared with concurrent writers and
// returns once it is committed. fn must be idempotent: it may run again,
// alone, when another function of its group fails.
func (s *Store) write(fn func(*bolt.Tx) error) error {
	return s.commit.do(fn, false)
}

// writeLazy is write for a write nobody waits on to answer a sender (an
// attempt's outcome): it joins the next commit an eager write starts, or
// commits after lazyDelay when none comes, instead of paying an fsync of
// its own at once.
func (s *Store) writeLazy(fn func(*bolt.Tx) error) error {
	return s.commit.do(fn, true)
}

// maxGroup bounds how many writes share one transaction.
const maxGroup = 1000

// lazyDelay is how long a lazy write waits for an eager one to share a
// commit with.
const lazyDelay = 5 * time.Millisecond

// committer is group commit without a timer for eager writes. An eager
// write that finds no commit running starts one at once; writes that
// arrive while a commit runs (and fsyncs) queue, and the next commit takes
// them all (up to maxGroup). A lone writer pays one fsync and nothing more,
// and under load a transaction holds every write that arrived during the
// previous fsync.
//
// Lazy writes (attempt outcomes) start no commit: they ride along with the
// next eager one, or are committed lazyDelay after they queued when no
// eager write comes. Every attempt's outcome used to cost a commit of its
// own whenever ingest was not already committing, so under steady load the
// store paid two fsyncs per event and an event's 202 often waited behind
// an outcome's fsync.
//
// bbolt's DB.Batch instead waits MaxBatchDelay (10ms by default) for a
// batch to fill before every commit, which a lone writer pays in full:
// sequential Accepts ran several times slower with it, and no concurrency
// level measured was faster (the package's BenchmarkAccept; the figures
// are in the README, Benchmarks, "Store").
//
// It keeps DB.Batch's contract: when one function of a group fails, it is
// taken out, the rest run again, and the failed one reruns in a
// transaction of its own whose error its caller gets; so every function
// must be idempotent.
type committer struct {
	db      *bolt.DB
	mu      sync.Mutex
	queue   []call
	eager   int           // eager calls in queue
	timer   *time.Timer   // armed while only lazy calls wait and no commit runs
	delay   time.Duration // lazyDelay, but for tests
	running bool
	closed  bool
	wg      sync.WaitGroup // the commit loop, while one runs
	// noSpace is when (unix nanoseconds) a commit last failed because
	// the disk was full; 0 if none has. Ping reads it (see fullHold).
	noSpace atomic.Int64
}

type call struct {
	fn   func(*bolt.Tx) error
	err  chan error
	lazy bool
}

// errSolo asks a caller to rerun its function in a transaction of its own.
var errSolo = errors.New("rerun alone")

// do runs fn in a shared write transaction and returns once it is
// committed.
func (c *committer) do(fn func(*bolt.Tx) error, lazy bool) error {
	ch := make(chan error, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errClosed
	}
	c.queue = append(c.queue, call{fn, ch, lazy})
	if !lazy {
		c.eager++
	}
	c.kick()
	c.mu.Unlock()
	err := <-ch
	if err == errSolo {
		err = c.db.Update(fn)
	}
	return err
}

// kick, with mu held and a commit not running, starts the commit loop when
// an eager call (or any, once closing) waits, and otherwise arms the lazy
// timer for the lazy calls waiting.
func (c *committer) kick() {
	switch {
	case c.running || len(c.queue) == 0:
	case c.eager > 0 || c.closed:
		c.start()
	case c.timer == nil:
		c.timer = time.AfterFunc(c.delay, c.flush)
	}
}

// start starts the commit loop; mu is held.
func (c *committer) start() {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.running = true
	c.wg.Add(1)
	go c.loop()
}

// flush is the lazy timer: it commits whatever waits.
func (c *committer) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer = nil
	if !c.running && len(c.queue) > 0 {
		c.start()
	}
}

// close refuses further writes, commits the queued ones and waits for them.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	c.kick()
	c.mu.Unlock()
	c.wg.Wait()
}

// loop commits queued calls, lazy ones included, until the queue is empty
// or holds only lazy calls, which then wait for the timer or an eager call.
func (c *committer) loop() {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		n := min(len(c.queue), maxGroup)
		if n == 0 {
			c.queue = nil
			c.running = false
			c.mu.Unlock()
			return
		}
		calls := c.queue[:n:n]
		c.queue = c.queue[n:]
		for _, cl := range calls {
			if !cl.lazy {
				c.eager--
			}
		}
		c.mu.Unlock()
		c.run(calls)
		c.mu.Lock()
		if c.eager == 0 && !c.closed {
			c.running = false
			c.kick()
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
}

// run commits calls in one transaction, as bbolt's batch does.
func (c *committer) run(calls []call) {
	for len(calls) > 0 {
		failed := -1
		err := c.db.Update(func(tx *bolt.Tx) error {
			for i, cl := range calls {
				if err := safeCall(cl.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			calls[failed].err <- errSolo
			calls = append(calls[:failed:failed], calls[failed+1:]...)
			continue
		}
		if errors.Is(err, syscall.ENOSPC) {
			c.noSpace.Store(time.Now().UnixNano())
		}
		for _, cl := range calls {
			cl.err <- err
		}
		return
	}
}

// safeCall runs fn, turning a panic into an error so one bad write cannot
// take the shared transaction's other callers down with it.
func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in write: %v", p)
		}
	}()
	return fn(tx)
}
