package delivery_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hookgate/hookgate/internal/delivery"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/plugins"
)

// TestPauseThenResumeDrainsWithinRateLimit: a destination paused in the
// store before the engine starts is never attempted (not even once at
// start); its deliveries keep their attempts; once resumed, the backlog
// drains at the destination's rate_limit. In a synctest bubble (virtual
// time, an in-memory receiver: retry_test.go says why), so "several polls
// and no attempt" is exact, not a wall-clock window.
func TestPauseThenResumeDrainsWithinRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mr := &memReceiver{answer: func(int) plugins.Sent { return plugins.Sent{} }}
		dest := mustDest(t, `
destination "d" {
  url        = "https://receiver.invalid/hooks"
  rate_limit = "5/s"
}`)
		dest.Deliverer = mr
		st := mustStore(t)
		ctx := context.Background()
		if err := st.Pause(ctx, "d", time.Now()); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for range 15 {
			ids = append(ids, accept(t, st, "d", `{}`))
		}
		r := start(t, st, delivery.Options{Poll: 50 * time.Millisecond}, dest)
		waitUntil(t, "the engine to report d paused", func() bool {
			h := r.e.Health()
			return len(h) == 1 && h[0].State == delivery.Paused
		})
		if _, ok := r.e.HandoffLease("d"); ok {
			t.Error("a paused destination takes hand-overs from ingest")
		}
		r.e.Notify("d")
		// Six of the engine's 50 ms polls, each run to its end.
		time.Sleep(300 * time.Millisecond)
		synctest.Wait()
		if n := len(mr.got()); n != 0 {
			t.Fatalf("a paused destination was attempted %d times", n)
		}
		for _, id := range ids[:3] {
			if d, as, _ := st.Delivery(ctx, id); d.Status != store.Pending || len(as) != 0 {
				t.Fatalf("a waiting delivery is %s with %d attempts, want pending with none", d.Status, len(as))
			}
		}

		// Resumed in the store (as another instance would): the engine reads
		// it within a poll.
		if err := st.Resume(ctx, "d"); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if d, as := waitFinished(t, st, id); d.Status != store.Delivered || len(as) != 1 {
				t.Fatalf("delivery %s: %s after %d attempts, want delivered at its first", id, d.Status, len(as))
			}
		}
		hits := mr.got()
		if len(hits) != len(ids) {
			t.Fatalf("%d messages for %d deliveries", len(hits), len(ids))
		}
		for i, h := range hits {
			// A burst of 5, then one every 200 ms.
			earliest := time.Duration(max(i+1-5, 0)) * time.Second / 5
			if since := h.at.Sub(hits[0].at); since < earliest {
				t.Errorf("message %d came %s after the first, want at least %s at 5/s with a burst of 5", i+1, since, earliest)
			}
		}
	})
}
