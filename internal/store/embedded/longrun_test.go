package embedded

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// The long run drives the store as a busy gateway does, through its API
// and without HTTP, for many rounds of a simulated clock: each round
// accepts a batch of events, most of their deliveries leased to the caller
// (ingest's hand-over to the delivery engine), some of those released
// again (the hand-off queue was full), the rest due at once; completes the
// leased ones directly and claims and completes the rest, a share failing
// once and retried the next round; and cleans up with a short retention.
// BenchmarkLongRun measures it at 200,000 events; TestLongRun runs a
// smaller one and checks what must hold.

const (
	// longRunStep is the simulated time between rounds.
	longRunStep = time.Second
	// longRunRetention is Cleanup's retention: the deliveries of about
	// this many rounds stay in the file (its floor).
	longRunRetention = 5 * time.Second
	// longRunLease is the lease of claims and hand-overs; no lease ends
	// within a run's round.
	longRunLease = time.Minute
	// longRunClaim is the most deliveries one Claim takes.
	longRunClaim = 64
	// longRunWorkers is how many callers accept and complete at once.
	longRunWorkers = 32
)

// longRunBody is a ~400-byte JSON payload.
var longRunBody = func() []byte {
	b := []byte(`{"type":"creator_insights","status":"success","connector":"tiktok","identifier":"@creator","data":{"tags":[`)
	for len(b) < 390 {
		b = append(b, `"tag",`...)
	}
	return append(b, `"end"]}}`...)
}()

// Kinds of delivery in a round, by the event's index i: i%20 < 10 leased
// and completed directly, i%20 == 10 leased then released, the rest not
// leased. Every fifth (i%5 == 4) fails its first attempt and is retried
// the next round.
const (
	handedOver = iota
	released
	notLeased
)

func kindOf(i int) int {
	switch {
	case i%20 < 10:
		return handedOver
	case i%20 == 10:
		return released
	}
	return notLeased
}

func failsOnce(i int) bool { return i%5 == 4 }

// longRun is one run over one store.
type longRun struct {
	s        *Store
	path     string
	perRound int
	clock    atomic.Int64 // simulated now, unix nanos
	// verify makes every round check the store's records against what
	// the run did (TestLongRun); the benchmark leaves it off.
	verify bool

	// claims are the Claim latencies of each round.
	claims [][]time.Duration
	// retries are the deliveries due again next round.
	retries map[string]bool
	// done maps each delivered delivery to its expected attempts' codes
	// (verify only).
	done map[string][]int
	// total counts the events accepted.
	total int
}

func newLongRun(tb testing.TB, perRound int, verify bool) *longRun {
	tb.Helper()
	r := &longRun{
		path:     filepath.Join(tb.TempDir(), "hookgate.db"),
		perRound: perRound,
		verify:   verify,
		retries:  map[string]bool{},
		done:     map[string][]int{},
	}
	r.clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	s, err := Open(r.path, Options{Now: r.now})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	r.s = s
	return r
}

func (r *longRun) now() time.Time { return time.Unix(0, r.clock.Load()).UTC() }

