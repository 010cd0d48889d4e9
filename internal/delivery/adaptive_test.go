package delivery_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/plugins"
)

// busyReceiver answers 429 (Retry-After: 1) to a message that arrives
// while 8 others are being served, and takes it after 20 ms otherwise. It
// records the most messages it had at once once `settle` were served. It
// is the destination's kind, in memory, so that the tests run in a
// synctest bubble (retry_test.go says why): 20 ms and the Retry-After's
// second are virtual, and how retries bunch does not depend on the
// machine.
type busyReceiver struct {
	mu             sync.Mutex
	now, served    int
	rejected       int
	peak, peakLate int
	lateRejected   int
	settle         int
}

func (b *busyReceiver) Deliver(context.Context, *plugins.Outbound) plugins.Sent {
	b.mu.Lock()
	b.now++
	late := b.served >= b.settle
	b.peak = max(b.peak, b.now)
	if late {
		b.peakLate = max(b.peakLate, b.now)
	}
	busy := b.now > 8
	if busy {
		b.rejected++
		if late {
			b.lateRejected++
		}
	}
	b.mu.Unlock()
	if !busy {
		time.Sleep(20 * time.Millisecond)
	}
	b.mu.Lock()
	b.now--
	if !busy {
		b.served++
	}
	b.mu.Unlock()
	if busy {
		return plugins.Sent{Status: http.StatusTooManyRequests, Err: "status 429 Too Many Requests", RetryAfter: time.Second}
	}
	return plugins.Sent{}
}

// runBusy delivers n deliveries to a receiver that takes 8 at once, with
// max_concurrency 32, and returns the receiver and the deliveries' states.
func runBusy(t *testing.T, adaptive bool, n int) (*busyReceiver, map[store.Status]int) {
	rc := &busyReceiver{settle: n / 2}
	dest := mustDest(t, fmt.Sprintf(`
destination "d" {
  url                  = "https://receiver.invalid/hooks"
  max_concurrency      = 32
  adaptive_concurrency = %v
  retry {
    schedule = ["100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms", "100ms"]
  }
}`, adaptive))
	dest.Deliverer = rc
	st := mustStore(t)
	var ids []string
	for range n {
		ids = append(ids, accept(t, st, "d", `{}`))
	}
	r := start(t, st, delivery.Options{Poll: 50 * time.Millisecond}, dest)
	statuses := map[store.Status]int{}
	for _, id := range ids {
		d, as := waitFinished(t, st, id)
		statuses[d.Status]++
		for i, a := range as {
			// Retry-After: 1 is honoured: the attempt after a 429 waits
			// a second, not the schedule's 100 ms.
			if a.StatusCode == http.StatusTooManyRequests && i+1 < len(as) {
				if gap := as[i+1].At.Sub(a.At); gap < time.Second {
					t.Errorf("delivery %s: attempt %d came %s after a 429 with Retry-After: 1", id, i+2, gap)
				}
			}
		}
	}
	if adaptive {
		h := r.e.Health()
		// Pushed back, it stays below max_concurrency: growing past where
		// the receiver pushed back takes thousands of calm successes.
		if len(h) != 1 || h[0].Concurrency >= 32 || h[0].MaxConcurrency != 32 {
			t.Errorf("health %+v, want a concurrency below max_concurrency 32", h)
		}
		t.Logf("concurrency at the end: %d of %d", h[0].Concurrency, h[0].MaxConcurrency)
	}
	return rc, statuses
}

// TestAdaptiveConcurrencySettlesUnderTheReceiversLimit: a receiver that
// answers 429 above 8 requests at once: adaptive concurrency settles at 8
// or fewer in flight (none of the second half of the deliveries finds the
// receiver over its limit) and delivers everything, no dead letters.
func TestAdaptiveConcurrencySettlesUnderTheReceiversLimit(t *testing.T) {
	synctest.Test(t, testAdaptiveConcurrencySettlesUnderTheReceiversLimit)
}

func testAdaptiveConcurrencySettlesUnderTheReceiversLimit(t *testing.T) {
	const n = 400
	rc, statuses := runBusy(t, true, n)
	if statuses[store.Delivered] != n {
		t.Fatalf("%v of %d deliveries, want all delivered", statuses, n)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.peakLate > 8 || rc.lateRejected > 0 {
		t.Errorf("after %d deliveries, the receiver still had up to %d requests at once (%d answered 429); want at most 8",
			rc.settle, rc.peakLate, rc.lateRejected)
	}
	if rc.rejected == 0 {
		t.Error("the receiver never pushed back: the test did not test adaptation")
	}
	t.Logf("peak %d at once (after settling %d), %d 429s", rc.peak, rc.peakLate, rc.rejected)
}

// TestFixedConcurrencyOverrunsTheReceiver: without adaptive concurrency
// the same receiver is overrun: the contrast the test above measures
// against.
func TestFixedConcurrencyOverrunsTheReceiver(t *testing.T) {
	synctest.Test(t, testFixedConcurrencyOverrunsTheReceiver)
}

func testFixedConcurrencyOverrunsTheReceiver(t *testing.T) {
	const n = 400
	rc, _ := runBusy(t, false, n)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.peak <= 8 || rc.rejected == 0 {
		t.Errorf("with 32 attempts in flight, the receiver never had more than %d at once (%d answered 429)", rc.peak, rc.rejected)
	}
	t.Logf("peak %d at once (after settling %d), %d 429s", rc.peak, rc.peakLate, rc.rejected)
}
