package delivery_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/plugins"
)

// outage is what a receiver that failed for a while saw under steady load.
type outage struct {
	ids      []string
	failed   []time.Time // the receiver's failed answers
	downFor  time.Duration
	statuses map[store.Status]int
	attempts map[string]int // attempts per delivery
}

// runOutage sends steady load (one delivery every 20 ms) to a receiver that
// answers 500 from the start until `down` deliveries were stored, then
// recovers while `up` more are stored, and waits for every delivery to
// finish. The outage (2 s) is longer than the whole retry schedule (1.4 s).
// It runs in the caller's synctest bubble, with an in-memory receiver
// (retry_test.go says why): the load's pace and every gap are exact.
func runOutage(t *testing.T, breaker string) outage {
	const down, up = 100, 40
	var failing atomic.Bool
	failing.Store(true)
	var mu sync.Mutex
	var failed []time.Time
	mr := &memReceiver{answer: func(int) plugins.Sent {
		if failing.Load() {
			mu.Lock()
			failed = append(failed, time.Now())
			mu.Unlock()
			return plugins.Sent{Status: http.StatusInternalServerError, Err: "status 500 Internal Server Error"}
		}
		return plugins.Sent{}
	}}
	dest := mustDest(t, fmt.Sprintf(`
destination "d" {
  url             = "https://receiver.invalid/hooks"
  max_concurrency = 4
  retry {
    schedule = ["200ms", "400ms", "800ms"]
    jitter   = "0%%"
  }
  %s
}`, breaker))
	dest.Deliverer = mr
	st := mustStore(t)
	r := start(t, st, delivery.Options{Poll: 50 * time.Millisecond}, dest)
	var o outage
	began := time.Now()
	for i := range down + up {
		if i == down {
			failing.Store(false)
			o.downFor = time.Since(began)
		}
		o.ids = append(o.ids, accept(t, st, "d", `{}`))
		r.e.Notify("d")
		time.Sleep(20 * time.Millisecond)
	}
	o.statuses = map[store.Status]int{}
	o.attempts = map[string]int{}
	for _, id := range o.ids {
		d, as := waitFinished(t, st, id)
		o.statuses[d.Status]++
		o.attempts[id] = len(as)
	}
	mu.Lock()
	o.failed = failed
	mu.Unlock()
	return o
}

// TestBreakerHoldsDeliveriesThroughAnOutage: with a breaker, no delivery
// dies of an outage longer than its retry schedule, and while the breaker
// is open the receiver sees only the probes, a cooldown apart.
func TestBreakerHoldsDeliveriesThroughAnOutage(t *testing.T) {
	synctest.Test(t, testBreakerHoldsDeliveriesThroughAnOutage)
}

func testBreakerHoldsDeliveriesThroughAnOutage(t *testing.T) {
	const failures, cooldown = 5, 300 * time.Millisecond
	o := runOutage(t, fmt.Sprintf("breaker {\n    failures = %d\n    cooldown = \"%s\"\n  }", failures, cooldown))
	if o.statuses[store.Dead] != 0 || o.statuses[store.Delivered] != len(o.ids) {
		t.Fatalf("with a breaker: %v of %d deliveries; want every one delivered", o.statuses, len(o.ids))
	}
	// The breaker opens after `failures` failures (plus attempts already in
	// flight then, at most max_concurrency); after that each failure is a
	// probe, at most one per cooldown of the outage.
	maxProbes := int(o.downFor/cooldown) + 1
	if len(o.failed) > failures+4+maxProbes {
		t.Errorf("%d failed attempts in an outage of %s; want at most %d opening the breaker and %d probes",
			len(o.failed), o.downFor, failures+4, maxProbes)
	}
	// Probes: the failures after the breaker opened come a cooldown apart.
	probes := 0
	for i := failures + 4; i < len(o.failed); i++ {
		if gap := o.failed[i].Sub(o.failed[i-1]); gap >= cooldown {
			probes++
		}
	}
	if len(o.failed) > failures+4 && probes == 0 {
		t.Errorf("no failed attempt after the breaker opened was a cooldown after the previous one: %v", o.failed)
	}
	for id, n := range o.attempts {
		if n > 4 {
			t.Errorf("delivery %s took %d attempts, more than its schedule allows", id, n)
		}
	}
	t.Logf("outage %s: %d failed attempts, %d deliveries delivered", o.downFor, len(o.failed), len(o.ids))
}

// TestNoBreakerBurnsTheSchedule: without a breaker the same outage uses up
// the retry schedule of the deliveries that arrived early in it, as
// before: the contrast the breaker is for.
func TestNoBreakerBurnsTheSchedule(t *testing.T) {
	synctest.Test(t, testNoBreakerBurnsTheSchedule)
}

func testNoBreakerBurnsTheSchedule(t *testing.T) {
	o := runOutage(t, "")
	if o.statuses[store.Dead] == 0 {
		t.Fatalf("without a breaker: %v; want the deliveries of the outage's first second dead", o.statuses)
	}
	if len(o.failed) < 4*o.statuses[store.Dead] {
		t.Errorf("%d failed attempts for %d dead deliveries; each took 4", len(o.failed), o.statuses[store.Dead])
	}
	t.Logf("outage %s: %d failed attempts, %v", o.downFor, len(o.failed), o.statuses)
}

// TestGoneOpensTheBreaker: 410s dead-letter their deliveries and count
// as failures: the breaker opens, and GET /api/destinations's source says
// so. In a synctest bubble with an in-memory receiver (retry_test.go).
func TestGoneOpensTheBreaker(t *testing.T) {
	synctest.Test(t, testGoneOpensTheBreaker)
}

func testGoneOpensTheBreaker(t *testing.T) {
	mr := &memReceiver{answer: func(int) plugins.Sent {
		return plugins.Sent{Status: http.StatusGone, Err: "status 410 Gone"}
	}}
	dest := mustDest(t, `
destination "d" {
  url             = "https://receiver.invalid/hooks"
  max_concurrency = 1
  breaker {
    failures = 2
    cooldown = "1h"
  }
}`)
	dest.Deliverer = mr
	st := mustStore(t)
	a, b, c := accept(t, st, "d", `{}`), accept(t, st, "d", `{}`), accept(t, st, "d", `{}`)
	r := start(t, st, delivery.Options{Poll: 50 * time.Millisecond}, dest)
	for _, id := range []string{a, b} {
		if d, _ := waitFinished(t, st, id); d.Status != store.Dead {
			t.Fatalf("delivery %s answered 410 is %s, want dead", id, d.Status)
		}
	}
	waitUntil(t, "the breaker to open", func() bool {
		h := r.e.Health()
		return len(h) == 1 && h[0].State == delivery.Open
	})
	// The third waits, not attempted, with its attempts intact: four of the
	// engine's polls, each run to its end.
	time.Sleep(200 * time.Millisecond)
	synctest.Wait()
	d, as, err := st.Delivery(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != store.Pending || len(as) != 0 || len(mr.got()) != 2 {
		t.Errorf("behind an open breaker: delivery %s, %d attempts, receiver saw %d; want pending, 0, 2", d.Status, len(as), len(mr.got()))
	}
}
