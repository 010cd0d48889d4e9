package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/telemetry"
	"github.com/hookgate/hookgate/plugins"
)

// Store is what the engine needs of a store: claim due deliveries, record
// each attempt's outcome, learn when the next one is due, and dead-letter
// the waiting deliveries of a destination a reload removed. store.Store
// satisfies it.
type Store interface {
	Claim(ctx context.Context, destination string, now time.Time, limit int, lease time.Duration) ([]*store.Delivery, error)
	Complete(ctx context.Context, deliveryID string, o store.Outcome) error
	NextDue(ctx context.Context, destination string) (t time.Time, ok bool, err error)
	Abandon(ctx context.Context, destination, reason string, now time.Time) (int, error)
	Release(ctx context.Context, ds []*store.Delivery) error
}

// RemovedReason is the dead reason of the deliveries that were waiting for
// a destination when a reload removed it.
const RemovedReason = "destination removed"

var _ Store = (store.Store)(nil)

// Defaults of Options.
const (
	// DefaultWorkers is the number of attempts in flight over all
	// destinations when Options.Workers is not set.
	DefaultWorkers = 64
	// DefaultPoll is how often an idle destination looks for due
	// deliveries even without a Notify or a known due time: a safety net
	// for deliveries made due by another process (replay, a second
	// instance).
	DefaultPoll = time.Second
	// defaultTimeout bounds an attempt whose destination sets no timeout
	// (the config always sets one).
	defaultTimeout = 10 * time.Second
	// completeTimeout bounds the recording of one attempt.
	completeTimeout = 10 * time.Second
	// recordDepth bounds, as a multiple of max_concurrency, the attempts
	// of one destination whose request is done and whose outcome awaits
	// its commit. A commit (two fsyncs, shared with ingest's) takes
	// longer than a request to a fast receiver, so at 1 the store's
	// latency, not the receiver, set the pace: on the bench, delivery fell
	// behind ingest at 1 and kept up with it at 8 (README, Benchmarks).
	recordDepth = 8
	// minWait keeps a loop from spinning when the store says something is
	// due that a claim did not return (another instance took it).
	minWait = 10 * time.Millisecond
	// handoffDepth bounds, as a multiple of max_concurrency, the deliveries
	// ingest hands a destination in memory (Handoff) that wait for a free
	// slot. Beyond it they go through the store's due index, as every
	// retry does.
	handoffDepth = 8
)

// Options configure an Engine. The zero value works.
type Options struct {
	// Workers is the most attempts in flight over all destinations
	// (gateway.workers); 0 means DefaultWorkers.
	Workers int
	// Logger receives the engine's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock attempts and due times are stamped with; nil means
	// time.Now.
	Now func() time.Time
	// Rand returns a number in [0, 1) for retry jitter; nil means
	// math/rand/v2. It must be safe for concurrent use.
	Rand func() float64
	// Lease is how long a claim lasts before the delivery is due again (an
	// attempt lost in a crash); 0 means max(2*timeout+10s, 1m) per
	// destination.
	Lease time.Duration
	// Poll is the idle destinations' safety poll; 0 means DefaultPoll.
	Poll time.Duration
	// Metrics receives attempt counts and latencies; nil records nothing.
	Metrics *telemetry.Metrics
	// TracerProvider starts each attempt's client span, a child of the
	// event's stored ingest span; nil starts none (a no-op provider).
	TracerProvider trace.TracerProvider
	// Events is told of dead deliveries, delivered attempts and breakers
	// opening and closing (alerts watch them); nil tells nobody.
	Events Events
}

