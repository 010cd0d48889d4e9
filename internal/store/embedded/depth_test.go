package embedded

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// TestDepthAgreesWithStats: Depth's pending, retrying and dead counts per
// destination are Stats's, though it reads only the indexes.
func TestDepthAgreesWithStats(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "hookgate.db"))
	ctx := context.Background()
	now := time.Now().UTC()
	var byDest = map[string][]string{}
	for i, dest := range []string{"a", "a", "a", "a", "b", "b", "c"} {
		at := now.Add(time.Duration(i) * time.Millisecond)
		ev := &store.Event{ID: ids.New(ids.Event, at), Source: "shop", ReceivedAt: at, Body: []byte(`{}`)}
		d := &store.Delivery{ID: ids.New(ids.Delivery, at), Route: "r", Destination: dest, Body: []byte(`{}`)}
		if _, err := s.Accept(ctx, ev, []*store.Delivery{d}, nil); err != nil {
			t.Fatal(err)
		}
		byDest[dest] = append(byDest[dest], d.ID)
	}
	later := now.Add(time.Second)
	for _, dest := range []string{"a", "b"} {
		if _, err := s.Claim(ctx, dest, later, 1000, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	complete := func(id string, o store.Outcome) {
		t.Helper()
		o.Attempt.At = later
		if err := s.Complete(ctx, id, o); err != nil {
			t.Fatal(err)
		}
	}
	a, b := byDest["a"], byDest["b"]
	complete(a[0], store.Outcome{Status: store.Delivered, Attempt: store.Attempt{StatusCode: 200}})
	complete(a[1], store.Outcome{Status: store.Retrying, NextAttemptAt: later.Add(time.Hour), Attempt: store.Attempt{StatusCode: 500}})
	complete(a[2], store.Outcome{Status: store.Dead, DeadReason: "HTTP 410", Attempt: store.Attempt{StatusCode: 410}})
	// a[3] stays leased (pending, in flight); b[0] dies, b[1] retries.
	complete(b[0], store.Outcome{Status: store.Dead, DeadReason: "HTTP 410", Attempt: store.Attempt{StatusCode: 410}})
	complete(b[1], store.Outcome{Status: store.Retrying, NextAttemptAt: later.Add(time.Hour), Attempt: store.Attempt{StatusCode: 503}})

	depth, err := s.Depth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := s.Stats(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][3]int{}
	for _, st := range stats {
		if st.Pending+st.Retrying+st.Dead > 0 {
			want[st.Destination] = [3]int{st.Pending, st.Retrying, st.Dead}
		}
	}
	got := map[string][3]int{}
	for _, d := range depth {
		got[d.Destination] = [3]int{d.Pending, d.Retrying, d.Dead}
	}
	if len(got) != len(want) {
		t.Fatalf("Depth = %v, Stats = %v", got, want)
	}
	for dest, w := range want {
		if got[dest] != w {
			t.Errorf("%s: Depth (pending, retrying, dead) = %v, Stats = %v", dest, got[dest], w)
		}
	}
	if want["a"] != [3]int{1, 1, 1} || want["b"] != [3]int{0, 1, 1} || want["c"] != [3]int{1, 0, 0} {
		t.Errorf("the fixture is not what the test means: %v", want)
	}
}

// BenchmarkQueueDepth: the gauge's read on a store whose history is mostly
// delivered (5,000 delivered, 50 waiting): Depth reads the backlog, Stats
// the whole history.
func BenchmarkQueueDepth(b *testing.B) {
	s, now := history(b)
	ctx := context.Background()
	b.Run("Depth", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Depth(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Stats", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Stats(ctx, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The admin API's and dashboard's three windows: one pass, against the
	// three Stats calls they made before.
	windows := []time.Time{now.Add(-time.Hour), now.Add(-24 * time.Hour), now.Add(-15 * time.Minute)}
	b.Run("StatsWindows3", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.StatsWindows(ctx, windows); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCleanupWithinRetention: the periodic cleanup of a store whose
// 5,050 events are all younger than the retention, so none is deleted.
func BenchmarkCleanupWithinRetention(b *testing.B) {
	s, now := history(b)
	ctx := context.Background()
	for b.Loop() {
		n, err := s.Cleanup(ctx, now.Add(-72*time.Hour), now.Add(time.Hour))
		if err != nil || n != 0 {
			b.Fatalf("Cleanup = %d, %v; want nothing deleted", n, err)
		}
	}
}

// history returns a store with 5,000 delivered events and 50 waiting, all
// received from the returned time on.
func history(b *testing.B) (*Store, time.Time) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "hookgate.db"))
	ctx := context.Background()
	now := time.Now().UTC()
	const delivered, waiting = 5000, 50
	var wg sync.WaitGroup
	ch := make(chan int)
	for range 64 {
		wg.Go(func() {
			for i := range ch {
				at := now.Add(time.Duration(i) * time.Microsecond)
				ev := &store.Event{ID: ids.New(ids.Event, at), Source: "shop", ReceivedAt: at, Body: []byte(`{}`)}
				d := &store.Delivery{ID: ids.New(ids.Delivery, at), Route: "r", Destination: "a", Body: []byte(`{"n":1}`)}
				if i >= waiting {
					d.NextAttemptAt = at.Add(-time.Hour) // due at once, claimed below
				} else {
					d.NextAttemptAt = at.Add(time.Hour)
				}
				if _, err := s.Accept(ctx, ev, []*store.Delivery{d}, nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	for i := range delivered + waiting {
		ch <- i
	}
	close(ch)
	wg.Wait()
	ds, err := s.Claim(ctx, "a", now, 1000, time.Hour)
	for ; err == nil && len(ds) > 0; ds, err = s.Claim(ctx, "a", now, 1000, time.Hour) {
		var cw sync.WaitGroup
		for _, d := range ds {
			cw.Go(func() {
				if err := s.Complete(ctx, d.ID, store.Outcome{Status: store.Delivered, Attempt: store.Attempt{StatusCode: 200}}); err != nil {
					b.Error(err)
				}
			})
		}
		cw.Wait()
	}
	if err != nil {
		b.Fatal(err)
	}
	return s, now
}