// parallel runs f(0)…f(n-1) on longRunWorkers goroutines and returns the
// first error.
func parallel(n int, f func(i int) error) error {
	var (
		next atomic.Int64
		mu   sync.Mutex
		errs error
		wg   sync.WaitGroup
	)
	for range min(n, longRunWorkers) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if errs == nil {
						errs = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return errs
}

// outcome is attempt n of a delivery at now, failed (500, retried in half
// a step) or delivered (200).
func outcome(n int, fail bool, now time.Time) store.Outcome {
	if fail {
		return store.Outcome{
			Attempt: store.Attempt{N: n, At: now, StatusCode: 500, Latency: time.Millisecond, Error: "500 Internal Server Error"},
			Status:  store.Retrying, NextAttemptAt: now.Add(longRunStep / 2),
		}
	}
	return store.Outcome{Attempt: store.Attempt{N: n, At: now, StatusCode: 200, Latency: time.Millisecond}, Status: store.Delivered}
}

// round runs one round at the current simulated time and then advances
// the clock by longRunStep.
func (r *longRun) round(ctx context.Context) error {
	now := r.now()
	n := r.perRound
	evs, ds := make([]*store.Event, n), make([]*store.Delivery, n)
	for i := range n {
		ev := &store.Event{
			ID: ids.New(ids.Event, now), Source: "shop", EventType: "creator_insights", ReceivedAt: now,
			Headers: map[string]string{"content-type": "application/json"}, Body: longRunBody,
		}
		d := &store.Delivery{
			ID: ids.New(ids.Delivery, now), EventID: ev.ID, Source: ev.Source, EventType: ev.EventType,
			Route: "r", Destination: "d", Body: longRunBody, NextAttemptAt: now,
		}
		ev.DeliveryIDs = []string{d.ID}
		if kindOf(i) != notLeased {
			d.LeaseUntil = now.Add(longRunLease)
		}
		evs[i], ds[i] = ev, d
	}
	// Ingest: accept, leased or not.
	err := parallel(n, func(i int) error {
		if _, err := r.s.Accept(ctx, evs[i], []*store.Delivery{ds[i]}, nil); err != nil {
			return fmt.Errorf("accept: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.total += n
	// Hand-overs the engine had no room for go back to the due index.
	var back []*store.Delivery
	for i, d := range ds {
		if kindOf(i) == released {
			back = append(back, d)
		}
	}
	if err := r.s.Release(ctx, back); err != nil {
		return fmt.Errorf("release: %w", err)
	}

	// What is due now: this round's deliveries not handed over, and the
	// retries of the last round.
	fails := map[string]bool{}
	due := map[string]bool{}
	for i, d := range ds {
		if failsOnce(i) {
			fails[d.ID] = true
		}
		if kindOf(i) != handedOver {
			due[d.ID] = true
		}
	}
	for id := range r.retries {
		due[id] = true
	}

	// Delivery: the handed-over ones are attempted at once while the
	// rest are claimed; completes run beside the claims.
	type job struct {
		id   string
		n    int // the attempt
		fail bool
	}
	jobs := make(chan job, 4*longRunClaim)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		errs    error
		retries = map[string]bool{}
		done    = map[string][]int{}
	)
	for range longRunWorkers {
		wg.Go(func() {
			for j := range jobs {
				err := r.s.Complete(ctx, j.id, outcome(j.n, j.fail, now))
				mu.Lock()
				switch {
				case err != nil:
					if errs == nil {
						errs = fmt.Errorf("complete %s: %w", j.id, err)
					}
				case j.fail:
					retries[j.id] = true
				case j.n == 1:
					done[j.id] = []int{200}
				default:
					done[j.id] = []int{500, 200}
				}
				mu.Unlock()
			}
		})
	}
	claimErr := func() error {
		for i, d := range ds {
			if kindOf(i) == handedOver {
				jobs <- job{id: d.ID, n: 1, fail: failsOnce(i)}
			}
		}
		var lat []time.Duration
		defer func() { r.claims = append(r.claims, lat) }()
		seen := map[string]bool{}
		for {
			start := time.Now()
			got, err := r.s.Claim(ctx, "d", now, longRunClaim, longRunLease)
			lat = append(lat, time.Since(start))
			if err != nil {
				return fmt.Errorf("claim: %w", err)
			}
			if len(got) == 0 {
				break
			}
			for _, d := range got {
				if !due[d.ID] || seen[d.ID] {
					return fmt.Errorf("claim returned %s (attempts %d), which is not due or was claimed already this round", d.ID, d.Attempts)
				}
				seen[d.ID] = true
				if r.retries[d.ID] {
					jobs <- job{id: d.ID, n: 2}
				} else {
					jobs <- job{id: d.ID, n: 1, fail: fails[d.ID]}
				}
			}
		}
		if len(seen) != len(due) {
			return fmt.Errorf("claims returned %d deliveries, %d were due", len(seen), len(due))
		}
		return nil
	}()
	close(jobs)
	wg.Wait()
	if claimErr != nil {
		return claimErr
	}
	if errs != nil {
		return errs
	}
	if r.verify {
		if err := r.check(ctx, done, retries); err != nil {
			return err
		}
	}
	r.retries = retries
	if _, err := r.s.Cleanup(ctx, now.Add(-longRunRetention), now); err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	r.clock.Add(int64(longRunStep))
	return nil
}

// check compares the store's records of this round's finished and retried
// deliveries with what the run did.
func (r *longRun) check(ctx context.Context, done map[string][]int, retries map[string]bool) error {
	for id, codes := range done {
		d, as, err := r.s.Delivery(ctx, id)
		if err != nil {
			return fmt.Errorf("delivered %s: %w", id, err)
		}
		var got []int
		for _, a := range as {
			got = append(got, a.StatusCode)
		}
		if d.Status != store.Delivered || d.Attempts != len(codes) || !slices.Equal(got, codes) {
			return fmt.Errorf("delivery %s: status %s, %d attempts %v; want delivered after %v", id, d.Status, d.Attempts, got, codes)
		}
		if _, dup := r.done[id]; dup {
			return fmt.Errorf("delivery %s delivered twice", id)
		}
		r.done[id] = codes
	}
	for id := range retries {
		d, _, err := r.s.Delivery(ctx, id)
		if err != nil {
			return fmt.Errorf("retrying %s: %w", id, err)
		}
		if d.Status != store.Retrying || d.Attempts != 1 {
			return fmt.Errorf("delivery %s: status %s after %d attempts; want retrying after 1", id, d.Status, d.Attempts)
		}
	}
	return nil
}

// deliveries counts the deliveries the store holds, by state.
func (r *longRun) deliveries(ctx context.Context) (int, error) {
	st, err := r.s.Stats(ctx, r.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range st {
		n += d.Pending + d.Retrying + d.Delivered + d.Dead
	}
	return n, nil
}

func (r *longRun) fileSize() (int64, error) {
	fi, err := os.Stat(r.path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// claimQuantiles returns the p50 and p99 of the Claim latencies of rounds
// [from, to).
func (r *longRun) claimQuantiles(from, to int) (p50, p99 time.Duration) {
	var all []time.Duration
	for _, l := range r.claims[from:to] {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return 0, 0
	}
	slices.Sort(all)
	return all[len(all)/2], store.P99(all)
}

// TestLongRun: 20,000 events in 20 rounds of 1,000 through the store API.
// Every delivery is claimed exactly when due (a handed-over one never),
// recorded exactly as attempted, and delivered once; after each Cleanup the
// store holds the retention's deliveries, the same number in the second
// half as in the first; and the file does not grow from the first half to
// the second beyond a generous factor (bbolt's steps).
func TestLongRun(t *testing.T) {
	const rounds, perRound = 20, 1000
	ctx := context.Background()
	r := newLongRun(t, perRound, true)
	var (
		sizes  []int64
		counts []int
	)
	for i := range rounds {
		if err := r.round(ctx); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if i == rounds/2-1 || i == rounds-1 {
			size, err := r.fileSize()
			if err != nil {
				t.Fatal(err)
			}
			n, err := r.deliveries(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sizes, counts = append(sizes, size), append(counts, n)
		}
	}
	t.Logf("%d events: after %d and %d rounds the file is %d and %d bytes and holds %d and %d deliveries",
		r.total, rounds/2, rounds, sizes[0], sizes[1], counts[0], counts[1])

	// The last round's retries are due next round: one more round with no
	// new events delivers them.
	r.perRound = 0
	if err := r.round(ctx); err != nil {
		t.Fatalf("last round: %v", err)
	}
	if len(r.done) != r.total {
		t.Errorf("%d of %d events delivered", len(r.done), r.total)
	}
	// The retention's floor: the deliveries finished within it (the
	// rounds at now-retention…now, their retries one round later).
	steps := int(longRunRetention / longRunStep)
	for i, n := range counts {
		if lo, hi := steps*perRound, (steps+2)*perRound; n < lo || n > hi {
			t.Errorf("after half %d and its Cleanup the store holds %d deliveries; want the retention's %d…%d", i+1, n, lo, hi)
		}
	}
	if counts[0] != counts[1] {
		t.Errorf("the store holds %d deliveries after the second half, %d after the first: not back at its floor", counts[1], counts[0])
	}
	if sizes[1] > 2*sizes[0] {
		t.Errorf("the file grew from %d to %d bytes from the first half to the second", sizes[0], sizes[1])
	}
}

// BenchmarkLongRun: 200,000 events in 200 rounds of 1,000 (see longRun),
// once per b.N. It reports the file's size after the first 20,000 events
// and at the end (it should stay at its retention floor, not grow with the
// total), the deliveries held at the end, and the p50 and p99 of Claim in
// the first and last 10% of the rounds (they should not grow).
//
//	go test -run '^$' -bench BenchmarkLongRun -benchtime 1x ./internal/store/embedded/
func BenchmarkLongRun(b *testing.B) {
	const rounds, perRound = 200, 1000
	ctx := context.Background()
	for b.Loop() {
		r := newLongRun(b, perRound, false)
		var early int64
		start := time.Now()
		for i := range rounds {
			if err := r.round(ctx); err != nil {
				b.Fatalf("round %d: %v", i, err)
			}
			if i == rounds/10-1 {
				var err error
				if early, err = r.fileSize(); err != nil {
					b.Fatal(err)
				}
			}
		}
		elapsed := time.Since(start)
		size, err := r.fileSize()
		if err != nil {
			b.Fatal(err)
		}
		held, err := r.deliveries(ctx)
		if err != nil {
			b.Fatal(err)
		}
		p50a, p99a := r.claimQuantiles(0, rounds/10)
		p50z, p99z := r.claimQuantiles(rounds-rounds/10, rounds)
		b.ReportMetric(float64(r.total)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(early)/(1<<20), "MiB-file-at-20k")
		b.ReportMetric(float64(size)/(1<<20), "MiB-file-at-end")
		b.ReportMetric(float64(held), "deliveries-held-at-end")
		b.ReportMetric(float64(p50a.Microseconds()), "µs-claim-p50-first10%")
		b.ReportMetric(float64(p99a.Microseconds()), "µs-claim-p99-first10%")
		b.ReportMetric(float64(p50z.Microseconds()), "µs-claim-p50-last10%")
		b.ReportMetric(float64(p99z.Microseconds()), "µs-claim-p99-last10%")
	}
}