// Engine delivers what a Store holds: one loop per destination claims due
// deliveries, sends them and records each attempt's outcome, with at most
// the destination's max_concurrency attempts in flight (and Workers over
// all destinations), at most its rate_limit, and retries by its schedule.
// A slow or failing destination holds at most its own max_concurrency
// workers, so it does not delay another.
type Engine struct {
	st      Store
	log     *slog.Logger
	now     func() time.Time
	rand    func() float64
	lease   time.Duration
	poll    time.Duration
	metrics *telemetry.Metrics
	tracer  trace.Tracer
	events  Events
	// workers is the global semaphore: one token per attempt in flight.
	workers chan struct{}

	running atomic.Bool
	mu      sync.Mutex
	wake    map[string]chan struct{}
	// While Run runs: its context, the loops by destination name, and the
	// group every loop (also those Update starts or stops) belongs to.
	runCtx context.Context
	loops  map[string]*destLoop
	loopWG *sync.WaitGroup
	// pending are the destinations of an Update made while Run was not
	// running (nil: none); the next Run applies them.
	pending []*config.Destination
	// removed are the destinations a reload removed while Run runs; a
	// delivery stored for one afterwards (by a request that began under
	// the old config) is dead-lettered like those that waited for it.
	removed map[string]*abandonState
	// paused is the paused set last read from the store (health.go).
	paused map[string]store.Pause
}

// abandonState coalesces the dead-lettering runs of one removed
// destination: running while one runs, again when another delivery was
// stored for it meanwhile.
type abandonState struct {
	running, again bool
}

// New returns an engine over st. It starts nothing; Run does.
func New(st Store, opts Options) *Engine {
	e := &Engine{
		st:      st,
		log:     opts.Logger,
		now:     opts.Now,
		rand:    opts.Rand,
		lease:   opts.Lease,
		poll:    opts.Poll,
		metrics: opts.Metrics,
		tracer:  telemetry.Tracer(opts.TracerProvider),
		events:  opts.Events,
		wake:    map[string]chan struct{}{},
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.rand == nil {
		e.rand = rand.Float64
	}
	if e.poll <= 0 {
		e.poll = DefaultPoll
	}
	w := opts.Workers
	if w <= 0 {
		w = DefaultWorkers
	}
	e.workers = make(chan struct{}, w)
	return e
}

// Notify wakes destination's loop at once, so a delivery just stored is
// attempted without waiting for a poll. It never blocks. A destination a
// reload removed gets its waiting deliveries dead-lettered (a request that
// began under the old config stored one); any other unknown destination,
// or one notified while the engine is not running, is ignored (a loop
// looks for due deliveries when it starts).
func (e *Engine) Notify(destination string) {
	e.mu.Lock()
	ch := e.wake[destination]
	if ch == nil {
		e.strayLocked(destination)
	}
	e.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// HandoffLease reports whether a delivery to destination can be handed to
// the engine in memory once stored (Handoff), and for how long to store it
// leased (store.Delivery.LeaseUntil): its loop runs and its hand-off queue
// has room. Ingest asks before Accept, so the first attempt of a delivery
// needs no claim, no store read and no wake-up.
func (e *Engine) HandoffLease(destination string) (time.Duration, bool) {
	e.mu.Lock()
	l := e.loops[destination]
	e.mu.Unlock()
	if l == nil || len(l.handoff) >= cap(l.handoff) || !l.health.accepting() {
		return 0, false
	}
	return l.set.Load().lease, true
}

// Handoff gives the engine deliveries that Accept stored leased to this
// process (after HandoffLease). Each goes to its destination's hand-off
// queue; one that finds no room or no loop (a reload removed it
// meanwhile) has its lease released, so the store's due index serves it.
// It never blocks on an attempt.
func (e *Engine) Handoff(ds []*store.Delivery) {
	var back []*store.Delivery
	for _, d := range ds {
		e.mu.Lock()
		l := e.loops[d.Destination]
		e.mu.Unlock()
		if l == nil || !l.offer(d) {
			back = append(back, d)
		}
	}
	if len(back) > 0 {
		e.giveBack(back)
	}
}

// giveBack releases the leases of deliveries handed over but not
// attempted, and wakes (or, removed, dead-letters for) their destinations.
func (e *Engine) giveBack(ds []*store.Delivery) {
	ctx, cancel := context.WithTimeout(context.Background(), completeTimeout)
	defer cancel()
	if err := e.st.Release(ctx, ds); err != nil {
		// Their leases end by themselves; they are attempted then.
		e.log.Warn("release handed-over deliveries; they are attempted when their lease ends", "count", len(ds), "error", err)
	}
	seen := map[string]bool{}
	for _, d := range ds {
		if !seen[d.Destination] {
			seen[d.Destination] = true
			e.Notify(d.Destination)
		}
	}
}

// Run delivers to dests until ctx is done. Then it stops claiming, lets the
// attempts in flight finish (each bounded by its destination's timeout, not
// by ctx) and record their outcomes, and returns nil. Deliveries of
// destinations not in dests are left in the store. Run may be called again
// after it returns, but not concurrently.
func (e *Engine) Run(ctx context.Context, dests []*config.Destination) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("delivery: engine already running")
	}
	defer e.running.Store(false)

	if err := checkDests(dests); err != nil {
		return err
	}
	var wg sync.WaitGroup
	// Pauses first: a paused destination's loop must not attempt once.
	if err := e.RefreshPauses(ctx); err != nil {
		e.log.Warn("read paused destinations; none is paused until the next read succeeds", "error", err)
	}
	e.mu.Lock()
	e.runCtx, e.loops, e.loopWG = ctx, map[string]*destLoop{}, &wg
	wg.Go(func() { e.watchPauses(ctx) })
	e.removed = map[string]*abandonState{}
	e.apply(dests)
	if e.pending != nil {
		// An Update raced this Run's start: it is the newer set.
		e.apply(e.pending)
		e.pending = nil
	}
	e.mu.Unlock()

	<-ctx.Done()
	e.mu.Lock()
	// No loop starts from here on: Update sees runCtx nil.
	e.runCtx, e.loops, e.loopWG, e.removed = nil, nil, nil, nil
	e.mu.Unlock()
	wg.Wait()
	e.mu.Lock()
	clear(e.wake)
	e.pending = nil
	e.mu.Unlock()
	return nil
}

