package delivery_test

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/store"
)

// TestUpdateChangesURLForNextAttempt: an attempt that fails at the old URL
// is retried at the URL an Update gave.
func TestUpdateChangesURLForNextAttempt(t *testing.T) {
	t.Parallel()
	failing := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	ok := newReceiver(t, nil)
	destAt := func(url string) string {
		return fmt.Sprintf(`
destination "d" {
  url           = "%s/hooks"
  allow_private = true
  retry {
    schedule = ["300ms", "300ms", "300ms", "300ms"]
  }
}`, url)
	}
	st := mustStore(t)
	id := accept(t, st, "d", `{"n":1}`)
	r := start(t, st, delivery.Options{Poll: 50 * time.Millisecond}, mustDest(t, destAt(failing.URL)))
	waitUntil(t, "a first attempt at the old URL", func() bool { return len(failing.got()) >= 1 })

	r.e.Update(mustDests(t, destAt(ok.URL)))
	d, _ := waitFinished(t, st, id)
	if d.Status != store.Delivered {
		t.Fatalf("status %s, want delivered", d.Status)
	}
	if n := len(ok.got()); n != 1 {
		t.Errorf("the new URL got %d requests, want 1", n)
	}
	// The attempts after the Update went to the new URL only.
	before := len(failing.got())
	accept(t, st, "d", `{"n":2}`)
	r.e.Notify("d")
	waitUntil(t, "the second delivery at the new URL", func() bool { return len(ok.got()) == 2 })
	if n := len(failing.got()); n != before {
		t.Errorf("the old URL got %d more requests after the Update", n-before)
	}
}

// TestUpdateAddsAndRemovesDestinations: a new name starts delivering; a
// removed one stops claiming, its waiting deliveries are dead-lettered as
// "destination removed", and a replay delivers them once it is back.
func TestUpdateAddsAndRemovesDestinations(t *testing.T) {
	t.Parallel()
	var aUp atomic.Bool
	a := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if !aUp.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	b := newReceiver(t, nil)
	dest := func(name, url string) string {
		return fmt.Sprintf(`
destination %q {
  url           = "%s/hooks"
  allow_private = true
  retry {
    schedule = ["1h"]
  }
}
`, name, url)
	}
	st := mustStore(t)
	r := start(t, st, delivery.Options{Poll: 20 * time.Millisecond}, mustDest(t, dest("a", a.URL)))

	idB := accept(t, st, "b", `{"to":"b"}`)
	r.e.Update(mustDests(t, dest("a", a.URL)+dest("b", b.URL)))
	if d, _ := waitFinished(t, st, idB); d.Status != store.Delivered {
		t.Fatalf("b's delivery is %s, want delivered", d.Status)
	}

	// a fails once: its delivery waits an hour for its retry.
	idA := accept(t, st, "a", `{"to":"a"}`)
	r.e.Notify("a")
	waitUntil(t, "a's first attempt", func() bool {
		d, _, err := st.Delivery(t.Context(), idA)
		return err == nil && d.Status == store.Retrying
	})

	// Remove a: the waiting delivery is dead-lettered with the reason.
	r.e.Update(mustDests(t, dest("b", b.URL)))
	d, attempts := waitFinished(t, st, idA)
	if d.Status != store.Dead || d.DeadReason != delivery.RemovedReason || len(attempts) != 1 {
		t.Fatalf("a's delivery after removal: %s (%q) with %d attempts; want dead (%q) with 1",
			d.Status, d.DeadReason, len(attempts), delivery.RemovedReason)
	}

	// Named again and replayed, it is delivered, keeping its attempts.
	aUp.Store(true)
	r.e.Update(mustDests(t, dest("a", a.URL)+dest("b", b.URL)))
	if n, err := st.Replay(t.Context(), store.ReplayQuery{Destination: "a"}, time.Now()); err != nil || n != 1 {
		t.Fatalf("Replay(a) = %d, %v; want 1", n, err)
	}
	r.e.Notify("a")
	if d, attempts := waitFinished(t, st, idA); d.Status != store.Delivered || len(attempts) != 2 {
		t.Fatalf("a's replayed delivery is %s after %d attempts, want delivered after 2", d.Status, len(attempts))
	}
}

// TestUpdateConcurrent: Updates race Notify and attempts (run with -race).
func TestUpdateConcurrent(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	src := func(timeout string) string {
		return fmt.Sprintf(`
destination "d" {
  url             = "%s/hooks"
  allow_private   = true
  timeout         = %q
  max_concurrency = 4
}`, rc.URL, timeout)
	}
	v1, v2 := mustDests(t, src("2s")), mustDests(t, src("3s"))
	st := mustStore(t)
	var ids []string
	for i := range 40 {
		ids = append(ids, accept(t, st, "d", fmt.Sprintf(`{"n":%d}`, i)))
	}
	r := start(t, st, delivery.Options{Poll: 20 * time.Millisecond}, v1...)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 25 {
				if (i+j)%2 == 0 {
					r.e.Update(v1)
				} else {
					r.e.Update(v2)
				}
				r.e.Notify("d")
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if d, _ := waitFinished(t, st, id); d.Status != store.Delivered {
			t.Errorf("delivery %s is %s", id, d.Status)
		}
	}
	r.stop(t)
	// Update while not running, then a new Run uses it.
	r.e.Update(v2)
}