// checkDests reports a destination name given twice.
func checkDests(dests []*config.Destination) error {
	seen := map[string]bool{}
	for _, d := range dests {
		if d == nil {
			continue
		}
		if seen[d.Name] {
			return fmt.Errorf("delivery: destination %q given twice", d.Name)
		}
		seen[d.Name] = true
	}
	return nil
}

// Update changes the destinations Run delivers to, as a config reload does:
// a destination whose name is already running takes the new settings for
// its next attempts (URL, headers, signer, timeout, retry schedule,
// concurrency, rate limit); attempts in flight finish with the settings they
// started with. A new name starts a loop. A name no longer given stops
// claiming; its attempts in flight finish and record their outcomes, then
// its waiting deliveries go to the dead-letter set with RemovedReason, to be
// replayed once a config names it again. (A name given again before that
// finishes keeps its deliveries waiting.)
//
// Update is safe to call concurrently with Run and Notify. Called while Run
// is not running, it sets the destinations the next Run delivers to instead
// of those Run is given. Of a name given twice, the last one counts (a
// compiled config has no duplicates).
func (e *Engine) Update(dests []*config.Destination) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.runCtx == nil {
		e.pending = slices.Clone(dests)
		if e.pending == nil {
			e.pending = []*config.Destination{}
		}
		return
	}
	e.apply(dests)
}

// apply makes the running loops those of dests. e.mu is held and Run is
// running.
func (e *Engine) apply(dests []*config.Destination) {
	keep := map[string]bool{}
	for _, d := range dests {
		if d == nil {
			continue
		}
		keep[d.Name] = true
		delete(e.removed, d.Name)
		if l := e.loops[d.Name]; l != nil {
			l.update(d)
			continue
		}
		l := e.newLoop(d)
		_, paused := e.paused[d.Name]
		l.health.setPaused(paused)
		ctx, cancel := context.WithCancel(e.runCtx)
		l.stop = cancel
		e.loops[d.Name] = l
		e.wake[d.Name] = l.wake
		e.loopWG.Go(func() {
			defer cancel()
			l.run(ctx)
		})
	}
	for name, l := range e.loops {
		if keep[name] {
			continue
		}
		// It stops claiming; its attempts in flight finish (Run waits),
		// and the deliveries handed to it go back to the store.
		l.stop()
		delete(e.loops, name)
		delete(e.wake, name)
		st := &abandonState{running: true}
		e.removed[name] = st
		e.loopWG.Go(func() {
			<-l.done
			e.abandon(name, st)
		})
	}
}

// strayLocked, with e.mu held, dead-letters the waiting deliveries of
// name if a reload removed it: a request that began under the old config
// may store one after the loop stopped and its waiting deliveries were
// dead-lettered. Runs for one name are coalesced.
func (e *Engine) strayLocked(name string) {
	st := e.removed[name]
	if st == nil || e.loopWG == nil {
		return
	}
	if st.running {
		st.again = true
		return
	}
	st.running = true
	e.loopWG.Go(func() { e.abandon(name, st) })
}

// abandon dead-letters removed destination name's waiting deliveries, and
// again while more were stored meanwhile, unless the destination was given
// again or the engine is stopping (then they wait in the store for a
// config that names it).
func (e *Engine) abandon(name string, st *abandonState) {
	log := e.log.With("destination", name)
	for {
		e.mu.Lock()
		st.again = false
		current := e.removed[name] == st
		stopping := e.runCtx == nil || e.runCtx.Err() != nil
		if !current || stopping {
			st.running = false
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		n, err := e.st.Abandon(ctx, name, RemovedReason, e.now())
		cancel()
		switch {
		case err != nil:
			log.Error("destination removed; dead-lettering its waiting deliveries failed, they stay due for a config that names it",
				"dead_lettered", n, "error", err)
		case n > 0:
			log.Info("destination removed; its waiting deliveries are dead-lettered (replay them once it is back)",
				"dead_lettered", n, "reason", RemovedReason)
		}
		e.mu.Lock()
		if !st.again || err != nil {
			st.running = false
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
	}
}

// destLoop is one destination's claim loop and its attempts.
type destLoop struct {
	e     *Engine
	name  string
	log   *slog.Logger
	attrs metric.MeasurementOption
	// set is the destination's current settings; Update swaps it, and
	// each attempt keeps the one it started with.
	set  atomic.Pointer[destSettings]
	stop context.CancelFunc
	// outcomeAttrs are attrs with each outcome, built once: building an
	// attribute set hashes it.
	outcomeAttrs map[store.Status]metric.MeasurementOption

	wake  chan struct{} // Notify
	freed chan struct{} // an attempt finished
	done  chan struct{} // closed when run has returned
	// handoff holds deliveries ingest stored leased to this process and
	// handed over (Engine.Handoff), waiting for a free slot; handed wakes
	// an idle loop for them. handoffMu orders offers against the loop's
	// exit, after which none is taken (closed).
	handoff   chan *store.Delivery
	handed    chan struct{}
	handoffMu sync.Mutex
	closed    bool
	inflight  atomic.Int64
	attempts  sync.WaitGroup
	// recording holds one token per attempt whose request is done but
	// whose outcome is still being written (at most recordDepth*max):
	// the next request need not wait for the previous one's commit, and
	// a slow store still holds the loop back.
	// (sized by the first max_concurrency; an Update does not resize it).
	recording chan struct{}
	// health is the destination's breaker, adaptive limit and pause.
	health *health
}

// destSettings are what one destination's attempts are made with.
type destSettings struct {
	dest   *config.Destination
	client *http.Client
	// kind delivers the messages of a destination that is not HTTP (nil:
	// HTTP, through client); kind.go.
	kind    plugins.Destination
	limiter *rate.Limiter // nil: unlimited
	lease   time.Duration
	max     int
}

func (e *Engine) newLoop(d *config.Destination) *destLoop {
	l := &destLoop{
		e:      e,
		name:   d.Name,
		log:    e.log.With("destination", d.Name),
		attrs:  metric.WithAttributes(attribute.String("destination", d.Name)),
		wake:   make(chan struct{}, 1),
		freed:  make(chan struct{}, 1),
		done:   make(chan struct{}),
		health: newHealth(),
	}
	s := e.settings(d, nil)
	l.set.Store(s)
	l.recording = make(chan struct{}, recordDepth*s.max)
	l.handoff = make(chan *store.Delivery, handoffDepth*s.max)
	l.handed = make(chan struct{}, 1)
	l.outcomeAttrs = map[store.Status]metric.MeasurementOption{}
	for _, s := range []store.Status{store.Delivered, store.Retrying, store.Dead} {
		l.outcomeAttrs[s] = metric.WithAttributes(attribute.String("destination", d.Name), attribute.String("outcome", string(s)))
	}
	return l
}

// settings returns the settings of d. The client and the limiter of old
// (nil: none) are kept when what they are built from did not change.
func (e *Engine) settings(d *config.Destination, old *destSettings) *destSettings {
	s := &destSettings{dest: d, max: max(d.MaxConcurrency, 1)}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	if old != nil && old.dest.Timeout == d.Timeout && old.dest.AllowPrivate == d.AllowPrivate && old.max == s.max {
		s.client = old.client
	} else {
		s.client = newClient(d, timeout, s.max)
	}
	s.kind = kindOf(d, old)
	s.lease = e.lease
	if s.lease <= 0 {
		s.lease = max(2*timeout+10*time.Second, time.Minute)
	}
	switch {
	case d.RatePerSecond <= 0:
	case old != nil && old.limiter != nil && old.dest.RatePerSecond == d.RatePerSecond && old.dest.RateBurst == d.RateBurst:
		s.limiter = old.limiter
	default:
		s.limiter = rate.NewLimiter(rate.Limit(d.RatePerSecond), max(d.RateBurst, 1))
	}
	return s
}

// update makes d the settings of the loop's next attempts, and wakes the
// loop (its concurrency or rate may have grown).
func (l *destLoop) update(d *config.Destination) {
	old := l.set.Load()
	if old.dest == d {
		return
	}
	s := l.e.settings(d, old)
	l.set.Store(s)
	// Attempts in flight keep their client; its connections close once
	// idle.
	retire(old, s)
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// newClient returns the client of one destination: its own transport (so
// its connections are reused by its attempts only), the SSRF guard unless
// allow_private, and no redirects.
func newClient(d *config.Destination, timeout time.Duration, conc int) *http.Client {
	t := &http.Transport{
		// Never a proxy from the environment: the SSRF guard must see the
		// address actually dialled.
		Proxy:       nil,
		DialContext: newDialer(d.AllowPrivate).DialContext,
		// A custom DialContext turns HTTP/2 off unless asked for.
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(100, conc),
		MaxIdleConnsPerHost:   conc,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: t,
		Timeout:   timeout,
		// A 3xx is returned as is and counts as a failure that retries:
		// following it would send a signed body somewhere the config does
		// not name, past the SSRF guard's intent.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// offer queues a handed-over delivery; false when the queue is full or
// the loop has stopped.
func (l *destLoop) offer(d *store.Delivery) bool {
	l.handoffMu.Lock()
	defer l.handoffMu.Unlock()
	if l.closed {
		return false
	}
	select {
	case l.handoff <- d:
	default:
		return false
	}
	select {
	case l.handed <- struct{}{}:
	default:
	}
	return true
}

// closeHandoff refuses further hand-overs and gives back the queued ones.
func (l *destLoop) closeHandoff() {
	l.handoffMu.Lock()
	l.closed = true
	l.handoffMu.Unlock()
	var back []*store.Delivery
	for {
		select {
		case d := <-l.handoff:
			back = append(back, d)
			continue
		default:
		}
		break
	}
	if len(back) > 0 {
		l.e.giveBack(back)
	}
}

// takeHandoff starts up to n handed-over deliveries, each holding one of
// the n global workers the caller acquired, and returns how many it
// started. One whose lease would end before its attempt could (it waited
// long) goes back to the store instead: no claim may take it while it is
// attempted.
func (l *destLoop) takeHandoff(ctx context.Context, set *destSettings, n int) int {
	started := 0
	var stale []*store.Delivery
	for started < n {
		var d *store.Delivery
		select {
		case d = <-l.handoff:
		default:
		}
		if d == nil {
			break
		}
		if l.e.now().Add(set.client.Timeout).After(d.LeaseUntil) {
			stale = append(stale, d)
			continue
		}
		l.start(ctx, set, d)
		started++
	}
	if len(stale) > 0 {
		l.e.giveBack(stale)
	}
	return started
}

// run attempts until ctx is done, then waits for its attempts. Deliveries
// come from two places: the hand-off queue (first attempts ingest just
// stored, leased to this process) and the store's due index (retries,
// deliveries of another instance or a previous run, replays, those the
// queue had no room for), which it claims from when woken (Notify, a
// retry recorded), when its earliest due time comes, every poll, and
// again at once while claims come back full.
func (l *destLoop) run(ctx context.Context) {
	defer close(l.done)
	defer func() { retire(l.set.Load(), nil) }()
	defer l.attempts.Wait()
	defer l.closeHandoff()
	name := l.name
	var lastErr string // the last store error logged, to log each kind once
	claim := true      // claim at the next chance
	var dueAt time.Time
	for ctx.Err() == nil {
		set := l.set.Load()
		if !claim {
			select {
			case <-l.wake:
				claim = true
			default:
				claim = !l.e.now().Before(dueAt)
			}
		}
		capacity, blocked := l.health.gate(set, l.e.now(), l.e.poll)
		if blocked > 0 {
			// Paused or the breaker open: nothing is attempted, and what
			// waits keeps its attempts (health.go).
			if !l.hold(ctx, blocked) {
				return
			}
			claim = true
			continue
		}
		free := capacity - int(l.inflight.Load())
		if free <= 0 {
			select {
			case <-ctx.Done():
				return
			case <-l.freed:
			}
			continue
		}
		n := free
		if set.limiter != nil {
			tokens := set.limiter.Tokens()
			if tokens < 1 {
				wait := time.Duration((1-tokens)/float64(set.limiter.Limit())*float64(time.Second)) + time.Millisecond
				if !sleep(ctx, wait, nil) {
					return
				}
				continue
			}
			n = min(n, int(tokens))
		}
		n = l.e.acquire(ctx, n)
		if n == 0 {
			return
		}
		started := 0
		if claim {
			// A Notify from here on wakes the next wait: the claim below
			// may not see the delivery it announces.
			select {
			case <-l.wake:
			default:
			}
			ds, err := l.e.st.Claim(ctx, name, l.e.now(), n, set.lease)
			if err != nil {
				l.e.release(n)
				if ctx.Err() != nil {
					return
				}
				if err.Error() != lastErr {
					l.log.Warn("claim deliveries", "error", err)
					lastErr = err.Error()
				}
				dueAt = l.e.now().Add(l.e.poll)
				var ok bool
				if ok, claim = l.idle(ctx, dueAt); !ok {
					return
				}
				continue
			}
			lastErr = ""
			for _, d := range ds {
				l.start(ctx, set, d)
			}
			started = len(ds)
			// Full: maybe more are due. Otherwise sleep until the
			// earliest due time (or the poll), unless woken.
			claim = len(ds) == n
			if !claim {
				wait := l.e.poll
				if t, ok, err := l.e.st.NextDue(ctx, name); err == nil && ok {
					wait = min(wait, max(t.Sub(l.e.now()), minWait))
				}
				dueAt = l.e.now().Add(wait)
			}
		}
		started += l.takeHandoff(ctx, set, n-started)
		l.e.release(n - started)
		if started > 0 || claim {
			continue
		}
		var ok bool
		if ok, claim = l.idle(ctx, dueAt); !ok {
			return
		}
	}
}

// idle waits for a hand-over, a wake-up, the due time or the end of ctx.
// It reports false when ctx ended, and whether the next pass should claim
// (woken, or due).
func (l *destLoop) idle(ctx context.Context, dueAt time.Time) (ok, claim bool) {
	t := time.NewTimer(max(dueAt.Sub(l.e.now()), 0))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, false
	case <-l.handed:
		return true, false
	case <-l.wake:
		return true, true
	case <-t.C:
		return true, true
	}
}

// start runs an attempt of d, which holds one global worker, on a goroutine
// the loop waits for.
func (l *destLoop) start(ctx context.Context, set *destSettings, d *store.Delivery) {
	// The loop saw the tokens before claiming, so this does not wait in
	// practice; Wait covers a limiter shared or changed in between.
	if set.limiter != nil && !set.limiter.Allow() {
		if err := set.limiter.Wait(ctx); err != nil {
			l.e.release(1)
			l.log.Info("delivery claimed but not attempted at shutdown; due again when its lease ends",
				"delivery_id", d.ID, "lease", set.lease)
			return
		}
	}
	l.inflight.Add(1)
	l.health.started()
	l.attempts.Go(func() {
		done := false
		free := func() {
			if done {
				return
			}
			done = true
			l.e.release(1)
			l.inflight.Add(-1)
			select {
			case l.freed <- struct{}{}:
			default:
			}
		}
		defer free()
		// Shutdown does not cut an attempt short: its timeout bounds it.
		l.deliver(context.WithoutCancel(ctx), set, d, free)
	})
}

// deliver makes one attempt of d and records its outcome. It calls free
// once the request is done and the outcome's write has a recording token,
// so the destination's next attempt starts while this one is recorded:
// max_concurrency bounds the requests in flight, and the lease (held until
// Complete) keeps d from being claimed again meanwhile.
func (l *destLoop) deliver(ctx context.Context, set *destSettings, d *store.Delivery, free func()) {
	inflight := int(l.inflight.Load())
	r := set.send(ctx, l.e.tracer, d, l.e.now)
	o := decide(set.dest.Retry, d.Attempts, r, l.e.rand)
	l.observe(set, r, inflight)
	l.recording <- struct{}{}
	defer func() { <-l.recording }()
	free()

	cctx, cancel := context.WithTimeout(ctx, completeTimeout)
	defer cancel()
	var err error
	for try := range 3 {
		if err = l.e.st.Complete(cctx, d.ID, o); err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			break
		}
		if !sleep(cctx, time.Duration(100<<try)*time.Millisecond, nil) {
			break
		}
	}
	if err != nil {
		// The lease ends and the delivery is attempted again: at least once.
		l.attemptLog(d, o).Error("record attempt", "status", o.Status, "error", err)
		return
	}

	l.nextOfKey(d, o)
	if m := l.e.metrics; m != nil {
		m.Deliveries.Add(ctx, 1, l.outcomeAttrs[o.Status])
		m.AttemptDuration.Record(ctx, o.Attempt.Latency.Seconds(), l.attrs)
	}
	l.report(o)
	switch o.Status {
	case store.Delivered:
		if l.log.Enabled(ctx, slog.LevelDebug) {
			l.attemptLog(d, o).Debug("delivered", "http_status", r.Status, "latency", r.Latency)
		}
	case store.Retrying:
		l.attemptLog(d, o).Info("attempt failed; retrying", "http_status", r.Status, "error", r.Err,
			"latency", r.Latency, "next_attempt_at", o.NextAttemptAt)
		// The loop may be asleep until this delivery's lease would have
		// ended; its next attempt is due sooner.
		select {
		case l.wake <- struct{}{}:
		default:
		}
	case store.Dead:
		l.attemptLog(d, o).Warn("dead-lettered", "http_status", r.Status, "error", r.Err, "reason", o.DeadReason)
	}
}

// attemptLog is the loop's logger with the attempt's ids, built only when
// a line is logged: building it on every attempt showed in CPU profiles
// under load.
func (l *destLoop) attemptLog(d *store.Delivery, o store.Outcome) *slog.Logger {
	log := l.log.With("delivery_id", d.ID, "event_id", d.EventID, "route", d.Route, "attempt", o.Attempt.N)
	if id := traceID(d.TraceParent); id != "" {
		log = log.With("trace_id", id)
	}
	return log
}

// acquire takes between 1 and n global workers, waiting for the first; it
// returns 0 when ctx is done first.
func (e *Engine) acquire(ctx context.Context, n int) int {
	select {
	case e.workers <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	got := 1
	for got < n {
		select {
		case e.workers <- struct{}{}:
			got++
		default:
			return got
		}
	}
	return got
}

// release returns n global workers.
func (e *Engine) release(n int) {
	for range n {
		<-e.workers
	}
}

// sleep waits for d, a value on wake (nil: none) or the end of ctx; it
// reports false when ctx ended.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-t.C:
	}
	return true
}

// traceID returns the trace id of a W3C traceparent, or "".
func traceID(tp string) string {
	// version "-" trace-id (32 hex) "-" parent-id (16 hex) "-" flags
	if len(tp) < 55 || tp[2] != '-' || tp[35] != '-' {
		return ""
	}
	return tp[3:35]
}
